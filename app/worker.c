/* worker.c: the demo's part of a worker process: its routes and the
 * static files they serve, set up on the library's worker
 * (rg_worker_serve), which owns the server, the sockets and the signals. */
#include "app.h"

#include <errno.h>
#include <string.h>

/* Every handler gets the app as its data, except the static files, which
 * get the worker's rg_static. The [status] endpoints (/stats, /metrics,
 * /status) are the library's (rg_status_routes). Handlers that never wait
 * and answer in a few hundred bytes run inline (rg_route_inline): the
 * benchmark workloads, /baseline11's POST included (its body, at most
 * 1 KiB, is read inline when it has all arrived). */
static const struct {
	const char *method;
	const char *pattern;
	rg_handler *handler;
	bool run_inline;
} routes[] = {
    {"GET", "/plaintext", app_plaintext, true},
    {"GET", "/json", app_json_hello, true},
    {"GET", "/json/:count", app_json_items, false},
    {"GET", "/baseline11", app_baseline_get, true},
    {"POST", "/baseline11", app_baseline_post, true},
    {"GET", "/pipeline", app_pipeline, true},
    {"POST", "/upload", app_upload, false},
    {"GET", "/static/*", rg_static_handler, false},
    {"GET", "/", app_root, false},
    {"OPTIONS", "/", app_root, false},
    {"POST", "/", app_root_echo, false},
    {"POST", "/echo", app_echo_headers, false},
    {"GET", "/sleep", app_sleep, false},
    {"GET", "/upstream", app_upstream, false},
    {"GET", "/stream", app_stream, false},
};

static int setup(struct rg_server *server, const struct rg_config *c, void *arg)
{
	struct app *app = arg;
	struct rg_static_config files;
	rg_static_config_init(&files);
	files.root = c->root;
	files.index = c->index;
	files.precompressed = c->precompressed;
	files.cache_entries = c->open_file_cache;
	app->files = rg_static_create(&files);
	if (!app->files) {
		int err = errno;
		rg_log(RG_LOG_ERROR, "cannot serve the root %s: %s", c->root,
		       strerror(err));
		return -err;
	}
	int rc = rg_status_routes(server, &c->status);
	if (rc < 0) {
		rg_log(RG_LOG_ERROR, "cannot route the [status] endpoints: %s",
		       strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		rg_handler *h = routes[i].handler;
		void *data =
		    h == rg_static_handler ? (void *)app->files : (void *)app;
		rc = (routes[i].run_inline ? rg_route_inline : rg_route)(
		    server, routes[i].method, routes[i].pattern, h, data);
		if (rc < 0) {
			rg_log(RG_LOG_ERROR, "cannot route %s %s: %s",
			       routes[i].method, routes[i].pattern,
			       strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static void teardown(const struct rg_config *c, void *arg)
{
	(void)c;
	struct app *app = arg;
	rg_static_destroy(app->files);
	app->files = NULL;
}

int app_worker(const struct rg_worker *w, void *app)
{
	const struct rg_worker_ops ops = {
	    .setup = setup, .teardown = teardown, .arg = app};
	return rg_worker_serve(w, &ops);
}
