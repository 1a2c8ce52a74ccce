/* proxy.c: the PROXY protocol header's reader (rg__proxy_parse): version
 * 1, one line of text, and version 2, a binary block with optional TLVs,
 * both as HAProxy's proxy-protocol.txt defines them. Strict: one space
 * between the fields of a line, addresses as inet_pton reads them, ports
 * without a leading zero. */
#include "http/proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

static const char v1_sig[6] = "PROXY ";
static const unsigned char v2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
					 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

enum { V2_HEAD = 16, V2_LOCAL = 0x20, V2_PROXY = 0x21, V2_CRC32C = 0x03 };

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* ------------------------------------------------------------------------
 * Version 1: "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n"
 * ------------------------------------------------------------------------ */

/* The next field of [*p, end) up to a single space or the end: false when
 * it is empty (two spaces, or a space at an end). */
static bool field(const char **p, const char *end, const char **f, size_t *n)
{
	const char *s = *p;
	const char *sp = memchr(s, ' ', (size_t)(end - s));
	const char *e = sp ? sp : end;
	*f = s;
	*n = (size_t)(e - s);
	*p = sp ? sp + 1 : end;
	return *n && !(sp && sp + 1 == end);
}

static bool v1_addr(int af, const char *f, size_t n, uint8_t *out)
{
	char text[INET6_ADDRSTRLEN];
	if (n >= sizeof(text) || memchr(f, '\0', n))
		return false; /* inet_pton would stop at a NUL inside */
	memcpy(text, f, n);
	text[n] = '\0';
	return inet_pton(af, text, out) == 1;
}

static bool v1_port(const char *f, size_t n, uint16_t *out)
{
	if (n > 5 || (n > 1 && f[0] == '0'))
		return false;
	uint32_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (f[i] < '0' || f[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(f[i] - '0');
	}
	*out = (uint16_t)v;
	return v <= 65535;
}

static int v1(const char *buf, size_t len, struct rg__addr *out)
{
	size_t lim = min_size(len, RG__PROXY_V1_MAX);
	const char *lf = memchr(buf, '\n', lim);
	const char *cr = memchr(buf, '\r', lim);
	if (cr && cr + 1 < buf + lim && cr[1] != '\n')
		return -EPROTO; /* a CR alone */
	if (!lf)
		return len >= RG__PROXY_V1_MAX ? -EMSGSIZE : 0;
	if (cr != lf - 1)
		return -EPROTO; /* a LF alone */
	const char *p = buf + sizeof(v1_sig), *end = cr;
	const char *f;
	size_t n;
	/* UNKNOWN: whatever follows, up to the CRLF, is to be ignored. */
	const char *sp = memchr(p, ' ', (size_t)(end - p));
	size_t plen = (size_t)((sp ? sp : end) - p);
	if (plen == 7 && !memcmp(p, "UNKNOWN", 7)) {
		out->af = 0;
		return (int)(lf + 1 - buf);
	}
	if (!field(&p, end, &f, &n) || n != 4 ||
	    (memcmp(f, "TCP4", 4) && memcmp(f, "TCP6", 4)))
		return -EPROTO;
	int af = f[3] == '4' ? AF_INET : AF_INET6;
	uint8_t dst[16];
	uint16_t dport;
	if (!field(&p, end, &f, &n) || !v1_addr(af, f, n, out->addr) ||
	    !field(&p, end, &f, &n) || !v1_addr(af, f, n, dst) ||
	    !field(&p, end, &f, &n) || !v1_port(f, n, &out->port) ||
	    !field(&p, end, &f, &n) || !v1_port(f, n, &dport) || p != end)
		return -EPROTO;
	out->af = (uint8_t)af;
	return (int)(lf + 1 - buf);
}

/* ------------------------------------------------------------------------
 * Version 2: the signature, version and command, family and transport,
 * the length of what follows, the addresses, then TLVs
 * ------------------------------------------------------------------------ */

/* CRC32c (Castagnoli, reflected) of b[0, n) with bytes [skip, skip + 4)
 * read as zero: the checksum TLV's own value. Bit by bit: once per
 * connection, over a few hundred bytes at most in practice. */
static uint32_t crc32c(const unsigned char *b, size_t n, size_t skip)
{
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		crc ^= i - skip < 4 ? 0 : b[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & -(crc & 1));
	}
	return ~crc;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* The TLVs in b[at, total): each whole, a CRC32c one matching. */
static int v2_tlvs(const unsigned char *b, size_t at, size_t total)
{
	while (at < total) {
		if (total - at < 3)
			return -EPROTO;
		size_t n = (size_t)b[at + 1] << 8 | b[at + 2];
		if (total - at - 3 < n)
			return -EPROTO;
		if (b[at] == V2_CRC32C &&
		    (n != 4 || crc32c(b, total, at + 3) != be32(b + at + 3)))
			return -EPROTO;
		at += 3 + n;
	}
	return 0;
}

static int v2(const unsigned char *b, size_t len, size_t max,
	      struct rg__addr *out)
{
	if (len > 12 && b[12] != V2_LOCAL && b[12] != V2_PROXY)
		return -EPROTO; /* another version, or an unknown command */
	unsigned family = len > 13 ? b[13] >> 4 : 0;
	unsigned transport = len > 13 ? b[13] & 0xf : 0;
	bool local = len > 12 && b[12] == V2_LOCAL;
	if (!local && (family > 3 || transport > 1))
		return -EPROTO; /* unknown, or DGRAM: not this connection */
	if (len < V2_HEAD)
		return 0;
	size_t total = V2_HEAD + ((size_t)b[14] << 8 | b[15]);
	if (total > max)
		return -EMSGSIZE;
	if (len < total)
		return 0;
	out->af = 0;
	if (local)
		return (int)total; /* the block is to be skipped unread */
	static const size_t addr_len[] = {0, 12, 36, 216};
	size_t at = V2_HEAD + addr_len[family];
	if (at > total)
		return -EPROTO;
	int r = v2_tlvs(b, at, total);
	if (r)
		return r;
	if (transport == 0 || family == 0 || family == 3)
		return (int)total; /* UNSPEC, or a Unix client */
	size_t alen = family == 1 ? 4 : 16;
	memcpy(out->addr, b + V2_HEAD, alen);
	const unsigned char *port = b + V2_HEAD + 2 * alen;
	out->port = (uint16_t)(port[0] << 8 | port[1]);
	out->af = family == 1 ? AF_INET : AF_INET6;
	return (int)total;
}

int rg__proxy_parse(const char *buf, size_t len, size_t max,
		    struct rg__addr *out)
{
	if (!memcmp(buf, v2_sig, min_size(len, sizeof(v2_sig))))
		return len < sizeof(v2_sig)
			   ? 0
			   : v2((const unsigned char *)buf, len, max, out);
	if (memcmp(buf, v1_sig, min_size(len, sizeof(v1_sig))))
		return -EPROTO;
	return len <= sizeof(v1_sig) ? 0 : v1(buf, len, out);
}
