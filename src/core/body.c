/* body.c: request bodies: read by the handler (rg_body_read, rg_body),
 * de-chunked in place in the input queue, and dropped when the handler
 * leaves some unread. */
#include "core/server.h"

#include <errno.h>
#include <string.h>

static int body_error(struct rg_request *req, int err)
{
	req->conn->flags |= RG__C_LAST; /* the framing is lost */
	return err;
}

long rg__body_take(struct rg_request *req, char *buf, size_t n)
{
	struct rg__conn *c = req->conn;
	size_t got = 0;
	while (got < n && !req->body_done && c->in && c->in->n) {
		struct rg__seg *s = &c->in->seg[0];
		size_t avail = s->len - s->off;
		if (!avail) {
			rg__inq_trim(c);
			continue;
		}
		size_t k = n - got < avail ? n - got : avail;
		if (req->head.body == RG__BODY_LENGTH) {
			if (k > req->body_left)
				k = (size_t)req->body_left;
			if (buf)
				memcpy(buf + got, s->buf + s->off, k);
			got += k;
			req->body_left -= k;
			req->body_done = req->body_left == 0;
		} else {
			/* Decoding at most the room left in `buf` keeps every
			 * decoded byte for this call. */
			size_t dl;
			bool done = false;
			ssize_t used = rg__chunked_decode(
			    &req->chunked, s->buf + s->off, k, &dl, &done);
			if (used < 0)
				return body_error(req,
						  used == -RG__E_BODY_TOO_LARGE
						      ? -EMSGSIZE
						      : -EBADMSG);
			if (buf)
				memcpy(buf + got, s->buf + s->off, dl);
			got += dl;
			k = (size_t)used;
			req->body_done = done;
		}
		s->off += (uint32_t)k;
		c->in->bytes -= k;
	}
	rg__inq_trim(c);
	return (long)got;
}

int rg__body_drain(struct rg_request *req)
{
	if (req->body_done)
		return 1;
	/* The client waits for 100 Continue before sending a body it may
	 * never send: only closing ends the request cleanly. */
	if (req->head.expect_continue && !req->continued)
		return -EPIPE;
	long r = rg__body_take(req, NULL, SIZE_MAX);
	if (r < 0)
		return (int)r;
	if (req->body_done)
		return 1;
	return (req->conn->flags & RG__C_EOF) ? -ECONNRESET : 0;
}

/* 100 Continue, once, and only when the handler is about to wait for a
 * body of which nothing has come: a client that sent it with the head (or
 * began to) is not waiting, and is sent no stray interim response (as
 * nginx does). The parser leaves expect_continue false in HTTP/1.0, which
 * must get no 1xx (RFC 9110 15.2). */
static int send_continue(struct rg_request *req)
{
	struct rg__conn *c = req->conn;
	req->continued = true;
	int err = rg__conn_reserve(c, 32);
	if (err < 0)
		return err;
	struct rg__wbuf b = rg__conn_wbuf(c);
	rg__response_continue(&b);
	rg__conn_wrote(c, b.len);
	return 0;
}

long rg_body_read(struct rg_request *req, void *buf, size_t n)
{
	struct rg__conn *c = req->conn;
	if (req->body_done || !n)
		return 0;
	for (;;) {
		if (c->in && c->in->bytes)
			req->continued = true; /* the client is sending */
		long r = rg__body_take(req, buf, n);
		if (r != 0 || req->body_done)
			return r;
		if (c->flags & (RG__C_EOF | RG__C_CLOSING))
			return body_error(req, -ECONNRESET);
		if (req->head.expect_continue && !req->continued) {
			int err = send_continue(req);
			if (err < 0)
				return body_error(req, err);
		}
		uint32_t t = c->w->server->config.body_timeout_ms;
		c->deadline = t ? c->w->timers.now + t : 0;
		int err = rg__request_suspend(req, RG__WAIT_BODY);
		c->deadline = 0;
		if (err < 0)
			return body_error(req, err);
	}
}

int rg_body(struct rg_request *req, size_t max, struct rg_str *body)
{
	size_t cap = 256, len = 0;
	if (req->head.body == RG__BODY_LENGTH) {
		if (req->head.content_length > max)
			return -EMSGSIZE;
		cap = (size_t)req->head.content_length;
	} else if (req->head.body == RG__BODY_NONE) {
		cap = 0;
	}
	char *p = rg_arena_alloc(req->arena, cap + 1);
	if (!p)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (req->body_done || cap >= max + 1)
				break;
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *q =
			    rg_arena_realloc(req->arena, p, cap + 1, ncap + 1);
			if (!q)
				return -ENOMEM;
			p = q;
			cap = ncap;
		}
		long r = rg_body_read(req, p + len, cap - len);
		if (r < 0)
			return (int)r;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > max)
		return -EMSGSIZE;
	p[len] = '\0';
	*body = (struct rg_str){p, len};
	return 0;
}
