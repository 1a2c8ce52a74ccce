/* static.c: the static file server's instance (rg_static_create/destroy)
 * and its answer to one request: resolve the path through the cache,
 * choose the representation, evaluate the conditionals (RFC 9110 13.2.2),
 * then 200, 206, 304, 416 or an error status. Built on the public request
 * API, with the library's own parsers (cond.c, http/pct.c, http/date.c). */
#include "http/pct.h"
#include "static/static.h"

#include "http/response.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void rg_static_config_init(struct rg_static_config *config)
{
	*config = (struct rg_static_config){
	    .root = NULL,
	    .index = "index.html",
	    .precompressed = true,
	    .cache_entries = 64,
	    .cache_valid_ms = 1000,
	};
}

struct rg_static *rg_static_create(const struct rg_static_config *config)
{
	if (!config || !config->root ||
	    (config->index &&
	     (strlen(config->index) > RG__STATIC_INDEX_MAX || !*config->index ||
	      strchr(config->index, '/')))) {
		errno = EINVAL;
		return NULL;
	}
	struct rg_static *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	int err;
	st->root_fd = open(config->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->root_fd < 0) {
		err = errno;
		goto fail;
	}
	/* Without openat2 (Linux 5.6) nothing keeps paths beneath the
	 * root: refuse to serve rather than serve unsafely. */
	if (syscall(SYS_openat2, -1, "", NULL, 0) < 0 && errno == ENOSYS) {
		err = ENOSYS;
		goto fail;
	}
	if (config->index) {
		st->index_len = strlen(config->index);
		memcpy(st->index, config->index, st->index_len + 1);
	}
	st->precompressed = config->precompressed;
	st->valid_ms = config->cache_valid_ms;
	if (rg__static_cache_init(&st->cache, config->cache_entries) < 0) {
		err = ENOMEM;
		goto fail;
	}
	return st;
fail:
	if (st->root_fd >= 0)
		close(st->root_fd);
	free(st);
	errno = err;
	return NULL;
}

void rg_static_destroy(struct rg_static *st)
{
	if (!st)
		return;
	rg__static_cache_fini(&st->cache);
	close(st->root_fd);
	free(st);
}

/* ------------------------------------------------------------------------
 * Resolution through the cache
 * ------------------------------------------------------------------------ */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void close_private(void *arg)
{
	rg__static_file_close(arg);
}

/* The open file for path[0, len) (with RG__STATIC_PATH_EXTRA bytes of
 * room), pinned or owned until the request's arena is reset: 0 and *out,
 * or the status to answer. */
static int resolve(struct rg_request *req, struct rg_static *st, char *path,
		   size_t len, struct rg__static_file **out)
{
	struct rg_arena *arena = rg_request_arena(req);
	struct rg__static_cache *c = &st->cache;
	bool cacheable = c->n && len <= RG__STATIC_KEY_MAX;
	uint64_t hash = 0, now = 0;
	struct rg__static_entry *e = NULL;
	if (cacheable) {
		hash = rg__static_hash(path, len);
		now = now_ms();
		e = rg__static_cache_find(c, path, len, hash);
		if (e && now - e->checked_ms >= st->valid_ms) {
			if (rg__static_changed(st, path, len, &e->file)) {
				rg__static_cache_detach(e);
				e = NULL;
			} else {
				e->checked_ms = now;
			}
		}
	}
	struct rg__static_file f;
	if (!e) {
		int status = rg__static_open(st, path, len, &f);
		if (status)
			return status;
		if (cacheable &&
		    (e = rg__static_cache_add(c, path, len, hash, &f)))
			e->checked_ms = now;
	}
	if (e) {
		if (rg_arena_cleanup_add(arena, rg__static_cache_unpin, e) < 0)
			return 503;
		rg__static_cache_pin(e);
		*out = &e->file;
		return 0;
	}
	/* Not cached (no room, too long, no cache): the request owns it. */
	struct rg__static_file *own = rg_arena_alloc_aligned(
	    arena, sizeof(f), _Alignof(struct rg__static_file));
	if (own)
		*own = f;
	if (!own || rg_arena_cleanup_add(arena, close_private, own) < 0) {
		rg__static_file_close(&f);
		return 503;
	}
	*out = own;
	return 0;
}

/* ------------------------------------------------------------------------
 * Responses
 * ------------------------------------------------------------------------ */

static int reply(struct rg_request *req, int status)
{
	static const struct {
		int status;
		const char *body;
	} bodies[] = {
	    {400, "400 Bad Request\n"},
	    {403, "403 Forbidden\n"},
	    {404, "404 Not Found\n"},
	    {405, "405 Method Not Allowed\n"},
	    {416, "416 Range Not Satisfiable\n"},
	    {500, "500 Internal Server Error\n"},
	    {503, "503 Service Unavailable\n"},
	};
	const char *body = "error\n";
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		if (bodies[i].status == status)
			body = bodies[i].body;
	return rg_respond(req, status, "text/plain; charset=utf-8", body,
			  strlen(body));
}

/* 301 to the request's own path with a '/' added (its query kept). */
static int redirect_dir(struct rg_request *req)
{
	struct rg_str p = rg_path(req), q = rg_query(req);
	/* One leading '/': "//host/dir/" would leave for another host. */
	while (p.len > 1 && p.ptr[1] == '/') {
		p.ptr++;
		p.len--;
	}
	size_t n = p.len + 1 + (q.len ? q.len + 1 : 0);
	char *loc = rg_arena_alloc(rg_request_arena(req), n + 1);
	if (!loc)
		return reply(req, 503);
	memcpy(loc, p.ptr, p.len);
	loc[p.len] = '/';
	if (q.len) {
		loc[p.len + 1] = '?';
		memcpy(loc + p.len + 2, q.ptr, q.len);
	}
	loc[n] = '\0';
	int err = rg_header_add(req, "Location", loc);
	if (err < 0)
		return reply(req, err == -ENOMEM ? 503 : 400);
	static const char body[] = "301 Moved Permanently\n";
	return rg_respond(req, 301, "text/plain; charset=utf-8", body,
			  sizeof(body) - 1);
}

static bool method_is(struct rg_str m, const char *s)
{
	return m.len == strlen(s) && !memcmp(m.ptr, s, m.len);
}

/* The representation to send: a precompressed sibling when the client
 * accepts its coding (the higher q wins, br on a tie), never with a Range
 * (ranges are of the file itself). */
static int choose(struct rg_request *req, const struct rg__static_file *f,
		  bool ranged)
{
	if (ranged)
		return RG__VAR_IDENTITY;
	bool br = f->var[RG__VAR_BR].fd >= 0;
	bool gz = f->var[RG__VAR_GZIP].fd >= 0;
	if (!br && !gz)
		return RG__VAR_IDENTITY;
	struct rg__codings q;
	rg__accept_encoding(rg_header(req, "Accept-Encoding"), &q);
	unsigned qb = br ? q.br : 0, qg = gz ? q.gzip : 0;
	if (qb && qb >= qg)
		return RG__VAR_BR;
	return qg ? RG__VAR_GZIP : RG__VAR_IDENTITY;
}

/* Whether the request's preconditions say "not modified" (RFC 9110
 * 13.2.2: If-None-Match, else If-Modified-Since). */
static bool not_modified(struct rg_request *req,
			 const struct rg__static_variant *v)
{
	struct rg_str etag = {v->etag, v->etag_len};
	const struct rg_str *inm = rg_header(req, "If-None-Match");
	if (inm)
		return rg__etag_match_weak(*inm, etag);
	const struct rg_str *ims = rg_header(req, "If-Modified-Since");
	int64_t t;
	return ims && rg__http_date_parse(*ims, &t) == 0 && v->mtime <= t;
}

/* Whether If-Range (if any) lets the Range apply (RFC 9110 13.1.5): an
 * entity tag by strong comparison, or exactly the Last-Modified date. */
static bool if_range_ok(struct rg_request *req,
			const struct rg__static_variant *v)
{
	const struct rg_str *ir = rg_header(req, "If-Range");
	if (!ir)
		return true;
	/* A tag starts with a quote or "W/"; a date with a day name
	 * ("Wed, ..."). */
	if (ir->len &&
	    (ir->ptr[0] == '"' ||
	     (ir->len > 1 && ir->ptr[0] == 'W' && ir->ptr[1] == '/')))
		return rg__etag_match_strong(
		    *ir, (struct rg_str){v->etag, v->etag_len});
	int64_t t;
	return rg__http_date_parse(*ir, &t) == 0 && t == v->mtime;
}

static int send_body(struct rg_request *req, int status, const char *type,
		     const struct rg__static_variant *v, uint64_t first,
		     uint64_t len)
{
	int err = rg_stream_begin(req, status, type, (int64_t)len);
	if (err < 0)
		return err;
	err = rg_stream_file(req, v->fd, (int64_t)first, (int64_t)len);
	if (err < 0)
		return err;
	return rg_stream_end(req);
}

static int serve_file(struct rg_request *req, const struct rg__static_file *f,
		      bool head)
{
	const struct rg_str *range = head ? NULL : rg_header(req, "Range");
	int k = choose(req, f, range != NULL);
	const struct rg__static_variant *v = &f->var[k];
	bool vary = f->var[RG__VAR_BR].fd >= 0 || f->var[RG__VAR_GZIP].fd >= 0;

	char lm[RG__DATE_LEN + 1];
	rg__date_format(lm, (time_t)v->mtime);
	int err = rg_header_add(req, "ETag", v->etag);
	if (!err)
		err = rg_header_add(req, "Last-Modified", lm);
	if (!err && vary)
		err = rg_header_add(req, "Vary", "Accept-Encoding");
	if (err)
		return reply(req, 503);
	if (not_modified(req, v))
		return rg_respond(req, 304, NULL, NULL, 0);

	if (k != RG__VAR_IDENTITY)
		err = rg_header_add(req, "Content-Encoding",
				    k == RG__VAR_BR ? "br" : "gzip");
	else
		err = rg_header_add(req, "Accept-Ranges", "bytes");
	if (err)
		return reply(req, 503);

	uint64_t first = 0, len = v->size;
	int status = 200;
	if (range && if_range_ok(req, v)) {
		char cr[64];
		switch (rg__range_parse(*range, v->size, &first, &len)) {
		case RG__RANGE_UNSATISFIABLE:
			snprintf(cr, sizeof(cr), "bytes */%llu",
				 (unsigned long long)v->size);
			if (rg_header_add(req, "Content-Range", cr) < 0)
				return reply(req, 503);
			return reply(req, 416);
		case RG__RANGE_OK:
			snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
				 (unsigned long long)first,
				 (unsigned long long)(first + len - 1),
				 (unsigned long long)v->size);
			if (rg_header_add(req, "Content-Range", cr) < 0)
				return reply(req, 503);
			status = 206;
			break;
		case RG__RANGE_IGNORE:
			break;
		}
	}
	return send_body(req, status, f->type, v, first, len);
}

int rg_static_serve(struct rg_request *req, struct rg_static *st,
		    struct rg_str path)
{
	struct rg_str m = rg_method(req);
	bool head = method_is(m, "HEAD");
	if (!head && !method_is(m, "GET")) {
		if (rg_header_add(req, "Allow", "GET, HEAD") < 0)
			return reply(req, 503);
		return reply(req, 405);
	}
	char *buf = rg_arena_alloc(rg_request_arena(req),
				   path.len + RG__STATIC_PATH_EXTRA + 1);
	if (!buf)
		return reply(req, 503);
	long n = rg__pct_decode(path.ptr, path.len, buf, RG__PCT_STRICT);
	if (n < 0)
		return reply(req, 400);
	/* Relative to the root: "/etc/passwd" and "//x" are "etc/passwd"
	 * and "x" beneath it (openat2 would refuse them anyway). */
	size_t len = (size_t)n;
	char *p = buf;
	while (len && *p == '/') {
		p++;
		len--;
	}
	struct rg__static_file *f;
	int status = resolve(req, st, p, len, &f);
	if (status == 301)
		return redirect_dir(req);
	if (status)
		return reply(req, status);
	return serve_file(req, f, head);
}

void rg_static_handler(struct rg_request *req, void *data)
{
	if (!data) {
		reply(req, 500); /* routed without its rg_static */
		return;
	}
	rg_static_serve(req, data, rg_param(req, "*"));
}
