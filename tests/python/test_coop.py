"""ringlet.patch(), black-box: blocking code (tests/python/apps/coopapp.py)
waits on real services started here on loopback (PostgreSQL, Redis, a
slow HTTP and HTTPS upstream, a slow DNS server) while its one worker
goes on serving: N concurrent waits of T each finish in about T, not
N x T, and a timer-driven request still answers on time. Also what the
patched calls keep of the standard behaviour (results, errors, timeouts,
certificate checks, outside a request), the bounded thread pool, and
`[python] patch = false` giving the blocking behaviour back."""

import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

import rgtest
import services


def fire(srv, paths, timeout=30):
    """Requests every path at once, each on its own connection; returns
    ([(status, decoded JSON)], seconds until the last answer)."""
    out = [None] * len(paths)

    def one(i):
        c = srv.conn(timeout)
        try:
            c.request("GET", paths[i])
            r = c.getresponse()
            body = r.read()
            out[i] = (r.status, json.loads(body) if r.status == 200
                      else body)
        except Exception as e:  # recorded, and fails the assertion
            out[i] = ("error", repr(e))
        finally:
            c.close()
    threads = [threading.Thread(target=one, args=(i,))
               for i in range(len(paths))]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out, time.monotonic() - start


def timed(srv, path):
    start = time.monotonic()
    st, _, body = srv.request("GET", path)
    return st, json.loads(body), time.monotonic() - start


class Checks(unittest.TestCase):
    def assert_all(self, results, expected):
        """Every request answered 200 with `expected`."""
        for r in results:
            self.assertEqual(r, (200, expected), results)


def start_service(cls, *args):
    try:
        svc = cls(*args)
        svc.start()
        return svc
    except services.Unavailable as e:
        return str(e)


class _Coop:
    """The tests on one worker with the default configuration: patched."""
    APP = "coopapp:app"

    @classmethod
    def setUpClass(cls):
        cls.svc = {}
        for name, make in (("pg", lambda: start_service(services.Postgres)),
                           ("redis", lambda: start_service(services.Redis)),
                           ("http", lambda: start_service(
                               services.HttpUpstream)),
                           ("https", lambda: start_service(
                               services.HttpUpstream, True))):
            cls.svc[name] = make()
        env = {}
        if not isinstance(cls.svc["pg"], str):
            env["RG_PG_DSN"] = cls.svc["pg"].dsn
        if not isinstance(cls.svc["redis"], str):
            env["RG_REDIS_URL"] = cls.svc["redis"].url
            env["RG_REDIS_UNIX"] = cls.svc["redis"].unix_path
        if not isinstance(cls.svc["http"], str):
            env["RG_UPSTREAM"] = cls.svc["http"].url
        if not isinstance(cls.svc["https"], str):
            env["RG_TLS_UPSTREAM"] = cls.svc["https"].url
            env["RG_CAFILE"] = cls.svc["https"].cafile
        try:
            cls.srv = rgtest.Server(cls.APP, io=cls.BACKEND, env=env)
        except Exception:
            cls.stop_services()
            raise

    @classmethod
    def stop_services(cls):
        for svc in cls.svc.values():
            if not isinstance(svc, str):
                svc.stop()

    @classmethod
    def tearDownClass(cls):
        try:
            rgtest.ServerTest.tearDownClass.__func__(cls)
        finally:
            cls.stop_services()

    def need(self, name):
        if isinstance(self.svc[name], str):
            self.skipTest(self.svc[name])

    # -- time.sleep, outside and inside a request ------------------------
    def test_import_time_calls_are_the_standard_ones(self):
        st, got, _ = timed(self.srv, "/import")
        self.assertEqual(got, {"slept": True, "resolved": True,
                               "in_thread": True, "patched": True})

    def test_sleeps_overlap(self):
        out, took = fire(self.srv, ["/sleep?ms=200"] * 50)
        self.assert_all(out, "slept")
        self.assertLess(took, 2.0)  # 10 s one after the other

    # -- PostgreSQL --------------------------------------------------------
    def test_postgres_pg_sleep_concurrently(self):
        self.need("pg")
        out, took = fire(self.srv, ["/pg?ms=100"] * 50)
        self.assert_all(out, 7)
        self.assertLess(took, 1.0)  # 5 s one after the other

    def test_postgres_rows_and_errors(self):
        self.need("pg")
        out, _ = fire(self.srv, ["/pg-sum"] * 4 + ["/pg-error"] * 4)
        self.assert_all(out[:4], [20000, 20000 * 20001 // 2])
        self.assert_all(out[4:], "DivisionByZero")

    def test_postgres_while_timer_runs(self):
        self.need("pg")
        slow = threading.Thread(target=fire,
                                args=(self.srv, ["/pg?ms=500"] * 20))
        slow.start()
        time.sleep(0.1)
        st, got, took = timed(self.srv, "/sleep?ms=50")
        slow.join()
        self.assertEqual((st, got), (200, "slept"))
        self.assertLess(took, 0.4)

    # -- Redis -------------------------------------------------------------
    def test_redis_blpop_timeouts_concurrently(self):
        self.need("redis")
        out, took = fire(self.srv, ["/redis?ms=200"] * 50)
        self.assert_all(out, None)
        self.assertLess(took, 1.5)  # 10 s one after the other

    def test_redis_over_a_unix_socket(self):
        self.need("redis")
        out, took = fire(self.srv, ["/redis?ms=200&unix=1"] * 30)
        self.assert_all(out, None)
        self.assertLess(took, 1.5)  # 6 s one after the other

    def test_redis_roundtrips(self):
        self.need("redis")
        out, _ = fire(self.srv, ["/redis-roundtrip?key=%d" % i
                                 for i in range(40)])
        self.assertEqual(out, [(200, "v-%d" % i) for i in range(40)])

    # -- HTTP and HTTPS upstreams -----------------------------------------
    def test_http_upstream_concurrently(self):
        self.need("http")
        out, took = fire(self.srv, ["/upstream?ms=200"] * 50)
        self.assert_all(out, [200, "slept 200"])
        self.assertLess(took, 1.5)

    def test_https_upstream_concurrently(self):
        self.need("https")
        out, took = fire(self.srv, ["/tls-upstream?ms=200"] * 30)
        self.assert_all(out, [200, "slept 200"])
        self.assertLess(took, 1.5)  # 6 s one after the other

    def test_https_certificate_still_checked(self):
        self.need("https")
        st, got, _ = timed(self.srv, "/tls-upstream?ms=0&noca=1")
        self.assertEqual(got, ["error", "SSLCertVerificationError"])

    def test_socket_timeout_kept(self):
        out, took = fire(self.srv, ["/recv-timeout?ms=200"] * 20)
        self.assert_all(out, "timed out")
        self.assertLess(took, 1.5)

    # -- select, poll, selectors -----------------------------------------
    def test_select_one_socket(self):
        out, took = fire(self.srv, ["/select?ms=200"] * 30)
        self.assert_all(out, [1, "x"])
        self.assertLess(took, 1.5)

    def test_select_several_sockets(self):
        out, took = fire(self.srv, ["/select-many?ms=100"] * 10)
        self.assert_all(out, [False, True, False])
        self.assertLess(took, 1.0)

    def test_selector_and_poll_timeouts(self):
        out, took = fire(self.srv, ["/selector?ms=200"] * 20 +
                         ["/poll-timeout?ms=200"] * 20)
        self.assert_all(out[:20], [0, ["a"]])
        self.assert_all(out[20:], [])
        self.assertLess(took, 1.5)

    # -- name lookups and the thread pool ---------------------------------
    def test_getaddrinfo_localhost_while_timer_runs(self):
        lookups = threading.Thread(
            target=lambda: self.__dict__.update(
                lookups=fire(self.srv, ["/resolve?host=localhost"] * 100)))
        lookups.start()
        st, got, took = timed(self.srv, "/sleep?ms=50")
        lookups.join()
        self.assertEqual((st, got), (200, "slept"))
        self.assertLess(took, 0.5)
        expected = sorted({ai[4][0] for ai in socket.getaddrinfo(
            "localhost", 80, 0, socket.SOCK_STREAM)})
        self.assert_all(self.lookups[0], expected)

    def test_numeric_addresses(self):
        out, _ = fire(self.srv, ["/resolve?host=127.0.0.2",
                                 "/resolve?host=::1", "/by-name?host=10.1.2.3"])
        self.assertEqual(out, [(200, ["127.0.0.2"]), (200, ["::1"]),
                               (200, "10.1.2.3")])

    def test_run_in_thread(self):
        out, took = fire(self.srv, ["/thread?ms=200"] * 10)
        for st, name in out:
            self.assertEqual(st, 200)
            self.assertRegex(name, r"^ringlet-pool-\d$")
        self.assertLess(took, 1.0)  # 10 threads: one round
        st, got, _ = timed(self.srv, "/thread-error")
        self.assertEqual(got, "from the pool")

    # -- threading.local ---------------------------------------------------
    def test_threading_local_is_per_request(self):
        out, took = fire(self.srv, ["/local?ms=100&id=%d" % i
                                    for i in range(20)])
        threads = set()
        for i, (st, got) in enumerate(out):
            self.assertEqual(st, 200, out)
            self.assertEqual(got["id"], str(i), out)
            self.assertEqual(got["last"], str(i), out)
            self.assertEqual(got["start"], 10, got)  # __init__ run again
            self.assertEqual(got["keys"], ["id"], got)
            self.assertEqual(got["in_thread"][:2], [None, 10], got)
            self.assertRegex(got["in_thread"][2], r"^ringlet-pool-\d$")
            self.assertEqual(got["class"], "ringlet._local", got)
            # A thread of its own to threading, hence to asgiref's Local
            # (Django's connections), kept across the wait.
            name, ident, same = got["thread"]
            self.assertTrue(same, got)
            self.assertNotEqual(name, "MainThread", got)
            threads.add((name, ident))
            if got["asgiref"] is not None:
                self.assertEqual(got["asgiref"], str(i), out)
        self.assertEqual(len(threads), 20, out)
        self.assertLess(took, 1.0)  # the 20 waits overlapped

    # -- threading's locks, and what is built on them ----------------------
    def fire_with_sleep(self, paths):
        """Fires paths at once, and a 10 ms sleep request a little later:
        (results, seconds the sleep took)."""
        slept = []
        t = threading.Thread(target=lambda: (
            time.sleep(0.05), slept.append(timed(self.srv, "/sleep?ms=10"))))
        t.start()
        out, _ = fire(self.srv, paths)
        t.join()
        return out, slept[0][2]

    def test_lock_held_across_a_wait(self):
        for kind in ("lock", "rlock"):
            start = time.monotonic()
            out, sleep_took = self.fire_with_sleep(
                ["/locked?ms=50&kind=" + kind] * 10)
            took = time.monotonic() - start
            for st, most in out:
                self.assertEqual(st, 200, out)
                self.assertEqual(most, 1, out)  # one inside at a time
            self.assertGreaterEqual(took, 0.5, kind)  # 10 x 50 ms
            self.assertLess(sleep_took, 0.4, kind)  # the worker went on

    def test_lock_acquire_times_out(self):
        got = []
        t = threading.Thread(target=lambda: got.append(
            timed(self.srv, "/locked?ms=400")))
        t.start()
        time.sleep(0.1)  # the lock taken
        st, early, took = timed(self.srv, "/lock-timeout?ms=100")
        t.join()
        self.assertEqual((st, early), (200, False))
        self.assertGreaterEqual(took, 0.1)
        self.assertLess(took, 0.3)  # not until the holder let go
        self.assertEqual(got[0][:2], (200, 1))
        self.assertEqual(timed(self.srv, "/lock-timeout?ms=100")[1], True)

    def test_queue_and_event_between_requests(self):
        got = []
        t = threading.Thread(target=lambda: got.append(
            fire(self.srv, ["/queue-get?ms=2000", "/event-wait?ms=2000"])))
        t.start()
        time.sleep(0.2)
        self.assertEqual(timed(self.srv, "/queue-put?v=x")[1], "put")
        self.assertEqual(timed(self.srv, "/event-set")[1], "set")
        t.join()
        self.assertEqual(got[0][0], [(200, "x"), (200, True)])
        self.assertLess(got[0][1], 1.5)
        self.assertEqual(timed(self.srv, "/queue-get?ms=50")[1], "empty")

    def test_lock_held_by_a_thread(self):
        out, sleep_took = self.fire_with_sleep(["/thread-held?ms=300"])
        self.assertEqual(out[0][0], 200, out)
        self.assertGreaterEqual(out[0][1], 0.25, out)
        self.assertLess(sleep_took, 0.25)


rgtest.for_each_backend(_Coop, globals(), Checks)


class BoundedPool(rgtest.ServerTest, Checks):
    """`[python] threads = 2`: ten 100 ms calls take five rounds."""
    APP = "coopapp:app"
    CONFIG = "[python]\nthreads = 2\n"

    def test_pool_is_bounded(self):
        out, took = fire(self.srv, ["/thread?ms=100"] * 10)
        names = {name for st, name in out}
        self.assertEqual(names, {"ringlet-pool-0", "ringlet-pool-1"})
        self.assertGreaterEqual(took, 0.5)


class Unpatched(rgtest.ServerTest, Checks):
    """`[python] patch = false`: the standard library blocks the worker,
    as under gunicorn's sync workers (the contrast the tests above
    rely on)."""
    APP = "coopapp:app"
    CONFIG = "[python]\npatch = false\n"

    def test_threading_local_is_the_standard_one(self):
        st, got, _ = timed(self.srv, "/local?ms=0&id=1")
        self.assertEqual(got["class"], "_thread")
        self.assertEqual(got["thread"][0], "MainThread")

    def test_sleeps_run_one_after_the_other(self):
        out, took = fire(self.srv, ["/sleep?ms=100"] * 5)
        self.assert_all(out, "slept")
        self.assertGreaterEqual(took, 0.5)
        st, got, _ = timed(self.srv, "/import")
        self.assertFalse(got["patched"])


class SlowDns:
    """A DNS server on 127.0.0.77:53 answering every A query with
    127.0.0.1 (and AAAA with nothing) after `delay` seconds."""
    ADDR = ("127.0.0.77", 53)

    def __init__(self, delay):
        self.delay = delay
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(self.ADDR)
        self.queries = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                q, peer = self.sock.recvfrom(512)
            except OSError:
                return  # closed
            self.queries += 1
            threading.Timer(self.delay, self.answer, (q, peer)).start()

    def answer(self, q, peer):
        end = 12
        while q[end]:
            end += q[end] + 1
        qtype = struct.unpack("!H", q[end + 1:end + 3])[0]
        question = q[12:end + 5]
        a = qtype == 1
        reply = q[:2] + struct.pack("!HHHHH", 0x8180, 1, int(a), 0, 0) + \
            question
        if a:
            reply += struct.pack("!HHHIH4s", 0xC00C, 1, 1, 60, 4,
                                 socket.inet_aton("127.0.0.1"))
        try:
            self.sock.sendto(reply, peer)
        except OSError:
            pass

    def close(self):
        self.sock.close()


class SlowNameServer(Checks):
    """Name lookups that really go to a DNS server answering 200 ms late
    (the worker runs in its own mount namespace, where /etc/resolv.conf
    names 127.0.0.77): 100 lookups on one worker while a 50 ms request
    still answers on time."""

    @classmethod
    def setUpClass(cls):
        if not shutil.which("unshare") or subprocess.run(
                ["unshare", "-m", "true"], capture_output=True).returncode:
            raise unittest.SkipTest("no mount namespace here (unshare -m)")
        conf = os.path.join(tempfile.mkdtemp(dir=rgtest.TMP), "resolv.conf")
        with open(conf, "w") as f:
            f.write("nameserver %s\noptions timeout:5 attempts:1\n"
                    % SlowDns.ADDR[0])
        try:
            cls.dns = SlowDns(0.2)
        except OSError as e:
            raise unittest.SkipTest("cannot serve DNS on %s:%d: %s"
                                    % (SlowDns.ADDR + (e,)))
        prefix = ["unshare", "-m", "sh", "-c",
                  'mount --bind "$0" /etc/resolv.conf && exec "$@"', conf]
        cls.srv = rgtest.Server("coopapp:app", prefix=prefix)

    @classmethod
    def tearDownClass(cls):
        try:
            rgtest.ServerTest.tearDownClass.__func__(cls)
        finally:
            cls.dns.close()

    def test_lookups_wait_on_the_pool(self):
        lookups = threading.Thread(
            target=lambda: self.__dict__.update(
                lookups=fire(self.srv, ["/resolve?host=slow.ringlet.test"]
                             * 100)))
        lookups.start()
        time.sleep(0.1)
        st, got, took = timed(self.srv, "/sleep?ms=50")
        lookups.join()
        self.assertEqual((st, got), (200, "slept"))
        self.assertLess(took, 0.5)  # not behind 100 x 200 ms of lookups
        out, took = self.lookups
        self.assertEqual(out, [(200, ["127.0.0.1"])] * 100)
        self.assertGreaterEqual(self.dns.queries, 100)
        self.assertLess(took, 10)  # ten threads: ten rounds, not 100


if __name__ == "__main__":
    unittest.main()
