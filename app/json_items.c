/* json_items.c: GET /json/{count}?m=M, the HttpArena JSON workload: the
 * typed dataset serialised per request into the request's arena, with the
 * escapes JSON requires, then sent with its length known. */
#include "app.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* Reads {count} as a non-negative integer, saturating: any count past the
 * dataset's end means "all of it". 0 or -EINVAL. */
static int parse_count(struct rg_str s, size_t *count)
{
	if (s.len == 0)
		return -EINVAL;
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d = (unsigned char)s.ptr[i] - '0';
		if (d > 9)
			return -EINVAL;
		n = n > (SIZE_MAX - d) / 10 ? SIZE_MAX : n * 10 + d;
	}
	*count = n;
	return 0;
}

/* The /json/{count} body, serialised into a chain of arena pieces, so its
 * length is known before the response starts. A piece stays under the
 * arena's heap-spill threshold (a quarter of its block: 2 KiB by default),
 * so a request never calls malloc; only an item larger than a piece (none
 * in the shared dataset) gets a piece of its own size. */
#define BODY_PIECE 1024

struct body_piece {
	struct body_piece *next;
	size_t len;
	char data[];
};

struct body {
	struct rg_arena *arena;
	struct body_piece *first, *last;
	char *p, *end; /* the last piece's free room */
	size_t len;    /* of the pieces before the last */
};

/* At least n free bytes at b->p, in a new piece if the last is too full.
 * false if the arena refuses. */
static bool body_reserve(struct body *b, size_t n)
{
	if ((size_t)(b->end - b->p) >= n)
		return true;
	size_t size = n > BODY_PIECE ? n : BODY_PIECE;
	struct body_piece *piece =
	    rg_arena_alloc(b->arena, sizeof(*piece) + size);
	if (!piece)
		return false;
	piece->next = NULL;
	if (b->last) {
		b->last->len = (size_t)(b->p - b->last->data);
		b->len += b->last->len;
		b->last->next = piece;
	} else {
		b->first = piece;
	}
	b->last = piece;
	b->p = piece->data;
	b->end = piece->data + size;
	return true;
}

/* The body's length, once it is complete. */
static size_t body_close(struct body *b)
{
	b->last->len = (size_t)(b->p - b->last->data);
	return b->len + b->last->len;
}

/* The writers below write at w, which has room (body_reserve), and return
 * the end of what they wrote. */

static char *put_text(char *w, const char *s)
{
	size_t n = strlen(s); /* a literal: folded to a constant */
	memcpy(w, s, n);
	return w + n;
}

/* A string value with the escapes RFC 8259 section 7 requires. */
static char *put_string(char *w, struct rg_str s)
{
	static const char hex[] = "0123456789abcdef";
	*w++ = '"';
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c >= 0x20 && c != '"' && c != '\\') {
			*w++ = (char)c;
		} else if (c >= 0x20) {
			*w++ = '\\';
			*w++ = (char)c;
		} else {
			w = put_text(w, "\\u00");
			*w++ = hex[c >> 4];
			*w++ = hex[c & 15];
		}
	}
	*w++ = '"';
	return w;
}

/* What put_item can write: 111 bytes of names and punctuation (rounded
 * up), every number at its longest, every string byte escaped as \u00XX. */
static size_t item_max(const struct dataset_item *it)
{
	size_t n = 128 + 7 * APP_I64_MAX_LEN +
		   6 * (it->name.len + it->category.len) + 4;
	for (size_t t = 0; t < it->ntags; t++)
		n += 6 * it->tags[t].len + 3;
	return n;
}

static char *put_item(char *w, const struct dataset_item *it, int64_t total)
{
	w = put_text(w, "{\"id\":");
	w += app_format_i64(w, it->id);
	w = put_text(w, ",\"name\":");
	w = put_string(w, it->name);
	w = put_text(w, ",\"category\":");
	w = put_string(w, it->category);
	w = put_text(w, ",\"price\":");
	w += app_format_i64(w, it->price);
	w = put_text(w, ",\"quantity\":");
	w += app_format_i64(w, it->quantity);
	w = put_text(w, it->active ? ",\"active\":true" : ",\"active\":false");
	w = put_text(w, ",\"tags\":[");
	for (size_t t = 0; t < it->ntags; t++) {
		if (t > 0)
			*w++ = ',';
		w = put_string(w, it->tags[t]);
	}
	w = put_text(w, "],\"rating\":{\"score\":");
	w += app_format_i64(w, it->rating.score);
	w = put_text(w, ",\"count\":");
	w += app_format_i64(w, it->rating.count);
	w = put_text(w, "},\"total\":");
	w += app_format_i64(w, total);
	*w++ = '}';
	return w;
}

/* GET /json/{count}?m=M: {"count":N,"items":[...]} with each of the first N
 * items plus "total": price * quantity * M, serialised from the typed
 * dataset into the request's arena, then streamed out. */
void app_json_items(struct rg_request *req, void *data)
{
	const struct app *app = data;
	const struct dataset *ds = app->dataset;
	if (!ds) {
		app_reply(req, 503, "no dataset\n");
		return;
	}
	size_t n;
	if (parse_count(rg_param(req, "count"), &n) < 0) {
		app_reply(req, 400, "count must be a non-negative integer\n");
		return;
	}
	if (n > ds->count)
		n = ds->count;
	int64_t m = 1;
	int rc = app_query_i64(req, "m", INT64_MIN, INT64_MAX, &m);
	if (rc == -ENOMEM) {
		app_reply(req, 503, "out of memory\n");
		return;
	}
	if (rc < 0) {
		app_reply(req, 400, "m must be an integer\n");
		return;
	}

	struct body b = {.arena = rg_request_arena(req)};
	if (!body_reserve(&b, 32 + APP_I64_MAX_LEN))
		goto nomem;
	b.p = put_text(b.p, "{\"count\":");
	b.p += app_format_i64(b.p, (int64_t)n);
	b.p = put_text(b.p, ",\"items\":[");
	for (size_t i = 0; i < n; i++) {
		const struct dataset_item *it = &ds->items[i];
		int64_t total;
		if (__builtin_mul_overflow(it->price, it->quantity, &total) ||
		    __builtin_mul_overflow(total, m, &total)) {
			app_reply(req, 400, "total overflows\n");
			return;
		}
		if (!body_reserve(&b, 1 + item_max(it)))
			goto nomem;
		if (i > 0)
			*b.p++ = ',';
		b.p = put_item(b.p, it, total);
	}
	if (!body_reserve(&b, 2))
		goto nomem;
	b.p = put_text(b.p, "]}");

	if (rg_stream_begin(req, 200, "application/json",
			    (int64_t)body_close(&b)) < 0)
		return;
	for (const struct body_piece *p = b.first; p; p = p->next)
		if (rg_stream_write(req, p->data, p->len) < 0)
			return;
	rg_stream_end(req);
	return;
nomem:
	app_reply(req, 503, "out of memory\n");
}
