/* forwarded.h: the client a trusted proxy's forwarding header names
 * (X-Forwarded-For, or RFC 7239's Forwarded), read the way nginx's realip
 * module reads it with real_ip_recursive on. */
#ifndef RG_HTTP_FORWARDED_H
#define RG_HTTP_FORWARDED_H

#include "http/addr.h"
#include "ringlet.h"

#include <stddef.h>

/* The client named by the `which` header among hs[0, n), for a request
 * whose peer is in `trusted`: its occurrences read as one list, from the
 * right, skipping the addresses in `trusted` (the proxies' own hops); the
 * first one not in it is the client, or the left-most when all are.
 * Returns 1 with *out set (port 0 where the header gives none), or 0 when
 * there is no such header or it is not believable (an element that is not
 * an address: "unknown", an obfuscated name, a typo, a forged hop cannot
 * be told from a real one past it), and the peer stands. */
int rg__forwarded_client(const struct rg_header *hs, size_t n,
			 enum rg_forwarded_header which,
			 const struct rg_cidrs *trusted, struct rg__addr *out);

/* Whether the address (af, addr) is in `set`; an IPv4-mapped IPv6
 * address is matched as IPv4 (core/cidr.c). */
bool rg__cidrs_match(const struct rg_cidrs *set, int af, const uint8_t *addr);

#endif
