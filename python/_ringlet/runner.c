/* runner.c: the rg_runner of the Python front: each request's handler runs
 * on a greenlet taken from the worker's pool (LIFO, created on demand up to
 * a cap, kept after its request like the C front's coroutine stacks), and
 * suspends by switching back to the greenlet that started or resumed it,
 * the hub where the loop runs. CPython's frames survive these switches; a
 * raw C stack switch would corrupt the interpreter's state. The loop
 * gives the GIL up while it waits in the kernel (rg_py_blocking). */
#include "ext.h"

#include <greenlet/greenlet.h>

/* The body of every pooled greenlet: runs the job it is given, goes back
 * to the idle list and to the hub, and waits there for the next one. It
 * ends (returns) only when the pool is freed (GreenletExit). */
static PyObject *task_main(PyObject *self, PyObject *cap)
{
	(void)self;
	struct rg_py_task *t = PyCapsule_GetPointer(cap, NULL);
	if (!t)
		return NULL;
	struct rg_py_runner *r = t->runner;
	for (;;) {
		t->fn(t->arg);
		t->fn = NULL;
		r->live--;
		r->current = NULL;
		t->next = r->idle;
		r->idle = t;
		PyObject *res =
		    PyGreenlet_Switch((PyGreenlet *)t->back, r->empty, NULL);
		if (!res)
			return NULL; /* GreenletExit: the pool is going */
		Py_DECREF(res);
	}
}

static PyMethodDef task_def = {"_request_task", task_main, METH_O, NULL};

/* Switches to g; the value it switches back with is of no interest. */
static void switch_to(PyObject *g, PyObject *args)
{
	PyObject *res = PyGreenlet_Switch((PyGreenlet *)g, args, NULL);
	if (res) {
		Py_DECREF(res);
		return;
	}
	/* Nothing raises across these switches but a failure of greenlet
	 * itself; say so and go on. */
	PyErr_WriteUnraisable(NULL);
}

static PyObject *current_greenlet(void)
{
	PyObject *g = (PyObject *)PyGreenlet_GetCurrent();
	Py_XDECREF(g); /* borrowed: it is running, and outlives the switch */
	return g;
}

static int start(void *ctx, void (*fn)(void *arg), void *arg)
{
	struct rg_py_runner *r = ctx;
	struct rg_py_task *t = r->idle;
	PyObject *args = r->empty;
	if (t) {
		r->idle = t->next;
	} else if (r->created < r->max) {
		t = &r->tasks[r->created];
		t->runner = r;
		t->g = (PyObject *)PyGreenlet_New(r->main, NULL);
		if (!t->g) {
			PyErr_WriteUnraisable(NULL);
			return -ENOMEM;
		}
		r->created++;
	} else {
		return -EAGAIN; /* every greenlet is busy: 503 */
	}
	PyObject *cap = NULL;
	if (!PyGreenlet_STARTED((PyGreenlet *)t->g)) {
		cap = PyCapsule_New(t, NULL, NULL);
		args = cap ? PyTuple_Pack(1, cap) : NULL;
		Py_XDECREF(cap);
		if (!args) {
			PyErr_WriteUnraisable(NULL);
			t->next = r->idle;
			r->idle = t;
			return -ENOMEM;
		}
	}
	t->fn = fn;
	t->arg = arg;
	t->back = current_greenlet();
	if (++r->live > r->high_water)
		r->high_water = r->live;
	struct rg_py_task *outer = r->current;
	r->current = t;
	switch_to(t->g, args);
	r->current = outer;
	if (args != r->empty)
		Py_DECREF(args);
	return 0;
}

static void *self(void *ctx)
{
	struct rg_py_runner *r = ctx;
	return r->current;
}

static void suspend(void *ctx)
{
	struct rg_py_runner *r = ctx;
	struct rg_py_task *t = r->current;
	switch_to(t->back, r->empty);
	r->current = t; /* resumed */
}

static void resume(void *ctx, void *task)
{
	struct rg_py_runner *r = ctx;
	struct rg_py_task *t = task;
	struct rg_py_task *outer = r->current;
	t->back = current_greenlet();
	r->current = t;
	switch_to(t->g, r->empty);
	r->current = outer;
}

static unsigned long live(void *ctx)
{
	const struct rg_py_runner *r = ctx;
	return r->live;
}

int rg_py_greenlet_import(void)
{
	PyGreenlet_Import();
	return _PyGreenlet_API ? 0 : -1;
}

int rg_py_runner_init(struct rg_py_runner *r, PyObject *module,
		      unsigned long max)
{
	*r = (struct rg_py_runner){.max = max};
	r->tasks = PyMem_Calloc(max, sizeof(*r->tasks));
	r->main = PyCFunction_New(&task_def, module);
	r->empty = PyTuple_New(0);
	if (!r->tasks || !r->main || !r->empty) {
		rg_py_runner_free(r);
		PyErr_NoMemory();
		return -1;
	}
	r->ops = (struct rg_runner){start, self, suspend, resume, live, r};
	return 0;
}

void rg_py_runner_free(struct rg_py_runner *r)
{
	/* A started greenlet dropped while it waits in task_main is thrown
	 * GreenletExit, and unwinds. */
	for (unsigned long i = 0; r->tasks && i < r->created; i++)
		Py_CLEAR(r->tasks[i].g);
	PyMem_Free(r->tasks);
	Py_CLEAR(r->main);
	Py_CLEAR(r->empty);
	*r = (struct rg_py_runner){0};
}

bool rg_py_in_request(const struct rg_py_runner *r)
{
	/* Not on another thread (a pool thread runs while the loop's thread
	 * is inside a request), nor on a greenlet the application made. */
	return r->current && r->current->g == current_greenlet();
}

void rg_py_blocking(void *arg, bool blocked)
{
	struct rg_py_runner *r = arg;
	if (blocked)
		r->saved = PyEval_SaveThread();
	else
		PyEval_RestoreThread(r->saved);
}
