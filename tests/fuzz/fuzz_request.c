/* fuzz_request.c: libFuzzer target for the request-head parser and the body
 * framing that follows it (Content-Length, or rg__chunked_decode), over a
 * stream of pipelined requests.
 *
 * Input: the bytes of the stream, then a 3-byte trailer the fuzzer mutates
 * like the rest: a flags byte (bit 0: small limits, so that 413, 414 and 431
 * are reachable within -max_len) and a little-endian 16-bit number picking
 * the point where the stream is also cut in two.
 *
 * Every head is parsed in one piece; one byte more a call, which gives the
 * number of bytes `at` after which the result comes; cut in two, each piece
 * in its own exactly-sized buffer (so a read past what was given, or a
 * pointer kept from an earlier call, is caught by ASan or by the
 * comparison); and in one piece again with every other SIMD level the CPU
 * has (scalar, SSE4.2). Every chunked body is decoded in one piece and cut
 * in two. All must come out the same, and at the same byte: the first
 * piece gives a result exactly when it holds `at` bytes (an error is
 * reported the moment its byte arrives, however the input is split; a head
 * is complete at its last byte). Any difference or broken invariant calls
 * abort(). */
#include "http/parser.h"
#include "http/scan.h"
#include "ringlet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
#define FUZZ_NAME "fuzz_request"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MESSAGES 16

static const struct rg__parse_limits small_limits = {
    .max_request_line = 64,
    .max_head = 256,
    .max_headers = 8,
    .max_body = 64,
};

static struct rg_pool *blocks;
static enum rg__simd best_level;

static bool status_allowed(int status)
{
	return status == 400 || status == 413 || status == 414 ||
	       status == 431 || status == 501 || status == 505;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct rg_pool_config cfg = {
	    .object_size = 16384, .initial = 4, .grow_by = 4, .max = 64};
	blocks = rg_pool_create(&cfg, NULL);
	CHECK(blocks != NULL);
	best_level = rg__simd_best();
	/* The error table: every error maps to one of the statuses a
	 * parser may answer, with a message; 503 only for the arena running
	 * out, which the pool above is large enough never to see (so the
	 * parse results below allow no 503). */
	for (int e = 1; e < RG__E_COUNT; e++) {
		int status = rg__http_error_status(e);
		CHECK(status_allowed(status) ||
		      (e == RG__E_NO_MEMORY && status == 503));
		CHECK(rg__http_error_reason(e) != NULL);
	}
	return 0;
}

static bool inside(struct rg_str s, const char *buf, size_t len)
{
	if (s.len == 0)
		return true;
	return s.ptr >= buf && s.len <= len &&
	       (size_t)(s.ptr - buf) <= len - s.len;
}

/* The path of an absolute-form target with no path is "/", which may be a
 * constant rather than a slice of the buffer. */
static bool is_root(struct rg_str s)
{
	return s.len == 1 && s.ptr[0] == '/';
}

static bool str_is(struct rg_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && !strncasecmp(s.ptr, lit, n);
}

/* Invariants of a head parsed from buf[0, len) with result rc > 0. */
static void check_head(const struct rg__request *req, const char *buf,
		       size_t rc, const struct rg__parse_limits *lim)
{
	CHECK(inside(req->method, buf, rc) && req->method.len > 0);
	CHECK(inside(req->target, buf, rc) && req->target.len > 0);
	CHECK(inside(req->path, buf, rc) || is_root(req->path));
	CHECK(inside(req->query, buf, rc));
	CHECK(inside(req->authority, buf, rc));
	CHECK(req->version_minor <= 1);
	CHECK(req->nheaders <= lim->max_headers);
	CHECK(req->nheaders == 0 || req->headers != NULL);
	for (uint32_t i = 0; i < req->nheaders; i++) {
		CHECK(inside(req->headers[i].name, buf, rc));
		CHECK(inside(req->headers[i].value, buf, rc));
		CHECK(req->headers[i].name.len > 0);
	}
	for (int id = 0; id < RG__H_COUNT; id++) {
		int k = req->known[id];
		CHECK(k >= -1 && k < (int)req->nheaders);
		if (k >= 0) {
			CHECK(str_is(req->headers[k].name, rg__known_name[id]));
			/* the first occurrence */
			for (int j = 0; j < k; j++)
				CHECK(!str_is(req->headers[j].name,
					      rg__known_name[id]));
		} else {
			for (uint32_t j = 0; j < req->nheaders; j++)
				CHECK(!str_is(req->headers[j].name,
					      rg__known_name[id]));
		}
	}
	/* RFC 9112 3.2: HTTP/1.1 needs Host; 6.1: Content-Length with
	 * Transfer-Encoding is rejected; 6.1: no chunked in HTTP/1.0. */
	if (req->version_minor == 1)
		CHECK(req->known[RG__H_HOST] >= 0);
	CHECK(req->known[RG__H_CONTENT_LENGTH] < 0 ||
	      req->known[RG__H_TRANSFER_ENCODING] < 0);
	switch (req->body) {
	case RG__BODY_NONE:
		break;
	case RG__BODY_LENGTH:
		CHECK(req->known[RG__H_CONTENT_LENGTH] >= 0);
		CHECK(lim->max_body == 0 ||
		      req->content_length <= lim->max_body);
		break;
	case RG__BODY_CHUNKED:
		CHECK(req->known[RG__H_TRANSFER_ENCODING] >= 0);
		CHECK(req->version_minor == 1);
		break;
	default:
		fail("unknown body kind");
	}
	static const struct {
		enum rg_method id;
		const char *name;
	} methods[] = {
	    {RG_METHOD_GET, "GET"},	  {RG_METHOD_HEAD, "HEAD"},
	    {RG_METHOD_POST, "POST"},	  {RG_METHOD_PUT, "PUT"},
	    {RG_METHOD_DELETE, "DELETE"}, {RG_METHOD_OPTIONS, "OPTIONS"},
	    {RG_METHOD_PATCH, "PATCH"},	  {RG_METHOD_CONNECT, "CONNECT"},
	    {RG_METHOD_TRACE, "TRACE"},
	};
	/* Methods are case-sensitive (RFC 9110 9.1). */
	enum rg_method want = RG_METHOD_OTHER;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (req->method.len == strlen(methods[i].name) &&
		    !memcmp(req->method.ptr, methods[i].name, req->method.len))
			want = methods[i].id;
	CHECK(req->method_id == want);
	/* The lookup finds the first field of each name. */
	for (uint32_t i = 0; i < req->nheaders; i++) {
		const struct rg_header *h = &req->headers[i];
		const struct rg_header *found =
		    rg__request_header(req, h->name.ptr, h->name.len);
		CHECK(found != NULL && found <= h);
		CHECK(found->name.len == h->name.len &&
		      !strncasecmp(found->name.ptr, h->name.ptr, h->name.len));
		for (const struct rg_header *o = req->headers; o < found; o++)
			CHECK(
			    o->name.len != h->name.len ||
			    strncasecmp(o->name.ptr, h->name.ptr, h->name.len));
	}
}

static void check_rc(int rc, size_t len)
{
	if (rc > 0)
		CHECK((size_t)rc <= len);
	if (rc < 0) {
		CHECK(-rc > RG__E_NONE && -rc < RG__E_COUNT);
		CHECK(status_allowed(rg__http_error_status(-rc)));
	}
}

/* Slices of two parses agree: same place in their buffers (each `rc`
 * bytes), or for a constant outside them, same bytes. */
static bool same_slice(struct rg_str a, const char *abuf, struct rg_str b,
		       const char *bbuf, size_t rc)
{
	if (a.len != b.len)
		return false;
	if (a.len == 0)
		return true;
	if (!inside(a, abuf, rc) || !inside(b, bbuf, rc))
		return !memcmp(a.ptr, b.ptr, a.len);
	return a.ptr - abuf == b.ptr - bbuf;
}

/* Two parses of the same bytes (in buffers `ab` and `bb`) agree. */
static void check_same(int ra, const struct rg__request *a, const char *ab,
		       int rb, const struct rg__request *b, const char *bb,
		       const char *how)
{
	size_t n = ra > 0 ? (size_t)ra : 0;
	if (ra != rb) {
		fprintf(stderr, "fuzz_request: %s: %d vs %d\n", how, ra, rb);
		abort();
	}
	if (ra <= 0)
		return;
	CHECK(same_slice(a->method, ab, b->method, bb, n));
	CHECK(same_slice(a->target, ab, b->target, bb, n));
	CHECK(same_slice(a->path, ab, b->path, bb, n));
	CHECK(same_slice(a->query, ab, b->query, bb, n));
	CHECK(same_slice(a->authority, ab, b->authority, bb, n));
	CHECK(a->method_id == b->method_id);
	CHECK(a->version_minor == b->version_minor);
	CHECK(a->keep_alive == b->keep_alive);
	CHECK(a->expect_continue == b->expect_continue);
	CHECK(a->body == b->body);
	CHECK(a->body != RG__BODY_LENGTH ||
	      a->content_length == b->content_length);
	CHECK(a->nheaders == b->nheaders);
	for (uint32_t i = 0; i < a->nheaders; i++) {
		CHECK(same_slice(a->headers[i].name, ab, b->headers[i].name, bb,
				 n));
		CHECK(same_slice(a->headers[i].value, ab, b->headers[i].value,
				 bb, n));
	}
	CHECK(!memcmp(a->known, b->known, sizeof(a->known)));
}

/* Decodes a chunked body at in[0, len) in one piece and cut at `cut`;
 * returns the bytes consumed (the one-piece result) or an error. */
static ssize_t chunked_both(const char *in, size_t len, size_t cut,
			    uint64_t max_body, bool *done)
{
	struct rg__chunked d1, d2;
	rg__chunked_init(&d1, max_body);
	rg__chunked_init(&d2, max_body);

	char *one = dup_exact(in, len);
	size_t data1 = 0;
	bool done1 = false;
	ssize_t r1 = rg__chunked_decode(&d1, one, len, &data1, &done1);
	if (r1 >= 0) {
		CHECK((size_t)r1 <= len && data1 <= (size_t)r1);
		CHECK(done1 || (size_t)r1 == len);
		CHECK(d1.total == data1);
		CHECK(max_body == 0 || d1.total <= max_body);
	} else {
		CHECK(-r1 > RG__E_NONE && -r1 < RG__E_COUNT);
		CHECK(status_allowed(rg__http_error_status((int)-r1)));
	}

	if (cut > len)
		cut = len;
	char *a = dup_exact(in, cut), *b = dup_exact(in + cut, len - cut);
	size_t da = 0, db = 0;
	bool done2 = false;
	ssize_t r2 = rg__chunked_decode(&d2, a, cut, &da, &done2);
	ssize_t consumed = r2;
	if (r2 >= 0 && !done2) {
		CHECK((size_t)r2 == cut && da <= cut);
		ssize_t rb = rg__chunked_decode(&d2, b, len - cut, &db, &done2);
		consumed = rb < 0 ? rb : (ssize_t)cut + rb;
		if (rb >= 0)
			CHECK(db <= (size_t)rb);
	}
	if (consumed != r1 || (r1 >= 0 && done1 != done2)) {
		fprintf(stderr,
			"fuzz_request: chunked cut at %zu: %zd/%d vs "
			"%zd/%d\n",
			cut, r1, done1, consumed, done2);
		abort();
	}
	if (r1 >= 0) {
		CHECK(da + db == data1);
		CHECK(!memcmp(one, a, da));
		CHECK(!memcmp(one + da, b, db));
		CHECK(d2.total == d1.total);
	}
	*done = done1;
	free(one);
	free(a);
	free(b);
	return r1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	size_t len = size - 3;
	uint8_t flags = data[len];
	size_t cut = (size_t)(data[len + 1] | data[len + 2] << 8);
	const struct rg__parse_limits *lim =
	    flags & 1 ? &small_limits : &rg__default_limits;

	/* Exactly sized, so that ASan sees any read past the end. */
	char *stream = dup_exact((const char *)data, len);
	struct rg_arena *arena = rg_arena_create(blocks, NULL);
	CHECK(arena != NULL);
	struct rg__parser one, two, other;
	rg__parser_init(&one, lim);
	size_t pos = 0;

	for (int n = 0; n < MAX_MESSAGES && pos < len; n++) {
		const char *buf = stream + pos;
		size_t avail = len - pos;
		struct rg__request r1, r2, r3;

		int rc = rg__parse_request(&one, arena, buf, avail, &r1);
		check_rc(rc, avail);
		if (rc > 0)
			check_head(&r1, buf, (size_t)rc, lim);

		/* A byte more a call, in the same buffer. */
		size_t at = 0;
		int rb = 0;
		rg__parser_init(&two, lim);
		while (rb == 0 && at < avail)
			rb = rg__parse_request(&two, arena, buf, ++at, &r2);
		check_same(rc, &r1, buf, rb, &r2, buf, "a byte at a time");
		if (rc > 0)
			CHECK(at == (size_t)rc);

		/* Cut in two: the first piece alone, then all of it, each
		 * in its own buffer. */
		size_t k = avail ? cut % (avail + 1) : 0;
		rg__parser_init(&two, lim);
		char *piece = dup_exact(buf, k);
		int rk = rg__parse_request(&two, arena, piece, k, &r2);
		check_rc(rk, k);
		if (rc != 0 && (rk != 0) != (k >= at)) {
			fprintf(stderr,
				"fuzz_request: %zu bytes gave %d; the result "
				"%d comes after %zu\n",
				k, rk, rc, at);
			abort();
		}
		char *whole = NULL;
		if (rk == 0) {
			whole = dup_exact(buf, avail);
			rk = rg__parse_request(&two, arena, whole, avail, &r2);
			check_same(rc, &r1, buf, rk, &r2, whole, "cut in two");
		} else {
			check_same(rc, &r1, buf, rk, &r2, piece, "first piece");
		}
		free(piece);
		free(whole);

		for (int level = RG__SIMD_SCALAR; level < (int)best_level;
		     level++) {
			rg__simd_select((enum rg__simd)level);
			rg__parser_init(&other, lim);
			int rs =
			    rg__parse_request(&other, arena, buf, avail, &r3);
			rg__simd_select(best_level);
			check_same(rc, &r1, buf, rs, &r3, buf,
				   level == RG__SIMD_SCALAR ? "scalar path"
							    : "SSE4.2 path");
		}

		if (rc <= 0)
			break;
		pos += (size_t)rc;
		if (r1.body == RG__BODY_LENGTH) {
			if (r1.content_length > len - pos)
				break;
			pos += (size_t)r1.content_length;
		} else if (r1.body == RG__BODY_CHUNKED) {
			bool done;
			ssize_t used = chunked_both(stream + pos, len - pos,
						    cut, lim->max_body, &done);
			if (used < 0 || !done)
				break;
			pos += (size_t)used;
		}
		/* A server stops after a request without keep-alive; the
		 * parser goes on, for coverage of what may follow. */
		rg_arena_reset(arena);
	}
	rg_arena_destroy(arena);
	free(stream);
	return 0;
}
