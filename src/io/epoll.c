/* epoll.c: the epoll backend, for where io_uring is unavailable. It turns
 * edge-triggered readiness into the completions io.h promises: every fd is
 * registered once for both directions, and an operation runs its syscall
 * when its direction is ready. */
#include "backend.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define RG__EPOLL_BATCH 256
#define RG__EPOLL_ROUNDS 16 /* reads or accepts per readiness, for fairness */

#define RG__EP_QUEUED 0x10  /* on the todo list */
#define RG__EP_REPORT 0x20  /* todo: report op->res, don't retry */
#define RG__EP_STARVED 0x40 /* on the starved list */

struct rg__epfd {
	struct rg__io_op *rd, *wr;
	uint8_t registered, readable, writable;
	uint8_t polled; /* registered by a poll: forgotten when it ends */
};

struct rg__epoll {
	struct rg__io base;
	int epfd;
	struct rg__epfd *fds;
	unsigned nfds;
	struct rg__io_op *todo, **todo_tail; /* to try, or to report */
	struct rg__io_op *starved;	     /* receives waiting for a buffer */
	char *rbuf;			     /* the next receive buffer */
	bool kept;
};

static struct rg__epoll *to_epoll(struct rg__io *io)
{
	return (struct rg__epoll *)io;
}

static void queue(struct rg__epoll *ep, struct rg__io_op *op)
{
	if (op->flags & RG__EP_QUEUED)
		return;
	op->flags |= RG__EP_QUEUED;
	op->next = NULL;
	*ep->todo_tail = op;
	ep->todo_tail = &op->next;
}

static void report_later(struct rg__epoll *ep, struct rg__io_op *op, int res)
{
	op->res = res;
	op->flags |= RG__EP_REPORT;
	queue(ep, op);
}

static struct rg__epfd *slot(struct rg__epoll *ep, int fd)
{
	if ((unsigned)fd >= ep->nfds) {
		unsigned n = ep->nfds * 2 > (unsigned)fd ? ep->nfds * 2
							 : (unsigned)fd + 64;
		struct rg__epfd *f = realloc(ep->fds, n * sizeof(*f));
		if (!f)
			return NULL;
		for (unsigned i = ep->nfds; i < n; i++)
			f[i] = (struct rg__epfd){0};
		ep->fds = f;
		ep->nfds = n;
	}
	return &ep->fds[fd];
}

/* Ends an operation: its slot forgets it and its owner hears `res`. */
static void finish(struct rg__epoll *ep, struct rg__io_op *op, int res)
{
	if (op->kind != RG__IO_WRITE) { /* a file write has no slot */
		struct rg__epfd *e = &ep->fds[op->fd];
		if (e->rd == op)
			e->rd = NULL;
		if (e->wr == op)
			e->wr = NULL;
		/* An fd only polled belongs to its caller, who may close it
		 * the moment the poll ends: out of the set now, so that a new
		 * fd of the same number is registered afresh. */
		if (e->polled && !e->rd && !e->wr) {
			epoll_ctl(ep->epfd, EPOLL_CTL_DEL, op->fd, NULL);
			*e = (struct rg__epfd){0};
		}
	}
	int kind = op->kind;
	op->kind = RG__IO_NONE;
	if (kind == RG__IO_RECV)
		op->recv_done(op, NULL, res);
	else
		op->done(op, res);
}

static void do_accept(struct rg__epoll *ep, struct rg__io_op *op)
{
	struct rg__epfd *e = &ep->fds[op->fd];
	for (int i = 0; i < RG__EPOLL_ROUNDS; i++) {
		int fd =
		    accept4(op->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			op->done(op, fd);
			if (e->rd != op || (op->flags & RG__IO_F_CANCELLED))
				return;
			continue;
		}
		if (errno == EAGAIN) {
			e->readable = 0;
			return;
		}
		if (errno != EINTR && errno != ECONNABORTED) {
			finish(ep, op, -errno);
			return;
		}
	}
	queue(ep, op);
}

static void do_recv(struct rg__epoll *ep, struct rg__io_op *op)
{
	struct rg__epfd *e = &ep->fds[op->fd];
	size_t size = ep->base.buf_size;
	for (int i = 0; i < RG__EPOLL_ROUNDS; i++) {
		if (!ep->rbuf) {
			ep->rbuf = rg_slab_alloc(ep->base.slab, size, NULL);
			if (!ep->rbuf) {
				op->flags |= RG__EP_STARVED;
				op->next = ep->starved;
				ep->starved = op;
				return;
			}
		}
		ssize_t n = recv(op->fd, ep->rbuf, size, 0);
		if (n > 0) {
			ep->kept = false;
			op->recv_done(op, ep->rbuf, (int)n);
			if (ep->kept)
				ep->rbuf = NULL;
			if (e->rd != op || (op->flags & RG__IO_F_CANCELLED))
				return;
			/* A short read emptied the socket: the next data
			 * raises a new edge. */
			if ((size_t)n < size) {
				e->readable = 0;
				return;
			}
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			e->readable = 0;
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		finish(ep, op, n == 0 ? 0 : -errno);
		return;
	}
	queue(ep, op);
}

static void do_read(struct rg__epoll *ep, struct rg__io_op *op)
{
	ssize_t n = read(op->fd, op->in, op->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		ep->fds[op->fd].readable = 0;
		return;
	}
	finish(ep, op, n < 0 ? -errno : (int)n);
}

static void do_send(struct rg__epoll *ep, struct rg__io_op *op)
{
	while (op->off < op->len) {
		ssize_t n = send(op->fd, op->out + op->off, op->len - op->off,
				 MSG_NOSIGNAL);
		if (n > 0) {
			op->off += (uint32_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			ep->fds[op->fd].writable = 0;
			return;
		} else if (!(n < 0 && errno == EINTR)) {
			finish(ep, op, n < 0 ? -errno : -EPIPE);
			return;
		}
	}
	finish(ep, op, (int)op->len);
}

static void do_connect(struct rg__epoll *ep, struct rg__io_op *op)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(op->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	finish(ep, op, -err);
}

/* The fd's readiness flag may be stale (the caller's own read or write
 * just met EAGAIN, out of our sight): ask the kernel, and when it is not
 * ready wait for the next edge. */
static void do_poll(struct rg__epoll *ep, struct rg__io_op *op)
{
	struct pollfd p = {.fd = op->fd, .events = (short)op->len};
	int n = poll(&p, 1, 0);
	if (n == 0 || (n < 0 && errno == EINTR)) {
		if (op->len == POLLIN)
			ep->fds[op->fd].readable = 0;
		else
			ep->fds[op->fd].writable = 0;
		return;
	}
	finish(ep, op, n < 0 ? -errno : p.revents);
}

/* Writes the whole buffer to a regular file now: readiness means nothing
 * for regular files (epoll_ctl refuses them), and the write does not wait
 * for the network. The result is reported from the next wait. */
static int do_write(struct rg__epoll *ep, struct rg__io_op *op)
{
	int res = (int)op->len;
	while (op->off < op->len) {
		ssize_t n = write(op->fd, op->out + op->off, op->len - op->off);
		if (n > 0) {
			op->off += (uint32_t)n;
		} else if (n == 0) {
			res = -EIO;
			break;
		} else if (errno != EINTR) {
			res = -errno;
			break;
		}
	}
	report_later(ep, op, res);
	return 0;
}

/* Runs the op's syscall now that its direction may be ready. */
static void progress(struct rg__epoll *ep, struct rg__io_op *op)
{
	struct rg__epfd *e = &ep->fds[op->fd];
	/* A cancelled op has its -ECANCELED on the todo list; a queued or
	 * starved one runs from its list: `next` links only one list. */
	if (op->flags & (RG__IO_F_CANCELLED | RG__EP_STARVED))
		return;
	switch (op->kind) {
	case RG__IO_ACCEPT:
		if (e->readable)
			do_accept(ep, op);
		break;
	case RG__IO_RECV:
		if (e->readable)
			do_recv(ep, op);
		break;
	case RG__IO_READ:
		if (e->readable)
			do_read(ep, op);
		break;
	case RG__IO_SEND:
		if (e->writable)
			do_send(ep, op);
		break;
	case RG__IO_CONNECT:
		if (e->writable)
			do_connect(ep, op);
		break;
	case RG__IO_POLL:
		if (op->len == POLLIN ? e->readable : e->writable)
			do_poll(ep, op);
		break;
	}
}

static int epoll_start(struct rg__io *io, struct rg__io_op *op)
{
	struct rg__epoll *ep = to_epoll(io);
	if (op->kind == RG__IO_WRITE)
		return op->fd < 0 ? -EBADF : do_write(ep, op);
	struct rg__epfd *e = op->fd >= 0 ? slot(ep, op->fd) : NULL;
	if (!e)
		return op->fd < 0 ? -EBADF : -ENOMEM;
	if (!e->registered) {
		struct epoll_event ev = {
		    .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		    .data.fd = op->fd,
		};
		if (epoll_ctl(ep->epfd, EPOLL_CTL_ADD, op->fd, &ev) < 0)
			return -errno;
		*e = (struct rg__epfd){.registered = 1,
				       .readable = 1,
				       .writable = 1,
				       .polled = op->kind == RG__IO_POLL};
	}
	bool reads = op->kind == RG__IO_ACCEPT || op->kind == RG__IO_RECV ||
		     op->kind == RG__IO_READ ||
		     (op->kind == RG__IO_POLL && op->len == POLLIN);
	struct rg__io_op **dir = reads ? &e->rd : &e->wr;
	if (*dir)
		return -EBUSY;
	*dir = op;
	if (op->kind == RG__IO_CONNECT) {
		if (connect(op->fd, op->addr, op->len) == 0) {
			report_later(ep, op, 0);
		} else if (errno == EINPROGRESS) {
			e->writable = 0;
		} else {
			*dir = NULL;
			return -errno;
		}
		return 0;
	}
	queue(ep, op);
	return 0;
}

static void epoll_cancel(struct rg__io *io, struct rg__io_op *op)
{
	struct rg__epoll *ep = to_epoll(io);
	if (op->kind == RG__IO_WRITE)
		return; /* done already: its result is on the todo list */
	if (op->flags & RG__EP_STARVED) {
		for (struct rg__io_op **p = &ep->starved; *p; p = &(*p)->next) {
			if (*p == op) {
				*p = op->next;
				break;
			}
		}
		op->flags &= (uint8_t)~RG__EP_STARVED;
	}
	report_later(ep, op, -ECANCELED);
}

static void epoll_close(struct rg__io *io, int fd)
{
	struct rg__epoll *ep = to_epoll(io);
	if ((unsigned)fd < ep->nfds) {
		struct rg__epfd *e = &ep->fds[fd];
		if (e->rd)
			rg__io_cancel(io, e->rd);
		if (e->wr)
			rg__io_cancel(io, e->wr);
		e->registered = 0;
	}
	close(fd);
}

static void epoll_buf_keep(struct rg__io *io, char *buf)
{
	struct rg__epoll *ep = to_epoll(io);
	if (buf == ep->rbuf)
		ep->kept = true;
}

static void epoll_buf_free(struct rg__io *io, char *buf)
{
	struct rg__epoll *ep = to_epoll(io);
	rg_slab_free(ep->base.slab, buf, ep->base.buf_size);
	while (ep->starved) {
		struct rg__io_op *op = ep->starved;
		ep->starved = op->next;
		op->flags &= (uint8_t)~RG__EP_STARVED;
		queue(ep, op);
	}
}

static int run_todo(struct rg__epoll *ep)
{
	struct rg__io_op *op = ep->todo;
	ep->todo = NULL;
	ep->todo_tail = &ep->todo;
	int ran = 0;
	while (op) {
		struct rg__io_op *next = op->next;
		op->flags &= (uint8_t)~RG__EP_QUEUED;
		if (op->flags & RG__EP_REPORT) {
			op->flags &= (uint8_t)~RG__EP_REPORT;
			finish(ep, op, op->res);
		} else if (op->kind != RG__IO_NONE) {
			progress(ep, op);
		}
		ran++;
		op = next;
	}
	return ran;
}

static int epoll_wait_(struct rg__io *io, int timeout_ms)
{
	struct rg__epoll *ep = to_epoll(io);
	int ran = run_todo(ep);
	struct epoll_event events[RG__EPOLL_BATCH];
	timeout_ms = ep->todo || ran ? 0 : timeout_ms;
	rg__io_blocking(io, timeout_ms, true);
	int n = epoll_wait(ep->epfd, events, RG__EPOLL_BATCH, timeout_ms);
	rg__io_blocking(io, timeout_ms, false);
	if (n < 0)
		return errno == EINTR ? ran : -errno;
	if (n)
		rg__io_woke(io);
	for (int i = 0; i < n; i++) {
		struct rg__epfd *e = &ep->fds[events[i].data.fd];
		uint32_t ev = events[i].events;
		if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) {
			e->readable = 1;
			if (e->rd && !(e->rd->flags & RG__EP_QUEUED))
				progress(ep, e->rd);
		}
		if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
			e->writable = 1;
			if (e->wr && !(e->wr->flags & RG__EP_QUEUED))
				progress(ep, e->wr);
		}
	}
	return ran + n;
}

static void epoll_destroy(struct rg__io *io)
{
	struct rg__epoll *ep = to_epoll(io);
	if (ep->epfd >= 0)
		close(ep->epfd);
	if (ep->rbuf)
		rg_slab_free(ep->base.slab, ep->rbuf, ep->base.buf_size);
	free(ep->fds);
	free(ep);
}

static struct rg__io *epoll_create_(const struct rg__io_config *cfg)
{
	struct rg__epoll *ep = calloc(1, sizeof(*ep));
	if (!ep)
		return NULL;
	ep->base = (struct rg__io){.be = &rg__io_epoll_backend,
				   .slab = cfg->slab,
				   .buf_size = cfg->buffer_size,
				   .woke = cfg->woke,
				   .woke_arg = cfg->woke_arg,
				   .blocking = cfg->blocking,
				   .blocking_arg = cfg->blocking_arg,
				   .sock_flags = SOCK_NONBLOCK};
	ep->todo_tail = &ep->todo;
	ep->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ep->epfd < 0 ||
	    !slot(ep, (int)(cfg->max_fds ? cfg->max_fds : 1024) - 1)) {
		int err = errno;
		epoll_destroy(&ep->base);
		errno = err;
		return NULL;
	}
	return &ep->base;
}

const struct rg__io_backend rg__io_epoll_backend = {
    .name = "epoll",
    .create = epoll_create_,
    .destroy = epoll_destroy,
    .start = epoll_start,
    .cancel = epoll_cancel,
    .close = epoll_close,
    .wait = epoll_wait_,
    .buf_keep = epoll_buf_keep,
    .buf_free = epoll_buf_free,
};
