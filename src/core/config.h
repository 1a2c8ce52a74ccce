/* config.h: the configuration file reader, a strict subset of TOML mapped
 * onto struct rg_server_config plus the few settings only the ringlet
 * program uses (struct rg__config_file). */
#ifndef RG_CORE_CONFIG_H
#define RG_CORE_CONFIG_H

#include <stddef.h>

#include "ringlet.h"

/* A [server] listen address: numeric host ("0.0.0.0", "::") and port. */
struct rg__listen_addr {
	const char *host;
	uint16_t port;
};

struct rg__config_file {
	struct rg_server_config server; /* defaults: rg_server_config_init;
					   host/port unused: see listen */
	struct rg__listen_addr listen[RG_MAX_LISTEN]; /* 0.0.0.0:8080 */
	unsigned nlisten;
	const char *root;	     /* [server] root; "." */
	const char *index;	     /* [static] index; "index.html" */
	bool precompressed;	     /* [static]; true */
	uint32_t open_file_cache;    /* [static] files kept open; 64 */
	unsigned workers;	     /* [performance] workers; 0 = auto */
	const char *access_log;	     /* [log]; NULL = off (the default) */
	const char *error_log;	     /* [log]; NULL = standard error */
	enum rg_log_level log_level; /* [log] level; RG_LOG_INFO */
	char *strings; /* owns every string above and server.host when they
			  came from the file */
};

/* Fills `out` with the defaults; nothing to free afterwards. */
void rg__config_file_init(struct rg__config_file *out);

/* Parses `len` bytes of `text` (named `name` in messages) into `out`, which
 * it first fills with the defaults. Returns 0, -ENOMEM, or -EINVAL with
 * "name:line: message" in `err` (truncated to err_len). On error `out`
 * owns nothing; on success release it with rg__config_file_free. */
int rg__config_parse(struct rg__config_file *out, const char *name,
		     const char *text, size_t len, char *err, size_t err_len);

/* Reads the file at `path` and parses it as above; also -errno (with a
 * message in `err`) when the file cannot be read. */
int rg__config_load(struct rg__config_file *out, const char *path, char *err,
		    size_t err_len);

/* Frees the strings `out` owns and resets it to the defaults. */
void rg__config_file_free(struct rg__config_file *out);

#endif
