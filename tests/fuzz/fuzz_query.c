/* fuzz_query.c: libFuzzer target for the query-string reader,
 * rg_query_param (core/request.c), on a real request: its arena from
 * rg_arena_create, its head parsed by rg__parse_request from a request
 * line, as the connection code makes them (nothing else of a request is
 * set; rg_query_param reads the head and the arena only).
 *
 * Input: bytes read two ways. (1) As a query: "GET /?<input> HTTP/1.1",
 * parsed (inputs with a space, or that the parser refuses, are skipped):
 * its query is the input;
 * every key written without '%' or '+' is found; when no byte of the query
 * is '%' or '+' (nothing to decode), the value found is, byte for byte,
 * that of the first pair with that key; a name longer than the query is
 * not found. (2) As a recipe for a query built and encoded here (lengths,
 * then the bytes of a key and a value, then choices): pairs whose keys
 * differ from the key, the key with its value, the key again with another
 * value, other pairs; every byte either as it is (where the query allows
 * it), '+' for a space, or %XX in either hex case, the key without '='
 * when its value is empty. The parser must accept the line, and
 * rg_query_param must find the key and give its first value, decoded
 * exactly. Any difference calls abort(). */
#include "core/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
#define FUZZ_NAME "fuzz_query"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rg_pool *blocks;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Room for every decoded key of a lookup; no -ENOMEM here. */
	struct rg_pool_config cfg = {
	    .object_size = 8192, .initial = 8, .grow_by = 8, .max = 4096};
	blocks = rg_pool_create(&cfg, NULL);
	CHECK(blocks != NULL);
	return 0;
}

/* The smallest real request: an arena, and a head parsed from
 * "GET /?<query> HTTP/1.1" into it. NULL if the parser refuses it (*line
 * is then freed). The line (*line, exactly sized) must outlive it. */
static struct rg_request *request(const char *query, size_t n, char **line)
{
	static const char pre[] = "GET /?",
			  post[] = " HTTP/1.1\r\nHost: fuzz\r\n\r\n";
	size_t len = sizeof(pre) - 1 + n + sizeof(post) - 1;
	char *p = malloc(len);
	CHECK(p != NULL);
	memcpy(p, pre, sizeof(pre) - 1);
	if (n)
		memcpy(p + sizeof(pre) - 1, query, n);
	memcpy(p + sizeof(pre) - 1 + n, post, sizeof(post) - 1);
	struct rg_arena *a = rg_arena_create(blocks, NULL);
	CHECK(a != NULL);
	struct rg_request *req = rg_arena_calloc(a, 1, sizeof(*req));
	CHECK(req != NULL);
	req->arena = a;
	rg__parser_init(&req->parser, &rg__default_limits);
	int rc = rg__parse_request(&req->parser, a, p, len, &req->head);
	if (rc != (int)len) {
		/* Never "need more": the whole head is there (or the input
		 * held one of its own, which ends first). */
		CHECK(rc != 0);
		rg_arena_destroy(a);
		free(p);
		return NULL;
	}
	*line = p;
	return req;
}

static void request_free(struct rg_request *req, char *line)
{
	rg_arena_destroy(req->arena);
	free(line);
}

/* rg_query_param(req, name[0, n)), the name as a C string. */
static int lookup(struct rg_request *req, const char *name, size_t n,
		  struct rg_str *value)
{
	char *z = malloc(n + 1);
	CHECK(z != NULL);
	memcpy(z, name, n);
	z[n] = '\0';
	*value = (struct rg_str){NULL, 0};
	int r = rg_query_param(req, z, value);
	free(z);
	CHECK(r == 0 || r == 1);
	if (r == 1)
		CHECK(value->len == 0 || value->ptr != NULL);
	return r;
}

static void fail_lookup(const char *what, const char *q, size_t qn,
			const char *k, size_t kn, struct rg_str got)
{
	fprintf(stderr,
		"fuzz_query: %s: query \"%.*s\", key \"%.*s\", got \"%.*s\"\n",
		what, (int)(qn > 300 ? 300 : qn), q, (int)kn, k,
		(int)(got.len > 300 ? 300 : got.len), got.ptr ? got.ptr : "");
	abort();
}

/* (1) The input as the query. */
static void check_raw(const char *q, size_t n)
{
	if (memchr(q, ' ', n))
		return; /* the end of the target: the rest is no query */
	char *line;
	struct rg_request *req = request(q, n, &line);
	if (!req)
		return;
	struct rg_str query = rg_query(req);
	CHECK(query.len == n && !memcmp(query.ptr, q, n));
	/* The first pairs, split as RFC 1866 forms are: '&', then '='. */
	struct {
		const char *k, *v;
		size_t kn, vn;
	} pairs[16];
	int np = 0;
	for (const char *p = q, *end = q + n; np < 16;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		const char *kend = eq ? eq : stop;
		const char *vs = eq ? eq + 1 : stop;
		pairs[np].k = p;
		pairs[np].kn = (size_t)(kend - p);
		pairs[np].v = vs;
		pairs[np++].vn = (size_t)(stop - vs);
		if (!amp)
			break;
		p = amp + 1;
	}
	bool plain = !memchr(q, '%', n) && !memchr(q, '+', n);
	for (int i = 0; i < np; i++) {
		const char *k = pairs[i].k;
		size_t kn = pairs[i].kn;
		if (!kn || memchr(k, '%', kn) || memchr(k, '+', kn))
			continue;
		struct rg_str v;
		if (lookup(req, k, kn, &v) != 1)
			fail_lookup("a key in the query not found", q, n, k, kn,
				    v);
		bool first = true;
		for (int j = 0; j < i; j++)
			if (pairs[j].kn == kn && !memcmp(pairs[j].k, k, kn))
				first = false;
		/* Nothing to decode: the value as it is in the first pair. */
		if (plain && first &&
		    (v.len != pairs[i].vn || memcmp(v.ptr, pairs[i].v, v.len)))
			fail_lookup("not the value of the first pair", q, n, k,
				    kn, v);
	}
	char *longer = malloc(n + 2);
	CHECK(longer != NULL);
	memset(longer, 'k', n + 1);
	struct rg_str v;
	if (lookup(req, longer, n + 1, &v) != 0)
		fail_lookup("a name longer than the query found", q, n, longer,
			    n + 1, v);
	free(longer);
	request_free(req, line);
}

/* (2) A query built from a recipe. */
struct gen {
	const uint8_t *p, *end;
};

static unsigned next(struct gen *g)
{
	return g->p < g->end ? *g->p++ : 0;
}

/* Bytes a query may hold as they are: RFC 3986 pchar / "/" / "?", less
 * '%' and '+' (which decode), '&' (which ends a pair), and in a key '='. */
static bool literal_ok(unsigned char c, bool key)
{
	if (c <= 0x20 || c >= 0x7f || c == '#' || c == '"' || c == '<' ||
	    c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' ||
	    c == '|' || c == '}' || c == '[' || c == ']')
		return false;
	return c != '%' && c != '+' && c != '&' && !(key && c == '=');
}

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_byte(struct sbuf *b, char c)
{
	if (b->len == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 256;
		b->p = realloc(b->p, b->cap);
		CHECK(b->p != NULL);
	}
	b->p[b->len++] = c;
}

static void encode(struct sbuf *b, const uint8_t *s, size_t n, bool key,
		   struct gen *g)
{
	static const char hex[2][17] = {"0123456789ABCDEF", "0123456789abcdef"};
	for (size_t i = 0; i < n; i++) {
		unsigned how = next(g);
		unsigned char c = s[i];
		if (c == ' ' && (how & 1)) {
			sb_byte(b, '+');
		} else if (literal_ok(c, key) && (how & 2)) {
			sb_byte(b, (char)c);
		} else {
			const char *h = hex[(how >> 2) & 1];
			sb_byte(b, '%');
			sb_byte(b, h[c >> 4]);
			sb_byte(b, h[c & 15]);
		}
	}
}

/* Up to `max` bytes of the recipe, their count first. */
static size_t take(struct gen *g, size_t max, const uint8_t **s)
{
	size_t n = next(g) % (max + 1);
	if (n > (size_t)(g->end - g->p))
		n = (size_t)(g->end - g->p);
	*s = g->p;
	g->p += n;
	return n;
}

static void pair(struct sbuf *b, const uint8_t *k, size_t kn, const uint8_t *v,
		 size_t vn, struct gen *g)
{
	if (b->len)
		sb_byte(b, '&');
	encode(b, k, kn, true, g);
	if (vn || (next(g) & 1)) {
		sb_byte(b, '=');
		encode(b, v, vn, false, g);
	}
}

static void check_built(const uint8_t *data, size_t size)
{
	struct gen g = {data, data + size};
	const uint8_t *k, *v, *other;
	size_t kn = take(&g, 24, &k);
	size_t vn = take(&g, 64, &v);
	size_t on = take(&g, 16, &other);
	if (!kn)
		return;
	/* rg_query_param takes a C string: the key holds no NUL. */
	uint8_t key[24];
	for (size_t i = 0; i < kn; i++)
		key[i] = k[i] ? k[i] : 1;

	struct sbuf b = {0};
	unsigned before = next(&g) % 4, after = next(&g) % 4;
	for (unsigned i = 0; i < before; i++) {
		/* A key that differs: longer, or a byte changed. */
		uint8_t ok[26];
		memcpy(ok, key, kn);
		size_t okn = kn;
		unsigned how = next(&g);
		if (how & 1)
			ok[okn++] = (uint8_t)(how | 1);
		else
			ok[how % kn] ^= (uint8_t)(1 + (how >> 1) % 127);
		if (!ok[how % okn])
			ok[how % okn] = 'x';
		bool same = okn == kn && !memcmp(ok, key, kn);
		if (!same)
			pair(&b, ok, okn, other, on, &g);
	}
	pair(&b, key, kn, v, vn, &g);
	for (unsigned i = 0; i < after; i++) {
		if (next(&g) & 1)
			pair(&b, key, kn, other, on, &g); /* the first wins */
		else
			pair(&b, other, on, v, vn, &g);
	}
	if (!b.len) {
		free(b.p);
		return;
	}

	char *line;
	struct rg_request *req = request(b.p, b.len, &line);
	if (!req) {
		fprintf(stderr, "fuzz_query: the parser refused \"%.*s\"\n",
			(int)b.len, b.p);
		abort();
	}
	struct rg_str got;
	if (lookup(req, (const char *)key, kn, &got) != 1)
		fail_lookup("the key put in the query not found", b.p, b.len,
			    (const char *)key, kn, got);
	if (got.len != vn || (vn && memcmp(got.ptr, v, vn)))
		fail_lookup("its value not decoded exactly", b.p, b.len,
			    (const char *)key, kn, got);
	request_free(req, line);
	free(b.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_raw((const char *)data, size);
	check_built(data, size);
	return 0;
}
