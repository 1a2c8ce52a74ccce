/* scan.c: the HTTP byte-class table and the SIMD scanners (SSE4.2 string
 * ranges, AVX2 compares and nibble lookups), chosen at run time.
 *
 * Every scanner returns exactly the first byte outside its class, like the
 * scalar loop in scan.h: the tests run all parser cases on every level.
 * No load reaches outside [p, end): the last block is loaded so that it ends
 * at `end`, overlapping bytes already known to be inside the class. */
#include "scan.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Bits, see scan.h: 0x01 tchar, 0x02 value, 0x04 target, 0x08 hex,
 * 0x10 OWS, 0x20 qdtext, 0x40 reg-name but '%', 0x80 tchar but '_'.
 * tests/unit/test_parser_scan.c rebuilds this table from the RFC grammar
 * and compares. */
/* clang-format off */
const uint8_t rg__http_class[256] = {
	/* 00 */ 0, 0, 0, 0, 0, 0, 0, 0,
	/* 08 */ 0, 0x32, 0, 0, 0, 0, 0, 0,
	/* 10 */ 0, 0, 0, 0, 0, 0, 0, 0,
	/* 18 */ 0, 0, 0, 0, 0, 0, 0, 0,
	/* 20 */ 0x32, 0xe7, 0x06, 0xa3, 0xe7, 0xa7, 0xe7, 0xe7,
	/* 28 */ 0x66, 0x66, 0xe7, 0xe7, 0x66, 0xe7, 0xe7, 0x26,
	/* 30 */ 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef,
	/* 38 */ 0xef, 0xef, 0x26, 0x66, 0x26, 0x66, 0x26, 0x26,
	/* 40 */ 0x26, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xe7,
	/* 48 */ 0xe7, 0xe7, 0xe7, 0xe7, 0xe7, 0xe7, 0xe7, 0xe7,
	/* 50 */ 0xe7, 0xe7, 0xe7, 0xe7, 0xe7, 0xe7, 0xe7, 0xe7,
	/* 58 */ 0xe7, 0xe7, 0xe7, 0x26, 0x06, 0x26, 0xa7, 0x67,
	/* 60 */ 0xa7, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xe7,
	/* 68 */ 0xe7, 0xe7, 0xe7, 0xe7, 0xe7, 0xe7, 0xe7, 0xe7,
	/* 70 */ 0xe7, 0xe7, 0xe7, 0xe7, 0xe7, 0xe7, 0xe7, 0xe7,
	/* 78 */ 0xe7, 0xe7, 0xe7, 0x26, 0xa7, 0x26, 0xe7, 0,
	/* 80 */ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	/* 88 */ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	/* 90 */ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	/* 98 */ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	/* a0 */ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	/* a8 */ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	/* b0 */ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	/* b8 */ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	/* c0 */ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	/* c8 */ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	/* d0 */ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	/* d8 */ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	/* e0 */ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	/* e8 */ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	/* f0 */ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	/* f8 */ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
};
/* clang-format on */

enum rg__simd rg__simd_level = RG__SIMD_SCALAR;

enum rg__simd rg__simd_best(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		return RG__SIMD_AVX2;
	if (__builtin_cpu_supports("sse4.2"))
		return RG__SIMD_SSE42;
#endif
	return RG__SIMD_SCALAR;
}

enum rg__simd rg__simd_select(enum rg__simd level)
{
	enum rg__simd best = rg__simd_best();
	rg__simd_level = level < best ? level : best;
	return rg__simd_level;
}

void rg__parser_force_scalar(bool on)
{
	rg__simd_select(on ? RG__SIMD_SCALAR : RG__SIMD_AVX2);
}

__attribute__((constructor)) static void simd_init(void)
{
	rg__simd_level = rg__simd_best();
}

#if defined(__x86_64__)

/* --- SSE4.2: pcmpestri with byte ranges (after picohttpparser) ---------- */

#define RANGES_MODE                                                            \
	(_SIDD_UBYTE_OPS | _SIDD_CMP_RANGES | _SIDD_LEAST_SIGNIFICANT)

/* First byte of [p, end) inside one of the `n`/2 ranges, or `end`.
 * Needs end - p >= 16. */
__attribute__((target("sse4.2"))) static inline const char *
ranges_find(const char *p, const char *end, const char *ranges, int n)
{
	__m128i r = _mm_loadu_si128((const __m128i *)ranges);
	for (; end - p >= 16; p += 16) {
		int i = _mm_cmpestri(r, n, _mm_loadu_si128((const __m128i *)p),
				     16, RANGES_MODE);
		if (i != 16)
			return p + i;
	}
	if (p == end)
		return end;
	p = end - 16; /* overlaps bytes already found outside the ranges */
	int i = _mm_cmpestri(r, n, _mm_loadu_si128((const __m128i *)p), 16,
			     RANGES_MODE);
	return i != 16 ? p + i : end;
}

/* pcmpestri takes at most eight ranges: the last one, 0x7b-0xff, also
 * holds '|' and '~', which are tchars; those are stepped over here. */
static const char token_ranges[16] = "\x00\x20\x22\x22\x28\x29\x2c\x2c"
				     "\x2f\x2f\x3a\x40\x5b\x5d\x7b\xff";
static const char value_ranges[16] = "\x00\x08\x0a\x1f\x7f\x7f";
static const char target_ranges[16] = "\x00\x20\x23\x23\x7f\xff";

__attribute__((target("sse4.2"))) const char *
rg__scan_token_sse42(const char *p, const char *end)
{
	for (;;) {
		p = ranges_find(p, end, token_ranges, 16);
		if (p == end || !rg__is((unsigned char)*p, RG__C_TCHAR))
			return p;
		if (end - ++p < 16)
			return rg__scan_scalar(p, end, RG__C_TCHAR);
	}
}

__attribute__((target("sse4.2"))) const char *
rg__scan_value_sse42(const char *p, const char *end)
{
	return ranges_find(p, end, value_ranges, 6);
}

__attribute__((target("sse4.2"))) const char *
rg__scan_target_sse42(const char *p, const char *end)
{
	return ranges_find(p, end, target_ranges, 6);
}

/* --- AVX2: compares and nibble lookups, 32 bytes at a time -------------- */

/* Each classifier returns a mask with bit i set when byte i is outside the
 * class; the 16-byte forms serve ranges of 16 to 31 bytes. */

#define AVX2 __attribute__((target("avx2")))

/* Value: a CTL other than HTAB (x <= 0x1f unsigned, x != 0x09), or DEL. */
AVX2 static inline unsigned value_stop32(__m256i b)
{
	__m256i ctl =
	    _mm256_cmpeq_epi8(_mm256_min_epu8(b, _mm256_set1_epi8(0x1f)), b);
	__m256i tab = _mm256_cmpeq_epi8(b, _mm256_set1_epi8(0x09));
	__m256i del = _mm256_cmpeq_epi8(b, _mm256_set1_epi8(0x7f));
	return (unsigned)_mm256_movemask_epi8(
	    _mm256_or_si256(_mm256_andnot_si256(tab, ctl), del));
}

AVX2 static inline unsigned value_stop16(__m128i b)
{
	__m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(b, _mm_set1_epi8(0x1f)), b);
	__m128i tab = _mm_cmpeq_epi8(b, _mm_set1_epi8(0x09));
	__m128i del = _mm_cmpeq_epi8(b, _mm_set1_epi8(0x7f));
	return (unsigned)_mm_movemask_epi8(
	    _mm_or_si128(_mm_andnot_si128(tab, ctl), del));
}

/* Target: outside 0x21-0x7e, or '#' (a fragment is never sent). Adding
 * 0x5f maps that range onto 0x80-0xdd, the signed bytes -128..-35:
 * anything greater is outside. */
AVX2 static inline unsigned target_stop32(__m256i b)
{
	__m256i x = _mm256_add_epi8(b, _mm256_set1_epi8(0x5f));
	__m256i hash = _mm256_cmpeq_epi8(b, _mm256_set1_epi8('#'));
	return (unsigned)_mm256_movemask_epi8(
	    _mm256_or_si256(_mm256_cmpgt_epi8(x, _mm256_set1_epi8(-35)), hash));
}

AVX2 static inline unsigned target_stop16(__m128i b)
{
	__m128i x = _mm_add_epi8(b, _mm_set1_epi8(0x5f));
	__m128i hash = _mm_cmpeq_epi8(b, _mm_set1_epi8('#'));
	return (unsigned)_mm_movemask_epi8(
	    _mm_or_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(-35)), hash));
}

/* Token: the non-tchars as six rectangles of (high nibble, low nibble),
 * one bit each; a byte is outside when lo[low] & hi[high] is non-zero.
 *   bit 0: high 0-1 and 8-f (CTLs, non-ASCII), any low
 *   bit 1: high 2, low 0 2 8 9 c f   (SP " ( ) , /)
 *   bit 2: high 3, low a-f           (: ; < = > ?)
 *   bit 3: high 4, low 0             (@)
 *   bit 4: high 5, low b-d           ([ \ ])
 *   bit 5: high 7, low b d f         ({ } DEL) */
#define TOKEN_LO                                                               \
	0x0b, 0x01, 0x03, 0x01, 0x01, 0x01, 0x01, 0x01, 0x03, 0x03, 0x05,      \
	    0x35, 0x17, 0x35, 0x05, 0x27
#define TOKEN_HI                                                               \
	0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00, 0x20, 0x01, 0x01, 0x01,      \
	    0x01, 0x01, 0x01, 0x01, 0x01

AVX2 static inline unsigned token_stop32(__m256i b)
{
	const __m256i lo = _mm256_setr_epi8(TOKEN_LO, TOKEN_LO);
	const __m256i hi = _mm256_setr_epi8(TOKEN_HI, TOKEN_HI);
	const __m256i nib = _mm256_set1_epi8(0x0f);
	__m256i l = _mm256_shuffle_epi8(lo, _mm256_and_si256(b, nib));
	__m256i h = _mm256_shuffle_epi8(
	    hi, _mm256_and_si256(_mm256_srli_epi16(b, 4), nib));
	__m256i in =
	    _mm256_cmpeq_epi8(_mm256_and_si256(l, h), _mm256_setzero_si256());
	return ~(unsigned)_mm256_movemask_epi8(in);
}

AVX2 static inline unsigned token_stop16(__m128i b)
{
	const __m128i lo = _mm_setr_epi8(TOKEN_LO);
	const __m128i hi = _mm_setr_epi8(TOKEN_HI);
	const __m128i nib = _mm_set1_epi8(0x0f);
	__m128i l = _mm_shuffle_epi8(lo, _mm_and_si128(b, nib));
	__m128i h =
	    _mm_shuffle_epi8(hi, _mm_and_si128(_mm_srli_epi16(b, 4), nib));
	__m128i in = _mm_cmpeq_epi8(_mm_and_si128(l, h), _mm_setzero_si128());
	return ~(unsigned)_mm_movemask_epi8(in) & 0xffff;
}

#define LOAD32(p) _mm256_loadu_si256((const __m256i *)(p))
#define LOAD16(p) _mm_loadu_si128((const __m128i *)(p))

/* The scan loop shared by the three classes: 32-byte blocks, then one last
 * block ending at `end`; 16 to 31 bytes take two 16-byte blocks. */
#define AVX2_SCANNER(name)                                                     \
	AVX2 const char *rg__scan_##name##_avx2(const char *p,                 \
						const char *end)               \
	{                                                                      \
		unsigned m;                                                    \
		if (end - p < 32) {                                            \
			if ((m = name##_stop16(LOAD16(p))))                    \
				return p + __builtin_ctz(m);                   \
			p = end - 16;                                          \
			m = name##_stop16(LOAD16(p));                          \
			return m ? p + __builtin_ctz(m) : end;                 \
		}                                                              \
		for (; end - p >= 32; p += 32)                                 \
			if ((m = name##_stop32(LOAD32(p))))                    \
				return p + __builtin_ctz(m);                   \
		if (p == end)                                                  \
			return end;                                            \
		p = end - 32;                                                  \
		m = name##_stop32(LOAD32(p));                                  \
		return m ? p + __builtin_ctz(m) : end;                         \
	}

AVX2_SCANNER(token)
AVX2_SCANNER(value)
AVX2_SCANNER(target)

/* Both masks from one pair of nibble lookups: bits 0-5 as in TOKEN_LO/HI,
 * bit 4 also holding '_' (high 5, low f: a field name with it is looked
 * at again, see parser.c), the CTLs in bits 6 and 7 rather than bit 0:
 *   bit 0: high 8-f, any low          (non-ASCII)
 *   bit 6: high 1, any low            (CTLs 0x10-0x1f)
 *   bit 7: high 0, low 0-8 a-f        (CTLs 0x00-0x1f but HTAB)
 * HTAB (high 0, low 9) has no bit of its own: it is found by its value.
 * Name stop: any bit, or HTAB. Not a value byte: bit 6 or 7, or DEL. */
static const uint8_t both_lo[16] = {0xcb, 0xc1, 0xc3, 0xc1, 0xc1, 0xc1,
				    0xc1, 0xc1, 0xc3, 0x43, 0xc5, 0xf5,
				    0xd7, 0xf5, 0xc5, 0xf7};
static const uint8_t both_hi[16] = {0x80, 0x40, 0x02, 0x04, 0x08, 0x10,
				    0x00, 0x20, 0x01, 0x01, 0x01, 0x01,
				    0x01, 0x01, 0x01, 0x01};

AVX2 static inline void both_stop32(__m256i b, unsigned *tok, unsigned *val)
{
	const __m256i lo = _mm256_broadcastsi128_si256(LOAD16(both_lo));
	const __m256i hi = _mm256_broadcastsi128_si256(LOAD16(both_hi));
	const __m256i nib = _mm256_set1_epi8(0x0f);
	__m256i x = _mm256_and_si256(
	    _mm256_shuffle_epi8(lo, _mm256_and_si256(b, nib)),
	    _mm256_shuffle_epi8(
		hi, _mm256_and_si256(_mm256_srli_epi16(b, 4), nib)));
	__m256i tab = _mm256_cmpeq_epi8(b, _mm256_set1_epi8(0x09));
	__m256i del = _mm256_cmpeq_epi8(b, _mm256_set1_epi8(0x7f));
	*tok = ~(unsigned)_mm256_movemask_epi8(
		   _mm256_cmpeq_epi8(x, _mm256_setzero_si256())) |
	       (unsigned)_mm256_movemask_epi8(tab);
	*val = (unsigned)_mm256_movemask_epi8(
	    _mm256_or_si256(_mm256_or_si256(x, _mm256_add_epi8(x, x)), del));
}

AVX2 struct rg__masks rg__classify64_avx2(const char *p)
{
	unsigned t0, v0, t1, v1;
	both_stop32(LOAD32(p), &t0, &v0);
	both_stop32(LOAD32(p + 32), &t1, &v1);
	return (struct rg__masks){t0 | (uint64_t)t1 << 32,
				  v0 | (uint64_t)v1 << 32};
}

/* SSE4.2 level: the same lookups on 16 bytes (pshufb is SSSE3, which every
 * SSE4.2 CPU has); pcmpestrm, one per 16 bytes, measured 40% slower. */
__attribute__((target("sse4.2"))) static inline void
both_stop16(__m128i b, unsigned *tok, unsigned *val)
{
	const __m128i nib = _mm_set1_epi8(0x0f);
	__m128i x = _mm_and_si128(
	    _mm_shuffle_epi8(LOAD16(both_lo), _mm_and_si128(b, nib)),
	    _mm_shuffle_epi8(LOAD16(both_hi),
			     _mm_and_si128(_mm_srli_epi16(b, 4), nib)));
	__m128i tab = _mm_cmpeq_epi8(b, _mm_set1_epi8(0x09));
	__m128i del = _mm_cmpeq_epi8(b, _mm_set1_epi8(0x7f));
	*tok = (~(unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(x, _mm_setzero_si128())) |
		(unsigned)_mm_movemask_epi8(tab)) &
	       0xffff;
	*val = (unsigned)_mm_movemask_epi8(
	    _mm_or_si128(_mm_or_si128(x, _mm_add_epi8(x, x)), del));
}

__attribute__((target("sse4.2"))) static struct rg__masks
classify64_sse42(const char *p)
{
	struct rg__masks m = {0, 0};
	for (int i = 0; i < 64; i += 16) {
		unsigned t, v;
		both_stop16(LOAD16(p + i), &t, &v);
		m.name |= (uint64_t)t << i;
		m.value |= (uint64_t)v << i;
	}
	return m;
}

#endif /* __x86_64__ */

#if defined(__x86_64__)
/* Reg-name: the bytes outside it as six rectangles of (high nibble, low
 * nibble), one bit each, as for tokens (a byte is outside when
 * host_lo[low] & host_hi[high] is non-zero):
 *   bit 0: high 0-1 and 8-f (CTLs, non-ASCII), any low
 *   bit 1: high 2, low 0 2 3 5 f      (SP " # % /)
 *   bit 2: high 3, low a c e f        (: < > ?)
 *   bit 3: high 4 and 6, low 0        (@ `)
 *   bit 4: high 5, low b-e            ([ \ ] ^)
 *   bit 5: high 7, low b-d f          ({ | } DEL) */
static const uint8_t host_lo[16] = {0x0b, 0x01, 0x03, 0x03, 0x01, 0x03,
				    0x01, 0x01, 0x01, 0x01, 0x05, 0x31,
				    0x35, 0x31, 0x15, 0x27};
static const uint8_t host_hi[16] = {0x01, 0x01, 0x02, 0x04, 0x08, 0x10,
				    0x08, 0x20, 0x01, 0x01, 0x01, 0x01,
				    0x01, 0x01, 0x01, 0x01};

__attribute__((target("sse4.2"))) struct rg__host_masks
rg__host_masks16(const char *p)
{
	const __m128i nib = _mm_set1_epi8(0x0f);
	__m128i b = LOAD16(p);
	__m128i x = _mm_and_si128(
	    _mm_shuffle_epi8(LOAD16(host_lo), _mm_and_si128(b, nib)),
	    _mm_shuffle_epi8(LOAD16(host_hi),
			     _mm_and_si128(_mm_srli_epi16(b, 4), nib)));
	__m128i in = _mm_cmpeq_epi8(x, _mm_setzero_si128());
	/* b - '0' is a digit's value, 0-9, and anything else above 9. */
	__m128i d = _mm_sub_epi8(b, _mm_set1_epi8('0'));
	__m128i digit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
	return (struct rg__host_masks){
	    ~(unsigned)_mm_movemask_epi8(in) & 0xffff,
	    ~(unsigned)_mm_movemask_epi8(digit) & 0xffff};
}
#endif

static struct rg__masks classify_scalar(const char *p, size_t n)
{
	uint64_t tok = ~(uint64_t)0, val = ~(uint64_t)0;
	for (size_t i = 0; i < n; i++) {
		unsigned c = rg__http_class[(unsigned char)p[i]];
		tok &= ~((uint64_t)(c & RG__C_NAME) >> 7 << i);
		val &= ~((uint64_t)((c & RG__C_VALUE) >> 1) << i);
	}
	return (struct rg__masks){tok, val};
}

struct rg__masks rg__classify64_any(const char *lo, const char *p,
				    const char *end)
{
	size_t n = (size_t)(end - p);
#if defined(__x86_64__)
	if (rg__simd_level != RG__SIMD_SCALAR && n && end - lo >= 64) {
		/* Fewer than 64 bytes left: classify the 64 ending at `end`
		 * and shift; the bits past `end` become ones. */
		const char *q = n >= 64 ? p : end - 64;
		struct rg__masks m = rg__simd_level == RG__SIMD_AVX2
					 ? rg__classify64_avx2(q)
					 : classify64_sse42(q);
		return n < 64 ? rg__masks_tail(m, (size_t)(p - q), n) : m;
	}
#endif
	(void)lo;
	return classify_scalar(p, n < 64 ? n : 64);
}
