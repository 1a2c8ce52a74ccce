/* stats_handler.c: GET /stats (rg_stats_handler): the server's statistics
 * as JSON, from a buffer on the stack or, for a larger document (many
 * workers), from the request's arena. */
#include "ringlet.h"

#define STATS_BUF 8192

void rg_stats_handler(struct rg_request *req, void *data)
{
	const struct rg_server *server = data;
	char stack[STATS_BUF];
	char *buf = stack;
	size_t n = rg_server_stats_json(server, buf, sizeof(stack));
	if (n >= sizeof(stack)) {
		buf = rg_arena_alloc(rg_request_arena(req), n + 1);
		if (!buf) {
			static const char msg[] = "out of memory\n";
			rg_respond(req, 503, "text/plain", msg,
				   sizeof(msg) - 1);
			return;
		}
		n = rg_server_stats_json(server, buf, n + 1);
	}
	rg_respond(req, 200, "application/json", buf, n);
}
