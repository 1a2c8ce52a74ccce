"""Real services the Python front's black-box tests and the benchmark
wait on, each started on loopback in a temporary directory of its own
and stopped after (all of it: processes, threads, files): PostgreSQL and
Redis as child processes, and a slow HTTP or HTTPS upstream in a thread
of this process. A program that is not installed raises Unavailable,
which the tests report as skipped.

    python3 tests/python/services.py postgres|redis

starts one, prints its dsn or url, and stops it at end of input, SIGTERM
or SIGINT (what the benchmark uses)."""

import glob
import http.server
import os
import pwd
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from rgtest import free_port


class Unavailable(Exception):
    """A program the service needs is not installed (the reason says
    which, and its Debian package)."""


# The services' programs run without the sanitizer runtime the ASan
# flavour preloads into the tests' interpreter.
ENV = {k: v for k, v in os.environ.items()
       if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}


def need(program, package):
    path = shutil.which(program)
    if path is None:
        raise Unavailable("%s not found (Debian package %s)"
                          % (program, package))
    return path


class Service:
    """start() makes the temporary directory and runs _run(); stop(),
    also called when _run() fails midway, runs _halt() and removes the
    directory. A context manager too."""

    def __init__(self):
        self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="ringlet-%s-"
                                    % type(self).__name__.lower())
        try:
            self._run()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        self._halt()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


def children(pid):
    """The processes whose parent is pid."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % entry) as f:
                ppid = f.read().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue  # not a process, or gone meanwhile
        if int(ppid) == pid:
            found.append(int(entry))
    return found


def sigkill(kill, pid):
    """kill (os.kill or os.killpg) pid with SIGKILL, if it still exists."""
    try:
        kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # gone already (a group: all gone)


class Process(Service):
    """A service that is one child process in a process group of its own,
    writing to DIR/log. Stopped with STOP_SIGNAL; if it is still there
    10 s later, SIGKILL to it and to its children (PostgreSQL's leave the
    group); whatever is left in the group gets SIGKILL in any case."""
    STOP_SIGNAL = signal.SIGTERM
    host = "127.0.0.1"

    def __init__(self):
        super().__init__()
        self.proc = None

    def spawn(self, cmd):
        self.log = os.path.join(self.dir, "log")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=self.dir, env=ENV,
                                         stdin=subprocess.DEVNULL,
                                         stdout=log,
                                         stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def wait_ready(self, ready, timeout=30):
        end = time.monotonic() + timeout
        while not ready():
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited %d:\n%s" % (
                    type(self).__name__, self.proc.returncode, self.tail()))
            if time.monotonic() > end:
                raise RuntimeError("%s not ready after %d s:\n%s" % (
                    type(self).__name__, timeout, self.tail()))
            time.sleep(0.05)

    def tail(self, size=3000):
        with open(self.log, "rb") as f:
            f.seek(max(0, os.path.getsize(self.log) - size))
            return f.read().decode(errors="replace")

    def _halt(self):
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(self.STOP_SIGNAL)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        left = children(proc.pid) if proc.poll() is None else []
        for pid in left:
            sigkill(os.kill, pid)
        sigkill(os.killpg, proc.pid)
        proc.wait()
        end = time.monotonic() + 5
        while (any(os.path.exists("/proc/%d" % pid) for pid in left)
               and time.monotonic() < end):
            time.sleep(0.02)  # until init has reaped them


class Postgres(Process):
    """A throwaway PostgreSQL cluster (the highest version of Debian's
    under /usr/lib/postgresql) on 127.0.0.1:port, user `ringlet` trusted,
    300 connections. As root it runs as the system user postgres
    (PostgreSQL refuses root), through setpriv, which execs in place so
    the signals reach the postmaster itself (runuser would forward a
    smart-shutdown SIGTERM instead). SIGINT stops it: fast shutdown."""
    STOP_SIGNAL = signal.SIGINT
    user = "ringlet"
    dbname = "postgres"

    def __init__(self):
        super().__init__()
        found = glob.glob("/usr/lib/postgresql/*/bin/postgres")
        if not found:
            raise Unavailable("postgres not found under /usr/lib/postgresql"
                              " (Debian package postgresql)")
        self.bin = max((os.path.dirname(p) for p in found),
                       key=lambda d: [int(x) for x in
                                      d.split("/")[-2].split(".")])
        self.owner = None
        self.as_owner = []
        if os.geteuid() == 0:
            try:
                self.owner = pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("system user postgres not found (made by"
                                  " Debian package postgresql)") from None
            self.as_owner = [need("setpriv", "util-linux"),
                             "--reuid=postgres", "--regid=postgres",
                             "--init-groups", "--"]

    @property
    def dsn(self):
        return "host=%s port=%d user=%s dbname=%s" % (
            self.host, self.port, self.user, self.dbname)

    def _run(self):
        if self.owner is not None:
            os.chown(self.dir, self.owner.pw_uid, self.owner.pw_gid)
        data = os.path.join(self.dir, "data")
        init = subprocess.run(
            self.as_owner + [os.path.join(self.bin, "initdb"), "-D", data,
                             "-A", "trust", "-U", self.user, "--no-sync",
                             "-E", "UTF8", "--locale=C"],
            cwd=self.dir, env=ENV, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=120)
        if init.returncode != 0:
            raise RuntimeError("initdb exited %d:\n%s%s" % (
                init.returncode, init.stdout, init.stderr))
        self.port = free_port()
        self.spawn(self.as_owner + [
            os.path.join(self.bin, "postgres"), "-D", data, "-k", self.dir,
            "-h", self.host, "-p", str(self.port), "-c", "fsync=off",
            "-c", "max_connections=300", "-c", "shared_buffers=16MB"])
        isready = [os.path.join(self.bin, "pg_isready"), "-q", "-t", "1",
                   "-h", self.host, "-p", str(self.port), "-U", self.user,
                   "-d", self.dbname]
        self.wait_ready(
            lambda: subprocess.run(isready, env=ENV).returncode == 0)


class Redis(Process):
    """redis-server on 127.0.0.1:port and on the Unix socket `unix_path`,
    nothing saved to disk."""

    def __init__(self):
        super().__init__()
        self.program = need("redis-server", "redis-server")

    @property
    def url(self):
        return "redis://%s:%d/0" % (self.host, self.port)

    def _run(self):
        self.port = free_port()
        self.unix_path = os.path.join(self.dir, "redis.sock")
        self.spawn([self.program, "--port", str(self.port), "--bind",
                    self.host, "--unixsocket", self.unix_path,
                    "--unixsocketperm", "700", "--save", "", "--appendonly",
                    "no",
                    "--dir", self.dir, "--daemonize", "no",
                    "--protected-mode", "no"])
        self.wait_ready(self.pong)

    def pong(self):
        try:
            with socket.create_connection((self.host, self.port), 1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False


class _DelayHandler(http.server.BaseHTTPRequestHandler):
    """GET /delay?ms=N: sleeps N ms, then 200 `slept N` (400 if N is not
    a whole number); any other path 404. HTTP/1.1: kept alive."""
    protocol_version = "HTTP/1.1"

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()  # here, not in the accepting thread
        super().setup()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/delay":
            return self.answer(404, b"not found\n")
        ms = urllib.parse.parse_qs(url.query).get("ms", [""])[0]
        if not ms.isdigit():
            return self.answer(400, b"ms must be a whole number\n")
        time.sleep(int(ms) / 1000)
        self.answer(200, b"slept %d" % int(ms))

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass  # quiet


class _ThreadingServer(http.server.ThreadingHTTPServer):
    """One thread per connection; remembers its open connections so that
    stop can close them (a kept-alive one would go on being served)."""
    request_queue_size = 256
    daemon_threads = True

    def server_activate(self):
        self.open = set()
        super().server_activate()

    def process_request(self, request, client_address):
        self.open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        self.open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):  # not a client gone
            super().handle_error(request, client_address)


class HttpUpstream(Service):
    """The slow upstream (_DelayHandler) on 127.0.0.1 in threads of this
    process; with tls, HTTPS with a self-signed certificate for localhost
    and 127.0.0.1 made by openssl, `cafile` for clients to trust it."""
    host = "127.0.0.1"

    def __init__(self, tls=False):
        super().__init__()
        self.tls = tls
        self.server = self.thread = None
        if tls:
            self.openssl = need("openssl", "openssl")

    @property
    def url(self):
        if self.tls:
            return "https://localhost:%d" % self.port
        return "http://%s:%d" % (self.host, self.port)

    def _run(self):
        self.server = _ThreadingServer((self.host, 0), _DelayHandler)
        self.port = self.server.server_address[1]
        if self.tls:
            self.cafile = os.path.join(self.dir, "cert.pem")
            key = os.path.join(self.dir, "key.pem")
            made = subprocess.run(
                [self.openssl, "req", "-x509", "-newkey", "rsa:2048",
                 "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext",
                 "subjectAltName=DNS:localhost,IP:127.0.0.1",
                 "-keyout", key, "-out", self.cafile],
                env=ENV, stdin=subprocess.DEVNULL, capture_output=True,
                text=True)
            if made.returncode != 0:
                raise RuntimeError("openssl req exited %d:\n%s" % (
                    made.returncode, made.stderr))
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.cafile, key)
            self.server.socket = ctx.wrap_socket(
                self.server.socket, server_side=True,
                do_handshake_on_connect=False)
        thread = threading.Thread(target=self.server.serve_forever,
                                  args=(0.05,), daemon=True)
        thread.start()
        self.thread = thread

    def _halt(self):
        server, self.server = self.server, None
        if server is None:
            return
        if self.thread is not None:
            server.shutdown()
            self.thread.join()
            self.thread = None
        server.server_close()
        for conn in list(server.open):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # closed meanwhile


class Balancer(Process):
    """A load balancer on 127.0.0.1:port in front of `nodes` (ports on
    127.0.0.1), connecting to them from `source` (another loopback
    address, so a node can tell the balancer's connection from the
    client's). `config` is the configuration file written from the
    subclass's TEMPLATE; it is what the README shows."""
    source = "127.0.0.3"

    def __init__(self, nodes):
        super().__init__()
        self.nodes = list(nodes)

    def _run(self):
        self.port = free_port()
        self.config = os.path.join(self.dir, self.CONFIG_NAME)
        with open(self.config, "w") as f:
            f.write(self.TEMPLATE.format(
                port=self.port, source=self.source, dir=self.dir,
                servers="".join(self.SERVER.format(i=i + 1, port=p)
                                for i, p in enumerate(self.nodes))))
        self._spawn()
        self.wait_ready(self.listening)

    def listening(self):
        try:
            socket.create_connection((self.host, self.port), 1).close()
            return True
        except OSError:
            return False


class Haproxy(Balancer):
    """HAProxy: PROXY protocol version 2 to the nodes, health checks of
    their /healthz, L7 retries and redispatch; up() reads the nodes'
    states from its stats socket."""
    CONFIG_NAME = "haproxy.cfg"
    TEMPLATE = """\
global
    maxconn 4096
    stats socket {dir}/admin.sock mode 600 level admin

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 10s
    retries 3
    option redispatch 1
    retry-on all-retryable-errors

frontend web
    bind 127.0.0.1:{port}
    default_backend ringlet

backend ringlet
    balance roundrobin
    source {source}
    option httpchk GET /healthz
    http-check expect status 200
    default-server send-proxy-v2 check inter 200ms fall 2 rise 2
{servers}"""
    SERVER = "    server node{i} 127.0.0.1:{port}\n"

    def _spawn(self):
        self.spawn([need("haproxy", "haproxy"), "-db", "-f", self.config])

    def command(self, line):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(os.path.join(self.dir, "admin.sock"))
            s.sendall(line.encode() + b"\n")
            out = b""
            while True:
                b = s.recv(65536)
                if not b:
                    return out.decode()
                out += b

    def up(self):
        """The set of node numbers (1, 2, ...) HAProxy sends traffic to
        (none while its stats socket is not there yet)."""
        try:
            lines = self.command("show stat").splitlines()
        except OSError:
            return set()
        cols = lines[0].lstrip("# ").split(",")
        found = set()
        for line in lines[1:]:
            row = dict(zip(cols, line.split(",")))
            if (row.get("pxname") == "ringlet" and
                    row.get("svname", "").startswith("node") and
                    row.get("status") == "UP"):
                found.add(int(row["svname"][4:]))
        return found


class Nginx(Balancer):
    """nginx (open source: no active health checks): X-Forwarded-For to
    the nodes, kept-alive upstream connections, the next node tried on an
    error, a timeout or a 502/503, a node failing once left out for 1 s."""
    CONFIG_NAME = "nginx.conf"
    TEMPLATE = """\
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}

http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;

    upstream ringlet {{
{servers}        keepalive 32;
    }}

    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://ringlet;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_bind {source};
            proxy_connect_timeout 1s;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 3;
        }}
    }}
}}
"""
    SERVER = "        server 127.0.0.1:{port} max_fails=1 fail_timeout=1s;\n"
    STOP_SIGNAL = signal.SIGQUIT  # nginx's graceful stop

    def _spawn(self):
        os.chmod(self.dir, 0o755)  # its workers run as nobody
        self.spawn([need("nginx", "nginx-light"), "-p", self.dir, "-c",
                    self.config, "-g", "daemon off; master_process on;"])


SERVICES = {"postgres": (Postgres, "dsn"), "redis": (Redis, "url")}


def main(argv):
    if len(argv) != 2 or argv[1] not in SERVICES:
        sys.exit("usage: %s %s" % (argv[0], "|".join(SERVICES)))
    make, address = SERVICES[argv[1]]
    # A signal, even one during start, only wakes the wait below, so the
    # service is always stopped in full.
    wake, woken = os.pipe()
    os.set_blocking(woken, False)
    signal.set_wakeup_fd(woken)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    try:
        with make() as svc:
            print(getattr(svc, address), flush=True)
            while True:
                ready = select.select([0, wake], [], [])[0]
                if wake in ready or not os.read(0, 65536):
                    break
    except Unavailable as e:
        sys.exit(str(e))


if __name__ == "__main__":
    main(sys.argv)
