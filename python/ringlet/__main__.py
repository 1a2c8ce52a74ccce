"""python3 -m ringlet: runs a WSGI application on ringlet's master and
workers, with the ringlet binary's flags where they apply."""

import argparse
import gc
import importlib
import os
import sys

from . import _config, _patch, _ringlet, _threads

_IO = {"auto": 0, "io_uring": 1, "epoll": 2}


def _parser():
    p = argparse.ArgumentParser(
        prog="python3 -m ringlet",
        description="Serves a WSGI application: a master process and its "
        "workers, one configuration file (without -c, the embedded "
        "default). Runs in the foreground; logs go to the error log "
        "(standard error by default).",
        epilog="Flags override the file, and keep doing so across reloads "
        "(SIGHUP). Signals: TERM/INT stop gracefully, QUIT at once, HUP "
        "reloads the configuration and starts new workers that import the "
        "application afresh, USR1 reopens the logs. Exit status: 0 after "
        "a stop, 1 on a configuration, application or runtime error, 2 on "
        "a usage error.")
    p.add_argument("app", nargs="?", metavar="MODULE:CALLABLE",
                   help="the WSGI application ([python] app); "
                   "MODULE alone means MODULE:application or MODULE:app, "
                   "MODULE:factory() calls a factory")
    p.add_argument("-c", "--config", metavar="FILE",
                   help="read the configuration from FILE")
    p.add_argument("-t", "--test", action="store_true",
                   help="check the configuration and import the "
                   "application, then exit 0 or 1")
    p.add_argument("-p", "--port", type=int, metavar="PORT",
                   help="listen on PORT (0 = any) at every listen address")
    p.add_argument("-w", "--workers", metavar="N",
                   help="worker processes (N or 'auto')")
    p.add_argument("--host", metavar="ADDR",
                   help="listen on ADDR only (numeric IPv4 or IPv6)")
    p.add_argument("--io", choices=sorted(_IO), help="the event loop")
    p.add_argument("--max-connections", type=int, metavar="N",
                   help="per worker")
    p.add_argument("--preload", action="store_true", default=None,
                   help="import the application in the master, before "
                   "the workers fork ([python] preload)")
    p.add_argument("-V", "--version", action="version",
                   version="ringlet %s" % _ringlet.VERSION)
    return p


def _usage(p, args):
    if args.port is not None and not 0 <= args.port <= 65535:
        p.error("-p wants an integer in [0, 65535], not '%s'" % args.port)
    if args.workers is not None and args.workers != "auto":
        if not args.workers.isdigit() or not 1 <= int(args.workers) <= 1024:
            p.error("-w wants an integer in [1, 1024] or 'auto', not '%s'"
                    % args.workers)
    if args.max_connections is not None and \
            not 1 <= args.max_connections <= 10000000:
        p.error("--max-connections wants an integer in [1, 10000000]")


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
    p = _parser()
    args = p.parse_args(argv)
    _usage(p, args)
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
        p.error("no application: name it (MODULE:CALLABLE) or set "
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
