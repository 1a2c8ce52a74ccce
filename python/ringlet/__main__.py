"""python3 -m ringlet: runs a WSGI application on ringlet's master and
workers, with the ringlet binary's flags where they apply."""

import gc
import importlib
import os
import sys

from . import _config, _patch, _ringlet, _threads

_IO = {"auto": 0, "io_uring": 1, "epoll": 2}


# The command line, parsed by hand: argparse (with the shutil, gettext
# and locale it imports) would cost every worker 1.3 MB of RSS, inherited
# from the master.
USAGE = ("usage: python3 -m ringlet [-h] [-c FILE] [-t] [-p PORT] [-w N] "
         "[--host ADDR]\n"
         "                         [--io {auto,epoll,io_uring}] "
         "[--max-connections N]\n"
         "                         [--preload] [-V] [MODULE:CALLABLE]\n")

HELP = USAGE + """
Serves a WSGI application: a master process and its workers, one
configuration file (without -c, the embedded default). Runs in the
foreground; logs go to the error log (standard error by default).

positional arguments:
  MODULE:CALLABLE       the WSGI application ([python] app); MODULE alone
                        means MODULE:application or MODULE:app,
                        MODULE:factory() calls a factory

options:
  -h, --help            show this help message and exit
  -c FILE, --config FILE
                        read the configuration from FILE
  -t, --test            check the configuration and import the
                        application, then exit 0 or 1
  -p PORT, --port PORT  listen on PORT (0 = any) at every listen address
  -w N, --workers N     worker processes (N or 'auto')
  --host ADDR           listen on ADDR only (numeric IPv4 or IPv6)
  --io {auto,epoll,io_uring}
                        the event loop
  --max-connections N   per worker
  --preload             import the application in the master, before the
                        workers fork ([python] preload)
  -V, --version         show the version and exit

Flags override the file, and keep doing so across reloads (SIGHUP).
Signals: TERM/INT stop gracefully, QUIT at once, HUP reloads the
configuration and starts new workers that import the application afresh,
USR1 reopens the logs. Exit status: 0 after a stop, 1 on a configuration,
application or runtime error, 2 on a usage error.
"""

# Flag: (attribute, takes a value).
_FLAGS = {"-c": ("config", True), "--config": ("config", True),
          "-t": ("test", False), "--test": ("test", False),
          "-p": ("port", True), "--port": ("port", True),
          "-w": ("workers", True), "--workers": ("workers", True),
          "--host": ("host", True), "--io": ("io", True),
          "--max-connections": ("max_connections", True),
          "--preload": ("preload", False)}


class UsageError(Exception):
    pass


def usage_error(message):
    sys.stderr.write(USAGE + "python3 -m ringlet: error: %s\n" % message)
    sys.exit(2)


def _int(flag, value, lo, hi):
    if not value.isdigit() or not lo <= int(value) <= hi:
        raise UsageError("%s wants an integer in [%d, %d], not '%s'"
                         % (flag, lo, hi, value))
    return int(value)


def parse_args(argv):
    """The command line as an object with an attribute per flag (None
    when not given) and `app`; UsageError says what is wrong. -h and -V
    print and exit 0."""
    args = type("Args", (), {})()
    for name, _ in _FLAGS.values():
        setattr(args, name, None)
    args.app = None
    argv = list(argv)
    while argv:
        arg = argv.pop(0)
        if arg in ("-h", "--help"):
            sys.stdout.write(HELP)
            sys.exit(0)
        if arg in ("-V", "--version"):
            print("ringlet %s" % _ringlet.VERSION)
            sys.exit(0)
        if arg == "--":
            rest, argv = argv, []
        elif arg.startswith("-") and arg != "-":
            flag, eq, value = arg.partition("=")
            if flag not in _FLAGS and flag[:2] in _FLAGS and \
                    not flag.startswith("--"):
                flag, eq, value = flag[:2], "=", arg[2:]  # -p8080
            if flag not in _FLAGS:
                raise UsageError("unrecognized arguments: %s" % arg)
            name, takes = _FLAGS[flag]
            if not takes:
                if eq:
                    raise UsageError("%s takes no value" % flag)
                setattr(args, name, True)
                continue
            if not eq:
                if not argv:
                    raise UsageError("%s needs a value" % flag)
                value = argv.pop(0)
            setattr(args, name, value)
            continue
        else:
            rest = [arg]
        for a in rest:
            if args.app is not None:
                raise UsageError("unrecognized arguments: %s" % a)
            args.app = a
    if args.port is not None:
        args.port = _int("-p", args.port, 0, 65535)
    if args.workers is not None and args.workers != "auto":
        _int("-w", args.workers, 1, 1024)
    if args.io is not None and args.io not in _IO:
        raise UsageError("--io wants one of %s, not '%s'"
                         % (", ".join(sorted(_IO)), args.io))
    if args.max_connections is not None:
        args.max_connections = _int("--max-connections",
                                    args.max_connections, 1, 10000000)
    return args


def load_app(spec):
    """The callable `spec` names: "module:attr", "module:attr.attr",
    "module:factory()", or "module" (its `application`, else `app`)."""
    module, _, attr = spec.partition(":")
    if not module:
        raise ValueError("no module in %r" % spec)
    obj = importlib.import_module(module)
    call = attr.endswith("()")
    names = attr[:-2] if call else attr
    if not names:
        for default in ("application", "app"):
            if hasattr(obj, default):
                names = default
                break
        else:
            raise ValueError("module %s has no 'application' or 'app'; "
                             "name it: %s:NAME" % (module, module))
    for name in names.split("."):
        obj = getattr(obj, name)
    if call:
        obj = obj()
    if not callable(obj):
        raise TypeError("%s is not callable" % spec)
    return obj


def main(argv=None):
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as e:
        usage_error(str(e))
    workers = 0
    if args.workers == "auto":
        workers = 0xFFFFFFFF  # RG_WORKERS_AUTO
    elif args.workers:
        workers = int(args.workers)
    embedded = open(os.path.join(os.path.dirname(__file__),
                                 "default.toml")).read()
    try:
        cfg = _ringlet.load(
            args.config, embedded, _config.validate,
            port=-1 if args.port is None else args.port, host=args.host,
            workers=workers, io=_IO.get(args.io, -1),
            max_connections=args.max_connections or 0)
        cfg.check()
    except ValueError as e:
        print("ringlet: %s" % e, file=sys.stderr)
        return 1
    overrides = {"app": args.app, "preload": args.preload}
    s = _config.settings(cfg.python, **overrides)
    if not s.app:
        usage_error("no application: name it (MODULE:CALLABLE) or set "
                    "[python] app")
    sys.path[:0] = list(s.pythonpath)
    if s.patch:
        _patch.patch()
    if args.test:
        try:
            load_app(s.app)
        except Exception as e:
            print("ringlet: cannot load %s: %s: %s"
                  % (s.app, type(e).__name__, e), file=sys.stderr)
            return 1
        print("ringlet: configuration %s is ok, %s loads"
              % (cfg.name, s.app), file=sys.stderr)
        return 0
    try:
        cfg.open_log()
    except OSError as e:
        print("ringlet: cannot open the error log: %s" % e, file=sys.stderr)
        return 1

    preloaded = None
    if s.preload:
        try:
            preloaded = load_app(s.app)
        except Exception:
            import traceback
            for line in traceback.format_exc().splitlines():
                _ringlet.log(_ringlet.LOG_ERROR, line)
            _ringlet.log(_ringlet.LOG_ERROR, "cannot preload %s" % s.app)
            return 1
        # What the import made is shared copy-on-write by the workers:
        # moved out of the collector's sight, the collector does not touch
        # (and so copy) those pages.
        gc.collect()
        gc.freeze()

    def worker(w):
        ws = _config.settings(w.python, **overrides)
        if ws.gc_threshold:
            gc.set_threshold(*ws.gc_threshold)
        _threads.configure(ws.threads)
        if preloaded is not None:
            app = preloaded
        else:
            sys.path[:0] = [d for d in ws.pythonpath if d not in sys.path]
            try:
                app = load_app(ws.app)
            except Exception:
                import traceback
                for line in traceback.format_exc().splitlines():
                    _ringlet.log(_ringlet.LOG_ERROR, line)
                _ringlet.log(_ringlet.LOG_ERROR,
                             "worker %d cannot load %s" % (w.slot, ws.app))
                return 1
        return w.serve(app, max_greenlets=ws.max_greenlets)

    return _ringlet.master(cfg, worker)


if __name__ == "__main__":
    sys.exit(main())
