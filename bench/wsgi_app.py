"""bench/wsgi_app.py: the one WSGI application bench/python.sh serves with
every server (ringlet's Python front, gunicorn, uWSGI), unchanged:

  /plaintext  "Hello, World!", text/plain
  /json       json.dumps({"message": "Hello, World!"}), application/json
  /sleep      "Hello, World!" after a 10 ms sleep that lets the worker serve
              others where the server can: ringlet.sleep under ringlet,
              gevent.sleep under gevent, time.sleep otherwise
  /flask      a Flask hello world ("Hello, World!" through Flask's routing,
              request and response objects; Flask imported at the first)
  /pg         "Hello, World!" after `SELECT pg_sleep(0.05)` through psycopg2
              on the PostgreSQL that WSGI_APP_PG_DSN names (a libpq DSN);
              without it, 503 (psycopg2 is imported only with it)
  anything else: 404

The sleep is picked once, at import: WSGI_APP_SLEEP=ringlet|gevent|time
(bench/python.sh sets it for each server), else by what is already
imported (ringlet's worker imports ringlet, gunicorn's gevent worker and
uWSGI's gevent plugin import gevent before the application).

/pg waits on PostgreSQL as the same kind of worker would: under gevent
through psycogreen's wait callback (psycogreen.gevent.patch_psycopg(),
applied at import), under ringlet through the one ringlet.patch() sets
(the import fails if psycopg2 has none, so that the benchmark cannot
measure a ringlet blocked on libpq unknowingly), in the sync workers
blocking. Its connections are kept, as an application's pool would:
a LIFO list of idle ones at module level, a request taking the last (or
connecting when there is none; autocommit, so one round trip per query)
and putting it back after. No lock: under greenlets nothing else runs
between the pop and the push but inside psycopg2's waits, with the
connection held, and the sync workers serve one request at a time (a
server running the application on several threads would need one). A
connection the server closed while it was idle (idle_session_timeout, a
restart) fails at once at its next query: it is dropped and the query
runs on the next idle one, or on a new connection (whose failure is the
request's: a 500)."""

import json
import os
import sys


def _pick_sleep():
    kind = os.environ.get("WSGI_APP_SLEEP", "")
    if not kind:
        if "ringlet" in sys.modules:
            kind = "ringlet"
        elif "gevent" in sys.modules:
            kind = "gevent"
        else:
            kind = "time"
    if kind == "ringlet":
        import ringlet
        return kind, ringlet.sleep
    if kind == "gevent":
        import gevent
        return kind, gevent.sleep
    if kind == "time":
        import time
        return kind, time.sleep
    raise ValueError("WSGI_APP_SLEEP must be ringlet, gevent or time, not %r"
                     % kind)


SLEEP_KIND, _sleep = _pick_sleep()

PG_DSN = os.environ.get("WSGI_APP_PG_DSN", "")


def _pg_setup():
    """psycopg2, made to wait as the server's worker does; None without
    WSGI_APP_PG_DSN."""
    if not PG_DSN:
        return None
    import psycopg2
    import psycopg2.extensions
    if SLEEP_KIND == "gevent":
        import psycogreen.gevent
        psycogreen.gevent.patch_psycopg()
    elif SLEEP_KIND == "ringlet" and \
            psycopg2.extensions.get_wait_callback() is None:
        raise RuntimeError(
            "under ringlet, psycopg2 has no wait callback: ringlet.patch() "
            "has not run ([python] patch = false?), so /pg would block the "
            "worker")
    return psycopg2


_psycopg2 = _pg_setup()
_pg_idle = []  # idle connections, the most recently used last


def _pg_sleep():
    while True:
        fresh = not _pg_idle
        conn = _psycopg2.connect(PG_DSN) if fresh else _pg_idle.pop()
        try:
            if fresh:
                conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT pg_sleep(0.05)")
        except _psycopg2.OperationalError:
            dead = conn.closed
            conn.close()
            if fresh or not dead:
                raise
            continue  # closed by the server while it was idle
        except BaseException:
            conn.close()
            raise
        _pg_idle.append(conn)
        return


HELLO = b"Hello, World!"

_flask = None


def _flask_app():
    """Flask's hello world, imported and built at the first /flask: Flask
    costs a worker about 20 MB of RSS, which the other paths do not
    need (so a fresh worker's RSS after /plaintext is the server's)."""
    global _flask
    if _flask is None:
        import flask
        app = flask.Flask(__name__)
        app.route("/flask")(lambda: "Hello, World!")
        _flask = app
    return _flask


def _answer(start_response, body, ctype):
    start_response("200 OK", [("Content-Type", ctype),
                              ("Content-Length", str(len(body)))])
    return [body]


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/plaintext":
        return _answer(start_response, HELLO, "text/plain")
    if path == "/json":
        body = json.dumps({"message": "Hello, World!"}).encode()
        return _answer(start_response, body, "application/json")
    if path == "/sleep":
        _sleep(0.01)
        return _answer(start_response, HELLO, "text/plain")
    if path == "/flask":
        return _flask_app()(environ, start_response)
    if path == "/pg":
        if _psycopg2 is None:
            body = b"WSGI_APP_PG_DSN is not set"
            start_response("503 Service Unavailable",
                           [("Content-Type", "text/plain"),
                            ("Content-Length", str(len(body)))])
            return [body]
        _pg_sleep()
        return _answer(start_response, HELLO, "text/plain")
    body = b"not found"
    start_response("404 Not Found", [("Content-Type", "text/plain"),
                                     ("Content-Length", str(len(body)))])
    return [body]


application = app
