"""Several ringlet machines behind a load balancer, black-box: three
nodes (the C `ringlet` binary, one worker each, on three ports of
127.0.0.1) behind Debian's HAProxy (PROXY protocol version 2, health
checks of /healthz, L7 retries, redispatch) and, the same scenarios
again, behind Debian's nginx (X-Forwarded-For from a trusted address,
passive health: the next node on an error). The nodes mix the io
backends so that each scenario runs on both. wrk loads the balancer
while one node stops gracefully (SIGTERM: drain, then stop), one is
killed with its workers (SIGKILL to its process group) and started
again on its port, and one reloads (SIGHUP). Counted from wrk: failed
requests (socket errors and non-2xx answers), none for the stop and the
reload; for the kill, at most the requests in flight on that node (the
figure is printed). The nodes' access logs name the real client (a
request sent from 127.0.0.2), not the balancer's address (127.0.0.3).
Skips, saying why, where haproxy, nginx or wrk is not installed."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import unittest

import rgtest
import services

NODES = 3
CONNECTIONS = 16
# The balancer's health checks (inter 200ms fall 2) see a draining node
# within 0.4 s; the drain lasts longer than that, as docs/configuration.md
# advises.
DRAIN = "1s"
CLIENT = "127.0.0.2"


class Wrk:
    """wrk -t1 -c CONNECTIONS -d SECONDS on GET /plaintext, started at
    once; result() waits for it and returns (requests, failures, text)."""

    def __init__(self, port, seconds):
        wrk = shutil.which("wrk")
        self.proc = subprocess.Popen(
            [wrk, "-t1", "-c%d" % CONNECTIONS, "-d%ds" % seconds,
             "--timeout", "5s", "http://127.0.0.1:%d/plaintext" % port],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=rgtest.child_env())
        self.seconds = seconds

    def result(self):
        out, _ = self.proc.communicate(timeout=self.seconds + 30)
        assert self.proc.returncode == 0, out
        m = re.search(r"(\d+) requests in", out)
        assert m, out
        failed = 0
        e = re.search(r"Socket errors: connect (\d+), read (\d+), write "
                      r"(\d+), timeout (\d+)", out)
        if e:
            failed += sum(int(x) for x in e.groups())
        n = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if n:
            failed += int(n.group(1))
        return int(m.group(1)), failed, out


def node_healthy(node):
    """Its log says nothing a sanitizer or a crash would."""
    text = node.text()
    for bad in ("killed by signal", "ERROR: AddressSanitizer",
                "runtime error:"):
        assert bad not in text, text


class _Fleet:
    """The scenarios, for a BALANCER (services.Haproxy or Nginx) and the
    nodes' NODE_CONFIG. Each test starts and ends with every node up."""
    BALANCER = None
    NODE_CONFIG = None
    IO = ()  # each node's io backend, io_uring where it is available

    @classmethod
    def setUpClass(cls):
        for program, package in (("wrk", "wrk"),) + cls.NEEDS:
            if shutil.which(program) is None:
                raise unittest.SkipTest("%s not found (Debian package %s)"
                                        % (program, package))
        if not os.access(rgtest.BIN, os.X_OK):
            raise unittest.SkipTest("no ringlet binary at %s" % rgtest.BIN)
        cls.nodes = [cls.node(i) for i in range(NODES)]
        cls.lb = cls.BALANCER([n.port for n in cls.nodes]).start()
        cls.wait_all_up()

    @classmethod
    def tearDownClass(cls):
        cls.lb.stop()
        for n in cls.nodes:
            if n.proc.poll() is None:
                assert n.stop() == 0, n.text()
            node_healthy(n)

    @classmethod
    def node(cls, i, port=None):
        io = cls.IO[i] if "io_uring" in rgtest.BACKENDS else "epoll"
        return rgtest.Ringlet(config=cls.NODE_CONFIG, port=port, io=io,
                              session=True)

    @classmethod
    def wait_all_up(cls, timeout=20):
        end = time.monotonic() + timeout
        while cls.up() != set(range(1, NODES + 1)):
            assert time.monotonic() < end, "nodes up: %r" % cls.up()
            time.sleep(0.1)

    def restart(self, i):
        """Node i (0-based) started again on its port, and back in the
        balancer's rotation."""
        self.nodes[i] = self.node(i, self.nodes[i].port)
        self.wait_all_up()

    def through_balancer(self, path, headers=None):
        """GET path through the balancer from CLIENT: (status, body)."""
        c = socket.create_connection(("127.0.0.1", self.lb.port), 10,
                                     source_address=(CLIENT, 0))
        head = "GET %s HTTP/1.1\r\nHost: fleet\r\nConnection: close\r\n" % path
        for k, v in (headers or {}).items():
            head += "%s: %s\r\n" % (k, v)
        c.sendall((head + "\r\n").encode())
        out = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            out += b
        c.close()
        status = int(out.split(b" ", 2)[1]) if out else 0
        return status, out

    def access_lines(self, node):
        path = os.path.join(node.dir, "access.log")
        if not os.path.exists(path):
            return []
        with open(path, errors="replace") as f:
            return f.read().splitlines()

    def test_1_graceful_stop(self):
        """SIGTERM to a node under load: its health check fails, the
        balancer takes it out while it still answers, then it stops; no
        request fails. Started again, it is back in rotation and serves
        before the load ends."""
        load = Wrk(self.lb.port, 8)
        time.sleep(2)
        node = self.nodes[0]
        t0 = time.monotonic()
        self.assertEqual(node.stop(), 0, node.text())
        stopped_in = time.monotonic() - t0
        node_healthy(node)
        self.restart(0)
        requests, failed, out = load.result()
        print("\n%s graceful stop: %d requests, %d failed; the node "
              "stopped %.1f s after SIGTERM" % (
                  self.BALANCER.__name__, requests, failed, stopped_in))
        self.assertGreater(requests, 1000, out)
        self.assertEqual(failed, 0, out)
        self.assertGreaterEqual(stopped_in, 0.9)  # it drained first
        self.assertServes(0)

    def test_2_kill_and_restart(self):
        """SIGKILL to a node's master and worker under load (a machine
        lost): at most the requests in flight on it fail (the balancer
        retries most of them); started again, it is back in rotation and
        serves."""
        load = Wrk(self.lb.port, 8)
        time.sleep(2)
        node = self.nodes[1]
        os.killpg(node.proc.pid, signal.SIGKILL)
        node.proc.wait()
        node.logfile.close()
        time.sleep(1)
        self.restart(1)
        requests, failed, out = load.result()
        print("\n%s kill and restart: %d requests, %d failed (in flight "
              "on the killed node: at most %d)" % (
                  self.BALANCER.__name__, requests, failed, CONNECTIONS))
        self.assertGreater(requests, 1000, out)
        self.assertLessEqual(failed, CONNECTIONS, out)
        self.assertServes(1)

    def assertServes(self, i):
        """Node i, started again during the load, served some of it (its
        access log is flushed within a second)."""
        end = time.monotonic() + 3
        while not self.access_lines(self.nodes[i]):
            self.assertLess(time.monotonic(), end, "node %d got no "
                            "request after its restart" % (i + 1))
            time.sleep(0.1)

    def test_3_reload(self):
        """SIGHUP to a node under load: new workers take over while the
        old ones finish; no request fails, and the worker changed."""
        node = self.nodes[2]
        old = self.worker_pids(node)
        load = Wrk(self.lb.port, 6)
        time.sleep(2)
        node.kill(signal.SIGHUP)
        self.assertTrue(node.wait_log(r"reload"), node.text())
        requests, failed, out = load.result()
        print("\n%s reload: %d requests, %d failed" % (
            self.BALANCER.__name__, requests, failed))
        self.assertGreater(requests, 1000, out)
        self.assertEqual(failed, 0, out)
        new = self.worker_pids(node)
        self.assertTrue(new and not new & old, (old, new))

    def test_4_real_client(self):
        """A request from 127.0.0.2, with a forged X-Forwarded-For, is
        logged by the node that served it as from 127.0.0.2: the address
        the balancer passed on (PROXY header or trusted X-Forwarded-For),
        not the balancer's own (127.0.0.3) nor the forged one."""
        probe = "/plaintext?probe=%d" % os.getpid()
        status, out = self.through_balancer(
            probe, {"X-Forwarded-For": "203.0.113.9"})
        self.assertEqual(status, 200, out)
        end = time.monotonic() + 5
        while True:
            lines = [l for n in self.nodes for l in self.access_lines(n)
                     if probe in l]
            if lines or time.monotonic() > end:
                break
            time.sleep(0.1)
        self.assertEqual(len(lines), 1, lines)
        self.assertTrue(lines[0].startswith(CLIENT + " "), lines[0])
        # The wrk requests came from 127.0.0.1 and are logged so.
        clients = {l.split(" ", 1)[0] for n in self.nodes
                   for l in self.access_lines(n) if "/plaintext" in l}
        self.assertLessEqual(clients, {"127.0.0.1", CLIENT}, clients)
        self.assertIn("127.0.0.1", clients)

    @staticmethod
    def worker_pids(node):
        return set(services.children(node.proc.pid))


NODE_LOG = """
[log]
access_log = "{dir}/access.log"
"""


class Haproxy(_Fleet, unittest.TestCase):
    BALANCER = services.Haproxy
    IO = ("epoll", "io_uring", "epoll")
    NEEDS = (("haproxy", "haproxy"),)
    NODE_CONFIG = """
[server]
proxy_protocol = true
drain_delay = "%s"
""" % DRAIN + NODE_LOG

    @classmethod
    def up(cls):
        return cls.lb.up()


class Nginx(_Fleet, unittest.TestCase):
    BALANCER = services.Nginx
    IO = ("io_uring", "epoll", "io_uring")
    NEEDS = (("nginx", "nginx-light"),)
    NODE_CONFIG = """
[server]
trusted_proxies = ["%s/32"]
drain_delay = "%s"
""" % (services.Balancer.source, DRAIN) + NODE_LOG

    @classmethod
    def up(cls):
        """Nodes that answer directly (nginx has no health checks of its
        own: it learns from the failures it sees)."""
        found = set()
        for i, n in enumerate(cls.nodes):
            try:
                st, _, _ = n.get("/healthz")
            except OSError:
                continue
            if st == 200:
                found.add(i + 1)
        return found


if __name__ == "__main__":
    unittest.main()
