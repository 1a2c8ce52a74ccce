/* io.h: the event loop's one small interface to the kernel, completion
 * based, implemented by io_uring (uring.c) and by epoll (epoll.c).
 *
 * Every operation is a struct rg__io_op embedded in its owner (a connection,
 * a waiting coroutine) and ends with a call of its callback from
 * rg__io_wait(), never from inside the call that started it. Results follow
 * io_uring's convention: bytes or a file descriptor, or -errno.
 *
 * Receive buffers belong to the io layer: a receive completion lends one
 * buffer (from the worker's slab, through io_uring's provided-buffer ring or
 * epoll's read), so an idle connection holds none. The callback either lets
 * it go back when it returns or keeps it with rg__io_buf_keep(). */
#ifndef RG_IO_IO_H
#define RG_IO_IO_H

#include "ringlet.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct rg__io;
struct rg__io_op;

typedef void rg__io_done_fn(struct rg__io_op *op, int res);
/* `buf` holds `res` > 0 bytes; res == 0 is end of stream, < 0 an error
 * (-ECANCELED after rg__io_cancel or rg__io_close). A receive stays armed
 * until its callback sees res <= 0. */
typedef void rg__io_recv_fn(struct rg__io_op *op, char *buf, int res);

enum rg__io_kind {
	RG__IO_NONE,
	RG__IO_ACCEPT,	 /* multishot: one callback per accepted fd */
	RG__IO_RECV,	 /* multishot into lent buffers */
	RG__IO_READ,	 /* one read into the caller's buffer */
	RG__IO_SEND,	 /* completes when every byte is sent, or on error */
	RG__IO_CONNECT,	 /* one connect */
	RG__IO_POLL,	 /* once, when the fd is ready (op->len: POLLIN
			    or POLLOUT) */
	RG__IO_WRITE,	 /* every byte to a regular file, at its end */
};

struct rg__io_op {
	union {
		rg__io_done_fn *done;
		rg__io_recv_fn *recv_done;
	};
	int fd;
	uint8_t kind;	   /* enum rg__io_kind; RG__IO_NONE when idle */
	uint8_t flags;	   /* backend's own */
	uint32_t len, off; /* READ/SEND: length and progress */
	int32_t res;	   /* backend's own: a result waiting to be reported */
	union {
		const char *out;	     /* SEND, WRITE */
		char *in;		     /* READ */
		const struct sockaddr *addr; /* CONNECT */
	};
	struct rg__io_op *next; /* backend's own lists */
};


struct rg__io_config {
	enum rg_io_backend backend;
	unsigned entries;     /* io_uring SQ size, epoll batch; 256 */
	unsigned buffers;     /* receive buffers in the ring; power of two */
	struct rg_slab *slab; /* where receive buffers come from */
	size_t buffer_size;   /* a slab class size */
	unsigned max_fds;     /* epoll: fd table size */
	/* Called when a wait returns, before its callbacks run: the owner's
	 * clock is stale by however long the wait blocked. May be NULL. */
	void (*woke)(void *arg);
	void *woke_arg;
	/* Called with true before a wait that may block in the kernel and
	 * with false when it returns, before its callbacks run (a front
	 * holding a lock while it runs releases it there). May be NULL. */
	void (*blocking)(void *arg, bool blocked);
	void *blocking_arg;
	/* Where rg__io_create says why io_uring was not used when it was
	 * tried and failed ("no multishot receive (Linux 6.0): Invalid
	 * argument"); left "" otherwise. May be NULL. */
	char *why;
	size_t why_size;
};

/* Creates the worker's loop with the configured backend; RG_IO_AUTO tries
 * io_uring (SINGLE_ISSUER|DEFER_TASKRUN, then COOP_TASKRUN, then plain) and
 * falls back to epoll, with config->why saying why. io_uring is refused
 * unless the kernel does everything the backend uses (multishot receive,
 * Linux 6.0, is the newest), tried on the ring at creation. NULL with errno
 * on failure. */
struct rg__io *rg__io_create(const struct rg__io_config *config);
void rg__io_destroy(struct rg__io *io);

/* "io_uring" or "epoll". */
const char *rg__io_backend_name(const struct rg__io *io);

/* Flags for socket(2) of sockets this backend drives: SOCK_NONBLOCK on
 * both (io_uring's socket operations poll for themselves either way, and
 * a non-blocking socket lets a caller try sendfile(2) and fall back to
 * rg__io_poll). Accepted sockets get it too. */
int rg__io_socket_flags(const struct rg__io *io);

/* Starting an operation: 0, or -errno if it could not be queued (the
 * callback will then not be called). `op` must stay put until its last
 * callback; one operation per op at a time. */
int rg__io_accept(struct rg__io *io, struct rg__io_op *op, int listen_fd,
		  rg__io_done_fn *done);
int rg__io_recv(struct rg__io *io, struct rg__io_op *op, int fd,
		rg__io_recv_fn *done);
int rg__io_read(struct rg__io *io, struct rg__io_op *op, int fd, char *buf,
		uint32_t len, rg__io_done_fn *done);
int rg__io_send(struct rg__io *io, struct rg__io_op *op, int fd,
		const char *buf, uint32_t len, rg__io_done_fn *done);
int rg__io_connect(struct rg__io *io, struct rg__io_op *op, int fd,
		   const struct sockaddr *addr, socklen_t addrlen,
		   rg__io_done_fn *done);

/* Completes once `fd` is ready for `events` (POLLIN or POLLOUT, one
 * direction): res > 0 (the poll(2) events, or POLLERR/POLLHUP, which the
 * next read or write reports), or -errno. Meant for a caller whose read or
 * write on a non-blocking socket just failed with EAGAIN. The fd needs no
 * other operation: one only polled is forgotten by the backend when its
 * poll ends, so the caller may close it with close(2). */
int rg__io_poll(struct rg__io *io, struct rg__io_op *op, int fd, short events,
		rg__io_done_fn *done);
/* Writes buf[0, len) to a regular file opened with O_APPEND, at its end
 * (a short write is continued): res == len, or -errno. epoll cannot poll
 * a regular file, so that backend writes synchronously in the call and
 * reports from the next rg__io_wait; `buf` must stay put until then. */
int rg__io_write(struct rg__io *io, struct rg__io_op *op, int fd,
		 const char *buf, uint32_t len, rg__io_done_fn *done);

/* Asks an operation to end early: its callback follows with -ECANCELED
 * (or with its result, if it completed first). */
void rg__io_cancel(struct rg__io *io, struct rg__io_op *op);

/* Cancels every operation on `fd`, then closes it. The operations' last
 * callbacks still follow; their owners must wait for them. */
void rg__io_close(struct rg__io *io, int fd);

/* Inside a receive callback: the lent buffer stays with the caller, who
 * returns it with rg__io_buf_free() (its size is rg__io_buf_size()). */
void rg__io_buf_keep(struct rg__io *io, char *buf);
void rg__io_buf_free(struct rg__io *io, char *buf);
size_t rg__io_buf_size(const struct rg__io *io);

/* Starts what was queued now rather than at the next rg__io_wait (io_uring:
 * one submission; epoll starts operations as they come). */
void rg__io_submit(struct rg__io *io);

/* Submits what was queued, waits up to `timeout_ms` (-1: forever, 0: not
 * at all) for at least one completion, and runs every callback that is
 * ready. Returns the number of callbacks run, or -errno. */
int rg__io_wait(struct rg__io *io, int timeout_ms);

#endif /* RG_IO_IO_H */
