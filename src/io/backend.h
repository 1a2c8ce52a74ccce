/* backend.h: what an io backend implements behind io.h, and the state every
 * backend shares (the receive-buffer source). */
#ifndef RG_IO_BACKEND_H
#define RG_IO_BACKEND_H

#include "io.h"

struct rg__io_backend {
	const char *name;
	struct rg__io *(*create)(const struct rg__io_config *config);
	void (*destroy)(struct rg__io *io);
	int (*start)(struct rg__io *io, struct rg__io_op *op);
	void (*cancel)(struct rg__io *io, struct rg__io_op *op);
	void (*close)(struct rg__io *io, int fd);
	int (*wait)(struct rg__io *io, int timeout_ms);
	void (*submit)(struct rg__io *io); /* NULL: nothing is held back */
	/* Called when a lent buffer is kept, and when a kept one comes back. */
	void (*buf_keep)(struct rg__io *io, char *buf);
	void (*buf_free)(struct rg__io *io, char *buf);
};

/* First member of every backend's state. */
struct rg__io {
	const struct rg__io_backend *be;
	struct rg_slab *slab;
	size_t buf_size;
	int sock_flags;
	void (*woke)(void *arg);
	void *woke_arg;
	void (*blocking)(void *arg, bool blocked);
	void *blocking_arg;
};

/* After a wait that may have blocked, before running its callbacks. */
static inline void rg__io_woke(struct rg__io *io)
{
	if (io->woke)
		io->woke(io->woke_arg);
}

/* Around a wait in the kernel: `blocked` true before, false after. Only
 * a wait that may block (timeout_ms != 0) is announced. */
static inline void rg__io_blocking(struct rg__io *io, int timeout_ms,
				   bool blocked)
{
	if (io->blocking && timeout_ms)
		io->blocking(io->blocking_arg, blocked);
}

/* Op flags shared by the backends. */
#define RG__IO_F_CANCELLED 0x01

extern const struct rg__io_backend rg__io_uring_backend;
extern const struct rg__io_backend rg__io_epoll_backend;

#endif /* RG_IO_BACKEND_H */
