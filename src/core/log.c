/* log.c: the server's messages to its owner (rg_server_config.log): one
 * formatted line per event, nothing when no callback is set; events that
 * can repeat quickly are rate-limited to one message a second. */
#include "core/server.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

/* Longer messages are cut; the callback gets a NUL-terminated line. */
#define LOG_MSG_MAX 512

static void log_v(struct rg__worker *w, int level, const char *fmt, va_list ap,
		  uint64_t held)
{
	const struct rg_server_config *c = &w->server->config;
	char msg[LOG_MSG_MAX];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n >= 0 && held && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n,
			 " (%" PRIu64 " more like it held back)", held);
	c->log(c->log_arg, level, msg);
}

void rg__log(struct rg__worker *w, int level, const char *fmt, ...)
{
	if (!w->server->config.log)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_v(w, level, fmt, ap, 0);
	va_end(ap);
}

void rg__log_limited(struct rg__worker *w, enum rg__log_event ev, int level,
		     const char *fmt, ...)
{
	if (!w->server->config.log)
		return;
	struct rg__log_limit *l = &w->log_limits[ev];
	uint64_t now = w->timers.now;
	if (l->last_ms && now - l->last_ms < 1000) {
		l->held++;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	log_v(w, level, fmt, ap, l->held);
	va_end(ap);
	l->last_ms = now;
	l->held = 0;
}

void rg__log_no_memory(struct rg__worker *w, const char *what)
{
	const struct rg_mem_account *a = &w->server->account;
	struct rg__log_limit *l = &w->log_limits[RG__LOG_EV_MEMORY];
	/* The account counts the refusals its limit caused: one since the
	 * last look means this one is the limit's, not a pool's cap. */
	bool limit = a->failures != l->seen;
	l->seen = a->failures;
	if (limit)
		rg__log_limited(w, RG__LOG_EV_MEMORY, RG_LOG_WARN,
				"memory_limit reached (%" PRIu64 " of %" PRIu64
				" bytes in use): refused %s",
				a->reserved, a->limit, what);
	else
		rg__log_limited(w, RG__LOG_EV_MEMORY, RG_LOG_WARN,
				"a pool is at its cap (max_connections, "
				"max_coroutines, or the buffers they imply): "
				"refused %s",
				what);
}
