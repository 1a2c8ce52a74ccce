"""ringlet._patch: makes the standard library cooperative inside request
greenlets, so that code written for a blocking server (gunicorn's sync
workers) waits here without holding its worker. `python3 -m ringlet`
calls patch() before it imports the application, unless the
configuration says `[python] patch = false`.

What it replaces, each of which behaves as the standard one outside a
request (at import time, in the master, in a thread):
  socket.socket               ringlet.socket.socket (so also what the
                              socket module makes: create_connection,
                              socketpair, fromfd, accepted sockets)
  getaddrinfo, gethostbyname, name lookups on the thread pool (a numeric
  gethostbyname_ex,           address is converted where it is)
  gethostbyaddr, getnameinfo
  ssl.SSLContext.wrap_socket  ringlet.ssl.SSLSocket
  select.select, select.poll  ringlet.select
  selectors.DefaultSelector
  time.sleep                  ringlet.sleep
  threading.local             ringlet._local.local: one set of attributes
                              per greenlet, as the standard one has per
                              thread
  threading.get_ident         a greenlet's own number, so that
                              threading.current_thread() is a thread
                              object per greenlet (threading's dummy
                              one) for what keys its state by it
  threading.Lock, RLock (and  ringlet._lock: a request waits for one on
  so Condition, Event,        the loop; an RLock is owned by a greenlet
  Semaphore, queue.Queue)
and, when psycopg2 is imported, its wait callback, so that libpq's own
socket waits on the loop too.
"""

import importlib.util
import select
import selectors
import sys
import time

from . import _ringlet
from . import select as _select
from ._threads import run_in_thread

__all__ = ["patch", "patched"]

_patched = False


def patched():
    """Whether patch() has run in this process."""
    return _patched


def patch():
    """Replaces the blocking calls of the standard library with ringlet's
    (see the module's documentation). Calling it again does nothing."""
    global _patched
    if _patched:
        return
    _patched = True
    select.select = _select.select
    select.poll = _select.poll
    selectors.DefaultSelector = _select.DefaultSelector
    time.sleep = _ringlet.sleep
    _when_imported("threading", _threading_imported)
    # Patched when they are imported (at once if they are): an
    # application that never opens a socket does not pay for socket
    # (0.45 MB of a worker's memory, enum's included), nor for ssl (5 MiB:
    # libcrypto).
    _when_imported("socket", _socket_imported)
    _when_imported("ssl", _ssl_imported)
    _when_imported("psycopg2", _psycopg2_imported)


def _socket_imported(socket):
    coop = sys.modules.get(__package__ + ".socket")
    if coop is not None and not hasattr(coop, "socket"):
        # ringlet.socket is importing socket: it is patched once
        # ringlet.socket is whole, which then calls _socket_patch.
        coop._rg_patch_when_loaded = True
        return
    from . import socket as coop
    _socket_patch(socket, coop)


def _socket_patch(socket, coop):
    socket.socket = coop.socket
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        setattr(socket, name, _lookup(getattr(socket, name), _numeric))
    for name in ("gethostbyaddr", "getnameinfo"):
        setattr(socket, name, _lookup(getattr(socket, name), None))


# -- threads -----------------------------------------------------------------
def _threading_imported(threading):
    """What threading took from _thread when it was imported. Only then:
    a worker whose application never imports threading does not load
    these (0.2 MB, weakref's included). _thread.get_ident stays as it is:
    the import system's module locks go by it, and a greenlet importing a
    module that another left half imported would then wait for it on a
    thread's lock, stopping the worker."""
    from . import _local, _lock
    threading.get_ident = _lock.get_ident
    threading.local = _local.local
    threading.Lock = threading._allocate_lock = _lock.Lock
    threading.RLock = _lock.RLock


# -- name lookups -----------------------------------------------------------
def _numeric(host, *args, **kwargs):
    """Whether host needs no lookup: None, or an IPv4/IPv6 literal."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    socket = sys.modules["socket"]
    for family, text in ((socket.AF_INET, host),
                         (socket.AF_INET6, host.partition("%")[0])):
        try:
            socket.inet_pton(family, text)
            return True
        except (OSError, ValueError):
            pass
    return False


def _lookup(fn, direct):
    def lookup(*args, **kwargs):
        if direct is not None and direct(*args, **kwargs):
            return fn(*args, **kwargs)
        return run_in_thread(fn, *args, **kwargs)
    lookup.__name__ = fn.__name__
    lookup.__doc__ = fn.__doc__
    return lookup


# -- modules patched once imported ------------------------------------------
def _when_imported(name, fn):
    if name in sys.modules:
        fn(sys.modules[name])
    else:
        sys.meta_path.insert(0, _AfterImport(name, fn))


class _AfterImport:
    """Calls fn(module) once the top-level module `name` has been
    imported, whoever imports it, without importing it itself: a finder
    of sys.meta_path that steps aside for the import it waits for."""

    def __init__(self, name, fn):
        self.name, self.fn = name, fn

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        run, fn = spec.loader.exec_module, self.fn

        def exec_module(module):
            run(module)
            fn(module)
        spec.loader.exec_module = exec_module
        return spec


def _ssl_imported(ssl):
    from . import ssl as coop
    ssl.SSLContext.sslsocket_class = coop.SSLSocket


def _psycopg2_imported(psycopg2):
    """Sets psycopg2's wait callback: it drives the connection's
    non-blocking libpq calls, waiting on its socket between them."""
    from psycopg2 import extensions as ext
    ok, read, write = ext.POLL_OK, ext.POLL_READ, ext.POLL_WRITE

    def wait(conn, timeout=None):
        while True:
            state = conn.poll()
            if state == ok:
                return
            if state != read and state != write:
                raise psycopg2.OperationalError("bad state from poll: %r"
                                                % state)
            _ringlet.wait_fd(conn.fileno(), state == write)
    ext.set_wait_callback(wait)
