"""ringlet._lock: threading's locks, and the identity of a thread, for
request greenlets.

The standard locks belong to the thread: a request greenlet that blocks on
one that another greenlet of its worker holds stops the whole worker (the
holder never runs again to release it), and an RLock lets every greenlet
of the thread in at once. patch() puts Lock and RLock here in threading's
place, and Lock as the lock a Condition waits on, so that Condition,
Event, Semaphore, Barrier, queue.Queue and concurrent.futures follow.
Taking a free lock costs no wait; a request greenlet that must wait does
so on the worker's loop, on an eventfd of its own, and a thread on a lock
of its own as before, so the two can share a lock. Releasing hands the
lock to the first waiter (first come, first served).

get_ident gives a greenlet other than a thread's own its own number, so
that threading.current_thread() is a thread per request greenlet.
"""

import _thread
import os
from collections import deque
from time import monotonic

from greenlet import getcurrent

from . import _ringlet

__all__ = ["Lock", "RLock", "get_ident"]

_thread_ident = _thread.get_ident
_spare_fds = []  # eventfds of finished waits, their count back to 0


def get_ident():
    """The thread's identifier in a thread's own (main) greenlet, the
    greenlet's in any other: a request's greenlet is a thread of its own
    to threading.current_thread(), as for asgiref's Local, which keys
    Django's database connections by it. A greenlet's id cannot be a
    thread's: both are addresses of live objects."""
    me = getcurrent()
    return _thread_ident() if me.parent is None else id(me)


class _Waiter:
    """One acquire waiting: on an eventfd (a request greenlet) or on a
    held lock (a thread); `granted` once the lock is handed to it."""

    __slots__ = ("fd", "held", "granted")

    def __init__(self):
        self.granted = False
        self.fd = self.held = None
        if _ringlet.in_request():
            self.fd = _spare_fds.pop() if _spare_fds else os.eventfd(
                0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        else:
            self.held = _thread.allocate_lock()
            self.held.acquire()

    def wake(self):
        """Called under the lock's guard, from any thread."""
        self.granted = True
        if self.held is not None:
            self.held.release()
        else:
            os.eventfd_write(self.fd, 1)

    def wait(self, timeout):
        """True when woken; False when `timeout` seconds (None: no limit)
        passed first."""
        if self.held is not None:
            return self.held.acquire(True, -1 if timeout is None
                                     else timeout)
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            try:
                os.eventfd_read(self.fd)
                return True
            except BlockingIOError:
                pass
            left = None if deadline is None else deadline - monotonic()
            if left is not None and left <= 0:
                return False
            _ringlet.wait_fd(self.fd, False, left)

    def done(self):
        """Its eventfd back to the spares, its count drained."""
        if self.fd is not None:
            try:
                os.eventfd_read(self.fd)
            except BlockingIOError:
                pass
            _spare_fds.append(self.fd)
            self.fd = None


class Lock:
    """threading.Lock, waiting on the worker's loop in a request."""

    __slots__ = ("_locked", "_waiters", "_guard", "__weakref__")

    def __init__(self):
        self._locked = False
        self._waiters = deque()
        # Held for a few statements, never across a wait.
        self._guard = _thread.allocate_lock()

    def acquire(self, blocking=True, timeout=-1):
        if not blocking and timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking "
                             "call")
        if timeout < 0 and timeout != -1:
            raise ValueError("timeout value must be a non-negative number")
        with self._guard:
            if not self._locked:
                self._locked = True
                return True
            if not blocking:
                return False
            waiter = _Waiter()
            self._waiters.append(waiter)
        try:
            woken = waiter.wait(None if timeout == -1 else timeout)
        except BaseException:
            with self._guard:
                if waiter.granted:
                    self._hand_on()  # it was ours: to the next
                else:
                    self._waiters.remove(waiter)
            waiter.done()
            raise
        if not woken:
            with self._guard:
                woken = waiter.granted  # handed over as the time ran out
                if not woken:
                    self._waiters.remove(waiter)
        waiter.done()
        return woken

    def release(self):
        with self._guard:
            if not self._locked:
                raise RuntimeError("release unlocked lock")
            self._hand_on()

    def _hand_on(self):
        """Under the guard: to the first waiter, or unlocked."""
        if self._waiters:
            self._waiters.popleft().wake()
        else:
            self._locked = False

    def locked(self):
        return self._locked

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()

    def _at_fork_reinit(self):
        self._locked = False
        self._waiters.clear()
        self._guard = _thread.allocate_lock()

    acquire_lock = acquire
    release_lock = release
    locked_lock = locked

    def __repr__(self):
        return "<%s %s object at %#x>" % (
            "locked" if self._locked else "unlocked",
            type(self).__qualname__, id(self))


class RLock:
    """threading.RLock: owned by a greenlet (get_ident), not the thread."""

    __slots__ = ("_block", "_owner", "_count", "__weakref__")

    def __init__(self):
        self._block = Lock()
        self._owner = None
        self._count = 0

    def acquire(self, blocking=True, timeout=-1):
        me = get_ident()
        if self._owner == me:
            self._count += 1
            return True
        if not self._block.acquire(blocking, timeout):
            return False
        self._owner, self._count = me, 1
        return True

    def release(self):
        if self._owner != get_ident():
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if not self._count:
            self._owner = None
            self._block.release()

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()

    # What threading.Condition asks of the lock it is given.
    def _is_owned(self):
        return self._owner == get_ident()

    def _release_save(self):
        if not self._count:
            raise RuntimeError("cannot release un-acquired lock")
        state = self._count, self._owner
        self._owner, self._count = None, 0
        self._block.release()
        return state

    def _acquire_restore(self, state):
        self._block.acquire()
        self._count, self._owner = state

    def _recursion_count(self):
        return self._count if self._owner == get_ident() else 0

    def _at_fork_reinit(self):
        self._block._at_fork_reinit()
        self._owner, self._count = None, 0

    def __repr__(self):
        return "<%s %s object owner=%r count=%d at %#x>" % (
            "locked" if self._block.locked() else "unlocked",
            type(self).__qualname__, self._owner, self._count, id(self))
