"""ringlet._threads: the worker's bounded thread pool, where a request runs
what has no cooperative form (a blocking C call, a name lookup) while its
worker goes on serving the others.

run_in_thread(fn, ...) queues the call for one of `[python] threads`
daemon threads (started on first use, in the worker) and suspends the
request's greenlet on an eventfd that the thread signals when the call
returns. The loop gives the GIL up while it waits, so the threads run
then. Outside a request the call simply runs where it is.
"""

import _queue
import _thread
import os

from . import _ringlet

# The C modules under queue and threading: those two (and what they
# import) would cost every worker about 0.3 MB before its first call;
# threading is imported when the pool starts.

__all__ = ["run_in_thread", "configure"]

_size = 10
_jobs = _queue.SimpleQueue()
_threads = []
_spare_fds = []  # eventfds whose count is back to 0, reused LIFO
# Held for a few statements, never across a wait.
_lock = _thread.allocate_lock()


class _Job:
    __slots__ = ("fn", "args", "kwargs", "fd", "result", "error", "done",
                 "abandoned")

    def __init__(self, fn, args, kwargs, fd):
        self.fn, self.args, self.kwargs, self.fd = fn, args, kwargs, fd
        self.result = self.error = None
        self.done = self.abandoned = False


def configure(threads):
    """Sets the pool's size (before its first use)."""
    global _size
    if threads < 1:
        raise ValueError("threads must be at least 1")
    _size = threads


def _work():
    while True:
        job = _jobs.get()
        try:
            job.result = job.fn(*job.args, **job.kwargs)
        except BaseException as e:  # handed to the caller, raised there
            job.error = e
        job.fn = job.args = job.kwargs = None
        with _lock:
            job.done = True
            if job.abandoned:
                os.close(job.fd)
            else:
                os.eventfd_write(job.fd, 1)


_starting = False


def _start():
    """Starts the pool's threads. Only request greenlets of the worker's
    thread call it, so a flag keeps out the others while one waits for a
    thread to run (under patch(), on the loop): a lock held across that
    wait would stop the worker at the next greenlet's acquire."""
    global _starting
    if _starting:
        return  # the jobs queued meanwhile wait for the threads
    _starting = True
    try:
        import threading
        while len(_threads) < _size:
            t = threading.Thread(target=_work, daemon=True,
                                 name="ringlet-pool-%d" % len(_threads))
            t.start()
            _threads.append(t)
    finally:
        _starting = False


def _forget_after_fork():
    """A forked child has none of its parent's threads nor its queue."""
    global _jobs, _lock, _starting
    _starting = False
    _threads.clear()
    _spare_fds.clear()
    _jobs = _queue.SimpleQueue()
    _lock = _thread.allocate_lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def run_in_thread(fn, *args, **kwargs):
    """Calls fn(*args, **kwargs) on the worker's thread pool and returns
    what it returns (or raises what it raises). Inside a request only its
    greenlet waits; elsewhere fn is called directly."""
    if not _ringlet.in_request():
        return fn(*args, **kwargs)
    if len(_threads) < _size:
        _start()
    fd = _spare_fds.pop() if _spare_fds else os.eventfd(
        0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
    job = _Job(fn, args, kwargs, fd)
    _jobs.put(job)
    try:
        while True:  # the thread signals once, after setting job.done
            try:
                os.eventfd_read(fd)
                break
            except BlockingIOError:
                _ringlet.wait_fd(fd, False)
    except BaseException:
        with _lock:
            if not job.done:  # the thread closes the fd when it is done
                job.abandoned = True
                raise
        os.close(fd)
        raise
    _spare_fds.append(fd)
    if job.error is not None:
        error, job.error = job.error, None
        raise error
    return job.result
