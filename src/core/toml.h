/* toml.h: the reader of the configuration language, a strict subset of
 * TOML: [table] headers, bare keys, basic strings (\" \\ \n \t \uXXXX),
 * integers (no leading zeros, '_' between digits), true / false, one-line
 * arrays of strings, comments. It knows nothing of what the keys mean: it
 * hands each header and key = value to a schema, which accepts it or says
 * why not (rg__toml_fail, with "name:line: " before the message). */
#ifndef RG_CORE_TOML_H
#define RG_CORE_TOML_H

#include "ringlet.h"

#include <stddef.h>

struct rg__toml {
	const char *p, *end, *name;
	unsigned line;
	char *err;
	size_t err_len;
	char *buf; /* decoded strings; never longer than the text */
	size_t used;
};

struct rg__toml_schema {
	/* A [name] header: 0, or -EINVAL from rg__toml_fail. */
	int (*table)(struct rg__toml *t, void *arg, const char *name, size_t n);
	/* A key, before its value is read (so that an unknown key is the
	 * error even when its value is malformed too): 0 or -EINVAL. */
	int (*key)(struct rg__toml *t, void *arg, const char *key, size_t n);
	/* Its value: 0 or -EINVAL. Strings point into t->buf. */
	int (*pair)(struct rg__toml *t, void *arg, const char *key, size_t n,
		    const struct rg_config_value *v);
	void *arg;
};

/* Reads `len` bytes of `text` (named `name` in messages) through `s`.
 * 0, with the strings in t->buf (malloc'ed: the caller frees it), -ENOMEM,
 * or the first -EINVAL with "name:line: message" in err (t->buf freed). */
int rg__toml_read(struct rg__toml *t, const char *name, const char *text,
		  size_t len, const struct rg__toml_schema *s, char *err,
		  size_t err_len);

/* Writes "name:line: " and the message into the error; returns -EINVAL. */
__attribute__((format(printf, 2, 3))) int rg__toml_fail(struct rg__toml *t,
							const char *fmt, ...);

#endif
