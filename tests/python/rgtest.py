"""What the Python front's black-box tests share: a real
`python3 -m ringlet` started on a free loopback port with one of the
test applications (tests/python/apps), or the C `ringlet` binary of the
same build (Ringlet), its error log, and small HTTP clients over real
sockets (http.client, raw sockets for what http.client will not send)."""

import atexit
import http.client
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

PYTHON = os.environ.get("RG_PYTHON", "/usr/bin/python3")
FLAVOUR = os.environ.get("RG_FLAVOUR", "release")
APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps")
SHARED = os.environ.get("RG_SHARED_DIR", "")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("RG_BUILD") or os.path.join(
    REPO, {"release": "build", "debug": "build/debug",
           "asan": "build/asan"}.get(FLAVOUR, "build"))
BIN = os.environ.get("RG_RINGLET_BIN") or os.path.join(BUILD, "ringlet")

# Every server's directory (configuration, error log) is in this one,
# removed when the test program exits.
TMP = tempfile.mkdtemp(prefix="ringlet-py-")
atexit.register(shutil.rmtree, TMP, True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def uring_available():
    """io_uring with what the backend needs (multishot receive: Linux 6.0),
    and not forbidden here (containers often refuse io_uring_setup)."""
    major, minor = (int(x) for x in
                    re.match(r"(\d+)\.(\d+)", platform.release()).groups())
    if (major, minor) < (6, 0):
        return False
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)
    fd = libc.syscall(425, 1, params)  # io_uring_setup (x86-64, aarch64)
    if fd < 0:
        return False
    os.close(fd)
    return True


BACKENDS = ["epoll"] + (["io_uring"] if uring_available() else [])


class Server:
    """python3 -m ringlet APP on 127.0.0.1, one worker unless told; the
    command after `prefix` (a wrapper such as unshare) if given."""

    def __init__(self, app, *args, io="epoll", config=None, workers=1,
                 env=None, wait=True, prefix=()):
        e = dict(os.environ)
        e["PYTHONPATH"] = APPS + ":" + e.get("PYTHONPATH", "")
        e.update(env or {})
        self.start(list(prefix) + [PYTHON, "-m", "ringlet"], args,
                   app, io, config, workers, e, APPS)
        if wait:
            self.wait_ready()

    def start(self, program, args, app, io, config, workers, env, cwd,
              port=None, session=False):
        """Runs `program` on 127.0.0.1:port (a free one unless given)
        with the flags both fronts take, in a new directory, its output
        to the error log there; in a session (and process group) of its
        own if asked."""
        self.dir = tempfile.mkdtemp(dir=TMP)
        self.log = os.path.join(self.dir, "error.log")
        self.port = port or free_port()
        cmd = program + ["--host", "127.0.0.1", "-p", str(self.port)]
        if io:
            cmd += ["--io", io]
        if workers:
            cmd += ["-w", str(workers)]
        if config is not None:
            self.config = os.path.join(self.dir, "ringlet.toml")
            with open(self.config, "w") as f:
                f.write(config.replace("{dir}", self.dir))
            cmd += ["-c", self.config]
        cmd += list(args)
        if app:
            cmd.append(app)
        self.logfile = open(self.log, "ab")
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env,
                                     stdout=self.logfile,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=session)

    def wait_ready(self, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("the server exited %d:\n%s"
                                   % (self.proc.returncode, self.text()))
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the server never listened:\n" + self.text())

    def text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def kill(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Stops the master; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("the server did not stop:\n"
                                     + self.text())
        self.logfile.close()
        return self.proc.returncode

    def wait_log(self, pattern, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if re.search(pattern, self.text()):
                return True
            time.sleep(0.05)
        return False

    def conn(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)

    def request(self, method, path, body=None, headers=None):
        """One request on a new connection: (status, headers, body)."""
        c = self.conn()
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r, r.read()
        finally:
            c.close()

    def raw(self, data, timeout=5):
        """Sends bytes as they are; returns everything the server sent
        until it closed or went quiet."""
        with socket.create_connection(("127.0.0.1", self.port), timeout) as s:
            try:
                s.sendall(data)
            except OSError:
                pass  # the server answered and closed before the end
            out = b""
            s.settimeout(timeout)
            try:
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    out += b
            except (socket.timeout, ConnectionResetError):
                pass
            return out


def child_env():
    """The environment without the sanitizer runtime the asan wrapper
    preloads for the interpreter: the C binary is built with its own, and
    other programs (a browser, a load balancer) want none."""
    e = dict(os.environ)
    e.pop("LD_PRELOAD", None)
    return e


class Ringlet(Server):
    """The C `ringlet` binary of this build on 127.0.0.1:port (a free
    one unless given) with `args`, and `config` if given ("{dir}" in it
    is the server's own directory); the shared data set when there is
    one. The rest (readiness, requests, stop) as Server's."""

    def __init__(self, *args, config=None, workers=1, io=None, port=None,
                 session=False):
        data = os.path.join(SHARED, "data")
        if SHARED and os.path.isdir(data):
            args += ("--root", os.path.join(data, "static"),
                     "--data", os.path.join(data, "dataset.json"))
        self.start([BIN], args, None, io, config, workers, child_env(),
                   None, port, session)
        self.wait_ready()

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)


class ServerTest(unittest.TestCase):
    """A test class whose server runs for all its tests: APP on BACKEND,
    checked at the end for crashes and sanitizer reports."""
    APP = None
    ARGS = ()
    CONFIG = None
    BACKEND = "epoll"

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(cls.APP, *cls.ARGS, io=cls.BACKEND,
                         config=cls.CONFIG)

    @classmethod
    def tearDownClass(cls):
        status = cls.srv.stop()
        text = cls.srv.text()
        assert status == 0, "exit %s:\n%s" % (status, text)
        for bad in ("killed by signal", "ERROR: AddressSanitizer",
                    "runtime error:", "Fatal Python error"):
            assert bad not in text, text


def for_each_backend(mixin, namespace, base=ServerTest):
    """Makes one ServerTest class per io backend out of `mixin` (a plain
    class holding the tests and APP) in `namespace` (a module's globals()),
    so each test runs on epoll and on io_uring (skipped where io_uring is
    unavailable)."""
    for be in ["epoll", "io_uring"]:
        name = "%s_%s" % (mixin.__name__.lstrip("_"), be)
        cls = type(name, (mixin, base),
                   {"BACKEND": be, "__module__": namespace["__name__"]})
        if be not in BACKENDS:
            cls = unittest.skip("io_uring is not available here")(cls)
        namespace[name] = cls
