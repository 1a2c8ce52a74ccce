/* request.c: what a handler sees of its request (accessors) and how it
 * answers (rg_respond, rg_stream_*), and the coroutine that runs it. */
#include "core/server.h"
#include "http/pct.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

/* The request whose handler runs now (set around the runner's start and
 * resume), or NULL on the loop. */
static __thread struct rg_request *running;

struct rg_request *rg__request_current(void)
{
	return running;
}

int rg__request_start(struct rg_request *req)
{
	const struct rg_runner *ru = &req->conn->w->runner;
	struct rg_request *outer = running;
	running = req;
	int err = ru->start(ru->ctx, rg__request_run, req);
	running = outer;
	return err;
}

void rg__request_inline(struct rg_request *req)
{
	struct rg_request *outer = running;
	running = req;
	rg__request_run(req);
	running = outer;
}

int rg__request_no_wait(struct rg_request *req)
{
	if (!req->wait_refused) {
		req->wait_refused = true;
		struct rg_str m = req->head.method, p = req->head.path;
		rg__log_limited(req->conn->w, RG__LOG_EV_INLINE, RG_LOG_ERROR,
				"%.*s %.*s: its handler, routed inline "
				"(rg_route_inline), would have had to wait: "
				"%s",
				(int)m.len, m.ptr, (int)p.len, p.ptr,
				req->resp == RG__RESP_NONE
				    ? "answered 500 unless it responds"
				    : "its response cut short");
	}
	return -EWOULDBLOCK;
}

void rg__request_resume(struct rg_request *req)
{
	const struct rg_runner *ru = &req->conn->w->runner;
	struct rg_request *outer = running;
	running = req;
	ru->resume(ru->ctx, req->task);
	running = outer;
}

int rg__request_suspend(struct rg_request *req, enum rg__wait why)
{
	struct rg__conn *c = req->conn;
	const struct rg_runner *ru = &c->w->runner;
	if (!req->coro_ok)
		return rg__request_no_wait(req);
	req->wait = (uint8_t)why;
	req->wait_res = 0;
	req->task = ru->self(ru->ctx);
	c->flags |= RG__C_HANDLER;
	ru->suspend(ru->ctx);
	c->flags &= (uint16_t)~RG__C_HANDLER;
	req->task = NULL;
	req->wait = RG__WAIT_NONE;
	return req->wait_res;
}

void rg__request_run(void *arg)
{
	struct rg_request *req = arg;
	req->route.handler(req, req->route.data);
	rg__request_finish(req);
}

int rg__request_finish(struct rg_request *req)
{
	if (req->resp == RG__RESP_NONE && req->wait_refused) {
		req->resp_nheaders = 0; /* the handler's, for its answer */
		return rg_respond(req, 500, NULL, NULL, 0);
	}
	if (req->resp == RG__RESP_NONE)
		return rg_respond(req, 204, NULL, NULL, 0);
	if (req->resp == RG__RESP_STREAM)
		return rg_stream_end(req);
	return 0;
}

/* ------------------------------------------------------------------------
 * Accessors
 * ------------------------------------------------------------------------ */

struct rg_str rg_method(const struct rg_request *req)
{
	return req->head.method;
}

struct rg_str rg_path(const struct rg_request *req)
{
	return req->head.path;
}

struct rg_str rg_query(const struct rg_request *req)
{
	return req->head.query;
}

struct rg_str rg_target(const struct rg_request *req)
{
	return req->head.target;
}

int rg_version_minor(const struct rg_request *req)
{
	return req->head.version_minor;
}

int rg_path_decoded(struct rg_request *req, struct rg_str *out)
{
	struct rg_str p = req->head.path;
	if (!memchr(p.ptr, '%', p.len)) {
		*out = p;
		return 0;
	}
	char *d = rg_arena_alloc(req->arena, p.len + 1);
	if (!d)
		return -ENOMEM;
	long n = rg__pct_decode(p.ptr, p.len, d, RG__PCT_STRICT);
	if (n < 0)
		return (int)n;
	*out = (struct rg_str){d, (size_t)n};
	return 0;
}

struct rg__addr rg__request_client(struct rg_request *req)
{
	if (req->client.af)
		return req->client;
	struct rg__conn *c = req->conn;
	rg__conn_peer(c);
	struct rg__addr a = {.af = c->peer_af, .port = c->peer_port};
	memcpy(a.addr, c->peer, sizeof(a.addr));
	return a;
}

int rg_remote_addr(struct rg_request *req, char *buf, size_t cap,
		   uint16_t *port)
{
	struct rg__addr a = rg__request_client(req);
	if (a.af != AF_INET && a.af != AF_INET6)
		return a.af ? -EAFNOSUPPORT : -ENOTCONN;
	if (!inet_ntop(a.af, a.addr, buf, (socklen_t)cap))
		return -errno;
	*port = a.port;
	return 0;
}

struct rg_str rg_param(const struct rg_request *req, const char *name)
{
	return rg__route_param(&req->route, name);
}

const struct rg_str *rg_header(const struct rg_request *req, const char *name)
{
	const struct rg_header *h =
	    rg__request_header(&req->head, name, strlen(name));
	return h ? &h->value : NULL;
}

const struct rg_header *rg_headers(const struct rg_request *req, size_t *count)
{
	*count = req->head.nheaders;
	return req->head.headers;
}

struct rg_arena *rg_request_arena(struct rg_request *req)
{
	return req->arena;
}

/* Percent-decodes a form-encoded s[0, n) into the arena. */
static char *form_decode(struct rg_arena *a, const char *s, size_t n,
			 size_t *len)
{
	char *out = rg_arena_alloc(a, n + 1);
	if (out)
		*len = (size_t)rg__pct_decode(s, n, out, RG__PCT_FORM);
	return out;
}

/* Whether the form-encoded key s[0, n) decodes to name[0, nlen): compared
 * in place unless it holds an escape. 1, 0 or -ENOMEM. */
static int key_is(struct rg_arena *a, const char *s, size_t n, const char *name,
		  size_t nlen)
{
	if (!memchr(s, '%', n) && !memchr(s, '+', n))
		return n == nlen && memcmp(s, name, nlen) == 0;
	size_t klen;
	char *key = form_decode(a, s, n, &klen);
	if (!key)
		return -ENOMEM;
	return klen == nlen && memcmp(key, name, nlen) == 0;
}

int rg_query_param(struct rg_request *req, const char *name,
		   struct rg_str *value)
{
	const char *q = req->head.query.ptr, *end = q + req->head.query.len;
	size_t nlen = strlen(name);
	while (q && q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(q, '=', (size_t)(stop - q));
		const char *kend = eq ? eq : stop;
		int match =
		    key_is(req->arena, q, (size_t)(kend - q), name, nlen);
		if (match < 0)
			return match;
		if (match) {
			const char *v = eq ? eq + 1 : stop;
			size_t vlen;
			char *val = form_decode(req->arena, v,
						(size_t)(stop - v), &vlen);
			if (!val)
				return -ENOMEM;
			*value = (struct rg_str){val, vlen};
			return 1;
		}
		q = stop + 1;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Responses
 * ------------------------------------------------------------------------ */

static bool field_ok(const char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n')
			return false;
	return true;
}

int rg_header_add(struct rg_request *req, const char *name, const char *value)
{
	if (!*name || !field_ok(name) || !field_ok(value) || strchr(name, ':'))
		return -EINVAL;
	if (req->resp_nheaders == req->resp_cap) {
		uint32_t cap = req->resp_cap ? req->resp_cap * 2 : 8;
		struct rg_header *h = rg_arena_realloc(
		    req->arena, req->resp_headers, req->resp_cap * sizeof(*h),
		    cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		req->resp_headers = h;
		req->resp_cap = cap;
	}
	size_t nl = strlen(name), vl = strlen(value);
	char *n = rg_arena_memdup(req->arena, name, nl);
	char *v = rg_arena_memdup(req->arena, value, vl);
	if (!n || !v)
		return -ENOMEM;
	req->resp_headers[req->resp_nheaders++] =
	    (struct rg_header){{n, nl}, {v, vl}};
	return 0;
}

int rg_reason_set(struct rg_request *req, const char *reason)
{
	size_t n = strlen(reason);
	if (!n || n > 256)
		return -EINVAL;
	/* RFC 9112 4: HTAB, SP, VCHAR, obs-text. */
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)reason[i];
		if (ch < 0x20 ? ch != '\t' : ch == 0x7f)
			return -EINVAL;
	}
	char *r = rg_arena_memdup(req->arena, reason, n);
	if (!r)
		return -ENOMEM;
	req->resp_reason = (struct rg_str){r, n};
	return 0;
}

struct rg__response_head rg__request_head(struct rg_request *req, int status,
					  const char *type)
{
	struct rg__conn *c = req->conn;
	const struct rg__request *q = &req->head;
	/* A refusal (503: memory_limit, most often) before the body was read
	 * closes the connection: draining the body would hold the request,
	 * its arena and head buffer, for as long as the body lasts, while
	 * the lingering close drops it holding nothing. */
	bool refused = status == 503 && !req->body_done;
	return (struct rg__response_head){
	    .status = status,
	    .version_minor = q->version_minor,
	    .keep_alive = q->keep_alive && !(c->flags & RG__C_LAST) &&
			  !c->w->stopping && !refused,
	    .is_head = q->method_id == RG_METHOD_HEAD,
	    .content_type = {type, type ? strlen(type) : 0},
	    .headers = req->resp_headers,
	    .nheaders = req->resp_nheaders,
	    .date = rg__date_get(&c->w->date, c->w->wall),
	    .reason = req->resp_reason,
	};
}

/* Writes the head; returns the RG__RESP_* bits or -errno. */
static int write_head(struct rg_request *req, struct rg__response_head *h)
{
	struct rg__conn *c = req->conn;
	size_t need = rg__response_head_size(h);
	if (need == SIZE_MAX)
		return -EINVAL;
	int err = rg__conn_reserve(c, need);
	if (err < 0)
		return err;
	struct rg__wbuf b = rg__conn_wbuf(c);
	int res = rg__response_head(&b, h);
	if (res < 0)
		return res;
	rg__conn_wrote(c, b.len);
	if (res & RG__RESP_CLOSE)
		c->flags |= RG__C_LAST;
	req->status = (uint16_t)h->status;
	return res;
}

static int resp_failed(struct rg_request *req, int err)
{
	/* An inline handler's response that did not fit, before anything
	 * was written: the handler may answer otherwise (or gets a 500). */
	if (err == -EWOULDBLOCK && req->resp == RG__RESP_NONE)
		return err;
	req->resp = RG__RESP_DONE;
	req->conn->flags |= RG__C_LAST;
	return err;
}

/* Whether the body of a response with head `h` is sent (not for HEAD,
 * 1xx, 204 or 304: RFC 9110 6.4.1): what the access log counts. */
static bool has_body(const struct rg__response_head *h)
{
	return !h->is_head && h->status >= 200 && h->status != 204 &&
	       h->status != 304;
}

int rg_respond(struct rg_request *req, int status, const char *type,
	       const void *body, size_t n)
{
	if (req->resp != RG__RESP_NONE)
		return -EALREADY;
	if (status < 200 || status > 599)
		return -EINVAL;
	struct rg__conn *c = req->conn;
	struct rg__response_head h = rg__request_head(req, status, type);
	h.framing = RG__FRAMING_LENGTH;
	h.content_length = n;
	/* The common case: the response fits in what the output buffer has
	 * left, planned and written in one pass. Else, if it fits in an empty
	 * one, that is waited for (what is in it sent), then written. */
	int res = rg__conn_reserve(c, 0);
	if (res < 0)
		return resp_failed(req, res);
	struct rg__wbuf b = rg__conn_wbuf(c);
	res = rg__response_simple(&b, &h, body, n);
	if (res == -ENOSPC) {
		size_t head = rg__response_head_size(&h);
		if (head != SIZE_MAX && head + n <= RG__OUT_SIZE) {
			int err = rg__conn_reserve(c, head + n);
			if (err < 0)
				return resp_failed(req, err);
			b = rg__conn_wbuf(c);
			res = rg__response_simple(&b, &h, body, n);
		}
	}
	if (res != -ENOSPC) {
		if (res < 0)
			return resp_failed(req, res);
		rg__conn_wrote(c, b.len);
		if (res & RG__RESP_CLOSE)
			c->flags |= RG__C_LAST;
		req->resp = RG__RESP_DONE;
		req->status = (uint16_t)status;
		req->body_sent = has_body(&h) ? n : 0;
		return 0;
	}
	/* Larger than the room left: written piece by piece, suspending,
	 * which an inline handler cannot (so it writes nothing). */
	if (!req->coro_ok)
		return rg__request_no_wait(req);
	res = write_head(req, &h);
	if (res < 0)
		return resp_failed(req, res);
	req->resp = RG__RESP_DONE;
	if ((res & RG__RESP_BODY_MASK) == RG__RESP_NO_BODY)
		return 0;
	int err = rg__conn_write(c, body, n);
	if (err < 0)
		return resp_failed(req, err);
	req->body_sent += n;
	return 0;
}

int rg_stream_begin(struct rg_request *req, int status, const char *type,
		    int64_t length)
{
	if (req->resp != RG__RESP_NONE)
		return -EALREADY;
	if (status < 200 || status > 599)
		return -EINVAL;
	struct rg__response_head h = rg__request_head(req, status, type);
	h.framing = length >= 0 ? RG__FRAMING_LENGTH : RG__FRAMING_CHUNKED;
	h.content_length = length >= 0 ? (uint64_t)length : 0;
	int res = write_head(req, &h);
	if (res < 0)
		return resp_failed(req, res);
	req->resp = RG__RESP_STREAM;
	req->resp_body = (uint8_t)(res & RG__RESP_BODY_MASK);
	req->resp_left = req->resp_body == RG__RESP_RAW_BODY ? length : -1;
	return 0;
}

int rg_stream_write(struct rg_request *req, const void *data, size_t n)
{
	if (req->resp != RG__RESP_STREAM)
		return -EINVAL;
	if (req->resp_left >= 0 && n > (uint64_t)req->resp_left)
		return -EINVAL;
	if (!n || req->resp_body == RG__RESP_NO_BODY)
		return 0;
	struct rg__conn *c = req->conn;
	int err;
	if (req->resp_body == RG__RESP_CHUNKED_BODY) {
		/* Chunks of at most half the output buffer, each written whole
		 * (size line, data, CRLF: at most 20 bytes of framing). */
		const char *p = data;
		while (n) {
			size_t k = n < RG__OUT_SIZE / 2 ? n : RG__OUT_SIZE / 2;
			if ((err = rg__conn_reserve(c, k + 20)) < 0)
				return resp_failed(req, err);
			struct rg__wbuf b = rg__conn_wbuf(c);
			size_t before = b.len;
			if ((err = rg__chunk_write(&b, p, k)) < 0)
				return resp_failed(req, err);
			rg__conn_wrote(c, b.len);
			/* Chunk framing counts, as in nginx's figure. */
			req->body_sent += b.len - before;
			p += k;
			n -= k;
		}
		return 0;
	}
	if ((err = rg__conn_write(c, data, n)) < 0)
		return resp_failed(req, err);
	req->body_sent += n;
	if (req->resp_left >= 0)
		req->resp_left -= (int64_t)n;
	return 0;
}

void rg_close_connection(struct rg_request *req)
{
	req->conn->flags |= RG__C_LAST;
	if (req->resp == RG__RESP_STREAM)
		req->resp = RG__RESP_DONE; /* no last chunk: cut short */
}

int rg_stream_end(struct rg_request *req)
{
	if (req->resp != RG__RESP_STREAM)
		return -EINVAL;
	req->resp = RG__RESP_DONE;
	if (req->resp_body == RG__RESP_CHUNKED_BODY) {
		struct rg__conn *c = req->conn;
		int err = rg__conn_reserve(c, 5);
		struct rg__wbuf b = rg__conn_wbuf(c);
		size_t before = b.len;
		if (err < 0 || (err = rg__chunk_end(&b)) < 0)
			return resp_failed(req, err);
		rg__conn_wrote(c, b.len);
		req->body_sent += b.len - before;
	} else if (req->resp_left > 0) {
		/* Shorter than announced: only closing tells the client. */
		req->conn->flags |= RG__C_LAST;
	}
	return 0;
}
