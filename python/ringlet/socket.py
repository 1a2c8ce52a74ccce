"""ringlet.socket: a socket that waits cooperatively (what ringlet.patch()
puts in place of socket.socket).

Inside a request's greenlet every wait (connect, accept, recv, send)
suspends that greenlet on the worker's loop, so a handler waiting on a
slow upstream does not delay the other requests of its worker; outside one
it blocks as the standard socket does. Timeouts keep the standard module's
meaning (settimeout, setdefaulttimeout, socket.timeout). The socket is a
real socket.socket, so makefile() and the standard library's clients built
on it work.
"""

import errno as _errno
import os as _os
import socket as _std

from . import _ringlet

__all__ = ["socket", "create_connection", "timeout", "error"]

timeout = _std.timeout
error = OSError
_standard = _std.socket  # what ringlet.patch() replaces with the class below


class socket(_standard):
    """socket.socket, cooperative: its descriptor is non-blocking and each
    EAGAIN waits on ringlet's loop (or in poll(2) outside a request)."""

    __slots__ = ("_rg_timeout",)

    def __init__(self, family=_std.AF_INET, type=_std.SOCK_STREAM, proto=0,
                 fileno=None):
        super().__init__(family, type, proto, fileno)
        self._rg_timeout = _std.getdefaulttimeout()
        _standard.setblocking(self, False)

    # -- timeouts, as the standard socket keeps them ----------------------
    def settimeout(self, value):
        if value is not None:
            value = float(value)
            if value < 0:
                raise ValueError("Timeout value out of range")
        self._rg_timeout = value

    def gettimeout(self):
        return self._rg_timeout

    def setblocking(self, flag):
        self._rg_timeout = None if flag else 0.0

    def getblocking(self):
        return self._rg_timeout != 0.0

    def _wait(self, write):
        if self._rg_timeout == 0.0:
            raise BlockingIOError(_errno.EAGAIN, "would block")
        if not _ringlet.wait_fd(self.fileno(), write, self._rg_timeout):
            raise timeout("timed out")

    # -- operations -------------------------------------------------------
    def connect(self, address):
        err = super().connect_ex(address)
        if err in (_errno.EINPROGRESS, _errno.EAGAIN, _errno.EALREADY):
            self._wait(True)
            err = self.getsockopt(_std.SOL_SOCKET, _std.SO_ERROR)
        if err and err != _errno.EISCONN:
            raise OSError(err, _os.strerror(err))

    def connect_ex(self, address):
        try:
            self.connect(address)
        except timeout:
            return _errno.ETIMEDOUT
        except OSError as e:
            return e.errno
        return 0

    def _retry(self, write, op, *args):
        while True:
            try:
                return op(*args)
            except BlockingIOError:
                self._wait(write)

    def recv(self, bufsize, flags=0):
        return self._retry(False, super().recv, bufsize, flags)

    def recv_into(self, buffer, nbytes=0, flags=0):
        return self._retry(False, super().recv_into, buffer, nbytes, flags)

    def recvfrom(self, bufsize, flags=0):
        return self._retry(False, super().recvfrom, bufsize, flags)

    def recvfrom_into(self, buffer, nbytes=0, flags=0):
        return self._retry(False, super().recvfrom_into, buffer, nbytes,
                           flags)

    def send(self, data, flags=0):
        return self._retry(True, super().send, data, flags)

    def sendto(self, data, *args):
        return self._retry(True, super().sendto, data, *args)

    def sendall(self, data, flags=0):
        view = memoryview(data).cast("B")
        while view:
            n = self.send(view, flags)
            view = view[n:]

    def sendfile(self, file, offset=0, count=None):
        return self._sendfile_use_send(file, offset, count)

    def accept(self):
        fd, addr = self._retry(False, self._accept)
        return socket(self.family, self.type, self.proto, fileno=fd), addr

    def dup(self):
        s = socket(self.family, self.type, self.proto,
                   fileno=_std.dup(self.fileno()))
        s.settimeout(self.gettimeout())
        return s


def create_connection(address, timeout=_std._GLOBAL_DEFAULT_TIMEOUT,
                      source_address=None):
    """Connects to (host, port) as socket.create_connection does, trying
    each address in turn; the waits are cooperative."""
    host, port = address
    last = None
    for family, type_, proto, _, sa in _std.getaddrinfo(
            host, port, 0, _std.SOCK_STREAM):
        s = None
        try:
            s = socket(family, type_, proto)
            if timeout is not _std._GLOBAL_DEFAULT_TIMEOUT:
                s.settimeout(timeout)
            if source_address:
                s.bind(source_address)
            s.connect(sa)
            return s
        except OSError as e:
            last = e
            if s is not None:
                s.close()
    if last is not None:
        raise last
    raise OSError("getaddrinfo returned nothing for %r" % (host,))


# Imported first by the application: ringlet.patch() waited for this
# module to be whole to patch the standard one (ringlet._patch).
if globals().pop("_rg_patch_when_loaded", False):
    from ._patch import _socket_patch
    _socket_patch(_std, __import__("sys").modules[__name__])
