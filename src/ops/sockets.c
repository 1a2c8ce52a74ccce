/* sockets.c: the listening sockets of the master (master.c): one per worker
 * slot and configured address, SO_REUSEPORT, taken over slot by slot from
 * the previous configuration at a reload so that no socket a client may
 * queue on is closed while it is needed. */
#include "ops/ops.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void rg__sockset_close(struct rg__sockset *s, const struct rg__sockset *keep)
{
	for (unsigned i = 0; i < s->nslots; i++)
		for (unsigned j = 0; j < s->naddrs; j++) {
			int fd = s->fd[i][j];
			bool kept = false;
			for (unsigned a = 0; keep && a < keep->nslots; a++)
				for (unsigned b = 0; b < keep->naddrs; b++)
					kept |= keep->fd[a][b] == fd;
			if (fd >= 0 && !kept)
				close(fd);
			s->fd[i][j] = -1;
		}
	s->nslots = 0;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	return ntohs(ss.ss_family == AF_INET6
			 ? ((struct sockaddr_in6 *)&ss)->sin6_port
			 : ((struct sockaddr_in *)&ss)->sin_port);
}

/* The sockets `f` needs, taking over those of `old` (slot by slot, for
 * the same address) so that a reload rebinds nothing it already has.
 * 0, or -errno with a message logged. */
int rg__sockset_open(struct rg__sockset *s, const struct rg_config *f,
		     const struct rg__sockset *old)
{
	s->naddrs = f->nlisten;
	s->nslots = 0;
	for (unsigned j = 0; j < s->naddrs; j++) {
		snprintf(s->addr[j].host, sizeof(s->addr[j].host), "%s",
			 f->listen[j].host);
		s->addr[j].want = s->addr[j].port = f->listen[j].port;
	}
	for (unsigned i = 0; i < f->workers; i++) {
		for (unsigned j = 0; j < s->naddrs; j++) {
			int fd = -1;
			for (unsigned k = 0; old && i < old->nslots &&
					     k < old->naddrs && fd < 0;
			     k++)
				if (old->addr[k].want == s->addr[j].want &&
				    !strcmp(old->addr[k].host,
					    s->addr[j].host)) {
					fd = old->fd[i][k];
					s->addr[j].port = old->addr[k].port;
				}
			if (fd < 0 && !s->addr[j].port && old)
				for (unsigned k = 0; k < old->naddrs; k++)
					if (!old->addr[k].want &&
					    !strcmp(old->addr[k].host,
						    s->addr[j].host))
						s->addr[j].port =
						    old->addr[k].port;
			if (fd < 0)
				fd = rg_listen(s->addr[j].host, s->addr[j].port,
					       f->server.backlog, true);
			if (fd < 0) {
				int v6 = strchr(s->addr[j].host, ':') != NULL;
				rg_log(RG_LOG_ERROR,
				       "cannot listen on %s%s%s:%u: %s",
				       v6 ? "[" : "", s->addr[j].host,
				       v6 ? "]" : "", (unsigned)s->addr[j].port,
				       strerror(-fd));
				s->nslots = i + 1;
				for (unsigned k = j; k < RG_MAX_LISTEN; k++)
					s->fd[i][k] = -1;
				rg__sockset_close(s, old);
				return fd;
			}
			s->fd[i][j] = fd;
			if (!s->addr[j].port)
				s->addr[j].port = bound_port(fd);
		}
		s->nslots = i + 1;
	}
	return 0;
}
