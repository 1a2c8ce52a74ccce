/* worker.c: one worker process (rg_worker_serve): its server made from the
 * configuration on the master's sockets and board slot, the program's
 * routes (ops->setup), the ready report to the master, and the signals it
 * answers: SIGTERM/SIGINT stop gracefully (after drain_delay), SIGWINCH
 * too but at once (a reload's old generation), SIGQUIT at once, SIGUSR1
 * reopens the logs; SIGHUP and SIGUSR2 are the master's, ignored. */
#include "ops/ops.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

/* The running server, for the signal handlers; NULL outside
 * rg_server_run. A lock-free atomic is one of the few objects a handler
 * may read. */
static _Atomic(struct rg_server *) running;
static volatile sig_atomic_t stop_requested;

static const int signals[] = {SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGWINCH};

static void on_signal(int sig)
{
	struct rg_server *server = atomic_load(&running);
	if (sig == SIGQUIT)
		_exit(0); /* immediate: nothing in flight is finished */
	if (sig == SIGUSR1) {
		rg__log_reopen_later();
		if (server)
			rg_server_reopen_logs(server);
		return;
	}
	stop_requested = 1;
	if (server && sig == SIGWINCH)
		rg_server_retire(server); /* async-signal-safe */
	else if (server)
		rg_server_stop(server);
}

/* Tells the master this worker accepts: its pid on the ready pipe. */
static void on_ready(void *arg)
{
	const struct rg_worker *w = arg;
	if (w->ready_fd < 0)
		return;
	int32_t pid = (int32_t)getpid();
	ssize_t n = write(w->ready_fd, &pid, sizeof(pid));
	(void)n; /* the master notices a worker that never says so */
}

/* Serves until told to stop: 0, or -errno from the server. */
static int serve(struct rg_server *server)
{
	atomic_store(&running, server);
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		sigaction(signals[i], &sa, NULL);
		sigaddset(&set, signals[i]);
	}
	signal(SIGHUP, SIG_IGN);  /* the master's business */
	signal(SIGUSR2, SIG_IGN); /* the master's: it dumps from the board */
	sigprocmask(SIG_UNBLOCK, &set, NULL);

	int rc = stop_requested ? 0 : rg_server_run(server);

	sigprocmask(SIG_BLOCK, &set, NULL);
	atomic_store(&running, NULL);
	return rc;
}

int rg_worker_serve(const struct rg_worker *w, const struct rg_worker_ops *ops)
{
	const struct rg_config *c = w->config;
	struct rg_server_config config = c->server;
	config.listen_fds = w->fds;
	config.nlisten_fds = w->nfds;
	config.access_log = c->access_log;
	config.log = rg_log_server;
	config.stats_board = w->board;
	config.stats_slot = w->slot;
	config.ready = on_ready;
	config.ready_arg = (void *)w;
	if (ops->configure)
		ops->configure(&config, c, ops->arg);

	struct rg_server *server = rg_server_create(&config);
	if (!server) {
		rg_log(RG_LOG_ERROR, "cannot create the server: %s",
		       strerror(errno));
		return 1;
	}
	int status = 1;
	int rc = ops->setup(server, c, ops->arg);
	if (rc < 0)
		rg_log(RG_LOG_ERROR, "cannot set the worker up: %s",
		       strerror(-rc));
	else if ((rc = serve(server)) < 0)
		rg_log(RG_LOG_ERROR, "the server failed: %s", strerror(-rc));
	else
		status = 0;
	rg_server_destroy(server); /* closes the adopted sockets */
	if (ops->teardown) /* after the server: no request holds anything */
		ops->teardown(c, ops->arg);
	return status;
}
