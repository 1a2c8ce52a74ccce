/* app.h: what the ringlet demo program's files share: the state handed to
 * every handler, the handlers themselves, and the small text helpers. */
#ifndef RG_APP_APP_H
#define RG_APP_APP_H

#include "dataset.h"
#include "ringlet.h"

#include <stdint.h>

/* Built by main.c before the server runs, read-only afterwards; every route
 * gets a pointer to it as its `data`. */
struct app {
	struct rg_server *server; /* for /stats */
	int root_fd;		  /* --root, an O_DIRECTORY fd; -1 if unset */
	const struct dataset *dataset; /* --data; NULL if unset */
};

/* handlers.c: the benchmark workloads (TechEmpower, HttpArena). */
rg_handler app_plaintext, app_json_hello, app_baseline_get, app_baseline_post,
    app_pipeline, app_upload;

/* json_items.c: GET /json/{count}. */
rg_handler app_json_items;

/* conformance.c: the endpoints protocol test suites probe. */
rg_handler app_root, app_root_echo, app_echo_headers;

/* probes.c: statistics, the suspending calls, a streamed response. */
rg_handler app_stats, app_sleep, app_upstream, app_stream;

/* static.c: files under --root. */
rg_handler app_static;

/* text.c: decimal numbers in and out of text, and short replies. */

#define APP_I64_MAX_LEN 20 /* "-9223372036854775808" */

/* Parses an optionally '-'-signed run of decimal digits, nothing else (no
 * spaces, no '+'). 0, -EINVAL, or -ERANGE outside int64_t. */
int app_parse_i64(struct rg_str s, int64_t *out);

/* Writes `v` in decimal into buf (at least APP_I64_MAX_LEN bytes, not
 * NUL-terminated); returns its length. */
size_t app_format_i64(char *buf, int64_t v);

/* Responds `status` with a text/plain body `msg`. */
void app_reply(struct rg_request *req, int status, const char *msg);

/* Responds 200 with the decimal `v` as text/plain. */
void app_reply_i64(struct rg_request *req, int64_t v);

/* Answers a failed body read (an rg_body / rg_body_read error): 413, 408,
 * 400, 503 or 500; nothing when the client is gone. */
void app_reply_body_error(struct rg_request *req, long err);

/* Reads query parameter `name` as an integer in [min, max]. 1 and *out set;
 * 0 when absent; -EINVAL when present but not such an integer; -ENOMEM. */
int app_query_i64(struct rg_request *req, const char *name, int64_t min,
		  int64_t max, int64_t *out);

#endif
