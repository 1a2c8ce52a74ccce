/* bench/fixed_client.c: a fixed number of requests, for counting what a
 * server spends on them (bench/instructions.sh). wrk runs for a time and
 * sends as many requests as it can; the difference method needs exactly N.
 *
 * Opens C keep-alive connections to HOST:PORT and sends N requests in all
 * (N / C per connection, the first N % C one more), DEPTH at a time in one
 * write: DEPTH 1 is one request in flight per connection, DEPTH 16 is
 * TechEmpower's pipelining (bench/pipeline.lua: the next batch goes out
 * when every response of the last one has come). Every response is read
 * whole by its Content-Length and must be a 200; a connection the server
 * closes, a response without Content-Length, or nothing heard for
 * TIMEOUT_MS is an error. The request is wrk's in bench/server.sh: the
 * same three header fields (bench/lib.sh, WRK_HEADERS).
 *
 * One thread, epoll, all connections opened before the first request is
 * sent, so the server accepts the same C connections in every run.
 * Output: one line of key=value pairs on stdout; exit status 0 when all N
 * came back, 1 otherwise, 2 on bad usage. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 60000 /* a server under valgrind is slow, not dead */
#define MAX_CONNS 1024
#define MAX_DEPTH 256
#define RBUF_SIZE 65536

static const char usage[] =
    "usage: fixed_client HOST PORT REQUESTS CONNECTIONS DEPTH [PATH]\n";

struct conn {
	int fd;
	long left;    /* requests still to send on this connection */
	int inflight; /* sent, response not read yet */
	size_t rlen;  /* bytes in rbuf */
	char rbuf[RBUF_SIZE];
};

static char request[1024];
static size_t request_len;
static char batch[MAX_DEPTH * sizeof(request)];

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(const char *what)
{
	fprintf(stderr, "fixed_client: %s: %s\n", what, strerror(errno));
	return -1;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return fail("send");
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Sends the next batch: min(depth, left) requests in one write. */
static int send_batch(struct conn *c, int depth)
{
	int k = c->left < depth ? (int)c->left : depth;
	for (int i = 0; i < k; i++)
		memcpy(batch + (size_t)i * request_len, request, request_len);
	if (write_all(c->fd, batch, (size_t)k * request_len) < 0)
		return -1;
	c->left -= k;
	c->inflight = k;
	return 0;
}

/* Length of the complete response at the front of buf[0, n): 0 when more
 * bytes are needed, -1 when it is not a 200 with a Content-Length. */
static long response_len(const char *buf, size_t n)
{
	const char *end = memmem(buf, n, "\r\n\r\n", 4);
	if (!end)
		return n >= RBUF_SIZE ? -1 : 0;
	size_t head = (size_t)(end - buf) + 4;
	if (n < 12 || memcmp(buf, "HTTP/1.", 7) || memcmp(buf + 8, " 200", 4))
		return -1;
	long body = -1;
	for (const char *p = buf; p < end;) {
		const char *eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
		if (!eol)
			break;
		if ((size_t)(eol - p) > 15 &&
		    !strncasecmp(p, "content-length:", 15))
			body = strtol(p + 15, NULL, 10);
		p = eol + 2;
	}
	if (body < 0 || head + (size_t)body > RBUF_SIZE)
		return -1;
	return head + (size_t)body <= n ? (long)(head + (size_t)body) : 0;
}

/* Reads what came; returns responses completed, or -1. */
static long on_readable(struct conn *c)
{
	long done = 0;
	for (;;) {
		ssize_t k = recv(c->fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen,
				 MSG_DONTWAIT);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			break;
		if (k < 0)
			return fail("recv");
		if (k == 0) {
			fprintf(stderr,
				"fixed_client: the server closed a "
				"connection with %d response(s) due\n",
				c->inflight);
			return -1;
		}
		c->rlen += (size_t)k;
		size_t off = 0;
		long len = 0;
		while (c->inflight &&
		       (len = response_len(c->rbuf + off, c->rlen - off)) > 0) {
			off += (size_t)len;
			c->inflight--;
			done++;
		}
		if (len < 0) {
			fprintf(stderr,
				"fixed_client: not a 200 with a "
				"Content-Length: %.60s\n",
				c->rbuf + off);
			return -1;
		}
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
		if (!c->inflight && c->rlen) {
			fprintf(stderr, "fixed_client: bytes after the last "
					"response\n");
			return -1;
		}
		if (!c->inflight)
			break; /* nothing more is due */
	}
	return done;
}

static int connect_to(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("socket");
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		fail("connect");
		close(fd);
		return -1;
	}
	/* Blocking writes (a batch is at most DEPTH requests, 3 KB at 16,
	 * into an empty socket buffer), non-blocking reads (MSG_DONTWAIT,
	 * drained until EAGAIN). */
	struct timeval tv = {.tv_sec = TIMEOUT_MS / 1000};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

int main(int argc, char **argv)
{
	if (argc < 6 || argc > 7) {
		fputs(usage, stderr);
		return 2;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET};
	long n = strtol(argv[3], NULL, 10);
	long nconns = strtol(argv[4], NULL, 10);
	long depth = strtol(argv[5], NULL, 10);
	const char *path = argc == 7 ? argv[6] : "/plaintext";
	sa.sin_port = htons((uint16_t)strtol(argv[2], NULL, 10));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 || n < 1 ||
	    nconns < 1 || nconns > MAX_CONNS || nconns > n || depth < 1 ||
	    depth > MAX_DEPTH) {
		fputs(usage, stderr);
		return 2;
	}
	int w = snprintf(request, sizeof(request),
			 "GET %s HTTP/1.1\r\n"
			 "Host: localhost\r\n"
			 "Accept: text/plain,text/html;q=0.9,application/"
			 "xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n"
			 "Connection: keep-alive\r\n\r\n",
			 path);
	if (w < 0 || (size_t)w >= sizeof(request)) {
		fputs(usage, stderr);
		return 2;
	}
	request_len = (size_t)w;

	struct conn *conns = calloc((size_t)nconns, sizeof(*conns));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (!conns || ep < 0) {
		fail("setup");
		return 1;
	}
	for (long i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		c->left = n / nconns + (i < n % nconns);
		if ((c->fd = connect_to(&sa)) < 0)
			return 1;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
			fail("epoll_ctl");
			return 1;
		}
	}
	int64_t t0 = now_ms();
	for (long i = 0; i < nconns; i++)
		if (send_batch(&conns[i], (int)depth) < 0)
			return 1;

	long done = 0;
	int64_t heard = now_ms();
	struct epoll_event evs[MAX_CONNS];
	while (done < n) {
		int k = epoll_wait(ep, evs, MAX_CONNS, 1000);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			fail("epoll_wait");
			return 1;
		}
		if (k == 0 && now_ms() - heard > TIMEOUT_MS) {
			fprintf(stderr,
				"fixed_client: nothing for %d s, %ld of %ld "
				"responses\n",
				TIMEOUT_MS / 1000, done, n);
			return 1;
		}
		for (int i = 0; i < k; i++) {
			struct conn *c = evs[i].data.ptr;
			long got = on_readable(c);
			if (got < 0)
				return 1;
			done += got;
			if (!c->inflight && c->left &&
			    send_batch(c, (int)depth) < 0)
				return 1;
		}
		if (k > 0)
			heard = now_ms();
	}
	int64_t ms = now_ms() - t0;
	for (long i = 0; i < nconns; i++)
		close(conns[i].fd);
	printf("requests=%ld connections=%ld depth=%ld ms=%lld\n", done, nconns,
	       depth, (long long)ms);
	return 0;
}
