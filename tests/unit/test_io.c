/* test_io.c: both io backends through one scenario: multishot accept, receive
 * into lent buffers, keep and free, send, connect, read, cancel, close; and
 * waiting for a full socket to drain (poll out), appending to a file. A
 * backend that cannot be created fails the test, except io_uring where the
 * kernel itself says it cannot run (../uring_probe.h): that skips, saying
 * why. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../uring_probe.h"
#include "io/io.h"

struct env {
	struct rg_slab *slab;
	struct rg__io *io;
	int lfd;
	struct sockaddr_in addr;
};

/* A server-side connection: echoes what it receives, from the lent buffer
 * it keeps until the send completes. */
struct echo {
	struct rg__io_op rx, tx;
	struct env *env;
	struct {
		char *buf;
		int len;
	} held[16]; /* kept buffers waiting to be echoed, oldest first */
	int nheld, fd, rx_final;
	size_t bytes;
};

static struct echo conns[64];
static int nconns, accept_final;

static void echo_sent(struct rg__io_op *op, int res);

static void send_next(struct echo *c)
{
	assert_int_equal(rg__io_send(c->env->io, &c->tx, c->fd, c->held[0].buf,
				     (uint32_t)c->held[0].len, echo_sent),
			 0);
}

static void echo_sent(struct rg__io_op *op, int res)
{
	struct echo *c =
	    (struct echo *)((char *)op - offsetof(struct echo, tx));
	assert_int_equal(res, c->held[0].len);
	rg__io_buf_free(c->env->io, c->held[0].buf);
	memmove(&c->held[0], &c->held[1], --c->nheld * sizeof(c->held[0]));
	if (c->nheld)
		send_next(c);
}

static void echo_recv(struct rg__io_op *op, char *buf, int res)
{
	struct echo *c =
	    (struct echo *)((char *)op - offsetof(struct echo, rx));
	if (res <= 0) {
		c->rx_final = res == 0 ? 1 : res;
		rg__io_close(c->env->io, c->fd);
		return;
	}
	assert_non_null(buf);
	assert_true(c->nheld < 16);
	c->bytes += (size_t)res;
	rg__io_buf_keep(c->env->io, buf);
	c->held[c->nheld].buf = buf;
	c->held[c->nheld].len = res;
	if (++c->nheld == 1)
		send_next(c);
}

static struct env *cur;
static struct rg__io_op accept_op;

static void on_accept(struct rg__io_op *op, int res)
{
	(void)op;
	if (res < 0) {
		accept_final = res;
		return;
	}
	assert_true(nconns < 64);
	struct echo *c = &conns[nconns++];
	memset(c, 0, sizeof(*c));
	c->fd = res;
	c->env = cur;
	assert_int_equal(rg__io_recv(cur->io, &c->rx, c->fd, echo_recv), 0);
}

/* Why the test whose setup found no backend cannot run, and whether that
 * fails it (any backend the kernel can run) or skips it (io_uring where
 * the kernel cannot). */
static char why_not[256];
static bool must_fail;

static int setup(void **state, enum rg_io_backend backend)
{
	struct env *env = calloc(1, sizeof(*env));
	struct rg_slab_config sc = {.sizes = {1024}, .initial = 32};
	env->slab = rg_slab_create(&sc, NULL);
	char why[160];
	struct rg__io_config ic = {.backend = backend,
				   .buffers = 8,
				   .slab = env->slab,
				   .buffer_size = 1024,
				   .why = why,
				   .why_size = sizeof(why)};
	env->io = rg__io_create(&ic);
	if (!env->io) {
		int err = errno;
		rg_slab_destroy(env->slab);
		free(env);
		*state = NULL;
		must_fail = backend != RG_IO_URING ||
			    !uring_unavailable(why_not, sizeof(why_not));
		if (must_fail)
			snprintf(why_not, sizeof(why_not),
				 "%s backend not created: %s%s%s",
				 backend == RG_IO_URING ? "io_uring" : "epoll",
				 strerror(err), why[0] ? "; " : "", why);
		return 0; /* the test fails or skips, saying why */
	}
	env->lfd =
	    socket(AF_INET, SOCK_STREAM | rg__io_socket_flags(env->io), 0);
	env->addr.sin_family = AF_INET;
	env->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(
	    bind(env->lfd, (struct sockaddr *)&env->addr, sizeof(env->addr)),
	    0);
	socklen_t len = sizeof(env->addr);
	getsockname(env->lfd, (struct sockaddr *)&env->addr, &len);
	assert_int_equal(listen(env->lfd, 64), 0);
	nconns = 0;
	accept_final = 0;
	cur = env;
	*state = env;
	return 0;
}

static int setup_uring(void **state)
{
	return setup(state, RG_IO_URING);
}

static int setup_epoll(void **state)
{
	return setup(state, RG_IO_EPOLL);
}

static int teardown(void **state)
{
	struct env *env = *state;
	if (!env)
		return 0;
	close(env->lfd);
	rg__io_destroy(env->io);
	struct rg_slab_stats st;
	rg_slab_stats(env->slab, &st);
	/* Every lent or kept buffer came back. */
	assert_int_equal(st.classes[0].pool.in_use, 0);
	rg_slab_destroy(env->slab);
	free(env);
	return 0;
}

static struct env *need(void **state)
{
	if (!*state) {
		if (must_fail)
			fail_msg("%s", why_not);
		print_message("SKIP: %s\n", why_not);
		skip();
	}
	return *state;
}

/* Drives the loop until `*flag` is set (at most ~20 s). */
static void spin_until(struct env *env, int *flag)
{
	for (int i = 0; i < 2000 && !*flag; i++)
		assert_true(rg__io_wait(env->io, 10) >= 0);
	assert_true(*flag);
}

static void spin_until_conns(struct env *env, int n)
{
	for (int i = 0; i < 2000 && nconns < n; i++)
		assert_true(rg__io_wait(env->io, 10) >= 0);
	assert_int_equal(nconns, n);
}

static int client(struct env *env)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(
	    connect(fd, (struct sockaddr *)&env->addr, sizeof(env->addr)), 0);
	return fd;
}

/* The client is blocking; the loop is driven while it waits. */
static void roundtrip(struct env *env, int fd, const char *msg, size_t n)
{
	assert_int_equal(write(fd, msg, n), (ssize_t)n);
	char back[4096];
	size_t got = 0;
	while (got < n) {
		assert_true(rg__io_wait(env->io, 10) >= 0);
		ssize_t r =
		    recv(fd, back + got, sizeof(back) - got, MSG_DONTWAIT);
		if (r > 0)
			got += (size_t)r;
		else
			assert_true(r < 0 && errno == EAGAIN);
	}
	assert_memory_equal(back, msg, n);
}

static void echo_many(void **state)
{
	struct env *env = need(state);
	assert_int_equal(
	    rg__io_accept(env->io, &accept_op, env->lfd, on_accept), 0);
	int fds[20];
	for (int i = 0; i < 20; i++) {
		fds[i] = client(env);
		spin_until_conns(env, i + 1);
	}
	char msg[3000];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)('a' + i % 26);
	for (int round = 0; round < 5; round++)
		for (int i = 0; i < 20; i++)
			roundtrip(env, fds[i], msg, 100 + (size_t)i * 140);
	for (int i = 0; i < 20; i++) {
		close(fds[i]);
		spin_until(env, &conns[i].rx_final);
		assert_int_equal(conns[i].rx_final, 1); /* end of stream */
	}
	rg__io_cancel(env->io, &accept_op);
	for (int i = 0; i < 100 && accept_final == 0; i++)
		rg__io_wait(env->io, 10);
	assert_int_equal(accept_final, -ECANCELED);
}

static int got_res, got;
static void on_done(struct rg__io_op *op, int res)
{
	(void)op;
	got_res = res;
	got = 1;
}

static void on_recv_final(struct rg__io_op *op, char *buf, int res)
{
	(void)op;
	if (res <= 0) {
		got_res = res;
		got = 1;
	} else {
		assert_non_null(buf);
	}
}

static void connect_read_cancel(void **state)
{
	struct env *env = need(state);
	int fd = socket(AF_INET, SOCK_STREAM | rg__io_socket_flags(env->io), 0);
	struct rg__io_op op;
	got = 0;
	assert_int_equal(rg__io_connect(env->io, &op, fd,
					(struct sockaddr *)&env->addr,
					sizeof(env->addr), on_done),
			 0);
	spin_until(env, &got);
	assert_int_equal(got_res, 0);
	int peer = accept(env->lfd, NULL, NULL);
	assert_true(peer >= 0);

	char buf[16];
	got = 0;
	assert_int_equal(
	    rg__io_read(env->io, &op, fd, buf, sizeof(buf), on_done), 0);
	rg__io_wait(env->io, 0);
	assert_int_equal(got, 0); /* nothing sent yet */
	assert_int_equal(write(peer, "hello", 5), 5);
	spin_until(env, &got);
	assert_int_equal(got_res, 5);
	assert_memory_equal(buf, "hello", 5);

	/* A receive that is cancelled reports -ECANCELED, exactly once. */
	got = 0;
	assert_int_equal(rg__io_recv(env->io, &op, fd, on_recv_final), 0);
	rg__io_wait(env->io, 0);
	rg__io_cancel(env->io, &op);
	spin_until(env, &got);
	assert_int_equal(got_res, -ECANCELED);
	got = 0;
	for (int i = 0; i < 5; i++)
		rg__io_wait(env->io, 5);
	assert_int_equal(got, 0);

	/* Connection refused surfaces as -ECONNREFUSED. */
	close(peer);
	rg__io_close(env->io, fd);
	struct sockaddr_in dead = env->addr;
	int probe = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in any = {.sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bind(probe, (struct sockaddr *)&any, sizeof(any));
	socklen_t len = sizeof(dead);
	getsockname(probe, (struct sockaddr *)&dead, &len);
	close(probe); /* a port nobody listens on */
	fd = socket(AF_INET, SOCK_STREAM | rg__io_socket_flags(env->io), 0);
	got = 0;
	int err = rg__io_connect(env->io, &op, fd, (struct sockaddr *)&dead,
				 sizeof(dead), on_done);
	if (err == 0) {
		spin_until(env, &got);
		err = got_res;
	}
	assert_int_equal(err, -ECONNREFUSED);
	rg__io_close(env->io, fd);
	rg__io_wait(env->io, 0);
}

/* A connected pair: `*srv` (non-blocking, driven by the io layer) and the
 * blocking peer returned. */
static int pair(struct env *env, int *srv)
{
	int fd = client(env);
	*srv = accept4(env->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	assert_true(*srv >= 0);
	return fd;
}

/* Sends into `fd` until the kernel takes no more; returns the bytes. */
static size_t fill(int fd)
{
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	static char junk[65536];
	size_t total = 0;
	for (;;) {
		ssize_t n = send(fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			return total;
		}
		total += (size_t)n;
	}
}

static void poll_out(void **state)
{
	struct env *env = need(state);
	int srv, peer = pair(env, &srv);
	struct rg__io_op op = {0};

	/* Writable at once: reported from the wait, not from the call. */
	got = 0;
	assert_int_equal(rg__io_poll(env->io, &op, srv, POLLOUT, on_done), 0);
	assert_int_equal(got, 0);
	spin_until(env, &got);
	assert_true(got_res > 0 && (got_res & POLLOUT));
	assert_int_equal(op.kind, RG__IO_NONE);

	/* Full: nothing until the peer reads, then exactly one report. */
	int small = 4096;
	setsockopt(peer, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	size_t sent = fill(srv);
	got = 0;
	assert_int_equal(rg__io_poll(env->io, &op, srv, POLLOUT, on_done), 0);
	for (int i = 0; i < 10; i++)
		rg__io_wait(env->io, 5);
	assert_int_equal(got, 0);
	static char sink[65536];
	size_t drained = 0;
	while (drained < sent && !got) {
		ssize_t n = recv(peer, sink, sizeof(sink), MSG_DONTWAIT);
		if (n > 0)
			drained += (size_t)n;
		rg__io_wait(env->io, 5);
	}
	spin_until(env, &got);
	assert_true(got_res & POLLOUT);
	got = 0;
	for (int i = 0; i < 5; i++)
		rg__io_wait(env->io, 5);
	assert_int_equal(got, 0);

	/* Cancelled while waiting: -ECANCELED, once. */
	while (recv(peer, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	fill(srv);
	got = 0;
	assert_int_equal(rg__io_poll(env->io, &op, srv, POLLOUT, on_done), 0);
	rg__io_wait(env->io, 0);
	rg__io_cancel(env->io, &op);
	spin_until(env, &got);
	assert_int_equal(got_res, -ECANCELED);

	/* Closing the socket ends a waiting poll. */
	got = 0;
	assert_int_equal(rg__io_poll(env->io, &op, srv, POLLOUT, on_done), 0);
	rg__io_wait(env->io, 0);
	rg__io_close(env->io, srv);
	spin_until(env, &got);
	assert_int_equal(got_res, -ECANCELED);
	got = 0;
	for (int i = 0; i < 5; i++)
		rg__io_wait(env->io, 5);
	assert_int_equal(got, 0);
	close(peer);
}

static void write_file(void **state)
{
	struct env *env = need(state);
	char path[] = "/tmp/rg-test-io-XXXXXX";
	int tmp = mkstemp(path);
	assert_true(tmp >= 0);
	close(tmp);
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	struct rg__io_op op = {0};

	static const char *const lines[] = {"first line\n", "second\n",
					    "third and last\n"};
	size_t total = 0;
	for (int i = 0; i < 3; i++) {
		uint32_t n = (uint32_t)strlen(lines[i]);
		got = 0;
		assert_int_equal(
		    rg__io_write(env->io, &op, fd, lines[i], n, on_done), 0);
		assert_int_equal(got, 0); /* never from inside the call */
		spin_until(env, &got);
		assert_int_equal(got_res, (int)n);
		total += n;
	}
	/* A large write goes out whole, whatever the pieces. */
	static char big[1 << 20];
	memset(big, 'x', sizeof(big));
	got = 0;
	assert_int_equal(
	    rg__io_write(env->io, &op, fd, big, sizeof(big), on_done), 0);
	spin_until(env, &got);
	assert_int_equal(got_res, (int)sizeof(big));
	total += sizeof(big);

	/* A write cancelled after it started reports its result or
	 * -ECANCELED, exactly once. */
	got = 0;
	assert_int_equal(rg__io_write(env->io, &op, fd, "z\n", 2, on_done), 0);
	rg__io_cancel(env->io, &op);
	spin_until(env, &got);
	assert_true(got_res == 2 || got_res == -ECANCELED);
	if (got_res == 2)
		total += 2;
	got = 0;
	for (int i = 0; i < 5; i++)
		rg__io_wait(env->io, 5);
	assert_int_equal(got, 0);
	close(fd);

	char head[64];
	int rfd = open(path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(read(rfd, head, 33), 33);
	assert_memory_equal(head, "first line\nsecond\nthird and last\n", 33);
	assert_int_equal(lseek(rfd, 0, SEEK_END), (off_t)total);

	/* Errors come back as -errno: a descriptor open for reading only. */
	got = 0;
	assert_int_equal(rg__io_write(env->io, &op, rfd, "q", 1, on_done), 0);
	spin_until(env, &got);
	assert_int_equal(got_res, -EBADF);
	close(rfd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(echo_many, setup_uring, teardown),
	    cmocka_unit_test_setup_teardown(connect_read_cancel, setup_uring,
					    teardown),
	    cmocka_unit_test_setup_teardown(echo_many, setup_epoll, teardown),
	    cmocka_unit_test_setup_teardown(connect_read_cancel, setup_epoll,
					    teardown),
	    cmocka_unit_test_setup_teardown(poll_out, setup_uring, teardown),
	    cmocka_unit_test_setup_teardown(poll_out, setup_epoll, teardown),
	    cmocka_unit_test_setup_teardown(write_file, setup_uring, teardown),
	    cmocka_unit_test_setup_teardown(write_file, setup_epoll, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
