/* scan.h: byte classes of HTTP/1.1 (RFC 9110, RFC 9112) and the scanners
 * that find the first byte outside a class, with SIMD paths (SSE4.2, AVX2)
 * picked at run time and a scalar fallback giving the same results. */
#ifndef RG_HTTP_SCAN_H
#define RG_HTTP_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bits of rg__http_class[byte]. */
enum {
	RG__C_TCHAR = 0x01,  /* token character (RFC 9110 5.6.2) */
	RG__C_VALUE = 0x02,  /* field value byte: HTAB, SP, VCHAR, obs-text */
	RG__C_TARGET = 0x04, /* request-target byte: VCHAR (0x21-0x7E) but
				'#', which starts a fragment (RFC 9112 3.2) */
	RG__C_HEX = 0x08,    /* HEXDIG, either case */
	RG__C_OWS = 0x10,    /* SP or HTAB */
	RG__C_QDTEXT = 0x20, /* quoted-string text (RFC 9110 5.6.4) */
	RG__C_REGNAME =
	    0x40,	  /* reg-name byte but '%': unreserved, sub-delims */
	RG__C_NAME = 0x80 /* field-name byte taken without a second look:
			     a tchar but '_' (see parser.c) */
};

extern const uint8_t rg__http_class[256];

static inline bool rg__is(unsigned char c, unsigned cls)
{
	return rg__http_class[c] & cls;
}

/* Instruction sets the scanners may use; the best one the CPU has is
 * chosen when the library loads. */
enum rg__simd {
	RG__SIMD_SCALAR,
	RG__SIMD_SSE42,
	RG__SIMD_AVX2,
};

extern enum rg__simd rg__simd_level;

/* Selects `level`, or the best the CPU supports below it; returns the level
 * in force. For tests and benchmarks; not thread-safe. */
enum rg__simd rg__simd_select(enum rg__simd level);

/* The best level this CPU supports. */
enum rg__simd rg__simd_best(void);

/* true: every scanner takes the scalar path (tests run each case on both);
 * false: back to the best level the CPU supports. */
void rg__parser_force_scalar(bool on);

/* Class masks of 64 bytes: bit i of `name` is set when p[i] is not
 * RG__C_NAME (not a tchar, or '_'), of `value` when p[i] is not a
 * field-value byte (so CR, LF and the CTLs a value may not hold); in both
 * for every i from end - p on. */
struct rg__masks {
	uint64_t name, value;
};

/* The masks of the 64 bytes at p; bytes from `lo` (<= p) to `end` may be
 * read. Returned by value: they stay in registers. */
struct rg__masks rg__classify64_any(const char *lo, const char *p,
				    const char *end);
#if defined(__x86_64__)
struct rg__masks rg__classify64_avx2(const char *p);
#endif

/* The masks `m` of the 64 bytes at q moved to describe the n (< 64) bytes
 * at q + k, which end the input: the bits past them become ones. */
static inline struct rg__masks rg__masks_tail(struct rg__masks m, size_t k,
					      size_t n)
{
	uint64_t past = ~(uint64_t)0 << n;
	return (struct rg__masks){m.name >> k | past, m.value >> k | past};
}

/* AVX2 inline, the tail of a short head too (fewer than 64 bytes from p to
 * `end`, but 64 from `lo`: a 78-byte curl GET's fields): the call to
 * rg__classify64_any measured 40 instructions a head. */
static inline struct rg__masks rg__classify64(const char *lo, const char *p,
					      const char *end)
{
#if defined(__x86_64__)
	if (rg__simd_level == RG__SIMD_AVX2) {
		if (end - p >= 64)
			return rg__classify64_avx2(p);
		if (end - lo >= 64 && p < end)
			return rg__masks_tail(rg__classify64_avx2(end - 64),
					      (size_t)(p - (end - 64)),
					      (size_t)(end - p));
	}
#endif
	return rg__classify64_any(lo, p, end);
}

/* For a Host value (RFC 3986 3.2.2, 3.2.3), the 16 bytes at p: bit i of
 * `stop` set when p[i] is not RG__C_REGNAME, of `nondigit` when it is not
 * a DIGIT. On the SSE4.2 and AVX2 levels only; p[0, 16) must be readable. */
struct rg__host_masks {
	uint32_t stop, nondigit;
};
#if defined(__x86_64__)
struct rg__host_masks rg__host_masks16(const char *p);
#endif

/* SIMD scanners: the first byte of [p, end) outside the class, or `end`.
 * They need end - p >= 16 and never read outside [p, end). */
#if defined(__x86_64__)
const char *rg__scan_token_sse42(const char *p, const char *end);
const char *rg__scan_value_sse42(const char *p, const char *end);
const char *rg__scan_target_sse42(const char *p, const char *end);
const char *rg__scan_token_avx2(const char *p, const char *end);
const char *rg__scan_value_avx2(const char *p, const char *end);
const char *rg__scan_target_avx2(const char *p, const char *end);
#define RG__SCAN_SIMD(name, p, end)                                            \
	do {                                                                   \
		if ((end) - (p) >= 16 && rg__simd_level != RG__SIMD_SCALAR)    \
			return rg__simd_level == RG__SIMD_AVX2                 \
				   ? rg__scan_##name##_avx2((p), (end))        \
				   : rg__scan_##name##_sse42((p), (end));      \
	} while (0)
#else
#define RG__SCAN_SIMD(name, p, end) ((void)0)
#endif

/* Scalar loop, unrolled by four: the first byte of [p, end) not in `cls`. */
static inline const char *rg__scan_scalar(const char *p, const char *end,
					  unsigned cls)
{
	while (end - p >= 4) {
		if (!rg__is((unsigned char)p[0], cls))
			return p;
		if (!rg__is((unsigned char)p[1], cls))
			return p + 1;
		if (!rg__is((unsigned char)p[2], cls))
			return p + 2;
		if (!rg__is((unsigned char)p[3], cls))
			return p + 3;
		p += 4;
	}
	while (p < end && rg__is((unsigned char)*p, cls))
		p++;
	return p;
}

/* The first byte of [p, end) that is not a tchar, or `end`. */
static inline const char *rg__scan_token(const char *p, const char *end)
{
	RG__SCAN_SIMD(token, p, end);
	return rg__scan_scalar(p, end, RG__C_TCHAR);
}

/* The first byte of [p, end) not allowed in a field value (a CTL other than
 * HTAB, or DEL; CR and LF included), or `end`. */
static inline const char *rg__scan_value(const char *p, const char *end)
{
	RG__SCAN_SIMD(value, p, end);
	return rg__scan_scalar(p, end, RG__C_VALUE);
}

/* The first byte of [p, end) that is not RG__C_TARGET, or `end`. */
static inline const char *rg__scan_target(const char *p, const char *end)
{
	RG__SCAN_SIMD(target, p, end);
	return rg__scan_scalar(p, end, RG__C_TARGET);
}

#endif /* RG_HTTP_SCAN_H */
