/* config.h: the configuration file reader, a strict subset of TOML mapped
 * onto struct rg_config (ringlet.h): the server's settings and those of
 * the operations layer (listen addresses, workers, logs, static files). */
#ifndef RG_CORE_CONFIG_H
#define RG_CORE_CONFIG_H

#include <stddef.h>

#include "ringlet.h"

/* Fills `out` with the defaults; nothing to free afterwards. */
void rg__config_init(struct rg_config *out);

/* Parses `len` bytes of `text` (named `name` in messages) into `out`, which
 * it first fills with the defaults, the program's where `program` (may be
 * NULL) has them; the keys of its tables go to their callbacks. Returns
 * 0, -ENOMEM, or -EINVAL with "name:line: message" in `err` (truncated to
 * err_len). On error `out` owns nothing; on success release it with
 * rg_config_free. */
int rg__config_parse(struct rg_config *out, const char *name, const char *text,
		     size_t len, const struct rg_config_source *program,
		     char *err, size_t err_len);

/* Reads the file at `path` and parses it as above; also -errno (with a
 * message in `err`) when the file cannot be read. */
int rg__config_load(struct rg_config *out, const char *path,
		    const struct rg_config_source *program, char *err,
		    size_t err_len);

#endif
