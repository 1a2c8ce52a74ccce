/* uring.c: the io_uring backend. One ring per worker, refused at creation
 * unless the kernel does all it needs; multishot accept and receive;
 * receive buffers in a provided-buffer ring filled from the slab; one
 * io_uring_submit_and_wait_timeout() per loop iteration. */
#include "backend.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/un.h>
#include <unistd.h>

#define RG__URING_BGID 0
#define RG__URING_BATCH 256

struct rg__uring {
	struct rg__io base;
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	size_t br_bytes;
	unsigned nbufs;
	unsigned added; /* buffers given back since the last advance */
	char **bufs;	/* buffer id -> buffer; NULL where the slab ran dry */
	unsigned holes;
	int lent;  /* id of the buffer lent to a running callback */
	bool kept; /* ... and whether the callback kept it */
	struct rg__io_op *starved; /* receives that found the ring empty */
	struct rg__io_op *reports; /* results to report from rg__io_wait */
};

static struct rg__uring *to_uring(struct rg__io *io)
{
	return (struct rg__uring *)io;
}

static struct io_uring_sqe *get_sqe(struct rg__uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

static void give_buffer(struct rg__uring *u, int bid)
{
	io_uring_buf_ring_add(u->br, u->bufs[bid], u->base.buf_size,
			      (unsigned short)bid,
			      io_uring_buf_ring_mask(u->nbufs), u->added++);
}

/* -EBUSY: the SQ is full and io_uring_submit() could not empty it (the
 * kernel refused the batch: short of memory for requests, or holding
 * completions it could not post). The operation is not started and its
 * starter hears so at once: rg__io_* returns it, or an operation being
 * re-armed ends with it (the connection closes, the listener retries on
 * its timer). Failing one operation is the backpressure; queueing it
 * elsewhere would only move the overload into memory. */
static int arm(struct rg__uring *u, struct rg__io_op *op)
{
	struct io_uring_sqe *sqe = get_sqe(u);
	if (!sqe)
		return -EBUSY;
	switch (op->kind) {
	case RG__IO_ACCEPT:
		io_uring_prep_multishot_accept(sqe, op->fd, NULL, NULL,
					       SOCK_CLOEXEC | SOCK_NONBLOCK);
		break;
	case RG__IO_RECV:
		io_uring_prep_recv_multishot(sqe, op->fd, NULL, 0, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = RG__URING_BGID;
		break;
	case RG__IO_READ:
		io_uring_prep_read(sqe, op->fd, op->in, op->len, (uint64_t)-1);
		break;
	case RG__IO_SEND:
		io_uring_prep_send(sqe, op->fd, op->out + op->off,
				   op->len - op->off, MSG_NOSIGNAL);
		break;
	case RG__IO_CONNECT:
		io_uring_prep_connect(sqe, op->fd, op->addr, op->len);
		break;
	case RG__IO_POLL:
		io_uring_prep_poll_add(sqe, op->fd, op->len);
		break;
	case RG__IO_WRITE:
		io_uring_prep_write(sqe, op->fd, op->out + op->off,
				    op->len - op->off, (uint64_t)-1);
		break;
	default:
		return -EINVAL;
	}
	io_uring_sqe_set_data(sqe, op);
	return 0;
}

/* Reports `res` as the op's last result from rg__io_wait(). */
static void report_later(struct rg__uring *u, struct rg__io_op *op, int res)
{
	op->res = res;
	op->next = u->reports;
	u->reports = op;
}

static void finish(struct rg__io_op *op, int res)
{
	int kind = op->kind;
	op->kind = RG__IO_NONE;
	if (kind == RG__IO_RECV)
		op->recv_done(op, NULL, res);
	else
		op->done(op, res);
}

/* A multishot operation ended without an error: start it again unless it
 * was cancelled meanwhile. */
static void rearm(struct rg__uring *u, struct rg__io_op *op)
{
	int err = (op->flags & RG__IO_F_CANCELLED) ? -ECANCELED : arm(u, op);
	if (err < 0)
		finish(op, err);
}

static void on_recv(struct rg__uring *u, struct rg__io_op *op, int res,
		    unsigned flags)
{
	int bid = (flags & IORING_CQE_F_BUFFER)
		      ? (int)(flags >> IORING_CQE_BUFFER_SHIFT)
		      : -1;
	bool more = flags & IORING_CQE_F_MORE;
	if (bid >= 0) {
		if (res > 0) {
			u->lent = bid;
			u->kept = false;
			op->recv_done(op, u->bufs[bid], res);
			if (u->kept) {
				u->bufs[bid] = rg_slab_alloc(
				    u->base.slab, u->base.buf_size, NULL);
				u->kept = false;
			}
		}
		if (u->bufs[bid])
			give_buffer(u, bid);
		else
			u->holes++;
		u->lent = -1;
		if (res > 0) {
			if (!more)
				rearm(u, op);
			return;
		}
	}
	if (more)
		return;
	/* -ENOBUFS: data came while the provided-buffer ring was empty. The
	 * kernel ended the multishot receive but left the bytes in the
	 * socket, so nothing is lost and the connection is not at fault: the
	 * receive waits on `starved` and uring_wait re-arms it once buffers
	 * are back in the ring (those given back during this batch are only
	 * published by its final advance; re-arming now would just earn
	 * -ENOBUFS again). Cancelling or closing a starved receive reports
	 * -ECANCELED from the next wait, as there is no request to cancel. */
	if (res == -ENOBUFS && !(op->flags & RG__IO_F_CANCELLED)) {
		op->next = u->starved;
		u->starved = op;
		return;
	}
	finish(op, res);
}

static void on_cqe(struct rg__uring *u, struct rg__io_op *op, int res,
		   unsigned flags)
{
	switch (op->kind) {
	case RG__IO_RECV:
		on_recv(u, op, res, flags);
		return;
	case RG__IO_ACCEPT:
		if (res < 0) {
			finish(op, res);
			return;
		}
		op->done(op, res);
		if (!(flags & IORING_CQE_F_MORE))
			rearm(u, op);
		return;
	case RG__IO_SEND:
	case RG__IO_WRITE:
		if (res > 0) {
			op->off += (uint32_t)res;
			if (op->off < op->len) {
				rearm(u, op);
				return;
			}
			res = (int)op->len;
		} else if (res == 0 && op->off < op->len) {
			/* A file that takes nothing (a full device) would
			 * loop forever. */
			res = op->kind == RG__IO_WRITE ? -EIO : -EPIPE;
		}
		finish(op, res);
		return;
	default:
		finish(op, res);
	}
}

static int uring_start(struct rg__io *io, struct rg__io_op *op)
{
	return arm(to_uring(io), op);
}

static bool unlink_op(struct rg__io_op **list, struct rg__io_op *op)
{
	for (; *list; list = &(*list)->next) {
		if (*list == op) {
			*list = op->next;
			return true;
		}
	}
	return false;
}

static void uring_cancel(struct rg__io *io, struct rg__io_op *op)
{
	struct rg__uring *u = to_uring(io);
	if (unlink_op(&u->starved, op)) {
		report_later(u, op, -ECANCELED);
		return;
	}
	struct io_uring_sqe *sqe = get_sqe(u);
	if (sqe) {
		io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)op, 0);
		io_uring_sqe_set_data(sqe, NULL);
	}
}

static void uring_close(struct rg__io *io, int fd)
{
	struct rg__uring *u = to_uring(io);
	for (struct rg__io_op **p = &u->starved; *p;) {
		struct rg__io_op *op = *p;
		if (op->fd == fd) {
			*p = op->next;
			report_later(u, op, -ECANCELED);
		} else {
			p = &op->next;
		}
	}
	/* Cancel, then close, in order: a hard link runs the close even when
	 * there was nothing to cancel (-ENOENT). The fd number cannot be
	 * reused by an accept before the close runs, so the cancel cannot
	 * reach another connection. */
	struct io_uring_sqe *sqe = get_sqe(u);
	if (sqe) {
		io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data(sqe, NULL);
		sqe->flags |= IOSQE_IO_HARDLINK;
		sqe = get_sqe(u);
	}
	if (sqe) {
		io_uring_prep_close(sqe, fd);
		io_uring_sqe_set_data(sqe, NULL);
	} else {
		close(fd);
	}
}

static void uring_buf_keep(struct rg__io *io, char *buf)
{
	struct rg__uring *u = to_uring(io);
	if (u->lent >= 0 && u->bufs[u->lent] == buf)
		u->kept = true;
}

static void uring_buf_free(struct rg__io *io, char *buf)
{
	struct rg__uring *u = to_uring(io);
	if (u->holes) {
		for (unsigned i = 0; i < u->nbufs; i++) {
			if (!u->bufs[i]) {
				u->bufs[i] = buf;
				u->holes--;
				give_buffer(u, (int)i);
				return;
			}
		}
	}
	rg_slab_free(u->base.slab, buf, u->base.buf_size);
}

static int uring_wait(struct rg__io *io, int timeout_ms)
{
	struct rg__uring *u = to_uring(io);
	struct __kernel_timespec ts, *tsp = NULL;
	if (u->reports)
		timeout_ms = 0;
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	struct io_uring_cqe *cqe;
	rg__io_blocking(io, timeout_ms, true);
	int ret =
	    io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, tsp, NULL);
	rg__io_blocking(io, timeout_ms, false);
	/* -EBUSY: the kernel holds completions it could not post (CQ
	 * overflow) and took no new work. Not an error of the loop: reaping
	 * the CQ below makes room, and the SQEs it refused stay queued for
	 * the next call. */
	if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EBUSY)
		return ret;

	/* Copy the completions out and free the CQ before running callbacks,
	 * which queue new work. */
	struct {
		uint64_t data;
		int32_t res;
		uint32_t flags;
	} batch[RG__URING_BATCH];
	unsigned n = 0, head;
	io_uring_for_each_cqe(&u->ring, head, cqe)
	{
		if (n == RG__URING_BATCH)
			break;
		batch[n].data = cqe->user_data;
		batch[n].res = cqe->res;
		batch[n].flags = cqe->flags;
		n++;
	}
	io_uring_cq_advance(&u->ring, n);
	if (n)
		rg__io_woke(io);

	int ran = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!batch[i].data)
			continue;
		on_cqe(u, (struct rg__io_op *)(uintptr_t)batch[i].data,
		       batch[i].res, batch[i].flags);
		ran++;
	}
	while (u->reports) {
		struct rg__io_op *op = u->reports;
		u->reports = op->next;
		finish(op, op->res);
		ran++;
	}
	if (u->added) {
		io_uring_buf_ring_advance(u->br, u->added);
		u->added = 0;
	}
	if (u->starved && u->holes < u->nbufs) {
		struct rg__io_op *op = u->starved;
		u->starved = NULL;
		while (op) {
			struct rg__io_op *next = op->next;
			rearm(u, op);
			op = next;
		}
	}
	return ran;
}

/* The queued operations, without waiting; an error (-EBUSY: the CQ is
 * overflowing) leaves them queued for the next wait, which reaps. */
static void uring_submit(struct rg__io *io)
{
	io_uring_submit(&to_uring(io)->ring);
}

static void uring_destroy(struct rg__io *io)
{
	struct rg__uring *u = to_uring(io);
	io_uring_queue_exit(&u->ring);
	if (u->br)
		munmap(u->br, u->br_bytes);
	for (unsigned i = 0; u->bufs && i < u->nbufs; i++)
		if (u->bufs[i])
			rg_slab_free(u->base.slab, u->bufs[i],
				     u->base.buf_size);
	free(u->bufs);
	free(u);
}

/* Waits up to a second for the next completion, for the probe below. */
static int probe_cqe(struct rg__uring *u, struct io_uring_cqe *out)
{
	struct __kernel_timespec ts = {.tv_sec = 1};
	struct io_uring_cqe *cqe = NULL;
	int err;
	do
		err = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts,
						       NULL);
	while (err == -EINTR);
	if (err < 0 || !cqe)
		return err < 0 ? err : -ETIME;
	*out = *cqe;
	io_uring_cqe_seen(&u->ring, cqe);
	return 0;
}

/* Runs one multishot operation of `kind`, as arm() starts it, on `fd`
 * (which has a byte or a connection waiting, and is the probe's to close)
 * until its last completion: 0 if it completed, promised more, and ended
 * with -ECANCELED when closed as uring_close() closes a connection (a
 * cancel by fd, Linux 5.19); else -errno, and *what names what failed.
 * Every completion is reaped here, so the ring starts clean; after an
 * error the op may still be armed, and the ring must be destroyed. */
static int probe_multishot(struct rg__uring *u, int kind, int fd,
			   const char **what)
{
	struct rg__io_op op = {.kind = (uint8_t)kind, .fd = fd};
	int err = arm(u, &op), pending = err ? 0 : 1;
	bool first = true;
	while (pending) {
		struct io_uring_cqe c;
		int e = probe_cqe(u, &c);
		if (e < 0) {
			err = e;
			break;
		}
		pending--;
		if (!c.user_data)
			continue; /* uring_close's cancel or close */
		if (c.flags & IORING_CQE_F_BUFFER) {
			give_buffer(u,
				    (int)(c.flags >> IORING_CQE_BUFFER_SHIFT));
			io_uring_buf_ring_advance(u->br, u->added);
			u->added = 0;
		}
		if (kind == RG__IO_ACCEPT && c.res >= 0)
			close(c.res);
		bool more = c.flags & IORING_CQE_F_MORE;
		if (more)
			pending++;
		if (first) {
			/* -EINVAL: a flag the kernel does not know; no
			 * F_MORE: one it ignored. */
			err = c.res < 0 ? c.res : more ? 0 : -EOPNOTSUPP;
			first = false;
			if (more) {
				*what = "no cancel by fd (Linux 5.19)";
				uring_close(&u->base, fd);
				fd = -1;
				pending += 2;
			}
		} else if (!more && c.res != -ECANCELED) {
			err = c.res < 0 ? c.res : -EOPNOTSUPP;
		}
	}
	if (fd >= 0)
		close(fd);
	return err;
}

/* What the backend uses that setup and the buffer ring's registration
 * (Linux 5.19) have not already proved, tried on this ring: multishot
 * receive (6.0: a 5.19 kernel takes the ring and then refuses every
 * receive with -EINVAL), multishot accept (5.19) and cancel by fd (5.19,
 * uring_close). Neither the kernel's version (vendors backport) nor
 * IORING_REGISTER_PROBE (it lists opcodes, not the ioprio flags that make
 * RECV and ACCEPT multishot; RECV is there since 5.6) can tell. Each
 * operation has something to complete with at once, so the answer is a
 * completion, never a timeout, and a positive one: success with
 * IORING_CQE_F_MORE. 0, or -errno with *what saying what is missing. */
static int probe(struct rg__uring *u, const char **what)
{
	int flags = SOCK_STREAM | SOCK_CLOEXEC | u->base.sock_flags;
	int sv[2], err;
	*what = "no multishot receive (Linux 6.0)";
	if (socketpair(AF_UNIX, flags, 0, sv) < 0)
		return -errno;
	if (write(sv[1], "", 1) == 1) {
		err = probe_multishot(u, RG__IO_RECV, sv[0], what);
	} else {
		err = -errno;
		close(sv[0]);
	}
	close(sv[1]);
	if (err < 0)
		return err;

	/* An unbound name (the family alone) binds to a fresh abstract
	 * one: no file, any network namespace. */
	*what = "no multishot accept (Linux 5.19)";
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(sa);
	int lfd = socket(AF_UNIX, flags, 0), cfd = -1;
	if (lfd < 0)
		return -errno;
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa.sun_family)) < 0 ||
	    listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) < 0 ||
	    (cfd = socket(AF_UNIX, flags, 0)) < 0 ||
	    connect(cfd, (struct sockaddr *)&sa, len) < 0) {
		err = -errno;
		close(lfd);
	} else {
		err = probe_multishot(u, RG__IO_ACCEPT, lfd, what);
	}
	if (cfd >= 0)
		close(cfd);
	return err;
}

static void say_why(const struct rg__io_config *cfg, const char *what, int err)
{
	if (cfg->why && cfg->why_size)
		snprintf(cfg->why, cfg->why_size, "%s: %s", what,
			 strerror(-err));
}

static struct rg__io *uring_create(const struct rg__io_config *cfg)
{
	struct rg__uring *u = calloc(1, sizeof(*u));
	if (!u) {
		say_why(cfg, "io_uring", -ENOMEM);
		errno = ENOMEM;
		return NULL;
	}
	u->base = (struct rg__io){.be = &rg__io_uring_backend,
				  .slab = cfg->slab,
				  .buf_size = cfg->buffer_size,
				  .woke = cfg->woke,
				  .woke_arg = cfg->woke_arg,
				  .blocking = cfg->blocking,
				  .blocking_arg = cfg->blocking_arg,
				  .sock_flags = SOCK_NONBLOCK};
	u->lent = -1;
	unsigned entries = cfg->entries ? cfg->entries : 256;
	/* Multishot operations post many completions per submission: give
	 * the CQ room for them. */
	static const unsigned setups[] = {
	    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
	    IORING_SETUP_COOP_TASKRUN,
	    0,
	};
	int err = -ENOSYS;
	for (unsigned i = 0; i < sizeof(setups) / sizeof(setups[0]); i++) {
		struct io_uring_params p = {
		    .flags = setups[i] | IORING_SETUP_CQSIZE |
			     IORING_SETUP_SUBMIT_ALL,
		    .cq_entries = entries * 8,
		};
		err = io_uring_queue_init_params(entries, &u->ring, &p);
		if (err == 0)
			break;
	}
	if (err < 0) {
		say_why(cfg, "io_uring_setup", err);
		free(u);
		errno = -err;
		return NULL;
	}
	io_uring_register_ring_fd(&u->ring); /* saves an fd lookup per enter */

	const char *what = "receive buffers";
	u->nbufs = cfg->buffers ? cfg->buffers : 256;
	if (u->nbufs & (u->nbufs - 1) || u->nbufs > 32768) {
		err = -EINVAL;
		goto fail;
	}
	u->br_bytes = u->nbufs * sizeof(struct io_uring_buf);
	u->br = mmap(NULL, u->br_bytes, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->br == MAP_FAILED) {
		u->br = NULL;
		err = -ENOMEM;
		goto fail;
	}
	io_uring_buf_ring_init(u->br);
	what = "no provided-buffer rings (Linux 5.19)";
	struct io_uring_buf_reg reg = {.ring_addr = (uintptr_t)u->br,
				       .ring_entries = u->nbufs,
				       .bgid = RG__URING_BGID};
	err = io_uring_register_buf_ring(&u->ring, &reg, 0);
	if (err < 0)
		goto fail;
	what = "receive buffers";
	u->bufs = calloc(u->nbufs, sizeof(*u->bufs));
	if (!u->bufs) {
		err = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < u->nbufs; i++) {
		u->bufs[i] = rg_slab_alloc(cfg->slab, cfg->buffer_size, NULL);
		if (!u->bufs[i]) {
			err = -ENOMEM;
			goto fail;
		}
		give_buffer(u, (int)i);
	}
	io_uring_buf_ring_advance(u->br, u->added);
	u->added = 0;
	if ((err = probe(u, &what)) < 0)
		goto fail;
	return &u->base;
fail:
	say_why(cfg, what, err);
	uring_destroy(&u->base);
	errno = -err;
	return NULL;
}

const struct rg__io_backend rg__io_uring_backend = {
    .name = "io_uring",
    .create = uring_create,
    .destroy = uring_destroy,
    .start = uring_start,
    .cancel = uring_cancel,
    .close = uring_close,
    .wait = uring_wait,
    .submit = uring_submit,
    .buf_keep = uring_buf_keep,
    .buf_free = uring_buf_free,
};
