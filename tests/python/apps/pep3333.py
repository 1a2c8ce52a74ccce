"""The PEP 3333 test application: one path per rule of the WSGI spec that
tests/python/test_wsgi.py checks against a running server (the environ,
start_response, write(), iterables and close(), wsgi.input,
wsgi.file_wrapper, errors), plus the cooperative calls (ringlet.sleep,
ringlet.socket)."""

import io
import json
import os
import sys
import urllib.parse

import ringlet
import ringlet.socket

# How many result iterables had close() called, by path (GET /closed).
closed = {}


class Closing:
    """An iterable result whose close() is counted."""

    def __init__(self, path, items, delay=0):
        self.path, self.items, self.delay = path, items, delay

    def __iter__(self):
        for item in self.items:
            if self.delay:
                ringlet.sleep(self.delay)
            yield item

    def close(self):
        closed[self.path] = closed.get(self.path, 0) + 1


def _query(environ):
    return dict(urllib.parse.parse_qsl(environ["QUERY_STRING"]))


def _text(start_response, body, status="200 OK", headers=()):
    body = body if isinstance(body, bytes) else body.encode()
    start_response(status, [("Content-Type", "text/plain")] + list(headers))
    return [body]


REQUIRED = ["REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING",
            "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL"]


def environ_view(environ, start_response):
    out = {"types": {}, "values": {}}
    for k, v in environ.items():
        out["types"][k] = type(v).__name__
        if isinstance(v, (str, bool, tuple)):
            out["values"][k] = v
    out["missing"] = [k for k in REQUIRED if k not in environ]
    out["input_methods"] = [m for m in ("read", "readline", "readlines",
                                        "__iter__")
                            if hasattr(environ["wsgi.input"], m)]
    out["errors_methods"] = [m for m in ("write", "writelines", "flush")
                             if hasattr(environ["wsgi.errors"], m)]
    return _text(start_response, json.dumps(out),
                 headers=[("X-Kind", "environ")])


def app(environ, start_response):
    path = environ["PATH_INFO"]
    q = _query(environ)
    inp = environ["wsgi.input"]

    if path == "/environ" or path.startswith("/decoded/"):
        return environ_view(environ, start_response)
    if path == "/echo":
        return _text(start_response, inp.read())
    if path == "/read-n":
        first = inp.read(int(q.get("n", "3")))
        rest = inp.read()
        return _text(start_response, json.dumps(
            [first.decode("latin-1"), rest.decode("latin-1")]))
    if path == "/readline":
        lines = []
        while True:
            line = inp.readline(int(q["max"])) if "max" in q else \
                inp.readline()
            if not line:
                break
            lines.append(line.decode("latin-1"))
        return _text(start_response, json.dumps(lines))
    if path == "/readlines":
        return _text(start_response, json.dumps(
            [x.decode("latin-1") for x in inp.readlines()]))
    if path == "/iter-input":
        return _text(start_response, json.dumps(
            [x.decode("latin-1") for x in inp]))
    if path == "/write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        write(b"by write()")
        return []
    if path == "/write-then-iter":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"first ")
        return Closing(path, [b"then ", b"iterated"])
    if path == "/gen":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return (b"chunk%d;" % i for i in range(int(q.get("n", "5"))))
    if path == "/gen-length":
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", "12")])
        return (x for x in [b"abcd", b"efgh", b"ijkl"])
    if path == "/short":  # says 10, sends 5
        start_response("200 OK", [("Content-Length", "10")])
        return (x for x in [b"12345"])
    if path == "/long":  # says 3, sends 10
        start_response("200 OK", [("Content-Length", "3")])
        return (x for x in [b"12345", b"67890"])
    if path == "/list":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"a", b"b", b"", b"c"]
    if path == "/empty":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return []
    if path == "/large":
        n = int(q.get("n", str(1 << 20)))
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [bytes(range(256)) * (n // 256)]
    if path == "/header-crlf":
        start_response("200 OK", [("X-Bad", "a\r\nX-Injected: yes")])
        return [b"should not be sent"]
    if path == "/header-lf-name":
        start_response("200 OK", [("X-Bad\nX-Injected", "1")])
        return [b"should not be sent"]
    if path == "/header-latin1":
        start_response("200 OK", [("X-Bad", "\u20ac")])
        return [b"should not be sent"]
    if path == "/header-not-str":
        start_response("200 OK", [("X-Bad", 3)])
        return [b"should not be sent"]
    if path == "/header-latin1-ok":
        start_response("200 OK", [("X-Latin", "caf\u00e9")])
        return [b"ok"]
    if path == "/status-bad":
        start_response("abc", [])
        return [b"should not be sent"]
    if path == "/status-1xx":
        start_response("100 Continue", [])
        return [b"should not be sent"]
    if path == "/status":
        start_response(q["s"], [("Content-Type", "text/plain")])
        return [b"body"]
    if path == "/no-start":
        return [b"never started"]
    if path == "/raise":
        raise RuntimeError("raised before start_response")
    if path == "/raise-after":
        start_response("200 OK", [("Content-Type", "text/plain")])

        def gen():
            yield b"partial "
            yield b"body "
            raise RuntimeError("raised in the middle of the body")
        return gen()
    if path == "/raise-second":
        start_response("200 OK", [("Content-Type", "text/plain")])

        def gen2():
            yield b"should not be sent"
            raise RuntimeError("raised before the second item")
        return gen2()
    if path == "/exc-info":
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("the application's own error")
        except ValueError:
            start_response("503 Service Unavailable",
                           [("Content-Type", "text/plain"),
                            ("X-Handled", "1")], sys.exc_info())
        return [b"handled"]
    if path == "/exc-info-late":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"already sent")
        try:
            raise ValueError("too late to change the status")
        except ValueError:
            start_response("500 Oops", [], sys.exc_info())
        return [b"never"]
    if path == "/twice":
        start_response("200 OK", [])
        start_response("200 OK", [])
        return [b"never"]
    if path == "/not-bytes":
        start_response("200 OK", [])
        return ["a str, not bytes"]
    if path == "/bytearray":
        start_response("200 OK", [])
        return [bytearray(b"not bytes either")]
    if path == "/closing":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Closing(path, [b"one ", b"two"])
    if path == "/slow-closing":  # a client may leave midway
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Closing(path, [b"x" * 1024] * 2000, delay=0.005)
    if path == "/closed":
        return _text(start_response, json.dumps(closed))
    if path == "/file":
        f = open(os.path.join(os.path.dirname(__file__), "pep3333.py"), "rb")
        if "skip" in q:
            f.read(int(q["skip"]))
        start_response("200 OK", [("Content-Type", "text/x-python")])
        return environ["wsgi.file_wrapper"](f, 4096)
    if path == "/file-bytesio":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](io.BytesIO(b"from a BytesIO"), 4)
    if path == "/errors":
        environ["wsgi.errors"].write("a line for the error log\n")
        environ["wsgi.errors"].writelines(["second line\n"])
        environ["wsgi.errors"].flush()
        return _text(start_response, "logged")
    if path == "/sleep":
        ringlet.sleep(float(q.get("s", "0.1")))
        return _text(start_response, "slept")
    if path == "/upstream":
        s = ringlet.socket.create_connection(("127.0.0.1", int(q["port"])),
                                             timeout=float(q.get("t", "5")))
        try:
            s.sendall(b"ping\n")
            f = s.makefile("rb")
            line = f.readline()
            f.close()
        except ringlet.socket.timeout:
            return _text(start_response, "upstream timed out",
                         "504 Gateway Timeout")
        finally:
            s.close()
        return _text(start_response, b"upstream said " + line)
    if path == "/connection-close":
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Connection", "close")])
        return [b"bye"]
    if path == "/hop-by-hop":
        start_response("200 OK", [("Transfer-Encoding", "chunked"),
                                  ("Keep-Alive", "timeout=99"),
                                  ("Content-Type", "text/plain")])
        return [b"framed by the server"]
    if path == "/body-error":
        try:
            inp.read()
        except ringlet.BodyError as e:
            return _text(start_response, "caught errno %d" % e.errno,
                         "400 Bad Request")
        return _text(start_response, "read fine")
    if path == "/body-uncaught":
        inp.read()
        return _text(start_response, "read fine")
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"no such path: " + path.encode("latin-1")]
