/* fuzz_etag.c: libFuzzer target for the entity-tag matchers (static/cond.c):
 * rg__etag_match_weak (If-None-Match) and rg__etag_match_strong
 * (If-Range).
 *
 * Input: the field value, then the representation's entity tag, then a
 * 2-byte trailer the fuzzer mutates like the rest: little-endian, where
 * the input is cut between the two. Each part gets an exactly-sized
 * buffer.
 *
 * Checked, as RFC 9110 8.8.3.2 compares tags: weakness is ignored by the
 * weak comparison (prefixing the tag, or the field, with W/ changes
 * nothing), a strong match is also a weak one, and the field of a strong
 * match, without its whitespace, is the tag itself; a weak match means the
 * tag's opaque part occurs in the field; a strong comparison with W/ on
 * either side fails. Then for a tag made well-formed from the same bytes
 * ('"', etagc bytes, '"'): it matches itself both ways, its W/ form
 * weakly only, "*" and a list holding it among empty elements and other
 * tags; a list holding it and then a malformed member matches nothing.
 * Any difference calls abort(). */
#include "static/static.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_etag"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An exactly-sized copy of the concatenation a + b (either may be empty). */
static struct rg_str cat(const char *a, size_t an, const char *b, size_t bn)
{
	char *p = malloc(an + bn ? an + bn : 1);
	CHECK(p != NULL);
	if (an)
		memcpy(p, a, an);
	if (bn)
		memcpy(p + an, b, bn);
	return (struct rg_str){p, an + bn};
}

/* fn on exactly-sized copies of both sides. */
static bool on_copies(bool (*fn)(struct rg_str, struct rg_str), struct rg_str x,
		      struct rg_str y)
{
	struct rg_str cx = cat(x.ptr, x.len, NULL, 0);
	struct rg_str cy = cat(y.ptr, y.len, NULL, 0);
	bool r = fn(cx, cy);
	free((char *)cx.ptr);
	free((char *)cy.ptr);
	return r;
}

static bool weak(struct rg_str list, struct rg_str etag)
{
	return on_copies(rg__etag_match_weak, list, etag);
}

static bool strong(struct rg_str tag, struct rg_str etag)
{
	return on_copies(rg__etag_match_strong, tag, etag);
}

static struct rg_str lit(const char *s)
{
	return (struct rg_str){s, strlen(s)};
}

/* "W/" + s, malloc'd. */
static struct rg_str weakened(struct rg_str s)
{
	return cat("W/", 2, s.ptr, s.len);
}

static bool has_prefix(struct rg_str s, const char *p)
{
	return s.len >= strlen(p) && !memcmp(s.ptr, p, strlen(p));
}

static struct rg_str trim(struct rg_str s)
{
	while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
		s.ptr++;
		s.len--;
	}
	while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
		s.len--;
	return s;
}

/* The opaque part of a tag (quotes included, after any W/), or len 0. */
static struct rg_str opaque(struct rg_str e)
{
	if (has_prefix(e, "W/")) {
		e.ptr += 2;
		e.len -= 2;
	}
	if (!e.len || e.ptr[0] != '"')
		return (struct rg_str){e.ptr, 0};
	const char *q = memchr(e.ptr + 1, '"', e.len - 1);
	return (struct rg_str){e.ptr, q ? (size_t)(q + 1 - e.ptr) : 0};
}

static void fail_pair(const char *what, struct rg_str a, struct rg_str b)
{
	fprintf(stderr, "fuzz_etag: %s: [%.*s] [%.*s]\n", what,
		(int)(a.len > 200 ? 200 : a.len), a.ptr,
		(int)(b.len > 200 ? 200 : b.len), b.ptr);
	abort();
}

/* The relations between the two matchers, for any field and tag. */
static void check_pair(struct rg_str list, struct rg_str etag)
{
	bool w = weak(list, etag), s = strong(list, etag);
	if (!has_prefix(etag, "W/")) {
		struct rg_str we = weakened(etag);
		if (weak(list, we) != w)
			fail_pair("weak comparison saw the tag's W/", list,
				  etag);
		if (strong(list, we))
			fail_pair("strong match of a weak tag", list, we);
		free((char *)we.ptr);
	}
	struct rg_str wl = weakened(trim(list));
	if (strong(wl, etag))
		fail_pair("strong match of a weak field", wl, etag);
	free((char *)wl.ptr);
	if (s) {
		if (!w)
			fail_pair("strong match but no weak one", list, etag);
		struct rg_str t = trim(list);
		if (t.len > etag.len || memcmp(t.ptr, etag.ptr, t.len))
			fail_pair("strong match of another tag", list, etag);
	}
	if (w) {
		struct rg_str o = opaque(etag);
		if (!o.len || !memmem(list.ptr, list.len, o.ptr, o.len)) {
			/* Only "*" matches without naming the tag. */
			struct rg_str t = trim(list);
			if (t.len != 1 || t.ptr[0] != '*')
				fail_pair("weak match of a tag not named", list,
					  etag);
		}
	}
}

/* A well-formed strong tag from bytes b[0, n): etagc only (%x21,
 * %x23-7E, obs-text), at most 64 of them. */
static struct rg_str make_tag(const uint8_t *b, size_t n)
{
	char buf[66];
	size_t k = 0;
	buf[k++] = '"';
	for (size_t i = 0; i < n && k < 65; i++) {
		uint8_t c = b[i];
		if (c == '"' || c < 0x21 || c == 0x7f)
			c = (uint8_t)('#' + c % 92); /* %x23-7E */
		buf[k++] = (char)c;
	}
	buf[k++] = '"';
	return cat(buf, k, NULL, 0);
}

/* What a well-formed tag must match, and must not. */
static void check_tag(struct rg_str g, const uint8_t *rest, size_t rn)
{
	struct rg_str wg = weakened(g);
	CHECK(weak(g, g) && strong(g, g));
	CHECK(weak(wg, g) && weak(g, wg) && weak(wg, wg));
	CHECK(!strong(wg, g) && !strong(g, wg) && !strong(wg, wg));
	CHECK(weak(lit("*"), g) && weak(lit(" \t*\t "), g));
	CHECK(!strong(lit("*"), g));
	struct rg_str padded = cat(" \t", 2, g.ptr, g.len);
	struct rg_str pad2 = cat(padded.ptr, padded.len, "\t ", 2);
	CHECK(strong(pad2, g));
	free((char *)padded.ptr);
	free((char *)pad2.ptr);

	/* , ,"other", W/<g> , */
	struct rg_str other = make_tag(rest, rn);
	struct rg_str a = cat(" , ,", 4, other.ptr, other.len);
	struct rg_str b = cat(a.ptr, a.len, ", ", 2);
	struct rg_str list = cat(b.ptr, b.len, wg.ptr, wg.len);
	struct rg_str full = cat(list.ptr, list.len, " , ", 3);
	if (!weak(full, g))
		fail_pair("a list naming the tag", full, g);
	CHECK(!strong(full, g));
	/* ... then a malformed member: the whole field is malformed. */
	struct rg_str bad = cat(full.ptr, full.len, "x", 1);
	if (weak(bad, g))
		fail_pair("a malformed list matched", bad, g);
	free((char *)bad.ptr);
	free((char *)full.ptr);
	free((char *)list.ptr);
	free((char *)b.ptr);
	free((char *)a.ptr);
	free((char *)other.ptr);
	free((char *)wg.ptr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t n = size - 2;
	size_t cut = (size_t)(data[n] | data[n + 1] << 8) % (n + 1);
	struct rg_str list = {(const char *)data, cut};
	struct rg_str etag = {(const char *)data + cut, n - cut};
	check_pair(list, etag);
	check_pair(etag, list);

	struct rg_str g = make_tag(data + cut, n - cut);
	check_tag(g, data, cut);
	check_pair(list, g);
	free((char *)g.ptr);
	return 0;
}
