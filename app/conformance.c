/* conformance.c: the endpoints HTTP conformance suites probe: GET, HEAD,
 * OPTIONS and POST on "/", and POST /echo, which shows the request's header
 * fields as the server parsed them. */
#include "app.h"

#include <string.h>

#define ECHO_MAX_BODY (1024 * 1024)

/* GET /, HEAD / (through the GET route) and OPTIONS /. */
void app_root(struct rg_request *req, void *data)
{
	(void)data;
	struct rg_str method = rg_method(req);
	if (method.len == 7 && !memcmp(method.ptr, "OPTIONS", 7) &&
	    rg_header_add(req, "Allow", "GET, HEAD, OPTIONS, POST") < 0) {
		app_reply(req, 503, "out of memory\n");
		return;
	}
	rg_respond(req, 200, "text/plain", "OK", 2);
}

/* POST /: the request body back, with the request's Content-Type. */
void app_root_echo(struct rg_request *req, void *data)
{
	(void)data;
	struct rg_str body;
	int rc = rg_body(req, ECHO_MAX_BODY, &body);
	if (rc < 0) {
		app_reply_body_error(req, rc);
		return;
	}
	const char *type = "application/octet-stream";
	const struct rg_str *ct = rg_header(req, "Content-Type");
	if (ct && ct->len) {
		/* rg_respond takes a C string; the header is a slice. */
		type =
		    rg_arena_strndup(rg_request_arena(req), ct->ptr, ct->len);
		if (!type) {
			app_reply(req, 503, "out of memory\n");
			return;
		}
	}
	rg_respond(req, 200, type, body.ptr, body.len);
}

/* POST /echo: every request header field, one "Name: Value\n" per line. */
void app_echo_headers(struct rg_request *req, void *data)
{
	(void)data;
	size_t n, len = 0;
	const struct rg_header *h = rg_headers(req, &n);
	for (size_t i = 0; i < n; i++)
		len += h[i].name.len + 2 + h[i].value.len + 1;
	if (rg_stream_begin(req, 200, "text/plain", (int64_t)len) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (rg_stream_write(req, h[i].name.ptr, h[i].name.len) < 0 ||
		    rg_stream_write(req, ": ", 2) < 0 ||
		    rg_stream_write(req, h[i].value.ptr, h[i].value.len) < 0 ||
		    rg_stream_write(req, "\n", 1) < 0)
			return;
	rg_stream_end(req);
}
