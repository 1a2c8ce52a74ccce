/* client.h: what the black-box tests drive the ringlet binary with: start it
 * on a free port and stop it with SIGTERM, raw sockets with timeouts, a
 * minimal strict HTTP/1.1 response reader (Content-Length, chunked and
 * close-delimited bodies), curl run as a child process, and a seeded PRNG.
 * Needs libc only (the tests do not link libringlet). Include after
 * <cmocka.h>. */
#ifndef RG_TESTS_HTTP_CLIENT_H
#define RG_TESTS_HTTP_CLIENT_H

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * Time
 * ------------------------------------------------------------------------ */

static inline int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int64_t now_ms(void)
{
	return now_us() / 1000;
}

static inline void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* ------------------------------------------------------------------------
 * A seeded PRNG (splitmix64): the seed is printed so a failing run can be
 * repeated with RG_TEST_SEED=N.
 * ------------------------------------------------------------------------ */

struct rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static inline uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	return lo + rng_next(r) % (hi - lo + 1);
}

static inline void rng_fill(struct rng *r, void *buf, size_t n)
{
	unsigned char *p = buf;
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)rng_next(r);
}

/* The run's seed: RG_TEST_SEED if set, else from the clock; printed once. */
static inline uint64_t rng_base_seed(void)
{
	static uint64_t seed;
	static bool done;
	if (!done) {
		const char *env = getenv("RG_TEST_SEED");
		seed = env && *env ? strtoull(env, NULL, 0)
				   : (uint64_t)now_us() ^ (uint64_t)getpid();
		done = true;
		printf("seed: %llu (repeat with RG_TEST_SEED=%llu)\n",
		       (unsigned long long)seed, (unsigned long long)seed);
		fflush(stdout);
	}
	return seed;
}

/* A generator for one test: the run's seed mixed with the test's name, so
 * a test draws the same numbers whatever ran before it. */
static inline struct rng rng_for(const char *name)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	struct rng r = {rng_base_seed() ^ h};
	rng_next(&r);
	return r;
}

/* ------------------------------------------------------------------------
 * Raw sockets. Every socket the helpers open is remembered, so a test that
 * fails half-way (cmocka jumps out of it) has them closed by its teardown
 * (socket_close_all) before the server is stopped.
 * ------------------------------------------------------------------------ */

#define CLIENT_MAX_FDS 512
static int client_fds[CLIENT_MAX_FDS];
static int client_nfds;

static inline void socket_track(int fd)
{
	if (client_nfds < CLIENT_MAX_FDS)
		client_fds[client_nfds++] = fd;
}

/* Closes a socket opened by tcp_connect. */
static inline void socket_close(int fd)
{
	if (fd < 0)
		return;
	for (int i = 0; i < client_nfds; i++)
		if (client_fds[i] == fd) {
			client_fds[i] = client_fds[--client_nfds];
			break;
		}
	close(fd);
}

static inline void socket_close_all(void)
{
	while (client_nfds)
		close(client_fds[--client_nfds]);
}

/* Connects to 127.0.0.1:port with TCP_NODELAY (so that each send is its own
 * segment). Returns the socket or -errno. */
static inline int tcp_connect(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int err = errno;
		close(fd);
		return -err;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	socket_track(fd);
	return fd;
}

/* Sends all n bytes. 0 or -errno (never SIGPIPE). */
static inline int send_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Waits up to ms for fd to become readable (or closed). 1, 0 on timeout. */
static inline int wait_readable(int fd, int64_t ms)
{
	int64_t end = now_ms() + ms;
	for (;;) {
		int64_t left = end - now_ms();
		if (left < 0)
			left = 0;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 1;
		if (r == 0 || errno != EINTR)
			return 0;
	}
}

/* Receives up to n bytes, waiting at most ms. Bytes, 0 at EOF, -ETIMEDOUT,
 * or -errno (-ECONNRESET when the peer reset). */
static inline ssize_t recv_timeout(int fd, void *buf, size_t n, int64_t ms)
{
	if (!wait_readable(fd, ms))
		return -ETIMEDOUT;
	for (;;) {
		ssize_t r = recv(fd, buf, n, MSG_DONTWAIT);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	}
}

/* ------------------------------------------------------------------------
 * The server under test
 * ------------------------------------------------------------------------ */

struct server {
	pid_t pid;
	uint16_t port;
	char log[64]; /* file holding its stdout and stderr */
};

/* A port nothing listens on now: bind port 0, read it back, close. */
static inline uint16_t free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	uint16_t port = 0;
	if (!bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* Prints the last `max` bytes of the server's log. */
static inline void server_print_log(const struct server *s, size_t max)
{
	FILE *f = fopen(s->log, "r");
	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	if (size > (long)max)
		fseek(f, size - (long)max, SEEK_SET);
	else
		fseek(f, 0, SEEK_SET);
	char buf[4096];
	size_t n;
	fprintf(stderr, "---- server log (%s) ----\n", s->log);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fprintf(stderr, "---- end of server log ----\n");
	fclose(f);
}

/* Set by a test whose server wants a PROXY header first (proxy_protocol):
 * the probe below then starts with "PROXY UNKNOWN". */
static bool server_probe_proxy;

/* One HTTP exchange to see whether the server serves yet: 1 if an HTTP
 * response came back, 0 if not (yet). */
static inline int server_probe(uint16_t port)
{
	int fd = tcp_connect(port);
	if (fd < 0)
		return 0;
	static const char req[] =
	    "PROXY UNKNOWN\r\n"
	    "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
	size_t skip = server_probe_proxy ? 0 : strlen("PROXY UNKNOWN\r\n");
	char start[8], buf[4096];
	size_t got = 0;
	if (!send_all(fd, req + skip, sizeof(req) - 1 - skip)) {
		int64_t end = now_ms() + 1000;
		ssize_t r;
		/* Until EOF: the server's slot for it is then released. */
		while ((r = recv_timeout(fd, buf, sizeof(buf),
					 end - now_ms())) > 0) {
			for (ssize_t i = 0; i < r && got < sizeof(start); i++)
				start[got++] = buf[i];
			if (got == sizeof(start) && now_ms() >= end)
				break;
		}
	}
	socket_close(fd);
	return got == sizeof(start) && !memcmp(start, "HTTP/1.", 7);
}

static inline pid_t server_spawn(struct server *s, const char *const args[])
{
	const char *argv[64];
	char port[16];
	int n = 0;
	snprintf(port, sizeof(port), "%u", s->port);
	argv[n++] = RG_RINGLET_BIN;
	argv[n++] = "--port";
	argv[n++] = port;
	for (int i = 0; args && args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;

	int log = open(s->log, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (log < 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		/* A test program that dies must not leave its server behind. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int in = open("/dev/null", O_RDONLY);
		dup2(in, STDIN_FILENO);
		dup2(log, STDOUT_FILENO);
		dup2(log, STDERR_FILENO);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], (char *const *)argv);
		dprintf(log, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(log);
	return pid;
}

/* Starts RG_RINGLET_BIN --port P args... on a free port P and waits (at most
 * 5 s) until it answers. 0, or -1 with the reason and the server's log
 * printed. A server that exits at once is tried again on another port (the
 * free port may have been taken meanwhile), three times in all. */
static inline int server_start(struct server *s, const char *const args[])
{
	snprintf(s->log, sizeof(s->log), "/tmp/ringlet-http-XXXXXX");
	int fd = mkstemp(s->log);
	if (fd < 0) {
		fprintf(stderr, "mkstemp: %s\n", strerror(errno));
		return -1;
	}
	close(fd);
	int status = 0;
	for (int attempt = 0; attempt < 3; attempt++) {
		s->port = free_port();
		s->pid = server_spawn(s, args);
		if (s->pid < 0)
			break;
		int64_t end = now_ms() + 5000;
		bool exited = false;
		while (now_ms() < end) {
			if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
				exited = true;
				break;
			}
			if (server_probe(s->port))
				return 0;
			sleep_ms(5);
		}
		if (!exited) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &status, 0);
			s->pid = -1;
			fprintf(stderr, "server did not answer within 5 s\n");
			break;
		}
		s->pid = -1;
	}
	if (WIFEXITED(status))
		fprintf(stderr, "server exited with status %d\n",
			WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		fprintf(stderr, "server killed by signal %d\n",
			WTERMSIG(status));
	server_print_log(s, 4096);
	unlink(s->log);
	s->pid = -1;
	return -1;
}

/* Sends `sig` (0: none, it was sent before) and waits up to timeout_ms for
 * the server to exit; past that kills it. Returns its wait status, or -1
 * if it had to be killed. On anything but exit status 0 (under ASan, a
 * leak makes it non-zero) the log is printed. The log file is removed. */
static inline int server_signal_wait(struct server *s, int sig,
				     int64_t timeout_ms)
{
	if (s->pid <= 0)
		return -1;
	int status = -1;
	if (sig)
		kill(s->pid, sig);
	int64_t end = now_ms() + timeout_ms;
	pid_t r;
	while ((r = waitpid(s->pid, &status, WNOHANG)) == 0 && now_ms() < end)
		sleep_ms(5);
	if (r != s->pid) {
		fprintf(stderr, "server did not exit within %lld ms\n",
			(long long)timeout_ms);
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		status = -1;
	}
	if (status != 0) {
		if (status > 0 && WIFEXITED(status))
			fprintf(stderr, "server exited with status %d\n",
				WEXITSTATUS(status));
		else if (status > 0 && WIFSIGNALED(status))
			fprintf(stderr, "server killed by signal %d\n",
				WTERMSIG(status));
		server_print_log(s, 16384);
	}
	unlink(s->log);
	s->pid = -1;
	return status;
}

/* SIGTERM, then server_signal_wait. */
static inline int server_stop(struct server *s, int64_t timeout_ms)
{
	return server_signal_wait(s, SIGTERM, timeout_ms);
}

/* ------------------------------------------------------------------------
 * HTTP/1.1 client side: a buffered connection and a strict response reader.
 * Whatever follows a response (the next pipelined one) stays buffered.
 * ------------------------------------------------------------------------ */

struct http_conn {
	int fd;
	char *buf; /* received, not yet consumed */
	size_t len, cap;
	int64_t timeout_ms; /* for one whole response; 10 s by default */
	bool eof;	    /* the server closed (read returned 0) */
};

struct http_header {
	char *name, *value; /* NUL-terminated, inside http_resp.head */
};

#define HTTP_MAX_HEADERS 128

struct http_resp {
	int minor, status;
	char *reason;
	char *head; /* a copy of the head, cut into the strings above */
	size_t head_len;
	struct http_header hdr[HTTP_MAX_HEADERS];
	size_t nhdr;
	char *body; /* decoded; NUL-terminated for convenience */
	size_t body_len;
	bool chunked;	  /* the body came with Transfer-Encoding: chunked */
	size_t nchunks;	  /* how many chunks it came in */
	bool until_close; /* the body was delimited by the connection's end */
};

enum { HTTP_HEAD_ONLY = 1 }; /* a response to HEAD: no body follows */

static char http_error[512]; /* why the last http_* call failed */

#define http_fail(...)                                                         \
	(snprintf(http_error, sizeof(http_error), __VA_ARGS__),                \
	 fprintf(stderr, "http: %s\n", http_error), -EPROTO)

/* Up to 100 bytes of p[0, n) printable on one line (CR, LF and other
 * controls escaped), in a static buffer. */
static inline const char *http_snippet(const char *p, size_t n)
{
	/* 100 escapes of 4 bytes, "..." and the NUL: any larger, and gcc's
	 * -Wformat-truncation flags the http_fail messages that quote it. */
	static char out[100 * 4 + 3 + 1];
	size_t k = 0;
	for (size_t i = 0; i < n && i < 100; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch == '\r' || ch == '\n')
			k += (size_t)snprintf(out + k, sizeof(out) - k, "\\%c",
					      ch == '\r' ? 'r' : 'n');
		else if (ch < 0x20 || ch >= 0x7f)
			k += (size_t)snprintf(out + k, sizeof(out) - k,
					      "\\x%02x", ch);
		else
			out[k++] = (char)ch;
	}
	if (n > 100)
		k += (size_t)snprintf(out + k, sizeof(out) - k, "...");
	out[k] = '\0';
	return out;
}

/* Opens a connection to 127.0.0.1:port. 0 or -errno. */
static inline int http_open(struct http_conn *c, uint16_t port)
{
	memset(c, 0, sizeof(*c));
	c->timeout_ms = 10000;
	c->fd = tcp_connect(port);
	return c->fd < 0 ? c->fd : 0;
}

static inline void http_close(struct http_conn *c)
{
	socket_close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

static inline int http_send(struct http_conn *c, const void *p, size_t n)
{
	return send_all(c->fd, p, n);
}

static inline int http_send_str(struct http_conn *c, const char *s)
{
	return send_all(c->fd, s, strlen(s));
}

/* Receives more into c->buf before `deadline` (now_ms clock). Bytes, 0 at
 * EOF, or -errno. */
static inline ssize_t http_fill(struct http_conn *c, int64_t deadline)
{
	if (c->cap - c->len < 65536) {
		size_t cap = c->cap ? c->cap * 2 : 131072;
		char *b = realloc(c->buf, cap);
		if (!b)
			return -ENOMEM;
		c->buf = b;
		c->cap = cap;
	}
	int64_t left = deadline - now_ms();
	ssize_t r = recv_timeout(c->fd, c->buf + c->len, c->cap - c->len - 1,
				 left > 0 ? left : 0);
	if (r > 0)
		c->len += (size_t)r;
	if (r == 0)
		c->eof = true;
	return r;
}

/* Makes c->buf hold at least `want` bytes. 0, or an error. */
static inline int http_need(struct http_conn *c, size_t want, int64_t deadline)
{
	while (c->len < want) {
		ssize_t r = http_fill(c, deadline);
		if (r == 0)
			return http_fail("connection closed after %zu of %zu "
					 "bytes",
					 c->len, want);
		if (r < 0)
			return http_fail("receiving (%zu of %zu bytes): %s",
					 c->len, want, strerror((int)-r));
	}
	return 0;
}

/* Offset of the CRLF ending the line that starts at `off`. A bare LF is an
 * error (a strict reader, so the tests notice a server that sends one). */
static inline long http_line_end(struct http_conn *c, size_t off,
				 int64_t deadline)
{
	size_t from = off;
	for (;;) {
		for (size_t i = from; i < c->len; i++) {
			if (c->buf[i] != '\n')
				continue;
			if (i == off || c->buf[i - 1] != '\r')
				return http_fail("bare LF in a response line");
			return (long)(i - 1);
		}
		from = c->len;
		if (c->len - off > 65536)
			return http_fail("response line over 64 KiB");
		int rc = http_need(c, c->len + 1, deadline);
		if (rc)
			return rc;
	}
}

static inline int http_body_append(struct http_resp *r, size_t *cap,
				   const char *p, size_t n)
{
	if (r->body_len + n + 1 > *cap) {
		size_t ncap = *cap ? *cap : 4096;
		while (ncap < r->body_len + n + 1)
			ncap *= 2;
		char *b = realloc(r->body, ncap);
		if (!b)
			return -ENOMEM;
		r->body = b;
		*cap = ncap;
	}
	memcpy(r->body + r->body_len, p, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return 0;
}

static inline bool http_is_tchar(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= 'A' && ch <= 'Z') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Splits the head (CRLF lines, already checked for bare LF) in place. */
static inline int http_parse_head(struct http_resp *r)
{
	char *p = r->head, *end = r->head + r->head_len - 2;
	char *eol = strstr(p, "\r\n");
	if (eol - p < 12 || memcmp(p, "HTTP/1.", 7) ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ' || p[9] < '1' ||
	    p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' ||
	    p[11] > '9' || (eol - p > 12 && p[12] != ' '))
		return http_fail("bad status line: %s",
				 http_snippet(p, (size_t)(eol - p)));
	r->minor = p[7] - '0';
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	*eol = '\0';
	r->reason = eol - p > 12 ? p + 13 : eol;
	p = eol + 2;
	while (p < end) {
		eol = strstr(p, "\r\n");
		char *colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p)
			return http_fail("bad header line: %.*s",
					 (int)(eol - p), p);
		for (char *q = p; q < colon; q++)
			if (!http_is_tchar((unsigned char)*q))
				return http_fail("bad header name: %.*s",
						 (int)(colon - p), p);
		if (r->nhdr == HTTP_MAX_HEADERS)
			return http_fail("more than %d header fields",
					 HTTP_MAX_HEADERS);
		char *v = colon + 1, *ve = eol;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (char *q = v; q < ve; q++)
			if ((unsigned char)*q < 0x20 && *q != '\t')
				return http_fail("control byte in header "
						 "value");
		*colon = '\0';
		*ve = '\0';
		r->hdr[r->nhdr].name = p;
		r->hdr[r->nhdr].value = v;
		r->nhdr++;
		p = eol + 2;
	}
	return 0;
}

/* The value of the first header `name` (any case), or NULL. */
static inline const char *http_header(const struct http_resp *r,
				      const char *name)
{
	for (size_t i = 0; i < r->nhdr; i++)
		if (!strcasecmp(r->hdr[i].name, name))
			return r->hdr[i].value;
	return NULL;
}

static inline int http_header_count(const struct http_resp *r, const char *name)
{
	int n = 0;
	for (size_t i = 0; i < r->nhdr; i++)
		n += !strcasecmp(r->hdr[i].name, name);
	return n;
}

/* Whether the comma-separated list `list` holds `token` (any case). */
static inline bool list_has_token(const char *list, const char *token)
{
	size_t tn = strlen(token);
	const char *p = list;
	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *te = e;
		while (te > p && (te[-1] == ' ' || te[-1] == '\t'))
			te--;
		if ((size_t)(te - p) == tn && !strncasecmp(p, token, tn))
			return true;
		p = e;
	}
	return false;
}

/* Whether any header `name` lists `token`. */
static inline bool http_header_has_token(const struct http_resp *r,
					 const char *name, const char *token)
{
	for (size_t i = 0; i < r->nhdr; i++)
		if (!strcasecmp(r->hdr[i].name, name) &&
		    list_has_token(r->hdr[i].value, token))
			return true;
	return false;
}

/* Whether Content-Type value `ct` is media type `type` (parameters such as
 * charset ignored, any case). */
static inline bool media_type_is(const char *ct, const char *type)
{
	if (!ct)
		return false;
	size_t n = strlen(type);
	if (strncasecmp(ct, type, n))
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

static inline void http_resp_free(struct http_resp *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Reads a chunked body (RFC 9112 7.1) from c->buf at *pos. */
static inline int http_read_chunked(struct http_conn *c, struct http_resp *r,
				    size_t *pos, int64_t deadline)
{
	size_t cap = 0;
	for (;;) {
		long eol = http_line_end(c, *pos, deadline);
		if (eol < 0)
			return (int)eol;
		const char *s = c->buf + *pos, *e = c->buf + eol;
		uint64_t size = 0;
		int digits = 0;
		for (; s < e && isxdigit((unsigned char)*s); s++, digits++) {
			if (size >> 40)
				return http_fail("chunk size overflows");
			int d = *s <= '9'   ? *s - '0'
				: *s <= 'F' ? *s - 'A' + 10
					    : *s - 'a' + 10;
			size = size * 16 + (uint64_t)d;
		}
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		if (!digits || (s < e && *s != ';'))
			return http_fail("bad chunk size line: %.*s",
					 (int)(e - c->buf - *pos),
					 c->buf + *pos);
		*pos = (size_t)eol + 2;
		if (size == 0)
			break;
		int rc = http_need(c, *pos + size + 2, deadline);
		if (rc)
			return rc;
		if (c->buf[*pos + size] != '\r' ||
		    c->buf[*pos + size + 1] != '\n')
			return http_fail("chunk data not followed by CRLF");
		rc = http_body_append(r, &cap, c->buf + *pos, size);
		if (rc)
			return rc;
		r->nchunks++;
		*pos += size + 2;
	}
	/* Trailer section: fields until an empty line. */
	for (;;) {
		long eol = http_line_end(c, *pos, deadline);
		if (eol < 0)
			return (int)eol;
		bool empty = (size_t)eol == *pos;
		*pos = (size_t)eol + 2;
		if (empty)
			break;
	}
	if (!r->body)
		return http_body_append(r, &cap, "", 0);
	return 0;
}

/* Reads one response (an interim 1xx one too: the caller reads on) from
 * c. Framing per RFC 9112 6.3: no body for HEAD_ONLY, 1xx, 204 and 304;
 * else chunked if Transfer-Encoding says so (with Content-Length too: an
 * error); else Content-Length; else until the server closes. 0, or an error
 * (the reason in http_error, printed). r is zeroed first; free it with
 * http_resp_free either way. */
static inline int http_read(struct http_conn *c, struct http_resp *r, int flags)
{
	memset(r, 0, sizeof(*r));
	int64_t deadline = now_ms() + c->timeout_ms;
	size_t end = 0;
	for (;;) {
		char *p =
		    c->len >= 4 ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
		if (p) {
			end = (size_t)(p - c->buf) + 4;
			break;
		}
		if (c->len > 65536)
			return http_fail("response head over 64 KiB");
		if (c->len >= 2 && memmem(c->buf, c->len, "\n\n", 2))
			return http_fail("bare LF in a response head");
		ssize_t n = http_fill(c, deadline);
		if (n == 0)
			return c->len ? http_fail("closed inside a response "
						  "head (%zu bytes)",
						  c->len)
				      : http_fail("closed, no response");
		if (n < 0)
			return http_fail("receiving a response head: %s",
					 strerror((int)-n));
	}
	for (size_t i = 0; i < end; i++)
		if ((c->buf[i] == '\n' && (i == 0 || c->buf[i - 1] != '\r')) ||
		    (c->buf[i] == '\r' && c->buf[i + 1] != '\n') ||
		    c->buf[i] == '\0')
			return http_fail("bare CR/LF or NUL in the head");
	r->head = malloc(end + 1);
	if (!r->head)
		return -ENOMEM;
	memcpy(r->head, c->buf, end);
	r->head[end] = '\0';
	r->head_len = end;
	int rc = http_parse_head(r);
	if (rc)
		return rc;

	size_t pos = end, cap = 0;
	const char *te = http_header(r, "Transfer-Encoding");
	const char *cl = http_header(r, "Content-Length");
	bool bodyless = (flags & HTTP_HEAD_ONLY) || r->status < 200 ||
			r->status == 204 || r->status == 304;
	if (r->status < 200 && (te || cl))
		return http_fail("framing headers on a %d response", r->status);
	if (te && cl)
		return http_fail("both Content-Length and Transfer-Encoding");
	if (http_header_count(r, "Content-Length") > 1 ||
	    http_header_count(r, "Transfer-Encoding") > 1)
		return http_fail("repeated framing header");
	if (cl) {
		for (const char *q = cl; *q; q++)
			if (*q < '0' || *q > '9')
				return http_fail("bad Content-Length: %s", cl);
		if (!*cl || strlen(cl) > 12)
			return http_fail("bad Content-Length: %s", cl);
	}
	if (bodyless) {
		rc = http_body_append(r, &cap, "", 0);
	} else if (te) {
		if (strcasecmp(te, "chunked"))
			return http_fail("unexpected Transfer-Encoding: %s",
					 te);
		r->chunked = true;
		rc = http_read_chunked(c, r, &pos, deadline);
	} else if (cl) {
		size_t n = (size_t)strtoull(cl, NULL, 10);
		rc = http_need(c, pos + n, deadline);
		if (!rc)
			rc = http_body_append(r, &cap, c->buf + pos, n);
		pos += n;
	} else {
		r->until_close = true;
		ssize_t n;
		while ((n = http_fill(c, deadline)) > 0)
			;
		if (n < 0)
			return http_fail("reading a body until close: %s",
					 strerror((int)-n));
		rc = http_body_append(r, &cap, c->buf + pos, c->len - pos);
		pos = c->len;
	}
	if (rc)
		return rc;
	memmove(c->buf, c->buf + pos, c->len - pos);
	c->len -= pos;
	return 0;
}

/* Reads a final response, skipping interim (1xx) ones. */
static inline int http_read_final(struct http_conn *c, struct http_resp *r,
				  int flags)
{
	for (;;) {
		int rc = http_read(c, r, flags);
		if (rc || r->status >= 200)
			return rc;
		http_resp_free(r);
	}
}

/* Sends `req` and reads the final response. */
static inline int http_exchange(struct http_conn *c, const char *req,
				struct http_resp *r)
{
	int rc = http_send_str(c, req);
	if (rc)
		return http_fail("sending: %s", strerror(-rc));
	return http_read_final(c, r, 0);
}

/* Whether the server closes the connection within ms, sending nothing more
 * first: 0 if it did (EOF, or a reset), else an error. */
static inline int http_expect_closed(struct http_conn *c, int64_t ms)
{
	if (c->len)
		return http_fail("%zu unexpected bytes after the response: "
				 "%s",
				 c->len, http_snippet(c->buf, c->len));
	if (c->eof)
		return 0;
	char b[256];
	ssize_t r = recv_timeout(c->fd, b, sizeof(b), ms);
	if (r == 0 || r == -ECONNRESET) {
		c->eof = true;
		return 0;
	}
	if (r > 0)
		return http_fail("%zd unexpected bytes instead of a close: "
				 "%s",
				 r, http_snippet(b, (size_t)r));
	return http_fail("connection still open after %lld ms (%s)",
			 (long long)ms, strerror((int)-r));
}

/* Whether the connection stays open and silent for ms: 0 if so. */
static inline int http_expect_open(struct http_conn *c, int64_t ms)
{
	if (c->len)
		return http_fail("%zu unexpected bytes buffered: %s", c->len,
				 http_snippet(c->buf, c->len));
	if (c->eof)
		return http_fail("the server closed the connection");
	if (!wait_readable(c->fd, ms))
		return 0;
	char b[256];
	ssize_t r = recv(c->fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
	if (r == 0 || (r < 0 && errno == ECONNRESET))
		return http_fail("the server closed the connection");
	if (r > 0)
		return http_fail("%zd unexpected bytes: %s", r,
				 http_snippet(b, (size_t)r));
	return 0;
}

/* ------------------------------------------------------------------------
 * Child processes (curl): argv, no shell; stdout captured.
 * ------------------------------------------------------------------------ */

/* Runs argv (argv[0] looked up in PATH) with stdin from /dev/null, stdout
 * captured into *out (malloc'd, NUL-terminated, *len bytes) and stderr
 * inherited; kills it after timeout_ms. Returns its wait status, or -errno
 * if it could not be started. */
static inline int run_capture(const char *const argv[], char **out, size_t *len,
			      int64_t timeout_ms)
{
	int fds[2];
	*out = NULL;
	*len = 0;
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		close(fds[0]);
		close(fds[1]);
		return -err;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int in = open("/dev/null", O_RDONLY);
		dup2(in, STDIN_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	size_t cap = 65536;
	char *buf = malloc(cap);
	int64_t end = now_ms() + timeout_ms;
	bool killed = false;
	for (;;) {
		if (!wait_readable(fds[0], end - now_ms())) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		if (*len + 4096 > cap) {
			char *b = realloc(buf, cap *= 2);
			if (!b)
				break;
			buf = b;
		}
		ssize_t r = read(fds[0], buf + *len, cap - *len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		*len += (size_t)r;
	}
	close(fds[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (killed)
		fprintf(stderr, "%s: killed after %lld ms\n", argv[0],
			(long long)timeout_ms);
	buf[*len] = '\0';
	*out = buf;
	return status;
}

/* Whether curl can be run here. */
static inline bool curl_available(void)
{
	static int known = -1;
	if (known < 0) {
		const char *argv[] = {"curl", "--version", NULL};
		char *out;
		size_t len;
		int st = run_capture(argv, &out, &len, 10000);
		known = st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
			len > 4 && !memcmp(out, "curl", 4);
		free(out);
	}
	return known;
}

struct curl_result {
	int exit;   /* curl's exit status (0 = transfer done) */
	int status; /* HTTP status, 0 if none */
	char content_type[256];
	char *body; /* NUL-terminated; free with curl_result_free */
	size_t len;
};

#define CURL_MARK "\n@@ringlet-test@@"

/* Runs curl -sS with `args` (URL included; NULL-terminated), capturing the
 * body it writes to stdout; status and Content-Type come from --write-out
 * after a marker. 0 if curl ran and reported a status, else -1. */
static inline int curl_run(const char *const args[], struct curl_result *r)
{
	const char *argv[64];
	int n = 0;
	argv[n++] = "curl";
	argv[n++] = "-sS";
	argv[n++] = "--max-time";
	argv[n++] = "30";
	argv[n++] = "-w";
	argv[n++] = CURL_MARK "%{http_code} %{content_type}";
	for (int i = 0; args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	memset(r, 0, sizeof(*r));
	int st = run_capture(argv, &r->body, &r->len, 40000);
	if (st < 0)
		return -1;
	r->exit = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	size_t ml = sizeof(CURL_MARK) - 1;
	for (size_t i = r->len >= ml ? r->len - ml + 1 : 0; i-- > 0;) {
		if (memcmp(r->body + i, CURL_MARK, ml))
			continue;
		const char *w = r->body + i + ml;
		r->status = atoi(w);
		const char *sp = strchr(w, ' ');
		snprintf(r->content_type, sizeof(r->content_type), "%s",
			 sp ? sp + 1 : "");
		r->len = i;
		r->body[i] = '\0';
		return 0;
	}
	return -1;
}

static inline void curl_result_free(struct curl_result *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

#endif /* RG_TESTS_HTTP_CLIENT_H */
