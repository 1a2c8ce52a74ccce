/* config.c: reads ringlet's configuration file (a strict subset of TOML)
 * into struct rg__config_file, rejecting anything it does not understand. */
#include "core/config.h"

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

enum table { T_SERVER, T_STATIC, T_MEMORY, T_PERFORMANCE, T_LOG, T_COUNT };
static const char *const table_names[T_COUNT] = {"server", "static", "memory",
						 "performance", "log"};

enum kind {
	K_STR,	   /* string path */
	K_LOG,	   /* string path or "off" */
	K_SIZE,	   /* integer bytes or "<n>[KiB|MiB|GiB]" */
	K_TIME,	   /* integer ms or "<n>ms" / "<n>s" */
	K_UINT,	   /* integer */
	K_BOOL,	   /* true / false */
	K_BACKEND, /* "auto" | "io_uring" | "epoll" */
	K_LEVEL,   /* "error" | "warn" | "info" | "debug" */
	K_LISTEN,  /* "host:port", "[v6]:port", ":port", or an array */
	K_WORKERS, /* integer or "auto" */
};

struct key {
	enum table table;
	const char *name;
	enum kind kind;
	size_t off, width; /* of the field in struct rg__config_file */
	uint64_t min, max;
};

#define F(m)                                                                   \
	offsetof(struct rg__config_file, m),                                   \
	    sizeof(((struct rg__config_file *)0)->m)
#define S(m) F(server.m)

/* Two entries with the same field are aliases: giving both is an error. */
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
    {T_SERVER, "max_body_size", K_SIZE, S(max_body_size), 0, 1024 * GiB},
    {T_SERVER, "max_request_line", K_SIZE, S(max_request_line), 16, MiB},
    {T_SERVER, "max_headers", K_UINT, S(max_headers), 1, 10000},
    {T_SERVER, "underscores_in_headers", K_BOOL, S(underscores_in_headers), 0,
     1},
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
    {T_PERFORMANCE, "greenlet_stack_size", K_SIZE, S(coroutine_stack_size),
     16 * KiB, 64 * MiB},
    {T_PERFORMANCE, "max_coroutines", K_UINT, S(max_coroutines), 1, 1000000},
    {T_LOG, "access_log", K_LOG, F(access_log), 0, 0},
    {T_LOG, "error_log", K_STR, F(error_log), 0, 0},
    {T_LOG, "level", K_LEVEL, F(log_level), 0, 0},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

enum vtype { V_STR, V_INT, V_BOOL, V_ARRAY };
static const char *const vtype_names[] = {"a string", "an integer", "a boolean",
					  "an array"};

struct value {
	enum vtype type;
	char *s; /* NUL-terminated, in parser.buf */
	int64_t i;
	char *items[RG_MAX_LISTEN]; /* V_ARRAY's strings, in parser.buf */
	unsigned n;
};

struct parser {
	const char *p, *end, *name;
	unsigned line;
	char *err;
	size_t err_len;
	char *buf; /* strings, decoded; never longer than the text */
	size_t used;
	int table; /* -1 before the first header */
	bool table_seen[T_COUNT];
	unsigned key_line[NKEYS]; /* 0 = not given */
};

__attribute__((format(printf, 2, 3))) static int fail(struct parser *ps,
						      const char *fmt, ...)
{
	int n = snprintf(ps->err, ps->err_len, "%s:%u: ", ps->name, ps->line);
	if (n >= 0 && (size_t)n < ps->err_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->err_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

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

static bool is_bare(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

static bool at_eol(const struct parser *ps)
{
	const char *p = ps->p;
	return p == ps->end || *p == '\n' || *p == '#' ||
	       (*p == '\r' && p + 1 < ps->end && p[1] == '\n');
}

/* Skips spaces and a comment, then requires the end of the line. */
static int end_line(struct parser *ps, const char *what)
{
	skip_ws(ps);
	if (!at_eol(ps))
		return fail(ps, "unexpected '%c' after %s", *ps->p, what);
	while (ps->p < ps->end && *ps->p != '\n') {
		/* TOML forbids control characters, even in comments */
		if ((unsigned char)*ps->p < 0x20 && *ps->p != '\t' &&
		    !(*ps->p == '\r' && ps->p + 1 < ps->end &&
		      ps->p[1] == '\n'))
			return fail(ps, "control character in comment");
		ps->p++;
	}
	return 0;
}

static size_t bare_key(struct parser *ps)
{
	const char *start = ps->p;
	while (ps->p < ps->end && is_bare(*ps->p))
		ps->p++;
	return (size_t)(ps->p - start);
}

static int hex4(const char *p, uint32_t *cp)
{
	*cp = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = is_digit(c) ? c - '0'
			: (c | 0x20) >= 'a' && (c | 0x20) <= 'f'
			    ? (c | 0x20) - 'a' + 10
			    : -1;
		if (d < 0)
			return -1;
		*cp = *cp << 4 | (uint32_t)d;
	}
	return 0;
}

/* A basic string, decoded into ps->buf; ps->p is on the opening quote. */
static int parse_string(struct parser *ps, char **out)
{
	char *o = ps->buf + ps->used;
	*out = o;
	for (ps->p++;; ps->p++) {
		if (ps->p == ps->end || *ps->p == '\n')
			return fail(ps, "unterminated string");
		char c = *ps->p;
		if (c == '"')
			break;
		if ((unsigned char)c < 0x20 && c != '\t')
			return fail(ps, "control character in string");
		if (c != '\\') {
			*o++ = c;
			continue;
		}
		if (++ps->p == ps->end)
			return fail(ps, "unterminated string");
		uint32_t cp;
		switch (*ps->p) {
		case '"':
		case '\\':
			*o++ = *ps->p;
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u':
			if (ps->end - ps->p < 5 || hex4(ps->p + 1, &cp) ||
			    (cp >= 0xd800 && cp < 0xe000) || cp == 0)
				return fail(ps, "bad \\u escape in string");
			ps->p += 4;
			if (cp < 0x80) {
				*o++ = (char)cp;
			} else if (cp < 0x800) {
				*o++ = (char)(0xc0 | cp >> 6);
				*o++ = (char)(0x80 | (cp & 0x3f));
			} else {
				*o++ = (char)(0xe0 | cp >> 12);
				*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
				*o++ = (char)(0x80 | (cp & 0x3f));
			}
			break;
		default:
			return fail(ps, "unknown escape '\\%c' in string",
				    *ps->p);
		}
	}
	ps->p++;
	*o++ = '\0';
	ps->used = (size_t)(o - ps->buf);
	return 0;
}

/* TOML integer: optional sign, no leading zeros, '_' only between digits. */
static int parse_int(struct parser *ps, int64_t *out)
{
	bool neg = *ps->p == '-';
	if (*ps->p == '-' || *ps->p == '+')
		ps->p++;
	const char *start = ps->p;
	uint64_t v = 0;
	for (; ps->p < ps->end; ps->p++) {
		char c = *ps->p;
		if (c == '_' && ps->p > start && ps->p + 1 < ps->end &&
		    is_digit(ps->p[1]) && is_digit(ps->p[-1]))
			continue;
		if (!is_digit(c))
			break;
		if (v > (UINT64_MAX - 9) / 10 ||
		    (v = v * 10 + (uint64_t)(c - '0')) >
			(uint64_t)INT64_MAX + neg)
			return fail(ps, "integer too large");
	}
	if (ps->p == start)
		return fail(ps, "expected a value");
	if (*start == '0' && ps->p - start > 1)
		return fail(ps, "leading zeros are not allowed in integers");
	if (ps->p < ps->end && is_bare(*ps->p))
		return fail(ps, "bad integer (sizes and durations with a unit "
				"must be quoted, as in \"8KiB\")");
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static int parse_value(struct parser *ps, struct value *v)
{
	const char *p = ps->p;
	size_t left = (size_t)(ps->end - p);
	if (p == ps->end)
		return fail(ps, "expected a value");
	if (*p == '"') {
		v->type = V_STR;
		return parse_string(ps, &v->s);
	}
	if (*p == '[') { /* single-line array of strings */
		char *s;
		int r;
		v->type = V_ARRAY;
		v->n = 0;
		for (ps->p++, skip_ws(ps); ps->p < ps->end && *ps->p != ']';) {
			if (*ps->p == '\n' || *ps->p == '#')
				break;
			if (*ps->p != '"')
				return fail(ps, "arrays may hold only strings");
			if ((r = parse_string(ps, &s)))
				return r;
			if (v->n == RG_MAX_LISTEN)
				return fail(ps,
					    "more than %d strings in an "
					    "array",
					    RG_MAX_LISTEN);
			v->items[v->n++] = s;
			skip_ws(ps);
			if (ps->p < ps->end && *ps->p == ',')
				ps->p++, skip_ws(ps);
			else if (ps->p < ps->end && *ps->p != ']' &&
				 *ps->p != '\n')
				return fail(ps, "expected ',' or ']' in array");
		}
		if (ps->p == ps->end || *ps->p != ']')
			return fail(ps, "unterminated array (arrays must fit "
					"on one line)");
		ps->p++;
		return 0;
	}
	if ((left >= 4 && !memcmp(p, "true", 4)) ||
	    (left >= 5 && !memcmp(p, "false", 5))) {
		v->type = V_BOOL;
		v->i = *p == 't';
		ps->p += *p == 't' ? 4 : 5;
		if (ps->p < ps->end && is_bare(*ps->p))
			return fail(ps, "expected a value");
		return 0;
	}
	if (is_digit(*p) || *p == '+' || *p == '-') {
		v->type = V_INT;
		return parse_int(ps, &v->i);
	}
	return fail(ps, "expected a value");
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

static int set_listen(struct parser *ps, struct rg__listen_addr *out, char *s)
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
	return fail(ps,
		    "bad listen address (expected \"ipv4:port\", "
		    "\"[ipv6]:port\" or \":port\", numeric, port 0..65535)");
}

static bool af6(const char *host)
{
	return strchr(host, ':') != NULL;
}

/* The same socket address, however it is spelled ("::" and "0::0"). */
static bool same_listen(const struct rg__listen_addr *a,
			const struct rg__listen_addr *b)
{
	unsigned char x[16], y[16];
	int af = af6(a->host) ? AF_INET6 : AF_INET;
	return a->port && a->port == b->port && af6(b->host) == af6(a->host) &&
	       inet_pton(af, a->host, x) == 1 &&
	       inet_pton(af, b->host, y) == 1 &&
	       !memcmp(x, y, af == AF_INET6 ? 16 : 4);
}

static void store(struct rg__config_file *c, const struct key *k, uint64_t v)
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

static int set_key(struct parser *ps, struct rg__config_file *c,
		   const struct key *k, struct value *v)
{
	static const char *const backends[] = {"auto", "io_uring", "epoll",
					       NULL};
	static const char *const levels[] = {"error", "warn", "info", "debug",
					     NULL};
	static const char *const size_u[] = {"", "KiB", "MiB", "GiB", NULL};
	static const uint64_t size_s[] = {1, KiB, MiB, GiB};
	static const char *const time_u[] = {"ms", "s", NULL};
	static const uint64_t time_s[] = {1, 1000};
	enum vtype want = V_STR;
	const char *want_s = NULL;
	uint64_t n = 0;
	int i;

	switch (k->kind) {
	case K_BOOL:
		want = V_BOOL;
		break;
	case K_UINT:
		want = V_INT;
		break;
	case K_SIZE:
	case K_TIME:
		want_s = k->kind == K_SIZE ? "an integer or a size string such "
					     "as \"8KiB\""
					   : "an integer (milliseconds) or a "
					     "string such as \"30s\"";
		want = v->type == V_STR ? V_STR : V_INT;
		break;
	case K_WORKERS:
		want_s = "an integer or \"auto\"";
		want = v->type == V_STR ? V_STR : V_INT;
		break;
	case K_LISTEN:
		want_s = "a string or an array of strings";
		want = v->type == V_ARRAY ? V_ARRAY : V_STR;
		break;
	default:
		break;
	}
	if (v->type != want)
		return fail(ps, "%s must be %s, not %s", k->name,
			    want_s ? want_s : vtype_names[want],
			    vtype_names[v->type]);

	switch (k->kind) {
	case K_LOG:
		if (!strcmp(v->s, "off")) {
			c->access_log = NULL;
			return 0;
		}
		/* fall through */
	case K_STR:
		if (!*v->s)
			return fail(ps, "%s must not be empty", k->name);
		if (k->off == offsetof(struct rg__config_file, error_log) &&
		    !strcmp(v->s, "off"))
			return fail(ps, "error_log cannot be \"off\" (leave "
					"it out for standard error, or set "
					"level = \"error\")");
		memcpy((char *)c + k->off, &v->s, sizeof(v->s));
		return 0;
	case K_LISTEN:
		if (v->type == V_STR) {
			v->items[0] = v->s;
			v->n = 1;
		}
		if (!v->n)
			return fail(ps, "listen needs at least one address");
		for (unsigned j = 0; j < v->n; j++) {
			int r = set_listen(ps, &c->listen[j], v->items[j]);
			if (r)
				return r;
			for (unsigned k2 = 0; k2 < j; k2++)
				if (same_listen(&c->listen[k2], &c->listen[j]))
					return fail(
					    ps,
					    "listen address %s%s%s:%u "
					    "given twice",
					    af6(c->listen[j].host) ? "[" : "",
					    c->listen[j].host,
					    af6(c->listen[j].host) ? "]" : "",
					    (unsigned)c->listen[j].port);
		}
		c->nlisten = v->n;
		return 0;
	case K_BACKEND:
	case K_LEVEL:
		i = find(k->kind == K_BACKEND ? backends : levels, v->s);
		if (i < 0)
			return fail(ps, "%s must be one of %s", k->name,
				    k->kind == K_BACKEND
					? "\"auto\", \"io_uring\", \"epoll\""
					: "\"error\", \"warn\", \"info\", "
					  "\"debug\"");
		store(c, k, (uint64_t)i);
		return 0;
	case K_WORKERS:
		if (v->type == V_STR) {
			if (strcmp(v->s, "auto"))
				return fail(ps, "workers must be an integer "
						"or \"auto\"");
			c->workers = 0;
			return 0;
		}
		break;
	default:
		break;
	}

	if (v->type == V_STR) {
		bool sz = k->kind == K_SIZE;
		int r = parse_unit(v->s, sz ? size_u : time_u,
				   sz ? size_s : time_s, &n);
		if (r == -EINVAL)
			return fail(ps, "bad %s \"%s\" for %s (%s)",
				    sz ? "size" : "duration", v->s, k->name,
				    sz ? "units: KiB, MiB, GiB or none for "
					 "bytes"
				       : "units: ms or s");
		if (r)
			v->i = -1; /* too large: reported as out of range */
		else if (n > INT64_MAX)
			v->i = -1;
		else
			v->i = (int64_t)n;
	}
	if (v->i < 0 || (uint64_t)v->i < k->min || (uint64_t)v->i > k->max) {
		char lo[32], hi[32];
		if (k->kind == K_SIZE)
			return fail(ps, "%s must be between %s and %s bytes",
				    k->name, fmt_size(lo, sizeof(lo), k->min),
				    fmt_size(hi, sizeof(hi), k->max));
		return fail(ps,
			    "%s must be between %" PRIu64 " and %" PRIu64 "%s",
			    k->name, k->min, k->max,
			    k->kind == K_TIME ? " ms (1 day)" : "");
	}
	store(c, k, (uint64_t)v->i);
	return 0;
}

static int parse_table(struct parser *ps)
{
	ps->p++;
	skip_ws(ps);
	const char *name = ps->p;
	size_t n = bare_key(ps);
	skip_ws(ps);
	if (!n || ps->p == ps->end || *ps->p != ']')
		return fail(ps, "bad table header (expected [name])");
	ps->p++;
	for (int t = 0; t < T_COUNT; t++) {
		if (strlen(table_names[t]) != n ||
		    memcmp(table_names[t], name, n))
			continue;
		if (ps->table_seen[t])
			return fail(ps, "table [%s] defined twice",
				    table_names[t]);
		ps->table_seen[t] = true;
		ps->table = t;
		return end_line(ps, "table header");
	}
	return fail(ps, "unknown table [%.*s]", (int)n, name);
}

static int parse_pair(struct parser *ps, struct rg__config_file *c)
{
	const char *name = ps->p;
	size_t n = bare_key(ps);
	struct value v;
	int r;
	if (!n)
		return fail(ps, "expected a key or a [table]");
	skip_ws(ps);
	if (ps->p == ps->end || *ps->p != '=')
		return fail(ps, "expected '=' after key '%.*s'", (int)n, name);
	ps->p++;
	skip_ws(ps);
	size_t k = 0;
	for (; k < NKEYS; k++)
		if ((int)keys[k].table == ps->table &&
		    strlen(keys[k].name) == n && !memcmp(keys[k].name, name, n))
			break;
	if (k == NKEYS) {
		if (ps->table < 0)
			return fail(ps, "key '%.*s' outside any table", (int)n,
				    name);
		return fail(ps, "unknown key '%.*s' in [%s]", (int)n, name,
			    table_names[ps->table]);
	}
	for (size_t j = 0; j < NKEYS; j++) {
		if (!ps->key_line[j] || keys[j].off != keys[k].off)
			continue;
		if (j == k)
			return fail(ps, "duplicate key '%s' (first on line %u)",
				    keys[k].name, ps->key_line[j]);
		return fail(ps, "%s and %s are the same setting; give one",
			    keys[j].name, keys[k].name);
	}
	ps->key_line[k] = ps->line;
	if ((r = parse_value(ps, &v)) || (r = end_line(ps, "value")))
		return r;
	return set_key(ps, c, &keys[k], &v);
}

void rg__config_file_init(struct rg__config_file *c)
{
	*c = (struct rg__config_file){
	    .listen = {{"0.0.0.0", 8080}},
	    .nlisten = 1,
	    .root = ".",
	    .index = "index.html",
	    .precompressed = true,
	    .open_file_cache = 64,
	    .log_level = RG_LOG_INFO,
	};
	rg_server_config_init(&c->server);
}

void rg__config_file_free(struct rg__config_file *c)
{
	free(c->strings);
	rg__config_file_init(c);
}

int rg__config_parse(struct rg__config_file *c, const char *name,
		     const char *text, size_t len, char *err, size_t err_len)
{
	struct parser ps = {.p = text,
			    .end = text + len,
			    .name = name,
			    .line = 1,
			    .err = err,
			    .err_len = err_len,
			    .table = -1};
	int r = 0;
	rg__config_file_init(c);
	if (err_len)
		err[0] = '\0';
	if (!(ps.buf = malloc(len + 1)))
		return -ENOMEM;
	while (ps.p < ps.end && !r) {
		skip_ws(&ps);
		if (ps.p < ps.end && *ps.p == '[')
			r = parse_table(&ps);
		else if (at_eol(&ps))
			r = end_line(&ps, "");
		else
			r = parse_pair(&ps, c);
		if (!r && ps.p < ps.end) {
			ps.p++; /* the newline */
			ps.line++;
		}
	}
	size_t mrl = 0, hbs = 0;
	for (size_t k = 0; k < NKEYS; k++)
		if (!strcmp(keys[k].name, "max_request_line"))
			mrl = k;
		else if (!strcmp(keys[k].name, "header_buffer_size"))
			hbs = k;
	if (!r && c->server.max_request_line > c->server.header_buffer_size) {
		/* one of the two was given: that line */
		ps.line =
		    ps.key_line[mrl] ? ps.key_line[mrl] : ps.key_line[hbs];
		r = fail(&ps,
			 "max_request_line (%zu) exceeds "
			 "header_buffer_size (%zu)",
			 c->server.max_request_line,
			 c->server.header_buffer_size);
	}
	if (r) {
		free(ps.buf);
		rg__config_file_init(c);
		return r;
	}
	c->strings = ps.buf;
	return 0;
}

int rg__config_load(struct rg__config_file *c, const char *path, char *err,
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
	r = rg__config_parse(c, path, text, len, err, err_len);
	free(text);
	return r;
fail:
	r = -errno;
	snprintf(err, err_len, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(text);
	rg__config_file_init(c);
	return r;
}
