/* uring_probe.h: whether io_uring, as the io_uring backend uses it, can run
 * on this kernel, asked of the kernel itself and never of ringlet: the unit
 * and black-box tests skip io_uring only when this says no, so a backend
 * that fails where the kernel has what it needs is a failure, not a skip.
 * Kept apart from src/io/uring.c's probe on purpose: a bug there must not
 * turn into a skip here. */
#ifndef RG_TESTS_URING_PROBE_H
#define RG_TESTS_URING_PROBE_H

#include <errno.h>
#include <stdbool.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* Submits what is queued and takes the next completion, waiting at most a
 * second: 0 or -errno. */
static inline int uring_probe_cqe(struct io_uring *ring,
				  struct io_uring_cqe *out)
{
	struct __kernel_timespec ts = {.tv_sec = 1};
	struct io_uring_cqe *cqe = NULL;
	int err = io_uring_submit_and_wait_timeout(ring, &cqe, 1, &ts, NULL);
	if (err < 0 || !cqe)
		return err < 0 ? err : -ETIME;
	*out = *cqe;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/* The multishot operation just queued on `fd` (user data 1), which has
 * something to complete with at once, must complete with success and
 * IORING_CQE_F_MORE (-EINVAL: the kernel does not know the flag; no
 * F_MORE: it ignored it), then be found by a cancel by fd (Linux 5.19, how
 * the backend closes a connection). 0 or -errno; *what names what failed;
 * *res is the first result (an accepted fd to close). Both the cancel's
 * completion and the operation's last one are reaped, in either order. */
static inline int uring_probe_multishot(struct io_uring *ring, int fd,
					const char *feature, const char **what,
					int *res)
{
	struct io_uring_cqe c;
	int err = uring_probe_cqe(ring, &c);
	*what = feature;
	*res = -1;
	if (err < 0)
		return err;
	*res = c.res;
	if (c.res < 0)
		return c.res;
	if (!(c.flags & IORING_CQE_F_MORE))
		return -EOPNOTSUPP;
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data64(sqe, 2);
	*what = "cancel by fd (Linux 5.19)";
	bool op_done = false, cancel_done = false;
	while (!err && !(op_done && cancel_done)) {
		if ((err = uring_probe_cqe(ring, &c)) < 0)
			break;
		if (c.user_data == 2) {
			cancel_done = true;
			err = c.res < 0 ? c.res : 0;
		} else if (!(c.flags & IORING_CQE_F_MORE)) {
			op_done = true;
			err = c.res == -ECANCELED ? 0
			      : c.res < 0	  ? c.res
						  : -EIO;
		}
	}
	return err;
}

/* uring_unavailable's probe, in the process that calls it: setup with the
 * flags the backend always asks for, a provided buffer ring
 * (IORING_REGISTER_PBUF_RING, Linux 5.19), multishot receive into it
 * (Linux 6.0), multishot accept (5.19), cancel by fd (5.19). */
static inline const char *uring_probe_here(char *why, size_t cap)
{
	struct io_uring ring;
	struct io_uring_params p = {
	    .flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL,
	    .cq_entries = 64,
	};
	int err = io_uring_queue_init_params(8, &ring, &p);
	if (err < 0) {
		snprintf(why, cap,
			 "io_uring unavailable here (io_uring_setup: %s)",
			 strerror(-err));
		return why;
	}
	static char buf[64];
	const char *what = "provided buffer rings (Linux 5.19)";
	int sv[2] = {-1, -1}, lfd = -1, cfd = -1, res;
	struct io_uring_buf_ring *br = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (br == MAP_FAILED) {
		br = NULL;
		err = -ENOMEM;
		goto out;
	}
	io_uring_buf_ring_init(br);
	struct io_uring_buf_reg reg = {.ring_addr = (uintptr_t)br,
				       .ring_entries = 8};
	if ((err = io_uring_register_buf_ring(&ring, &reg, 0)) < 0)
		goto out;
	io_uring_buf_ring_add(br, buf, sizeof(buf), 0,
			      io_uring_buf_ring_mask(8), 0);
	io_uring_buf_ring_advance(br, 1);

	/* A byte waiting on one end of a socket pair. */
	what = "multishot receive (Linux 6.0)";
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0 ||
	    write(sv[1], "", 1) != 1) {
		err = -errno;
		goto out;
	}
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	io_uring_prep_recv_multishot(sqe, sv[0], NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = 0;
	io_uring_sqe_set_data64(sqe, 1);
	if ((err = uring_probe_multishot(&ring, sv[0], what, &what, &res)) < 0)
		goto out;

	/* A connection waiting on a listener bound to a fresh abstract
	 * name (the family alone asks for one). */
	what = "multishot accept (Linux 5.19)";
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(sa);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa.sun_family)) < 0 ||
	    listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) < 0 ||
	    (cfd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    connect(cfd, (struct sockaddr *)&sa, len) < 0) {
		err = -errno;
		goto out;
	}
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_NONBLOCK);
	io_uring_sqe_set_data64(sqe, 1);
	err = uring_probe_multishot(&ring, lfd, what, &what, &res);
	if (res >= 0)
		close(res);
out:
	io_uring_queue_exit(&ring); /* ends what is still armed */
	if (br)
		munmap(br, 4096);
	int fds[] = {sv[0], sv[1], lfd, cfd};
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (err >= 0)
		return NULL;
	snprintf(why, cap, "io_uring here lacks %s: %s", what, strerror(-err));
	return why;
}

/* Why io_uring as the backend uses it cannot run here, or NULL. Asked in
 * a child process: a task that submitted to a ring gets a task-work
 * "signal" when the ring is torn down, which fails whatever blocking call
 * it is in at that moment (a client's recv with SO_RCVTIMEO returns
 * EINTR), so the test process itself never touches io_uring. If the child
 * cannot say (fork fails, it crashes), the answer is NULL: a backend that
 * then fails is a failure, never a skip. */
static inline const char *uring_unavailable(char *why, size_t cap)
{
	int p[2];
	if (!cap || pipe(p) < 0)
		return NULL;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		const char *r = uring_probe_here(why, cap);
		_exit(r && write(p[1], r, strlen(r)) < 0);
	}
	close(p[1]);
	int st = -1;
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	/* One write, shorter than PIPE_BUF, by a child now gone. */
	ssize_t n = pid > 0 ? read(p[0], why, cap - 1) : -1;
	close(p[0]);
	if (n <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return NULL;
	why[n] = '\0';
	return why;
}

#endif /* RG_TESTS_URING_PROBE_H */
