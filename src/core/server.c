/* server.c: the server object and its one worker: configuration, the
 * listening socket, the pools the worker draws from, and the event loop
 * (timers, flush of batched output, one io wait per iteration). */
#include "core/server.h"
#include "core/access_log.h"
#include "mem/pool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* Timers run between two sends of the responses they produced. */
#define TIMER_BATCH 32

void rg_server_config_init(struct rg_server_config *c)
{
	*c = (struct rg_server_config){
	    .host = "0.0.0.0",
	    .port = 8080,
	    .backlog = 4096,
	    .io_backend = RG_IO_AUTO,
	    .max_connections = 10000,
	    .request_arena_size = 8192,
	    .large_alloc_spill = 16384,
	    .small_alloc_threshold = 256,
	    .coroutine_stack_size = RG__CORO_STACK_SIZE_DEFAULT,
	    .max_coroutines = 1024,
	    .header_buffer_size = 16384,
	    .max_request_line = 8192,
	    .max_headers = 100,
	    .max_body_size = 1 << 20,
	    .connection_buffer_size = 65536,
	    .header_timeout_ms = 10000,
	    .body_timeout_ms = 30000,
	    .keepalive_timeout_ms = 5000,
	    .write_timeout_ms = 30000,
	    .shutdown_timeout_ms = 10000,
	};
}

const char *rg_server_config_problem(const struct rg_server_config *c)
{
	if (!c->host)
		return "host is NULL";
	if (!c->max_connections)
		return "max_connections is 0";
	if (!c->max_coroutines)
		return "max_coroutines is 0";
	if (c->request_arena_size < 1024)
		return "request_arena_size is below 1 KiB";
	if (c->small_alloc_threshold < 64 || c->small_alloc_threshold > 1024)
		return "small_alloc_threshold is outside 64 B - 1 KiB";
	if (c->coroutine_stack_size < RG__CORO_STACK_SIZE_MIN)
		return "coroutine_stack_size is below 16 KiB";
	if (c->header_buffer_size < 1024 || c->header_buffer_size > (1 << 20))
		return "header_buffer_size is outside 1 KiB - 1 MiB";
	if (!c->max_request_line)
		return "max_request_line is 0";
	if (c->max_request_line > c->header_buffer_size)
		return "max_request_line exceeds header_buffer_size";
	if (!c->max_headers)
		return "max_headers is 0";
	if (c->connection_buffer_size < 8192)
		return "connection_buffer_size is below 8 KiB";
	if (c->nlisten_fds > RG_MAX_LISTEN)
		return "more than RG_MAX_LISTEN listen_fds";
	if (c->nlisten_fds && !c->listen_fds)
		return "nlisten_fds without listen_fds";
	return NULL;
}

struct rg_server *rg_server_create(const struct rg_server_config *config)
{
	const struct rg_server_config *c = config;
	if (rg_server_config_problem(c)) {
		errno = EINVAL;
		return NULL;
	}
	struct rg_server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->config = *c;
	s->account.limit = c->memory_limit;
	rg__router_init(&s->router);
	s->w.server = s; /* rg_server_stats_json may be asked before run */
	s->w.wake_fd = -1;
	for (unsigned i = 0; i < c->nlisten_fds; i++) /* adopted now */
		s->w.listeners[i].fd = c->listen_fds[i];
	s->w.nlisteners = c->nlisten_fds;
	return s;
}

int rg_route(struct rg_server *s, const char *method, const char *pattern,
	     rg_handler *handler, void *data)
{
	return rg__router_add(&s->router, method, pattern, handler, data,
			      false);
}

int rg_route_inline(struct rg_server *s, const char *method,
		    const char *pattern, rg_handler *handler, void *data)
{
	return rg__router_add(&s->router, method, pattern, handler, data, true);
}

int rg_listen(const char *host, uint16_t port, int backlog, bool reuse_port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (rg__sockaddr(host, port, &ss, &len) < 0)
		return -EINVAL;
	/* Non-blocking: the epoll backend accepts until EAGAIN. */
	int fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	/* SO_REUSEPORT only when asked: one socket per worker process,
	 * balanced by the kernel; otherwise a second server on the port is
	 * an error, not a silent share. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (reuse_port &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
	    (ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) <
		 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(fd, backlog) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int rg_server_listen(struct rg_server *s)
{
	struct rg__worker *w = &s->w;
	const struct rg_server_config *c = &s->config;
	if (w->nlisteners) /* bound before, or adopted */
		return 0;
	int fd = rg_listen(c->host, c->port, c->backlog, c->reuse_port);
	if (fd < 0)
		return fd;
	w->listeners[0].fd = fd;
	w->nlisteners = 1;
	return 0;
}

uint16_t rg_server_port(const struct rg_server *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (!s->w.nlisteners ||
	    getsockname(s->w.listeners[0].fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void wake(struct rg_server *s)
{
	if (s->w.wake_fd >= 0) {
		uint64_t one = 1;
		ssize_t n = write(s->w.wake_fd, &one, sizeof(one));
		(void)n;
	}
}

void rg_server_stop(struct rg_server *s)
{
	s->stop = 1;
	wake(s);
}

void rg_server_retire(struct rg_server *s)
{
	s->retire = 1;
	s->stop = 1;
	wake(s);
}

void rg_server_reopen_logs(struct rg_server *s)
{
	s->reopen_logs = 1;
	wake(s);
}

/* ------------------------------------------------------------------------
 * Worker
 * ------------------------------------------------------------------------ */

static void on_accept(struct rg__io_op *op, int res);

/* Re-arms every listener whose accept ended; 0 when all are armed. */
static int accept_all(struct rg__worker *w)
{
	int err = 0;
	for (unsigned i = 0; i < w->nlisteners; i++) {
		struct rg__listener *l = &w->listeners[i];
		if (l->op.kind == RG__IO_NONE) {
			int r = rg__io_accept(w->io, &l->op, l->fd, on_accept);
			if (r < 0)
				err = r;
		}
	}
	return err;
}

static void accept_again(struct rg__timer *t)
{
	struct rg__worker *w =
	    RG__CONTAINER(t, struct rg__worker, accept_retry);
	int err;
	if (!w->stopping && (err = accept_all(w)) < 0) {
		rg__log_limited(w, RG__LOG_EV_ACCEPT, RG_LOG_ERROR,
				"accept: cannot re-arm: %s; retrying in 100 ms",
				strerror(-err));
		rg__timer_add(&w->timers, t, w->timers.now + 100);
	}
}

/* A stopping worker's listener, once its accept has ended. The kernel
 * wakes one waiter per new connection (exclusive wakeup, as accept(2)
 * does), and the waiter woken may have been this worker's accept while it
 * was being cancelled: the client would then sit queued, the next
 * generation's worker never woken for it. So what is queued now is
 * accepted (and served) here before the socket is closed; the master and
 * any new worker keep it open for the clients still to come. */
static void listener_retire(struct rg__worker *w, struct rg__listener *l)
{
	if (l->fd < 0)
		return;
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL,
				 SOCK_CLOEXEC | rg__io_socket_flags(w->io));
		if (fd >= 0)
			rg__conn_accept(w, fd);
		else if (errno != ECONNABORTED && errno != EINTR)
			break; /* EAGAIN: nobody is waiting any more */
	}
	close(l->fd);
	l->fd = -1;
}

static void on_accept(struct rg__io_op *op, int res)
{
	struct rg__listener *l = RG__CONTAINER(op, struct rg__listener, op);
	struct rg__worker *w = l->w;
	if (res < 0 && w->stopping) {
		listener_retire(w, l);
		return;
	}
	if (res >= 0) {
		/* Even while stopping: an accept that completed before its
		 * cancel is a client in this worker's queue; it gets one
		 * response with Connection: close, never a reset (reload). */
		rg__conn_accept(w, res);
		return;
	}
	/* The multishot accept ended (EMFILE, ENFILE, ENOMEM...): try again
	 * shortly rather than spin. */
	if (!w->stopping && res != -ECANCELED) {
		rg__log_limited(w, RG__LOG_EV_ACCEPT, RG_LOG_ERROR,
				"accept: %s; retrying in 100 ms",
				strerror(-res));
		rg__timer_add(&w->timers, &w->accept_retry,
			      w->timers.now + 100);
	}
}

static void on_wake(struct rg__io_op *op, int res)
{
	struct rg__worker *w = RG__CONTAINER(op, struct rg__worker, wake_op);
	if (res >= 0 && !w->server->stop)
		rg__io_read(w->io, &w->wake_op, w->wake_fd,
			    (char *)&w->wake_buf, sizeof(w->wake_buf), on_wake);
}

/* The loop's clocks: read once per iteration, and again when a wait
 * returns, so deadlines set by its callbacks count from now (and a
 * request's duration from when its bytes came). */
static void worker_tick(void *arg)
{
	struct rg__worker *w = arg;
	w->now_ns = rg__clock_ns();
	w->timers.now = rg__clock_ms_at(w->now_ns);
	w->wall = time(NULL);
}

static void worker_stop(struct rg__worker *w);

/* drain_delay_ms after rg_server_stop: the stop itself. */
static void drain_over(struct rg__timer *t)
{
	worker_stop(RG__CONTAINER(t, struct rg__worker, drain));
}

/* shutdown_timeout_ms after a graceful stop began: whatever is still
 * connected is cut off; handlers suspended on the connection see
 * -ECONNRESET, those in rg_sleep or a socket call -ECANCELED. */
static void shutdown_expired(struct rg__timer *t)
{
	struct rg__worker *w = RG__CONTAINER(t, struct rg__worker, shutdown);
	unsigned n = 0;
	for (struct rg__conn *c = w->live; c; c = c->next) {
		if (!(c->flags & RG__C_CLOSING)) {
			rg__conn_close(c);
			n++;
		}
		if (c->req)
			rg__suspend_cancel(c->req);
	}
	if (n)
		rg__log(w, RG_LOG_WARN,
			"shutdown timeout: closed %u busy connection%s", n,
			n == 1 ? "" : "s");
}

/* Once a second: this worker's figures to the shared board. */
static void publish_stats(struct rg__timer *t)
{
	struct rg__worker *w = RG__CONTAINER(t, struct rg__worker, publish);
	rg__stats_publish(w);
	if (!w->stopping)
		rg__timer_add(&w->timers, t, w->timers.now + 1000);
}

/* Once a second: the pools with nothing out give back what a burst grew
 * them by (rg__pool_trim), so that reserved memory and RSS come back to
 * their idle level after it. A pool in use is left as it is: a worker
 * under steady load keeps its chunks, and a burst every few seconds costs
 * a few mmap calls. */
static void trim_pools(struct rg__timer *t)
{
	struct rg__worker *w = RG__CONTAINER(t, struct rg__worker, trim);
	rg__pool_trim(w->stacks);
	rg__pool_trim(w->blocks);
	rg__slab_trim(w->slab);
	if (!w->stopping)
		rg__timer_add(&w->timers, t, w->timers.now + 1000);
}

static void worker_fini(struct rg__worker *w)
{
	if (w->alog)
		rg__alog_close(w->alog);
	w->alog = NULL;
	rg__io_destroy(w->io);
	w->io = NULL;
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	w->wake_fd = -1;
	rg_slab_destroy(w->slab);
	rg_pool_destroy(w->blocks);
	rg_pool_destroy(w->stacks);
	rg_pool_destroy(w->conns);
	w->slab = NULL;
	w->blocks = w->stacks = w->conns = NULL;
}

/* Where the access log reports trouble: the server's log. */
static void alog_report(void *arg, bool limited, int level, const char *msg)
{
	struct rg__worker *w = arg;
	if (limited)
		rg__log_limited(w, RG__LOG_EV_ACCESS_LOG, level, "%s", msg);
	else
		rg__log(w, level, "%s", msg);
}

static int worker_init(struct rg_server *s)
{
	struct rg__worker *w = &s->w;
	const struct rg_server_config *c = &s->config;
	struct rg_mem_account *acct = &s->account;
	w->server = s;
	w->limits = (struct rg__parse_limits){
	    .max_request_line = (uint32_t)c->max_request_line,
	    .max_head = (uint32_t)c->header_buffer_size,
	    .max_headers = c->max_headers,
	    .max_body = c->max_body_size,
	    .underscores = c->underscores_in_headers,
	};
	/* Connections: one mapping for all, touched only as used. */
	struct rg_pool_config conns = {.object_size = sizeof(struct rg__conn),
				       .initial = c->max_connections};
	struct rg_pool_config stacks = {.object_size = c->coroutine_stack_size,
					.initial = 16,
					.grow_by = 16,
					.max = c->max_coroutines,
					.guard_pages = 1};
	struct rg_pool_config blocks = {.object_size = c->request_arena_size,
					.initial = 64,
					.grow_by = 64,
					.max = (size_t)c->max_connections * 4};
	/* Slab classes: small (input queues), receive buffers, header and
	 * output buffers. */
	struct rg_slab_config sc = {.initial = 32,
				    .max = (size_t)c->max_connections * 2 + 512,
				    .sizes = {c->small_alloc_threshold, 1024,
					      8192, RG__OUT_SIZE,
					      c->header_buffer_size}};
	if (stacks.initial > stacks.max)
		stacks.initial = stacks.max;
	if (blocks.initial > blocks.max)
		blocks.initial = blocks.max;
	int err;
	if (!(w->conns = rg_pool_create(&conns, acct)) ||
	    !(w->stacks = rg_pool_create(&stacks, acct)) ||
	    !(w->blocks = rg_pool_create(&blocks, acct)) ||
	    !(w->slab = rg_slab_create(&sc, acct))) {
		err = errno ? -errno : -ENOMEM;
		goto fail;
	}
	if ((err = rg__coro_sched_init(&w->sched, w->stacks)) < 0)
		goto fail;
	if (c->runner)
		w->runner = *c->runner;
	else
		rg__coro_runner(&w->runner, &w->sched);
	char why[160];
	struct rg__io_config ioc = {
	    .backend =
		c->io_backend <= RG_IO_EPOLL ? c->io_backend : RG_IO_AUTO,
	    .entries = 256,
	    .buffers = 256,
	    .slab = w->slab,
	    .buffer_size = 8192,
	    .max_fds = c->max_connections + 1024,
	    .woke = worker_tick,
	    .woke_arg = w,
	    .blocking = c->blocking,
	    .blocking_arg = c->blocking_arg,
	    .why = why,
	    .why_size = sizeof(why),
	};
	if (!(w->io = rg__io_create(&ioc))) {
		err = -errno;
		if (why[0])
			rg__log(w, RG_LOG_ERROR, "io_uring unavailable: %s",
				why);
		goto fail;
	}
	if (why[0]) /* auto fell back */
		rg__log(w, RG_LOG_WARN, "io_uring unavailable, using epoll: %s",
			why);
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake_fd < 0) {
		err = -errno;
		goto fail;
	}
	const struct rg__alog_host host = {w->io, &w->timers, acct, alog_report,
					   w};
	if (c->access_log &&
	    (err = rg__alog_open(&w->alog, c->access_log, &host)) < 0)
		goto fail;
	w->accept_retry.fire = accept_again;
	w->shutdown.fire = shutdown_expired;
	w->drain.fire = drain_over;
	w->publish.fire = publish_stats;
	w->trim.fire = trim_pools;
	worker_tick(w);
	for (unsigned i = 0; i < w->nlisteners; i++)
		w->listeners[i].w = w;
	if ((err = rg__io_read(w->io, &w->wake_op, w->wake_fd,
			       (char *)&w->wake_buf, sizeof(w->wake_buf),
			       on_wake)) < 0 ||
	    (err = accept_all(w)) < 0)
		goto fail;
	if (c->stats_board)
		publish_stats(&w->publish);
	rg__timer_add(&w->timers, &w->trim, w->timers.now + 1000);
	return 0;
fail:
	worker_fini(w);
	return err;
}

/* Graceful stop: no new connection; idle ones close now; busy ones after
 * their response (keep-alive is turned off). */
static void worker_stop(struct rg__worker *w)
{
	w->stopping = true;
	w->draining = false;
	rg__timer_del(&w->timers, &w->drain);
	rg__timer_del(&w->timers, &w->accept_retry);
	rg__timer_del(&w->timers, &w->publish);
	rg__timer_del(&w->timers, &w->trim);
	/* The listeners are closed, not just left: once the master's and
	 * every worker's copy is closed, new clients are refused at once
	 * instead of queueing where nobody accepts. */
	for (unsigned i = 0; i < w->nlisteners; i++) {
		struct rg__listener *l = &w->listeners[i];
		if (l->op.kind != RG__IO_NONE)
			rg__io_cancel(w->io, &l->op); /* then on_accept */
		else
			listener_retire(w, l);
	}
	rg__io_cancel(w->io, &w->wake_op);
	rg__conn_close_idle(w);
	uint32_t grace = w->server->config.shutdown_timeout_ms;
	if (grace)
		rg__timer_add(&w->timers, &w->shutdown, w->timers.now + grace);
}

/* rg_server_stop: a drain first if there is one to do. */
static void worker_stop_or_drain(struct rg__worker *w)
{
	const struct rg_server *s = w->server;
	uint32_t d = s->config.drain_delay_ms;
	if (s->retire || !d) {
		rg__timer_del(&w->timers, &w->drain);
		worker_stop(w);
	} else if (!w->draining) {
		w->draining = true;
		rg__log(w, RG_LOG_INFO,
			"draining for %u ms: health 503, keep-alive off", d);
		rg__timer_add(&w->timers, &w->drain, w->timers.now + d);
	}
}

static bool worker_quiet(const struct rg__worker *w)
{
	for (unsigned i = 0; i < w->nlisteners; i++)
		if (w->listeners[i].op.kind != RG__IO_NONE)
			return false;
	return w->stats.connections_active == 0 &&
	       w->wake_op.kind == RG__IO_NONE &&
	       w->runner.live(w->runner.ctx) == 0;
}

static void close_listeners(struct rg__worker *w)
{
	for (unsigned i = 0; i < w->nlisteners; i++)
		if (w->listeners[i].fd >= 0)
			close(w->listeners[i].fd);
	w->nlisteners = 0;
}

int rg_server_run(struct rg_server *s)
{
	if (s->running)
		return -EBUSY;
	int err = rg_server_listen(s);
	if (err < 0)
		return err;
	if ((err = worker_init(s)) < 0)
		return err;
	struct rg__worker *w = &s->w;
	s->running = true;
	if (s->config.ready)
		s->config.ready(s->config.ready_arg);
	for (;;) {
		worker_tick(w);
		if (s->stop && !w->stopping)
			worker_stop_or_drain(w);
		if (s->reopen_logs) {
			s->reopen_logs = 0;
			/* Said first, access log or not: the owner's callback
			 * may reopen its own log on this (src/ops/log.c
			 * does). */
			rg__log(w, RG_LOG_INFO, "reopening logs");
			if (w->alog)
				rg__alog_reopen(w->alog);
		}
		/* Many timers due at once (handlers waking from rg_sleep
		 * together) are run a batch at a time. Between batches, the
		 * batch's responses are sent and what came meanwhile (the
		 * next requests of the connections just answered) is taken
		 * in: otherwise those would start only after the last timer,
		 * all in step again, and the handlers would keep waking in
		 * one burst (10 ms sleeps at 256 connections: 17k req/s on
		 * io_uring; 22k taking them in). Only the timers due now run
		 * here: those that fall due meanwhile wait for the next turn,
		 * so the stop and reopen checks above are never starved. */
		uint64_t due = w->timers.now;
		while (rg__timers_run(&w->timers, due, TIMER_BATCH)) {
			rg__conn_flush_all(w);
			rg__io_wait(w->io, 0);
		}
		rg__conn_flush_all(w);
		/* After the flush: it releases the connections closed above. */
		if (w->stopping && worker_quiet(w))
			break;
		int n = rg__io_wait(w->io, rg__timers_next(&w->timers));
		if (n < 0 && n != -EINTR) {
			err = n;
			break;
		}
	}
	s->running = false;
	rg__timer_del(&w->timers, &w->shutdown);
	if (s->config.stats_board)
		rg__stats_publish(w); /* the final figures */
	close_listeners(w);
	worker_fini(w);
	return err < 0 ? err : 0;
}

void rg_server_destroy(struct rg_server *s)
{
	if (!s)
		return;
	close_listeners(&s->w);
	rg__router_free(&s->router);
	free(s);
}
