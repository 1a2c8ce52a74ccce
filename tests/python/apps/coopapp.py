"""The application of tests/python/test_coop.py: plain blocking code, as
written for gunicorn's sync workers, that waits on the standard library
(time.sleep, sockets, http.client, urllib over TLS, select, selectors,
name lookups), on PostgreSQL through psycopg2, on Redis through redis-py
(over TCP and a Unix socket), and on ringlet.run_in_thread. Each path
answers JSON. The services come from the environment: RG_PG_DSN,
RG_REDIS_URL, RG_REDIS_UNIX (a socket's path), RG_UPSTREAM (http://...),
RG_TLS_UPSTREAM (https://...) and RG_CAFILE."""

import http.client
import json
import os
import select
import selectors
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request

import ringlet

# What the patched calls do outside a request, at import time (in the
# worker, or in the master with --preload): the standard behaviour.
_t = time.monotonic()
time.sleep(0.01)
IMPORT = {
    "slept": time.monotonic() - _t >= 0.01,
    "resolved": socket.getaddrinfo("localhost", 80)[0][4][1] == 80,
    "in_thread": ringlet.run_in_thread(lambda: threading.current_thread()
                                       .name) == "MainThread",
    "patched": socket.socket is ringlet.socket.socket,
}


# One object shared by every request, as a module-level threading.local
# is in an application written for threads (SQLAlchemy's scoped_session).
class _Counted(threading.local):
    def __init__(self, start):
        self.start = start


_LOCAL = threading.local()
_COUNTED = _Counted(10)
try:  # keyed by threading.current_thread(): Django's connections
    from asgiref.local import Local as _AsgirefLocal
    _ASGIREF = _AsgirefLocal()
except ImportError:
    _ASGIREF = None


def _ms(q):
    return int(q.get("ms", ["100"])[0])


def sleep(q):
    time.sleep(_ms(q) / 1e3)
    return "slept"


def pg(q):
    import psycopg2
    with psycopg2.connect(os.environ["RG_PG_DSN"]) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_sleep(%s), %s::int", (_ms(q) / 1e3, 7))
            return cur.fetchone()[1]


def pg_sum(q):
    import psycopg2
    with psycopg2.connect(os.environ["RG_PG_DSN"]) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT n, repeat('x', 100) FROM "
                        "generate_series(1, 20000) AS n")
            rows = cur.fetchall()
            return [len(rows), sum(r[0] for r in rows)]


def pg_error(q):
    import psycopg2
    conn = psycopg2.connect(os.environ["RG_PG_DSN"])
    try:
        conn.cursor().execute("SELECT 1/0")
    except psycopg2.Error as e:
        return type(e).__name__
    finally:
        conn.close()


_redis = {}


def _redis_client(unix=False):
    if unix not in _redis:
        import redis
        _redis[unix] = redis.Redis(
            unix_socket_path=os.environ["RG_REDIS_UNIX"]) if unix else \
            redis.Redis.from_url(os.environ["RG_REDIS_URL"])
    return _redis[unix]


def redis_blpop(q):
    return _redis_client("unix" in q).blpop("ringlet-empty",
                                            timeout=_ms(q) / 1e3)


def redis_roundtrip(q):
    r = _redis_client()
    key = "ringlet-%s" % q["key"][0]
    r.rpush(key, "v-" + q["key"][0])
    return r.blpop(key, timeout=1)[1].decode()


def upstream(q):
    u = urllib.parse.urlsplit(os.environ["RG_UPSTREAM"])
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        c.request("GET", "/delay?ms=%d" % _ms(q))
        r = c.getresponse()
        return [r.status, r.read().decode()]
    finally:
        c.close()


def tls_upstream(q):
    ctx = ssl.create_default_context(
        cafile=None if "noca" in q else os.environ["RG_CAFILE"])
    url = "%s/delay?ms=%d" % (os.environ["RG_TLS_UPSTREAM"], _ms(q))
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=10) as r:
            return [r.status, r.read().decode()]
    except urllib.error.URLError as e:
        return ["error", type(e.reason).__name__]


def recv_timeout(q):
    """A socket timeout while the peer stays silent."""
    a, b = socket.socketpair()
    with a, b:
        a.settimeout(_ms(q) / 1e3)
        try:
            a.recv(1)
        except socket.timeout:
            return "timed out"


def resolve(q):
    return sorted({ai[4][0] for ai in socket.getaddrinfo(
        q["host"][0], 80, 0, socket.SOCK_STREAM)})


def by_name(q):
    return socket.gethostbyname(q["host"][0])


def select_one(q):
    a, b = socket.socketpair()
    with a, b:
        threading.Timer(_ms(q) / 1e3, b.send, (b"x",)).start()
        r, _, _ = select.select([a], [], [], 5)
        return [len(r), a.recv(1).decode()]


def select_many(q):
    pairs = [socket.socketpair() for _ in range(3)]
    try:
        threading.Timer(_ms(q) / 1e3, pairs[1][1].send, (b"y",)).start()
        r, _, _ = select.select([p[0] for p in pairs], [], [], 5)
        return [p[0] in r for p in pairs]
    finally:
        for a, b in pairs:
            a.close()
            b.close()


def selector(q):
    a, b = socket.socketpair()
    with a, b, selectors.DefaultSelector() as sel:
        sel.register(a, selectors.EVENT_READ, "a")
        empty = sel.select(_ms(q) / 1e3)
        b.send(b"z")
        return [len(empty), [key.data for key, _ in sel.select(5)]]


def poll_timeout(q):
    a, b = socket.socketpair()
    with a, b:
        p = select.poll()
        p.register(a, select.POLLIN)
        return p.poll(_ms(q))


def in_thread(q):
    threading.Event().wait(_ms(q) / 1e3)  # blocks: runs on the pool
    return threading.current_thread().name


def thread(q):
    return ringlet.run_in_thread(in_thread, q)


def local_state(q):
    """Sets the shared locals, waits while other requests set them too,
    reads them back; and what a pool thread sees of them."""
    me = q["id"][0]
    _LOCAL.id = me
    _COUNTED.last = me
    if _ASGIREF is not None:
        _ASGIREF.id = me
    thread = threading.current_thread()
    time.sleep(_ms(q) / 1e3)
    return {"id": _LOCAL.id, "last": _COUNTED.last,
            "asgiref": _ASGIREF and _ASGIREF.id,
            "thread": [thread.name, threading.get_ident(),
                       threading.current_thread() is thread],
            "start": _COUNTED.start,
            "keys": sorted(_LOCAL.__dict__),
            "in_thread": ringlet.run_in_thread(
                lambda: [getattr(_LOCAL, "id", None), _COUNTED.start,
                         threading.current_thread().name]),
            "class": type(_LOCAL).__module__}


# Shared by the requests, as an application's module-level locks and
# queues are.
_LOCK = threading.Lock()
_RLOCK = threading.RLock()
_QUEUE = __import__("queue").Queue()
_EVENT = threading.Event()
_inside = {"now": 0, "most": 0}


def locked(q):
    """Holds the shared Lock across a wait (or an RLock, taken twice):
    how many requests were ever inside at once."""
    lock = _RLOCK if q.get("kind") == ["rlock"] else _LOCK
    with lock, lock if lock is _RLOCK else _NOTHING:
        _inside["now"] += 1
        _inside["most"] = max(_inside["most"], _inside["now"])
        time.sleep(_ms(q) / 1e3)
        _inside["now"] -= 1
    most, _inside["most"] = _inside["most"], 0
    return most


class _Nothing:
    def __enter__(self):
        pass

    def __exit__(self, *exc):
        pass


_NOTHING = _Nothing()


def lock_timeout(q):
    """The shared Lock, held by another request: given up after ms."""
    got = _LOCK.acquire(timeout=_ms(q) / 1e3)
    if got:
        _LOCK.release()
    return got


def queue_get(q):
    try:
        return _QUEUE.get(timeout=_ms(q) / 1e3)
    except __import__("queue").Empty:
        return "empty"


def queue_put(q):
    _QUEUE.put(q["v"][0])
    return "put"


def event_wait(q):
    got = _EVENT.wait(_ms(q) / 1e3)
    _EVENT.clear()
    return got


def event_set(q):
    _EVENT.set()
    return "set"


def thread_held(q):
    """A thread holds the Lock for ms; the request waits for it."""
    taken = threading.Event()

    def hold():
        with _LOCK:
            taken.set()
            time.sleep(_ms(q) / 1e3)  # outside a request: the real one
    t = threading.Thread(target=hold)
    t.start()
    taken.wait()
    start = time.monotonic()
    with _LOCK:
        waited = time.monotonic() - start
    t.join()
    return round(waited, 3)


def thread_error(q):
    def fail():
        raise ValueError("from the pool")
    try:
        ringlet.run_in_thread(fail)
    except ValueError as e:
        return str(e)


ROUTES = {"/sleep": sleep, "/pg": pg, "/pg-sum": pg_sum,
          "/pg-error": pg_error, "/redis": redis_blpop,
          "/redis-roundtrip": redis_roundtrip, "/upstream": upstream,
          "/tls-upstream": tls_upstream, "/recv-timeout": recv_timeout,
          "/resolve": resolve, "/by-name": by_name,
          "/select": select_one, "/select-many": select_many,
          "/selector": selector, "/poll-timeout": poll_timeout,
          "/thread": thread, "/thread-error": thread_error,
          "/local": local_state, "/locked": locked,
          "/lock-timeout": lock_timeout, "/queue-get": queue_get,
          "/queue-put": queue_put, "/event-wait": event_wait,
          "/event-set": event_set, "/thread-held": thread_held,
          "/import": lambda q: IMPORT}


def app(environ, start_response):
    route = ROUTES.get(environ["PATH_INFO"])
    if route is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no such path\n"]
    q = urllib.parse.parse_qs(environ["QUERY_STRING"])
    body = json.dumps(route(q)).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
