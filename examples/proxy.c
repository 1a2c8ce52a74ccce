/* proxy.c: a reverse proxy for GET in one handler, to show that handlers
 * are plain synchronous C: connect, write, read in a loop. Each call
 * suspends only this request's coroutine; the worker keeps serving others
 * while the upstream thinks.
 *
 *   make build/ringlet build/examples/proxy
 *   build/ringlet --port 9000 &
 *   build/examples/proxy 127.0.0.1 9000 8080
 *   curl localhost:8080/plaintext        ->  Hello, World! (from :9000)
 *
 * It forwards the path and query over HTTP/1.0 (the upstream closes when
 * done), then relays the status, Content-Type and body as they arrive. */
#include <ringlet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TIMEOUT_MS 5000

struct upstream {
	const char *ip;
	uint16_t port;
};

static void reply(struct rg_request *req, int status, const char *msg)
{
	rg_respond(req, status, "text/plain", msg, strlen(msg));
}

/* The value of header `name` in the response head [p, end), or NULL. */
static const char *find_header(const char *p, const char *end, const char *name,
			       size_t *len)
{
	size_t n = strlen(name);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > n && p[n] == ':' &&
		    !strncasecmp(p, name, n)) {
			const char *v = p + n + 1, *e = eol;
			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			while (e > v && (e[-1] == '\r' || e[-1] == ' '))
				e--;
			*len = (size_t)(e - v);
			return v;
		}
		p = eol + 1;
	}
	return NULL;
}

/* Relays one exchange with the upstream on `sock`. Before the response
 * starts, any failure is a 502; after, the body just ends (short). */
static void relay(struct rg_request *req, int sock, const char *request,
		  size_t request_len)
{
	if (rg_sock_write(sock, request, request_len, TIMEOUT_MS) < 0) {
		reply(req, 502, "upstream write failed\n");
		return;
	}
	char buf[16384]; /* the upstream's head must fit */
	size_t len = 0;
	char *body;
	while (!(body = memmem(buf, len, "\r\n\r\n", 4))) {
		long n = len < sizeof(buf)
			     ? rg_sock_read(sock, buf + len, sizeof(buf) - len,
					    TIMEOUT_MS)
			     : -E2BIG;
		if (n <= 0) {
			reply(req, 502, "bad upstream response\n");
			return;
		}
		len += (size_t)n;
	}
	body += 4;

	int status = 0;
	if (len < 12 || memcmp(buf, "HTTP/1.", 7) || buf[8] != ' ' ||
	    sscanf(buf + 9, "%3d", &status) != 1 || status < 100) {
		reply(req, 502, "bad upstream status\n");
		return;
	}
	char type[128] = "application/octet-stream";
	size_t vlen;
	const char *v = find_header(buf, body, "Content-Type", &vlen);
	if (v && vlen < sizeof(type)) {
		memcpy(type, v, vlen);
		type[vlen] = '\0';
	}
	int64_t length = RG_LENGTH_UNKNOWN;
	v = find_header(buf, body, "Content-Length", &vlen);
	if (v && vlen > 0 && vlen < 19 && strspn(v, "0123456789") >= vlen)
		length = strtoll(v, NULL, 10);

	if (rg_stream_begin(req, status, type, length) < 0 ||
	    rg_stream_write(req, body, (size_t)(buf + len - body)) < 0)
		return;
	long n;
	while ((n = rg_sock_read(sock, buf, sizeof(buf), TIMEOUT_MS)) > 0)
		if (rg_stream_write(req, buf, (size_t)n) < 0)
			return;
	rg_stream_end(req);
}

static void forward(struct rg_request *req, void *data)
{
	const struct upstream *up = data;
	struct rg_str path = rg_path(req), query = rg_query(req);
	char request[8192];
	int n = snprintf(request, sizeof(request),
			 "GET %.*s%s%.*s HTTP/1.0\r\nHost: %s:%u\r\n\r\n",
			 (int)path.len, path.ptr, query.len ? "?" : "",
			 (int)query.len, query.ptr, up->ip, (unsigned)up->port);
	if (n < 0 || (size_t)n >= sizeof(request)) {
		reply(req, 414, "URI too long\n");
		return;
	}
	int sock = rg_tcp_connect(up->ip, up->port, TIMEOUT_MS);
	if (sock < 0) {
		reply(req, 502, "upstream unreachable\n");
		return;
	}
	relay(req, sock, request, (size_t)n);
	rg_sock_close(sock);
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s UPSTREAM_IP UPSTREAM_PORT [PORT]\n",
			argv[0]);
		return 2;
	}
	struct upstream up = {argv[1], (uint16_t)atoi(argv[2])};
	struct rg_server_config config;
	rg_server_config_init(&config);
	if (argc == 4)
		config.port = (uint16_t)atoi(argv[3]);
	struct rg_server *server = rg_server_create(&config);
	if (!server || rg_route(server, "GET", "/*", forward, &up) < 0) {
		fprintf(stderr, "proxy: cannot set up the server\n");
		return 1;
	}
	int rc = rg_server_run(server); /* until killed */
	if (rc < 0)
		fprintf(stderr, "proxy: %s\n", strerror(-rc));
	rg_server_destroy(server);
	return rc < 0;
}
