/* conn.c: a connection's life: accept, parsing heads, starting handlers,
 * batched output, timeouts, lingering close, release (its input queue is
 * inq.c). */
#include "core/server.h"
#include "core/access_log.h"
#include "core/stats.h"
#include "http/forwarded.h"
#include "http/proxy.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void conn_process(struct rg__conn *c);
static void conn_timer(struct rg__conn *c);

static uint64_t now_ms(const struct rg__conn *c)
{
	return c->w->timers.now;
}

static const struct rg_server_config *cfg(const struct rg__conn *c)
{
	return &c->w->server->config;
}

static const char *date_now(struct rg__worker *w)
{
	return rg__date_get(&w->date, w->wall);
}

/* ------------------------------------------------------------------------
 * Output
 * ------------------------------------------------------------------------ */

static void on_send(struct rg__io_op *op, int res);

static void conn_send(struct rg__conn *c)
{
	if (c->tx.kind != RG__IO_NONE || !c->out_len ||
	    (c->flags & RG__C_CLOSING))
		return;
	c->out_sent = c->out_len;
	if (rg__io_send(c->w->io, &c->tx, c->fd, c->out, c->out_len, on_send) <
	    0) {
		c->out_sent = 0;
		rg__conn_close(c);
		return;
	}
	uint32_t t = cfg(c)->write_timeout_ms; /* 0: none */
	c->tx_deadline = t ? now_ms(c) + t : 0;
	if (t)
		conn_timer(c);
}

void rg__conn_dirty(struct rg__conn *c)
{
	if (c->flags & RG__C_DIRTY)
		return;
	c->flags |= RG__C_DIRTY;
	c->dirty_next = c->w->dirty;
	c->w->dirty = c;
}

static bool out_ready(struct rg__conn *c)
{
	if (!c->out &&
	    !(c->out = rg_slab_alloc(c->w->slab, RG__OUT_SIZE, NULL)))
		return false;
	return true;
}

int rg__conn_reserve(struct rg__conn *c, size_t n)
{
	if (n > RG__OUT_SIZE)
		return -E2BIG;
	for (;;) {
		if (c->flags & RG__C_CLOSING)
			return -ECONNRESET;
		if (!out_ready(c))
			return -ENOMEM;
		if (RG__OUT_SIZE - c->out_len >= n)
			return 0;
		if (!c->req)
			return -ENOSPC;
		if (!c->req->coro_ok)
			return rg__request_no_wait(c->req);
		conn_send(c);
		int err = rg__request_suspend(c->req, RG__WAIT_OUTPUT);
		if (err < 0)
			return err;
	}
}

struct rg__wbuf rg__conn_wbuf(struct rg__conn *c)
{
	return (struct rg__wbuf){c->out, c->out_len, RG__OUT_SIZE};
}

void rg__conn_wrote(struct rg__conn *c, size_t new_len)
{
	c->out_len = (uint32_t)new_len;
	rg__conn_dirty(c);
}

int rg__conn_write(struct rg__conn *c, const void *data, size_t n)
{
	const char *p = data;
	while (n) {
		int err = rg__conn_reserve(c, 1);
		if (err < 0)
			return err;
		size_t k = RG__OUT_SIZE - c->out_len;
		if (k > n)
			k = n;
		memcpy(c->out + c->out_len, p, k);
		rg__conn_wrote(c, c->out_len + k);
		p += k;
		n -= k;
	}
	return 0;
}

void rg__conn_flush_all(struct rg__worker *w)
{
	while (w->dirty) {
		struct rg__conn *c = w->dirty;
		w->dirty = c->dirty_next;
		c->flags &= (uint16_t)~RG__C_DIRTY;
		if (c->flags & RG__C_CLOSING)
			rg__conn_release(c);
		else
			conn_send(c);
	}
}

/* ------------------------------------------------------------------------
 * Requests on the connection
 * ------------------------------------------------------------------------ */

static struct rg_request *request_new(struct rg__conn *c)
{
	struct rg__worker *w = c->w;
	struct rg_arena *a = rg_arena_create(w->blocks, &w->stats.arena);
	if (a)
		rg_arena_set_spill(a, w->server->config.large_alloc_spill);
	if (!a) {
		rg__log_no_memory(w, "a request arena: 503");
		return NULL;
	}
	struct rg_request *r = rg_arena_alloc(a, sizeof(*r));
	if (!r) {
		rg_arena_destroy(a);
		return NULL;
	}
	memset(r, 0, RG__REQUEST_ZEROED);
	r->conn = c;
	r->arena = a;
	r->resp_left = -1;
	r->start_ns = w->now_ns;
	rg__parser_init(&r->parser, &w->limits);
	c->req = r;
	c->deadline = now_ms(c) + cfg(c)->header_timeout_ms;
	if (!cfg(c)->header_timeout_ms)
		c->deadline = 0;
	return r;
}

/* The access log's entry for a request that ends: its response was
 * written, or it was rejected with a status, or the client went away after
 * its head was parsed (499). One that got no status nor a complete head is
 * not logged. */
static void log_request(struct rg__conn *c, struct rg_request *r)
{
	bool rejected = r->raw_line.ptr != NULL;
	bool parsed = !rejected && r->pin.buf != NULL;
	if (!rejected && !parsed)
		return;
	unsigned status = r->status;
	if (!status) {
		if (rejected)
			return; /* not even the rejection could be written */
		/* No response head went out: the client left first (nginx's
		 * 499), or none could be written. */
		status = c->flags & RG__C_CLOSING ? 499 : 500;
	}
	struct rg__addr client = rg__request_client(r);
	const struct rg__alog_end e = {
	    .peer_af = client.af,
	    .peer = client.addr,
	    .wall = c->w->wall,
	    .head = parsed ? &r->head : NULL,
	    .raw_line = r->raw_line,
	    .status = status,
	    .bytes = r->body_sent,
	};
	rg__alog_request(c->w->alog, &e);
}

static void request_end(struct rg__conn *c)
{
	struct rg_request *r = c->req;
	if (c->w->alog)
		log_request(c, r);
	c->req = NULL;
	c->flags |= RG__C_SERVED;
	if (r->pin_owned)
		rg__buf_release(c->w, &r->pin);
	rg_arena_destroy(r->arena);
	if (!(c->flags & RG__C_LAST)) {
		c->deadline = cfg(c)->keepalive_timeout_ms
				  ? now_ms(c) + cfg(c)->keepalive_timeout_ms
				  : 0;
	}
}

/* The server's own answer to a request it did not hand to a handler
 * (404, 405, 501, and 200 to OPTIONS *) or refused (parser errors, 503). */
static void respond_self(struct rg__conn *c, int status, const char *allow,
			 bool close)
{
	struct rg__worker *w = c->w;
	if (!out_ready(c)) {
		rg__conn_close(c);
		return;
	}
	struct rg__wbuf b = rg__conn_wbuf(c);
	/* The body both writers send: "<status> <reason>\n"; none for 200
	 * (RFC 9110 9.3.7: Content-Length: 0). */
	char body[64];
	int n = status == 200 ? 0
			      : snprintf(body, sizeof(body), "%d %s\n", status,
					 rg_status_reason(status));
	bool with_body = true;
	int res;
	if (close) {
		res = rg__response_error(&b, status, NULL, date_now(w));
		c->flags |= RG__C_LAST;
		w->stats.errors++;
	} else {
		struct rg_header h = {{"Allow", 5},
				      {allow, allow ? strlen(allow) : 0}};
		struct rg__response_head head =
		    rg__request_head(c->req, status, n ? "text/plain" : NULL);
		head.headers = &h;
		head.nheaders = allow ? 1 : 0;
		with_body = !head.is_head;
		res =
		    rg__response_simple(&b, &head, n ? body : NULL, (size_t)n);
		if (res > 0 && (res & RG__RESP_CLOSE))
			c->flags |= RG__C_LAST;
	}
	if (res < 0) {
		rg__conn_close(c);
		return;
	}
	rg__conn_wrote(c, b.len);
	if (c->req) { /* for the access log */
		c->req->status = (uint16_t)status;
		c->req->body_sent = with_body ? (uint64_t)n : 0;
	}
}

/* With trusted_proxies: the client a trusted peer's forwarding header
 * names becomes the request's (r->client). Per request, not per
 * connection: a proxy multiplexes clients over its connections. */
static void forwarded_client(struct rg__conn *c, struct rg_request *r)
{
	const struct rg_server_config *sc = cfg(c);
	if (!sc->trusted_proxies.n)
		return;
	rg__conn_peer(c);
	if (!rg__cidrs_match(&sc->trusted_proxies, c->peer_af, c->peer))
		return;
	rg__forwarded_client(r->head.headers, r->head.nheaders,
			     sc->forwarded_header, &sc->trusted_proxies,
			     &r->client);
}

static void dispatch(struct rg__conn *c, struct rg_request *r)
{
	struct rg__worker *w = c->w;
	struct rg__request *h = &r->head;
	c->deadline = 0;
	if (!h->keep_alive || w->stopping || w->draining)
		c->flags |= RG__C_LAST;
	forwarded_client(c, r);
	if (h->body == RG__BODY_LENGTH && h->content_length)
		r->body_left = h->content_length;
	else if (h->body == RG__BODY_CHUNKED)
		rg__chunked_init(&r->chunked, w->limits.max_body);
	else
		r->body_done = true;

	if (h->dropped)
		rg__log_limited(w, RG__LOG_EV_UNDERSCORE, RG_LOG_DEBUG,
				"dropped %u header field(s) with '_' in the "
				"name (first: %.*s); underscores_in_headers "
				"keeps them",
				h->dropped, (int)h->dropped_name.len,
				h->dropped_name.ptr);
	int st = rg__router_match(&w->server->router, h->method, h->method_id,
				  h->path, &r->route);
	if (st != 200 || !r->route.handler) {
		respond_self(c, st, r->route.allow[0] ? r->route.allow : NULL,
			     false);
		r->resp = RG__RESP_DONE;
		return;
	}
	/* Inline unless it would wait for its body straight away. */
	if (r->route.run_inline &&
	    (r->body_done ||
	     (h->body == RG__BODY_LENGTH && c->in->bytes >= r->body_left))) {
		r->coro_ok = false;
		rg__request_inline(r);
		return;
	}
	r->coro_ok = true;
	if (rg__request_start(r) < 0) {
		r->coro_ok = false;
		rg__log_no_memory(w, "a coroutine stack: 503");
		respond_self(c, 503, NULL, true);
		r->resp = RG__RESP_DONE;
	}
}

/* Before a head the parser rejected is dropped: its first line as
 * received, copied into the request's arena, for the access log. */
static void keep_rejected_line(struct rg__conn *c)
{
	struct rg_request *r = c->req;
	if (!r || r->raw_line.ptr)
		return;
	/* The rejected head starts at the front of the input queue. */
	const char *p = "";
	size_t n = 0;
	if (c->in && c->in->n) {
		const struct rg__seg *s = &c->in->seg[0];
		p = s->buf + s->off;
		n = s->len - s->off;
	}
	size_t i = 0;
	/* One byte more than the field shows, so that it shows as cut. */
	while (i < n && i <= RG__ALOG_RAW_MAX && p[i] != '\r' && p[i] != '\n')
		i++;
	char *copy = i ? rg_arena_memdup(r->arena, p, i) : NULL;
	r->raw_line = copy ? (struct rg_str){copy, i} : (struct rg_str){"", 0};
}

/* A parser rejection, or 408: the error response, then close. */
static void reject(struct rg__conn *c, int status)
{
	if (c->w->alog)
		keep_rejected_line(c);
	rg__inq_free(c);
	respond_self(c, status, NULL, true);
	if (c->req)
		request_end(c);
}

/* Once the last response is out: half-close and drop input for a while,
 * so the client reads the response rather than a reset. */
static void conn_maybe_linger(struct rg__conn *c)
{
	if (!(c->flags & RG__C_LAST) ||
	    (c->flags & (RG__C_LINGER | RG__C_CLOSING)) || c->req ||
	    c->out_len || c->tx.kind != RG__IO_NONE)
		return;
	rg__inq_free(c);
	if (c->flags & RG__C_EOF) {
		rg__conn_close(c);
		return;
	}
	shutdown(c->fd, SHUT_WR);
	c->flags |= RG__C_LINGER;
	c->deadline = now_ms(c) + RG__LINGER_MS;
}

static void on_recv(struct rg__io_op *op, char *buf, int res);

static void conn_resume_recv(struct rg__conn *c)
{
	if (!(c->flags & RG__C_PAUSED) || c->rx.kind != RG__IO_NONE ||
	    (c->flags & (RG__C_CLOSING | RG__C_EOF)))
		return;
	if (c->in && c->in->bytes >= cfg(c)->connection_buffer_size / 2 &&
	    !(c->flags & RG__C_LINGER))
		return;
	c->flags &= (uint16_t)~RG__C_PAUSED;
	if (rg__io_recv(c->w->io, &c->rx, c->fd, on_recv) < 0)
		rg__conn_close(c);
}

/* The PROXY header at the start of the input (proxy_protocol): 1 once
 * read, the client it names now the connection's peer; 0 to wait for more
 * bytes; -1 when it is not one (or is longer than a head may be), the
 * connection closed without a word: whoever sent it is not the balancer,
 * or not speaking the protocol, and nothing it reads would be understood.
 * Arriving within header_timeout, like a head. */
static int proxy_header(struct rg__conn *c)
{
	for (;;) {
		struct rg__seg *s = &c->in->seg[0];
		struct rg__addr pc;
		int n = rg__proxy_parse(s->buf + s->off, s->len - s->off,
					cfg(c)->header_buffer_size, &pc);
		if (n > 0) {
			s->off += (uint32_t)n;
			c->in->bytes -= (uint64_t)n;
			c->flags &= (uint16_t)~RG__C_PROXY;
			if (pc.af) {
				c->peer_af = pc.af;
				c->peer_port = pc.port;
				memcpy(c->peer, pc.addr, sizeof(c->peer));
				c->flags |= RG__C_PEER;
			} else if (c->w->alog) {
				rg__conn_peer(c); /* LOCAL, UNKNOWN: its own */
			}
			rg__inq_trim(c);
			return 1;
		}
		if (n == 0 && c->in->n == 1 && s->len < s->cap)
			return 0; /* the rest will land in this buffer */
		if (n == 0 && (n = rg__inq_gather(c)) == 0)
			continue;
		if (n == -ENOBUFS)
			rg__log_no_memory(c->w, "a PROXY header: closed");
		else
			rg__log_limited(c->w, RG__LOG_EV_PROXY, RG_LOG_WARN,
					"connection without a valid PROXY "
					"header (%s): closed",
					n == -EMSGSIZE ? "too long"
						       : "not the protocol");
		c->w->stats.proxy_refused++;
		rg__conn_close(c);
		return -1;
	}
}

static void conn_process(struct rg__conn *c)
{
	while (!(c->flags & (RG__C_CLOSING | RG__C_LINGER | RG__C_HANDLER))) {
		struct rg_request *r = c->req;
		if (r && r->resp == RG__RESP_DONE) {
			/* The last response (a body read that failed, say): the
			 * rest of the body is never read, the linger drops it.
			 */
			int d = c->flags & RG__C_LAST ? 1 : rg__body_drain(r);
			if (d == 0) {
				/* body_timeout_ms 0: no deadline */
				uint32_t t = cfg(c)->body_timeout_ms;
				c->deadline = t ? now_ms(c) + t : 0;
				break;
			}
			if (d < 0)
				c->flags |= RG__C_LAST;
			rg__stats_request(&c->w->stats,
					  rg__clock_ns() - r->start_ns,
					  rg_arena_used(r->arena));
			request_end(c);
			if (c->flags & RG__C_LAST)
				break;
			continue;
		}
		if (!r && (c->flags & RG__C_LAST)) {
			rg__inq_free(c); /* nothing after the last request */
			break;
		}
		if (c->out_len >= RG__OUT_SIZE / 2)
			break; /* on_send continues */
		if (!c->in || !c->in->bytes)
			break;
		if (c->flags & RG__C_PROXY) {
			if (proxy_header(c) <= 0)
				break;
			continue;
		}
		if (!r && !(r = request_new(c))) {
			reject(c, 503);
			break;
		}
		int n = rg__parse_request(
		    &r->parser, r->arena, c->in->seg[0].buf + c->in->seg[0].off,
		    c->in->seg[0].len - c->in->seg[0].off, &r->head);
		if (n == 0) {
			struct rg__seg *s = &c->in->seg[0];
			if (c->in->n == 1 && s->len < s->cap)
				break; /* the rest will land in this buffer */
			int err = rg__inq_gather(c);
			if (err < 0) {
				if (err != -EMSGSIZE)
					rg__log_no_memory(c->w, "a head: 503");
				reject(c, err == -EMSGSIZE ? 431 : 503);
				break;
			}
			continue;
		}
		if (n < 0) {
			reject(c, rg__http_error_status(-n));
			break;
		}
		r->pin = c->in->seg[0];
		c->in->seg[0].off += (uint32_t)n;
		c->in->bytes -= (uint64_t)n;
		dispatch(c, r);
	}
	if (c->flags & RG__C_CLOSING)
		return;
	rg__inq_trim(c);
	if ((c->flags & RG__C_EOF) && !c->req && !c->out_len &&
	    c->tx.kind == RG__IO_NONE) {
		rg__conn_close(c);
		return;
	}
	if ((c->flags & RG__C_EOF) && c->req && !(c->flags & RG__C_HANDLER) &&
	    c->req->resp == RG__RESP_NONE) {
		rg__conn_close(c); /* a head cut short */
		return;
	}
	conn_maybe_linger(c);
	conn_resume_recv(c);
	conn_timer(c);
}

/* Continues a suspended handler, then whatever the connection can do. */
void rg__request_wake(struct rg_request *r, int res)
{
	struct rg__conn *c = r->conn;
	r->wait_res = res;
	rg__request_resume(r);
	if (c->flags & RG__C_CLOSING)
		rg__conn_dirty(c); /* to be released */
	else
		conn_process(c);
}

/* ------------------------------------------------------------------------
 * io callbacks
 * ------------------------------------------------------------------------ */

/* New input, or its end: to the handler waiting for body bytes, else to
 * the parser. */
static void conn_input(struct rg__conn *c)
{
	if ((c->flags & RG__C_HANDLER) && c->req->wait == RG__WAIT_BODY)
		rg__request_wake(c->req, 0);
	else
		conn_process(c);
}

static void on_recv(struct rg__io_op *op, char *buf, int res)
{
	struct rg__conn *c = RG__CONTAINER(op, struct rg__conn, rx);
	if (res <= 0) {
		if (c->flags & RG__C_CLOSING) {
			rg__conn_dirty(c); /* to be released */
			return;
		}
		if (res == -ECANCELED && (c->flags & RG__C_PAUSED)) {
			conn_resume_recv(c);
			return;
		}
		c->flags |= RG__C_EOF;
		if (c->flags & RG__C_LINGER) {
			rg__conn_close(c);
			return;
		}
		conn_input(c);
		return;
	}
	if (c->flags & (RG__C_CLOSING | RG__C_LINGER))
		return; /* dropped */
	if (rg__inq_push(c, buf, (uint32_t)res) < 0) {
		rg__log_no_memory(c->w, "an input buffer: closed");
		rg__conn_close(c);
		return;
	}
	conn_input(c);
	rg__inq_keep_lent(c, buf);
	if (c->in && c->in->bytes >= cfg(c)->connection_buffer_size &&
	    !(c->flags & (RG__C_PAUSED | RG__C_CLOSING))) {
		c->flags |= RG__C_PAUSED;
		rg__io_cancel(c->w->io, &c->rx);
	}
}

static void on_send(struct rg__io_op *op, int res)
{
	struct rg__conn *c = RG__CONTAINER(op, struct rg__conn, tx);
	bool waiting =
	    (c->flags & RG__C_HANDLER) && c->req->wait == RG__WAIT_OUTPUT;
	if (res < 0 || (c->flags & RG__C_CLOSING)) {
		rg__conn_close(c);
		if (waiting)
			rg__request_wake(c->req, -ECONNRESET);
		rg__conn_dirty(c); /* to be released */
		return;
	}
	c->out_len -= c->out_sent;
	memmove(c->out, c->out + c->out_sent, c->out_len);
	c->out_sent = 0;
	c->tx_deadline = 0;
	if (c->out_len) {
		conn_send(c);
	} else if (!(c->flags & RG__C_HANDLER) ||
		   c->req->resp == RG__RESP_NONE) {
		rg_slab_free(c->w->slab, c->out, RG__OUT_SIZE);
		c->out = NULL;
	}
	if (waiting)
		rg__request_wake(c->req, 0);
	else
		conn_process(c);
}

/* The socket can take more (rg__conn_wait_writable), or the wait ended:
 * a timeout or a close cancelled it. */
static void on_writable(struct rg__io_op *op, int res)
{
	struct rg__conn *c = RG__CONTAINER(op, struct rg__conn, tx);
	c->tx_deadline = 0;
	if (res < 0 || (c->flags & RG__C_CLOSING)) {
		rg__conn_close(c);
		res = (c->flags & RG__C_TIMEDOUT) ? -ETIMEDOUT : -ECONNRESET;
	} else {
		res = 0;
	}
	if ((c->flags & RG__C_HANDLER) && c->req->wait == RG__WAIT_WRITABLE)
		rg__request_wake(c->req, res);
	else
		rg__conn_dirty(c); /* to be released, or flushed */
}

int rg__conn_wait_writable(struct rg__conn *c)
{
	if (c->flags & RG__C_CLOSING)
		return -ECONNRESET;
	if (!c->req || c->tx.kind != RG__IO_NONE)
		return -EINVAL;
	if (!c->req->coro_ok)
		return rg__request_no_wait(c->req);
	if (rg__io_poll(c->w->io, &c->tx, c->fd, POLLOUT, on_writable) < 0) {
		rg__conn_close(c);
		return -ECONNRESET;
	}
	/* The send timeout applies: the wait is on c->tx, which
	 * conn_deadline() watches like a send in flight. */
	uint32_t t = cfg(c)->write_timeout_ms;
	c->tx_deadline = t ? now_ms(c) + t : 0;
	if (t)
		conn_timer(c);
	return rg__request_suspend(c->req, RG__WAIT_WRITABLE);
}

/* ------------------------------------------------------------------------
 * Timeouts: one timer per connection, keyed lazily: a later deadline is
 * only stored, and the timer moves when it fires early.
 * ------------------------------------------------------------------------ */

static uint64_t conn_deadline(const struct rg__conn *c)
{
	uint64_t d = c->deadline;
	if (c->tx.kind != RG__IO_NONE && c->tx_deadline &&
	    (!d || c->tx_deadline < d))
		d = c->tx_deadline;
	return d;
}

static void conn_timer(struct rg__conn *c)
{
	struct rg__timers *ts = &c->w->timers;
	uint64_t d = conn_deadline(c);
	if (!d) {
		rg__timer_del(ts, &c->timer);
		return;
	}
	if (rg__timer_armed(&c->timer) && c->timer.at <= d)
		return;
	rg__timer_del(ts, &c->timer);
	rg__timer_add(ts, &c->timer, d);
}

static void on_timer(struct rg__timer *t)
{
	struct rg__conn *c = RG__CONTAINER(t, struct rg__conn, timer);
	uint64_t now = c->w->timers.now;
	uint64_t d = conn_deadline(c);
	if (!d)
		return;
	if (d > now) {
		rg__timer_add(&c->w->timers, t, d);
		return;
	}
	c->w->stats.timeouts++;
	c->flags |= RG__C_TIMEDOUT;
	struct rg_request *r = c->req;
	if (c->tx.kind != RG__IO_NONE && c->tx_deadline &&
	    c->tx_deadline <= now) {
		rg__conn_close(c); /* the client stopped reading */
	} else if ((c->flags & RG__C_HANDLER) && r->wait == RG__WAIT_BODY) {
		c->deadline = 0;
		c->flags |= RG__C_LAST;
		rg__request_wake(r, -ETIMEDOUT);
	} else if (r && r->resp == RG__RESP_NONE &&
		   !(c->flags & RG__C_HANDLER) && c->in && c->in->bytes) {
		c->deadline = 0;
		reject(c, 408); /* a head that never completed */
		conn_process(c);
	} else {
		rg__conn_close(c); /* idle, lingering, or a body never sent */
	}
}

void rg__conn_peer(struct rg__conn *c)
{
	if (c->flags & RG__C_PEER)
		return;
	c->flags |= RG__C_PEER;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getpeername(c->fd, (struct sockaddr *)&ss, &len) < 0)
		return; /* not known: logged as "-" */
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
		memcpy(c->peer, &in->sin_addr, 4);
		c->peer_port = ntohs(in->sin_port);
		c->peer_af = AF_INET;
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)&ss;
		memcpy(c->peer, &in6->sin6_addr, 16);
		c->peer_port = ntohs(in6->sin6_port);
		c->peer_af = AF_INET6;
	} else if (ss.ss_family == AF_UNIX) {
		c->peer_af = AF_UNIX;
	}
}

/* ------------------------------------------------------------------------
 * Accept, close, release
 * ------------------------------------------------------------------------ */

void rg__conn_accept(struct rg__worker *w, int fd)
{
	struct rg__conn *c = rg_pool_get(w->conns);
	if (!c) {
		/* Pool exhausted: tell the client and go on serving the
		 * others. The socket is fresh: the answer fits its buffer. */
		w->stats.connections_refused++;
		rg__log_limited(w, RG__LOG_EV_CONN_POOL, RG_LOG_WARN,
				"connection pool exhausted (max_connections "
				"%u): 503 and close",
				w->server->config.max_connections);
		char buf[256];
		struct rg__wbuf b = {buf, 0, sizeof(buf)};
		if (rg__response_error(&b, 503, "busy", date_now(w)) == 0) {
			ssize_t n =
			    send(fd, buf, b.len, MSG_DONTWAIT | MSG_NOSIGNAL);
			(void)n;
		}
		shutdown(fd, SHUT_WR);
		close(fd);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->w = w;
	c->fd = fd;
	c->timer.fire = on_timer;
	if (w->server->config.proxy_protocol)
		c->flags |= RG__C_PROXY;
	else if (w->alog)
		rg__conn_peer(c);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (rg__io_recv(w->io, &c->rx, fd, on_recv) < 0) {
		close(fd);
		rg_pool_put(w->conns, c);
		return;
	}
	w->stats.connections_accepted++;
	w->stats.connections_active++;
	c->next = w->live;
	if (w->live)
		w->live->prev = c;
	w->live = c;
	uint32_t t = w->server->config.header_timeout_ms;
	c->deadline = t ? w->timers.now + t : 0;
	conn_timer(c);
}

void rg__conn_close(struct rg__conn *c)
{
	if (c->flags & RG__C_CLOSING)
		return;
	c->flags |= RG__C_CLOSING;
	rg__inq_free(c);
	rg__timer_del(&c->w->timers, &c->timer);
	rg__io_close(c->w->io, c->fd);
	rg__conn_dirty(c); /* released at the end of the loop iteration */
}

/* Frees a closing connection once nothing refers to it any more: no io
 * callback to come, no handler suspended. Called only from the flush list,
 * between loop iterations, so no caller holds the connection. */
void rg__conn_release(struct rg__conn *c)
{
	if (!(c->flags & RG__C_CLOSING) ||
	    (c->flags & (RG__C_HANDLER | RG__C_DIRTY)) ||
	    c->rx.kind != RG__IO_NONE || c->tx.kind != RG__IO_NONE)
		return;
	struct rg__worker *w = c->w;
	if (c->req)
		request_end(c);
	rg__inq_free(c);
	if (c->out)
		rg_slab_free(w->slab, c->out, RG__OUT_SIZE);
	rg__timer_del(&w->timers, &c->timer);
	w->stats.connections_active--;
	if (c->prev)
		c->prev->next = c->next;
	else
		w->live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	rg_pool_put(w->conns, c);
}

void rg__conn_close_idle(struct rg__worker *w)
{
	for (struct rg__conn *c = w->live, *next; c; c = next) {
		next = c->next;
		/* A new connection is not idle: its client is sending its
		 * first request, which is served with Connection: close
		 * (dispatch), or a reload would drop the clients the old
		 * worker had just accepted. */
		if (!(c->flags & RG__C_SERVED) && !c->req)
			continue;
		c->flags |= RG__C_LAST;
		if (c->flags & RG__C_LINGER)
			rg__conn_close(c);
		else if (!c->req && !c->out_len && c->tx.kind == RG__IO_NONE)
			rg__conn_close(c);
	}
}
