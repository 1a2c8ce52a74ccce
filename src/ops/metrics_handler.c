/* metrics_handler.c: GET /metrics (rg_metrics_handler): the server's
 * statistics in the Prometheus text format, streamed (chunked) from a
 * buffer on the stack as they are written: a document of many workers
 * needs no heap, and a worker at its memory_limit still answers. */
#include "core/stats.h"

#define METRICS_BUF 4096

static const char metrics_type[] = "text/plain; version=0.0.4; charset=utf-8";

/* A client gone makes the writes fail; the rest is written to nowhere. */
static void send_text(void *req, const char *text, size_t n)
{
	rg_stream_write(req, text, n);
}

void rg_metrics_handler(struct rg_request *req, void *data)
{
	const struct rg_server *server = data;
	char buf[METRICS_BUF];
	struct rg__out o = {
	    .buf = buf, .cap = sizeof(buf), .flush = send_text, .arg = req};
	if (rg_stream_begin(req, 200, metrics_type, RG_LENGTH_UNKNOWN) < 0)
		return;
	rg__metrics_write(server, &o);
	if (o.len)
		send_text(req, buf, o.len);
	rg_stream_end(req);
}
