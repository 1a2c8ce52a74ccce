"""The [python] table of ringlet's configuration file: its keys, checked
as the file is read (at start and at every reload, by the library's
reader), and the settings a worker runs with."""

_KEYS = {
    # key: (type, what it says)
    "app": (str, "the WSGI application, module:callable"),
    "preload": (bool, "import the application in the master before fork"),
    "gc_threshold": (list, "gc.set_threshold() in each worker"),
    "max_greenlets": (int, "requests running at once per worker"),
    "pythonpath": (list, "directories put first on sys.path"),
    "patch": (bool, "make the standard library cooperative (ringlet.patch)"),
    "threads": (int, "the thread pool of run_in_thread and name lookups"),
}


class Settings:
    """What a worker runs with: the defaults, then the file's values.
    A plain class: dataclasses (with the inspect, ast and dis it imports)
    would cost every worker 1.3 MB of RSS."""
    app = None
    preload = False
    gc_threshold = None
    max_greenlets = 1024
    pythonpath = ()
    patch = True
    threads = 10


def _gc_threshold(value):
    if isinstance(value, int):
        value = [str(value)]
    if not 1 <= len(value) <= 3:
        raise ValueError("gc_threshold takes 1 to 3 thresholds")
    out = []
    for v in value:
        if not v.isdigit() or len(v) > 9:
            raise ValueError("gc_threshold: %r is not a threshold" % v)
        out.append(int(v))
    return tuple(out)


def validate(key, value):
    """Called by the configuration reader for each key of [python]; a
    ValueError refuses the file, its message after "file:line: "."""
    if key not in _KEYS:
        raise ValueError("unknown key '%s' in [python]" % key)
    kind, _ = _KEYS[key]
    if key == "gc_threshold":
        if not isinstance(value, (int, list)) or isinstance(value, bool):
            raise ValueError("gc_threshold must be an integer or an array")
        _gc_threshold(value)
        return
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError("%s must be an integer" % key)
    if not isinstance(value, kind):
        raise ValueError("%s must be %s" % (
            key, {str: "a string", bool: "a boolean", list: "an array"}[kind]))
    if key == "app" and not value:
        raise ValueError("app must not be empty")
    if key == "max_greenlets" and not 1 <= value <= 1000000:
        raise ValueError("max_greenlets must be between 1 and 1000000")
    if key == "threads" and not 1 <= value <= 1024:
        raise ValueError("threads must be between 1 and 1024")


def settings(table, **overrides):
    """The Settings of a [python] table (a dict of checked values), with
    the command line's overrides (None = the file's)."""
    s = Settings()
    for key, value in table.items():
        if key == "gc_threshold":
            value = _gc_threshold(value)
        elif key == "pythonpath":
            value = tuple(value)
        setattr(s, key, value)
    for key, value in overrides.items():
        if value is not None:
            setattr(s, key, value)
    return s
