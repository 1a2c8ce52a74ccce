"""ringlet: WSGI applications on greenlets over ringlet's native HTTP core.

Run an application the way gunicorn does::

    python3 -m ringlet myapp:app
    python3 -m ringlet -c ringlet.toml -w 4 myapp:app

Each request runs on its own greenlet; what waits (reading the body,
``ringlet.sleep``, sockets, and with ``ringlet.patch()`` the standard
library's sockets, TLS, select, name lookups, time.sleep and psycopg2)
suspends that greenlet and lets the worker serve the others;
``ringlet.run_in_thread`` moves any other blocking call off the worker's
loop.
"""

from ._ringlet import BodyError, FileWrapper, VERSION, in_request
from ._ringlet import sleep as _sleep

__version__ = VERSION
__all__ = ["BodyError", "FileWrapper", "in_request", "patch",
           "run_in_thread", "sleep", "socket", "__version__"]


def sleep(seconds):
    """Sleeps; inside a request only its greenlet waits, the worker goes on
    serving. Outside one (at import time, in a thread) it blocks as
    time.sleep does."""
    _sleep(seconds)


from ._threads import run_in_thread  # noqa: E402
from ._patch import patch  # noqa: E402


def __getattr__(name):
    """ringlet.socket, imported at first use: with the standard socket
    module (and enum), 0.45 MB of memory that a worker whose application
    opens no socket need not hold."""
    if name == "socket":
        import importlib
        return importlib.import_module(__name__ + ".socket")
    raise AttributeError("module 'ringlet' has no attribute %r" % name)
