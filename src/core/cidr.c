/* cidr.c: ranges of client addresses (struct rg_cidr): read from their
 * text form, and an address or a request's client matched against a list
 * of them (the [status] endpoints' `allow`, trusted_proxies). */
#include "core/server.h"
#include "http/forwarded.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

int rg_cidr_parse(const char *text, struct rg_cidr *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	if (!n || n >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, text, n);
	addr[n] = '\0';
	*out = (struct rg_cidr){0};
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->af = AF_INET;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->af = AF_INET6;
	else
		return -EINVAL;
	unsigned max = out->af == AF_INET ? 32 : 128, bits = max;
	if (slash) {
		const char *p = slash + 1;
		if (!*p || strlen(p) > 3)
			return -EINVAL;
		bits = 0;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			bits = bits * 10 + (unsigned)(*p - '0');
		}
		if (bits > max)
			return -EINVAL;
	}
	out->bits = (uint8_t)bits;
	/* A host bit set ("10.0.0.1/8") is a typo more often than not. */
	for (unsigned i = bits; i < max; i++)
		if (out->addr[i / 8] & (0x80 >> (i % 8)))
			return -EINVAL;
	return 0;
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, b, whole))
		return false;
	uint8_t mask = (uint8_t)(0xff00 >> rest);
	return !rest || ((a[whole] ^ b[whole]) & mask) == 0;
}

bool rg__cidrs_match(const struct rg_cidrs *set, int af, const uint8_t *addr)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
					   0, 0, 0, 0, 0xff, 0xff};
	if (af == AF_INET6 && !memcmp(addr, mapped, sizeof(mapped))) {
		af = AF_INET;
		addr += sizeof(mapped);
	}
	for (unsigned i = 0; i < set->n; i++)
		if (set->range[i].af == af &&
		    prefix_eq(set->range[i].addr, addr, set->range[i].bits))
			return true;
	return false;
}

bool rg_client_in(struct rg_request *req, const struct rg_cidrs *ranges)
{
	struct rg__addr a = rg__request_client(req);
	return a.af == AF_UNIX || rg__cidrs_match(ranges, a.af, a.addr);
}
