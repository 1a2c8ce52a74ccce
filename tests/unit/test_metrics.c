/* test_metrics.c: the statistics in the Prometheus text format
 * (rg_server_metrics, rg_metrics_handler), checked line by line against
 * the 0.0.4 format: every sample belongs to one family, with HELP and
 * TYPE, in one group; counters end in _total; histogram buckets rise to
 * +Inf, which equals _count; no series twice. One series per worker of a
 * board (two servers that never run stand for two workers), the program's
 * section named by the rule of struct rg_stats_extra, the length returned
 * like snprintf with nothing written past a short buffer (a guard page),
 * and, against a server run in this process, the request counter and the
 * histograms after real requests, and no allocator call while the
 * figures are written (counted by this program's own malloc; under ASan,
 * which owns malloc, that test skips, saying so). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/server.h"
#include "core/stats.h"
#include "guard.h"
#include "ringlet.h"
#include "server.h"

#include "heap_count.h"

/* ------------------------------------------------------------------------
 * The format, checked
 * ------------------------------------------------------------------------ */

#define MAX_FAMILIES 128
#define MAX_SERIES 4096
#define MAX_HIST 64

struct family {
	char name[128];
	char type[16];
	bool help;
};

struct hist {
	const struct family *f;
	char key[256]; /* the labels but le */
	double le, last, inf;
	bool has_inf, has_sum, has_count;
};

struct exposition {
	struct family fam[MAX_FAMILIES];
	unsigned nfam;
	const struct family *current; /* whose samples may follow */
	char series[MAX_SERIES][256];
	unsigned nseries;
	struct hist hist[MAX_HIST];
	unsigned nhist;
};

static struct family *family_find(struct exposition *e, const char *name,
				  size_t n)
{
	for (unsigned i = 0; i < e->nfam; i++)
		if (strlen(e->fam[i].name) == n &&
		    !memcmp(e->fam[i].name, name, n))
			return &e->fam[i];
	return NULL;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && !memcmp(s + n - k, suffix, k);
}

/* "# HELP name text" or "# TYPE name type". */
static void comment(struct exposition *e, const char *line, size_t len)
{
	bool help = len > 7 && !memcmp(line, "# HELP ", 7);
	bool type = len > 7 && !memcmp(line, "# TYPE ", 7);
	if (!help && !type)
		fail_msg("a comment that is neither HELP nor TYPE: %.*s",
			 (int)len, line);
	const char *name = line + 7;
	const char *sp = memchr(name, ' ', len - 7);
	if (!sp)
		fail_msg("no text after the name: %.*s", (int)len, line);
	size_t n = (size_t)(sp - name);
	const char *rest = sp + 1;
	size_t rn = len - (size_t)(rest - line);
	assert_true(rn > 0);
	struct family *f = family_find(e, name, n);
	if (!f) {
		if (e->nfam == MAX_FAMILIES)
			fail_msg("more than %d families", MAX_FAMILIES);
		f = &e->fam[e->nfam++];
		assert_true(n < sizeof(f->name));
		memcpy(f->name, name, n);
	} else if (f != e->current) {
		fail_msg("family %s declared again, apart", f->name);
	}
	e->current = f;
	if (help) {
		if (f->help)
			fail_msg("two HELP lines for %s", f->name);
		f->help = true;
		return;
	}
	if (f->type[0])
		fail_msg("two TYPE lines for %s", f->name);
	if (!f->help)
		fail_msg("TYPE before HELP for %s", f->name);
	if (!(rn == 7 && !memcmp(rest, "counter", 7)) &&
	    !(rn == 5 && !memcmp(rest, "gauge", 5)) &&
	    !(rn == 9 && !memcmp(rest, "histogram", 9)))
		fail_msg("%s: type %.*s", f->name, (int)rn, rest);
	memcpy(f->type, rest, rn);
}

/* `labels` without its le="..." (into key), and le's value. */
static bool split_le(const char *labels, char *key, size_t cap, double *le)
{
	const char *p = strstr(labels, "le=\"");
	if (!p)
		return false;
	const char *q = strchr(p + 4, '"');
	assert_non_null(q);
	char v[32];
	snprintf(v, sizeof(v), "%.*s", (int)(q - p - 4), p + 4);
	if (!strcmp(v, "+Inf")) {
		*le = INFINITY;
	} else {
		char *end;
		*le = strtod(v, &end);
		assert_true(*end == '\0' && end != v);
	}
	size_t before = (size_t)(p - labels);
	if (before && labels[before - 1] == ',')
		before--;
	const char *after = q + 1;
	if (*after == ',' && !before)
		after++;
	snprintf(key, cap, "%.*s%s", (int)before, labels, after);
	return true;
}

static struct hist *hist_get(struct exposition *e, const struct family *f,
			     const char *key, bool create)
{
	for (unsigned i = 0; i < e->nhist; i++)
		if (e->hist[i].f == f && !strcmp(e->hist[i].key, key))
			return &e->hist[i];
	if (!create)
		fail_msg("%s{%s}: _sum or _count before its buckets", f->name,
			 key);
	assert_true(e->nhist < MAX_HIST);
	struct hist *h = &e->hist[e->nhist++];
	h->f = f;
	snprintf(h->key, sizeof(h->key), "%s", key);
	h->le = -INFINITY;
	return h;
}

/* name{labels} value */
static void sample(struct exposition *e, const char *line, size_t len)
{
	char buf[512];
	assert_true(len < sizeof(buf));
	memcpy(buf, line, len);
	buf[len] = '\0';
	char *sp = strrchr(buf, ' ');
	if (!sp)
		fail_msg("no value: %s", buf);
	*sp = '\0';
	char *end;
	double v = strtod(sp + 1, &end);
	if (*end || end == sp + 1)
		fail_msg("not a number: %s", buf);
	char *brace = strchr(buf, '{');
	size_t n = brace ? (size_t)(brace - buf) : strlen(buf);
	char labels[256] = "";
	if (brace) {
		size_t k = strlen(brace);
		if (brace[k - 1] != '}')
			fail_msg("labels not closed: %s", buf);
		snprintf(labels, sizeof(labels), "%.*s", (int)(k - 2),
			 brace + 1);
	}
	/* Unique, in the whole exposition. */
	for (unsigned i = 0; i < e->nseries; i++)
		if (!strcmp(e->series[i], buf))
			fail_msg("series twice: %s", buf);
	assert_true(e->nseries < MAX_SERIES);
	assert_true(strlen(buf) < sizeof(e->series[0]));
	memcpy(e->series[e->nseries++], buf, strlen(buf) + 1);

	struct family *f = family_find(e, buf, n);
	const char *part = NULL;
	static const char *const parts[] = {"_bucket", "_sum", "_count"};
	for (unsigned i = 0; !f && i < 3; i++) {
		if (ends_with(buf, n, parts[i])) {
			f = family_find(e, buf, n - strlen(parts[i]));
			part = parts[i];
		}
	}
	if (!f || !f->help || !f->type[0])
		fail_msg("a sample with no HELP and TYPE: %s", buf);
	if (f != e->current)
		fail_msg("a sample of %s after another family", f->name);
	if (!strcmp(f->type, "counter") && !ends_with(f->name, n, "_total"))
		fail_msg("counter %s does not end in _total", f->name);
	bool histogram = !strcmp(f->type, "histogram");
	if (histogram != (part != NULL))
		fail_msg("%s: a sample its type does not have", buf);
	if (!histogram)
		return;
	char key[256];
	double le;
	if (!strcmp(part, "_bucket")) {
		if (!split_le(labels, key, sizeof(key), &le))
			fail_msg("a bucket without le: %s", buf);
		struct hist *h = hist_get(e, f, key, true);
		if (h->has_inf || le <= h->le)
			fail_msg("buckets out of order: %s", buf);
		if (v < h->last)
			fail_msg("buckets not cumulative: %s", buf);
		h->le = le;
		h->last = v;
		if (isinf(le)) {
			h->has_inf = true;
			h->inf = v;
		}
		return;
	}
	struct hist *h = hist_get(e, f, labels, false);
	if (!h->has_inf)
		fail_msg("%s before the +Inf bucket", buf);
	if (!strcmp(part, "_count")) {
		if (v != h->inf)
			fail_msg("%s: _count %g, +Inf bucket %g", buf, v,
				 h->inf);
		h->has_count = true;
	} else {
		h->has_sum = true;
	}
}

/* Checks `text` line by line; the families it declares stay in `e`. */
static void check_exposition(struct exposition *e, const char *text)
{
	memset(e, 0, sizeof(*e));
	size_t total = strlen(text);
	assert_true(total > 0);
	assert_true(text[total - 1] == '\n');
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = (size_t)(nl - p);
		if (!len)
			fail_msg("an empty line");
		if (*p == '#')
			comment(e, p, len);
		else
			sample(e, p, len);
		p = nl + 1;
	}
	for (unsigned i = 0; i < e->nfam; i++)
		if (!e->fam[i].type[0])
			fail_msg("%s: HELP without TYPE", e->fam[i].name);
	for (unsigned i = 0; i < e->nhist; i++)
		if (!e->hist[i].has_sum || !e->hist[i].has_count)
			fail_msg("%s{%s}: no _sum or _count",
				 e->hist[i].f->name, e->hist[i].key);
}

static const char *type_of(struct exposition *e, const char *name)
{
	struct family *f = family_find(e, name, strlen(name));
	if (!f)
		fail_msg("no family %s", name);
	return f->type;
}

/* The value of the series `series` ("name{labels}"); fails if absent. */
static double value_of(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *p = text; *p;) {
		if (!strncmp(p, series, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
	fail_msg("no series %s", series);
	return 0;
}

/* What the issue asks of every server, whatever it serves. */
static const char *const required[] = {
    "ringlet_connections_accepted_total",
    "ringlet_connections_active",
    "ringlet_connections_refused_total",
    "ringlet_connection_timeouts_total",
    "ringlet_requests_total",
    "ringlet_request_errors_total",
    "ringlet_request_duration_seconds",
    "ringlet_request_arena_bytes",
    "ringlet_memory_reserved_bytes",
    "ringlet_memory_limit_bytes",
    "ringlet_memory_limit_failures_total",
    "ringlet_memory_peak_reserved_bytes",
    "ringlet_pool_capacity",
    "ringlet_pool_in_use",
    "ringlet_pool_high_water",
    "ringlet_pool_max",
    "ringlet_pool_failures_total",
    "ringlet_pool_reserved_bytes",
    "ringlet_slab_in_use",
    "ringlet_slab_high_water",
    "ringlet_slab_allocs_total",
    "ringlet_slab_asked_bytes_total",
    "ringlet_slab_given_bytes_total",
    "ringlet_arena_requests_total",
    "ringlet_arena_allocs_total",
    "ringlet_arena_used_bytes_total",
    "ringlet_arena_spills_total",
    "ringlet_arena_failures_total",
    "process_resident_memory_bytes",
};

static void check_required(struct exposition *e)
{
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		type_of(e, required[i]);
	assert_string_equal(type_of(e, "ringlet_request_duration_seconds"),
			    "histogram");
	assert_string_equal(type_of(e, "ringlet_connections_active"), "gauge");
}

/* ------------------------------------------------------------------------
 * Servers that never run: the board, the program's section, the length
 * ------------------------------------------------------------------------ */

struct figures {
	uint64_t v[5];
};

static void read_figures(void *arg, uint64_t *v)
{
	memcpy(v, ((struct figures *)arg)->v,
	       sizeof(((struct figures *)arg)->v));
}

static char text[1 << 18];
static struct exposition expo;

static void test_board(void **state)
{
	(void)state;
	struct figures f0 = {{5, 700, 3, 1500, 42}};
	struct figures f1 = {{7, 300, 1, 2500000, 8}};
	struct rg_stats_extra x0 = {
	    .section = "python",
	    .names = {"calls", "longest_us", "greenlets_in_use",
		      "pause_total_us", "blocks"},
	    .max_mask = 1u << 1,
	    .gauge_mask = 1u << 4,
	    .read = read_figures,
	    .arg = &f0,
	};
	struct rg_stats_extra x1 = x0;
	x1.arg = &f1;
	/* Three slots, the last one empty: no series for it. */
	struct rg_stats_board *b = rg_stats_board_create(3);
	assert_non_null(b);
	struct rg_server *s0 = board_server(b, 0, &x0),
			 *s1 = board_server(b, 1, &x1);
	rg_server_metrics(s1, NULL, 0); /* publishes slot 1 */
	size_t n = rg_server_metrics(s0, text, sizeof(text));
	assert_true(n < sizeof(text));
	assert_int_equal(strlen(text), n);
	check_exposition(&expo, text);
	check_required(&expo);
	assert_non_null(strstr(text, "{worker=\"0\""));
	assert_non_null(strstr(text, "{worker=\"1\""));
	assert_null(strstr(text, "worker=\"2\""));
	/* The program's figures, named and typed by the rule. */
	assert_string_equal(type_of(&expo, "ringlet_python_calls_total"),
			    "counter");
	assert_string_equal(type_of(&expo, "ringlet_python_longest_seconds"),
			    "gauge");
	assert_string_equal(type_of(&expo, "ringlet_python_greenlets_in_use"),
			    "gauge");
	assert_string_equal(
	    type_of(&expo, "ringlet_python_pause_seconds_total"), "counter");
	assert_string_equal(type_of(&expo, "ringlet_python_blocks"), "gauge");
	assert_true(
	    value_of(text, "ringlet_python_calls_total{worker=\"0\"}") == 5);
	assert_true(
	    value_of(text, "ringlet_python_calls_total{worker=\"1\"}") == 7);
	assert_non_null(strstr(
	    text, "\nringlet_python_longest_seconds{worker=\"0\"} 0.0007\n"));
	assert_non_null(strstr(
	    text, "\nringlet_python_pause_seconds_total{worker=\"1\"} 2.5\n"));
	assert_true(value_of(text, "ringlet_python_blocks{worker=\"1\"}") == 8);
	/* Memory by tier: four of them, summing to nothing on servers that
	 * never mapped a pool. */
	assert_true(value_of(text, "ringlet_memory_reserved_bytes{worker=\"0\","
				   "tier=\"other\"}") == 0);
	rg_server_destroy(s0);
	rg_server_destroy(s1);
	rg_stats_board_destroy(b);
}

/* worker="all": the workers summed, and the counters of those gone kept,
 * so that the whole server's counters never go down when a worker is
 * replaced (its own series starts again from 0); gauges are the live
 * workers' only. */
static void test_whole_server(void **state)
{
	(void)state;
	struct rg_stats_board *b = rg_stats_board_create(2);
	assert_non_null(b);
	struct rg_server *s0 = board_server(b, 0, NULL),
			 *s1 = board_server(b, 1, NULL);
	s0->w.stats.requests = 5;
	s0->w.stats.connections_active = 2;
	s0->w.stats.duration_buckets[0] = 5;
	s1->w.stats.requests = 7;
	s1->w.stats.connections_active = 3;
	s1->w.stats.duration_buckets[0] = 7;
	rg__stats_publish(&s1->w);
	rg_server_metrics(s0, text, sizeof(text));
	check_exposition(&expo, text);
	assert_true(value_of(text, "ringlet_requests_total{worker=\"all\"}") ==
		    12);
	assert_true(
	    value_of(text, "ringlet_connections_active{worker=\"all\"}") == 5);
	assert_true(value_of(text, "ringlet_request_duration_seconds_count{"
				   "worker=\"all\"}") == 12);
	/* Worker 1 exits; a new one takes its slot and serves 2. */
	rg__stats_board_retire(b, 1);
	rg_server_destroy(s1);
	s1 = board_server(b, 1, NULL);
	s1->w.stats.requests = 2;
	s1->w.stats.connections_active = 1;
	s1->w.stats.duration_buckets[0] = 2;
	rg__stats_publish(&s1->w);
	rg_server_metrics(s0, text, sizeof(text));
	check_exposition(&expo, text);
	assert_true(value_of(text, "ringlet_requests_total{worker=\"1\"}") ==
		    2);
	assert_true(value_of(text, "ringlet_requests_total{worker=\"all\"}") ==
		    14);
	assert_true(
	    value_of(text, "ringlet_connections_active{worker=\"all\"}") == 3);
	assert_true(value_of(text, "ringlet_request_duration_seconds_count{"
				   "worker=\"all\"}") == 14);
	assert_true(value_of(text, "ringlet_request_duration_seconds_bucket{"
				   "worker=\"all\",le=\"+Inf\"}") == 14);
	rg_server_destroy(s0);
	rg_server_destroy(s1);
	rg_stats_board_destroy(b);
}

static void test_single(void **state)
{
	(void)state;
	struct rg_server *s = board_server(NULL, 0, NULL);
	size_t n = rg_server_metrics(s, text, sizeof(text));
	assert_true(n < sizeof(text));
	check_exposition(&expo, text);
	check_required(&expo);
	assert_true(value_of(text, "ringlet_requests_total{worker=\"0\"}") ==
		    0);
	assert_null(strstr(text, "worker=\"1\""));
	assert_null(strstr(text, "ringlet_python"));
	rg_server_destroy(s);
}

/* Like snprintf: the length it needs whatever the room, and what fits
 * (NUL-terminated), never a byte past it. */
static void test_length(void **state)
{
	(void)state;
	struct rg_server *s = board_server(NULL, 0, NULL);
	size_t full = rg_server_metrics(s, text, sizeof(text));
	assert_true(full > 1000);
	assert_true(rg_server_metrics(s, NULL, 0) + 32 > full);
	static const size_t caps[] = {1, 2, 57, 100, 1000};
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		size_t cap = caps[i];
		char *p = guard_tail(cap);
		memset(p, 'x', cap);
		size_t n = rg_server_metrics(s, p, cap);
		/* Only the resident set differs between two calls: a digit
		 * or two. */
		assert_true(n + 32 > full && n < full + 32);
		assert_int_equal(strlen(p), cap - 1);
		/* The traffic figures come first; they do not move here. */
		assert_memory_equal(p, text, cap - 1);
	}
	/* Room for all of it. */
	char *p = guard_tail(full + 64);
	size_t n = rg_server_metrics(s, p, full + 64);
	assert_true(n < full + 64);
	assert_int_equal(strlen(p), n);
	rg_server_destroy(s);
}

/* ------------------------------------------------------------------------
 * A server run in this process (epoll: no kernel feature needed)
 * ------------------------------------------------------------------------ */

static struct rg_server *server;
static uint16_t port;
/* Allocator calls made while /m and /metrics wrote their figures. */
static unsigned long calls_m, calls_metrics;
static char mtext[1 << 16];

static void h_hello(struct rg_request *req, void *data)
{
	(void)data;
	rg_respond(req, 200, "text/plain", "hi", 2);
}

/* rg_server_metrics itself, counted. */
static void h_m(struct rg_request *req, void *data)
{
	unsigned long before = atomic_load(&heap_calls);
	counting = true;
	size_t n = rg_server_metrics(data, mtext, sizeof(mtext));
	counting = false;
	calls_m = atomic_load(&heap_calls) - before;
	rg_respond(req, n < sizeof(mtext) ? 200 : 500, "text/plain", mtext,
		   n < sizeof(mtext) ? n : 0);
}

/* The library's handler, counted from its start to its return. */
static void h_metrics(struct rg_request *req, void *data)
{
	unsigned long before = atomic_load(&heap_calls);
	counting = true;
	rg_metrics_handler(req, data);
	counting = false;
	calls_metrics = atomic_load(&heap_calls) - before;
}

static int setup_server(void **state)
{
	(void)state;
	struct rg_server_config cfg;
	thread_server_config(&cfg, RG_IO_EPOLL);
	cfg.max_connections = 64;
	server = rg_server_create(&cfg);
	if (!server)
		return -1;
	if (rg_route(server, "GET", "/hello", h_hello, NULL) ||
	    rg_route(server, "GET", "/m", h_m, server) ||
	    rg_route(server, "GET", "/metrics", h_metrics, server))
		return -1;
	int st = thread_server_start(server);
	if (st < 0) {
		server = NULL;
		fprintf(stderr, "server not started: %s\n", strerror(-st));
		return -1;
	}
	port = rg_server_port(server);
	return 0;
}

static int teardown_server(void **state)
{
	(void)state;
	thread_server_stop(server);
	server = NULL;
	return 0;
}

/* GET `path` on a connection of its own: the head into *head, the body
 * (de-chunked) returned; both freed by the caller. */
static char *get(const char *path, char **head)
{
	int fd = thread_server_connect(port);
	char req[256];
	int rn = snprintf(req, sizeof(req),
			  "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			  "\r\n",
			  path);
	assert_int_equal(send(fd, req, (size_t)rn, MSG_NOSIGNAL), rn);
	size_t cap = 1 << 16, n = 0;
	char *all = malloc(cap);
	ssize_t r;
	while ((r = recv(fd, all + n, cap - n - 1, 0)) > 0)
		if ((n += (size_t)r) + 1 == cap)
			all = realloc(all, cap *= 2);
	close(fd);
	all[n] = '\0';
	char *end = strstr(all, "\r\n\r\n");
	assert_non_null(end);
	*head = strndup(all, (size_t)(end - all) + 2);
	char *body = strdup(end + 4);
	if (strstr(*head, "Transfer-Encoding: chunked")) {
		size_t out = 0;
		for (char *p = end + 4;;) {
			char *e;
			unsigned long k = strtoul(p, &e, 16);
			assert_true(e != p && e[0] == '\r' && e[1] == '\n');
			if (!k)
				break;
			memcpy(body + out, e + 2, k);
			out += k;
			p = e + 2 + k + 2;
		}
		body[out] = '\0';
	}
	free(all);
	return body;
}

static void test_served(void **state)
{
	(void)state;
	char *head;
	for (int i = 0; i < 5; i++) {
		char *body = get("/hello", &head);
		assert_string_equal(body, "hi");
		free(body);
		free(head);
	}
	char *body = get("/m", &head);
	check_exposition(&expo, body);
	check_required(&expo);
	/* The five, not /m itself: its response is not complete yet. */
	assert_true(value_of(body, "ringlet_requests_total{worker=\"0\"}") ==
		    5);
	assert_true(value_of(body, "ringlet_request_duration_seconds_count{"
				   "worker=\"0\"}") == 5);
	assert_true(value_of(body, "ringlet_request_arena_bytes_count{"
				   "worker=\"0\"}") == 5);
	assert_true(value_of(body, "ringlet_request_duration_seconds_sum{"
				   "worker=\"0\"}") > 0);
	/* Each request's arena holds its request at least. */
	assert_true(value_of(body, "ringlet_request_arena_bytes_bucket{"
				   "worker=\"0\",le=\"256\"}") == 0);
	assert_true(value_of(body, "ringlet_connections_accepted_total{"
				   "worker=\"0\"}") == 6);
	/* The pools are mapped, and the tiers add up to the account. */
	double tiers = 0;
	static const char *const tier[] = {"arena", "pool", "slab", "other"};
	for (int i = 0; i < 4; i++) {
		char s[128];
		snprintf(
		    s, sizeof(s),
		    "ringlet_memory_reserved_bytes{worker=\"0\",tier=\"%s\"}",
		    tier[i]);
		tiers += value_of(body, s);
	}
	assert_true(tiers > 0);
	assert_true(value_of(body, "ringlet_memory_peak_reserved_bytes{"
				   "worker=\"0\"}") >= tiers);
	free(body);
	free(head);

	/* The library's handler: streamed, 0.0.4's content type. */
	body = get("/metrics", &head);
	assert_non_null(strstr(head, "HTTP/1.1 200 "));
	assert_non_null(strstr(head, "Content-Type: text/plain; "
				     "version=0.0.4; charset=utf-8\r\n"));
	check_exposition(&expo, body);
	check_required(&expo);
	assert_true(value_of(body, "ringlet_requests_total{worker=\"0\"}") ==
		    6);
	assert_true(value_of(body, "ringlet_request_duration_seconds_count{"
				   "worker=\"0\"}") == 6);
	free(body);
	free(head);
}

static void test_no_heap(void **state)
{
	(void)state;
#ifdef NO_HEAP_COUNT
	print_message("SKIP: %s\n", NO_HEAP_COUNT);
	skip();
#else
	char *head;
	char *body = get("/hello", &head);
	free(body);
	free(head);
	body = get("/m", &head);
	free(body);
	free(head);
	body = get("/metrics", &head);
	assert_true(strlen(body) > 1000);
	free(body);
	free(head);
	/* The counter itself counts: calls made while counting show, those
	 * glibc makes inside its own functions too (strdup). */
	unsigned long before = atomic_load(&heap_calls);
	counting = true;
	char *volatile p = strdup("x");
	free(p);
	counting = false;
	assert_int_equal(atomic_load(&heap_calls) - before, 2);
	assert_int_equal(calls_m, 0);
	assert_int_equal(calls_metrics, 0);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_board),
	    cmocka_unit_test(test_whole_server),
	    cmocka_unit_test(test_single),
	    cmocka_unit_test(test_length),
	    cmocka_unit_test_setup_teardown(test_served, setup_server,
					    teardown_server),
	    cmocka_unit_test_setup_teardown(test_no_heap, setup_server,
					    teardown_server),
	};
	return cmocka_run_group_tests(tests, guard_setup, guard_teardown);
}
