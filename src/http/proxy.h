/* proxy.h: the PROXY protocol header (HAProxy's proxy-protocol.txt,
 * versions 1 and 2) that a load balancer writes at the start of a
 * connection to say whose connection it is. */
#ifndef RG_HTTP_PROXY_H
#define RG_HTTP_PROXY_H

#include "http/addr.h"

#include <stddef.h>

/* The longest version 1 header, "PROXY TCP6 <39> <39> 65535 65535\r\n"
 * and its CRLF included (the specification's 107 bytes). */
#define RG__PROXY_V1_MAX 107

/* Reads the header at the start of buf[0, len), either version, with
 * nothing else looked at: its length in bytes (> 0) once whole, *out set
 * to the client it names (AF_INET or AF_INET6), or to family 0 where the
 * connection's own peer stands (a LOCAL command, the UNKNOWN and UNSPEC
 * protocols, a Unix client);
 * 0 while buf is a prefix of a valid header (read more); -EPROTO when it
 * is not a header (another protocol, a malformed field, a version 2 of
 * another version or command, a DGRAM transport, a TLV past the end, a
 * CRC32c TLV that does not match), -EMSGSIZE when it would be longer than
 * `max` bytes (at least RG__PROXY_V1_MAX; version 2 headers carry TLVs).
 * It keeps no state: called again on more bytes, it starts over. */
int rg__proxy_parse(const char *buf, size_t len, size_t max,
		    struct rg__addr *out);

#endif
