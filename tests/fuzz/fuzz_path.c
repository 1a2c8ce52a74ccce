/* fuzz_path.c: libFuzzer target for the static file server's path decoder,
 * rg__pct_decode in its strict mode (http/pct.c).
 *
 * Input: the raw path (as the request target carries it), then a 1-byte
 * trailer the fuzzer mutates like the rest: the seed of the re-encoding
 * below (which bytes are escaped, in which hex case).
 *
 * The path and the output each get an exactly-sized buffer (n + 1 bytes
 * out, as the contract says), so that a read or write past them is caught
 * by ASan. Checked: the path is accepted exactly when every '%' starts an
 * escape of two hex digits and neither a raw byte nor an escape is NUL
 * (RFC 3986 2.1; NUL is refused); an accepted path decodes to one byte per
 * escape and per other byte, so to n - 2 x (its '%' count) bytes, never
 * more than n, NUL-terminated and holding no NUL; a path without '%' is
 * its own decoding ('+' stays '+'); and the decoding, escaped again (every
 * '%', and other bytes as the trailer picks, in either hex case), decodes
 * back to the same bytes. Any difference calls abort(). */
#include "http/pct.h"
#include "static/static.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_path"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* What the contract accepts, and how many '%' the path holds. */
static bool well_formed(const char *s, size_t n, size_t *escapes)
{
	*escapes = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0')
			return false;
		if (s[i] != '%')
			continue;
		if (n - i < 3 || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
			return false;
		if (s[i + 1] == '0' && s[i + 2] == '0')
			return false; /* %00 */
		(*escapes)++;
		i += 2;
	}
	return true;
}

/* Decodes s[0, n) into a buffer of exactly n + 1 bytes (malloc'd). */
static long decode(const char *s, size_t n, char **out)
{
	char *in = dup_exact(s, n);
	*out = malloc(n + 1);
	CHECK(*out != NULL);
	long r = rg__pct_decode(in, n, *out, RG__PCT_STRICT);
	free(in);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t n = size - 1;
	unsigned seed = data[n];
	const char *s = (const char *)data;

	char *out;
	long r = decode(s, n, &out);
	size_t escapes;
	bool ok = well_formed(s, n, &escapes);
	CHECK(r >= 0 || r == -EINVAL);
	CHECK((r >= 0) == ok);
	if (r < 0) {
		free(out);
		return 0;
	}
	size_t len = (size_t)r;
	CHECK(len <= n);
	CHECK(len == n - 2 * escapes);
	CHECK(out[len] == '\0');
	CHECK(memchr(out, '\0', len) == NULL);
	if (!memchr(s, '%', n))
		CHECK(len == n && !memcmp(out, s, n));

	/* Escaped again: every '%' (else it would start an escape), and
	 * others where the seed's bits say, each in either hex case. */
	static const char hex[2][17] = {"0123456789ABCDEF", "0123456789abcdef"};
	char *enc = malloc(3 * len + 1);
	CHECK(enc != NULL);
	size_t m = 0;
	unsigned bits = seed * 0x9e3779b9u + 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];
		bits = bits * 1103515245u + 12345u;
		if (c == '%' || (bits >> 16) % 4 == 0) {
			const char *h = hex[(bits >> 20) & 1];
			enc[m++] = '%';
			enc[m++] = h[c >> 4];
			enc[m++] = h[c & 15];
		} else {
			enc[m++] = (char)c;
		}
	}
	char *back;
	long rb = decode(enc, m, &back);
	CHECK(rb == (long)len);
	CHECK(!memcmp(back, out, len) && back[len] == '\0');
	free(back);
	free(enc);
	free(out);
	return 0;
}
