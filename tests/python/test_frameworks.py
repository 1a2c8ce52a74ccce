"""Real applications from Debian run unchanged on the Python front: Flask,
Falcon and a small Django project (tests/python/apps), each asked the same
things over real sockets on both io backends: text, JSON, a urlencoded
form with non-ASCII fields, a multipart upload checked by its digest, a
streamed (chunked) response, HEAD, the framework's own 404, and all of
them one after another on one kept-alive connection."""

import hashlib
import json
import os
import socket
import unittest
import urllib.parse

import rgtest

# What every app's /stream yields: ten chunks of 3 bytes to 256 KiB, so
# that the response outgrows the output buffer (16 KiB) several times.
STREAM = [b"%d:" % i + bytes([65 + i]) * (1 << (2 * i)) for i in range(10)]

# Fields a browser would send: spaces ('+'), reserved characters, a
# repeated name, an empty value and non-ASCII names and values, all UTF-8
# percent-encoded by urlencode.
FORM = [("name", "Zoë Ångström"), ("city", "Kraków"),
        ("greeting", "日本語 ☕"), ("tricky", "a&b=c+d %20 100%"),
        ("tag", "one"), ("tag", "two"), ("prénom", "Élodie"),
        ("empty", "")]


def form_lists(pairs):
    out = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


def multipart(fields, files):
    """A multipart/form-data body by hand (RFC 7578): (content type,
    bytes) for text `fields` [(name, str)] and `files` [(name, filename,
    bytes)]."""
    boundary = "ringlet-" + os.urandom(12).hex()
    b = boundary.encode()
    out = []
    for name, value in fields:
        out += [b"--" + b,
                b'Content-Disposition: form-data; name="%s"'
                % name.encode(),
                b"Content-Type: text/plain; charset=utf-8",
                b"", value.encode()]
    for name, filename, data in files:
        out += [b"--" + b,
                b'Content-Disposition: form-data; name="%s"; '
                b'filename="%s"' % (name.encode(), filename.encode()),
                b"Content-Type: application/octet-stream",
                b"", data]
    out += [b"--" + b + b"--", b""]
    return ("multipart/form-data; boundary=" + boundary,
            b"\r\n".join(out))


def read_until_close(sock, timeout=10):
    """Everything `sock` receives until the peer closes; AssertionError if
    it goes quiet for `timeout` seconds without closing."""
    sock.settimeout(timeout)
    out = b""
    while True:
        try:
            b = sock.recv(65536)
        except socket.timeout:
            raise AssertionError("the server neither closed nor sent more "
                                 "after %d bytes" % len(out))
        if not b:
            return out
        out += b


def split_response(raw):
    """(status line, {lower-case name: value}, body) of raw bytes."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    assert sep, "no end of head in %r" % raw[:200]
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return lines[0], headers, body


class _Framework:
    """The tests every framework passes; a subclass names APP, the
    framework (as its /hello and /json say it) and what its 404 is."""
    NAME = None
    NOT_FOUND_TYPE = None

    def check_not_found_body(self, body):
        raise NotImplementedError

    def test_hello(self):
        status, r, body = self.srv.request("GET", "/hello")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"hello from %s\n" % self.NAME.encode())
        self.assertEqual(r.getheader("Content-Type"),
                         "text/plain; charset=utf-8")
        self.assertEqual(r.getheader("Content-Length"), str(len(body)))
        self.assertIsNone(r.getheader("Transfer-Encoding"))

    def test_json(self):
        status, r, body = self.srv.request("GET", "/json")
        self.assertEqual(status, 200)
        self.assertEqual(r.getheader("Content-Type").split(";")[0],
                         "application/json")
        self.assertEqual(r.getheader("Content-Length"), str(len(body)))
        self.assertEqual(json.loads(body), {"framework": self.NAME,
                                            "ok": True, "items": [1, 2, 3]})

    def test_form_utf8_fields(self):
        status, r, body = self.srv.request(
            "POST", "/form", body=urllib.parse.urlencode(FORM),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200, body)
        self.assertEqual(r.getheader("Content-Type").split(";")[0],
                         "application/json")
        self.assertEqual(json.loads(body)["fields"], form_lists(FORM))

    def test_upload_digest(self):
        data = os.urandom(200 * 1024 + 13)
        ctype, payload = multipart([("note", "café ☕")],
                                   [("file", "random.bin", data)])
        status, r, body = self.srv.request(
            "POST", "/upload", body=payload,
            headers={"Content-Type": ctype})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body), {
            "name": "random.bin", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "fields": {"note": ["café ☕"]}})

    def test_upload_expect_100_continue(self):
        """As curl -F sends a large file: the head alone, the body only
        after "100 Continue", which the framework's first read of
        wsgi.input brings."""
        data = os.urandom(64 * 1024)
        ctype, payload = multipart([], [("file", "c.bin", data)])
        head = ("POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: %s\r\nContent-Length: %d\r\n"
                "Expect: 100-continue\r\nConnection: close\r\n\r\n"
                % (ctype, len(payload))).encode()
        with socket.create_connection(("127.0.0.1", self.srv.port),
                                      10) as s:
            s.sendall(head)
            interim = b""
            while b"\r\n\r\n" not in interim:
                b = s.recv(4096)
                self.assertTrue(b, "closed before 100 Continue")
                interim += b
            self.assertTrue(interim.startswith(b"HTTP/1.1 100 "), interim)
            interim, _, rest = interim.partition(b"\r\n\r\n")
            s.sendall(payload)
            line, headers, body = split_response(rest + read_until_close(s))
        self.assertEqual(line.split()[1], "200", body)
        self.assertEqual(len(body), int(headers["content-length"]))
        got = json.loads(body)
        self.assertEqual((got["name"], got["size"], got["sha256"]),
                         ("c.bin", len(data),
                          hashlib.sha256(data).hexdigest()))

    def test_stream_chunked(self):
        c = self.srv.conn()
        try:
            c.request("GET", "/stream")
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.getheader("Content-Type"),
                             "application/octet-stream")
            self.assertEqual(r.getheader("Transfer-Encoding"), "chunked")
            self.assertIsNone(r.getheader("Content-Length"))
            # http.client undoes the chunked coding and raises
            # IncompleteRead on a body cut short or a missing last chunk.
            body = r.read()
        finally:
            c.close()
        self.assertEqual(len(body), sum(map(len, STREAM)))
        self.assertEqual(body, b"".join(STREAM))

    def test_stream_http10_ends_at_close(self):
        """HTTP/1.0 has no chunked coding: the body is the bytes as the
        application yielded them, ended by the server's close."""
        with socket.create_connection(("127.0.0.1", self.srv.port),
                                      10) as s:
            s.sendall(b"GET /stream HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            line, headers, body = split_response(read_until_close(s))
        self.assertRegex(line, r"^HTTP/1\.[01] 200 ")
        self.assertNotIn("transfer-encoding", headers)
        self.assertEqual(body, b"".join(STREAM))

    def test_head_as_get(self):
        """HEAD gets GET's head without the body (curl -I, link checkers):
        a Content-Length, if any, is the one GET's body has (RFC 9110
        8.6), whether the framework leaves the body out (Flask, Falcon)
        or yields it for the server to drop (Django)."""
        c = self.srv.conn()
        try:
            for path in ("/hello", "/stream"):
                c.request("HEAD", path)
                r = c.getresponse()
                self.assertEqual(r.status, 200, path)
                self.assertEqual(r.read(), b"", path)
                head_type = r.getheader("Content-Type")
                head_length = r.getheader("Content-Length")
                c.request("GET", path)
                r = c.getresponse()
                body = r.read()
                self.assertEqual(r.status, 200, path)
                self.assertEqual(head_type, r.getheader("Content-Type"),
                                 path)
                if head_length is not None:
                    self.assertEqual(int(head_length), len(body),
                                     "HEAD %s: Content-Length" % path)
        finally:
            c.close()

    def test_not_found(self):
        status, r, body = self.srv.request("GET", "/no/such/path?x=1")
        self.assertEqual(status, 404)
        self.assertEqual(r.getheader("Content-Type"), self.NOT_FOUND_TYPE)
        self.assertEqual(r.getheader("Content-Length"), str(len(body)))
        self.check_not_found_body(body)

    def test_one_connection_for_all(self):
        """Every kind of response leaves the connection usable: the same
        socket carries them all, in order."""
        data = os.urandom(50 * 1024)
        ctype, payload = multipart([], [("file", "k.bin", data)])
        steps = [
            ("GET", "/hello", None, {}, 200),
            ("GET", "/stream", None, {}, 200),
            ("POST", "/form", urllib.parse.urlencode(FORM),
             {"Content-Type": "application/x-www-form-urlencoded"}, 200),
            ("GET", "/missing", None, {}, 404),
            ("POST", "/upload", payload, {"Content-Type": ctype}, 200),
            ("GET", "/stream", None, {}, 200),
            ("GET", "/json", None, {}, 200),
        ]
        c = self.srv.conn()
        try:
            sock = None
            for method, path, body, headers, want in steps:
                c.request(method, path, body=body, headers=headers)
                r = c.getresponse()
                got = r.read()
                what = "%s %s" % (method, path)
                self.assertEqual(r.status, want, what)
                self.assertFalse(r.will_close, what)
                if sock is None:
                    sock = c.sock
                self.assertIs(c.sock, sock, what + ": a new connection")
                if path == "/stream":
                    self.assertEqual(got, b"".join(STREAM))
                elif path == "/upload":
                    self.assertEqual(json.loads(got)["sha256"],
                                     hashlib.sha256(data).hexdigest())
        finally:
            c.close()


class _Flask(_Framework):
    APP = "flask_app:app"
    NAME = "flask"
    NOT_FOUND_TYPE = "text/html; charset=utf-8"

    def check_not_found_body(self, body):
        # werkzeug's NotFound page.
        self.assertIn(b"<title>404 Not Found</title>", body)
        self.assertIn(b"The requested URL was not found on the server.",
                      body)


class _Falcon(_Framework):
    APP = "falcon_app:app"
    NAME = "falcon"
    NOT_FOUND_TYPE = "application/json"

    def check_not_found_body(self, body):
        # falcon.HTTPRouteNotFound, serialized as JSON by default.
        self.assertEqual(json.loads(body), {"title": "404 Not Found"})


class _Django(_Framework):
    APP = "djsite.wsgi:application"
    NAME = "django"
    NOT_FOUND_TYPE = "text/html"
    SETTINGS = {"DJANGO_SETTINGS_MODULE": "djsite.settings"}

    @classmethod
    def setUpClass(cls):
        cls.srv = rgtest.Server(cls.APP, io=cls.BACKEND, env=cls.SETTINGS)

    def check_not_found_body(self, body):
        # django.views.defaults.page_not_found without a 404.html.
        self.assertIn(b"<h1>Not Found</h1>", body)
        self.assertIn(b"The requested resource was not found on this "
                      b"server.", body)

    def test_disallowed_host(self):
        """ALLOWED_HOSTS is Django's: SERVER_NAME/HTTP_HOST reach it as
        sent, and a foreign Host gets its 400."""
        status, _, _ = self.srv.request("GET", "/hello",
                                        headers={"Host": "evil.example"})
        self.assertEqual(status, 400)
        status, _, _ = self.srv.request("GET", "/hello",
                                        headers={"Host": "localhost:1"})
        self.assertEqual(status, 200)


rgtest.for_each_backend(_Flask, globals())
rgtest.for_each_backend(_Falcon, globals())
rgtest.for_each_backend(_Django, globals())

if __name__ == "__main__":
    unittest.main()
