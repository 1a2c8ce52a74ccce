/* fuzz_accept_encoding.c: libFuzzer target for the Accept-Encoding reader,
 * rg__accept_encoding (static/cond.c): the q-values it gives br and gzip.
 *
 * Input: the field value, in an exactly-sized buffer. The same bytes also
 * drive the building of a second value, well-formed by construction.
 *
 * Checked on the input: q-values are thousandths, at most 1000; the same
 * result whatever the case of the coding names (and of "q"), with every
 * letter's case flipped; the same with a member no one asks about
 * ("identity") or empty members added at either end; no field gives 0
 * and 0. Checked on the built value (up to 8 members: br, gzip, x-gzip,
 * "*", identity, deflate, none twice, gzip and x-gzip not both, names in
 * random case, each with no weight or a qvalue in one of its spellings,
 * "0.5" as "0.500", "1" as "1.", or a malformed one, "1.001", "0.0001",
 * "", with optional whitespace where RFC 9110 12.4.2 allows it): br and
 * gzip get what RFC 9110 12.5.3 says, the coding's own q-value, else that
 * of "*", else 0, with 1 when no weight is given and 0 for a malformed
 * member (as static.h documents). Any difference calls abort(). */
#include "static/static.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_accept_encoding"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rg__codings codings(const char *s, size_t n)
{
	char *copy = dup_exact(s, n);
	struct rg_str v = {copy, n};
	struct rg__codings c = {0xffff, 0xffff};
	rg__accept_encoding(&v, &c);
	free(copy);
	CHECK(c.br <= 1000 && c.gzip <= 1000);
	return c;
}

static void expect(const char *what, const char *s, size_t n,
		   struct rg__codings got, struct rg__codings want)
{
	if (got.br == want.br && got.gzip == want.gzip)
		return;
	fprintf(stderr,
		"fuzz_accept_encoding: %s: \"%.*s\": br %u gzip %u, expected "
		"br %u gzip %u\n",
		what, (int)(n > 300 ? 300 : n), s, got.br, got.gzip, want.br,
		want.gzip);
	abort();
}

/* s[0, n) between `before` and `after`, exactly sized. */
static struct rg__codings around(const char *before, const char *s, size_t n,
				 const char *after)
{
	size_t b = strlen(before), a = strlen(after);
	char *p = malloc(b + n + a + 1);
	CHECK(p != NULL);
	memcpy(p, before, b);
	if (n)
		memcpy(p + b, s, n);
	memcpy(p + b + n, after, a);
	struct rg__codings c = codings(p, b + n + a);
	free(p);
	return c;
}

struct gen {
	const uint8_t *p, *end;
};

/* The next input byte (0 once they run out). */
static unsigned next(struct gen *g)
{
	return g->p < g->end ? *g->p++ : 0;
}

static void put(char *buf, size_t *len, const char *s)
{
	size_t n = strlen(s);
	memcpy(buf + *len, s, n);
	*len += n;
}

static void put_ows(char *buf, size_t *len, unsigned bits)
{
	static const char *const ows[] = {"", "", " ", "\t", "  ", " \t"};
	put(buf, len, ows[bits % 6]);
}

/* v thousandths as a qvalue, in one of its spellings. */
static void put_qvalue(char *buf, size_t *len, int v, unsigned how)
{
	char q[8];
	if (v == 1000 || v == 0) {
		static const char *const tails[] = {"", ".", ".0", ".00",
						    ".000"};
		snprintf(q, sizeof(q), "%c%s", v ? '1' : '0', tails[how % 5]);
	} else {
		/* three decimals, less the trailing zeros some of the time */
		int k = snprintf(q, sizeof(q), "0.%03d", v);
		while ((how & 1) && q[k - 1] == '0')
			q[--k] = '\0';
	}
	put(buf, len, q);
}

static void check_built(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"br", "gzip",     "x-gzip",
					    "*",  "identity", "deflate"};
	enum { BR, GZIP, XGZIP, STAR, NNAMES = 6 };
	struct gen g = {data, data + size};
	int q[NNAMES];
	bool used[NNAMES] = {false};
	char buf[1024];
	size_t len = 0;
	int members = (int)(next(&g) % 9);
	for (int m = 0; m < members; m++) {
		int id = (int)(next(&g) % NNAMES);
		if (used[id] || (id == GZIP && used[XGZIP]) ||
		    (id == XGZIP && used[GZIP]))
			continue;
		used[id] = true;
		if (len)
			put(buf, &len, ",");
		put_ows(buf, &len, next(&g));
		unsigned caps = next(&g);
		for (const char *c = names[id]; *c; c++, caps >>= 1)
			buf[len++] = (char)((caps & 1) && *c >= 'a' && *c <= 'z'
						? *c - 32
						: *c);
		unsigned how = next(&g);
		if (how & 1) {
			q[id] = 1000;
		} else {
			unsigned hi = next(&g);
			int v = (int)((hi << 8 | next(&g)) % 1001);
			if (how & 2)
				v = how & 4 ? 1000 : 0;
			q[id] = v;
			put_ows(buf, &len, how >> 3);
			put(buf, &len, ";");
			put_ows(buf, &len, how >> 5);
			put(buf, &len, how & 0x80 ? "Q=" : "q=");
			unsigned bad = next(&g);
			if (bad < 48) {
				/* Not a qvalue: the member counts as q=0. */
				static const char *const nots[] = {
				    "1.001", "2",      "0.0001", "1.5",
				    ".5",    "0.5x",   "-0",	 "",
				    "0,5",   "1.0000", "q",	 "01",
				    "0.5 x", "1.00a",  "0x1",	 "+1"};
				put(buf, &len, nots[bad % 16]);
				q[id] = 0;
			} else {
				put_qvalue(buf, &len, v, next(&g));
			}
		}
		put_ows(buf, &len, next(&g));
	}
	int gz = used[GZIP] ? q[GZIP] : used[XGZIP] ? q[XGZIP] : -1;
	int star = used[STAR] ? q[STAR] : 0;
	struct rg__codings want = {
	    (uint16_t)(used[BR] ? q[BR] : star),
	    (uint16_t)(gz >= 0 ? gz : star),
	};
	expect("RFC 9110 12.5.3", buf, len, codings(buf, len), want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct rg__codings none = {0xffff, 0xffff};
	rg__accept_encoding(NULL, &none);
	CHECK(none.br == 0 && none.gzip == 0);

	struct rg__codings got = codings(s, size);
	char *flipped = malloc(size ? size : 1);
	CHECK(flipped != NULL);
	for (size_t i = 0; i < size; i++) {
		char c = s[i];
		bool letter = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
		flipped[i] = letter ? (char)(c ^ 0x20) : c;
	}
	expect("case flipped", flipped, size, codings(flipped, size), got);
	free(flipped);
	expect("identity after", s, size, around("", s, size, ",identity"),
	       got);
	expect("identity before", s, size, around("identity,", s, size, ""),
	       got);
	expect("empty members", s, size, around(" , ,", s, size, ", ,"), got);

	check_built(data, size);
	return 0;
}
