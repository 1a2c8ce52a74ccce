"""The Python front's operations, black-box: the command line (-t, usage
errors, MODULE:CALLABLE forms), the [python] table, the library's master
and its signals (TERM graceful, QUIT, HUP re-importing the application,
USR1 reopening the logs), --preload with gc.freeze, gc_threshold, several
workers, the greenlet cap, /stats and the access log."""

import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import rgtest

ENV = dict(os.environ,
           PYTHONPATH=rgtest.APPS + ":" + os.environ.get("PYTHONPATH", ""))


def run_cli(*args, config=None):
    """python3 -m ringlet ARGS, expected to exit by itself."""
    cmd = [rgtest.PYTHON, "-m", "ringlet"] + list(args)
    if config is not None:
        d = tempfile.mkdtemp(dir=rgtest.TMP)
        path = os.path.join(d, "ringlet.toml")
        with open(path, "w") as f:
            f.write(config)
        cmd[3:3] = ["-c", path]
    return subprocess.run(cmd, cwd=rgtest.APPS, env=ENV, capture_output=True,
                          text=True, timeout=60)


def get(srv, path="/"):
    st, r, body = srv.request("GET", path)
    return st, json.loads(body) if st == 200 else body


class CommandLine(unittest.TestCase):
    def test_check_ok(self):
        r = run_cli("-t", "opsapp:app")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration (embedded) is ok, opsapp:app loads",
                      r.stderr)

    def test_check_application_forms(self):
        for spec in ("opsapp", "opsapp:app", "opsapp:factory()"):
            r = run_cli("-t", spec)
            self.assertEqual(r.returncode, 0, (spec, r.stderr))
        for spec, why in (("opsapp:nothing", "AttributeError"),
                          ("opsapp:broken_by_design", "not callable"),
                          ("no_such_module:app", "ModuleNotFoundError"),
                          ("broken_import:app", "broken on purpose")):
            r = run_cli("-t", spec)
            self.assertEqual(r.returncode, 1, spec)
            self.assertIn(why, r.stderr)

    def test_usage_errors(self):
        for args, why in (
                (["-p", "70000", "opsapp:app"], "-p wants an integer"),
                (["-p", "x", "opsapp:app"], "-p wants an integer"),
                (["-w", "0", "opsapp:app"], "-w wants an integer"),
                (["--io", "kqueue", "opsapp:app"], "--io wants one of"),
                (["--max-connections=0", "opsapp:app"],
                 "--max-connections wants"),
                (["--bogus"], "unrecognized arguments: --bogus"),
                (["-t", "opsapp:app", "extra"], "unrecognized arguments"),
                (["-t", "--test=1", "opsapp:app"], "--test takes no value"),
                (["opsapp:app", "-c"], "-c needs a value"),
                ([], "no application")):
            r = run_cli(*args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn("usage: python3 -m ringlet", r.stderr)
            self.assertIn(why, r.stderr)

    def test_flag_forms(self):
        """-p 8080, -p8080, --port=8080 and --port 8080 alike; -- before
        an application whose name starts with a dash; -h and -V."""
        for args in (["-p", "80"], ["-p80"], ["--port=80"],
                     ["--port", "80"], ["--"]):
            r = run_cli("-t", *args, "opsapp:app")
            self.assertEqual(r.returncode, 0, (args, r.stderr))
        r = run_cli("-h")
        self.assertEqual(r.returncode, 0)
        self.assertIn("MODULE:CALLABLE", r.stdout)
        self.assertIn("--max-connections N", r.stdout)
        r = run_cli("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^ringlet \d+\.\d+")

    def test_worker_imports_little(self):
        """What the command line, the settings and ringlet.patch() cost a
        worker whose application opens no socket: neither argparse nor
        dataclasses (and what they import), nor socket, threading or
        queue (patched or started when first used) is loaded."""
        r = run_cli("-t", "opsapp:app", "-c", "/dev/null")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run(
            [rgtest.PYTHON, "-c", "import sys, runpy; sys.argv = "
             "['ringlet', '-t', 'opsapp:app']\ntry:\n runpy.run_module("
             "'ringlet', run_name='__main__')\nexcept SystemExit:\n pass\n"
             "print(sorted(m for m in ('argparse', 'dataclasses', "
             "'inspect', 'shutil', 'socket', 'threading', 'queue') "
             "if m in sys.modules))"],
            cwd=rgtest.APPS, env=ENV, capture_output=True, text=True,
            timeout=60)
        self.assertEqual(r.stdout.strip(), "[]", r.stderr)

    def test_python_table(self):
        r = run_cli("-t", config='[python]\napp = "opsapp:app"\n'
                    'gc_threshold = ["500", "5"]\nmax_greenlets = 10\n'
                    'preload = true\npatch = false\n'
                    'threads = 4\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        bad = {
            '[python]\nworkers = 3\n': ":2: unknown key 'workers' in "
                                        "[python]",
            '[python]\nmax_greenlets = 0\n': ":2: max_greenlets must be "
                                             "between",
            '[python]\npreload = "yes"\n': ":2: preload must be a boolean",
            '[python]\ngc_threshold = ["a"]\n': ":2: gc_threshold: 'a'",
            '[status]\nstats_path = "stats"\n': ":2: stats_path must start",
            '[python]\nstats_path = "/s"\n': ":2: unknown key 'stats_path'",
            '[python]\npatch = 1\n': ":2: patch must be a boolean",
            '[python]\nthreads = 0\n': ":2: threads must be between",
            '[python]\nthreads = 2000\n': ":2: threads must be between",
            '[python]\napp = "a:b"\napp = "c:d"\n': ":3: duplicate key 'app'",
        }
        for text, message in bad.items():
            r = run_cli("-t", "opsapp:app", config=text)
            self.assertEqual(r.returncode, 1, text)
            self.assertIn(message, r.stderr, text)

    def test_no_application(self):
        r = run_cli("-t")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no application", r.stderr)

    def test_worker_that_cannot_import(self):
        srv = rgtest.Server("broken_import:app", wait=False)
        try:
            srv.proc.wait(30)
        finally:
            srv.stop()
        self.assertEqual(srv.proc.returncode, 1)
        self.assertIn("broken on purpose", srv.text())


class Master(unittest.TestCase):
    def test_preload_and_gc(self):
        cfg = '[python]\ngc_threshold = ["500", "5", "4"]\n'
        srv = rgtest.Server("opsapp:app", "--preload", config=cfg)
        try:
            st, v = get(srv)
            self.assertEqual(v["imported_by"], v["ppid"])  # the master
            self.assertNotEqual(v["imported_by"], v["pid"])
            self.assertGreater(v["gc_frozen"], 0)
            self.assertEqual(v["gc_threshold"], [500, 5, 4])
        finally:
            self.assertEqual(srv.stop(), 0)
        srv = rgtest.Server("opsapp:app")
        try:
            st, v = get(srv)
            self.assertEqual(v["imported_by"], v["pid"])  # the worker
            self.assertEqual(v["gc_frozen"], 0)
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_hup_imports_afresh(self):
        d = tempfile.mkdtemp(dir=rgtest.TMP)
        vf = os.path.join(d, "version")
        with open(vf, "w") as f:
            f.write("one")
        srv = rgtest.Server("opsapp:app",
                            env={"RG_TEST_VERSION_FILE": vf})
        try:
            st, v = get(srv)
            self.assertEqual(v["version"], "one")
            old = v["pid"]
            with open(vf, "w") as f:
                f.write("two")
            srv.kill(signal.SIGHUP)
            self.assertTrue(srv.wait_log("reloaded"), srv.text())
            end = time.monotonic() + 10
            while time.monotonic() < end:
                st, v = get(srv)
                if v["version"] == "two":
                    break
                time.sleep(0.05)
            self.assertEqual(v["version"], "two")
            self.assertNotEqual(v["pid"], old)
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_term_lets_requests_finish(self):
        srv = rgtest.Server("opsapp:app")
        out = []
        t = threading.Thread(target=lambda: out.append(
            srv.request("GET", "/sleep?0.5")[0]))
        t.start()
        time.sleep(0.2)
        status = srv.stop(signal.SIGTERM)
        t.join()
        self.assertEqual(out, [200])
        self.assertEqual(status, 0)

    def test_quit_stops_at_once(self):
        srv = rgtest.Server("opsapp:app")
        start = time.monotonic()
        self.assertEqual(srv.stop(signal.SIGQUIT), 0)
        self.assertLess(time.monotonic() - start, 5)

    def test_usr1_reopens_the_logs(self):
        d = tempfile.mkdtemp(dir=rgtest.TMP)
        log, alog = os.path.join(d, "err.log"), os.path.join(d, "acc.log")
        cfg = '[log]\nerror_log = "%s"\naccess_log = "%s"\n' % (log, alog)
        srv = rgtest.Server("opsapp:app", config=cfg)
        try:
            self.assertEqual(get(srv, "/a")[0], 200)
            os.rename(alog, alog + ".1")
            os.rename(log, log + ".1")
            srv.kill(signal.SIGUSR1)
            end = time.monotonic() + 10
            while not os.path.exists(alog) and time.monotonic() < end:
                get(srv, "/b")
                time.sleep(0.05)
            get(srv, "/c")
        finally:
            self.assertEqual(srv.stop(), 0)
        with open(alog + ".1") as f:
            first = f.read()
        self.assertRegex(first, r'127\.0\.0\.1 - - \[.*\] "GET /a HTTP/1.1" '
                         r'200 \d+')
        with open(alog) as f:
            self.assertIn('"GET /c HTTP/1.1" 200', f.read())
        self.assertTrue(os.path.exists(log))

    def test_several_workers(self):
        srv = rgtest.Server("opsapp:app", workers=2)
        try:
            pids = set()
            end = time.monotonic() + 10
            while len(pids) < 2 and time.monotonic() < end:
                pids.add(get(srv)[1]["pid"])
            self.assertEqual(len(pids), 2)
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_greenlet_cap(self):
        srv = rgtest.Server("opsapp:app",
                            config="[python]\nmax_greenlets = 2\n")
        try:
            out = []
            ts = [threading.Thread(target=lambda: out.append(
                srv.request("GET", "/sleep?0.5")[0])) for _ in range(3)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            self.assertEqual(sorted(out), [200, 200, 503])
            self.assertEqual(get(srv)[0], 200)
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_stats_access(self):
        """[status] allow: loopback by default; a client from 127.0.0.2
        gets 403 on /_ringlet/stats, /_ringlet/metrics and
        /_ringlet/status (the application never sees it) until it is
        allowed."""
        def status_from(srv, source):
            codes = set()
            for path in (b"/_ringlet/stats", b"/_ringlet/metrics",
                         b"/_ringlet/status"):
                with socket.create_connection(("127.0.0.1", srv.port), 10,
                                              (source, 0)) as s:
                    s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n"
                              b"Connection: close\r\n\r\n")
                    codes.add(int(s.makefile("rb").readline().split()[1]))
            self.assertEqual(len(codes), 1, codes)
            return codes.pop()
        for config, want in (
                (None, {"127.0.0.1": 200, "127.0.0.2": 403}),
                ('[status]\nallow = ["127.0.0.2"]\n',
                 {"127.0.0.1": 403, "127.0.0.2": 200}),
                ('[status]\nallow = ["0.0.0.0/0"]\n',
                 {"127.0.0.1": 200, "127.0.0.2": 200}),
                ('[status]\nallow = []\n',
                 {"127.0.0.1": 403, "127.0.0.2": 403})):
            srv = rgtest.Server("opsapp:app", config=config)
            try:
                got = {ip: status_from(srv, ip) for ip in want}
                self.assertEqual(got, want, config)
                self.assertEqual(get(srv)[0], 200)  # the application's
            finally:
                self.assertEqual(srv.stop(), 0)

    def test_stats(self):
        srv = rgtest.Server("opsapp:app")
        try:
            for _ in range(5):
                get(srv)
            for path in ("/stats", "/metrics", "/status"):
                self.assertEqual(get(srv, path)[1]["path"], path)
            st, r, body = srv.request("GET", "/_ringlet/stats")
            self.assertEqual(st, 200)
            s = json.loads(body)
            self.assertGreater(s["memory"]["rss"], 0)
            py = s["python"]
            self.assertGreaterEqual(py["wsgi_calls"], 5)
            self.assertEqual(py["app_errors"], 0)
            self.assertEqual(py["greenlets_in_use"], 1)  # this request
            self.assertGreaterEqual(py["greenlets_high_water"], 1)
            self.assertEqual(py["greenlets_max"], 1024)
            self.assertGreater(py["allocated_blocks"], 1000)
            self.assertEqual(s["workers"][0]["python"]["wsgi_calls"],
                             py["wsgi_calls"])
            # The collector, timed by gc.callbacks.
            st, v = get(srv, "/gc")
            s = json.loads(srv.request("GET", "/_ringlet/stats")[2])["python"]
            self.assertGreaterEqual(s["gc_collections_gen2"], 1)
            self.assertGreater(s["gc_pause_total_us"], 0)
            self.assertGreaterEqual(s["gc_pause_total_us"],
                                    s["gc_pause_longest_us"])
        finally:
            self.assertEqual(srv.stop(), 0)
        # /stats, /metrics and /status are the application's, and so are
        # ringlet's own paths once turned off.
        srv = rgtest.Server("opsapp:app",
                            config='[status]\nstats_path = "off"\n'
                                   'metrics_path = "off"\n'
                                   'page_path = "off"\n')
        try:
            for path in ("/stats", "/metrics", "/status", "/_ringlet/stats",
                         "/_ringlet/metrics", "/_ringlet/status"):
                st, v = get(srv, path)
                self.assertEqual(v["path"], path)
        finally:
            self.assertEqual(srv.stop(), 0)


if __name__ == "__main__":
    unittest.main()
