"""ringlet.ssl: TLS over a cooperative socket (what ringlet.patch() makes
ssl.SSLContext.wrap_socket return).

SSLSocket is the standard ssl.SSLSocket over ringlet.socket.socket: the
descriptor stays non-blocking whatever the timeout, so OpenSSL reports
"want read" / "want write" instead of blocking, and each such report
waits on the worker's loop (in poll(2) outside a request) before the
call is retried. The handshake, reads, writes and the TLS shutdown all
wait this way; the timeout keeps the standard module's meaning.
"""

import ssl as _std

from . import socket as _socket

__all__ = ["SSLSocket"]


class SSLSocket(_std.SSLSocket, _socket.socket):
    """ssl.SSLSocket whose waits are cooperative. Its plain-socket calls
    (connect, accept, and I/O before the handshake) are those of
    ringlet.socket.socket, next in the method order."""

    def _tls_retry(self, op, *args):
        while True:
            try:
                return op(*args)
            except _std.SSLWantReadError:
                if self._rg_timeout == 0.0:
                    raise
                self._wait(False)
            except _std.SSLWantWriteError:
                if self._rg_timeout == 0.0:
                    raise
                self._wait(True)

    def do_handshake(self, block=False):
        return self._tls_retry(super().do_handshake, block)

    def read(self, len=1024, buffer=None):
        return self._tls_retry(super().read, len, buffer)

    def write(self, data):
        return self._tls_retry(super().write, data)

    def send(self, data, flags=0):
        if self._sslobj is None:
            return super().send(data, flags)
        if flags:
            raise ValueError("non-zero flags not allowed in calls to send() "
                             "on %s" % self.__class__)
        return self.write(data)

    def unwrap(self):
        return self._tls_retry(super().unwrap)
