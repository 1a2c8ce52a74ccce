"""ringlet: WSGI applications on greenlets over ringlet's native HTTP core.

Run an application the way gunicorn does::

    python3 -m ringlet myapp:app
    python3 -m ringlet -c ringlet.toml -w 4 myapp:app

Each request runs on its own greenlet; what waits (reading the body,
``ringlet.sleep``, a ``ringlet.socket`` socket) suspends that greenlet and
lets the worker serve the others.
"""

from ._ringlet import BodyError, FileWrapper, VERSION, in_request
from ._ringlet import sleep as _sleep

__version__ = VERSION
__all__ = ["BodyError", "FileWrapper", "in_request", "sleep", "socket",
           "__version__"]


def sleep(seconds):
    """Sleeps; inside a request only its greenlet waits, the worker goes on
    serving. Outside one (at import time, in a thread) it blocks as
    time.sleep does."""
    _sleep(seconds)


from . import socket  # noqa: E402  (uses the names above)
