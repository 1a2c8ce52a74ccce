/* status.c: the operator's endpoints of the [status] table
 * (rg_status_routes): each routed on the server with the access check in
 * front of it, so that a client outside `allow` gets 403 and nothing of
 * the server's figures. */
#include "core/server.h"

static bool allowed(struct rg_request *req, const struct rg_server *s)
{
	if (rg_client_in(req, s->status.allow, s->status.nallow))
		return true;
	static const char msg[] = "forbidden\n";
	rg_respond(req, 403, "text/plain", msg, sizeof(msg) - 1);
	return false;
}

static void stats(struct rg_request *req, void *data)
{
	if (allowed(req, data))
		rg_stats_handler(req, data);
}

int rg_status_routes(struct rg_server *server,
		     const struct rg_status_config *status)
{
	server->status = *status;
	int rc = 0;
	if (status->stats_path)
		rc = rg_route(server, "GET", status->stats_path, stats, server);
	return rc;
}
