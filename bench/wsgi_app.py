"""bench/wsgi_app.py: the one WSGI application bench/python.sh serves with
every server (ringlet's Python front, gunicorn, uWSGI), unchanged:

  /plaintext  "Hello, World!", text/plain
  /json       json.dumps({"message": "Hello, World!"}), application/json
  /sleep      "Hello, World!" after a 10 ms sleep that lets the worker serve
              others where the server can: ringlet.sleep under ringlet,
              gevent.sleep under gevent, time.sleep otherwise
  /flask      a Flask hello world ("Hello, World!" through Flask's routing,
              request and response objects)
  anything else: 404

The sleep is picked once, at import: WSGI_APP_SLEEP=ringlet|gevent|time
(bench/python.sh sets it for each server), else by what is already
imported (ringlet's worker imports ringlet, gunicorn's gevent worker and
uWSGI's gevent plugin import gevent before the application)."""

import json
import os
import sys

import flask


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

HELLO = b"Hello, World!"

_flask = flask.Flask(__name__)


@_flask.route("/flask")
def _hello():
    return "Hello, World!"


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
        return _flask(environ, start_response)
    body = b"not found"
    start_response("404 Not Found", [("Content-Type", "text/plain"),
                                     ("Content-Length", str(len(body)))])
    return [body]


application = app
