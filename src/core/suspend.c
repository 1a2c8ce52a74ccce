/* suspend.c: calls that suspend a handler and let the worker serve others
 * meanwhile: rg_sleep, the small socket API for calling other servers, and
 * rg_fd_wait, on which a front drives sockets of its own (the Python
 * front's cooperative socket). Each waits on an io operation and a timer
 * kept in the request (never on the handler's stack: a runner's tasks may
 * share one, as greenlets do), and can be cut short when a stopping worker
 * runs out of time. */
#include "core/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void wake(struct rg__waiter *wt, int res)
{
	wt->req->waiter = NULL;
	rg__request_wake(wt->req, res);
}

static void on_done(struct rg__io_op *op, int res)
{
	struct rg__waiter *wt = RG__CONTAINER(op, struct rg__waiter, op);
	rg__timer_del(&wt->w->timers, &wt->timer);
	if (wt->timed_out && res == -ECANCELED)
		res = -ETIMEDOUT;
	wake(wt, res);
}

/* The operation's callback still follows, with -ECANCELED. */
static void on_timeout(struct rg__timer *t)
{
	struct rg__waiter *wt = RG__CONTAINER(t, struct rg__waiter, timer);
	wt->timed_out = true;
	rg__io_cancel(wt->w->io, &wt->op);
}

static void on_sleep(struct rg__timer *t)
{
	struct rg__waiter *wt = RG__CONTAINER(t, struct rg__waiter, timer);
	wake(wt, 0);
}

void rg__suspend_cancel(struct rg_request *req)
{
	struct rg__waiter *wt = req->waiter;
	if (!wt)
		return;
	if (wt->op.kind != RG__IO_NONE) {
		rg__io_cancel(wt->w->io, &wt->op); /* on_done: -ECANCELED */
		return;
	}
	rg__timer_del(&wt->w->timers, &wt->timer); /* a sleep */
	wake(wt, -ECANCELED);
}

/* The running request's waiter, set up in *out: 0; -EPERM outside a
 * handler, -EWOULDBLOCK in one that cannot wait (rg_route_inline). */
static int waiter_init(struct rg__waiter **out, uint32_t timeout_ms,
		       rg__timer_fn *fire)
{
	struct rg_request *req = rg__request_current();
	if (!req)
		return -EPERM;
	if (!req->coro_ok)
		return rg__request_no_wait(req);
	struct rg__waiter *wt = *out = &req->wait_on;
	memset(wt, 0, sizeof(*wt));
	wt->req = req;
	wt->w = req->conn->w;
	wt->timer.fire = fire;
	wt->req->waiter = wt;
	if (timeout_ms)
		rg__timer_add(&wt->w->timers, &wt->timer,
			      wt->w->timers.now + timeout_ms);
	return 0;
}

/* Suspends until the started operation (err == 0) completes. */
static int waiter_wait(struct rg__waiter *wt, int err)
{
	if (err < 0) {
		wt->req->waiter = NULL;
		rg__timer_del(&wt->w->timers, &wt->timer);
		return err;
	}
	return rg__request_suspend(wt->req, RG__WAIT_OTHER);
}

int rg_sleep(uint32_t ms)
{
	struct rg__waiter *wt;
	int err = waiter_init(&wt, ms ? ms : 1, on_sleep);
	if (err < 0)
		return err;
	return rg__request_suspend(wt->req, RG__WAIT_OTHER);
}

int rg_tcp_connect(const char *ip, uint16_t port, uint32_t timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (rg__sockaddr(ip, port, &ss, &len) < 0)
		return -EINVAL;
	struct rg__waiter *wt;
	int err = waiter_init(&wt, timeout_ms, on_timeout);
	if (err < 0)
		return err;
	wt->addr = ss; /* read when the loop submits: not on this stack */
	int fd = socket(
	    ss.ss_family,
	    SOCK_STREAM | SOCK_CLOEXEC | rg__io_socket_flags(wt->w->io), 0);
	if (fd < 0) {
		err = -errno;
		wt->req->waiter = NULL;
		rg__timer_del(&wt->w->timers, &wt->timer);
		return err;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	err = waiter_wait(wt, rg__io_connect(wt->w->io, &wt->op, fd,
					     (struct sockaddr *)&wt->addr, len,
					     on_done));
	if (err < 0) {
		close(fd);
		return err;
	}
	return fd;
}

long rg_sock_read(int sock, void *buf, size_t n, uint32_t timeout_ms)
{
	struct rg__waiter *wt;
	int err = waiter_init(&wt, timeout_ms, on_timeout);
	if (err < 0)
		return err;
	if (n > INT32_MAX)
		n = INT32_MAX;
	return waiter_wait(wt, rg__io_read(wt->w->io, &wt->op, sock, buf,
					   (uint32_t)n, on_done));
}

long rg_sock_write(int sock, const void *buf, size_t n, uint32_t timeout_ms)
{
	if (n > INT32_MAX)
		return -EMSGSIZE;
	struct rg__waiter *wt;
	int err = waiter_init(&wt, timeout_ms, on_timeout);
	if (err < 0)
		return err;
	return waiter_wait(wt, rg__io_send(wt->w->io, &wt->op, sock, buf,
					   (uint32_t)n, on_done));
}

void rg_sock_close(int sock)
{
	struct rg_request *req = rg__request_current();
	if (req)
		rg__io_close(req->conn->w->io,
			     sock); /* forgets its state too */
	else
		close(sock);
}

int rg_fd_wait(int fd, short events, uint32_t timeout_ms)
{
	if (events != POLLIN && events != POLLOUT)
		return -EINVAL;
	struct rg__waiter *wt;
	int err = waiter_init(&wt, timeout_ms, on_timeout);
	if (err < 0)
		return err;
	return waiter_wait(
	    wt, rg__io_poll(wt->w->io, &wt->op, fd, events, on_done));
}
