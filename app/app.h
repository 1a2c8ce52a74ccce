/* app.h: what the ringlet demo program's files share: the state handed to
 * every handler, the handlers themselves, and the small text helpers. */
#ifndef RG_APP_APP_H
#define RG_APP_APP_H

#include "core/config.h"
#include "dataset.h"
#include "ringlet.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define APP_MAX_WORKERS 1024

struct app;

/* settings.c: what the command line asks for; kept for reloads, since
 * flags override the file every time it is read. */
struct cli {
	const char *config_path; /* -c; NULL = the embedded default */
	bool test_only;		 /* -t */
	const char *data;	 /* --data: JSON for /json/{count} */
	int port;		 /* -p; -1 = the file's */
	const char *host;	 /* --host; NULL = the file's listen list */
	unsigned workers;	 /* -w; 0 = the file's */
#define CLI_WORKERS_AUTO (~0u)
	const char *root;	  /* --root */
	int io;			  /* --io; -1 = the file's */
	uint32_t max_connections; /* 0 = the file's */
};

/* The configuration a generation of workers runs with: the file (or the
 * embedded default) with the command line applied. */
struct settings {
	struct rg__config_file file;
	const char *name; /* the file's path, or "(embedded)" */
	unsigned workers; /* "auto" resolved */
};

/* Parses argv (exits with status 2 and a message on a usage error, 0
 * after --help/--version). */
void app_cli_parse(int argc, char **argv, struct cli *out);

/* Reads the configuration and applies the command line: 0, or -errno with
 * "file:line: message" in err. Release with app_settings_free. */
int app_settings_load(struct settings *out, const struct cli *cli, char *err,
		      size_t err_len);
void app_settings_free(struct settings *s);

/* default_config.c: the embedded configuration (app/ringlet.toml). */
extern const char app_default_config[];

/* The listening sockets of one configuration: fd[slot][address]. */
struct sockset {
	unsigned nslots, naddrs;
	struct {
		char host[INET6_ADDRSTRLEN];
		uint16_t want; /* as configured; 0 = any */
		uint16_t port; /* as bound */
	} addr[RG_MAX_LISTEN];
	int fd[APP_MAX_WORKERS][RG_MAX_LISTEN];
};

/* sockets.c: opens the sockets `set` needs, taking over those of `old`
 * (NULL at start) for the same slot and address: 0, or -errno (logged;
 * nothing stays open). */
int app_sockset_open(struct sockset *s, const struct settings *set,
		     const struct sockset *old);
/* Closes the sockets of `s` that `keep` (NULL: none) does not hold. */
void app_sockset_close(struct sockset *s, const struct sockset *keep);

/* What the master hands a worker process. */
struct worker_args {
	const struct settings *settings;
	const int *fds; /* its listening sockets, adopted by its server */
	unsigned nfds;
	struct rg_stats_board *board;
	unsigned board_slot;
	int ready_fd; /* where it writes its pid once it accepts */
};

/* worker.c: runs one worker until it is told to stop; exit status. */
int app_worker_run(const struct worker_args *a, struct app *app);

/* master.c: forks and supervises the workers until SIGTERM, SIGINT or
 * SIGQUIT; reloads on SIGHUP, reopens logs on SIGUSR1. Exit status. */
int app_master_run(const struct cli *cli, struct settings *initial,
		   struct app *app);

/* Built by main.c before the server runs, read-only afterwards; every route
 * gets a pointer to it as its `data`. */
struct app {
	struct rg_server *server; /* for /stats */
	struct rg_static *files;  /* the root, served under /static/; one per
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

/* probes.c: statistics, the suspending calls, a streamed response. */
rg_handler app_stats, app_sleep, app_upstream, app_stream;

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
