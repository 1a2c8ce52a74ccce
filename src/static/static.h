/* static.h: the static file server's parts, shared by its files: reading
 * the request's validators, ranges and codings (cond.c; the path is
 * decoded by http/pct.c, dates parsed by http/date.c), Content-Type by
 * extension (mime.c), opening a file and its
 * precompressed siblings beneath the root (file.c), the open-file cache
 * (cache.c) and the instance that serves them (static.c). */
#ifndef RG_STATIC_STATIC_H
#define RG_STATIC_STATIC_H

#include "ringlet.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------
 * Pure parsers (cond.c, mime.c): no allocation, no state.
 * ------------------------------------------------------------------------ */


/* The Content-Type for a file name, by its extension (any case); text types
 * carry "; charset=utf-8". "application/octet-stream" when unknown. Static
 * storage. */
const char *rg__mime_type(const char *name, size_t len);

enum rg__range_result {
	RG__RANGE_IGNORE,	 /* absent, malformed or several: send all */
	RG__RANGE_OK,		 /* *first, *len set; 206 */
	RG__RANGE_UNSATISFIABLE, /* 416 */
};

/* A Range field value against a representation of `size` bytes (RFC 9110
 * 14.1.2): one "bytes=a-b", "bytes=a-" or "bytes=-n"; first-pos past the
 * end or a zero suffix is unsatisfiable; last-pos past the end is cut; a
 * list of ranges (the RFC lets a server ignore it), a unit other than
 * bytes, or a malformed spec (a > b included) is ignored. Digits beyond
 * 64 bits saturate (they are past any file's end). */
enum rg__range_result rg__range_parse(struct rg_str value, uint64_t size,
				      uint64_t *first, uint64_t *len);

/* Whether the If-None-Match list `list` matches `etag` (a quoted tag, maybe
 * "W/"-prefixed), by weak comparison (RFC 9110 8.8.3.2): "*" matches any;
 * a malformed list matches nothing. */
bool rg__etag_match_weak(struct rg_str list, struct rg_str etag);

/* Whether one entity tag `tag` (If-Range) equals `etag` by strong
 * comparison: both strong, same opaque tag. */
bool rg__etag_match_strong(struct rg_str tag, struct rg_str etag);


/* The q-values (thousandths, 0 = not acceptable) Accept-Encoding gives br
 * and gzip (RFC 9110 12.5.3): named codings, else "*", else 0. "x-gzip" is
 * gzip; a malformed member counts as q=0. `value` NULL (no field): 0. */
struct rg__codings {
	uint16_t br, gzip;
};
void rg__accept_encoding(const struct rg_str *value, struct rg__codings *out);

/* ------------------------------------------------------------------------
 * Files (file.c)
 * ------------------------------------------------------------------------ */

enum { RG__VAR_IDENTITY, RG__VAR_BR, RG__VAR_GZIP, RG__VAR_COUNT };

/* One representation of a file: the file itself or a precompressed
 * sibling. */
struct rg__static_variant {
	int fd; /* -1: not there */
	uint64_t size;
	int64_t mtime; /* seconds, for Last-Modified */
	/* What a later stat compares with to see a change. */
	uint64_t dev, ino;
	int64_t mtime_ns;
	uint8_t etag_len;
	char etag[47]; /* "\"<mtime hex>-<size hex>[-br|-gz]\"" */
};

struct rg__static_file {
	struct rg__static_variant var[RG__VAR_COUNT];
	const char *type; /* of the file's own name */
	bool index;	  /* a directory's index file */
};

/* Longest index file name; the path buffers handed to file.c have room
 * for this, "/" and a ".br" suffix after the path. */
#define RG__STATIC_INDEX_MAX NAME_MAX
#define RG__STATIC_PATH_EXTRA (RG__STATIC_INDEX_MAX + 8)

struct rg_static;

/* Opens path[0, len) (decoded, relative; path has RG__STATIC_PATH_EXTRA
 * bytes of room after len, used as scratch) beneath the root, and its
 * .br/.gz siblings when configured. Returns 0 with `f` holding the open
 * files, or the status to answer: 301 (a directory named without a final
 * '/'), 403, 404, 500, 503. */
int rg__static_open(const struct rg_static *st, char *path, size_t len,
		    struct rg__static_file *f);

/* Whether the files behind `f` (opened from path[0, len), same room) were
 * replaced, changed, removed, or a sibling appeared. */
bool rg__static_changed(const struct rg_static *st, char *path, size_t len,
			const struct rg__static_file *f);

void rg__static_file_close(struct rg__static_file *f);

/* ------------------------------------------------------------------------
 * The open-file cache (cache.c): a fixed table of entries allocated once,
 * keyed by the decoded path, chained in hash buckets, evicted by a clock
 * hand. An entry in use by a response is pinned: eviction passes it by,
 * and a changed entry is detached (no longer found) and closed when its
 * last response ends.
 * ------------------------------------------------------------------------ */

/* Longer paths bypass the cache. */
#define RG__STATIC_KEY_MAX 256

struct rg__static_cache;

struct rg__static_entry {
	struct rg__static_file file;
	struct rg__static_cache *cache;
	uint64_t hash;
	uint64_t checked_ms; /* when the disk was last compared */
	uint32_t next;	     /* in its bucket; UINT32_MAX ends */
	uint32_t refs;	     /* responses using it */
	uint8_t state;	     /* free, live (findable), detached */
	bool recent;	     /* the clock's reference bit */
	uint16_t key_len;
	char key[RG__STATIC_KEY_MAX];
};

struct rg__static_cache {
	struct rg__static_entry *e;
	uint32_t n, hand;
	uint32_t *bucket; /* mask + 1 heads */
	uint32_t mask;
};

/* 0 or -ENOMEM; n == 0 is a cache that holds nothing. */
int rg__static_cache_init(struct rg__static_cache *c, uint32_t n);
/* Closes every file; no entry may be pinned. */
void rg__static_cache_fini(struct rg__static_cache *c);

uint64_t rg__static_hash(const char *key, size_t len);

/* The live entry for key[0, len), or NULL. */
struct rg__static_entry *rg__static_cache_find(struct rg__static_cache *c,
					       const char *key, size_t len,
					       uint64_t hash);

/* Stores `f` (taking its files) under key[0, len) in a free slot or the
 * one the clock evicts; NULL when every entry is pinned (or there are
 * none), and `f` is left to the caller. */
struct rg__static_entry *rg__static_cache_add(struct rg__static_cache *c,
					      const char *key, size_t len,
					      uint64_t hash,
					      const struct rg__static_file *f);

/* Forgets a live entry: found no more, closed once unpinned. */
void rg__static_cache_detach(struct rg__static_entry *e);

void rg__static_cache_pin(struct rg__static_entry *e);
/* Unpins; an arena cleanup (`arg` is the entry). */
void rg__static_cache_unpin(void *arg);

/* ------------------------------------------------------------------------
 * The instance (static.c)
 * ------------------------------------------------------------------------ */

struct rg_static {
	int root_fd;
	bool precompressed;
	uint32_t valid_ms;
	size_t index_len; /* 0: directories are 404 */
	char index[RG__STATIC_INDEX_MAX + 1];
	struct rg__static_cache cache;
};

#endif /* RG_STATIC_STATIC_H */
