"""The application of tests/python/test_ops.py: tells which process
imported it and which serves, the interpreter's GC settings, and a
version string read at import (a reload must change it)."""

import gc
import json
import os

import ringlet

IMPORTED_BY = os.getpid()
VERSION = open(os.environ["RG_TEST_VERSION_FILE"]).read().strip() \
    if "RG_TEST_VERSION_FILE" in os.environ else "none"


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/gc":
        gc.collect()
    if path == "/sleep":
        ringlet.sleep(float(environ["QUERY_STRING"] or "0.5"))
    body = json.dumps({
        "imported_by": IMPORTED_BY,
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "version": VERSION,
        "gc_threshold": gc.get_threshold(),
        "gc_frozen": gc.get_freeze_count(),
        "path": path,
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def factory():
    return app


broken_by_design = 42  # not callable
