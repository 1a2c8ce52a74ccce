/* addr.h: a client's address as the protocols in front of HTTP name it
 * (a PROXY header, a forwarding header): what replaces the connection's
 * peer for a request. */
#ifndef RG_HTTP_ADDR_H
#define RG_HTTP_ADDR_H

#include <stdint.h>

/* Family AF_INET or AF_INET6 (AF_UNIX: a local client), the address (an
 * IPv4 one in its first 4 bytes) and the port (0: not known); family 0
 * when there is none (the connection's own peer stands). */
struct rg__addr {
	uint8_t af;
	uint16_t port;
	uint8_t addr[16];
};

#endif
