/* bench/parse.c: ns per request and MB/s of ringlet's request parser (at
 * each SIMD level the CPU has, scalar included) against picohttpparser and
 * llhttp, measured in the same run on four request shapes.
 *
 * What each parser does per request, to be comparable with what a server
 * needs: ringlet parses the head (framing and well-known fields included)
 * and resets its arena; picohttpparser parses the head and the caller finds
 * Content-Length among the fields (it leaves framing to its user);
 * llhttp parses the whole message with callbacks that record each span, as
 * a real consumer does. Each figure is the best of 5 repetitions. */
#include "http/parser.h"
#include "http/scan.h"
#include "ringlet.h"

#include <llhttp.h>
#ifdef RG_BENCH_PICO
/* picohttpparser's public interface, as libh2o.so exports it: Debian ships
 * the library but not its header, so the benchmark declares the two names
 * it calls. */
struct phr_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method,
		      size_t *method_len, const char **path, size_t *path_len,
		      int *minor_version, struct phr_header *headers,
		      size_t *num_headers, size_t last_len);
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define REPS 5
#define ITERATIONS 200000 /* requests per repetition */
#define MAX_FIELDS 32

struct shape {
	const char *name;
	const char *bytes;
	size_t len;
	size_t nfields; /* expected, to check every parser before timing */
	size_t body;	/* expected body bytes */
};

#define SHAPE(name, s, n, body)                                                \
	{                                                                      \
		name, s, sizeof(s) - 1, n, body                                \
	}

static const struct shape shapes[] = {
    SHAPE("curl GET",
	  "GET / HTTP/1.1\r\n"
	  "Host: localhost:8080\r\n"
	  "User-Agent: curl/7.88.1\r\n"
	  "Accept: */*\r\n"
	  "\r\n",
	  3, 0),
    SHAPE("browser GET",
	  "GET /assets/js/app.min.js?v=3.14.1 HTTP/1.1\r\n"
	  "Host: www.example.com\r\n"
	  "Connection: keep-alive\r\n"
	  "sec-ch-ua: \"Chromium\";v=\"122\", \"Not(A:Brand\";v=\"24\", "
	  "\"Google Chrome\";v=\"122\"\r\n"
	  "sec-ch-ua-mobile: ?0\r\n"
	  "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
	  "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 "
	  "Safari/537.36\r\n"
	  "sec-ch-ua-platform: \"Windows\"\r\n"
	  "Accept: */*\r\n"
	  "Sec-Fetch-Site: same-origin\r\n"
	  "Sec-Fetch-Mode: no-cors\r\n"
	  "Sec-Fetch-Dest: script\r\n"
	  "Referer: https://www.example.com/products/index.html\r\n"
	  "Accept-Encoding: gzip, deflate, br, zstd\r\n"
	  "Accept-Language: en-US,en;q=0.9,fr;q=0.8\r\n"
	  "Cookie: _ga=GA1.2.1234567890.1700000000; "
	  "session_id=8f14e45fceea167a5a36dedd4bea2543; "
	  "csrftoken=Xk3j9Lq2Vb7Nw4Zr1Tt6Yp0Uo5Ii8Ee; theme=dark\r\n"
	  "\r\n",
	  14, 0),
    /* The request of TechEmpower's plaintext test (wrk, pipeline.lua). */
    SHAPE("TechEmpower plaintext",
	  "GET /plaintext HTTP/1.1\r\n"
	  "Host: tfb-server\r\n"
	  "Accept: text/plain,text/html;q=0.9,application/xhtml+xml;"
	  "q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n"
	  "Connection: keep-alive\r\n"
	  "\r\n",
	  3, 0),
    SHAPE("POST form",
	  "POST /login HTTP/1.1\r\n"
	  "Host: example.com\r\n"
	  "Content-Type: application/x-www-form-urlencoded\r\n"
	  "Content-Length: 30\r\n"
	  "\r\n"
	  "user=alice&password=s3cr3t&r=1",
	  3, 30),
};

#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

static volatile size_t sink; /* keeps results alive for the compiler */

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *who, const struct shape *s, const char *what)
{
	fprintf(stderr, "bench/parse: %s on %s: %s\n", who, s->name, what);
	exit(1);
}

/* One request parsed; returns fields found + body bytes framed, which the
 * check before timing compares with the shape. */
typedef size_t (*parse_fn)(const struct shape *s);

/* --- ringlet ------------------------------------------------------------ */

static struct rg_pool *blocks;
static struct rg_arena *arena;

static size_t parse_ringlet(const struct shape *s)
{
	struct rg__parser p;
	struct rg__request req;
	rg__parser_init(&p, &rg__default_limits);
	int rc = rg__parse_request(&p, arena, s->bytes, s->len, &req);
	size_t body = req.body == RG__BODY_LENGTH ? req.content_length : 0;
	size_t r = rc > 0 && (size_t)rc + body == s->len ? req.nheaders + body
							 : (size_t)-1;
	rg_arena_reset(arena);
	return r;
}

/* --- picohttpparser ----------------------------------------------------- */

#ifdef RG_BENCH_PICO
static size_t parse_pico(const struct shape *s)
{
	const char *method, *path;
	size_t method_len, path_len, nfields = MAX_FIELDS;
	int minor;
	struct phr_header fields[MAX_FIELDS];
	int rc =
	    phr_parse_request(s->bytes, s->len, &method, &method_len, &path,
			      &path_len, &minor, fields, &nfields, 0);
	if (rc <= 0)
		return (size_t)-1;
	size_t body = 0;
	for (size_t i = 0; i < nfields; i++) {
		if (fields[i].name_len == 14 &&
		    !strncasecmp(fields[i].name, "content-length", 14)) {
			for (size_t j = 0; j < fields[i].value_len; j++)
				body = body * 10 +
				       (size_t)(fields[i].value[j] - '0');
		}
	}
	return (size_t)rc + body == s->len ? nfields + body : (size_t)-1;
}
#endif

/* --- llhttp ------------------------------------------------------------- */

/* What an llhttp consumer keeps: spans, pieces of one span joined. */
struct span {
	const char *at;
	size_t len;
};

struct llhttp_request {
	struct span method, url, body;
	struct span name[MAX_FIELDS], value[MAX_FIELDS];
	size_t nfields;
	int in_value;
	int done;
};

static llhttp_t ll;
static llhttp_settings_t ll_settings;
static struct llhttp_request ll_req;

static void span_add(struct span *s, const char *at, size_t len)
{
	if (s->len == 0)
		s->at = at;
	s->len += len;
}

static int on_method(llhttp_t *p, const char *at, size_t len)
{
	(void)p;
	span_add(&ll_req.method, at, len);
	return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
	(void)p;
	span_add(&ll_req.url, at, len);
	return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
	(void)p;
	if (ll_req.in_value || ll_req.nfields == 0) {
		if (ll_req.nfields == MAX_FIELDS)
			return -1;
		ll_req.nfields++;
		ll_req.in_value = 0;
		ll_req.name[ll_req.nfields - 1] = (struct span){0};
		ll_req.value[ll_req.nfields - 1] = (struct span){0};
	}
	span_add(&ll_req.name[ll_req.nfields - 1], at, len);
	return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
	(void)p;
	ll_req.in_value = 1;
	span_add(&ll_req.value[ll_req.nfields - 1], at, len);
	return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
	(void)p;
	span_add(&ll_req.body, at, len);
	return 0;
}

static int on_message_complete(llhttp_t *p)
{
	(void)p;
	ll_req.done = 1;
	return 0;
}

static size_t parse_llhttp(const struct shape *s)
{
	ll_req.method.len = ll_req.url.len = ll_req.body.len = 0;
	ll_req.nfields = 0;
	ll_req.in_value = 0;
	ll_req.done = 0;
	/* One parser per connection: it is ready for the next request after
	 * each message. */
	if (llhttp_execute(&ll, s->bytes, s->len) != HPE_OK || !ll_req.done)
		return (size_t)-1;
	return ll_req.nfields + ll_req.body.len;
}

static void llhttp_setup(void)
{
	llhttp_settings_init(&ll_settings);
	ll_settings.on_method = on_method;
	ll_settings.on_url = on_url;
	ll_settings.on_header_field = on_header_field;
	ll_settings.on_header_value = on_header_value;
	ll_settings.on_body = on_body;
	ll_settings.on_message_complete = on_message_complete;
	llhttp_init(&ll, HTTP_REQUEST, &ll_settings);
}

/* --- timing ------------------------------------------------------------- */

static double best_ns(parse_fn fn, const struct shape *s)
{
	double best = 0;
	for (int rep = 0; rep < REPS; rep++) {
		size_t acc = 0;
		double t0 = now_ns();
		for (int i = 0; i < ITERATIONS; i++)
			acc += fn(s);
		double ns = (now_ns() - t0) / ITERATIONS;
		sink += acc;
		if (rep == 0 || ns < best)
			best = ns;
	}
	return best;
}

struct parser {
	const char *name;
	parse_fn fn;
	enum rg__simd level; /* ringlet's scanners while this one runs */
	const char *skipped; /* why it does not run, or NULL */
};

int main(void)
{
	struct rg_pool_config cfg = {.object_size = 8192, .initial = 2};
	blocks = rg_pool_create(&cfg, NULL);
	arena = blocks ? rg_arena_create(blocks, NULL) : NULL;
	if (arena == NULL) {
		fprintf(stderr, "bench/parse: cannot create the arena\n");
		return 1;
	}
	llhttp_setup();

	static const char *const levels[] = {"scalar", "SSE4.2", "AVX2"};
	enum rg__simd best = rg__simd_best();
	char names[3][32];
	for (int l = 0; l < 3; l++)
		snprintf(names[l], sizeof(names[l]), "ringlet (%s)", levels[l]);
	char llhttp_name[64];
	snprintf(llhttp_name, sizeof(llhttp_name), "llhttp %d.%d.%d",
		 LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR,
		 LLHTTP_VERSION_PATCH);
	/* The best level first: ratios are against it. */
	struct parser parsers[6];
	size_t nparsers = 0;
	for (int l = (int)best; l >= RG__SIMD_SCALAR; l--)
		parsers[nparsers++] = (struct parser){names[l], parse_ringlet,
						      (enum rg__simd)l, NULL};
#ifdef RG_BENCH_PICO
	parsers[nparsers++] =
	    (struct parser){"picohttpparser", parse_pico, best, NULL};
#else
	parsers[nparsers++] =
	    (struct parser){"picohttpparser", NULL, best,
			    "skipped (libh2o.so not installed)"};
#endif
	parsers[nparsers++] =
	    (struct parser){llhttp_name, parse_llhttp, best, NULL};

	/* Every parser must accept every shape, with the same fields and
	 * body, before anything is timed. */
	for (size_t i = 0; i < NSHAPES; i++) {
		for (size_t j = 0; j < nparsers; j++) {
			if (parsers[j].skipped)
				continue;
			rg__simd_select(parsers[j].level);
			if (parsers[j].fn(&shapes[i]) !=
			    shapes[i].nfields + shapes[i].body)
				die(parsers[j].name, &shapes[i], "wrong parse");
		}
	}
	rg__simd_select(best);

	printf("request parsing: ns per request, best of %d x %d; MB/s of "
	       "request bytes;\nratio = peer ns / ringlet (%s) ns, above 1: "
	       "ringlet faster\n\n",
	       REPS, ITERATIONS, levels[best]);
	printf("%-22s %-18s %6s %9s %9s %8s\n", "request", "parser", "bytes",
	       "ns/req", "MB/s", "ratio");
	for (size_t i = 0; i < NSHAPES; i++) {
		const struct shape *s = &shapes[i];
		double ringlet_ns = 0;
		for (size_t j = 0; j < nparsers; j++) {
			const struct parser *p = &parsers[j];
			printf("%-22s %-18s ", j == 0 ? s->name : "", p->name);
			if (p->skipped) {
				printf("%s\n", p->skipped);
				continue;
			}
			rg__simd_select(p->level);
			double ns = best_ns(p->fn, s);
			rg__simd_select(best);
			if (j == 0)
				ringlet_ns = ns;
			printf("%6zu %9.1f %9.1f", s->len, ns,
			       (double)s->len / ns * 1e3);
			if (j == 0)
				printf(" %8s\n", "");
			else
				printf(" %7.2fx\n", ns / ringlet_ns);
		}
	}
	rg_arena_destroy(arena);
	rg_pool_destroy(blocks);
	return 0;
}
