"""PEP 3333 against a running `python3 -m ringlet` (apps/pep3333.py), on
both io backends: the environ, start_response's rules, write(), iterables
and close(), wsgi.input read lazily, wsgi.file_wrapper, errors; and the
cooperative calls: 200 clients waiting 100 ms each on one worker are
served together, not one after another."""

import json
import socket
import threading
import time
import unittest

import rgtest


def chunked_complete(raw):
    return raw.endswith(b"\r\n0\r\n\r\n")


class _PEP3333:
    APP = "pep3333:app"

    # -- environ ----------------------------------------------------------
    def test_environ_keys_and_types(self):
        st, r, body = self.srv.request(
            "GET", "/environ?a=1&b=%20", headers={
                "X-Custom-Header": "v", "Content-Type": "text/x"})
        self.assertEqual(st, 200)
        e = json.loads(body)
        self.assertEqual(e["missing"], [])
        v, t = e["values"], e["types"]
        self.assertEqual(v["REQUEST_METHOD"], "GET")
        self.assertEqual(v["SCRIPT_NAME"], "")
        self.assertEqual(v["PATH_INFO"], "/environ")
        self.assertEqual(v["QUERY_STRING"], "a=1&b=%20")
        self.assertEqual(v["SERVER_PROTOCOL"], "HTTP/1.1")
        self.assertEqual(v["SERVER_NAME"], "127.0.0.1")
        self.assertEqual(v["SERVER_PORT"], str(self.srv.port))
        self.assertEqual(v["REMOTE_ADDR"], "127.0.0.1")
        self.assertTrue(v["REMOTE_PORT"].isdigit())
        self.assertEqual(v["HTTP_X_CUSTOM_HEADER"], "v")
        self.assertEqual(v["CONTENT_TYPE"], "text/x")
        self.assertNotIn("HTTP_CONTENT_TYPE", v)
        self.assertEqual(v["wsgi.url_scheme"], "http")
        self.assertEqual(v["wsgi.version"], [1, 0])
        self.assertIs(v["wsgi.multithread"], False)
        self.assertIs(v["wsgi.multiprocess"], True)
        self.assertIs(v["wsgi.run_once"], False)
        for k in ("PATH_INFO", "QUERY_STRING", "SCRIPT_NAME",
                  "REQUEST_METHOD", "SERVER_NAME", "SERVER_PORT"):
            self.assertEqual(t[k], "str", k)
        self.assertEqual(e["input_methods"],
                         ["read", "readline", "readlines", "__iter__"])
        self.assertEqual(e["errors_methods"], ["write", "writelines",
                                               "flush"])
        self.assertIn("wsgi.file_wrapper", t)

    def test_content_length_without_http_prefix(self):
        st, r, body = self.srv.request("POST", "/environ", body=b"abc")
        v = json.loads(body)["values"]
        self.assertEqual(v["CONTENT_LENGTH"], "3")
        self.assertNotIn("HTTP_CONTENT_LENGTH", v)

    def test_path_info_is_decoded_latin1(self):
        # UTF-8 bytes of "é" arrive as two latin-1 characters (PEP 3333's
        # "bytes as str").
        st, r, body = self.srv.request("GET", "/decoded/a%20b/%C3%A9")
        v = json.loads(body)["values"]
        self.assertEqual(v["PATH_INFO"], "/decoded/a b/\u00c3\u00a9")
        self.assertEqual(v["RAW_URI"], "/decoded/a%20b/%C3%A9")

    def test_host_header_gives_server_name(self):
        st, r, body = self.srv.request("GET", "/environ",
                                       headers={"Host": "example.org:81"})
        v = json.loads(body)["values"]
        self.assertEqual((v["SERVER_NAME"], v["SERVER_PORT"]),
                         ("example.org", "81"))
        st, r, body = self.srv.request("GET", "/environ",
                                       headers={"Host": "[::1]:82"})
        v = json.loads(body)["values"]
        self.assertEqual((v["SERVER_NAME"], v["SERVER_PORT"]),
                         ("[::1]", "82"))

    def test_repeated_headers_are_joined(self):
        raw = self.srv.raw(b"GET /environ HTTP/1.1\r\nHost: h\r\n"
                           b"X-A: 1\r\nX-A: 2\r\nCookie: a=1\r\n"
                           b"Cookie: b=2\r\nConnection: close\r\n\r\n")
        v = json.loads(raw.split(b"\r\n\r\n", 1)[1])["values"]
        self.assertEqual(v["HTTP_X_A"], "1, 2")
        self.assertEqual(v["HTTP_COOKIE"], "a=1; b=2")

    def test_http10(self):
        raw = self.srv.raw(b"GET /environ HTTP/1.0\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 200"))
        v = json.loads(raw.split(b"\r\n\r\n", 1)[1])["values"]
        self.assertEqual(v["SERVER_PROTOCOL"], "HTTP/1.0")
        # No Host: the listen address.
        self.assertEqual(v["SERVER_NAME"], "127.0.0.1")

    def test_http10_streamed_body_ends_at_close(self):
        raw = self.srv.raw(b"GET /gen HTTP/1.0\r\n\r\n")
        head, body = raw.split(b"\r\n\r\n", 1)
        self.assertNotIn(b"chunked", head.lower())
        self.assertEqual(body, b"chunk0;chunk1;chunk2;chunk3;chunk4;")

    # -- wsgi.input -------------------------------------------------------
    def test_read_all(self):
        data = bytes(range(256)) * 1000
        st, r, body = self.srv.request("POST", "/echo", body=data)
        self.assertEqual((st, body), (200, data))

    def test_read_chunked_request(self):
        raw = self.srv.raw(b"POST /echo HTTP/1.1\r\nHost: h\r\n"
                           b"Transfer-Encoding: chunked\r\n"
                           b"Connection: close\r\n\r\n"
                           b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 200"), raw)
        self.assertTrue(raw.endswith(b"\r\n\r\nhello world"), raw)

    def test_read_n_then_rest(self):
        st, r, body = self.srv.request("POST", "/read-n?n=4",
                                       body=b"abcdefgh")
        self.assertEqual(json.loads(body), ["abcd", "efgh"])

    def test_readline(self):
        st, r, body = self.srv.request("POST", "/readline",
                                       body=b"one\ntwo\n\nlast")
        self.assertEqual(json.loads(body), ["one\n", "two\n", "\n", "last"])

    def test_readline_with_size(self):
        st, r, body = self.srv.request("POST", "/readline?max=3",
                                       body=b"abcdefg\nhi\n")
        self.assertEqual(json.loads(body),
                         ["abc", "def", "g\n", "hi\n"])

    def test_readline_longer_than_its_buffer(self):
        line = b"x" * 20000 + b"\n"
        st, r, body = self.srv.request("POST", "/readline",
                                       body=line + b"end")
        self.assertEqual(json.loads(body), [line.decode(), "end"])

    def test_readlines_and_iteration(self):
        data = b"a\nbb\nccc\n"
        for path in ("/readlines", "/iter-input"):
            st, r, body = self.srv.request("POST", path, body=data)
            self.assertEqual(json.loads(body), ["a\n", "bb\n", "ccc\n"])

    def test_100_continue_on_first_read(self):
        with socket.create_connection(("127.0.0.1", self.srv.port), 5) as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: h\r\n"
                      b"Content-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            self.assertEqual(s.recv(100), b"HTTP/1.1 100 Continue\r\n\r\n")
            s.sendall(b"hello")
            out = b""
            while not out.endswith(b"hello"):
                b = s.recv(4096)
                if not b:
                    break
                out += b
            self.assertTrue(out.startswith(b"HTTP/1.1 200"), out)

    def test_body_arrives_slowly(self):
        # The handler's read waits for the bytes; the worker serves
        # others meanwhile.
        with socket.create_connection(("127.0.0.1", self.srv.port), 5) as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: h\r\n"
                      b"Content-Length: 10\r\n\r\n12345")
            time.sleep(0.2)
            st, _, body = self.srv.request("GET", "/list")
            self.assertEqual((st, body), (200, b"abc"))
            s.sendall(b"67890")
            out = b""
            while not out.endswith(b"1234567890"):
                b = s.recv(4096)
                if not b:
                    break
                out += b
            self.assertIn(b"\r\n\r\n1234567890", out)

    def test_body_too_large_is_413(self):
        # Announced: refused before the application runs.
        st, r, body = self.srv.request("POST", "/body-uncaught",
                                       body=b"x" * (2 << 20))
        self.assertEqual(st, 413)
        # Found while reading a chunked body the application let raise.
        raw = self.srv.raw(self.chunked_post("/body-uncaught", 1100))
        self.assertTrue(raw.startswith(b"HTTP/1.1 413"), raw[:200])

    @staticmethod
    def chunked_post(path, kib):
        chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
        return (b"POST %s HTTP/1.1\r\nHost: h\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n" % path.encode() +
                chunk * kib + b"0\r\n\r\n")

    def test_body_error_is_catchable(self):
        raw = self.srv.raw(self.chunked_post("/body-error", 1100))
        self.assertTrue(raw.startswith(b"HTTP/1.1 400"), raw[:200])
        self.assertTrue(raw.endswith(b"caught errno 90"), raw)  # EMSGSIZE

    def test_malformed_chunked_body(self):
        raw = self.srv.raw(b"POST /body-uncaught HTTP/1.1\r\nHost: h\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n"
                           b"zz\r\nhello\r\n0\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 400"), raw)

    # -- responses --------------------------------------------------------
    def test_list_gets_content_length(self):
        st, r, body = self.srv.request("GET", "/list")
        self.assertEqual((st, body), (200, b"abc"))
        self.assertEqual(r.getheader("Content-Length"), "3")

    def test_empty_body(self):
        st, r, body = self.srv.request("GET", "/empty")
        self.assertEqual((st, body), (200, b""))
        self.assertEqual(r.getheader("Content-Length"), "0")

    def test_generator_is_chunked(self):
        raw = self.srv.raw(b"GET /gen HTTP/1.1\r\nHost: h\r\n"
                           b"Connection: close\r\n\r\n")
        self.assertIn(b"Transfer-Encoding: chunked", raw)
        self.assertTrue(chunked_complete(raw), raw)
        st, r, body = self.srv.request("GET", "/gen")
        self.assertEqual(body, b"chunk0;chunk1;chunk2;chunk3;chunk4;")

    def test_generator_of_one_item_has_length(self):
        st, r, body = self.srv.request("GET", "/gen?n=1")
        self.assertEqual(body, b"chunk0;")
        self.assertEqual(r.getheader("Content-Length"), "7")

    def test_application_content_length(self):
        raw = self.srv.raw(b"GET /gen-length HTTP/1.1\r\nHost: h\r\n"
                           b"Connection: close\r\n\r\n")
        head, body = raw.split(b"\r\n\r\n", 1)
        self.assertIn(b"Content-Length: 12", head)
        self.assertEqual(head.count(b"Content-Length"), 1)
        self.assertNotIn(b"chunked", head)
        self.assertEqual(body, b"abcdefghijkl")

    def test_short_body_closes_the_connection(self):
        raw = self.srv.raw(b"GET /short HTTP/1.1\r\nHost: h\r\n\r\n"
                           b"GET /list HTTP/1.1\r\nHost: h\r\n\r\n")
        self.assertEqual(raw.count(b"HTTP/1.1 "), 1, raw)
        self.assertTrue(raw.endswith(b"12345"), raw)

    def test_long_body_is_cut_at_content_length(self):
        raw = self.srv.raw(b"GET /long HTTP/1.1\r\nHost: h\r\n\r\n"
                           b"GET /list HTTP/1.1\r\nHost: h\r\n"
                           b"Connection: close\r\n\r\n")
        first, second = raw.split(b"HTTP/1.1 200", 2)[1:]
        self.assertTrue(first.endswith(b"\r\n\r\n123"), raw)
        self.assertTrue(second.endswith(b"abc"), raw)

    def test_write_callable(self):
        st, r, body = self.srv.request("GET", "/write")
        self.assertEqual(body, b"written by write()")
        st, r, body = self.srv.request("GET", "/write-then-iter")
        self.assertEqual(body, b"first then iterated")

    def test_large_body(self):
        st, r, body = self.srv.request("GET", "/large")
        self.assertEqual(len(body), 1 << 20)
        self.assertEqual(body[:512], bytes(range(256)) * 2)

    def test_head_has_no_body(self):
        raw = self.srv.raw(b"HEAD /list HTTP/1.1\r\nHost: h\r\n"
                           b"Connection: close\r\n\r\n")
        self.assertTrue(raw.endswith(b"\r\n\r\n"), raw)
        self.assertIn(b"Content-Length: 3", raw)
        raw = self.srv.raw(b"HEAD /gen HTTP/1.1\r\nHost: h\r\n"
                           b"Connection: close\r\n\r\n")
        self.assertTrue(raw.endswith(b"\r\n\r\n"), raw)
        # Frameworks answer HEAD with an empty body and no length: that
        # is not GET's length, so no "Content-Length: 0".
        raw = self.srv.raw(b"HEAD /empty HTTP/1.1\r\nHost: h\r\n"
                           b"Connection: close\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 200"), raw)
        self.assertNotIn(b"Content-Length", raw)

    def test_status_codes_without_body(self):
        for s in ("204 No Content", "304 Not Modified"):
            raw = self.srv.raw(("GET /status?s=%s HTTP/1.1\r\nHost: h\r\n"
                                "Connection: close\r\n\r\n"
                                % s.replace(" ", "%20")).encode())
            self.assertTrue(raw.startswith(b"HTTP/1.1 " + s[:3].encode()))
            self.assertTrue(raw.endswith(b"\r\n\r\n"), raw)
        st, r, body = self.srv.request("GET", "/status?s=418+Teapot")
        self.assertEqual((st, body), (418, b"body"))

    def test_reason_phrase_is_the_applications(self):
        for given, line in (("200 All good", b"200 All good"),
                            ("200 OK", b"200 OK"),
                            ("404", b"404 Not Found"),
                            ("503 Back soon", b"503 Back soon")):
            raw = self.srv.raw(("GET /status?s=%s HTTP/1.1\r\nHost: h\r\n"
                                "Connection: close\r\n\r\n"
                                % given.replace(" ", "%20")).encode())
            self.assertTrue(raw.startswith(b"HTTP/1.1 " + line + b"\r\n"),
                            raw)
        self.assert_500("/status?s=200+" + "x" * 257)

    def test_latin1_header_value(self):
        st, r, body = self.srv.request("GET", "/header-latin1-ok")
        self.assertEqual(r.getheader("X-Latin"), "caf\u00e9")

    def test_connection_close_from_the_application(self):
        raw = self.srv.raw(b"GET /connection-close HTTP/1.1\r\nHost: h\r\n"
                           b"\r\nGET /list HTTP/1.1\r\nHost: h\r\n\r\n")
        self.assertEqual(raw.count(b"HTTP/1.1 200"), 1, raw)
        self.assertIn(b"Connection: close", raw)

    def test_hop_by_hop_headers_are_the_servers(self):
        raw = self.srv.raw(b"GET /hop-by-hop HTTP/1.1\r\nHost: h\r\n"
                           b"Connection: close\r\n\r\n")
        head, body = raw.split(b"\r\n\r\n", 1)
        self.assertNotIn(b"Keep-Alive", head)
        self.assertNotIn(b"chunked", head)
        self.assertEqual(body, b"framed by the server")

    def test_pipelined_in_order(self):
        reqs = b"".join(b"GET /gen?n=%d HTTP/1.1\r\nHost: h\r\n\r\n" % (i % 3)
                        for i in range(16))
        raw = self.srv.raw(reqs + b"GET /list HTTP/1.1\r\nHost: h\r\n"
                           b"Connection: close\r\n\r\n")
        self.assertEqual(raw.count(b"HTTP/1.1 200 OK"), 17)
        self.assertTrue(raw.endswith(b"abc"))

    # -- errors: always a 500 or a cut body, never a split response -------
    def assert_500(self, path):
        raw = self.srv.raw(("GET %s HTTP/1.1\r\nHost: h\r\n\r\n"
                            % path).encode())
        self.assertTrue(raw.startswith(b"HTTP/1.1 500 "), (path, raw))
        self.assertNotIn(b"X-Injected", raw)
        self.assertNotIn(b"should not be sent", raw)
        self.assertEqual(raw.count(b"HTTP/1.1"), 1)

    def test_bad_headers_are_500(self):
        for path in ("/header-crlf", "/header-lf-name", "/header-latin1",
                     "/header-not-str"):
            self.assert_500(path)

    def test_bad_status_is_500(self):
        self.assert_500("/status-bad")
        self.assert_500("/status-1xx")

    def test_application_errors_are_500(self):
        for path in ("/no-start", "/raise", "/twice", "/not-bytes",
                     "/bytearray"):
            self.assert_500(path)
        self.assertTrue(self.srv.wait_log("raised before start_response"))
        self.assertTrue(self.srv.wait_log(r"Traceback \(most recent"))
        # The worker goes on.
        self.assertEqual(self.srv.request("GET", "/list")[2], b"abc")

    def test_error_before_the_second_item_is_500(self):
        # Nothing was sent yet: a clean 500 is still possible.
        self.assert_500("/raise-second")

    def test_error_midway_cuts_the_body(self):
        raw = self.srv.raw(b"GET /raise-after HTTP/1.1\r\nHost: h\r\n\r\n"
                           b"GET /list HTTP/1.1\r\nHost: h\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 200"), raw)
        self.assertIn(b"partial ", raw)
        self.assertFalse(chunked_complete(raw), raw)
        self.assertEqual(raw.count(b"HTTP/1.1"), 1)

    def test_exc_info_replaces_the_status(self):
        st, r, body = self.srv.request("GET", "/exc-info")
        self.assertEqual((st, body), (503, b"handled"))
        self.assertEqual(r.getheader("X-Handled"), "1")

    def test_exc_info_after_the_head_reraises(self):
        raw = self.srv.raw(b"GET /exc-info-late HTTP/1.1\r\nHost: h\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 200"), raw)
        self.assertIn(b"already sent", raw)
        self.assertFalse(chunked_complete(raw), raw)
        self.assertTrue(self.srv.wait_log("too late to change the status"))

    # -- close() ----------------------------------------------------------
    def closes(self, path):
        return json.loads(self.srv.request("GET", "/closed")[2]).get(path, 0)

    def test_close_is_called(self):
        before = self.closes("/closing")
        st, r, body = self.srv.request("GET", "/closing")
        self.assertEqual(body, b"one two")
        self.assertEqual(self.closes("/closing"), before + 1)

    def test_close_is_called_when_the_client_leaves(self):
        before = self.closes("/slow-closing")
        with socket.create_connection(("127.0.0.1", self.srv.port), 5) as s:
            s.sendall(b"GET /slow-closing HTTP/1.1\r\nHost: h\r\n\r\n")
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200"))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
        end = time.monotonic() + 10
        while self.closes("/slow-closing") == before and \
                time.monotonic() < end:
            time.sleep(0.05)
        self.assertEqual(self.closes("/slow-closing"), before + 1)

    # -- wsgi.file_wrapper, wsgi.errors -----------------------------------
    def test_file_wrapper(self):
        with open(rgtest.APPS + "/pep3333.py", "rb") as f:
            data = f.read()
        st, r, body = self.srv.request("GET", "/file")
        self.assertEqual(body, data)
        self.assertEqual(r.getheader("Content-Length"), str(len(data)))
        st, r, body = self.srv.request("GET", "/file?skip=100")
        self.assertEqual(body, data[100:])
        st, r, body = self.srv.request("GET", "/file-bytesio")
        self.assertEqual(body, b"from a BytesIO")

    def test_wsgi_errors_go_to_the_log(self):
        self.srv.request("GET", "/errors")
        self.assertTrue(self.srv.wait_log(r"\[error\] \d+#0: a line for "
                                          r"the error log"))
        self.assertTrue(self.srv.wait_log("second line"))

    # -- bad requests never reach the application -------------------------
    def test_bad_request_lines(self):
        for req in (b"GET /x%zz HTTP/1.1\r\nHost: h\r\n\r\n",
                    b"GET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: h\r\nBad Header\r\n\r\n",
                    b"\x00\x01\x02\r\n\r\n"):
            raw = self.srv.raw(req)
            self.assertTrue(raw.startswith(b"HTTP/1.1 400"), (req, raw))
        self.assertEqual(self.srv.request("GET", "/list")[2], b"abc")

    # -- cooperative waits ------------------------------------------------
    def test_sleep_does_not_block_the_worker(self):
        # 200 clients each waiting 100 ms on one worker: together about
        # 0.1 s; one after another they would take 20 s.
        n, results = 200, []
        lock = threading.Lock()

        def one():
            try:
                raw = self.srv.raw(b"GET /sleep?s=0.1 HTTP/1.1\r\nHost: h\r\n"
                                   b"Connection: close\r\n\r\n", timeout=30)
            except OSError as e:
                raw = repr(e).encode()
            with lock:
                results.append(raw.endswith(b"slept"))
        start = time.monotonic()
        threads = [threading.Thread(target=one) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.monotonic() - start
        self.assertEqual(results.count(True), n)
        self.assertLess(took, 5.0, "200 x 100 ms took %.1f s" % took)

    def test_upstream_socket(self):
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(64)
        port = lsock.getsockname()[1]

        def upstream():
            while True:
                try:
                    c, _ = lsock.accept()
                except OSError:
                    return
                threading.Thread(target=serve, args=(c,)).start()

        def serve(c):
            with c:
                c.recv(100)
                time.sleep(0.2)  # a slow upstream
                c.sendall(b"pong\n")
        threading.Thread(target=upstream, daemon=True).start()
        try:
            st, r, body = self.srv.request("GET", "/upstream?port=%d" % port)
            self.assertEqual((st, body), (200, b"upstream said pong\n"))
            # 50 handlers waiting on it at once: not 50 x 0.2 s.
            out = []
            start = time.monotonic()
            ts = [threading.Thread(target=lambda: out.append(
                self.srv.request("GET", "/upstream?port=%d" % port)[2]))
                for _ in range(50)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            self.assertEqual(out.count(b"upstream said pong\n"), 50)
            self.assertLess(time.monotonic() - start, 5.0)
            # A timeout shorter than the upstream's delay.
            st, r, body = self.srv.request(
                "GET", "/upstream?port=%d&t=0.05" % port)
            self.assertEqual(st, 504)
        finally:
            lsock.close()


class BehindProxy(unittest.TestCase):
    """REMOTE_ADDR and REMOTE_PORT are the client the balancer names, in
    its PROXY header (proxy_protocol = true) or in X-Forwarded-For from a
    trusted proxy, not the balancer's."""

    def test_remote_addr_from_the_proxy_header(self):
        srv = rgtest.Server("pep3333:app",
                            config="[server]\nproxy_protocol = true\n")
        try:
            for header, addr, port in (
                    (b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n",
                     "192.0.2.1", "56324"),
                    (b"PROXY TCP6 2001:db8::5 ::1 4000 80\r\n",
                     "2001:db8::5", "4000"),
                    (b"PROXY UNKNOWN\r\n", "127.0.0.1", None)):
                with socket.create_connection(("127.0.0.1", srv.port),
                                              10) as s:
                    s.sendall(header + b"GET /environ HTTP/1.1\r\n"
                              b"Host: x\r\nConnection: close\r\n\r\n")
                    raw = b""
                    while chunk := s.recv(65536):
                        raw += chunk
                head, _, body = raw.partition(b"\r\n\r\n")
                self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
                self.assertIn(b"content-length", head.lower())
                v = json.loads(body)["values"]
                self.assertEqual(v["REMOTE_ADDR"], addr)
                if port:
                    self.assertEqual(v["REMOTE_PORT"], port)
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_remote_addr_from_a_trusted_proxy(self):
        srv = rgtest.Server("pep3333:app", config=(
            '[server]\ntrusted_proxies = ["127.0.0.1", "10.0.0.0/8"]\n'))
        try:
            st, r, body = srv.request(
                "GET", "/environ",
                headers={"X-Forwarded-For": "1.1.1.1, 192.0.2.1, 10.0.0.2"})
            v = json.loads(body)["values"]
            self.assertEqual(v["REMOTE_ADDR"], "192.0.2.1")
            self.assertEqual(v["HTTP_X_FORWARDED_FOR"],
                             "1.1.1.1, 192.0.2.1, 10.0.0.2")
        finally:
            self.assertEqual(srv.stop(), 0)


rgtest.for_each_backend(_PEP3333, globals())

if __name__ == "__main__":
    unittest.main()
