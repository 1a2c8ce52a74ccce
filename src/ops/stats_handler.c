/* stats_handler.c: GET /stats (rg_stats_handler): the server's statistics
 * as JSON, or with ?detail=memory the memory dump, streamed (chunked) from
 * a buffer on the stack as it is written: one pass over the figures, so
 * the document is whole however much they grow meanwhile, and no heap
 * however many workers. */
#include "core/stats.h"

#include <string.h>

#define STATS_BUF 4096

/* A client gone makes the writes fail; the rest is written to nowhere. */
static void send_text(void *req, const char *text, size_t n)
{
	rg_stream_write(req, text, n);
}

static bool is(struct rg_str s, const char *lit)
{
	return s.len == strlen(lit) && !memcmp(s.ptr, lit, s.len);
}

void rg_stats_handler(struct rg_request *req, void *data)
{
	const struct rg_server *server = data;
	struct rg_str detail;
	int has = rg_query_param(req, "detail", &detail);
	if (has < 0) {
		static const char msg[] = "out of memory\n";
		rg_respond(req, 503, "text/plain", msg, sizeof(msg) - 1);
		return;
	}
	if (has && !is(detail, "memory")) {
		static const char msg[] =
		    "detail: \"memory\" is the one known\n";
		rg_respond(req, 400, "text/plain", msg, sizeof(msg) - 1);
		return;
	}
	char buf[STATS_BUF];
	struct rg__out o = {
	    .buf = buf, .cap = sizeof(buf), .flush = send_text, .arg = req};
	if (rg_stream_begin(req, 200, "application/json", RG_LENGTH_UNKNOWN) <
	    0)
		return;
	rg__stats_json_write(server, &o, has == 1);
	if (o.len)
		send_text(req, buf, o.len);
	rg_stream_end(req);
}
