/* inq.c: a connection's input queue: the bytes received and not consumed
 * yet, as segments (receive buffers kept from the io layer, or slab buffers
 * where a head spanning receive buffers is gathered). */
#include "core/server.h"

#include <errno.h>
#include <string.h>

void rg__buf_release(struct rg__worker *w, const struct rg__seg *s)
{
	if (s->kind == RG__BUF_KEPT)
		rg__io_buf_free(w->io, s->buf);
	else if (s->kind == RG__BUF_SLAB)
		rg_slab_free(w->slab, s->buf, s->cap);
	/* RG__BUF_LENT goes back when its receive callback returns. */
}

/* A segment leaves the queue: the request whose head is in it takes it
 * over, otherwise it is released. */
static void seg_drop(struct rg__conn *c, const struct rg__seg *s)
{
	struct rg_request *r = c->req;
	if (r && !r->pin_owned && r->pin.buf == s->buf) {
		r->pin = *s;
		r->pin_owned = true;
	} else {
		rg__buf_release(c->w, s);
	}
}

void rg__inq_free(struct rg__conn *c)
{
	struct rg__inq *q = c->in;
	if (!q)
		return;
	for (uint32_t i = 0; i < q->n; i++)
		seg_drop(c, &q->seg[i]);
	rg_slab_free(c->w->slab, q, q->size);
	c->in = NULL;
}

void rg__inq_trim(struct rg__conn *c)
{
	struct rg__inq *q = c->in;
	if (!q)
		return;
	uint32_t i = 0;
	while (i < q->n && q->seg[i].off == q->seg[i].len)
		seg_drop(c, &q->seg[i++]);
	if (i == q->n) {
		q->n = 0;
		rg__inq_free(c);
	} else if (i) {
		memmove(q->seg, q->seg + i, (q->n - i) * sizeof(q->seg[0]));
		q->n -= i;
	}
}

static struct rg__inq *inq_alloc(struct rg__worker *w, size_t want)
{
	size_t size;
	struct rg__inq *q = rg_slab_alloc(w->slab, want, &size);
	if (!q)
		return NULL;
	q->n = 0;
	q->bytes = 0;
	q->size = size;
	q->max = (uint32_t)((size - sizeof(*q)) / sizeof(q->seg[0]));
	return q;
}

/* Appends received bytes: copied into the last segment when they fit
 * there (so a trickling client holds one buffer, not one per byte), else
 * the lent buffer itself becomes a segment. */
int rg__inq_push(struct rg__conn *c, char *buf, uint32_t n)
{
	struct rg__worker *w = c->w;
	struct rg__inq *q = c->in;
	/* The smallest slab class holds a new queue (small_alloc_threshold:
	 * 256 B, nine segments): an idle connection that got a few bytes
	 * costs no more. */
	if (!q && !(q = c->in =
			inq_alloc(w, w->server->config.small_alloc_threshold)))
		return -ENOBUFS;
	if (q->n) {
		struct rg__seg *t = &q->seg[q->n - 1];
		if (t->kind != RG__BUF_LENT && t->cap - t->len >= n) {
			memcpy(t->buf + t->len, buf, n);
			t->len += n;
			q->bytes += n;
			return 0;
		}
	}
	if (q->n == q->max) {
		struct rg__inq *g = inq_alloc(w, q->size * 2);
		if (!g || g->size <= q->size) {
			if (g)
				rg_slab_free(w->slab, g, g->size);
			return -ENOBUFS;
		}
		memcpy(g->seg, q->seg, q->n * sizeof(q->seg[0]));
		g->n = q->n;
		g->bytes = q->bytes;
		rg_slab_free(w->slab, q, q->size);
		q = c->in = g;
	}
	q->seg[q->n++] =
	    (struct rg__seg){.buf = buf,
			     .len = n,
			     .cap = (uint32_t)rg__io_buf_size(w->io),
			     .kind = RG__BUF_LENT};
	q->bytes += n;
	return 0;
}

/* The head at the front spans segments (or fills its buffer): moves it,
 * and whatever follows that fits, into one header buffer. -errno when
 * the head cannot grow any more. */
int rg__inq_gather(struct rg__conn *c)
{
	struct rg__worker *w = c->w;
	struct rg__inq *q = c->in;
	struct rg__seg *s = &q->seg[0];
	size_t have = s->len - s->off, cap;
	char *hb = rg_slab_alloc(w->slab,
				 c->w->server->config.header_buffer_size, &cap);
	if (!hb)
		return -ENOBUFS;
	if (cap <= have) {
		rg_slab_free(w->slab, hb, cap);
		return -EMSGSIZE;
	}
	memcpy(hb, s->buf + s->off, have);
	rg__buf_release(w, s);
	*s = (struct rg__seg){.buf = hb,
			      .len = (uint32_t)have,
			      .cap = (uint32_t)cap,
			      .kind = RG__BUF_SLAB};
	while (q->n > 1 && s->len < s->cap) {
		struct rg__seg *n = &q->seg[1];
		uint32_t k = n->len - n->off;
		if (k > s->cap - s->len)
			k = s->cap - s->len;
		memcpy(s->buf + s->len, n->buf + n->off, k);
		s->len += k;
		n->off += k;
		if (n->off < n->len)
			break;
		rg__buf_release(w, n);
		memmove(q->seg + 1, q->seg + 2, (q->n - 2) * sizeof(q->seg[0]));
		q->n--;
	}
	return 0;
}

/* Inside a receive callback: keeps the lent buffer if anything still
 * points into it. */
void rg__inq_keep_lent(struct rg__conn *c, char *buf)
{
	bool used = false;
	for (uint32_t i = 0; c->in && i < c->in->n; i++) {
		if (c->in->seg[i].kind == RG__BUF_LENT) {
			c->in->seg[i].kind = RG__BUF_KEPT;
			used = true;
		}
	}
	struct rg_request *r = c->req;
	if (r && r->pin_owned && r->pin.kind == RG__BUF_LENT) {
		r->pin.kind = RG__BUF_KEPT;
		used = true;
	}
	if (used)
		rg__io_buf_keep(c->w->io, buf);
}

size_t rg__inq_take(struct rg__conn *c, char *dst, size_t n)
{
	size_t got = 0;
	while (got < n && c->in && c->in->n) {
		struct rg__seg *s = &c->in->seg[0];
		size_t k = s->len - s->off;
		if (k > n - got)
			k = n - got;
		if (dst)
			memcpy(dst + got, s->buf + s->off, k);
		s->off += (uint32_t)k;
		c->in->bytes -= k;
		got += k;
		rg__inq_trim(c);
	}
	return got;
}
