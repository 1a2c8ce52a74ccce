/* worker.c: one worker process of the ringlet program: its server (the
 * routes, the sockets it adopts from the master, its slot on the shared
 * statistics board), and the signals it answers: SIGTERM/SIGINT stop
 * gracefully, SIGQUIT at once, SIGUSR1 reopens the logs. */
#include "app.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every handler gets the app as its data, except the library's static
 * file handler, which gets the worker's rg_static. */
static const struct {
	const char *method;
	const char *pattern;
	rg_handler *handler;
} routes[] = {
    {"GET", "/plaintext", app_plaintext},
    {"GET", "/json", app_json_hello},
    {"GET", "/json/:count", app_json_items},
    {"GET", "/baseline11", app_baseline_get},
    {"POST", "/baseline11", app_baseline_post},
    {"GET", "/pipeline", app_pipeline},
    {"POST", "/upload", app_upload},
    {"GET", "/static/*", rg_static_handler},
    {"GET", "/", app_root},
    {"OPTIONS", "/", app_root},
    {"POST", "/", app_root_echo},
    {"POST", "/echo", app_echo_headers},
    {"GET", "/stats", app_stats},
    {"GET", "/sleep", app_sleep},
    {"GET", "/upstream", app_upstream},
    {"GET", "/stream", app_stream},
};

/* The running server, for the signal handlers; NULL outside
 * rg_server_run. A lock-free atomic is one of the few objects a handler
 * may read. */
static _Atomic(struct rg_server *) running;
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	struct rg_server *server = atomic_load(&running);
	if (sig == SIGQUIT)
		_exit(0); /* immediate: nothing in flight is finished */
	if (sig == SIGUSR1) {
		app_log_reopen_later();
		if (server)
			rg_server_reopen_logs(server);
		return;
	}
	stop_requested = 1;
	if (server)
		rg_server_stop(server); /* async-signal-safe */
}

/* Tells the master this worker accepts: its pid on the ready pipe. */
static void on_ready(void *arg)
{
	const struct worker_args *a = arg;
	if (a->ready_fd < 0)
		return;
	int32_t pid = (int32_t)getpid();
	ssize_t n = write(a->ready_fd, &pid, sizeof(pid));
	(void)n; /* the master notices a worker that never says so */
}

int app_worker_run(const struct worker_args *a, struct app *app)
{
	const struct settings *set = a->settings;
	struct rg_server_config config = set->file.server;
	config.listen_fds = a->fds;
	config.nlisten_fds = a->nfds;
	config.access_log = set->file.access_log;
	config.log = app_log_callback;
	config.stats_board = a->board;
	config.stats_slot = a->board_slot;
	config.ready = on_ready;
	config.ready_arg = (void *)a;

	struct rg_server *server = rg_server_create(&config);
	if (!server) {
		app_log(RG_LOG_ERROR, "cannot create the server: %s",
			strerror(errno));
		return 1;
	}
	app->server = server;
	int status = 1, rc;
	struct rg_static_config files;
	rg_static_config_init(&files);
	files.root = set->file.root;
	files.index = set->file.index;
	files.precompressed = set->file.precompressed;
	files.cache_entries = set->file.open_file_cache;
	app->files = rg_static_create(&files);
	if (!app->files) {
		app_log(RG_LOG_ERROR, "cannot serve the root %s: %s",
			set->file.root, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		void *data = routes[i].handler == rg_static_handler
				 ? (void *)app->files
				 : (void *)app;
		rc = rg_route(server, routes[i].method, routes[i].pattern,
			      routes[i].handler, data);
		if (rc < 0) {
			app_log(RG_LOG_ERROR, "cannot route %s %s: %s",
				routes[i].method, routes[i].pattern,
				strerror(-rc));
			goto out;
		}
	}

	atomic_store(&running, server);
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	static const int sigs[] = {SIGINT, SIGTERM, SIGQUIT, SIGUSR1};
	sigset_t set_;
	sigemptyset(&set_);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&set_, sigs[i]);
	}
	signal(SIGHUP, SIG_IGN); /* the master's business */
	sigprocmask(SIG_UNBLOCK, &set_, NULL);

	rc = stop_requested ? 0 : rg_server_run(server);

	sigprocmask(SIG_BLOCK, &set_, NULL);
	atomic_store(&running, NULL);
	if (rc < 0)
		app_log(RG_LOG_ERROR, "the server failed: %s", strerror(-rc));
	else
		status = 0;
out:
	rg_server_destroy(server); /* closes the adopted sockets */
	app->server = NULL;
	rg_static_destroy(app->files); /* after the server: no request
					  holds one of its files */
	app->files = NULL;
	return status;
}
