/* test_parser_scan.c: the byte-class table against the RFC grammar, and
 * every SIMD scanner (and the Host masks) against the scalar loop (the
 * table): the same answer for every byte value at every position, with
 * PROT_NONE pages on both sides of the input so that a load outside [p, end)
 * crashes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/scan.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t page;
static char *area; /* guard page, two data pages, guard page */

static int setup(void **state)
{
	(void)state;
	page = (size_t)sysconf(_SC_PAGESIZE);
	area = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		return -1;
	if (mprotect(area, page, PROT_NONE) ||
	    mprotect(area + 3 * page, page, PROT_NONE))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	munmap(area, 4 * page);
	return 0;
}

/* RFC 9110 5.6.2 tchar, 5.5 field-vchar / obs-text, 5.6.4 qdtext;
 * RFC 9112 3.2 target bytes (no '#': no fragment); RFC 3986 reg-name bytes
 * but pct-encoded; the parser's field-name class (tchar but '_'). */
static unsigned expected_class(int c)
{
	unsigned b = 0;
	bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
	bool digit = c >= '0' && c <= '9';
	if (alpha || digit || (c && strchr("!#$%&'*+-.^_`|~", c)))
		b |= RG__C_TCHAR;
	if (c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7e) || c >= 0x80)
		b |= RG__C_VALUE;
	if (c >= 0x21 && c <= 0x7e && c != '#')
		b |= RG__C_TARGET;
	if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
		b |= RG__C_HEX;
	if (c == ' ' || c == '\t')
		b |= RG__C_OWS;
	if (c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
	    (c >= 0x5d && c <= 0x7e) || c >= 0x80)
		b |= RG__C_QDTEXT;
	if (alpha || digit || (c && strchr("-._~!$&'()*+,;=", c)))
		b |= RG__C_REGNAME;
	if ((b & RG__C_TCHAR) && c != '_')
		b |= RG__C_NAME;
	return b;
}

static void class_table(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++)
		if (rg__http_class[c] != expected_class(c))
			fail_msg("byte 0x%02x: table 0x%02x, grammar 0x%02x", c,
				 rg__http_class[c], expected_class(c));
}

typedef const char *scanner(const char *p, const char *end);

static const char *token_scalar(const char *p, const char *e)
{
	return rg__scan_scalar(p, e, RG__C_TCHAR);
}
static const char *value_scalar(const char *p, const char *e)
{
	return rg__scan_scalar(p, e, RG__C_VALUE);
}
static const char *target_scalar(const char *p, const char *e)
{
	return rg__scan_scalar(p, e, RG__C_TARGET);
}

struct scan_case {
	const char *name;
	scanner *scalar, *sse42, *avx2;
	char fill; /* a byte inside the class */
};

static const struct scan_case cases[] = {
    {"token", token_scalar, rg__scan_token_sse42, rg__scan_token_avx2, 'a'},
    {"token|~", token_scalar, rg__scan_token_sse42, rg__scan_token_avx2, '|'},
    {"value", value_scalar, rg__scan_value_sse42, rg__scan_value_avx2, 'a'},
    {"value-obs", value_scalar, rg__scan_value_sse42, rg__scan_value_avx2,
     '\x80'},
    {"target", target_scalar, rg__scan_target_sse42, rg__scan_target_avx2, '~'},
};

/* One stop byte `b` at `pos` of `len` filler bytes, placed against the
 * leading guard and against the trailing one. */
static void compare_one(const struct scan_case *sc, scanner *simd, size_t len,
			size_t pos, int b)
{
	char *starts[2] = {area + page, area + 3 * page - len};
	for (int s = 0; s < 2; s++) {
		char *p = starts[s];
		memset(p, sc->fill, len);
		if (pos < len)
			p[pos] = (char)b;
		const char *want = sc->scalar(p, p + len);
		const char *got = simd(p, p + len);
		if (got != want)
			fail_msg("%s: len %zu, 0x%02x at %zu: simd %td, scalar "
				 "%td",
				 sc->name, len, b, pos, got - p, want - p);
	}
}

static void scanners_level(enum rg__simd level)
{
	if (rg__simd_best() < level)
		skip();
	static const size_t lens[] = {16, 17, 18, 20, 23, 24, 31,
				      32, 33, 34, 40, 47, 48, 63,
				      64, 65, 66, 95, 96, 97, 130};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct scan_case *sc = &cases[c];
		scanner *simd = level == RG__SIMD_AVX2 ? sc->avx2 : sc->sse42;
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
			for (size_t pos = 0; pos <= lens[l]; pos++)
				for (int b = 0; b < 256; b++)
					if (pos < lens[l] || b == 0)
						compare_one(sc, simd, lens[l],
							    pos, b);
	}
}

static void scanners_sse42(void **state)
{
	(void)state;
	scanners_level(RG__SIMD_SSE42);
}

static void scanners_avx2(void **state)
{
	(void)state;
	scanners_level(RG__SIMD_AVX2);
}

/* Random bytes, mostly inside the class, random spans: SIMD == scalar. */
static void scanners_random(void **state)
{
	(void)state;
	enum rg__simd best = rg__simd_best();
	if (best == RG__SIMD_SCALAR)
		skip();
	unsigned seed = 12345;
	char *buf = area + page;
	for (int iter = 0; iter < 20000; iter++) {
		const struct scan_case *sc =
		    &cases[(unsigned)iter % (sizeof(cases) / sizeof(cases[0]))];
		for (size_t i = 0; i < 2 * page; i++) {
			seed = seed * 1103515245 + 12345;
			unsigned r = seed >> 16;
			buf[i] = r % 64 ? sc->fill + (char)(r % 3 == 0)
					: (char)(r >> 8);
		}
		seed = seed * 1103515245 + 12345;
		size_t len = 16 + (seed >> 16) % 300;
		seed = seed * 1103515245 + 12345;
		size_t off = (seed >> 16) % (2 * page - len + 1);
		const char *p = buf + off, *e = p + len;
		const char *want = sc->scalar(p, e);
		if (sc->sse42(p, e) != want)
			fail_msg("%s sse4.2: iteration %d", sc->name, iter);
		if (best == RG__SIMD_AVX2 && sc->avx2(p, e) != want)
			fail_msg("%s avx2: iteration %d", sc->name, iter);
	}
}

/* The 64-byte class masks: per byte, exactly the table's answer, with the
 * bits from `end` on set; tails shorter than 64 bytes included, and with
 * the input against either guard page. */
static void classify_level(enum rg__simd level)
{
	if (rg__simd_select(level) != level) {
		rg__simd_select(RG__SIMD_AVX2);
		skip();
	}
	for (size_t n = 0; n <= 64; n++) {
		for (int b = 0; b < 256; b++) {
			for (size_t pos = 0; pos < (n ? n : 1); pos++) {
				/* p at the start of the data: nothing below
				 * it; p 64 bytes in: a whole block below. */
				char *ps[3] = {area + page, area + page + 64,
					       area + 3 * page - n};
				for (int k = 0; k < 3; k++) {
					char *p = ps[k];
					memset(area + page, 'a', 2 * page);
					if (pos < n)
						p[pos] = (char)b;
					struct rg__masks ms = rg__classify64(
					    k == 1 ? p - 64 : p, p, p + n);
					uint64_t m[2] = {ms.name, ms.value};
					for (size_t i = 0; i < 64; i++) {
						unsigned c =
						    i < n ? rg__http_class
								[(unsigned char)
								     p[i]]
							  : 0;
						bool t = !(c & RG__C_NAME),
						     v = !(c & RG__C_VALUE);
						if (((m[0] >> i) & 1) != t ||
						    ((m[1] >> i) & 1) != v)
							fail_msg(
							    "n %zu, 0x%02x "
							    "at %zu, bit %zu",
							    n, b, pos, i);
					}
				}
			}
		}
	}
	rg__simd_select(RG__SIMD_AVX2);
}

static void classify_scalar_masks(void **state)
{
	(void)state;
	classify_level(RG__SIMD_SCALAR);
}

static void classify_sse42(void **state)
{
	(void)state;
	classify_level(RG__SIMD_SSE42);
}

static void classify_avx2(void **state)
{
	(void)state;
	classify_level(RG__SIMD_AVX2);
}

/* The Host masks (SSE4.2 and AVX2 levels) against the table and DIGIT:
 * every byte value at every position, the 16 bytes ending at the guard
 * page. */
static void host_masks(void **state)
{
	(void)state;
#if defined(__x86_64__)
	if (rg__simd_best() < RG__SIMD_SSE42)
		skip();
	char *p = area + 3 * page - 16;
	for (int b = 0; b < 256; b++) {
		for (size_t pos = 0; pos < 16; pos++) {
			memset(p, 'a', 16);
			p[pos] = (char)b;
			struct rg__host_masks m = rg__host_masks16(p);
			for (size_t i = 0; i < 16; i++) {
				unsigned char c = (unsigned char)p[i];
				bool stop = !rg__is(c, RG__C_REGNAME);
				bool nondigit = c < '0' || c > '9';
				if (((m.stop >> i) & 1) != stop ||
				    ((m.nondigit >> i) & 1) != nondigit)
					fail_msg("0x%02x at %zu, bit %zu", b,
						 pos, i);
			}
			if (m.stop >> 16 || m.nondigit >> 16)
				fail_msg("bits above 16 for 0x%02x", b);
		}
	}
#else
	skip();
#endif
}

/* The inline dispatchers honour the selected level and the scalar switch. */
static void level_selection(void **state)
{
	(void)state;
	enum rg__simd best = rg__simd_best();
	assert_int_equal(rg__simd_level, best); /* chosen at load */
	rg__parser_force_scalar(true);
	assert_int_equal(rg__simd_level, RG__SIMD_SCALAR);
	rg__parser_force_scalar(false);
	assert_int_equal(rg__simd_level, best);
	assert_int_equal(rg__simd_select(RG__SIMD_SSE42),
			 best < RG__SIMD_SSE42 ? best : RG__SIMD_SSE42);
	rg__simd_select(RG__SIMD_AVX2);
	assert_int_equal(rg__simd_level, best);

	char *p = area + 3 * page - 40;
	memset(p, 'a', 40);
	p[37] = ':';
	for (int l = RG__SIMD_SCALAR; l <= RG__SIMD_AVX2; l++) {
		rg__simd_select((enum rg__simd)l);
		assert_ptr_equal(rg__scan_token(p, p + 40), p + 37);
		assert_ptr_equal(rg__scan_value(p, p + 40), p + 40);
		assert_ptr_equal(rg__scan_target(p, p + 40), p + 40);
		assert_ptr_equal(rg__scan_token(p, p + 5), p + 5);
	}
	rg__simd_select(RG__SIMD_AVX2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(class_table),
	    cmocka_unit_test(scanners_sse42),
	    cmocka_unit_test(scanners_avx2),
	    cmocka_unit_test(scanners_random),
	    cmocka_unit_test(classify_scalar_masks),
	    cmocka_unit_test(classify_sse42),
	    cmocka_unit_test(classify_avx2),
	    cmocka_unit_test(host_masks),
	    cmocka_unit_test(level_selection),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
