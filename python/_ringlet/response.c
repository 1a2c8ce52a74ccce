/* response.c: one WSGI call (PEP 3333) as an rg_handler: the environ in,
 * the application called on the request's greenlet, start_response's
 * status and headers checked when given (a CR, LF or non-latin-1
 * character is the application's error, never a split response), and the
 * body out through the library's response calls: rg_respond for a body
 * of one piece, rg_stream_* for the rest (Content-Length when known,
 * chunked or close-delimited otherwise, as the library frames it),
 * rg_stream_file for wsgi.file_wrapper over a regular file. The result's
 * close() is always called, also when the client went away midway. */
#include "ext.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct start_response {
	PyObject_HEAD
	struct rg_request *req; /* NULL once the request is over */
	struct rg_py_front *f;
	int status;	   /* 0 until start_response is called */
	PyObject *line;	   /* the status given ("200 OK"), checked; owned */
	PyObject *headers; /* the list given, checked; owned */
	int64_t length;	   /* its Content-Length; -1 when none */
	int64_t written;   /* body bytes handed to the library */
	bool sent;	   /* the head is out: exc_info re-raises */
	bool close;	   /* the application said Connection: close */
	bool gone;	   /* a write failed: the client is gone */
	bool head;	   /* a HEAD request */
};

/* ------------------------------------------------------------------------
 * start_response(status, headers, exc_info=None)
 * ------------------------------------------------------------------------ */

static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c);
}

/* The latin-1 bytes of a str (NUL-terminated, as CPython keeps a 1-byte
 * str), or NULL with a TypeError/ValueError naming `what`. */
static const char *latin1_of(PyObject *s, const char *what, Py_ssize_t *len)
{
	if (!PyUnicode_Check(s)) {
		PyErr_Format(PyExc_TypeError, "%s must be a str, not %.100s",
			     what, Py_TYPE(s)->tp_name);
		return NULL;
	}
	if (PyUnicode_KIND(s) != PyUnicode_1BYTE_KIND) {
		PyErr_Format(PyExc_ValueError, "%s is not latin-1: %R", what,
			     s);
		return NULL;
	}
	*len = PyUnicode_GET_LENGTH(s);
	return (const char *)PyUnicode_DATA(s);
}

/* "200 OK": the code, or -1 with ValueError. */
static int parse_status(PyObject *status)
{
	Py_ssize_t n;
	const char *s = latin1_of(status, "status", &n);
	if (!s)
		return -1;
	bool ok = n >= 3 && (n == 3 || s[3] == ' ') && n <= 4 + 256;
	for (Py_ssize_t i = 0; ok && i < 3; i++)
		ok = s[i] >= '0' && s[i] <= '9';
	for (Py_ssize_t i = 4; ok && i < n; i++)
		ok = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f;
	int code = ok ? (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0')
		      : 0;
	if (code < 200 || code > 599) {
		PyErr_Format(PyExc_ValueError,
			     "status must be \"NNN Reason\" with NNN in "
			     "200-599 and a reason of at most 256 "
			     "printable characters, not %R",
			     status);
		return -1;
	}
	return code;
}

static bool name_is(const char *s, Py_ssize_t n, const char *lower)
{
	return (size_t)n == strlen(lower) && !strncasecmp(s, lower, (size_t)n);
}

/* Checks every (name, value) of `headers`; *length receives the
 * Content-Length (-1 when none), *close whether Connection says close. */
static int check_headers(PyObject *headers, int64_t *length, bool *close)
{
	*length = -1;
	*close = false;
	if (!PyList_Check(headers)) {
		PyErr_Format(PyExc_TypeError,
			     "headers must be a list, not %.100s",
			     Py_TYPE(headers)->tp_name);
		return -1;
	}
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(headers); i++) {
		PyObject *h = PyList_GET_ITEM(headers, i);
		if (!PyTuple_Check(h) || PyTuple_GET_SIZE(h) != 2) {
			PyErr_Format(PyExc_TypeError,
				     "each header must be a (name, value) "
				     "tuple, not %R",
				     h);
			return -1;
		}
		Py_ssize_t nl, vl;
		const char *name =
		    latin1_of(PyTuple_GET_ITEM(h, 0), "header name", &nl);
		if (!name)
			return -1;
		const char *value =
		    latin1_of(PyTuple_GET_ITEM(h, 1), "header value", &vl);
		if (!value)
			return -1;
		bool ok = nl > 0;
		for (Py_ssize_t k = 0; ok && k < nl; k++)
			ok = is_tchar((unsigned char)name[k]);
		for (Py_ssize_t k = 0; ok && k < vl; k++) {
			unsigned char c = (unsigned char)value[k];
			ok = c >= 0x20 ? c != 0x7f : c == '\t';
		}
		if (!ok) {
			PyErr_Format(PyExc_ValueError,
				     "header %R holds a character HTTP "
				     "forbids there (CR, LF, a control "
				     "character or a separator in the name)",
				     h);
			return -1;
		}
		if (name_is(name, nl, "content-length")) {
			int64_t v = 0;
			bool digits = vl > 0 && vl <= 18;
			for (Py_ssize_t k = 0; digits && k < vl; k++) {
				digits = value[k] >= '0' && value[k] <= '9';
				v = v * 10 + (value[k] - '0');
			}
			if (!digits) {
				PyErr_Format(PyExc_ValueError,
					     "Content-Length %R is not a "
					     "number",
					     PyTuple_GET_ITEM(h, 1));
				return -1;
			}
			*length = v;
		} else if (name_is(name, nl, "connection")) {
			*close = vl == 5 && !strncasecmp(value, "close", 5);
		}
	}
	return 0;
}

static PyObject *sr_call(PyObject *self, PyObject *args, PyObject *kw)
{
	struct start_response *sr = (struct start_response *)self;
	PyObject *status, *headers, *exc_info = Py_None;
	static char *names[] = {"status", "headers", "exc_info", NULL};
	if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O:start_response",
					 names, &status, &headers, &exc_info))
		return NULL;
	if (exc_info != Py_None) {
		if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) != 3) {
			PyErr_SetString(PyExc_TypeError,
					"exc_info must be sys.exc_info()");
			return NULL;
		}
		if (sr->sent) { /* too late to change: re-raise it */
			PyObject *t = PyTuple_GET_ITEM(exc_info, 0),
				 *v = PyTuple_GET_ITEM(exc_info, 1),
				 *tb = PyTuple_GET_ITEM(exc_info, 2);
			PyErr_Restore(Py_NewRef(t), Py_NewRef(v),
				      tb == Py_None ? NULL : Py_NewRef(tb));
			return NULL;
		}
	} else if (sr->status) {
		PyErr_SetString(PyExc_RuntimeError,
				"start_response called a second time "
				"without exc_info");
		return NULL;
	}
	if (!sr->req) {
		PyErr_SetString(PyExc_RuntimeError,
				"start_response called after the response");
		return NULL;
	}
	int code = parse_status(status);
	int64_t length;
	bool close;
	if (code < 0 || check_headers(headers, &length, &close) < 0)
		return NULL;
	sr->status = code;
	Py_XSETREF(sr->line, Py_NewRef(status));
	Py_XSETREF(sr->headers, Py_NewRef(headers));
	sr->length = length;
	sr->close = close;
	return PyObject_GetAttrString(self, "write");
}

/* ------------------------------------------------------------------------
 * Writing the response
 * ------------------------------------------------------------------------ */

/* The headers go to the library (hop-by-hop ones, Content-Length, Date
 * and Server are its own) and the head out: framed by `length`
 * (RG_LENGTH_UNKNOWN: chunked or close-delimited). 0 or -1 (gone). */
static int add_headers(struct start_response *sr)
{
	static const char *const own[] = {
	    "content-length", "date",	 "server",  "connection",
	    "keep-alive",     "upgrade", "transfer-encoding", "te",
	    "trailer",	      "proxy-connection"};
	/* A phrase of the application's own (checked by start_response:
	 * latin-1, printable), as it gave it: "200 OK" costs a comparison. */
	const char *reason = (const char *)PyUnicode_DATA(sr->line) + 4;
	if (PyUnicode_GET_LENGTH(sr->line) > 4 &&
	    strcmp(reason, rg_status_reason(sr->status)) &&
	    rg_reason_set(sr->req, reason) < 0)
		return -1;
	PyObject *hs = sr->headers;
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(hs); i++) {
		PyObject *h = PyList_GET_ITEM(hs, i);
		PyObject *n = PyTuple_GET_ITEM(h, 0), *v = PyTuple_GET_ITEM(h, 1);
		const char *name = (const char *)PyUnicode_DATA(n);
		Py_ssize_t nl = PyUnicode_GET_LENGTH(n);
		bool skip = false;
		for (size_t k = 0; !skip && k < sizeof(own) / sizeof(*own); k++)
			skip = name_is(name, nl, own[k]);
		if (skip)
			continue;
		/* Checked by start_response: latin-1, no CR, LF or NUL. */
		if (rg_header_add(sr->req, name,
				  (const char *)PyUnicode_DATA(v)) < 0)
			return -1;
	}
	if (sr->close)
		rg_close_connection(sr->req);
	return 0;
}

static int begin(struct start_response *sr, int64_t length)
{
	if (add_headers(sr) < 0 ||
	    rg_stream_begin(sr->req, sr->status, NULL,
			    sr->length >= 0 ? sr->length : length) < 0) {
		sr->gone = true;
		return -1;
	}
	sr->sent = true;
	return 0;
}

/* Body bytes, the head first if it is not out yet; what goes past the
 * application's Content-Length is dropped. 0, or -1 when the client is
 * gone (no exception). */
static int write_body(struct start_response *sr, const char *p, size_t n)
{
	if (sr->gone)
		return -1;
	if (!sr->sent && begin(sr, RG_LENGTH_UNKNOWN) < 0)
		return -1;
	if (sr->length >= 0 && (int64_t)n > sr->length - sr->written)
		n = (size_t)(sr->length - sr->written);
	if (rg_stream_write(sr->req, p, n) < 0) {
		sr->gone = true;
		return -1;
	}
	sr->written += (int64_t)n;
	return 0;
}

static int need_status(struct start_response *sr)
{
	if (sr->status)
		return 0;
	PyErr_SetString(PyExc_RuntimeError,
			"the application sent a body before calling "
			"start_response");
	return -1;
}

/* write(data): the callable start_response returns. */
static PyObject *sr_write(PyObject *self, PyObject *data)
{
	struct start_response *sr = (struct start_response *)self;
	if (!sr->req) {
		PyErr_SetString(PyExc_RuntimeError,
				"write() called after the response");
		return NULL;
	}
	if (need_status(sr) < 0)
		return NULL;
	Py_buffer b;
	if (PyObject_GetBuffer(data, &b, PyBUF_SIMPLE) < 0)
		return NULL;
	int rc = write_body(sr, b.buf, (size_t)b.len);
	PyBuffer_Release(&b);
	if (rc < 0) {
		PyErr_SetString(PyExc_ConnectionResetError,
				"the client went away");
		return NULL;
	}
	Py_RETURN_NONE;
}

/* The whole body in one piece: one copy into the output buffer. An
 * empty body of a HEAD request says nothing of GET's length (frameworks
 * send none to HEAD): no Content-Length: 0 then. */
static int respond_whole(struct start_response *sr, const char *p, size_t n)
{
	if (sr->length >= 0 || sr->sent)
		return write_body(sr, p, n);
	if (!n && sr->head)
		return begin(sr, RG_LENGTH_UNKNOWN);
	if (add_headers(sr) < 0 ||
	    rg_respond(sr->req, sr->status, NULL, p, n) < 0) {
		sr->gone = true;
		return -1;
	}
	sr->sent = true;
	return 0;
}

static int bytes_of(PyObject *o, const char **p, Py_ssize_t *n)
{
	if (PyBytes_Check(o)) {
		*p = PyBytes_AS_STRING(o);
		*n = PyBytes_GET_SIZE(o);
		return 0;
	}
	PyErr_Format(PyExc_TypeError,
		     "the application's body must be bytes, not %.100s",
		     Py_TYPE(o)->tp_name);
	return -1;
}

/* A list or tuple of bytes: the length is known before the head. */
static int send_sequence(struct start_response *sr, PyObject *seq)
{
	Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
	PyObject **items = PySequence_Fast_ITEMS(seq);
	int64_t total = 0;
	for (Py_ssize_t i = 0; i < count; i++) {
		const char *p;
		Py_ssize_t n;
		if (bytes_of(items[i], &p, &n) < 0)
			return -1;
		total += n;
	}
	if (need_status(sr) < 0)
		return -1;
	/* Every item is bytes now. */
	if (count == 1) {
		respond_whole(sr, PyBytes_AS_STRING(items[0]),
			      (size_t)PyBytes_GET_SIZE(items[0]));
		return 0;
	}
	if (!sr->sent && begin(sr, !total && sr->head ? RG_LENGTH_UNKNOWN
						       : total) < 0)
		return 0;
	for (Py_ssize_t i = 0; i < count; i++)
		if (write_body(sr, PyBytes_AS_STRING(items[i]),
			       (size_t)PyBytes_GET_SIZE(items[i])) < 0)
			break;
	return 0;
}

/* Any other iterable: a body of one item is sent whole; otherwise the
 * head goes with the first non-empty item and the rest streams. */
static int send_iterable(struct start_response *sr, PyObject *result)
{
	PyObject *it = PyObject_GetIter(result);
	if (!it)
		return -1;
	PyObject *first = PyIter_Next(it), *item = NULL;
	int rc = -1;
	const char *p;
	Py_ssize_t n;
	if (!first) {
		if (PyErr_Occurred() || need_status(sr) < 0)
			goto out;
		respond_whole(sr, "", 0);
		rc = 0;
		goto out;
	}
	if (bytes_of(first, &p, &n) < 0 || need_status(sr) < 0)
		goto out;
	item = PyIter_Next(it);
	if (!item) {
		if (PyErr_Occurred())
			goto out;
		respond_whole(sr, p, (size_t)n);
		rc = 0;
		goto out;
	}
	if (write_body(sr, p, (size_t)n) < 0) {
		rc = 0;
		goto out;
	}
	do {
		if (bytes_of(item, &p, &n) < 0)
			goto out;
		if (write_body(sr, p, (size_t)n) < 0) {
			rc = 0; /* the client is gone: stop iterating */
			goto out;
		}
		Py_DECREF(item);
	} while ((item = PyIter_Next(it)));
	rc = PyErr_Occurred() ? -1 : 0;
out:
	Py_XDECREF(item);
	Py_XDECREF(first);
	Py_DECREF(it);
	return rc;
}

/* ------------------------------------------------------------------------
 * wsgi.file_wrapper
 * ------------------------------------------------------------------------ */

struct file_wrapper {
	PyObject_HEAD
	PyObject *filelike;
	Py_ssize_t blksize;
};

static PyObject *fw_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	PyObject *filelike;
	Py_ssize_t blksize = 8192;
	static char *names[] = {"filelike", "blksize", NULL};
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|n:file_wrapper", names,
					 &filelike, &blksize))
		return NULL;
	struct file_wrapper *fw = (struct file_wrapper *)type->tp_alloc(type, 0);
	if (!fw)
		return NULL;
	fw->filelike = Py_NewRef(filelike);
	fw->blksize = blksize > 0 ? blksize : 8192;
	return (PyObject *)fw;
}

static void fw_dealloc(PyObject *self)
{
	struct file_wrapper *fw = (struct file_wrapper *)self;
	PyTypeObject *tp = Py_TYPE(self);
	PyObject_GC_UnTrack(self);
	Py_CLEAR(fw->filelike);
	tp->tp_free(self);
	Py_DECREF(tp);
}

static int fw_traverse(PyObject *self, visitproc visit, void *arg)
{
	Py_VISIT(((struct file_wrapper *)self)->filelike);
	Py_VISIT(Py_TYPE(self));
	return 0;
}

static PyObject *fw_next(PyObject *self)
{
	struct file_wrapper *fw = (struct file_wrapper *)self;
	PyObject *b =
	    PyObject_CallMethod(fw->filelike, "read", "n", fw->blksize);
	if (b && PyObject_Length(b) == 0) {
		Py_DECREF(b);
		return NULL;
	}
	return b;
}

static PyObject *fw_close(PyObject *self, PyObject *unused)
{
	(void)unused;
	struct file_wrapper *fw = (struct file_wrapper *)self;
	if (!PyObject_HasAttrString(fw->filelike, "close"))
		Py_RETURN_NONE;
	return PyObject_CallMethod(fw->filelike, "close", NULL);
}

static PyMethodDef fw_methods[] = {
    {"close", fw_close, METH_NOARGS, "closes the file"},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot fw_slots[] = {
    {Py_tp_new, fw_new},
    {Py_tp_dealloc, fw_dealloc},
    {Py_tp_traverse, fw_traverse},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, fw_next},
    {Py_tp_methods, fw_methods},
    {Py_tp_doc, "wsgi.file_wrapper(filelike, blksize=8192): a file "
		"sent with sendfile(2) when it is a regular file"},
    {0, NULL},
};

PyType_Spec rg_py_file_wrapper_spec = {
    .name = "ringlet._ringlet.FileWrapper",
    .basicsize = sizeof(struct file_wrapper),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC |
	     Py_TPFLAGS_IMMUTABLETYPE,
    .slots = fw_slots,
};

/* The file's descriptor and where the application left it, when it is a
 * regular file: 1, 0 when it is not (iterate instead), -1 on error. */
static int regular_file(PyObject *filelike, int *fd, int64_t *off,
			int64_t *size)
{
	PyObject *r = PyObject_CallMethod(filelike, "fileno", NULL);
	if (!r) {
		PyErr_Clear(); /* no descriptor: read it instead */
		return 0;
	}
	long v = PyLong_AsLong(r);
	Py_DECREF(r);
	struct stat st;
	if (v < 0 || fstat((int)v, &st) < 0 || !S_ISREG(st.st_mode)) {
		PyErr_Clear();
		return 0;
	}
	*fd = (int)v;
	*size = st.st_size;
	/* tell() knows what a buffered file read ahead. */
	r = PyObject_CallMethod(filelike, "tell", NULL);
	*off = r ? PyLong_AsLongLong(r) : lseek(*fd, 0, SEEK_CUR);
	Py_XDECREF(r);
	PyErr_Clear();
	return *off >= 0 && *off <= *size;
}

static int send_file(struct start_response *sr, PyObject *result)
{
	struct file_wrapper *fw = (struct file_wrapper *)result;
	int fd;
	int64_t off, size;
	if (need_status(sr) < 0)
		return -1;
	if (sr->sent || !regular_file(fw->filelike, &fd, &off, &size))
		return send_iterable(sr, result);
	int64_t n = size - off;
	if (sr->length >= 0 && sr->length < n)
		n = sr->length;
	if (begin(sr, n) == 0 && rg_stream_file(sr->req, fd, off, n) < 0)
		sr->gone = true;
	return 0;
}

/* ------------------------------------------------------------------------
 * The handler
 * ------------------------------------------------------------------------ */

static void sr_dealloc(PyObject *self)
{
	struct start_response *sr = (struct start_response *)self;
	PyTypeObject *tp = Py_TYPE(self);
	PyObject_GC_UnTrack(self);
	Py_CLEAR(sr->line);
	Py_CLEAR(sr->headers);
	tp->tp_free(self);
	Py_DECREF(tp);
}

static int sr_traverse(PyObject *self, visitproc visit, void *arg)
{
	Py_VISIT(((struct start_response *)self)->line);
	Py_VISIT(((struct start_response *)self)->headers);
	Py_VISIT(Py_TYPE(self));
	return 0;
}

static int sr_clear(PyObject *self)
{
	Py_CLEAR(((struct start_response *)self)->headers);
	return 0;
}

static PyMethodDef sr_methods[] = {
    {"write", sr_write, METH_O, "write(data): body bytes, sent now"},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot sr_slots[] = {
    {Py_tp_call, sr_call},
    {Py_tp_dealloc, sr_dealloc},
    {Py_tp_traverse, sr_traverse},
    {Py_tp_clear, sr_clear},
    {Py_tp_methods, sr_methods},
    {Py_tp_doc, "start_response(status, headers, exc_info=None)"},
    {0, NULL},
};

PyType_Spec rg_py_start_response_spec = {
    .name = "ringlet._ringlet.StartResponse",
    .basicsize = sizeof(struct start_response),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC |
	     Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = sr_slots,
};

/* The answer to an application that failed before its head went out:
 * what its body read met, or 500. After the head: the body is cut. */
static void failed(struct start_response *sr, PyObject *input)
{
	if (sr->sent || sr->gone) {
		rg_close_connection(sr->req);
		return;
	}
	int err = input ? rg_py_input_error(input) : 0;
	static const char m500[] = "Internal Server Error\n";
	static const char m413[] = "Content Too Large\n";
	static const char m408[] = "Request Timeout\n";
	static const char m400[] = "Bad Request\n";
	rg_close_connection(sr->req); /* the body may be half read */
	if (err == -ECONNRESET)
		return;
	if (err == -EMSGSIZE)
		rg_respond(sr->req, 413, "text/plain", m413, sizeof(m413) - 1);
	else if (err == -ETIMEDOUT)
		rg_respond(sr->req, 408, "text/plain", m408, sizeof(m408) - 1);
	else if (err == -EBADMSG)
		rg_respond(sr->req, 400, "text/plain", m400, sizeof(m400) - 1);
	else
		rg_respond(sr->req, 500, "text/plain", m500, sizeof(m500) - 1);
}

static void call_close(struct rg_py_front *f, PyObject *result)
{
	PyObject *close;
	if (PyList_CheckExact(result) || PyTuple_CheckExact(result))
		return;
	/* Looked up without raising AttributeError when there is none. */
	if (_PyObject_LookupAttr(result, f->keys[K_CLOSE], &close) <= 0) {
		PyErr_Clear();
		return;
	}
	PyObject *r = PyObject_CallNoArgs(close);
	Py_DECREF(close);
	if (r)
		Py_DECREF(r);
	else
		rg_py_log_exception(f, "the application's close() failed");
}

void rg_py_wsgi_handler(struct rg_request *req, void *data)
{
	struct rg_py_front *f = data;
	PyObject *input = NULL, *result = NULL;
	f->requests++;
	PyObject *env = rg_py_environ(f, req, &input);
	if (!env) {
		PyErr_Clear();
		static const char m[] = "Bad Request\n";
		rg_close_connection(req);
		rg_respond(req, 400, "text/plain", m, sizeof(m) - 1);
		return;
	}
	struct start_response *sr =
	    PyObject_GC_New(struct start_response, f->start_response_type);
	if (!sr) {
		PyErr_Clear();
		rg_close_connection(req);
		rg_respond(req, 503, "text/plain", "busy\n", 5);
		Py_DECREF(env);
		return;
	}
	sr->req = req;
	sr->f = f;
	sr->status = 0;
	sr->line = sr->headers = NULL;
	sr->length = -1;
	sr->written = 0;
	sr->sent = sr->close = sr->gone = false;
	struct rg_str m = rg_method(req);
	sr->head = m.len == 4 && !memcmp(m.ptr, "HEAD", 4);
	PyObject_GC_Track(sr);

	result = PyObject_CallFunctionObjArgs(f->app, env, (PyObject *)sr,
					      NULL);
	int rc = -1;
	if (result) {
		if (PyList_CheckExact(result) || PyTuple_CheckExact(result))
			rc = send_sequence(sr, result);
		else if (Py_IS_TYPE(result, f->file_wrapper_type))
			rc = send_file(sr, result);
		else
			rc = send_iterable(sr, result);
	}
	if (rc < 0) {
		f->app_errors++;
		rg_py_log_exception(f, "the application failed");
		failed(sr, input);
	}
	if (result) {
		call_close(f, result);
		Py_DECREF(result);
	}
	rg_py_input_detach(input);
	sr->req = NULL;
	Py_DECREF(sr);
	Py_DECREF(env);
}
