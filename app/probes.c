/* probes.c: endpoints that look inside the server rather than serve a
 * workload: GET /sleep and GET /upstream, which suspend their
 * handler so black-box tests can show the worker keeps serving; and
 * GET /stream, a response of unknown length (chunked on HTTP/1.1). */
#include "app.h"

#include <errno.h>
#include <string.h>

#define SLEEP_MAX_MS 60000
#define UPSTREAM_CONNECT_MS 1000
#define UPSTREAM_IO_MS 5000
#define STREAM_MAX (64 * 1024 * 1024)
#define STREAM_PIECE_MAX (1024 * 1024)

/* GET /sleep?ms=N: "slept N" after N milliseconds. */
void app_sleep(struct rg_request *req, void *data)
{
	(void)data;
	int64_t ms;
	int rc = app_query_i64(req, "ms", 0, SLEEP_MAX_MS, &ms);
	if (rc == -ENOMEM) {
		app_reply(req, 503, "out of memory\n");
		return;
	}
	if (rc != 1) {
		app_reply(req, 400, "ms must be an integer in [0, 60000]\n");
		return;
	}
	rc = rg_sleep((uint32_t)ms);
	if (rc < 0) {
		app_reply(req, 500, "rg_sleep failed\n");
		return;
	}
	char buf[6 + APP_I64_MAX_LEN] = "slept ";
	size_t len = 6 + app_format_i64(buf + 6, ms);
	rg_respond(req, 200, "text/plain", buf, len);
}

/* Sends `request` to 127.0.0.1:port and counts the reply's bytes until the
 * upstream closes. The count, or -errno. */
static long fetch(uint16_t port, const char *request, size_t request_len)
{
	int sock = rg_tcp_connect("127.0.0.1", port, UPSTREAM_CONNECT_MS);
	if (sock < 0)
		return sock;
	long total = 0;
	long n = rg_sock_write(sock, request, request_len, UPSTREAM_IO_MS);
	if (n < 0) {
		total = n;
		goto out;
	}
	char buf[4096];
	while ((n = rg_sock_read(sock, buf, sizeof(buf), UPSTREAM_IO_MS)) > 0)
		total += n;
	if (n < 0)
		total = n;
out:
	rg_sock_close(sock);
	return total;
}

/* GET /upstream?port=P[&ms=N]: fetches "/" (or "/sleep?ms=N", so the
 * upstream can be another ringlet, or this one) from 127.0.0.1:P over
 * HTTP/1.0 and answers the number of bytes received; 502 if that fails. */
void app_upstream(struct rg_request *req, void *data)
{
	(void)data;
	int64_t port, ms;
	int rp = app_query_i64(req, "port", 1, 65535, &port);
	int rm = app_query_i64(req, "ms", 0, SLEEP_MAX_MS, &ms);
	if (rp == -ENOMEM || rm == -ENOMEM) {
		app_reply(req, 503, "out of memory\n");
		return;
	}
	if (rp != 1 || rm < 0) {
		app_reply(req, 400,
			  "port must be in [1, 65535], ms in [0, 60000]\n");
		return;
	}
	char request[64] = "GET / HTTP/1.0\r\n\r\n";
	size_t len = strlen(request);
	if (rm == 1) {
		static const char head[] = "GET /sleep?ms=";
		static const char tail[] = " HTTP/1.0\r\n\r\n";
		len = sizeof(head) - 1;
		memcpy(request, head, len);
		len += app_format_i64(request + len, ms);
		memcpy(request + len, tail, sizeof(tail) - 1);
		len += sizeof(tail) - 1;
	}
	long n = fetch((uint16_t)port, request, len);
	if (n < 0) {
		app_reply(req, 502, "upstream failed\n");
		return;
	}
	app_reply_i64(req, n);
}

/* GET /stream?n=N&piece=P: N bytes ('a' + offset % 26) written P at a time,
 * the length not announced. */
void app_stream(struct rg_request *req, void *data)
{
	(void)data;
	int64_t n = 0, piece = 4096;
	int rn = app_query_i64(req, "n", 0, STREAM_MAX, &n);
	int rp = app_query_i64(req, "piece", 1, STREAM_PIECE_MAX, &piece);
	if (rn == -ENOMEM || rp == -ENOMEM) {
		app_reply(req, 503, "out of memory\n");
		return;
	}
	if (rn < 0 || rp < 0) {
		app_reply(req, 400, "n in [0, 64 MiB], piece in [1, 1 MiB]\n");
		return;
	}
	char *buf = rg_arena_alloc(rg_request_arena(req), (size_t)piece);
	if (!buf) {
		app_reply(req, 503, "out of memory\n");
		return;
	}
	if (rg_stream_begin(req, 200, "text/plain", RG_LENGTH_UNKNOWN) < 0)
		return;
	for (int64_t off = 0; off < n;) {
		int64_t k = n - off < piece ? n - off : piece;
		for (int64_t i = 0; i < k; i++)
			buf[i] = (char)('a' + (off + i) % 26);
		if (rg_stream_write(req, buf, (size_t)k) < 0)
			return;
		off += k;
	}
	rg_stream_end(req);
}
