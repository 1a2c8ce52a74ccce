/* io.c: backend selection and the backend-independent half of io.h (filling
 * in an operation before its backend starts it). */
#include "backend.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>

struct rg__io *rg__io_create(const struct rg__io_config *config)
{
	if (config->why && config->why_size)
		config->why[0] = '\0';
	switch (config->backend) {
	case RG_IO_URING:
		return rg__io_uring_backend.create(config);
	case RG_IO_EPOLL:
		return rg__io_epoll_backend.create(config);
	case RG_IO_AUTO:
		break;
	}
	/* Containers often forbid io_uring (seccomp, io_uring_disabled) and
	 * older kernels lack some of what the backend uses: any failure to
	 * set it up means epoll, config->why says which. */
	struct rg__io *io = rg__io_uring_backend.create(config);
	return io ? io : rg__io_epoll_backend.create(config);
}

void rg__io_destroy(struct rg__io *io)
{
	if (io)
		io->be->destroy(io);
}

const char *rg__io_backend_name(const struct rg__io *io)
{
	return io->be->name;
}

int rg__io_socket_flags(const struct rg__io *io)
{
	return io->sock_flags;
}

static int start(struct rg__io *io, struct rg__io_op *op, int kind, int fd)
{
	op->kind = (uint8_t)kind;
	op->fd = fd;
	op->flags = 0;
	op->off = 0;
	op->next = NULL;
	int err = io->be->start(io, op);
	if (err < 0)
		op->kind = RG__IO_NONE;
	return err;
}

int rg__io_accept(struct rg__io *io, struct rg__io_op *op, int listen_fd,
		  rg__io_done_fn *done)
{
	op->done = done;
	return start(io, op, RG__IO_ACCEPT, listen_fd);
}

int rg__io_recv(struct rg__io *io, struct rg__io_op *op, int fd,
		rg__io_recv_fn *done)
{
	op->recv_done = done;
	return start(io, op, RG__IO_RECV, fd);
}

int rg__io_read(struct rg__io *io, struct rg__io_op *op, int fd, char *buf,
		uint32_t len, rg__io_done_fn *done)
{
	op->done = done;
	op->in = buf;
	op->len = len;
	return start(io, op, RG__IO_READ, fd);
}

int rg__io_send(struct rg__io *io, struct rg__io_op *op, int fd,
		const char *buf, uint32_t len, rg__io_done_fn *done)
{
	op->done = done;
	op->out = buf;
	op->len = len;
	return start(io, op, RG__IO_SEND, fd);
}

int rg__io_connect(struct rg__io *io, struct rg__io_op *op, int fd,
		   const struct sockaddr *addr, socklen_t addrlen,
		   rg__io_done_fn *done)
{
	op->done = done;
	op->addr = addr;
	op->len = addrlen;
	return start(io, op, RG__IO_CONNECT, fd);
}

int rg__io_poll(struct rg__io *io, struct rg__io_op *op, int fd, short events,
		rg__io_done_fn *done)
{
	if (events != POLLIN && events != POLLOUT)
		return -EINVAL;
	op->done = done;
	op->len = (uint32_t)events;
	return start(io, op, RG__IO_POLL, fd);
}

int rg__io_write(struct rg__io *io, struct rg__io_op *op, int fd,
		 const char *buf, uint32_t len, rg__io_done_fn *done)
{
	op->done = done;
	op->out = buf;
	op->len = len;
	return start(io, op, RG__IO_WRITE, fd);
}

void rg__io_cancel(struct rg__io *io, struct rg__io_op *op)
{
	if (op->kind != RG__IO_NONE && !(op->flags & RG__IO_F_CANCELLED)) {
		op->flags |= RG__IO_F_CANCELLED;
		io->be->cancel(io, op);
	}
}

void rg__io_close(struct rg__io *io, int fd)
{
	io->be->close(io, fd);
}

void rg__io_buf_keep(struct rg__io *io, char *buf)
{
	io->be->buf_keep(io, buf);
}

void rg__io_buf_free(struct rg__io *io, char *buf)
{
	io->be->buf_free(io, buf);
}

size_t rg__io_buf_size(const struct rg__io *io)
{
	return io->buf_size;
}

int rg__io_wait(struct rg__io *io, int timeout_ms)
{
	return io->be->wait(io, timeout_ms);
}

void rg__io_submit(struct rg__io *io)
{
	if (io->be->submit)
		io->be->submit(io);
}
