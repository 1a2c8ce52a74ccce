/* app.h: what the ringlet demo program's files share: the state handed to
 * every handler, the handlers themselves, and the small text helpers. */
#ifndef RG_APP_APP_H
#define RG_APP_APP_H

#include "dataset.h"
#include "ringlet.h"

#include <stdbool.h>
#include <stdint.h>

struct app;

/* settings.c: what the command line asks for. */
struct cli {
	struct rg_config_source src; /* -c, -p, -w, --host, --root, --io,
					--max-connections */
	bool test_only;		     /* -t */
	const char *data;	     /* --data: JSON for /json/{count} */
};

/* Parses argv (exits with status 2 and a message on a usage error, 0
 * after --help/--version). */
void app_cli_parse(int argc, char **argv, struct cli *out);

/* default_config.c: the embedded configuration (app/ringlet.toml). */
extern const char app_default_config[];

/* worker.c: a worker process of the demo: its routes on rg_worker_serve. */
int app_worker(const struct rg_worker *w, void *app);

/* Built by main.c before the server runs, read-only afterwards; every route
 * gets a pointer to it as its `data`. */
struct app {
	struct rg_static *files; /* the root, served under /static/; one per
				    worker (data of that route) */
	const struct dataset *dataset; /* --data; NULL if unset */
};

/* handlers.c: the benchmark workloads (TechEmpower, HttpArena). */
rg_handler app_plaintext, app_json_hello, app_baseline_get, app_baseline_post,
    app_pipeline, app_upload;

/* json_items.c: GET /json/{count}. */
rg_handler app_json_items;

/* conformance.c: the endpoints protocol test suites probe. */
rg_handler app_root, app_root_echo, app_echo_headers;

/* probes.c: the suspending calls, a streamed response. */
rg_handler app_sleep, app_upstream, app_stream;

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
