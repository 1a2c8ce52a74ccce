/* bench/idle.c: what an idle keep-alive connection costs a server, in
 * resident memory.
 *
 * Opens N connections (default 10000), sends one request on each and reads
 * its response, then leaves them all open and idle. The server's memory is
 * read before and after, summed over the pids given: Rss and Pss from
 * /proc/PID/smaps_rollup (VmRSS from /proc/PID/status where that file is
 * missing). (after - before) / N is the figure. Then every idle connection
 * is asked once more, to prove it was really held, and one fresh
 * connection checks that the server still answers.
 *
 * The baseline is taken after one request on a connection of its own, so
 * what a server sets up on first use is not charged to the idle ones.
 * Connections are opened CONCURRENCY at a time with non-blocking sockets,
 * so 10000 are in place within about a second: some servers close idle
 * connections after a few seconds (ringlet's demo: 5 s), and the whole
 * measurement must fit well inside that. Source addresses cycle through
 * 127.0.0.1..127.0.0.K (--sources K) when the server is on loopback, so
 * ephemeral ports never run short; sockets are closed with an RST (linger
 * 0) to leave no TIME_WAIT behind.
 *
 * Output: a human summary on stderr and one line of key=value pairs on
 * stdout for scripts. Exit status 0 when every connection was opened,
 * answered twice and the fresh check passed; 1 otherwise; 2 on bad usage. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PIDS 16
#define RESPONSE_MAX 2048 /* a /plaintext response is about 150 bytes */
#define PHASE_TIMEOUT_MS 30000

static const char usage[] =
    "usage: idle --port PORT --pid PID [--pid PID...] [options]\n"
    "  --host ADDR        server IPv4 address (127.0.0.1)\n"
    "  --path PATH        request target (/plaintext)\n"
    "  --conns N          idle connections to hold (10000)\n"
    "  --concurrency N    connections being set up at once (256)\n"
    "  --sources K        source addresses 127.0.0.1..K on loopback (4)\n"
    "  --hold-ms MS       idle time before reading memory (500)\n"
    "  --pid PID          a server process whose memory counts (repeatable)\n";

struct options {
	struct in_addr host;
	uint16_t port;
	const char *path;
	unsigned conns;
	unsigned concurrency;
	unsigned sources;
	unsigned hold_ms;
	int pids[MAX_PIDS];
	unsigned npids;
};

enum conn_state { C_CONNECTING, C_WRITING, C_READING, C_DONE, C_FAILED };

struct conn {
	int fd;
	enum conn_state state;
	unsigned sent;
	unsigned used;
	char buf[RESPONSE_MAX];
};

struct mem {
	unsigned long rss_kb;
	unsigned long pss_kb;
};

static char request[512];
static unsigned request_len;

static void die(const char *what)
{
	fprintf(stderr, "idle: %s: %s\n", what, strerror(errno));
	exit(1);
}

static unsigned long number(const char *opt, const char *s, unsigned long lo,
			    unsigned long hi)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr,
			"idle: %s wants a number in %lu..%lu, not '%s'\n", opt,
			lo, hi, s);
		exit(2);
	}
	return v;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"host", required_argument, NULL, 'h'},
	    {"port", required_argument, NULL, 'p'},
	    {"path", required_argument, NULL, 'P'},
	    {"conns", required_argument, NULL, 'n'},
	    {"concurrency", required_argument, NULL, 'c'},
	    {"sources", required_argument, NULL, 's'},
	    {"hold-ms", required_argument, NULL, 'H'},
	    {"pid", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, '?'},
	    {NULL, 0, NULL, 0},
	};
	*o = (struct options){.path = "/plaintext",
			      .conns = 10000,
			      .concurrency = 256,
			      .sources = 4,
			      .hold_ms = 500};
	inet_pton(AF_INET, "127.0.0.1", &o->host);
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			if (inet_pton(AF_INET, optarg, &o->host) != 1) {
				fprintf(stderr, "idle: --host wants an IPv4 "
						"address\n");
				exit(2);
			}
			break;
		case 'p':
			o->port = (uint16_t)number("--port", optarg, 1, 65535);
			break;
		case 'P':
			o->path = optarg;
			break;
		case 'n':
			o->conns =
			    (unsigned)number("--conns", optarg, 1, 1000000);
			break;
		case 'c':
			o->concurrency =
			    (unsigned)number("--concurrency", optarg, 1, 65536);
			break;
		case 's':
			o->sources =
			    (unsigned)number("--sources", optarg, 1, 254);
			break;
		case 'H':
			o->hold_ms =
			    (unsigned)number("--hold-ms", optarg, 0, 3600000);
			break;
		case 'i':
			if (o->npids == MAX_PIDS) {
				fprintf(stderr, "idle: at most %d --pid\n",
					MAX_PIDS);
				exit(2);
			}
			o->pids[o->npids++] =
			    (int)number("--pid", optarg, 1, INT32_MAX);
			break;
		default:
			fputs(usage, stderr);
			exit(2);
		}
	}
	if (optind < argc || !o->port || !o->npids) {
		fputs(usage, stderr);
		exit(2);
	}
	/* Other source addresses only make sense towards loopback. */
	if ((ntohl(o->host.s_addr) >> 24) != 127)
		o->sources = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Sums Rss and Pss over the pids; false if one cannot be read (gone). */
static bool read_memory(const struct options *o, struct mem *m)
{
	*m = (struct mem){0, 0};
	for (unsigned i = 0; i < o->npids; i++) {
		char path[64], line[256];
		unsigned long rss = 0, pss = 0, kb;
		bool have_rss = false, have_pss = false;
		snprintf(path, sizeof(path), "/proc/%d/smaps_rollup",
			 o->pids[i]);
		FILE *f = fopen(path, "r");
		if (!f) {
			snprintf(path, sizeof(path), "/proc/%d/status",
				 o->pids[i]);
			f = fopen(path, "r");
		}
		if (!f)
			return false;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "Rss: %lu kB", &kb) == 1 ||
			    sscanf(line, "VmRSS: %lu kB", &kb) == 1) {
				rss = kb;
				have_rss = true;
			} else if (sscanf(line, "Pss: %lu kB", &kb) == 1) {
				pss = kb;
				have_pss = true;
			}
		}
		fclose(f);
		if (!have_rss)
			return false;
		m->rss_kb += rss;
		m->pss_kb += have_pss ? pss : rss;
	}
	return true;
}

static void raise_fd_limit(unsigned want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit");
	if (rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want) {
		struct rlimit up = {want, want};
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max; /* not root: as far as allowed */
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < want)
		fprintf(stderr,
			"idle: only %lu file descriptors allowed, %u wanted; "
			"raise ulimit -n\n",
			(unsigned long)rl.rlim_cur, want);
}

static void close_conn(struct conn *c)
{
	if (c->fd < 0)
		return;
	struct linger lg = {1, 0}; /* RST: no TIME_WAIT on a shared machine */
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c->fd);
	c->fd = -1;
}

static void fail_conn(struct conn *c)
{
	close_conn(c);
	c->state = C_FAILED;
}

/* Starts a non-blocking connect from the i-th source address. */
static bool open_conn(const struct options *o, struct conn *c, unsigned i)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return false;
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o->sources > 1) {
		/* The port is chosen at connect(), per 4-tuple, not here. */
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
			   sizeof(one));
		struct sockaddr_in src = {.sin_family = AF_INET};
		src.sin_addr.s_addr = htonl(0x7f000001u + i % o->sources);
		if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) < 0)
			return false;
	}
	struct sockaddr_in dst = {.sin_family = AF_INET,
				  .sin_port = htons(o->port),
				  .sin_addr = o->host};
	if (connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 &&
	    errno != EINPROGRESS)
		return false;
	c->state = C_CONNECTING;
	c->sent = c->used = 0;
	return true;
}

/* 1: a whole 2xx response with a Content-Length; 0: more to read; -1: a
 * bad response (another status, no length, or more bytes than one). */
static int response_done(const struct conn *c)
{
	const char *end = memmem(c->buf, c->used, "\r\n\r\n", 4);
	if (!end)
		return c->used == sizeof(c->buf) ? -1 : 0;
	size_t head = (size_t)(end - c->buf) + 4;
	if (c->used < 12 || memcmp(c->buf, "HTTP/1.", 7) || c->buf[9] != '2')
		return -1;
	const char *p = c->buf;
	long length = -1;
	while ((p = memchr(p, '\n', head - (size_t)(p - c->buf))) != NULL) {
		p++;
		if ((size_t)(end - p) > 15 &&
		    !strncasecmp(p, "content-length:", 15)) {
			length = strtol(p + 15, NULL, 10);
			break;
		}
	}
	if (length < 0)
		return -1;
	if (c->used < head + (size_t)length)
		return 0;
	return c->used == head + (size_t)length ? 1 : -1;
}

/* Advances one connection on an event; returns true when it left the
 * set of busy ones (done or failed). */
static bool step(struct conn *c, int ep)
{
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ||
		    err)
			goto fail;
		c->state = C_WRITING;
	}
	if (c->state == C_WRITING) {
		while (c->sent < request_len) {
			ssize_t n = send(c->fd, request + c->sent,
					 request_len - c->sent, MSG_NOSIGNAL);
			if (n < 0 && errno == EAGAIN)
				return false;
			if (n <= 0)
				goto fail;
			c->sent += (unsigned)n;
		}
		c->state = C_READING;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
			goto fail;
	}
	for (;;) {
		ssize_t n =
		    recv(c->fd, c->buf + c->used, sizeof(c->buf) - c->used, 0);
		if (n < 0 && errno == EAGAIN)
			return false;
		if (n <= 0)
			goto fail;
		c->used += (unsigned)n;
		int done = response_done(c);
		if (done < 0)
			goto fail;
		if (done) {
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			c->state = C_DONE;
			return true;
		}
	}
fail:
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	fail_conn(c);
	return true;
}

/* Runs one request-response on every connection whose state is C_DONE
 * (ask_again) or on fresh connections (!ask_again), at most `concurrency`
 * in flight. Returns how many ended C_DONE. */
static unsigned exchange(const struct options *o, struct conn *conns,
			 unsigned n, bool ask_again)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	unsigned next = 0, busy = 0, ok = 0;
	uint64_t deadline = now_ms() + PHASE_TIMEOUT_MS;
	struct epoll_event events[256];
	for (;;) {
		while (busy < o->concurrency && next < n) {
			struct conn *c = &conns[next];
			if (ask_again) {
				if (c->state != C_DONE) {
					next++;
					continue;
				}
				c->state = C_WRITING;
				c->sent = c->used = 0;
			} else if (!open_conn(o, c, next)) {
				fail_conn(c);
				next++;
				continue;
			}
			next++;
			struct epoll_event ev = {.events = EPOLLOUT,
						 .data.ptr = c};
			if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
				fail_conn(c);
				continue;
			}
			busy++;
		}
		if (!busy)
			break;
		int64_t left = (int64_t)(deadline - now_ms());
		if (left <= 0)
			break;
		int k = epoll_wait(ep, events, 256, (int)left);
		if (k < 0 && errno != EINTR)
			die("epoll_wait");
		for (int i = 0; i < k; i++)
			if (step(events[i].data.ptr, ep))
				busy--;
	}
	close(ep);
	for (unsigned i = 0; i < n; i++) {
		if (conns[i].state == C_DONE)
			ok++;
		else if (conns[i].state != C_FAILED)
			fail_conn(&conns[i]); /* timed out */
	}
	return ok;
}

/* One request on a connection of its own: does the server answer? */
static bool check_fresh(const struct options *o)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		die("calloc");
	c->fd = -1;
	bool ok = exchange(o, c, 1, false) == 1;
	close_conn(c);
	free(c);
	return ok;
}

int main(int argc, char **argv)
{
	struct options o;
	parse_options(argc, argv, &o);
	int len =
	    snprintf(request, sizeof(request),
		     "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", o.path);
	if (len < 0 || (size_t)len >= sizeof(request)) {
		fputs("idle: --path too long\n", stderr);
		return 2;
	}
	request_len = (unsigned)len;
	raise_fd_limit(o.conns + 64);

	struct conn *conns = calloc(o.conns, sizeof(*conns));
	if (!conns)
		die("calloc");
	for (unsigned i = 0; i < o.conns; i++)
		conns[i].fd = -1;

	if (!check_fresh(&o)) {
		fprintf(stderr,
			"idle: the server on port %u does not answer "
			"GET %s\n",
			(unsigned)o.port, o.path);
		return 1;
	}
	sleep_ms(200);
	struct mem before, after;
	if (!read_memory(&o, &before)) {
		fputs("idle: cannot read the servers' memory\n", stderr);
		return 1;
	}

	uint64_t t0 = now_ms();
	unsigned opened = exchange(&o, conns, o.conns, false);
	uint64_t open_ms = now_ms() - t0;
	sleep_ms(o.hold_ms);
	bool have_after = read_memory(&o, &after);
	unsigned held = exchange(&o, conns, o.conns, true);
	bool fresh = check_fresh(&o);
	for (unsigned i = 0; i < o.conns; i++)
		close_conn(&conns[i]);
	free(conns);
	if (!have_after) {
		fputs("idle: cannot read the servers' memory (exited?)\n",
		      stderr);
		return 1;
	}

	double per_rss =
	    opened ? ((double)after.rss_kb - before.rss_kb) * 1024.0 / opened
		   : 0;
	double per_pss =
	    opened ? ((double)after.pss_kb - before.pss_kb) * 1024.0 / opened
		   : 0;
	fprintf(stderr,
		"idle: %u/%u connections opened in %llu ms; Rss %lu -> %lu "
		"kB, Pss %lu -> %lu kB: %.0f B (Rss), %.0f B (Pss) per "
		"connection; %u/%u still answered after %u ms idle; fresh "
		"connection %s\n",
		opened, o.conns, (unsigned long long)open_ms, before.rss_kb,
		after.rss_kb, before.pss_kb, after.pss_kb, per_rss, per_pss,
		held, opened, o.hold_ms, fresh ? "answered" : "FAILED");
	printf("conns=%u opened=%u open_ms=%llu rss_before_kb=%lu "
	       "rss_after_kb=%lu pss_before_kb=%lu pss_after_kb=%lu "
	       "rss_per_conn=%.0f pss_per_conn=%.0f held=%u fresh=%s\n",
	       o.conns, opened, (unsigned long long)open_ms, before.rss_kb,
	       after.rss_kb, before.pss_kb, after.pss_kb, per_rss, per_pss,
	       held, fresh ? "ok" : "failed");
	return opened == o.conns && held == opened && fresh ? 0 : 1;
}
