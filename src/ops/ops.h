/* ops.h: what the files of the operations layer share (src/ops): the
 * master's listening sockets and the error log's signal-safe reopen. The
 * API itself is in ringlet.h. */
#ifndef RG_OPS_OPS_H
#define RG_OPS_OPS_H

#include "ringlet.h"

#include <netinet/in.h>

/* The listening sockets of one configuration: fd[slot][address]. */
struct rg__sockset {
	unsigned nslots, naddrs;
	struct {
		char host[INET6_ADDRSTRLEN];
		uint16_t want; /* as configured; 0 = any */
		uint16_t port; /* as bound */
	} addr[RG_MAX_LISTEN];
	int fd[RG_MAX_WORKERS][RG_MAX_LISTEN];
};

/* sockets.c: opens the sockets `c` needs, taking over those of `old`
 * (NULL at start) for the same slot and address: 0, or -errno (logged;
 * nothing stays open). */
int rg__sockset_open(struct rg__sockset *s, const struct rg_config *c,
		     const struct rg__sockset *old);
/* Closes the sockets of `s` that `keep` (NULL: none) does not hold. */
void rg__sockset_close(struct rg__sockset *s, const struct rg__sockset *keep);

/* log.c: async-signal-safe: asks for rg_log_reopen, done by the next
 * rg_log call before it writes (a worker's server reports "reopening
 * logs" from its loop on rg_server_reopen_logs, so it happens at once
 * there). */
void rg__log_reopen_later(void);

#endif
