/* server.h: the unit tests' servers. board_server: one on a slot of a
 * statistics board, never run (its figures are what is tested). The
 * thread_server functions: one run on a thread of the test, configured
 * for loopback, started once it listens and waited for until its loop is
 * ready or its run failed, connected to, then stopped, joined and
 * destroyed. */
#ifndef RG_TESTS_UNIT_SERVER_H
#define RG_TESTS_UNIT_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "ringlet.h"

static inline struct rg_server *board_server(struct rg_stats_board *b,
					     unsigned slot,
					     const struct rg_stats_extra *x)
{
	struct rg_server_config c;
	rg_server_config_init(&c);
	c.host = "127.0.0.1";
	c.port = 0;
	c.max_connections = 16;
	c.stats_board = b;
	c.stats_slot = slot;
	c.stats_extra = x;
	struct rg_server *s = rg_server_create(&c);
	assert_non_null(s);
	return s;
}

/* The server thread: state 0 starting, 1 running (the ready callback),
 * -errno when rg_server_run returned that. */
struct thread_server {
	int state;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
};

static inline struct thread_server *thread_server(void)
{
	static struct thread_server t = {.lock = PTHREAD_MUTEX_INITIALIZER,
					 .cond = PTHREAD_COND_INITIALIZER};
	return &t;
}

static inline void thread_server_set(int st)
{
	struct thread_server *t = thread_server();
	pthread_mutex_lock(&t->lock);
	if (t->state == 0)
		t->state = st;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

/* The rg_server_config.ready of a server thread_server_start runs. */
static inline void thread_server_ready(void *arg)
{
	(void)arg;
	thread_server_set(1);
}

/* A configuration for such a server: 127.0.0.1, any port, `io`. */
static inline void thread_server_config(struct rg_server_config *c,
					enum rg_io_backend io)
{
	rg_server_config_init(c);
	c->host = "127.0.0.1";
	c->port = 0;
	c->io_backend = io;
	c->ready = thread_server_ready;
}

/* A connection to 127.0.0.1:port whose reads give up after 10 s (the test
 * fails if it cannot connect). */
static inline int thread_server_connect(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	struct timeval tv = {10, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static inline void *thread_server_main(void *arg)
{
	int err = rg_server_run(arg);
	thread_server_set(err < 0 ? err : -EIO); /* ended before it was ready */
	return NULL;
}

/* Listens and runs `s` (made with .ready = thread_server_ready) on a
 * thread: 0 once its loop runs, or -errno, `s` then destroyed. */
static inline int thread_server_start(struct rg_server *s)
{
	struct thread_server *t = thread_server();
	t->state = 0;
	int err = rg_server_listen(s);
	if (err < 0 ||
	    (err = -pthread_create(&t->thread, NULL, thread_server_main, s))) {
		rg_server_destroy(s);
		return err;
	}
	pthread_mutex_lock(&t->lock);
	while (t->state == 0)
		pthread_cond_wait(&t->cond, &t->lock);
	err = t->state < 0 ? t->state : 0;
	pthread_mutex_unlock(&t->lock);
	if (err < 0) {
		pthread_join(t->thread, NULL);
		rg_server_destroy(s);
	}
	return err;
}

static inline void thread_server_stop(struct rg_server *s)
{
	rg_server_stop(s);
	pthread_join(thread_server()->thread, NULL);
	rg_server_destroy(s);
}

#endif
