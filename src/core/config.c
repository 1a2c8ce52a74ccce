/* config.c: the configuration's schema: the tables and keys of
 * docs/configuration.md, their types, units and ranges, mapped onto struct
 * rg_config, rejecting anything it does not understand; and the tables a
 * program adds (rg_config_table), handed their keys. The language itself
 * is read by toml.c. */
#include "core/config.h"
#include "core/toml.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KiB ((uint64_t)1 << 10)
#define MiB ((uint64_t)1 << 20)
#define GiB ((uint64_t)1 << 30)
#define DAY_MS ((uint64_t)86400000)

enum table {
	T_SERVER,
	T_STATIC,
	T_MEMORY,
	T_PERFORMANCE,
	T_LOG,
	T_STATUS,
	T_COUNT
};
static const char *const table_names[T_COUNT] = {
    "server", "static", "memory", "performance", "log", "status"};

enum kind {
	K_STR,	     /* string path */
	K_LOG,	     /* string path or "off" */
	K_SIZE,	     /* integer bytes or "<n>[KiB|MiB|GiB]" */
	K_TIME,	     /* integer ms or "<n>ms" / "<n>s" */
	K_UINT,	     /* integer */
	K_BOOL,	     /* true / false */
	K_BACKEND,   /* "auto" | "io_uring" | "epoll" */
	K_LEVEL,     /* "error" | "warn" | "info" | "debug" */
	K_FORWARDED, /* "X-Forwarded-For" | "Forwarded" */
	K_LISTEN,    /* "host:port", "[v6]:port", ":port", or an array */
	K_WORKERS,   /* integer or "auto" */
	K_ROUTE,     /* a path starting with '/', or "off" (NULL) */
	K_CIDRS,     /* an array of address ranges (rg_cidr_parse) */
};

struct key {
	enum table table;
	const char *name;
	enum kind kind;
	size_t off, width; /* of the field in struct rg_config */
	uint64_t min, max;
};

#define F(m) offsetof(struct rg_config, m), sizeof(((struct rg_config *)0)->m)
#define S(m) F(server.m)

/* Every key of the library's tables. */
static const struct key keys[] = {
    {T_SERVER, "listen", K_LISTEN, F(listen), 0, 0},
    {T_SERVER, "root", K_STR, F(root), 0, 0},
    {T_SERVER, "io_backend", K_BACKEND, S(io_backend), 0, 0},
    {T_SERVER, "backlog", K_UINT, S(backlog), 1, 65535},
    {T_SERVER, "header_timeout", K_TIME, S(header_timeout_ms), 0, DAY_MS},
    {T_SERVER, "body_timeout", K_TIME, S(body_timeout_ms), 0, DAY_MS},
    {T_SERVER, "keepalive_timeout", K_TIME, S(keepalive_timeout_ms), 0, DAY_MS},
    {T_SERVER, "write_timeout", K_TIME, S(write_timeout_ms), 0, DAY_MS},
    {T_SERVER, "shutdown_timeout", K_TIME, S(shutdown_timeout_ms), 0, DAY_MS},
    {T_SERVER, "drain_delay", K_TIME, S(drain_delay_ms), 0, DAY_MS},
    {T_SERVER, "max_body_size", K_SIZE, S(max_body_size), 0, 1024 * GiB},
    {T_SERVER, "max_request_line", K_SIZE, S(max_request_line), 16, MiB},
    {T_SERVER, "max_headers", K_UINT, S(max_headers), 1, 10000},
    {T_SERVER, "underscores_in_headers", K_BOOL, S(underscores_in_headers), 0,
     1},
    {T_SERVER, "proxy_protocol", K_BOOL, S(proxy_protocol), 0, 1},
    {T_SERVER, "trusted_proxies", K_CIDRS, S(trusted_proxies), 0, 0},
    {T_SERVER, "forwarded_header", K_FORWARDED, S(forwarded_header), 0, 0},
    {T_STATIC, "index", K_STR, F(index), 0, 0},
    {T_STATIC, "precompressed", K_BOOL, F(precompressed), 0, 1},
    {T_STATIC, "open_file_cache", K_UINT, F(open_file_cache), 0, 65536},
    {T_MEMORY, "request_arena_size", K_SIZE, S(request_arena_size), KiB, GiB},
    {T_MEMORY, "max_connections", K_UINT, S(max_connections), 1, 10000000},
    {T_MEMORY, "connection_buffer_size", K_SIZE, S(connection_buffer_size),
     8 * KiB, GiB},
    {T_MEMORY, "header_buffer_size", K_SIZE, S(header_buffer_size), KiB, MiB},
    {T_MEMORY, "small_alloc_threshold", K_SIZE, S(small_alloc_threshold), 64,
     KiB},
    {T_MEMORY, "large_alloc_spill", K_SIZE, S(large_alloc_spill), 64, GiB},
    {T_MEMORY, "memory_limit", K_SIZE, S(memory_limit), 0, 1024 * GiB},
    {T_PERFORMANCE, "workers", K_WORKERS, F(workers), 1, 1024},
    {T_PERFORMANCE, "coroutine_stack_size", K_SIZE, S(coroutine_stack_size),
     16 * KiB, 64 * MiB},
    {T_PERFORMANCE, "max_coroutines", K_UINT, S(max_coroutines), 1, 1000000},
    {T_LOG, "access_log", K_LOG, F(access_log), 0, 0},
    {T_LOG, "error_log", K_STR, F(error_log), 0, 0},
    {T_LOG, "level", K_LEVEL, F(log_level), 0, 0},
    {T_STATUS, "stats_path", K_ROUTE, F(status.stats_path), 0, 0},
    {T_STATUS, "metrics_path", K_ROUTE, F(status.metrics_path), 0, 0},
    {T_STATUS, "page_path", K_ROUTE, F(status.page_path), 0, 0},
    {T_STATUS, "health_path", K_ROUTE, F(status.health_path), 0, 0},
    {T_STATUS, "allow", K_CIDRS, F(status.allow), 0, 0},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(RG_CIDRS_MAX >= RG_CONFIG_ARRAY_MAX,
	       "a list of ranges of the longest the reader takes fits");

static const char *const vtype_names[] = {[RG_CONFIG_STRING] = "a string",
					  [RG_CONFIG_INTEGER] = "an integer",
					  [RG_CONFIG_BOOLEAN] = "a boolean",
					  [RG_CONFIG_ARRAY] = "an array"};

/* The schema's state while the reader (toml.c) goes through a file. */
struct parser {
	struct rg_config *c;
	const struct rg_config_table *extra; /* a program's own tables */
	unsigned nextra;
	int table;     /* -1 before the first header; T_COUNT + i: extra[i] */
	uint64_t seen; /* bit `table`: its header was read */
	const struct key *key;	  /* of the pair being read; NULL: extra */
	unsigned key_line[NKEYS]; /* 0 = not given */
};

/* "1GiB", "16KiB" or "1000" for messages about ranges. */
static const char *fmt_size(char *b, size_t n, uint64_t v)
{
	if (v >= GiB && v % GiB == 0)
		snprintf(b, n, "%" PRIu64 "GiB", v / GiB);
	else if (v >= MiB && v % MiB == 0)
		snprintf(b, n, "%" PRIu64 "MiB", v / MiB);
	else if (v >= KiB && v % KiB == 0)
		snprintf(b, n, "%" PRIu64 "KiB", v / KiB);
	else
		snprintf(b, n, "%" PRIu64, v);
	return b;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "<digits><unit>" with one of the units in `units` (scale alongside). */
static int parse_unit(const char *s, const char *const *units,
		      const uint64_t *scale, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;
	for (; is_digit(*p); p++) {
		if (v > UINT64_MAX / 10 - 1)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return -EINVAL;
	for (; *units; units++, scale++) {
		if (!strcmp(p, *units)) {
			if (v > UINT64_MAX / *scale)
				return -ERANGE;
			*out = v * *scale;
			return 0;
		}
	}
	return -EINVAL;
}

static int set_listen(struct rg__toml *ps, struct rg_listen_addr *out, char *s)
{
	char *host = s, *colon, *end;
	if (*s == '[') {
		host = s + 1;
		end = strchr(host, ']');
		colon = end ? end + 1 : NULL;
		if (!end || end == host || *colon != ':')
			goto bad;
		*end = '\0';
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			goto bad; /* none, or an IPv6 address without [] */
		*colon = '\0';
	}
	unsigned long port = 0;
	const char *d = colon + 1;
	if (!*d || strlen(d) > 5)
		goto bad;
	for (; is_digit(*d); d++)
		port = port * 10 + (unsigned long)(*d - '0');
	unsigned char addr[16];
	if (*d || port > 65535 ||
	    (*host &&
	     inet_pton(*s == '[' ? AF_INET6 : AF_INET, host, addr) != 1))
		goto bad;
	out->host = *host ? host : "0.0.0.0";
	out->port = (uint16_t)port;
	return 0;
bad:
	return rg__toml_fail(
	    ps, "bad listen address (expected \"ipv4:port\", "
		"\"[ipv6]:port\" or \":port\", numeric, port 0..65535)");
}

static bool af6(const char *host)
{
	return strchr(host, ':') != NULL;
}

/* The same socket address, however it is spelled ("::" and "0::0"). */
static bool same_listen(const struct rg_listen_addr *a,
			const struct rg_listen_addr *b)
{
	unsigned char x[16], y[16];
	int af = af6(a->host) ? AF_INET6 : AF_INET;
	return a->port && a->port == b->port && af6(b->host) == af6(a->host) &&
	       inet_pton(af, a->host, x) == 1 &&
	       inet_pton(af, b->host, y) == 1 &&
	       !memcmp(x, y, af == AF_INET6 ? 16 : 4);
}

static void store(struct rg_config *c, const struct key *k, uint64_t v)
{
	char *f = (char *)c + k->off;
	if (k->width == 8) {
		uint64_t x = v;
		memcpy(f, &x, 8);
	} else if (k->width == 4) {
		uint32_t x = (uint32_t)v;
		memcpy(f, &x, 4);
	} else if (k->width == 2) {
		uint16_t x = (uint16_t)v;
		memcpy(f, &x, 2);
	} else {
		bool x = v;
		memcpy(f, &x, sizeof(x));
	}
}

static int find(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

static int set_key(struct rg__toml *ps, struct rg_config *c,
		   const struct key *k, struct rg_config_value *v)
{
	static const char *const backends[] = {"auto", "io_uring", "epoll",
					       NULL};
	static const char *const levels[] = {"error", "warn", "info", "debug",
					     NULL};
	static const char *const forwarded[] = {"X-Forwarded-For", "Forwarded",
						NULL};
	static const char *const size_u[] = {"", "KiB", "MiB", "GiB", NULL};
	static const uint64_t size_s[] = {1, KiB, MiB, GiB};
	static const char *const time_u[] = {"ms", "s", NULL};
	static const uint64_t time_s[] = {1, 1000};
	enum rg_config_type want = RG_CONFIG_STRING;
	const char *want_s = NULL;
	uint64_t n = 0;
	int i;

	switch (k->kind) {
	case K_BOOL:
		want = RG_CONFIG_BOOLEAN;
		break;
	case K_UINT:
		want = RG_CONFIG_INTEGER;
		break;
	case K_SIZE:
	case K_TIME:
		want_s = k->kind == K_SIZE ? "an integer or a size string such "
					     "as \"8KiB\""
					   : "an integer (milliseconds) or a "
					     "string such as \"30s\"";
		want = v->type == RG_CONFIG_STRING ? RG_CONFIG_STRING
						   : RG_CONFIG_INTEGER;
		break;
	case K_WORKERS:
		want_s = "an integer or \"auto\"";
		want = v->type == RG_CONFIG_STRING ? RG_CONFIG_STRING
						   : RG_CONFIG_INTEGER;
		break;
	case K_LISTEN:
		want_s = "a string or an array of strings";
		want = v->type == RG_CONFIG_ARRAY ? RG_CONFIG_ARRAY
						  : RG_CONFIG_STRING;
		break;
	case K_CIDRS:
		want_s = "an array of addresses or ranges such as "
			 "\"10.0.0.0/8\"";
		want = RG_CONFIG_ARRAY;
		break;
	default:
		break;
	}
	if (v->type != want)
		return rg__toml_fail(ps, "%s must be %s, not %s", k->name,
				     want_s ? want_s : vtype_names[want],
				     vtype_names[v->type]);

	switch (k->kind) {
	case K_LOG:
		if (!strcmp(v->string, "off")) {
			c->access_log = NULL;
			return 0;
		}
		/* fall through */
	case K_STR:
		if (!*v->string)
			return rg__toml_fail(ps, "%s must not be empty",
					     k->name);
		if (k->off == offsetof(struct rg_config, error_log) &&
		    !strcmp(v->string, "off"))
			return rg__toml_fail(
			    ps, "error_log cannot be \"off\" (leave "
				"it out for standard error, or set "
				"level = \"error\")");
		memcpy((char *)c + k->off, &v->string, sizeof(v->string));
		return 0;
	case K_ROUTE: {
		const char *path = strcmp(v->string, "off") ? v->string : NULL;
		if (path && path[0] != '/')
			return rg__toml_fail(ps,
					     "%s must start with '/' (or be "
					     "\"off\")",
					     k->name);
		memcpy((char *)c + k->off, &path, sizeof(path));
		return 0;
	}
	case K_CIDRS: {
		struct rg_cidrs *set = (struct rg_cidrs *)((char *)c + k->off);
		for (unsigned j = 0; j < v->nitems; j++)
			if (rg_cidr_parse(v->items[j], &set->range[j]))
				return rg__toml_fail(
				    ps,
				    "%s: \"%s\" is not an address or a range "
				    "(such as \"10.0.0.0/8\" or \"::1\"; "
				    "the bits past the length must be 0)",
				    k->name, v->items[j]);
		set->n = v->nitems;
		return 0;
	}
	case K_LISTEN:
		if (v->type == RG_CONFIG_STRING) {
			v->items[0] = v->string;
			v->nitems = 1;
		}
		if (!v->nitems)
			return rg__toml_fail(
			    ps, "listen needs at least one address");
		for (unsigned j = 0; j < v->nitems; j++) {
			int r = set_listen(ps, &c->listen[j], v->items[j]);
			if (r)
				return r;
			for (unsigned k2 = 0; k2 < j; k2++)
				if (same_listen(&c->listen[k2], &c->listen[j]))
					return rg__toml_fail(
					    ps,
					    "listen address %s%s%s:%u "
					    "given twice",
					    af6(c->listen[j].host) ? "[" : "",
					    c->listen[j].host,
					    af6(c->listen[j].host) ? "]" : "",
					    (unsigned)c->listen[j].port);
		}
		c->nlisten = v->nitems;
		return 0;
	case K_BACKEND:
	case K_LEVEL:
	case K_FORWARDED: {
		const char *const *names = k->kind == K_BACKEND ? backends
					   : k->kind == K_LEVEL ? levels
								: forwarded;
		i = find(names, v->string);
		if (i >= 0) {
			store(c, k, (uint64_t)i);
			return 0;
		}
		char list[96];
		size_t len = 0;
		for (int j = 0; names[j]; j++)
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s\"%s\"", j ? ", " : "",
						names[j]);
		return rg__toml_fail(ps, "%s must be one of %s", k->name, list);
	}
	case K_WORKERS:
		if (v->type == RG_CONFIG_STRING) {
			if (strcmp(v->string, "auto"))
				return rg__toml_fail(
				    ps, "workers must be an integer "
					"or \"auto\"");
			c->workers = 0;
			return 0;
		}
		break;
	default:
		break;
	}

	if (v->type == RG_CONFIG_STRING) {
		bool sz = k->kind == K_SIZE;
		int r = parse_unit(v->string, sz ? size_u : time_u,
				   sz ? size_s : time_s, &n);
		if (r == -EINVAL)
			return rg__toml_fail(
			    ps, "bad %s \"%s\" for %s (%s)",
			    sz ? "size" : "duration", v->string, k->name,
			    sz ? "units: KiB, MiB, GiB or none for "
				 "bytes"
			       : "units: ms or s");
		if (r)
			v->integer =
			    -1; /* too large: reported as out of range */
		else if (n > INT64_MAX)
			v->integer = -1;
		else
			v->integer = (int64_t)n;
	}
	if (v->integer < 0 || (uint64_t)v->integer < k->min ||
	    (uint64_t)v->integer > k->max) {
		char lo[32], hi[32];
		if (k->kind == K_SIZE)
			return rg__toml_fail(
			    ps, "%s must be between %s and %s bytes", k->name,
			    fmt_size(lo, sizeof(lo), k->min),
			    fmt_size(hi, sizeof(hi), k->max));
		return rg__toml_fail(
		    ps, "%s must be between %" PRIu64 " and %" PRIu64 "%s",
		    k->name, k->min, k->max,
		    k->kind == K_TIME ? " ms (1 day)" : "");
	}
	store(c, k, (uint64_t)v->integer);
	return 0;
}

static int on_table(struct rg__toml *t, void *arg, const char *name, size_t n)
{
	struct parser *ps = arg;
	for (int i = 0; i < T_COUNT + (int)ps->nextra; i++) {
		const char *tn =
		    i < T_COUNT ? table_names[i] : ps->extra[i - T_COUNT].name;
		if (strlen(tn) != n || memcmp(tn, name, n))
			continue;
		if (ps->seen & (uint64_t)1 << i)
			return rg__toml_fail(t, "table [%s] defined twice", tn);
		ps->seen |= (uint64_t)1 << i;
		ps->table = i;
		return 0;
	}
	return rg__toml_fail(t, "unknown table [%.*s]", (int)n, name);
}

static int on_key(struct rg__toml *t, void *arg, const char *name, size_t n)
{
	struct parser *ps = arg;
	ps->key = NULL;
	if (ps->table < 0)
		return rg__toml_fail(t, "key '%.*s' outside any table", (int)n,
				     name);
	if (ps->table >= T_COUNT)
		return 0; /* the program's table: its callback decides */
	size_t k = 0;
	for (; k < NKEYS; k++)
		if ((int)keys[k].table == ps->table &&
		    strlen(keys[k].name) == n && !memcmp(keys[k].name, name, n))
			break;
	if (k == NKEYS)
		return rg__toml_fail(t, "unknown key '%.*s' in [%s]", (int)n,
				     name, table_names[ps->table]);
	if (ps->key_line[k])
		return rg__toml_fail(t, "duplicate key '%s' (first on line %u)",
				     keys[k].name, ps->key_line[k]);
	ps->key_line[k] = t->line;
	ps->key = &keys[k];
	return 0;
}

static int on_pair(struct rg__toml *t, void *arg, const char *name, size_t n,
		   const struct rg_config_value *v)
{
	struct parser *ps = arg;
	struct rg_config_value copy = *v;
	if (ps->key)
		return set_key(t, ps->c, ps->key, &copy);
	const struct rg_config_table *x = &ps->extra[ps->table - T_COUNT];
	char key[64];
	if (n >= sizeof(key))
		return rg__toml_fail(t, "unknown key '%.*s' in [%s]", (int)n,
				     name, x->name);
	memcpy(key, name, n);
	key[n] = '\0';
	struct rg_config *c = ps->c;
	for (unsigned i = 0; i < c->nentries; i++)
		if (c->entries[i].table == x->name &&
		    !strcmp(c->entries[i].key, key))
			return rg__toml_fail(
			    t, "duplicate key '%s' (first on line %u)", key,
			    c->entries[i].value.line);
	char why[256] = "";
	int r = x->key ? x->key(x->arg, key, v, why, sizeof(why)) : 0;
	if (r < 0)
		return rg__toml_fail(t, "%s", why[0] ? why : strerror(-r));
	struct rg_config_entry *e =
	    realloc(c->entries, (c->nentries + 1) * sizeof(*e));
	if (!e)
		return -ENOMEM;
	c->entries = e;
	e = &e[c->nentries++];
	e->table = x->name;
	memcpy(e->key, key, n + 1);
	e->value = *v;
	return 0;
}

const struct rg_config_value *rg_config_get(const struct rg_config *c,
					    const char *table, const char *key)
{
	for (unsigned i = 0; i < c->nentries; i++)
		if (!strcmp(c->entries[i].table, table) &&
		    !strcmp(c->entries[i].key, key))
			return &c->entries[i].value;
	return NULL;
}

void rg__config_init(struct rg_config *c)
{
	*c = (struct rg_config){
	    .listen = {{"0.0.0.0", 8080}},
	    .nlisten = 1,
	    .root = ".",
	    .index = "index.html",
	    .precompressed = true,
	    .open_file_cache = 64,
	    .log_level = RG_LOG_INFO,
	    .status = {.stats_path = "/stats",
		       .metrics_path = "/metrics",
		       .page_path = "/status",
		       .health_path = "/healthz",
		       .allow = {.range = {{AF_INET, 32, {127, 0, 0, 1}},
					   {AF_INET6, 128, {[15] = 1}}},
				 .n = 2}},
	};
	rg_server_config_init(&c->server);
}

void rg_config_free(struct rg_config *c)
{
	free(c->strings);
	free(c->entries);
	rg__config_init(c);
}

/* The line of key `name` if the file gave it, else of `other`'s. */
static unsigned line_of(const struct parser *ps, const char *name,
			const char *other)
{
	unsigned line = 0, other_line = 0;
	for (size_t k = 0; k < NKEYS; k++)
		if (!strcmp(keys[k].name, name))
			line = ps->key_line[k];
		else if (!strcmp(keys[k].name, other))
			other_line = ps->key_line[k];
	return line ? line : other_line;
}

/* What holds between keys, once the whole file is read. */
static int cross_check(struct rg__toml *t, const struct parser *ps)
{
	const struct rg_config *c = ps->c;
	if (c->server.max_request_line > c->server.header_buffer_size) {
		t->line = line_of(ps, "max_request_line", "header_buffer_size");
		return rg__toml_fail(t,
				     "max_request_line (%zu) exceeds "
				     "header_buffer_size (%zu)",
				     c->server.max_request_line,
				     c->server.header_buffer_size);
	}
	const struct rg_status_config *st = &c->status;
	if (st->page_path && !st->stats_path) {
		t->line = line_of(ps, "stats_path", "page_path");
		return rg__toml_fail(t, "page_path needs stats_path (the page "
					"reads it): set page_path = \"off\" "
					"too");
	}
	const char *const paths[] = {st->stats_path, st->metrics_path,
				     st->page_path, st->health_path};
	const char *const names[] = {"stats_path", "metrics_path", "page_path",
				     "health_path"};
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			if (paths[i] && paths[j] &&
			    !strcmp(paths[i], paths[j])) {
				t->line = line_of(ps, names[j], names[i]);
				return rg__toml_fail(t, "%s and %s are both %s",
						     names[i], names[j],
						     paths[i]);
			}
	return 0;
}

int rg__config_parse(struct rg_config *c, const char *name, const char *text,
		     size_t len, const struct rg_config_source *program,
		     char *err, size_t err_len)
{
	struct parser ps = {.c = c,
			    .extra = program ? program->tables : NULL,
			    .nextra = program ? program->ntables : 0,
			    .table = -1};
	if (ps.nextra > 64 - T_COUNT)
		return -EINVAL;
	const struct rg__toml_schema schema = {on_table, on_key, on_pair, &ps};
	struct rg__toml t;
	rg__config_init(c);
	if (program && program->status)
		c->status = *program->status;
	int r = rg__toml_read(&t, name, text, len, &schema, err, err_len);
	if (!r) {
		r = cross_check(&t, &ps);
		if (r)
			free(t.buf);
	}
	if (r) {
		free(c->entries);
		rg__config_init(c);
		return r;
	}
	c->strings = t.buf;
	return 0;
}

int rg__config_load(struct rg_config *c, const char *path,
		    const struct rg_config_source *program, char *err,
		    size_t err_len)
{
	char *text = NULL;
	size_t len = 0;
	int r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st))
		goto fail;
	if (st.st_size > (off_t)(16 * MiB)) {
		errno = EFBIG;
		goto fail;
	}
	if (!(text = malloc((size_t)st.st_size + 1)))
		goto fail;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, text + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	r = rg__config_parse(c, path, text, len, program, err, err_len);
	free(text);
	return r;
fail:
	r = -errno;
	snprintf(err, err_len, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(text);
	rg__config_init(c);
	return r;
}
