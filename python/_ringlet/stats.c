/* stats.c: what the Python front adds to the library's statistics: the
 * "python" section of /stats (an rg_stats_extra, published with the
 * worker's figures): WSGI calls and application errors, the greenlet pool
 * (in use, high water, created), the collector (collections per
 * generation, total and longest pause, timed by a gc.callbacks entry) and
 * the interpreter's allocated blocks. */
#include "ext.h"

#include <string.h>
#include <time.h>

enum {
	X_REQUESTS,
	X_APP_ERRORS,
	X_GREENLETS_IN_USE,
	X_GREENLETS_HIGH_WATER,
	X_GREENLETS_CREATED,
	X_GREENLETS_MAX,
	X_GC0,
	X_GC1,
	X_GC2,
	X_GC_PAUSE_US,
	X_GC_LONGEST_US,
	X_ALLOCATED_BLOCKS,
};

/* sys.getallocatedblocks(): pymalloc's blocks in use. */
static uint64_t allocated_blocks(void)
{
	PyObject *sys = PyImport_ImportModule("sys");
	PyObject *n = sys ? PyObject_CallMethod(sys, "getallocatedblocks", NULL)
			  : NULL;
	long long v = n ? PyLong_AsLongLong(n) : 0;
	Py_XDECREF(n);
	Py_XDECREF(sys);
	PyErr_Clear();
	return v > 0 ? (uint64_t)v : 0;
}

static void read_figures(void *arg, uint64_t *v)
{
	const struct rg_py_front *f = arg;
	v[X_REQUESTS] = f->requests;
	v[X_APP_ERRORS] = f->app_errors;
	v[X_GREENLETS_IN_USE] = f->runner.live;
	v[X_GREENLETS_HIGH_WATER] = f->runner.high_water;
	v[X_GREENLETS_CREATED] = f->runner.created;
	v[X_GREENLETS_MAX] = f->runner.max;
	for (int g = 0; g < 3; g++)
		v[X_GC0 + g] = f->gc_collections[g];
	v[X_GC_PAUSE_US] = f->gc_pause_ns / 1000;
	v[X_GC_LONGEST_US] = f->gc_longest_ns / 1000;
	v[X_ALLOCATED_BLOCKS] = allocated_blocks();
}

const struct rg_stats_extra rg_py_stats_template = {
    .section = "python",
    .names = {"wsgi_calls", "app_errors", "greenlets_in_use",
	      "greenlets_high_water", "greenlets_created", "greenlets_max",
	      "gc_collections_gen0", "gc_collections_gen1",
	      "gc_collections_gen2", "gc_pause_total_us", "gc_pause_longest_us",
	      "allocated_blocks"},
    .max_mask = 1u << X_GC_LONGEST_US,
    .gauge_mask = 1u << X_ALLOCATED_BLOCKS,
    .read = read_figures,
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* gc.callbacks: callback(phase, info), phase "start" or "stop". */
static PyObject *on_gc(PyObject *module, PyObject *const *args,
		       Py_ssize_t nargs)
{
	struct rg_py_front *f = rg_py_front(module);
	if (nargs != 2 || !PyUnicode_Check(args[0]))
		Py_RETURN_NONE;
	if (PyUnicode_CompareWithASCIIString(args[0], "start") == 0) {
		f->gc_started_ns = now_ns();
		Py_RETURN_NONE;
	}
	if (!f->gc_started_ns)
		Py_RETURN_NONE;
	uint64_t took = now_ns() - f->gc_started_ns;
	f->gc_started_ns = 0;
	f->gc_pause_ns += took;
	if (took > f->gc_longest_ns)
		f->gc_longest_ns = took;
	PyObject *gen = PyDict_Check(args[1])
			    ? PyDict_GetItemString(args[1], "generation")
			    : NULL; /* borrowed */
	long g = gen ? PyLong_AsLong(gen) : -1;
	if (g >= 0 && g < 3)
		f->gc_collections[g]++;
	PyErr_Clear();
	Py_RETURN_NONE;
}

static PyMethodDef gc_def = {"_gc_timer", (PyCFunction)(void (*)(void))on_gc,
			     METH_FASTCALL, NULL};

static PyObject *gc_callbacks(void)
{
	PyObject *gc = PyImport_ImportModule("gc");
	PyObject *cbs = gc ? PyObject_GetAttrString(gc, "callbacks") : NULL;
	Py_XDECREF(gc);
	return cbs;
}

int rg_py_stats_start(struct rg_py_front *f, PyObject *module)
{
	memset(f->gc_collections, 0, sizeof(f->gc_collections));
	f->gc_pause_ns = f->gc_longest_ns = f->gc_started_ns = 0;
	PyObject *cbs = gc_callbacks();
	if (!cbs)
		return -1;
	f->gc_callback = PyCFunction_New(&gc_def, module);
	int rc = f->gc_callback ? PyList_Append(cbs, f->gc_callback) : -1;
	Py_DECREF(cbs);
	return rc;
}

void rg_py_stats_stop(struct rg_py_front *f)
{
	PyObject *cbs = gc_callbacks();
	if (cbs && f->gc_callback) {
		PyObject *r =
		    PyObject_CallMethod(cbs, "remove", "O", f->gc_callback);
		Py_XDECREF(r);
	}
	PyErr_Clear();
	Py_XDECREF(cbs);
	Py_CLEAR(f->gc_callback);
}
