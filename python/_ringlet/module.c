/* module.c: the module ringlet._ringlet (multi-phase init, its state the
 * worker's struct rg_py_front) and what it calls of the library's
 * operations layer, so the Python front runs on the same configuration
 * reader, error log, pre-fork master and worker as the ringlet binary:
 * load() reads a configuration with the [python] table (checked by the
 * package's validator), master() hands it to rg_master_run, each worker
 * process calls the package back with a Worker whose serve() runs
 * rg_worker_serve with the greenlet runner and the WSGI handler. Also the
 * cooperative calls a request's greenlet makes: sleep() and wait_fd(). */
#include "ext.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct rg_py_front *rg_py_front(PyObject *module)
{
	return PyModule_GetState(module);
}

struct rg_py_front *rg_py_front_of_type(PyTypeObject *type)
{
	return PyType_GetModuleState(type);
}

void rg_py_log_exception(struct rg_py_front *f, const char *what)
{
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
	if (!type)
		return;
	PyErr_NormalizeException(&type, &value, &tb);
	if (!f->traceback) { /* imported on the first error: ~1 MB idle */
		PyObject *m = PyImport_ImportModule("traceback");
		f->traceback =
		    m ? PyObject_GetAttrString(m, "format_exception") : NULL;
		Py_XDECREF(m);
	}
	PyObject *lines =
	    f->traceback
		? PyObject_CallFunctionObjArgs(f->traceback, type, value,
					       tb ? tb : Py_None, NULL)
		: NULL;
	PyObject *text = lines ? PyUnicode_Join(f->keys[K_EMPTY], lines) : NULL;
	const char *s = text ? PyUnicode_AsUTF8(text) : NULL;
	if (s) {
		rg_log(RG_LOG_ERROR, "%s:", what);
		for (const char *p = s; *p;) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);
			if (n)
				rg_log(RG_LOG_ERROR, "%.*s", (int)n, p);
			p += n + (nl != NULL);
		}
	} else {
		PyErr_Clear();
		rg_log(RG_LOG_ERROR,
		       "%s (and its traceback could not be "
		       "formatted)",
		       what);
	}
	Py_XDECREF(text);
	Py_XDECREF(lines);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
}

/* ------------------------------------------------------------------------
 * Configuration values as Python objects
 * ------------------------------------------------------------------------ */

static PyObject *value_to_py(const struct rg_config_value *v)
{
	switch (v->type) {
	case RG_CONFIG_STRING:
		return PyUnicode_FromString(v->string);
	case RG_CONFIG_INTEGER:
		return PyLong_FromLongLong(v->integer);
	case RG_CONFIG_BOOLEAN:
		return PyBool_FromLong((long)v->integer);
	case RG_CONFIG_ARRAY: {
		PyObject *l = PyList_New(v->nitems);
		for (unsigned i = 0; l && i < v->nitems; i++) {
			PyObject *s = PyUnicode_FromString(v->items[i]);
			if (!s) {
				Py_CLEAR(l);
				break;
			}
			PyList_SET_ITEM(l, i, s);
		}
		return l;
	}
	}
	Py_RETURN_NONE;
}

/* The [python] table of `c` as a dict. */
static PyObject *python_table(const struct rg_config *c)
{
	PyObject *d = PyDict_New();
	for (unsigned i = 0; d && i < c->nentries; i++) {
		const struct rg_config_entry *e = &c->entries[i];
		if (strcmp(e->table, "python"))
			continue;
		PyObject *v = value_to_py(&e->value);
		if (!v || PyDict_SetItemString(d, e->key, v) < 0)
			Py_CLEAR(d);
		Py_XDECREF(v);
	}
	return d;
}

/* ------------------------------------------------------------------------
 * Config: a loaded configuration and the source it is read again from
 * ------------------------------------------------------------------------ */

struct config_obj {
	PyObject_HEAD struct rg_config c;
	struct rg_config_source src;
	struct rg_config_table table;
	PyObject *validate; /* validate(key, value) for [python] */
	PyObject *keep;	    /* the bytes src's strings point into */
	bool loaded, taken; /* taken: the master owns c */
};

/* rg_config_table.key: the package's validator decides. */
static int python_key(void *arg, const char *key,
		      const struct rg_config_value *v, char *err, size_t len)
{
	struct config_obj *co = arg;
	PyObject *pv = value_to_py(v);
	PyObject *r =
	    pv ? PyObject_CallFunction(co->validate, "sO", key, pv) : NULL;
	Py_XDECREF(pv);
	if (r) {
		Py_DECREF(r);
		return 0;
	}
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
	PyObject *s = value ? PyObject_Str(value) : NULL;
	const char *m = s ? PyUnicode_AsUTF8(s) : NULL;
	snprintf(err, len, "%s", m ? m : "invalid value");
	PyErr_Clear();
	Py_XDECREF(s);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	return -EINVAL;
}

static void config_dealloc(PyObject *self)
{
	struct config_obj *co = (struct config_obj *)self;
	PyTypeObject *tp = Py_TYPE(self);
	if (co->loaded && !co->taken)
		rg_config_free(&co->c);
	Py_CLEAR(co->validate);
	Py_CLEAR(co->keep);
	tp->tp_free(self);
	Py_DECREF(tp);
}

/* A str argument as UTF-8 kept alive in `keep`, or NULL for None. */
static int keep_str(PyObject *keep, PyObject *s, const char **out)
{
	*out = NULL;
	if (s == Py_None)
		return 0;
	PyObject *b = PyUnicode_AsUTF8String(s);
	if (!b || PyList_Append(keep, b) < 0) {
		Py_XDECREF(b);
		return -1;
	}
	*out = PyBytes_AS_STRING(b);
	Py_DECREF(b);
	return 0;
}

/* The [status] endpoints of the Python front, unless the file says
 * otherwise: under /_ringlet/, since every other path is the
 * application's (a Flask app's own /status or /metrics must not answer
 * 403 to the world). */
static const struct rg_status_config python_status = {
    .stats_path = "/_ringlet/stats",
    .metrics_path = "/_ringlet/metrics",
    .page_path = "/_ringlet/status",
    .health_path = "/_ringlet/healthz",
    .allow = {.range = {{AF_INET, 32, {127, 0, 0, 1}},
			{AF_INET6, 128, {[15] = 1}}},
	      .n = 2},
};

static PyObject *py_load(PyObject *module, PyObject *args, PyObject *kw)
{
	static char *names[] = {
	    "path", "embedded", "validate",	   "port", "host", "workers",
	    "io",   "root",	"max_connections", NULL};
	PyObject *path = Py_None, *embedded, *validate, *host = Py_None,
		 *root = Py_None;
	int port = -1, io = -1;
	unsigned workers = 0, max_conn = 0;
	if (!PyArg_ParseTupleAndKeywords(
		args, kw, "OUO|iOIiOI:load", names, &path, &embedded, &validate,
		&port, &host, &workers, &io, &root, &max_conn))
		return NULL;
	struct rg_py_front *f = rg_py_front(module);
	struct config_obj *co =
	    (struct config_obj *)f->config_type->tp_alloc(f->config_type, 0);
	if (!co)
		return NULL;
	co->validate = Py_NewRef(validate);
	if (!(co->keep = PyList_New(0)))
		goto fail;
	rg_config_source_init(&co->src, NULL);
	co->table = (struct rg_config_table){"python", python_key, co};
	if (keep_str(co->keep, path, &co->src.path) < 0 ||
	    keep_str(co->keep, embedded, &co->src.embedded) < 0 ||
	    keep_str(co->keep, host, &co->src.host) < 0 ||
	    keep_str(co->keep, root, &co->src.root) < 0)
		goto fail;
	co->src.port = port;
	co->src.workers = workers;
	co->src.io_backend = io;
	co->src.max_connections = max_conn;
	co->src.tables = &co->table;
	co->src.ntables = 1;
	co->src.status = &python_status;
	char err[512];
	if (rg_config_load(&co->c, &co->src, err, sizeof(err)) < 0) {
		rg_config_free(&co->c);
		PyErr_SetString(PyExc_ValueError, err);
		goto fail;
	}
	co->loaded = true;
	return (PyObject *)co;
fail:
	Py_DECREF(co);
	return NULL;
}

static PyObject *config_check(PyObject *self, PyObject *unused)
{
	(void)unused;
	struct config_obj *co = (struct config_obj *)self;
	char err[512];
	if (co->taken) {
		PyErr_SetString(PyExc_RuntimeError, "the master owns it");
		return NULL;
	}
	if (rg_config_check(&co->c, err, sizeof(err)) < 0) {
		PyErr_SetString(PyExc_ValueError, err);
		return NULL;
	}
	Py_RETURN_NONE;
}

/* Opens the configuration's error log for this process. */
static PyObject *config_open_log(PyObject *self, PyObject *unused)
{
	(void)unused;
	struct config_obj *co = (struct config_obj *)self;
	if (rg_log_open(co->c.error_log, co->c.log_level) < 0)
		return PyErr_SetFromErrnoWithFilename(PyExc_OSError,
						      co->c.error_log);
	Py_RETURN_NONE;
}

static PyObject *config_get(PyObject *self, void *what)
{
	struct config_obj *co = (struct config_obj *)self;
	if (co->taken) {
		PyErr_SetString(PyExc_RuntimeError, "the master owns it");
		return NULL;
	}
	const char *w = what;
	if (!strcmp(w, "python"))
		return python_table(&co->c);
	if (!strcmp(w, "name"))
		return PyUnicode_FromString(co->c.name);
	if (!strcmp(w, "workers"))
		return PyLong_FromUnsignedLong(co->c.workers);
	PyObject *l = PyList_New(co->c.nlisten);
	for (unsigned i = 0; l && i < co->c.nlisten; i++) {
		PyObject *t = Py_BuildValue("(sH)", co->c.listen[i].host,
					    co->c.listen[i].port);
		if (!t) {
			Py_CLEAR(l);
			break;
		}
		PyList_SET_ITEM(l, i, t);
	}
	return l;
}

static PyMethodDef config_methods[] = {
    {"check", config_check, METH_NOARGS,
     "what -t checks beyond the syntax; ValueError with the reason"},
    {"open_log", config_open_log, METH_NOARGS,
     "sends this process's log lines to the configured error log"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef config_getset[] = {
    {"python", config_get, NULL, "the [python] table, a dict", "python"},
    {"name", config_get, NULL, "the file's path, or (embedded)", "name"},
    {"workers", config_get, NULL, "worker processes", "workers"},
    {"listen", config_get, NULL, "[(host, port)]", "listen"},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot config_slots[] = {
    {Py_tp_dealloc, config_dealloc},
    {Py_tp_methods, config_methods},
    {Py_tp_getset, config_getset},
    {Py_tp_doc, "a configuration read by load()"},
    {0, NULL},
};

static PyType_Spec config_spec = {
    .name = "ringlet._ringlet.Config",
    .basicsize = sizeof(struct config_obj),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION |
	     Py_TPFLAGS_IMMUTABLETYPE,
    .slots = config_slots,
};

/* ------------------------------------------------------------------------
 * The master and its workers
 * ------------------------------------------------------------------------ */

struct worker_obj {
	PyObject_HEAD const struct rg_worker
	    *w; /* NULL once the call is over */
	PyObject *module;
	unsigned long max_greenlets;
};

struct master_ctx {
	PyObject *module;
	PyObject *worker_fn;
};

/* In the worker process, right after the fork: the interpreter's state
 * is made whole again (threads, locks, os.register_at_fork), then the
 * package's worker body runs. Its result is the exit status. */
static int worker_main(const struct rg_worker *w, void *arg)
{
	struct master_ctx *m = arg;
	PyOS_AfterFork_Child();
	struct rg_py_front *f = rg_py_front(m->module);
	struct worker_obj *wo =
	    (struct worker_obj *)f->worker_type->tp_alloc(f->worker_type, 0);
	if (!wo) {
		rg_py_log_exception(f, "cannot start the worker");
		return 1;
	}
	wo->w = w;
	wo->module = Py_NewRef(m->module);
	PyObject *r = PyObject_CallOneArg(m->worker_fn, (PyObject *)wo);
	wo->w = NULL;
	Py_DECREF(wo);
	int status = 1;
	if (!r) {
		if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
			PyErr_Clear();
		} else {
			rg_py_log_exception(f, "the worker failed");
		}
	} else {
		status = r == Py_None ? 0 : (int)PyLong_AsLong(r);
		Py_DECREF(r);
		PyErr_Clear();
	}
	/* The process ends with exit(): what Python buffered goes now. */
	PyObject *out = PySys_GetObject("stdout"),
		 *err = PySys_GetObject("stderr");
	PyObject *t;
	if (out && (t = PyObject_CallMethod(out, "flush", NULL)))
		Py_DECREF(t);
	if (err && (t = PyObject_CallMethod(err, "flush", NULL)))
		Py_DECREF(t);
	PyErr_Clear();
	return status;
}

static PyObject *py_master(PyObject *module, PyObject *args)
{
	PyObject *cfg, *fn;
	struct rg_py_front *f = rg_py_front(module);
	if (!PyArg_ParseTuple(args, "O!O:master", f->config_type, &cfg, &fn))
		return NULL;
	struct config_obj *co = (struct config_obj *)cfg;
	if (co->taken) {
		PyErr_SetString(PyExc_RuntimeError, "master() runs once");
		return NULL;
	}
	struct master_ctx m = {module, fn};
	co->taken = true;
	/* The master keeps the GIL: it forks, and a child can only mend the
	 * interpreter after a fork made by a thread that held it. Python
	 * threads of the master do not run meanwhile. */
	int status = rg_master_run(&co->c, &co->src, worker_main, &m);
	if (PyErr_Occurred())
		return NULL;
	return PyLong_FromLong(status);
}

static void worker_dealloc(PyObject *self)
{
	struct worker_obj *wo = (struct worker_obj *)self;
	PyTypeObject *tp = Py_TYPE(self);
	Py_CLEAR(wo->module);
	tp->tp_free(self);
	Py_DECREF(tp);
}

static int worker_alive(struct worker_obj *wo)
{
	if (wo->w)
		return 0;
	PyErr_SetString(PyExc_RuntimeError, "the worker call is over");
	return -1;
}

static PyObject *worker_get(PyObject *self, void *what)
{
	struct worker_obj *wo = (struct worker_obj *)self;
	if (worker_alive(wo) < 0)
		return NULL;
	if (!strcmp(what, "python"))
		return python_table(wo->w->config);
	if (!strcmp(what, "slot"))
		return PyLong_FromUnsignedLong(wo->w->slot);
	return PyUnicode_FromString(wo->w->config->name);
}

struct serve_ctx {
	struct rg_py_front *f;
	struct rg_stats_extra stats;
};

static void serve_configure(struct rg_server_config *sc,
			    const struct rg_config *c, void *arg)
{
	(void)c;
	struct serve_ctx *s = arg;
	sc->runner = &s->f->runner.ops;
	sc->blocking = rg_py_blocking;
	sc->blocking_arg = &s->f->runner;
	sc->stats_extra = &s->stats;
}

static int serve_setup(struct rg_server *server, const struct rg_config *c,
		       void *arg)
{
	struct serve_ctx *s = arg;
	int rc = rg_status_routes(server, &c->status);
	if (rc == 0)
		rc = rg_route(server, NULL, "/*", rg_py_wsgi_handler, s->f);
	return rc;
}

/* serve(app, max_greenlets=1024): runs this worker until it is told to
 * stop; returns its exit status. */
static PyObject *worker_serve(PyObject *self, PyObject *args, PyObject *kw)
{
	struct worker_obj *wo = (struct worker_obj *)self;
	static char *names[] = {"app", "max_greenlets", NULL};
	PyObject *app;
	unsigned long max = 1024;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|k:serve", names, &app,
					 &max))
		return NULL;
	if (worker_alive(wo) < 0)
		return NULL;
	if (!PyCallable_Check(app)) {
		PyErr_SetString(PyExc_TypeError, "the application must be "
						 "callable");
		return NULL;
	}
	if (max < 1)
		max = 1;
	struct rg_py_front *f = rg_py_front(wo->module);
	if (rg_py_runner_init(&f->runner, wo->module, max) < 0)
		return NULL;
	const struct rg_config *c = wo->w->config;
	Py_XSETREF(f->server_name, PyUnicode_FromString(c->listen[0].host));
	Py_XSETREF(f->server_port,
		   PyUnicode_FromFormat("%u", (unsigned)c->listen[0].port));
	if (!f->server_name || !f->server_port) {
		rg_py_runner_free(&f->runner);
		return NULL;
	}
	if (rg_py_stats_start(f, wo->module) < 0) {
		rg_py_runner_free(&f->runner);
		return NULL;
	}
	f->app = Py_NewRef(app);
	struct serve_ctx s = {f, rg_py_stats_template};
	s.stats.arg = f;
	const struct rg_worker_ops ops = {
	    .configure = serve_configure, .setup = serve_setup, .arg = &s};
	int status = rg_worker_serve(wo->w, &ops);
	Py_CLEAR(f->app);
	rg_py_stats_stop(f);
	rg_py_runner_free(&f->runner);
	return PyLong_FromLong(status);
}

static PyMethodDef worker_methods[] = {
    {"serve", (PyCFunction)(void (*)(void))worker_serve,
     METH_VARARGS | METH_KEYWORDS,
     "serve(app, max_greenlets=1024): runs the worker; returns its "
     "exit status"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef worker_getset[] = {
    {"python", worker_get, NULL, "the worker configuration's [python]",
     "python"},
    {"slot", worker_get, NULL, "its slot on the statistics board", "slot"},
    {"config_name", worker_get, NULL, "the configuration's name", "name"},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot worker_slots[] = {
    {Py_tp_dealloc, worker_dealloc},
    {Py_tp_methods, worker_methods},
    {Py_tp_getset, worker_getset},
    {Py_tp_doc, "a worker process, as master() starts it"},
    {0, NULL},
};

static PyType_Spec worker_spec = {
    .name = "ringlet._ringlet.Worker",
    .basicsize = sizeof(struct worker_obj),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION |
	     Py_TPFLAGS_IMMUTABLETYPE,
    .slots = worker_slots,
};

/* ------------------------------------------------------------------------
 * Cooperative calls
 * ------------------------------------------------------------------------ */

static uint32_t timeout_ms(double seconds)
{
	if (seconds <= 0)
		return 0;
	double ms = seconds * 1000.0;
	if (ms >= 4e9)
		return 4000000000u;
	uint32_t v = (uint32_t)ms;
	return v < ms ? v + 1 : (v ? v : 1); /* never shorter */
}

static PyObject *stopping(void)
{
	errno = ECANCELED;
	return PyErr_Format(PyExc_OSError,
			    "[Errno %d] the worker is "
			    "stopping",
			    ECANCELED);
}

/* sleep(seconds): suspends the request's greenlet; blocks (without the
 * GIL) outside a request. */
static PyObject *py_sleep(PyObject *module, PyObject *arg)
{
	double s = PyFloat_AsDouble(arg);
	if (s == -1.0 && PyErr_Occurred())
		return NULL;
	if (s < 0) {
		PyErr_SetString(PyExc_ValueError, "sleep length must be "
						  "non-negative");
		return NULL;
	}
	struct rg_py_front *f = rg_py_front(module);
	if (rg_py_in_request(&f->runner)) {
		int rc = rg_sleep(s > 0 ? timeout_ms(s) : 0);
		if (rc == -ECANCELED)
			return stopping();
		Py_RETURN_NONE;
	}
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	for (;;) {
		int rc;
		Py_BEGIN_ALLOW_THREADS;
		rc = nanosleep(&ts, &ts);
		Py_END_ALLOW_THREADS;
		if (rc == 0 || errno != EINTR)
			Py_RETURN_NONE;
		if (PyErr_CheckSignals() < 0)
			return NULL; /* as time.sleep: a handler raised */
	}
}

/* wait_fd(fd, write, timeout=None): True once the fd is ready, False when
 * timeout seconds pass first. */
static PyObject *py_wait_fd(PyObject *module, PyObject *args)
{
	int fd, write;
	PyObject *timeout = Py_None;
	if (!PyArg_ParseTuple(args, "ip|O:wait_fd", &fd, &write, &timeout))
		return NULL;
	double t = -1;
	if (timeout != Py_None &&
	    ((t = PyFloat_AsDouble(timeout)) == -1.0 && PyErr_Occurred()))
		return NULL;
	short ev = write ? POLLOUT : POLLIN;
	struct rg_py_front *f = rg_py_front(module);
	if (rg_py_in_request(&f->runner)) {
		if (t == 0)
			Py_RETURN_FALSE;
		int rc = rg_fd_wait(fd, ev, t > 0 ? timeout_ms(t) : 0);
		if (rc == -ETIMEDOUT)
			Py_RETURN_FALSE;
		if (rc == -ECANCELED)
			return stopping();
		if (rc < 0) {
			errno = -rc;
			return PyErr_SetFromErrno(PyExc_OSError);
		}
		Py_RETURN_TRUE;
	}
	struct pollfd p = {.fd = fd, .events = ev};
	int rc, ms = t < 0     ? -1
		     : t > 2e6 ? 2000000000
			       : (int)(t * 1000 + 0.999);
	Py_BEGIN_ALLOW_THREADS;
	rc = poll(&p, 1, ms);
	Py_END_ALLOW_THREADS;
	if (rc < 0)
		return PyErr_SetFromErrno(PyExc_OSError);
	return PyBool_FromLong(rc > 0);
}

static PyObject *py_in_request(PyObject *module, PyObject *unused)
{
	(void)unused;
	return PyBool_FromLong(rg_py_in_request(&rg_py_front(module)->runner));
}

static PyObject *py_log(PyObject *module, PyObject *args)
{
	(void)module;
	int level;
	const char *msg;
	if (!PyArg_ParseTuple(args, "is:log", &level, &msg))
		return NULL;
	if (level < RG_LOG_ERROR || level > RG_LOG_DEBUG)
		level = RG_LOG_INFO;
	rg_log((enum rg_log_level)level, "%s", msg);
	Py_RETURN_NONE;
}

/* What the front's greenlet pool and calls did in this worker. */
static PyObject *py_front_stats(PyObject *module, PyObject *unused)
{
	(void)unused;
	struct rg_py_front *f = rg_py_front(module);
	return Py_BuildValue(
	    "{sksksksksksk}", "greenlets_max", f->runner.max,
	    "greenlets_created", f->runner.created, "greenlets_in_use",
	    f->runner.live, "greenlets_high_water", f->runner.high_water,
	    "requests", f->requests, "app_errors", f->app_errors);
}

static PyMethodDef module_methods[] = {
    {"load", (PyCFunction)(void (*)(void))py_load, METH_VARARGS | METH_KEYWORDS,
     "load(path, embedded, validate, port=-1, host=None, workers=0, io=-1, "
     "root=None, max_connections=0): reads a configuration"},
    {"master", py_master, METH_VARARGS,
     "master(config, worker): the pre-fork master; returns the exit "
     "status"},
    {"sleep", py_sleep, METH_O, "sleep(seconds), cooperatively"},
    {"wait_fd", py_wait_fd, METH_VARARGS,
     "wait_fd(fd, write, timeout=None): True when ready, False on "
     "timeout"},
    {"in_request", py_in_request, METH_NOARGS,
     "whether the caller runs in a request's greenlet"},
    {"log", py_log, METH_VARARGS, "log(level, message): to the error log"},
    {"front_stats", py_front_stats, METH_NOARGS,
     "the greenlet pool's figures in this worker"},
    {NULL, NULL, 0, NULL},
};

/* ------------------------------------------------------------------------
 * Module
 * ------------------------------------------------------------------------ */

static int add_type(PyObject *m, PyType_Spec *spec, PyTypeObject **out)
{
	*out = (PyTypeObject *)PyType_FromModuleAndSpec(m, spec, NULL);
	if (!*out)
		return -1;
	const char *dot = strrchr(spec->name, '.');
	return PyModule_AddObjectRef(m, dot + 1, (PyObject *)*out);
}

static int module_exec(PyObject *m)
{
	struct rg_py_front *f = rg_py_front(m);
	if (rg_py_greenlet_import() < 0)
		return -1;
	if (add_type(m, &rg_py_start_response_spec, &f->start_response_type) ||
	    add_type(m, &rg_py_input_spec, &f->input_type) ||
	    add_type(m, &rg_py_errors_spec, &f->errors_type) ||
	    add_type(m, &rg_py_file_wrapper_spec, &f->file_wrapper_type) ||
	    add_type(m, &config_spec, &f->config_type) ||
	    add_type(m, &worker_spec, &f->worker_type))
		return -1;
	f->body_error = PyErr_NewExceptionWithDoc(
	    "ringlet.BodyError",
	    "The request body could not be read: errno says why (ETIMEDOUT, "
	    "EMSGSIZE, EBADMSG, ECONNRESET).",
	    PyExc_OSError, NULL);
	if (!f->body_error ||
	    PyModule_AddObjectRef(m, "BodyError", f->body_error) < 0)
		return -1;
	if (rg_py_environ_init(f, m) < 0)
		return -1;
	if (PyModule_AddStringConstant(m, "VERSION", RG_VERSION) < 0 ||
	    PyModule_AddIntConstant(m, "LOG_ERROR", RG_LOG_ERROR) < 0 ||
	    PyModule_AddIntConstant(m, "LOG_WARN", RG_LOG_WARN) < 0 ||
	    PyModule_AddIntConstant(m, "LOG_INFO", RG_LOG_INFO) < 0 ||
	    PyModule_AddIntConstant(m, "LOG_DEBUG", RG_LOG_DEBUG) < 0)
		return -1;
	return 0;
}

static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
	struct rg_py_front *f = rg_py_front(m);
	if (!f)
		return 0;
	Py_VISIT(f->app);
	Py_VISIT(f->start_response_type);
	Py_VISIT(f->input_type);
	Py_VISIT(f->errors_type);
	Py_VISIT(f->file_wrapper_type);
	Py_VISIT(f->config_type);
	Py_VISIT(f->worker_type);
	Py_VISIT(f->body_error);
	Py_VISIT(f->traceback);
	Py_VISIT(f->environ);
	return 0;
}

static int module_clear(PyObject *m)
{
	struct rg_py_front *f = rg_py_front(m);
	if (!f)
		return 0;
	Py_CLEAR(f->app);
	rg_py_environ_clear(f);
	Py_CLEAR(f->start_response_type);
	Py_CLEAR(f->input_type);
	Py_CLEAR(f->errors_type);
	Py_CLEAR(f->file_wrapper_type);
	Py_CLEAR(f->config_type);
	Py_CLEAR(f->worker_type);
	Py_CLEAR(f->body_error);
	Py_CLEAR(f->traceback);
	return 0;
}

static void module_free(void *m)
{
	module_clear(m);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "ringlet._ringlet",
    .m_doc = "The native part of ringlet's Python front: the WSGI hot path "
	     "over libringlet.",
    .m_size = sizeof(struct rg_py_front),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__ringlet(void);
PyMODINIT_FUNC PyInit__ringlet(void)
{
	return PyModuleDef_Init(&module_def);
}
