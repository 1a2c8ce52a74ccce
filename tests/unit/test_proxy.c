/* test_proxy.c: the PROXY protocol reader (rg__proxy_parse) on headers of
 * both versions, every field right and wrong: each header parsed whole,
 * cut at every byte (every prefix is "read more", never a result), and
 * followed by a request (which it leaves alone); each bad one refused, and
 * no prefix of it accepted. Every input sits against a PROT_NONE page. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "guard.h"

static int parse_max(const void *p, size_t n, size_t max, struct rg__addr *out)
{
	char *b = guard_tail(n);
	memcpy(b, p, n);
	return rg__proxy_parse(b, n, max, out);
}

static int parse(const void *p, size_t n, struct rg__addr *out)
{
	return parse_max(p, n, 4096, out);
}

/* A valid header h[0, n): every prefix asks for more, the whole parses to
 * n, and with a request after it still n, the same client. */
static struct rg__addr accept_all(const void *h, size_t n)
{
	struct rg__addr c, c2;
	for (size_t k = 0; k < n; k++) {
		int r = parse(h, k, &c);
		if (r != 0)
			print_message("prefix of %zu of %zu bytes: %d\n", k, n,
				      r);
		assert_int_equal(r, 0);
	}
	memset(&c, 0xa5, sizeof(c));
	assert_int_equal(parse(h, n, &c), (int)n);
	char with[4200];
	static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	assert_true(n + sizeof(get) <= sizeof(with));
	memcpy(with, h, n);
	memcpy(with + n, get, sizeof(get) - 1);
	memset(&c2, 0x5a, sizeof(c2));
	assert_int_equal(parse(with, n + sizeof(get) - 1, &c2), (int)n);
	assert_int_equal(c.af, c2.af);
	if (c.af) {
		assert_int_equal(c.port, c2.port);
		assert_memory_equal(c.addr, c2.addr, c.af == AF_INET ? 4 : 16);
	}
	return c;
}

/* A bad header: refused with `err`, and no prefix of it accepted. */
static void refuse(const void *h, size_t n, int err)
{
	struct rg__addr c;
	for (size_t k = 0; k < n; k++) {
		int r = parse(h, k, &c);
		assert_true(r <= 0);
		if (r < 0)
			assert_int_equal(r, err);
	}
	int r = parse(h, n, &c);
	if (r != err)
		print_message("%.*s: %d, expected %d\n", (int)n,
			      (const char *)h, r, err);
	assert_int_equal(r, err);
}

static void check_client(const struct rg__addr *c, int af, const char *addr,
			 uint16_t port)
{
	assert_int_equal(c->af, af);
	uint8_t want[16];
	assert_int_equal(inet_pton(af, addr, want), 1);
	assert_memory_equal(c->addr, want, af == AF_INET ? 4 : 16);
	assert_int_equal(c->port, port);
}

/* ------------------------------------------------------------------------
 * Version 1
 * ------------------------------------------------------------------------ */

static void v1_ok(const char *h, int af, const char *addr, uint16_t port)
{
	struct rg__addr c = accept_all(h, strlen(h));
	if (af)
		check_client(&c, af, addr, port);
	else
		assert_int_equal(c.af, 0);
}

static void test_v1_valid(void **state)
{
	(void)state;
	v1_ok("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n", AF_INET,
	      "192.0.2.1", 56324);
	v1_ok("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n", AF_INET,
	      "0.0.0.0", 0);
	v1_ok("PROXY TCP6 2001:db8::1 ::1 1 80\r\n", AF_INET6, "2001:db8::1",
	      1);
	v1_ok("PROXY TCP6 ::ffff:192.0.2.9 ::1 8080 80\r\n", AF_INET6,
	      "::ffff:192.0.2.9", 8080);
	/* The longest: two full IPv6 addresses, two 5-digit ports. */
	static const char longest[] =
	    "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	assert_int_equal(strlen(longest), 104);
	v1_ok(longest, AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	      65535);
	/* UNKNOWN: the rest of the line is ignored, the peer stands. */
	v1_ok("PROXY UNKNOWN\r\n", 0, NULL, 0);
	v1_ok("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", 0, NULL, 0);
	v1_ok("PROXY UNKNOWN anything at all\r\n", 0, NULL, 0);
}

static void test_v1_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\n",  /* LF alone */
	    "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\rX", /* CR alone */
	    "PROXY TCP4  192.0.2.1 198.51.100.2 56324 443\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443 \r\n",
	    "PROXY  TCP4 192.0.2.1 198.51.100.2 56324 443\r\n",
	    "PROXY TCP5 192.0.2.1 198.51.100.2 56324 443\r\n",
	    "PROXY tcp4 192.0.2.1 198.51.100.2 56324 443\r\n",
	    "PROXY UDP4 192.0.2.1 198.51.100.2 56324 443\r\n",
	    "PROXY UNKNOWNX\r\n",
	    "PROXY \r\n",
	    "PROXY TCP4\r\n",
	    "PROXY TCP4 192.0.2.1\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.2\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.2 56324\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443 1\r\n",
	    "PROXY TCP4 256.0.2.1 198.51.100.2 56324 443\r\n",
	    "PROXY TCP4 192.0.2 198.51.100.2 56324 443\r\n",
	    "PROXY TCP4 192.0.2.01 198.51.100.2 56324 443\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.x 56324 443\r\n",
	    "PROXY TCP4 2001:db8::1 ::1 1 80\r\n",	  /* v6 in TCP4 */
	    "PROXY TCP6 192.0.2.1 198.51.100.2 1 80\r\n", /* v4 in TCP6 */
	    "PROXY TCP6 2001:db8:::1 ::1 1 80\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.2 65536 443\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.2 056324 443\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.2 01 443\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.2 -1 443\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.2 +1 443\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.2 1 44a\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.2 1 \r\n",
	    "PROXY TCP4 192.0.2.1\t198.51.100.2 1 2\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\0\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i]);
		if (i == sizeof(bad) / sizeof(bad[0]) - 1)
			n += 3; /* the NUL and the CRLF after it */
		refuse(bad[i], n, -EPROTO);
	}
	/* A NUL inside an address, where inet_pton would stop reading
	 * (found by fuzz_proxy). */
	static const char nul4[] = "PROXY TCP4 192.0.2.1\0 198.51.100.2 1 2\r\n";
	static const char nul6[] = "PROXY TCP6 ::1 ::1\0 1 2\r\n";
	refuse(nul4, sizeof(nul4) - 1, -EPROTO);
	refuse(nul6, sizeof(nul6) - 1, -EPROTO);
}

/* No CRLF in the first 107 bytes: too long, known at byte 107. */
static void test_v1_too_long(void **state)
{
	(void)state;
	char h[200] = "PROXY TCP6 ";
	memset(h + 11, 'f', sizeof(h) - 11);
	refuse(h, RG__PROXY_V1_MAX, -EMSGSIZE);
	refuse(h, sizeof(h), -EMSGSIZE);
	/* 107 bytes with its CRLF is still one. */
	char ok[RG__PROXY_V1_MAX + 1];
	int n = snprintf(ok, sizeof(ok), "PROXY UNKNOWN %*s\r\n",
			 RG__PROXY_V1_MAX - 16, "x");
	assert_int_equal(n, RG__PROXY_V1_MAX);
	v1_ok(ok, 0, NULL, 0);
	ok[RG__PROXY_V1_MAX - 2] = ok[RG__PROXY_V1_MAX - 1] = 'x';
	/* its CRLF past the limit */
	refuse(ok, RG__PROXY_V1_MAX, -EMSGSIZE);
}

/* Anything else on the connection: refused at its first wrong byte. */
static void test_not_a_header(void **state)
{
	(void)state;
	struct rg__addr c;
	assert_int_equal(parse("", 0, &c), 0);
	assert_int_equal(parse("G", 1, &c), -EPROTO);
	assert_int_equal(parse("PROXY", 5, &c), 0);
	assert_int_equal(parse("PROXy", 5, &c), -EPROTO);
	assert_int_equal(parse("PROXY\r", 6, &c), -EPROTO);
	refuse("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27, -EPROTO);
	assert_int_equal(parse("\r\n\r\n\0\r\nQUIT", 11, &c), 0);
	assert_int_equal(parse("\r\n\r\n\0\r\nQUIX", 11, &c), -EPROTO);
	assert_int_equal(parse("\r\n\r\n", 4, &c), 0);
	assert_int_equal(parse("\r\n\r\nX", 5, &c), -EPROTO);
}

/* ------------------------------------------------------------------------
 * Version 2
 * ------------------------------------------------------------------------ */

static const unsigned char sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				      0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

struct v2 {
	unsigned char b[4096];
	size_t n;
};

/* The 16-byte head; the length is set by v2_end. */
static void v2_begin(struct v2 *h, unsigned ver_cmd, unsigned fam)
{
	memcpy(h->b, sig, 12);
	h->b[12] = (unsigned char)ver_cmd;
	h->b[13] = (unsigned char)fam;
	h->n = 16;
}

static void v2_add(struct v2 *h, const void *p, size_t n)
{
	memcpy(h->b + h->n, p, n);
	h->n += n;
}

static void v2_inet(struct v2 *h, const char *src, const char *dst,
		    uint16_t sport, uint16_t dport, int af)
{
	uint8_t a[16];
	size_t len = af == AF_INET ? 4 : 16;
	assert_int_equal(inet_pton(af, src, a), 1);
	v2_add(h, a, len);
	assert_int_equal(inet_pton(af, dst, a), 1);
	v2_add(h, a, len);
	unsigned char p[4] = {(unsigned char)(sport >> 8), (unsigned char)sport,
			      (unsigned char)(dport >> 8),
			      (unsigned char)dport};
	v2_add(h, p, 4);
}

static void v2_tlv(struct v2 *h, unsigned type, const void *p, size_t n)
{
	unsigned char t[3] = {(unsigned char)type, (unsigned char)(n >> 8),
			      (unsigned char)n};
	v2_add(h, t, 3);
	v2_add(h, p, n);
}

static void v2_end(struct v2 *h)
{
	size_t len = h->n - 16;
	h->b[14] = (unsigned char)(len >> 8);
	h->b[15] = (unsigned char)len;
}

/* CRC32c by a table (not the reader's bit-by-bit loop). */
static uint32_t crc32c_table(const unsigned char *p, size_t n)
{
	static uint32_t t[256];
	if (!t[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
			t[i] = c;
		}
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++)
		c = t[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return ~c;
}

static void test_v2_valid(void **state)
{
	(void)state;
	struct v2 h;
	struct rg__addr c;

	v2_begin(&h, 0x21, 0x11); /* PROXY, TCP over IPv4 */
	v2_inet(&h, "192.0.2.1", "198.51.100.2", 56324, 443, AF_INET);
	v2_end(&h);
	assert_int_equal(h.n, 28);
	c = accept_all(h.b, h.n);
	check_client(&c, AF_INET, "192.0.2.1", 56324);

	v2_begin(&h, 0x21, 0x21); /* TCP over IPv6 */
	v2_inet(&h, "2001:db8::7", "::1", 65535, 80, AF_INET6);
	v2_end(&h);
	c = accept_all(h.b, h.n);
	check_client(&c, AF_INET6, "2001:db8::7", 65535);

	/* TLVs after the addresses (ALPN, authority, NOOP, an empty one). */
	v2_begin(&h, 0x21, 0x11);
	v2_inet(&h, "10.1.2.3", "10.0.0.1", 1234, 80, AF_INET);
	v2_tlv(&h, 0x01, "h2", 2);
	v2_tlv(&h, 0x02, "example.com", 11);
	v2_tlv(&h, 0x04, "\0\0\0", 3);
	v2_tlv(&h, 0xe0, "", 0);
	v2_end(&h);
	c = accept_all(h.b, h.n);
	check_client(&c, AF_INET, "10.1.2.3", 1234);

	/* A CRC32c TLV that matches: over the whole header, its own value
	 * zero. The table's check value first. */
	assert_int_equal(crc32c_table((const unsigned char *)"123456789", 9),
			 0xe3069283u);
	v2_begin(&h, 0x21, 0x21);
	v2_inet(&h, "2001:db8::8", "2001:db8::1", 4000, 443, AF_INET6);
	v2_tlv(&h, 0x03, "\0\0\0\0", 4);
	v2_tlv(&h, 0x05, "unique-id", 9);
	v2_end(&h);
	uint32_t crc = crc32c_table(h.b, h.n);
	unsigned char *v = h.b + 16 + 36 + 3;
	v[0] = (unsigned char)(crc >> 24);
	v[1] = (unsigned char)(crc >> 16);
	v[2] = (unsigned char)(crc >> 8);
	v[3] = (unsigned char)crc;
	c = accept_all(h.b, h.n);
	check_client(&c, AF_INET6, "2001:db8::8", 4000);
	v[3] ^= 1; /* one bit off */
	refuse(h.b, h.n, -EPROTO);

	/* LOCAL (a health check of the balancer's own): the peer stands,
	 * whatever the block says. */
	v2_begin(&h, 0x20, 0x00);
	v2_end(&h);
	assert_int_equal(accept_all(h.b, h.n).af, 0);
	v2_begin(&h, 0x20, 0xff);
	v2_add(&h, "junk", 4);
	v2_end(&h);
	assert_int_equal(accept_all(h.b, h.n).af, 0);

	/* UNSPEC family or transport, a Unix client: the peer stands. */
	v2_begin(&h, 0x21, 0x00);
	v2_end(&h);
	assert_int_equal(accept_all(h.b, h.n).af, 0);
	v2_begin(&h, 0x21, 0x10); /* IPv4, UNSPEC transport */
	v2_inet(&h, "192.0.2.1", "192.0.2.2", 1, 2, AF_INET);
	v2_end(&h);
	assert_int_equal(accept_all(h.b, h.n).af, 0);
	v2_begin(&h, 0x21, 0x31); /* AF_UNIX stream: two 108-byte paths */
	unsigned char paths[216] = "/run/client.sock";
	v2_add(&h, paths, sizeof(paths));
	v2_end(&h);
	assert_int_equal(accept_all(h.b, h.n).af, 0);

	/* What follows the header is left alone, v2 bytes included. */
	v2_begin(&h, 0x21, 0x11);
	v2_inet(&h, "192.0.2.1", "192.0.2.2", 1, 2, AF_INET);
	v2_end(&h);
	v2_add(&h, sig, 12);
	assert_int_equal(parse(h.b, h.n, &c), 28);
}

static void test_v2_invalid(void **state)
{
	(void)state;
	struct v2 h;
	static const unsigned bad_ver_cmd[] = {0x11, 0x31, 0x22, 0x2f,
					       0x01, 0x00, 0xf1};
	for (size_t i = 0; i < sizeof(bad_ver_cmd) / sizeof(*bad_ver_cmd);
	     i++) {
		v2_begin(&h, bad_ver_cmd[i], 0x11);
		v2_inet(&h, "192.0.2.1", "192.0.2.2", 1, 2, AF_INET);
		v2_end(&h);
		refuse(h.b, h.n, -EPROTO);
	}
	/* DGRAM, an unknown family or transport. */
	static const unsigned bad_fam[] = {0x12, 0x22, 0x32, 0x41,
					   0xf1, 0x13, 0x1f};
	for (size_t i = 0; i < sizeof(bad_fam) / sizeof(*bad_fam); i++) {
		v2_begin(&h, 0x21, bad_fam[i]);
		v2_inet(&h, "192.0.2.1", "192.0.2.2", 1, 2, AF_INET);
		v2_end(&h);
		refuse(h.b, h.n, -EPROTO);
	}
	/* A length shorter than the family's addresses. */
	static const struct {
		unsigned fam;
		size_t len;
	} shorts[] = {{0x11, 11}, {0x21, 35}, {0x31, 215}, {0x11, 0}};
	for (size_t i = 0; i < sizeof(shorts) / sizeof(*shorts); i++) {
		v2_begin(&h, 0x21, shorts[i].fam);
		memset(h.b + 16, 0, shorts[i].len);
		h.n += shorts[i].len;
		v2_end(&h);
		refuse(h.b, h.n, -EPROTO);
	}
	/* A TLV cut short: its head, or its value past the end. */
	for (size_t cut = 1; cut <= 4; cut++) {
		v2_begin(&h, 0x21, 0x11);
		v2_inet(&h, "192.0.2.1", "192.0.2.2", 1, 2, AF_INET);
		v2_tlv(&h, 0x02, "ab", 2);
		h.n -= cut;
		v2_end(&h);
		refuse(h.b, h.n, -EPROTO);
	}
	/* A CRC32c TLV of another length than 4. */
	v2_begin(&h, 0x21, 0x11);
	v2_inet(&h, "192.0.2.1", "192.0.2.2", 1, 2, AF_INET);
	v2_tlv(&h, 0x03, "\0\0\0", 3);
	v2_end(&h);
	refuse(h.b, h.n, -EPROTO);
}

/* Longer than the caller's limit: known from the length field, before
 * the block arrives. */
static void test_v2_too_long(void **state)
{
	(void)state;
	struct v2 h;
	struct rg__addr c;
	v2_begin(&h, 0x21, 0x11);
	v2_inet(&h, "192.0.2.1", "192.0.2.2", 1, 2, AF_INET);
	unsigned char big[300] = {0};
	v2_tlv(&h, 0x04, big, sizeof(big));
	v2_end(&h);
	assert_int_equal(parse_max(h.b, 16, h.n - 1, &c), -EMSGSIZE);
	assert_int_equal(parse_max(h.b, h.n, h.n - 1, &c), -EMSGSIZE);
	assert_int_equal(parse_max(h.b, h.n, h.n, &c), (int)h.n);
	/* The largest a length field can say. */
	h.b[14] = h.b[15] = 0xff;
	assert_int_equal(parse_max(h.b, 16, 4096, &c), -EMSGSIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v1_valid),
	    cmocka_unit_test(test_v1_invalid),
	    cmocka_unit_test(test_v1_too_long),
	    cmocka_unit_test(test_not_a_header),
	    cmocka_unit_test(test_v2_valid),
	    cmocka_unit_test(test_v2_invalid),
	    cmocka_unit_test(test_v2_too_long),
	};
	return cmocka_run_group_tests(tests, guard_setup, guard_teardown);
}
