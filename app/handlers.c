/* handlers.c: the benchmark workloads: TechEmpower's /plaintext and /json,
 * HttpArena's /baseline11, /pipeline and /upload (/json/{count} is
 * json_items.c). Every answer is computed per request; none allocates from
 * the heap. */
#include "app.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define BASELINE_MAX_BODY 1024 /* an integer, maybe with whitespace */
#define UPLOAD_PIECE (16 * 1024)

void app_plaintext(struct rg_request *req, void *data)
{
	(void)data;
	static const char body[] = "Hello, World!";
	rg_respond(req, 200, "text/plain", body, sizeof(body) - 1);
}

/* A JSON writer over a caller's buffer, just big enough for TechEmpower's
 * rule that the message object is serialised per request. */
struct json_writer {
	char *p, *end;
	int overflow;
};

static void jw_raw(struct json_writer *w, const char *s, size_t n)
{
	if (n > (size_t)(w->end - w->p)) {
		w->overflow = 1;
		return;
	}
	memcpy(w->p, s, n);
	w->p += n;
}

/* A string value with the escapes RFC 8259 section 7 requires. */
static void jw_string(struct json_writer *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	jw_raw(w, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			jw_raw(w, esc, 2);
		} else if (c < 0x20) {
			char esc[6] = {'\\', 'u',	  '0',
				       '0',  hex[c >> 4], hex[c & 15]};
			jw_raw(w, esc, 6);
		} else {
			jw_raw(w, s, 1);
		}
	}
	jw_raw(w, "\"", 1);
}

void app_json_hello(struct rg_request *req, void *data)
{
	(void)data;
	char buf[64];
	struct json_writer w = {buf, buf + sizeof(buf), 0};
	jw_raw(&w, "{", 1);
	jw_string(&w, "message");
	jw_raw(&w, ":", 1);
	jw_string(&w, "Hello, World!");
	jw_raw(&w, "}", 1);
	if (w.overflow) {
		app_reply(req, 500, "response too large\n");
		return;
	}
	rg_respond(req, 200, "application/json", buf, (size_t)(w.p - buf));
}

/* a + b from the query; 0 or the status already answered. */
static int baseline_query(struct rg_request *req, int64_t *sum)
{
	int64_t a, b;
	int ra = app_query_i64(req, "a", INT64_MIN, INT64_MAX, &a);
	int rb = app_query_i64(req, "b", INT64_MIN, INT64_MAX, &b);
	if (ra == -ENOMEM || rb == -ENOMEM) {
		app_reply(req, 503, "out of memory\n");
		return 503;
	}
	if (ra != 1 || rb != 1) {
		app_reply(req, 400, "a and b must be integers\n");
		return 400;
	}
	if (__builtin_add_overflow(a, b, sum)) {
		app_reply(req, 400, "a + b overflows\n");
		return 400;
	}
	return 0;
}

void app_baseline_get(struct rg_request *req, void *data)
{
	(void)data;
	int64_t sum;
	if (baseline_query(req, &sum) == 0)
		app_reply_i64(req, sum);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void app_baseline_post(struct rg_request *req, void *data)
{
	(void)data;
	int64_t sum, n;
	if (baseline_query(req, &sum) != 0)
		return;
	struct rg_str body;
	int rc = rg_body(req, BASELINE_MAX_BODY, &body);
	if (rc < 0) {
		app_reply_body_error(req, rc);
		return;
	}
	/* Clients commonly end the number with a newline. */
	while (body.len && is_space(body.ptr[0])) {
		body.ptr++;
		body.len--;
	}
	while (body.len && is_space(body.ptr[body.len - 1]))
		body.len--;
	if (app_parse_i64(body, &n) < 0) {
		app_reply(req, 400, "the body must be an integer\n");
		return;
	}
	if (__builtin_add_overflow(sum, n, &sum)) {
		app_reply(req, 400, "a + b + body overflows\n");
		return;
	}
	app_reply_i64(req, sum);
}

void app_pipeline(struct rg_request *req, void *data)
{
	(void)data;
	rg_respond(req, 200, "text/plain", "ok", 2);
}

/* POST /upload: counts the body's bytes as they arrive, 16 KiB at a time;
 * the body is never held whole. */
void app_upload(struct rg_request *req, void *data)
{
	(void)data;
	char piece[UPLOAD_PIECE];
	int64_t total = 0;
	for (;;) {
		long n = rg_body_read(req, piece, sizeof(piece));
		if (n == 0)
			break;
		if (n < 0) {
			app_reply_body_error(req, n);
			return;
		}
		total += n;
	}
	app_reply_i64(req, total);
}
