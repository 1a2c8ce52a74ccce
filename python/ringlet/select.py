"""ringlet.select: select.select, select.poll and a selectors selector that
wait cooperatively (what ringlet.patch() puts in their place).

Inside a request each first looks without waiting; then a wait on one
descriptor in one direction, by far the common case (a client library
waiting for its socket), suspends the greenlet on the worker's loop. A
wait on several runs the standard call on the worker's thread pool
(ringlet.run_in_thread), so it does not hold the loop either. Outside a request
they are the standard calls.
"""

import select as _std
import selectors as _selectors

from . import _ringlet
from ._threads import run_in_thread

__all__ = ["select", "poll", "DefaultSelector"]

_select = _std.select
_poll = _std.poll
_READ = _std.POLLIN | _std.POLLPRI


def _fileno(obj):
    return obj if isinstance(obj, int) else obj.fileno()


def select(rlist, wlist, xlist, timeout=None):
    if not _ringlet.in_request():
        return _select(rlist, wlist, xlist, timeout)
    ready = _select(rlist, wlist, xlist, 0)
    if any(ready) or timeout is not None and timeout <= 0:
        return ready
    rlist, wlist = list(rlist), list(wlist)
    if len(rlist) + len(wlist) == 1 and not xlist:
        obj = (rlist or wlist)[0]
        if not _ringlet.wait_fd(_fileno(obj), bool(wlist), timeout):
            return [], [], []
        return _select(rlist, wlist, [], 0)
    return run_in_thread(_select, rlist, wlist, xlist, timeout)
select.__doc__ = _select.__doc__


class poll:
    """select.poll(); poll(timeout) in milliseconds, None or negative for
    no limit."""

    def __init__(self):
        self._poll = _poll()
        self._masks = {}

    def register(self, fd, eventmask=_READ | _std.POLLOUT):
        fd = _fileno(fd)
        self._poll.register(fd, eventmask)
        self._masks[fd] = eventmask

    def modify(self, fd, eventmask):
        fd = _fileno(fd)
        self._poll.modify(fd, eventmask)
        self._masks[fd] = eventmask

    def unregister(self, fd):
        fd = _fileno(fd)
        self._poll.unregister(fd)
        del self._masks[fd]

    def poll(self, timeout=None):
        if not _ringlet.in_request():
            return self._poll.poll(timeout)
        ready = self._poll.poll(0)
        if ready or timeout == 0:
            return ready
        seconds = None if timeout is None or timeout < 0 else timeout / 1e3
        if len(self._masks) == 1:
            (fd, mask), = self._masks.items()
            reading, writing = bool(mask & _READ), bool(mask & _std.POLLOUT)
            if reading != writing:
                if not _ringlet.wait_fd(fd, writing, seconds):
                    return []
                return self._poll.poll(0)
        return run_in_thread(self._poll.poll, timeout)


class DefaultSelector(_selectors.PollSelector):
    """selectors.PollSelector over ringlet.select.poll."""
    _selector_cls = poll
