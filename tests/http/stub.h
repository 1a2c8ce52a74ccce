/* stub.h: a stub upstream for /upstream, shared by the endpoint and timing
 * tests: a listener thread that answers each connection, after reading its
 * request head, after `delay_ms`, with a response of body_len bytes, then
 * closes (lingering: shutdown, drain). A stub left running by a failed test
 * is stopped by the fixture's teardown. */
#ifndef RG_TESTS_HTTP_STUB_H
#define RG_TESTS_HTTP_STUB_H

#include <pthread.h>
#include <stdatomic.h>

#include "fixture.h"

#define STUB_MAX 64

struct stub;
struct stub_conn {
	struct stub *stub;
	int fd;
};

struct stub {
	int lfd;
	uint16_t port;
	int delay_ms;
	size_t body_len;
	atomic_int accepted, requests;
	atomic_bool stop;
	pthread_t acceptor;
	pthread_t workers[STUB_MAX];
	struct stub_conn conns[STUB_MAX];
	int nworkers;
	pthread_mutex_t lock;
	char first_line[256];
};

static struct stub *live_stub;

static inline int stub_head(const struct stub *s, char *out, size_t cap)
{
	return snprintf(out, cap,
			"HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
			"Connection: close\r\n\r\n",
			s->body_len);
}

/* Bytes the stub sends per connection (head and body). */
static inline size_t stub_reply_len(const struct stub *s)
{
	char head[256];
	return (size_t)stub_head(s, head, sizeof(head)) + s->body_len;
}

static inline void *stub_worker(void *arg)
{
	struct stub_conn *sc = arg;
	struct stub *s = sc->stub;
	char buf[8192];
	size_t got = 0;
	int64_t end = now_ms() + 3000;
	while (got < sizeof(buf) - 1) {
		ssize_t r = recv_timeout(sc->fd, buf + got,
					 sizeof(buf) - 1 - got, end - now_ms());
		if (r <= 0)
			break;
		got += (size_t)r;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n")) {
			pthread_mutex_lock(&s->lock);
			if (!s->first_line[0])
				snprintf(s->first_line, sizeof(s->first_line),
					 "%.*s", (int)strcspn(buf, "\r\n"),
					 buf);
			pthread_mutex_unlock(&s->lock);
			atomic_fetch_add(&s->requests, 1);
			break;
		}
	}
	sleep_ms(s->delay_ms);
	char head[256];
	int hn = stub_head(s, head, sizeof(head));
	int rc = send_all(sc->fd, head, (size_t)hn);
	static const char fill[4096] = {'u'};
	for (size_t left = s->body_len; !rc && left;) {
		size_t n = left < sizeof(fill) ? left : sizeof(fill);
		rc = send_all(sc->fd, fill, n);
		left -= n;
	}
	shutdown(sc->fd, SHUT_WR);
	end = now_ms() + 2000;
	while (recv_timeout(sc->fd, buf, sizeof(buf), end - now_ms()) > 0)
		;
	close(sc->fd);
	return NULL;
}

static inline void *stub_accept(void *arg)
{
	struct stub *s = arg;
	while (!atomic_load(&s->stop)) {
		if (!wait_readable(s->lfd, 50))
			continue;
		int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (s->nworkers == STUB_MAX) {
			close(fd);
			continue;
		}
		struct stub_conn *sc = &s->conns[s->nworkers];
		sc->stub = s;
		sc->fd = fd;
		/* Counted before the worker can answer: once the reply is
		 * seen, so is the count. */
		atomic_fetch_add(&s->accepted, 1);
		if (pthread_create(&s->workers[s->nworkers], NULL, stub_worker,
				   sc)) {
			atomic_fetch_sub(&s->accepted, 1);
			close(fd);
			continue;
		}
		s->nworkers++;
	}
	for (int i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	return NULL;
}

static inline void stub_stop(struct stub *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->acceptor, NULL);
	close(s->lfd);
	pthread_mutex_destroy(&s->lock);
	if (live_stub == s)
		live_stub = NULL;
}

static inline void stub_cleanup(void)
{
	if (live_stub)
		stub_stop(live_stub);
}

static inline void stub_start(struct stub *s, int delay_ms, size_t body_len)
{
	fixture_on_teardown(stub_cleanup);
	memset(s, 0, sizeof(*s));
	s->delay_ms = delay_ms;
	s->body_len = body_len;
	pthread_mutex_init(&s->lock, NULL);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 64), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->acceptor, NULL, stub_accept, s), 0);
	live_stub = s;
}

static inline void upstream_req(char *out, size_t cap, uint16_t port, int ms)
{
	snprintf(out, cap, GET("/upstream?port=%u&ms=%d"), port, ms);
}

#endif
