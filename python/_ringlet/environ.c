/* environ.c: the WSGI environ of a request (PEP 3333), built once per
 * request from the request's parse results: a copy of the constant part
 * (wsgi.*, SCRIPT_NAME, SERVER_SOFTWARE), then the request's own keys,
 * interned, with the str values WSGI requires (latin-1, the bytes as
 * received) and nothing else copied. Header names become HTTP_ keys
 * through a small fixed table of the names seen first, so a steady stream
 * of requests creates no key objects. */
#include "ext.h"

#include <string.h>

static const char *const key_names[K_COUNT] = {
    [K_REQUEST_METHOD] = "REQUEST_METHOD",
    [K_SCRIPT_NAME] = "SCRIPT_NAME",
    [K_PATH_INFO] = "PATH_INFO",
    [K_QUERY_STRING] = "QUERY_STRING",
    [K_RAW_URI] = "RAW_URI",
    [K_SERVER_PROTOCOL] = "SERVER_PROTOCOL",
    [K_SERVER_NAME] = "SERVER_NAME",
    [K_SERVER_PORT] = "SERVER_PORT",
    [K_REMOTE_ADDR] = "REMOTE_ADDR",
    [K_REMOTE_PORT] = "REMOTE_PORT",
    [K_CONTENT_TYPE] = "CONTENT_TYPE",
    [K_CONTENT_LENGTH] = "CONTENT_LENGTH",
    [K_WSGI_INPUT] = "wsgi.input",
    [K_HTTP_1_0] = "HTTP/1.0",
    [K_HTTP_1_1] = "HTTP/1.1",
    [K_EMPTY] = "",
    [K_CLOSE] = "close",
};

static const char *const method_names[] = {"GET",     "HEAD",  "POST",
					   "PUT",     "DELETE", "OPTIONS",
					   "PATCH"};

static int set_const(PyObject *d, const char *key, PyObject *v)
{
	if (!v)
		return -1;
	int rc = PyDict_SetItemString(d, key, v);
	Py_DECREF(v);
	return rc;
}

int rg_py_environ_init(struct rg_py_front *f, PyObject *module)
{
	for (int i = 0; i < K_COUNT; i++)
		if (!(f->keys[i] = PyUnicode_InternFromString(key_names[i])))
			return -1;
	for (size_t i = 0; i < sizeof(method_names) / sizeof(*method_names);
	     i++)
		if (!(f->methods[i] =
			  PyUnicode_InternFromString(method_names[i])))
			return -1;
	PyObject *errors = PyType_GenericAlloc(f->errors_type, 0);
	PyObject *d = f->environ = PyDict_New();
	if (!d || !errors ||
	    set_const(d, "wsgi.version", Py_BuildValue("(ii)", 1, 0)) ||
	    set_const(d, "wsgi.url_scheme", PyUnicode_FromString("http")) ||
	    set_const(d, "wsgi.errors", errors) ||
	    set_const(d, "wsgi.multithread", Py_NewRef(Py_False)) ||
	    set_const(d, "wsgi.multiprocess", Py_NewRef(Py_True)) ||
	    set_const(d, "wsgi.run_once", Py_NewRef(Py_False)) ||
	    set_const(d, "wsgi.input_terminated", Py_NewRef(Py_True)) ||
	    set_const(d, "wsgi.file_wrapper",
		      Py_NewRef((PyObject *)f->file_wrapper_type)) ||
	    set_const(d, "SCRIPT_NAME", Py_NewRef(f->keys[K_EMPTY])) ||
	    set_const(d, "SERVER_SOFTWARE",
		      PyUnicode_FromString("ringlet/" RG_VERSION)))
		return -1;
	(void)module;
	return 0;
}

void rg_py_environ_clear(struct rg_py_front *f)
{
	for (int i = 0; i < K_COUNT; i++)
		Py_CLEAR(f->keys[i]);
	for (size_t i = 0; i < sizeof(f->methods) / sizeof(*f->methods); i++)
		Py_CLEAR(f->methods[i]);
	for (int i = 0; i < RG_PY_HKEYS; i++)
		Py_CLEAR(f->hkeys[i].key);
	memset(f->hkeys, 0, sizeof(f->hkeys));
	Py_CLEAR(f->environ);
	Py_CLEAR(f->server_name);
	Py_CLEAR(f->server_port);
}

static PyObject *latin1(struct rg_str s)
{
	return PyUnicode_DecodeLatin1(s.ptr, (Py_ssize_t)s.len, NULL);
}

/* Sets environ[key] = value and drops the reference to value. */
static int put(PyObject *env, PyObject *key, PyObject *value)
{
	if (!value)
		return -1;
	int rc = PyDict_SetItem(env, key, value);
	Py_DECREF(value);
	return rc;
}

static bool ieq(struct rg_str a, const char *b, size_t n)
{
	return a.len == n && !strncasecmp(a.ptr, b, n);
}

/* "HTTP_" + the name upper-cased with '-' as '_' (a new reference), from
 * the table when the name is in it. */
static PyObject *http_key(struct rg_py_front *f, struct rg_str name)
{
	char buf[5 + 64];
	if (name.len > 64) { /* rare and never kept */
		PyObject *k = PyUnicode_New((Py_ssize_t)name.len + 5, 127);
		if (!k)
			return NULL;
		char *p = (char *)PyUnicode_DATA(k);
		memcpy(p, "HTTP_", 5);
		for (size_t i = 0; i < name.len; i++) {
			char c = name.ptr[i];
			p[5 + i] = c == '-'		   ? '_'
				   : (c >= 'a' && c <= 'z') ? (char)(c - 32)
							    : c;
		}
		return k;
	}
	memcpy(buf, "HTTP_", 5);
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < name.len; i++) {
		char c = name.ptr[i];
		c = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
		buf[5 + i] = c;
		h = (h ^ (uint8_t)c) * 16777619u;
	}
	size_t n = name.len + 5;
	for (unsigned probe = 0; probe < 8; probe++) {
		struct rg_py_hkey *e = &f->hkeys[(h + probe) % RG_PY_HKEYS];
		if (e->len == n && e->hash == h && !memcmp(e->name, buf, n))
			return Py_NewRef(e->key);
		if (e->len == 0) {
			PyObject *k = PyUnicode_FromStringAndSize(buf,
								  (Py_ssize_t)n);
			if (!k)
				return NULL;
			PyUnicode_InternInPlace(&k);
			e->key = Py_NewRef(k);
			e->hash = h;
			e->len = (uint16_t)n;
			memcpy(e->name, buf, n);
			return k;
		}
	}
	/* The table's neighbourhood is full: a fresh key, not kept. */
	return PyUnicode_FromStringAndSize(buf, (Py_ssize_t)n);
}

/* Adds one header: CONTENT_TYPE/CONTENT_LENGTH as they are, others as
 * HTTP_*; a repeated field is joined to the first with ", " (RFC 9110
 * 5.3), Cookie with "; " (RFC 6265 5.4). */
static int add_header(struct rg_py_front *f, PyObject *env,
		      const struct rg_header *h)
{
	PyObject *key;
	if (ieq(h->name, "content-type", 12))
		key = Py_NewRef(f->keys[K_CONTENT_TYPE]);
	else if (ieq(h->name, "content-length", 14))
		key = Py_NewRef(f->keys[K_CONTENT_LENGTH]);
	else if (!(key = http_key(f, h->name)))
		return -1;
	PyObject *value = latin1(h->value);
	if (!value) {
		Py_DECREF(key);
		return -1;
	}
	PyObject *old = PyDict_GetItemWithError(env, key); /* borrowed */
	if (old) {
		const char *sep = ieq(h->name, "cookie", 6) ? "; " : ", ";
		PyObject *joined = PyUnicode_FromFormat("%U%s%U", old, sep,
							value);
		Py_DECREF(value);
		value = joined;
	} else if (PyErr_Occurred()) {
		Py_CLEAR(value);
	}
	int rc = value ? put(env, key, value) : -1;
	Py_DECREF(key);
	return rc;
}

/* SERVER_NAME and SERVER_PORT from Host (as gunicorn does), or the
 * listen address without one. */
static int add_server(struct rg_py_front *f, PyObject *env,
		      const struct rg_str *host)
{
	if (!host || !host->len) {
		if (PyDict_SetItem(env, f->keys[K_SERVER_NAME],
				   f->server_name) ||
		    PyDict_SetItem(env, f->keys[K_SERVER_PORT],
				   f->server_port))
			return -1;
		return 0;
	}
	struct rg_str name = *host, port = {"80", 2};
	const char *end = name.ptr + name.len;
	const char *colon = NULL;
	if (name.ptr[0] == '[') { /* [v6]:port */
		const char *rb = memchr(name.ptr, ']', name.len);
		if (rb && rb + 1 < end && rb[1] == ':')
			colon = rb + 1;
	} else {
		colon = memchr(name.ptr, ':', name.len);
	}
	if (colon) {
		port = (struct rg_str){colon + 1, (size_t)(end - colon - 1)};
		name.len = (size_t)(colon - name.ptr);
	}
	if (put(env, f->keys[K_SERVER_NAME], latin1(name)) ||
	    put(env, f->keys[K_SERVER_PORT], latin1(port)))
		return -1;
	return 0;
}

static PyObject *method_str(struct rg_py_front *f, struct rg_str m)
{
	for (size_t i = 0; i < sizeof(method_names) / sizeof(*method_names);
	     i++)
		if (m.len == strlen(method_names[i]) &&
		    !memcmp(m.ptr, method_names[i], m.len))
			return Py_NewRef(f->methods[i]);
	return latin1(m);
}

/* REMOTE_ADDR, as text; *port receives the port (0 when unknown). */
static PyObject *remote_addr(struct rg_py_front *f, struct rg_request *req,
			     uint16_t *port)
{
	char addr[64];
	*port = 0;
	if (rg_remote_addr(req, addr, sizeof(addr), port) < 0)
		return Py_NewRef(f->keys[K_EMPTY]);
	return PyUnicode_FromString(addr);
}

PyObject *rg_py_environ(struct rg_py_front *f, struct rg_request *req,
			PyObject **input)
{
	PyObject *env = PyDict_Copy(f->environ);
	if (!env)
		return NULL;
	struct rg_str path;
	if (rg_path_decoded(req, &path) < 0) {
		PyErr_SetString(PyExc_ValueError, "undecodable path");
		goto fail;
	}
	PyObject *in = rg_py_input_new(f, req);
	uint16_t port;
	if (put(env, f->keys[K_WSGI_INPUT], in))
		goto fail;
	*input = in; /* borrowed: the environ holds it */
	if (put(env, f->keys[K_REQUEST_METHOD], method_str(f, rg_method(req))) ||
	    put(env, f->keys[K_PATH_INFO], latin1(path)) ||
	    put(env, f->keys[K_QUERY_STRING], latin1(rg_query(req))) ||
	    put(env, f->keys[K_RAW_URI], latin1(rg_target(req))) ||
	    PyDict_SetItem(env, f->keys[K_SERVER_PROTOCOL],
			   f->keys[rg_version_minor(req) ? K_HTTP_1_1
							 : K_HTTP_1_0]) ||
	    put(env, f->keys[K_REMOTE_ADDR], remote_addr(f, req, &port)) ||
	    put(env, f->keys[K_REMOTE_PORT], PyUnicode_FromFormat("%u", port)))
		goto fail;
	size_t n;
	const struct rg_header *h = rg_headers(req, &n);
	const struct rg_str *host = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!host && ieq(h[i].name, "host", 4))
			host = &h[i].value;
		if (add_header(f, env, &h[i]) < 0)
			goto fail;
	}
	if (add_server(f, env, host) < 0)
		goto fail;
	return env;
fail:
	Py_DECREF(env);
	return NULL;
}
