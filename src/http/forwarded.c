/* forwarded.c: the request's client from a forwarding header
 * (rg__forwarded_client): X-Forwarded-For's comma-separated addresses, or
 * the "for" parameter of each element of RFC 7239's Forwarded, walked
 * from the right-most, the hop the trusted peer itself appended. */
#include "http/forwarded.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

static bool ows(char ch)
{
	return ch == ' ' || ch == '\t';
}

static void trim(const char **b, const char **e)
{
	while (*b < *e && ows(**b))
		(*b)++;
	while (*e > *b && ows((*e)[-1]))
		(*e)--;
}

/* An address alone, [b, e): into out->af and out->addr. */
static bool ip(int af, const char *b, const char *e, struct rg__addr *out)
{
	char text[INET6_ADDRSTRLEN];
	size_t n = (size_t)(e - b);
	if (!n || n >= sizeof(text))
		return false;
	memcpy(text, b, n);
	text[n] = '\0';
	if (inet_pton(af, text, out->addr) != 1)
		return false;
	out->af = (uint8_t)af;
	return true;
}

static bool xff_entry(const char *b, const char *e, struct rg__addr *out)
{
	out->port = 0;
	return ip(AF_INET, b, e, out) || ip(AF_INET6, b, e, out);
}

/* A node's port, [b, e) after its ':': digits (0 for an obfuscated
 * "_name", allowed by RFC 7239 6.3). */
static bool node_port(const char *b, const char *e, uint16_t *port)
{
	if (b < e && *b == '_') {
		*port = 0;
		return true;
	}
	uint32_t v = 0;
	if (b == e || e - b > 5)
		return false;
	for (; b < e; b++) {
		if (*b < '0' || *b > '9')
			return false;
		v = v * 10 + (uint32_t)(*b - '0');
	}
	*port = (uint16_t)v;
	return v <= 65535;
}

/* RFC 7239 6: IPv4 [":" port] or "[" IPv6 "]" [":" port]. */
static bool node(const char *b, const char *e, struct rg__addr *out)
{
	out->port = 0;
	if (b < e && *b == '[') {
		const char *close = memchr(b, ']', (size_t)(e - b));
		if (!close || !ip(AF_INET6, b + 1, close, out))
			return false;
		return close + 1 == e ||
		       (close[1] == ':' && node_port(close + 2, e, &out->port));
	}
	const char *colon = memchr(b, ':', (size_t)(e - b));
	if (!ip(AF_INET, b, colon ? colon : e, out))
		return false;
	return !colon || node_port(colon + 1, e, &out->port);
}

/* One element of Forwarded, [b, e): the node of its "for" parameter. */
static bool fwd_element(const char *b, const char *e, struct rg__addr *out)
{
	while (b < e) {
		const char *semi = memchr(b, ';', (size_t)(e - b));
		const char *pe = semi ? semi : e, *pb = b;
		b = semi ? semi + 1 : e;
		trim(&pb, &pe);
		if (pe - pb < 4 || strncasecmp(pb, "for=", 4))
			continue;
		pb += 4;
		if (pe - pb >= 2 && *pb == '"' && pe[-1] == '"') {
			pb++;
			pe--;
			if (memchr(pb, '\\', (size_t)(pe - pb)))
				return false; /* no address needs an escape */
		}
		return node(pb, pe, out);
	}
	return false; /* no "for": the hop is not named */
}

int rg__forwarded_client(const struct rg_header *hs, size_t n,
			 enum rg_forwarded_header which,
			 const struct rg_cidrs *trusted, struct rg__addr *out)
{
	const char *name =
	    which == RG_FORWARDED_RFC7239 ? "Forwarded" : "X-Forwarded-For";
	size_t name_len = strlen(name);
	bool found = false;
	for (size_t i = n; i-- > 0;) {
		if (hs[i].name.len != name_len ||
		    strncasecmp(hs[i].name.ptr, name, name_len))
			continue;
		const char *start = hs[i].value.ptr;
		const char *e = start + hs[i].value.len;
		while (e > start) {
			const char *b = e;
			while (b > start && b[-1] != ',')
				b--;
			const char *next = b > start ? b - 1 : start;
			trim(&b, &e);
			if (b < e) { /* an empty element ("a,,b") is none */
				struct rg__addr a;
				if (!(which == RG_FORWARDED_RFC7239
					  ? fwd_element(b, e, &a)
					  : xff_entry(b, e, &a)))
					return 0;
				*out = a;
				found = true;
				if (!rg__cidrs_match(trusted, a.af, a.addr))
					return 1;
			}
			e = next;
		}
	}
	return found;
}
