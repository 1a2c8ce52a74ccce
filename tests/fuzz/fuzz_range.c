/* fuzz_range.c: libFuzzer target for the Range field parser,
 * rg__range_parse (static/cond.c).
 *
 * Input: the field value, then an 8-byte trailer the fuzzer mutates like
 * the rest: the representation's size, little-endian (the seeds use small
 * ones; the top bit set means "the size is the low byte only", so that the
 * sizes near 0 where the edge cases live stay common).
 *
 * The value gets an exactly-sized buffer. Checked, for that size and for
 * 0, 1 and UINT64_MAX: a satisfiable range lies inside the representation
 * (first < size, 1 <= len <= size - first); the unit is matched in any
 * case (the value with every letter's case flipped gives the same answer);
 * a list (any ',') is ignored; the range found, written back canonically
 * ("bytes=first-last", and "bytes=-len" when it ends the representation),
 * gives itself again; and a value that is one canonical spec
 * ("bytes=" digits "-" [digits], or "bytes=-" digits) gives what RFC 9110
 * 14.1.2 says, as the fuzzer works it out on its own (a > b ignored,
 * first-pos at or past the end and a zero suffix unsatisfiable, last-pos
 * cut to the end, a suffix longer than the representation the whole of it,
 * numbers beyond 64 bits saturating; as static.h documents, a suffix of an
 * empty representation unsatisfiable). Any difference calls abort(). */
#include "static/static.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_range"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct result {
	enum rg__range_result r;
	uint64_t first, len;
};

static struct result parse(const char *p, size_t n, uint64_t size)
{
	char *copy = malloc(n ? n : 1);
	CHECK(copy != NULL);
	if (n)
		memcpy(copy, p, n);
	struct result res = {0};
	res.r = rg__range_parse((struct rg_str){copy, n}, size, &res.first,
				&res.len);
	free(copy);
	CHECK(res.r == RG__RANGE_IGNORE || res.r == RG__RANGE_OK ||
	      res.r == RG__RANGE_UNSATISFIABLE);
	if (res.r != RG__RANGE_OK)
		res.first = res.len = 0; /* not set: not compared */
	return res;
}

static bool same(struct result a, struct result b)
{
	return a.r == b.r && a.first == b.first && a.len == b.len;
}

static void report(const char *what, const char *p, size_t n, uint64_t size,
		   struct result got, struct result want)
{
	fprintf(stderr,
		"fuzz_range: %s: \"%.*s\" size %" PRIu64 ": %d %" PRIu64
		"+%" PRIu64 ", expected %d %" PRIu64 "+%" PRIu64 "\n",
		what, (int)(n > 200 ? 200 : n), p, size, got.r, got.first,
		got.len, want.r, want.first, want.len);
	abort();
}

/* Decimal digits at s[*i, n), saturating at UINT64_MAX; false if none. */
static bool number(const char *s, size_t n, size_t *i, uint64_t *v)
{
	size_t start = *i;
	uint64_t x = 0;
	for (; *i < n && s[*i] >= '0' && s[*i] <= '9'; (*i)++) {
		uint64_t d = (uint64_t)(s[*i] - '0');
		if (__builtin_mul_overflow(x, 10, &x) ||
		    __builtin_add_overflow(x, d, &x))
			x = UINT64_MAX;
	}
	*v = x;
	return *i > start;
}

/* RFC 9110 14.1.2 for a value that is exactly one canonical spec; false
 * when the value is not one. */
static bool expected(const char *s, size_t n, uint64_t size,
		     struct result *want)
{
	if (n < 6 || memcmp(s, "bytes=", 6))
		return false;
	size_t i = 6;
	uint64_t a, b;
	*want = (struct result){RG__RANGE_IGNORE, 0, 0};
	if (i < n && s[i] == '-') {
		i++;
		if (!number(s, n, &i, &b) || i != n)
			return false;
		if (b == 0 || size == 0) {
			want->r = RG__RANGE_UNSATISFIABLE;
		} else {
			uint64_t len = b < size ? b : size;
			*want = (struct result){RG__RANGE_OK, size - len, len};
		}
		return true;
	}
	if (!number(s, n, &i, &a) || i == n || s[i++] != '-')
		return false;
	bool has_last = number(s, n, &i, &b);
	if (i != n)
		return false;
	if (has_last && b < a)
		return true; /* invalid: ignored */
	if (a >= size) {
		want->r = RG__RANGE_UNSATISFIABLE;
		return true;
	}
	uint64_t last = has_last && b < size ? b : size - 1;
	*want = (struct result){RG__RANGE_OK, a, last - a + 1};
	return true;
}

static void check_size(const char *s, size_t n, uint64_t size)
{
	struct result got = parse(s, n, size);
	if (got.r == RG__RANGE_OK) {
		CHECK(size > 0);
		CHECK(got.first < size);
		CHECK(got.len >= 1 && got.len <= size - got.first);
	}
	if (memchr(s, ',', n) && got.r != RG__RANGE_IGNORE)
		report("a list", s, n, size, got,
		       (struct result){RG__RANGE_IGNORE, 0, 0});

	char *flipped = malloc(n ? n : 1);
	CHECK(flipped != NULL);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		flipped[i] =
		    (char)(((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ? c ^ 0x20
								    : c);
	}
	struct result f = parse(flipped, n, size);
	free(flipped);
	if (!same(f, got))
		report("case flipped", s, n, size, f, got);

	if (got.r == RG__RANGE_OK) {
		char canon[64];
		int k =
		    snprintf(canon, sizeof(canon), "bytes=%" PRIu64 "-%" PRIu64,
			     got.first, got.first + got.len - 1);
		struct result again = parse(canon, (size_t)k, size);
		if (!same(again, got))
			report("written back", canon, (size_t)k, size, again,
			       got);
		if (got.first + got.len == size) {
			k = snprintf(canon, sizeof(canon), "bytes=-%" PRIu64,
				     got.len);
			again = parse(canon, (size_t)k, size);
			if (!same(again, got))
				report("written back as a suffix", canon,
				       (size_t)k, size, again, got);
		}
	}

	struct result want;
	if (expected(s, n, size, &want) && !same(got, want))
		report("RFC 9110 14.1.2", s, n, size, got, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 8)
		return 0;
	size_t n = size - 8;
	uint64_t rep = 0;
	for (int i = 7; i >= 0; i--)
		rep = rep << 8 | data[n + (size_t)i];
	if (rep >> 63)
		rep &= 0xff;
	const char *s = (const char *)data;
	check_size(s, n, rep);
	check_size(s, n, 0);
	check_size(s, n, 1);
	check_size(s, n, UINT64_MAX);
	return 0;
}
