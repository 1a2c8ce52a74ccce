/* input.c: wsgi.input, the request body read lazily through rg_body_read
 * (a read suspends the request's greenlet until bytes arrive; 100 Continue
 * goes out on the first read, as in C), with a small line buffer in the
 * request's arena for readline; and wsgi.errors, lines into the error
 * log. */
#include "ext.h"

#include <string.h>

#define LINE_BUF 8192

struct input {
	PyObject_HEAD
	struct rg_request *req; /* NULL once the request is over */
	struct rg_py_front *f;
	char *buf; /* LINE_BUF bytes in the arena, taken at the first
		      readline; buf[off, len) is read and not yet returned */
	size_t off, len;
	int err; /* the body error met, -errno */
	bool eof;
};

PyObject *rg_py_input_new(struct rg_py_front *f, struct rg_request *req)
{
	struct input *in = PyObject_New(struct input, f->input_type);
	if (!in)
		return NULL;
	in->req = req;
	in->f = f;
	in->buf = NULL;
	in->off = in->len = 0;
	in->err = 0;
	in->eof = false;
	return (PyObject *)in;
}

void rg_py_input_detach(PyObject *self)
{
	((struct input *)self)->req = NULL;
}

int rg_py_input_error(PyObject *self)
{
	return ((struct input *)self)->err;
}

static void input_dealloc(PyObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);
	PyObject_Free(self);
	Py_DECREF(tp);
}

static int alive(struct input *in)
{
	if (in->req)
		return 0;
	PyErr_SetString(PyExc_ValueError, "wsgi.input read after the "
					  "response was done");
	return -1;
}

/* Up to n bytes of the body into p: bytes read (0 at the end), or -1
 * with ringlet.BodyError set (errno: ETIMEDOUT, EMSGSIZE, EBADMSG,
 * ECONNRESET). */
static long body_read(struct input *in, char *p, size_t n)
{
	if (in->eof || !n)
		return 0;
	long got = rg_body_read(in->req, p, n);
	if (got > 0)
		return got;
	if (got == 0) {
		in->eof = true;
		return 0;
	}
	in->err = (int)got;
	const char *why = got == -ETIMEDOUT  ? "the request body timed out"
			  : got == -EMSGSIZE ? "the request body is too large"
			  : got == -EBADMSG  ? "malformed chunked request body"
					     : "the client went away";
	PyObject *e = Py_BuildValue("(is)", (int)-got, why);
	if (e) {
		PyErr_SetObject(in->f->body_error, e);
		Py_DECREF(e);
	}
	return -1;
}

/* Takes up to n buffered bytes into p. */
static size_t take(struct input *in, char *p, size_t n)
{
	size_t k = in->len - in->off < n ? in->len - in->off : n;
	memcpy(p, in->buf + in->off, k);
	in->off += k;
	return k;
}

static PyObject *read_all(struct input *in)
{
	size_t cap = 16384, len = 0;
	PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap);
	if (!b)
		return NULL;
	for (;;) {
		if (len == cap) {
			cap *= 2;
			if (_PyBytes_Resize(&b, (Py_ssize_t)cap) < 0)
				return NULL;
		}
		char *p = PyBytes_AS_STRING(b) + len;
		long got = in->off < in->len ? (long)take(in, p, cap - len)
					     : body_read(in, p, cap - len);
		if (got < 0) {
			Py_DECREF(b);
			return NULL;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	if (_PyBytes_Resize(&b, (Py_ssize_t)len) < 0)
		return NULL;
	return b;
}

static PyObject *input_read(PyObject *self, PyObject *const *args,
			    Py_ssize_t nargs)
{
	struct input *in = (struct input *)self;
	Py_ssize_t size = -1;
	if (nargs > 1) {
		PyErr_SetString(PyExc_TypeError, "read() takes at most 1 "
						 "argument");
		return NULL;
	}
	if (nargs == 1 && args[0] != Py_None &&
	    (size = PyLong_AsSsize_t(args[0])) == -1 && PyErr_Occurred())
		return NULL;
	if (alive(in) < 0)
		return NULL;
	if (size < 0)
		return read_all(in);
	PyObject *b = PyBytes_FromStringAndSize(NULL, size);
	if (!b)
		return NULL;
	/* Everything asked for unless the body ends first, as a file's
	 * read() does. */
	size_t len = 0;
	while (len < (size_t)size) {
		char *p = PyBytes_AS_STRING(b) + len;
		long got = in->off < in->len
			       ? (long)take(in, p, (size_t)size - len)
			       : body_read(in, p, (size_t)size - len);
		if (got < 0) {
			Py_DECREF(b);
			return NULL;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	if (len < (size_t)size && _PyBytes_Resize(&b, (Py_ssize_t)len) < 0)
		return NULL;
	return b;
}

/* A line (with its "\n"), at most `size` bytes when size >= 0; b"" at the
 * end of the body. */
static PyObject *readline(struct input *in, Py_ssize_t size)
{
	if (alive(in) < 0)
		return NULL;
	if (!in->buf &&
	    !(in->buf = rg_arena_alloc(rg_request_arena(in->req), LINE_BUF)))
		return PyErr_NoMemory();
	PyObject *line = NULL; /* what a line longer than the buffer has */
	for (;;) {
		if (in->off == in->len) {
			in->off = in->len = 0;
			long got = body_read(in, in->buf, LINE_BUF);
			if (got < 0)
				goto fail;
			if (got == 0)
				break;
			in->len = (size_t)got;
		}
		size_t avail = in->len - in->off;
		size_t have = line ? (size_t)PyBytes_GET_SIZE(line) : 0;
		if (size >= 0 && avail > (size_t)size - have)
			avail = (size_t)size - have;
		const char *p = in->buf + in->off;
		const char *nl = memchr(p, '\n', avail);
		size_t k = nl ? (size_t)(nl - p) + 1 : avail;
		PyObject *piece =
		    PyBytes_FromStringAndSize(p, (Py_ssize_t)k);
		if (!piece)
			goto fail;
		in->off += k;
		if (line) {
			PyBytes_ConcatAndDel(&line, piece);
			if (!line)
				return NULL;
		} else {
			line = piece;
		}
		if (nl || (size >= 0 && (size_t)PyBytes_GET_SIZE(line) >=
						(size_t)size))
			return line;
	}
	return line ? line : PyBytes_FromStringAndSize("", 0);
fail:
	Py_XDECREF(line);
	return NULL;
}

static PyObject *input_readline(PyObject *self, PyObject *const *args,
				Py_ssize_t nargs)
{
	Py_ssize_t size = -1;
	if (nargs > 1) {
		PyErr_SetString(PyExc_TypeError, "readline() takes at most 1 "
						 "argument");
		return NULL;
	}
	if (nargs == 1 && args[0] != Py_None &&
	    (size = PyLong_AsSsize_t(args[0])) == -1 && PyErr_Occurred())
		return NULL;
	return readline((struct input *)self, size);
}

static PyObject *input_readlines(PyObject *self, PyObject *const *args,
				 Py_ssize_t nargs)
{
	Py_ssize_t hint = -1, total = 0;
	if (nargs == 1 && args[0] != Py_None &&
	    (hint = PyLong_AsSsize_t(args[0])) == -1 && PyErr_Occurred())
		return NULL;
	PyObject *lines = PyList_New(0);
	while (lines) {
		PyObject *line = readline((struct input *)self, -1);
		if (!line) {
			Py_CLEAR(lines);
			break;
		}
		Py_ssize_t n = PyBytes_GET_SIZE(line);
		if (n == 0) {
			Py_DECREF(line);
			break;
		}
		int rc = PyList_Append(lines, line);
		Py_DECREF(line);
		if (rc < 0)
			Py_CLEAR(lines);
		total += n;
		if (hint > 0 && total >= hint)
			break;
	}
	return lines;
}

static PyObject *input_next(PyObject *self)
{
	PyObject *line = readline((struct input *)self, -1);
	if (line && PyBytes_GET_SIZE(line) == 0) {
		Py_DECREF(line);
		return NULL; /* StopIteration */
	}
	return line;
}

static PyMethodDef input_methods[] = {
    {"read", (PyCFunction)(void (*)(void))input_read, METH_FASTCALL,
     "read(size=-1): up to size bytes of the body (all of it by default)"},
    {"readline", (PyCFunction)(void (*)(void))input_readline, METH_FASTCALL,
     "readline(size=-1): one line of the body"},
    {"readlines", (PyCFunction)(void (*)(void))input_readlines,
     METH_FASTCALL, "readlines(hint=-1): the lines of the body"},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot input_slots[] = {
    {Py_tp_dealloc, input_dealloc},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, input_next},
    {Py_tp_methods, input_methods},
    {Py_tp_doc, "wsgi.input: the request body, read as it arrives"},
    {0, NULL},
};

PyType_Spec rg_py_input_spec = {
    .name = "ringlet._ringlet.Input",
    .basicsize = sizeof(struct input),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION |
	     Py_TPFLAGS_IMMUTABLETYPE,
    .slots = input_slots,
};

/* ------------------------------------------------------------------------
 * wsgi.errors
 * ------------------------------------------------------------------------ */

/* Each line written becomes one line of the error log. */
static PyObject *errors_write(PyObject *self, PyObject *arg)
{
	(void)self;
	Py_ssize_t n;
	const char *s = PyUnicode_AsUTF8AndSize(arg, &n);
	if (!s)
		return NULL;
	for (Py_ssize_t i = 0; i < n;) {
		const char *nl = memchr(s + i, '\n', (size_t)(n - i));
		Py_ssize_t k = nl ? nl - (s + i) : n - i;
		if (k)
			rg_log(RG_LOG_ERROR, "%.*s", (int)k, s + i);
		i += k + 1;
	}
	return PyLong_FromSsize_t(n);
}

static PyObject *errors_writelines(PyObject *self, PyObject *seq)
{
	PyObject *it = PyObject_GetIter(seq), *line;
	if (!it)
		return NULL;
	while ((line = PyIter_Next(it))) {
		PyObject *r = errors_write(self, line);
		Py_DECREF(line);
		if (!r) {
			Py_DECREF(it);
			return NULL;
		}
		Py_DECREF(r);
	}
	Py_DECREF(it);
	if (PyErr_Occurred())
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *errors_flush(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	Py_RETURN_NONE; /* every line is written at once */
}

static void errors_dealloc(PyObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);
	tp->tp_free(self);
	Py_DECREF(tp);
}

static PyMethodDef errors_methods[] = {
    {"write", errors_write, METH_O, "write(str): lines to the error log"},
    {"writelines", errors_writelines, METH_O, NULL},
    {"flush", errors_flush, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot errors_slots[] = {
    {Py_tp_dealloc, errors_dealloc},
    {Py_tp_methods, errors_methods},
    {Py_tp_doc, "wsgi.errors: the worker's error log"},
    {0, NULL},
};

PyType_Spec rg_py_errors_spec = {
    .name = "ringlet._ringlet.Errors",
    .basicsize = sizeof(PyObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION |
	     Py_TPFLAGS_IMMUTABLETYPE,
    .slots = errors_slots,
};
