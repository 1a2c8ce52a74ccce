/* status.c: the operator's endpoints of the [status] table
 * (rg_status_routes): each routed on the server with the access check in
 * front of it, so that a client outside `allow` gets 403 and nothing of
 * the server's figures; and the health check, open to all. */
#include "core/server.h"

#include <string.h>

static bool allowed(struct rg_request *req, const struct rg_server *s)
{
	if (rg_client_in(req, &s->status.allow))
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

static void metrics(struct rg_request *req, void *data)
{
	if (allowed(req, data))
		rg_metrics_handler(req, data);
}

static void page(struct rg_request *req, void *data)
{
	if (allowed(req, data))
		rg_status_page_handler(req, data);
}

/* Readiness, for the load balancer's health checks: no access check (a
 * balancer is rarely on loopback), no figure given away. 503 from the
 * moment the worker drains or stops: the balancer takes the server out
 * while it still answers. */
static void health(struct rg_request *req, void *data)
{
	const struct rg_server *s = data;
	bool down = s->w.draining || s->w.stopping;
	const char *msg = down ? "draining\n" : "ok\n";
	rg_header_add(req, "Cache-Control", "no-store");
	rg_respond(req, down ? 503 : 200, "text/plain", msg, strlen(msg));
}

int rg_status_routes(struct rg_server *server,
		     const struct rg_status_config *status)
{
	server->status = *status;
	/* The health check answers a few bytes and never waits: inline. */
	const struct {
		const char *path;
		rg_handler *handler;
		bool run_inline;
	} routes[] = {{status->stats_path, stats, false},
		      {status->metrics_path, metrics, false},
		      {status->page_path, page, false},
		      {status->health_path, health, true}};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!routes[i].path)
			continue;
		int rc = (routes[i].run_inline ? rg_route_inline : rg_route)(
		    server, "GET", routes[i].path, routes[i].handler, server);
		if (rc < 0)
			return rc;
	}
	return 0;
}
