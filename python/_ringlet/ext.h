/* ext.h: what the files of the Python front's extension (ringlet._ringlet)
 * share. The extension is a thin layer over ringlet.h that owns the hot
 * path only: the greenlet runner (runner.c), the environ (environ.c),
 * start_response and the response (response.c), wsgi.input and
 * wsgi.errors (input.c); module.c holds the module and its calls into the
 * library's configuration, master and worker. The package around it
 * (python/ringlet/) owns the command line and the [python] table. */
#ifndef RG_PY_EXT_H
#define RG_PY_EXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "ringlet.h"

/* ------------------------------------------------------------------------
 * runner.c: request handlers on greenlets (an rg_runner)
 * ------------------------------------------------------------------------ */

/* One pooled greenlet and the job it runs. */
struct rg_py_task {
	PyObject *g;		  /* owned greenlet; NULL until first used */
	void (*fn)(void *arg);	  /* the job, while one is given */
	void *arg;
	PyObject *back;		  /* borrowed greenlet: who started or resumed it */
	struct rg_py_task *next;  /* idle list */
	struct rg_py_runner *runner;
};

/* The greenlets of one worker: taken LIFO from an idle list, created on
 * demand up to `max`, returned after their request. The loop runs on the
 * greenlet that calls rg_server_run (the hub). */
struct rg_py_runner {
	struct rg_py_task *tasks; /* max of them */
	struct rg_py_task *idle;
	struct rg_py_task *current; /* running now; NULL on the hub */
	unsigned long max, created, live, high_water;
	PyObject *main;	      /* the task body (a PyCFunction); owned */
	PyObject *empty;      /* () */
	PyThreadState *saved; /* while the loop waits without the GIL */
	struct rg_runner ops;
};

/* greenlet's C API, for this file (greenlet.h keeps it in a static
 * variable per file): 0, or -1 with an exception. */
int rg_py_greenlet_import(void);
/* 0, or -1 with a Python exception. */
int rg_py_runner_init(struct rg_py_runner *r, PyObject *module,
		      unsigned long max);
/* Ends every idle greenlet (they unwind with GreenletExit). */
void rg_py_runner_free(struct rg_py_runner *r);
/* rg_server_config.blocking: releases the GIL while the loop waits. */
void rg_py_blocking(void *arg, bool blocked);
/* Whether the caller runs in a request's greenlet. */
bool rg_py_in_request(const struct rg_py_runner *r);

/* ------------------------------------------------------------------------
 * The WSGI front of one worker process (module state)
 * ------------------------------------------------------------------------ */

enum rg_py_key {
	K_REQUEST_METHOD,
	K_SCRIPT_NAME,
	K_PATH_INFO,
	K_QUERY_STRING,
	K_RAW_URI,
	K_SERVER_PROTOCOL,
	K_SERVER_NAME,
	K_SERVER_PORT,
	K_REMOTE_ADDR,
	K_REMOTE_PORT,
	K_CONTENT_TYPE,
	K_CONTENT_LENGTH,
	K_WSGI_INPUT,
	K_HTTP_1_0,
	K_HTTP_1_1,
	K_EMPTY,
	K_CLOSE,
	K_COUNT
};

#define RG_PY_HKEYS 128 /* HTTP_ names kept, the first seen */

struct rg_py_hkey {
	uint32_t hash;
	uint16_t len; /* 0: free */
	char name[64];
	PyObject *key; /* "HTTP_X_Y"; owned */
};

struct rg_py_front {
	PyObject *app; /* the WSGI callable, while serving */
	struct rg_py_runner runner;
	PyObject *environ; /* the constant part of every environ */
	PyObject *keys[K_COUNT];
	PyObject *methods[8]; /* GET HEAD POST PUT DELETE OPTIONS PATCH */
	struct rg_py_hkey hkeys[RG_PY_HKEYS];
	PyObject *server_name, *server_port; /* without a Host header */
	PyTypeObject *start_response_type, *input_type, *errors_type,
	    *file_wrapper_type, *config_type, *worker_type;
	PyObject *body_error; /* ringlet.BodyError */
	PyObject *traceback;  /* traceback.format_exception */
	unsigned long requests, app_errors;
	/* The collector, as gc.callbacks reports it (stats.c). */
	uint64_t gc_collections[3];
	uint64_t gc_pause_ns, gc_longest_ns, gc_started_ns;
	PyObject *gc_callback; /* registered while serving */
};

/* stats.c: the "python" section of /stats, and the gc.callbacks entry
 * that times collections. */
extern const struct rg_stats_extra rg_py_stats_template;
int rg_py_stats_start(struct rg_py_front *f, PyObject *module);
void rg_py_stats_stop(struct rg_py_front *f);

/* The module's state, from the module or from one of its types. */
struct rg_py_front *rg_py_front(PyObject *module);
struct rg_py_front *rg_py_front_of_type(PyTypeObject *type);

/* environ.c */
int rg_py_environ_init(struct rg_py_front *f, PyObject *module);
void rg_py_environ_clear(struct rg_py_front *f);
/* A new environ for `req` (new reference), or NULL with an exception;
 * *input receives its wsgi.input (borrowed from the environ). */
PyObject *rg_py_environ(struct rg_py_front *f, struct rg_request *req,
			PyObject **input);

/* response.c: the rg_handler that runs the application. */
void rg_py_wsgi_handler(struct rg_request *req, void *data);
extern PyType_Spec rg_py_start_response_spec, rg_py_file_wrapper_spec;

/* input.c */
extern PyType_Spec rg_py_input_spec, rg_py_errors_spec;
PyObject *rg_py_input_new(struct rg_py_front *f, struct rg_request *req);
/* The request is done: the object answers ValueError from now on. */
void rg_py_input_detach(PyObject *input);
/* The body error the application met (-errno), 0 if none. */
int rg_py_input_error(PyObject *input);

/* Logs the exception set now (with its traceback) to the error log, and
 * clears it. */
void rg_py_log_exception(struct rg_py_front *f, const char *what);

#endif
