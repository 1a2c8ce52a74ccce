/* test_logs.c: the ringlet binary's logs, configured with -c FILE: the
 * access log in nginx's combined format, field by field (address, time,
 * quoted request line, status, body bytes, referer, user agent, escaping
 * of what the client sent), for curl requests, a 404, a POST, a HEAD and
 * 400s on a raw socket; thousands of pipelined lines in order; two worker
 * processes sharing the file without a torn line; rotation (rename,
 * SIGUSR1: old lines stay in the renamed file, new ones go to a new file,
 * for the error log too); failing writes reported in the error log; a log
 * that cannot keep up dropping lines without slowing the server (io_uring);
 * a log that cannot be opened stopping the start. Every test runs on both
 * io backends (fixture.h). */
#include "fixture.h"

#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <sys/stat.h>

/* Lines reach the file within a second (the flush timer); the tests wait
 * longer, for slow machines and sanitizers. */
#define LOG_WAIT_MS 5000

static char dir[64];   /* this test's directory, "" when none */
static char conf[128]; /* its configuration file */
static char access_path[128], error_path[128];

static void path_in_dir(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

/* Removes the test's directory and what the server wrote in it. */
static void dir_cleanup(void)
{
	if (!dir[0])
		return;
	static const char *const names[] = {
	    "ringlet.toml", "access.log",  "access.log.1",
	    "error.log",    "error.log.1",
	};
	char p[192];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		path_in_dir(p, sizeof(p), names[i]);
		unlink(p);
	}
	rmdir(dir);
	dir[0] = '\0';
}

/* A directory for the test, and in it a configuration for `workers`
 * worker processes that sends the access log to `access_log` (NULL:
 * access.log in the directory) and the error log to error.log. */
static void write_config(const char *access_log, unsigned workers)
{
	snprintf(dir, sizeof(dir), "/tmp/ringlet-logs-XXXXXX");
	assert_non_null(mkdtemp(dir));
	fixture_on_teardown(dir_cleanup);
	path_in_dir(conf, sizeof(conf), "ringlet.toml");
	path_in_dir(access_path, sizeof(access_path), "access.log");
	path_in_dir(error_path, sizeof(error_path), "error.log");
	FILE *f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f,
		"[server]\n"
		"listen = [\"127.0.0.1:8080\"]  # the port comes from --port\n"
		"[performance]\n"
		"workers = %u\n"
		"[log]\n"
		"access_log = \"%s\"\n"
		"error_log = \"%s\"\n"
		"level = \"info\"\n",
		workers, access_log ? access_log : access_path, error_path);
	assert_int_equal(fclose(f), 0);
}

/* The server on the group's backend with that configuration. */
static int setup_logs(void **state)
{
	struct backend *be = *state;
	if (be->why_not)
		return start_with(state, NULL); /* the test skips */
	write_config(NULL, 1);
	static const char *const extra[] = {"-c", conf, NULL};
	return start_with(state, extra);
}

static int setup_two_workers(void **state)
{
	struct backend *be = *state;
	if (be->why_not)
		return start_with(state, NULL);
	write_config(NULL, 2);
	static const char *const extra[] = {"-c", conf, NULL};
	return start_with(state, extra);
}

/* A fixture without a server: the test starts its own. */
static int setup_no_server(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->be = *state;
	*state = f;
	return 0;
}

/* ---- reading the log ---------------------------------------------------- */

static bool file_has(const char *path, const char *needle)
{
	char *text = log_slurp(path);
	bool has = text && strstr(text, needle);
	free(text);
	return has;
}

/* One combined-format line, split into its fields. */
struct entry {
	char addr[64];
	char time[32];
	char request[1024];
	int status;
	unsigned long long bytes;
	char referer[512];
	char agent[512];
};

/* Copies the quoted field at *p (which must start with '"') into out;
 * quotes inside fields are escaped, so the next '"' ends it. */
static bool quoted(const char **p, char *out, size_t cap)
{
	if (**p != '"')
		return false;
	const char *end = strchr(*p + 1, '"');
	if (!end || (size_t)(end - *p - 1) >= cap)
		return false;
	memcpy(out, *p + 1, (size_t)(end - *p - 1));
	out[end - *p - 1] = '\0';
	*p = end + 1;
	return true;
}

/* Parses `line` strictly: 0, or fails the test saying where. */
static void parse_entry(const char *line, struct entry *e)
{
	/* $remote_addr - - [$time_local] "$request" $status $body_bytes_sent
	 * "$http_referer" "$http_user_agent" */
	static regex_t re;
	static bool compiled;
	if (!compiled) {
		assert_int_equal(
		    regcomp(&re,
			    "^([0-9a-f.:]+) - - \\[([0-9]{2}/[A-Z][a-z]{2}/"
			    "[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4})"
			    "\\] (\"[^\"]*\") ([1-5][0-9]{2}) ([0-9]+) "
			    "(\"[^\"]*\") (\"[^\"]*\")$",
			    REG_EXTENDED),
		    0);
		compiled = true;
	}
	regmatch_t m[8];
	if (regexec(&re, line, 8, m, 0)) {
		print_message("not a combined-format line: %s\n", line);
		fail();
	}
	memset(e, 0, sizeof(*e));
	snprintf(e->addr, sizeof(e->addr), "%.*s",
		 (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
	snprintf(e->time, sizeof(e->time), "%.*s",
		 (int)(m[2].rm_eo - m[2].rm_so), line + m[2].rm_so);
	const char *p = line + m[3].rm_so;
	assert_true(quoted(&p, e->request, sizeof(e->request)));
	e->status = atoi(line + m[4].rm_so);
	e->bytes = strtoull(line + m[5].rm_so, NULL, 10);
	p = line + m[6].rm_so;
	assert_true(quoted(&p, e->referer, sizeof(e->referer)));
	p = line + m[7].rm_so;
	assert_true(quoted(&p, e->agent, sizeof(e->agent)));
}

/* The line for `needle`, parsed; fails if it does not come. */
static void expect_entry(const char *needle, struct entry *e)
{
	char *line = wait_line(access_path, needle, LOG_WAIT_MS);
	if (!line) {
		char *text = log_slurp(access_path);
		print_message("no line with %s in %s; it holds:\n%s\n", needle,
			      access_path, text ? text : "(no file)");
		free(text);
	}
	assert_non_null(line);
	parse_entry(line, e);
	free(line);
}

/* The time field is the local time, within a few seconds of now. */
static void check_time(const char *field)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(field, "%d/%b/%Y:%H:%M:%S %z", &tm);
	assert_non_null(end);
	assert_int_equal(*end, '\0');
	long off = tm.tm_gmtoff;
	time_t t = timegm(&tm) - off;
	long skew = (long)(time(NULL) - t);
	if (skew < -5 || skew > 30)
		print_message("time %s is %ld s from now\n", field, skew);
	assert_true(skew >= -5 && skew <= 30);
	struct tm local;
	localtime_r(&t, &local);
	assert_int_equal(local.tm_gmtoff, off); /* local time, as nginx */
}

static void curl_ok(const char *const args[], struct curl_result *r)
{
	if (!curl_available()) {
		print_message("SKIP: curl is not installed\n");
		skip();
	}
	assert_int_equal(curl_run(args, r), 0);
	assert_int_equal(r->exit, 0);
}

#define URL(f, path) url_of(f, path)

static const char *url_of(const struct fixture *f, const char *path)
{
	static char urls[8][256];
	static int next;
	char *u = urls[next++ % 8];
	snprintf(u, sizeof(urls[0]), "http://127.0.0.1:%u%s", f->port, path);
	return u;
}

/* ---- tests -------------------------------------------------------------- */

/* Lines for the requests a browser or a client sends, each field checked
 * against what the client saw. */
static void test_combined_fields(void **state)
{
	struct fixture *f = fixture_get(state);
	struct curl_result r;
	struct entry e;

	const char *get[] = {"-e",
			     "http://ref.example/page?x=1",
			     "-A",
			     "test-agent/1.0 (logs)",
			     URL(f, "/plaintext?t=get"),
			     NULL};
	curl_ok(get, &r);
	assert_int_equal(r.status, 200);
	expect_entry("/plaintext?t=get ", &e);
	assert_string_equal(e.addr, "127.0.0.1");
	check_time(e.time);
	assert_string_equal(e.request, "GET /plaintext?t=get HTTP/1.1");
	assert_int_equal(e.status, 200);
	assert_int_equal(e.bytes, r.len);
	assert_int_equal(e.bytes, 13);
	assert_string_equal(e.referer, "http://ref.example/page?x=1");
	assert_string_equal(e.agent, "test-agent/1.0 (logs)");
	curl_result_free(&r);

	const char *missing[] = {"-H", "User-Agent:", URL(f, "/no/such/thing"),
				 NULL};
	curl_ok(missing, &r);
	assert_int_equal(r.status, 404);
	expect_entry("/no/such/thing ", &e);
	assert_string_equal(e.request, "GET /no/such/thing HTTP/1.1");
	assert_int_equal(e.status, 404);
	assert_int_equal(e.bytes, r.len);
	assert_string_equal(e.referer, "-");
	assert_string_equal(e.agent, "-");
	curl_result_free(&r);

	const char *post[] = {"-A",
			      "poster",
			      "--data-binary",
			      "hello body",
			      URL(f, "/echo?t=post"),
			      NULL};
	curl_ok(post, &r);
	assert_int_equal(r.status, 200);
	assert_true(r.len > 0);
	expect_entry("/echo?t=post ", &e);
	assert_string_equal(e.request, "POST /echo?t=post HTTP/1.1");
	assert_int_equal(e.status, 200);
	assert_int_equal(e.bytes, r.len);
	curl_result_free(&r);

	/* HEAD: the length is announced, no body goes out. */
	const char *head[] = {"-I", URL(f, "/plaintext?t=head"), NULL};
	curl_ok(head, &r);
	assert_int_equal(r.status, 200);
	expect_entry("/plaintext?t=head ", &e);
	assert_string_equal(e.request, "HEAD /plaintext?t=head HTTP/1.1");
	assert_int_equal(e.bytes, 0);
	curl_result_free(&r);

	/* HTTP/1.0 shows as such. */
	const char *old[] = {"-0", URL(f, "/json?t=http10"), NULL};
	curl_ok(old, &r);
	expect_entry("/json?t=http10 ", &e);
	assert_string_equal(e.request, "GET /json?t=http10 HTTP/1.0");
	assert_int_equal(e.bytes, r.len);
	curl_result_free(&r);
}

/* What the client sends cannot end a field or start a line: '"', '\\',
 * control and non-ASCII bytes are \xHH, as nginx writes them. */
static void test_escaping(void **state)
{
	struct fixture *f = fixture_get(state);
	struct curl_result r;
	struct entry e;
	const char *args[] = {"-A",
			      "agent \"quoted\" back\\slash \xc3\xa9",
			      "-e",
			      "x\" 200 0 \"-\" \"forged",
			      URL(f, "/plaintext?t=escape"),
			      NULL};
	curl_ok(args, &r);
	assert_int_equal(r.status, 200);
	expect_entry("/plaintext?t=escape ", &e);
	assert_string_equal(e.agent,
			    "agent \\x22quoted\\x22 back\\x5Cslash \\xC3\\xA9");
	assert_string_equal(e.referer, "x\\x22 200 0 \\x22-\\x22 \\x22forged");
	curl_result_free(&r);
}

/* A head the parser rejects is logged with its status, the bytes of the
 * error body, and its first line as received (escaped). */
static void test_rejected_request(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	send_str(&c, "GET /bad\x01path?t=reject HTTP/1.1\r\nHost: x\r\n\r\n");
	read_resp(&c, &r, 0);
	assert_int_equal(r.status, 400);
	struct entry e;
	expect_entry("?t=reject ", &e);
	assert_string_equal(e.request, "GET /bad\\x01path?t=reject HTTP/1.1");
	assert_int_equal(e.status, 400);
	assert_int_equal(e.bytes, r.body_len);
	assert_string_equal(e.agent, "-");
	http_resp_free(&r);
	http_close(&c);

	/* Garbage that is no request line at all. */
	conn_open(f, &c);
	send_str(&c, "\x16\x03\x01 hello-reject\r\n\r\n");
	read_resp(&c, &r, 0);
	assert_true(r.status == 400);
	expect_entry("hello-reject", &e);
	assert_string_equal(e.request, "\\x16\\x03\\x01 hello-reject");
	assert_int_equal(e.status, 400);
	http_resp_free(&r);
	http_close(&c);
}

/* Rotation: rename both logs, SIGUSR1 to the server; lines of requests
 * before stay in the renamed file, lines after go to a new file, also on
 * a connection opened before the rotation. */
static void test_rotation(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	conn_open(f, &c);
	roundtrip(&c, GET("/plaintext?t=before"), 200, "Hello, World!");
	char *line = wait_line(access_path, "?t=before ", LOG_WAIT_MS);
	assert_non_null(line);
	free(line);

	char old_access[192], old_error[192];
	path_in_dir(old_access, sizeof(old_access), "access.log.1");
	path_in_dir(old_error, sizeof(old_error), "error.log.1");
	assert_int_equal(rename(access_path, old_access), 0);
	assert_int_equal(rename(error_path, old_error), 0);
	assert_int_equal(kill(f->srv.pid, SIGUSR1), 0);

	/* The worker creates the new file when it reopens. */
	struct stat st;
	int64_t end = now_ms() + LOG_WAIT_MS;
	while (stat(access_path, &st) && now_ms() < end)
		sleep_ms(20);
	assert_int_equal(stat(access_path, &st), 0);

	roundtrip(&c, GET("/plaintext?t=after-same-conn"), 200,
		  "Hello, World!");
	http_close(&c);
	conn_open(f, &c);
	roundtrip(&c, GET("/plaintext?t=after-new-conn"), 200, "Hello, World!");
	http_close(&c);

	line = wait_line(access_path, "?t=after-new-conn ", LOG_WAIT_MS);
	if (!line || !file_has(access_path, "?t=after-same-conn ") ||
	    file_has(old_access, "?t=after")) {
		char *a = log_slurp(access_path), *b = log_slurp(old_access);
		char *e1 = log_slurp(old_error), *e2 = log_slurp(error_path);
		print_message("%s:\n%s\n%s:\n%s\n", access_path,
			      a ? a : "(none)", old_access, b ? b : "(none)");
		print_message("error logs:\n%s\n%s\n", e1 ? e1 : "(none)",
			      e2 ? e2 : "(none)");
		free(a);
		free(b);
		free(e1);
		free(e2);
	}
	assert_non_null(line);
	free(line);
	assert_true(file_has(access_path, "?t=after-same-conn "));
	assert_false(file_has(access_path, "?t=before "));
	assert_true(file_has(old_access, "?t=before "));
	assert_false(file_has(old_access, "?t=after"));

	/* The error log was reopened too: a new file, nginx-style lines. */
	line = wait_line(error_path, "reopen", LOG_WAIT_MS);
	if (!line)
		print_message("the new error log holds no reopen line\n");
	assert_non_null(line);
	regex_t re;
	assert_int_equal(
	    regcomp(&re,
		    "^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:"
		    "[0-9]{2} \\[(error|warn|info|debug)\\] "
		    "[0-9]+#0: .",
		    REG_EXTENDED | REG_NOSUB),
	    0);
	if (regexec(&re, line, 0, NULL, 0))
		print_message("not an nginx-style line: %s\n", line);
	assert_int_equal(regexec(&re, line, 0, NULL, 0), 0);
	regfree(&re);
	free(line);
}

/* Many requests: every one gets its line, in order, none torn. */
static void test_many_lines(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	conn_open(f, &c);
	enum { N = 3000, BATCH = 100 };
	/* In batches, so that neither side's buffers fill up. */
	for (int i = 0; i < N; i += BATCH) {
		struct sbuf burst = {0};
		for (int k = i; k < i + BATCH; k++)
			sb_printf(&burst,
				  "GET /pipeline?n=%d HTTP/1.1\r\nHost: x\r\n"
				  "User-Agent: burst-%d\r\n\r\n",
				  k, k);
		send_bytes(&c, burst.p, burst.len);
		for (int k = 0; k < BATCH; k++) {
			struct http_resp r;
			read_resp(&c, &r, 0);
			check_str(&r, 200, "ok");
			http_resp_free(&r);
		}
		sb_free(&burst);
	}
	http_close(&c);
	char want[64];
	snprintf(want, sizeof(want), "?n=%d ", N - 1);
	char *line = wait_line(access_path, want, LOG_WAIT_MS);
	assert_non_null(line);
	free(line);
	char *text = log_slurp(access_path);
	int next = 0;
	for (char *p = text, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		struct entry e;
		parse_entry(p, &e);
		if (strncmp(e.request, "GET /pipeline?n=", 16))
			continue;
		assert_int_equal(atoi(e.request + 16), next);
		char agent[32];
		snprintf(agent, sizeof(agent), "burst-%d", next);
		assert_string_equal(e.agent, agent);
		assert_int_equal(e.bytes, 2);
		next++;
	}
	assert_int_equal(next, N);
	free(text);
}

/* Lines still buffered when the server stops are written before it exits
 * (the flush timer has not fired: the stop comes at once). */
static void test_flush_at_stop(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	conn_open(f, &c);
	roundtrip(&c, GET("/plaintext?t=last-words"), 200, "Hello, World!");
	http_close(&c);
	int st = server_stop(&f->srv, 10000);
	f->running = false;
	assert_int_equal(st, 0);
	assert_true(file_has(access_path, "?t=last-words "));
}

/* Two worker processes append to one file (O_APPEND, whole lines per
 * write): from clients in parallel, every line arrives whole, once. */
struct hammer {
	uint16_t port;
	int id, n, failed;
	pthread_t thread;
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	for (int i = 0; i < h->n && !h->failed; i++) {
		/* A connection per request: both workers get some. */
		struct http_conn c;
		struct http_resp r;
		char req[128];
		snprintf(req, sizeof(req),
			 "GET /pipeline?w=%d-%d HTTP/1.1\r\nHost: x\r\n"
			 "Connection: close\r\n\r\n",
			 h->id, i);
		if (http_open(&c, h->port) || http_exchange(&c, req, &r)) {
			h->failed = 1;
			break;
		}
		h->failed = r.status != 200;
		http_resp_free(&r);
		http_close(&c);
	}
	return NULL;
}

static void test_two_workers(void **state)
{
	struct fixture *f = fixture_get(state);
	enum { CLIENTS = 4, EACH = 250 };
	struct hammer h[CLIENTS];
	for (int i = 0; i < CLIENTS; i++) {
		h[i] = (struct hammer){.port = f->port, .id = i, .n = EACH};
		assert_int_equal(
		    pthread_create(&h[i].thread, NULL, hammer_run, &h[i]), 0);
	}
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(h[i].thread, NULL);
		assert_int_equal(h[i].failed, 0);
	}
	/* Every line, from either worker, within the flush period. */
	static bool seen[CLIENTS][EACH];
	memset(seen, 0, sizeof(seen));
	int lines = 0;
	int64_t end = now_ms() + LOG_WAIT_MS;
	char *text = NULL;
	for (;;) {
		free(text);
		text = log_slurp(access_path);
		assert_non_null(text);
		lines = 0;
		for (const char *p = text; (p = strstr(p, "?w=")); p++)
			lines++;
		if (lines >= CLIENTS * EACH || now_ms() >= end)
			break;
		sleep_ms(50);
	}
	for (char *p = text, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		struct entry e;
		parse_entry(p, &e);
		int id, i;
		if (sscanf(e.request, "GET /pipeline?w=%d-%d HTTP/1.1", &id,
			   &i) != 2)
			continue;
		assert_true(id >= 0 && id < CLIENTS && i >= 0 && i < EACH);
		assert_false(seen[id][i]);
		seen[id][i] = true;
	}
	free(text);
	for (int id = 0; id < CLIENTS; id++)
		for (int i = 0; i < EACH; i++)
			if (!seen[id][i]) {
				print_message("no line for w=%d-%d\n", id, i);
				fail();
			}
}

/* Writes that fail (a full device) are reported in the error log, with
 * the lines lost; the server goes on serving and stops cleanly. */
static int setup_full_device(void **state)
{
	struct backend *be = *state;
	if (be->why_not)
		return start_with(state, NULL);
	write_config("/dev/full", 1);
	static const char *const extra[] = {"-c", conf, NULL};
	return start_with(state, extra);
}

static void test_write_errors(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	conn_open(f, &c);
	roundtrip(&c, GET("/plaintext?t=full"), 200, "Hello, World!");
	char *line = wait_line(error_path, "access log /dev/full: write failed",
			       LOG_WAIT_MS);
	if (!line) {
		char *text = log_slurp(error_path);
		print_message("error log:\n%s\n", text ? text : "(none)");
		free(text);
	}
	assert_non_null(line);
	assert_non_null(strstr(line, "[error]"));
	assert_non_null(strstr(line, "lines lost"));
	free(line);
	roundtrip(&c, GET("/plaintext?t=still-serving"), 200, "Hello, World!");
	http_close(&c);
}

/* A disk slower than the requests (a FIFO nobody reads): the loop goes on
 * serving at full speed; lines that find both buffers busy are dropped and
 * counted, never waited for. io_uring only: the epoll backend writes files
 * synchronously (epoll cannot poll a regular file). */
static int fifo_fd = -1;
static atomic_bool drain_stop;
static pthread_t drain_thread;
static bool draining;

static void *drain_run(void *arg)
{
	(void)arg;
	char buf[65536];
	while (!atomic_load(&drain_stop)) {
		if (!wait_readable(fifo_fd, 50))
			continue;
		ssize_t n = read(fifo_fd, buf, sizeof(buf));
		if (n == 0)
			break; /* the server closed it */
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			break;
	}
	return NULL;
}

static void drain_start(void)
{
	atomic_store(&drain_stop, false);
	assert_int_equal(pthread_create(&drain_thread, NULL, drain_run, NULL),
			 0);
	draining = true;
}

static void fifo_cleanup(void)
{
	if (draining) {
		atomic_store(&drain_stop, true);
		pthread_join(drain_thread, NULL);
		draining = false;
	}
	if (fifo_fd >= 0)
		close(fifo_fd);
	fifo_fd = -1;
}

static int setup_fifo(void **state)
{
	struct backend *be = *state;
	if (be->why_not || strcmp(be->name, "io_uring"))
		return start_with(state, NULL);
	write_config(NULL, 1);
	assert_int_equal(mkfifo(access_path, 0644), 0);
	/* A reader first, so that the server's open for writing does not
	 * wait; it reads nothing until the test says so. */
	fifo_fd = open(access_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(fifo_fd >= 0);
	fixture_on_teardown(fifo_cleanup);
	static const char *const extra[] = {"-c", conf, NULL};
	return start_with(state, extra);
}

static void test_slow_disk(void **state)
{
	struct fixture *f = fixture_get(state);
	if (strcmp(f->be->name, "io_uring")) {
		print_message("SKIP: the epoll backend writes files "
			      "synchronously\n");
		skip();
	}
	struct http_conn c;
	conn_open(f, &c);
	/* more lines than both buffers (2 x 512 KiB) and the pipe hold */
	enum { N = 16000, BATCH = 100 };
	int64_t start = now_ms();
	for (int i = 0; i < N; i += BATCH) {
		struct sbuf burst = {0};
		for (int k = i; k < i + BATCH; k++)
			sb_printf(
			    &burst,
			    "GET /pipeline?slow=%d HTTP/1.1\r\nHost: x\r\n"
			    "\r\n",
			    k);
		send_bytes(&c, burst.p, burst.len);
		for (int k = 0; k < BATCH; k++) {
			struct http_resp r;
			read_resp(&c, &r, 0);
			check_str(&r, 200, "ok");
			http_resp_free(&r);
		}
		sb_free(&burst);
	}
	int64_t took = now_ms() - start;
	print_message("%d requests with the log stuck: %lld ms\n", N,
		      (long long)took);
	assert_true(took < 20000);
	http_close(&c);
	char *line = wait_line(
	    error_path, "the disk is slower than the requests", LOG_WAIT_MS);
	assert_non_null(line);
	assert_non_null(strstr(line, "lines dropped"));
	free(line);

	/* Once the disk keeps up again, the server stops cleanly: the write
	 * in flight completes and the rest is flushed. */
	drain_start();
	int st = server_stop(&f->srv, 15000);
	f->running = false;
	assert_int_equal(st, 0);
}

/* An access log that cannot be opened: the server does not start, and
 * says why. */
static void test_unwritable_access_log(void **state)
{
	struct fixture *f = fixture_get(state);
	write_config("/nonexistent-ringlet-dir/access.log", 1);
	struct server s = {0};
	snprintf(s.log, sizeof(s.log), "/tmp/ringlet-http-XXXXXX");
	int fd = mkstemp(s.log);
	assert_true(fd >= 0);
	close(fd);
	s.port = free_port();
	const char *args[] = {"-w", "1", "--io", f->be->name, "-c", conf, NULL};
	s.pid = server_spawn(&s, args);
	assert_true(s.pid > 0);
	int status = 0;
	int64_t end = now_ms() + 10000;
	pid_t r;
	while ((r = waitpid(s.pid, &status, WNOHANG)) == 0 && now_ms() < end)
		sleep_ms(20);
	if (r != s.pid) {
		kill(s.pid, SIGKILL);
		waitpid(s.pid, NULL, 0);
	}
	bool said =
	    file_has(error_path, "/nonexistent-ringlet-dir/access.log") ||
	    file_has(s.log, "/nonexistent-ringlet-dir/access.log");
	if (r != s.pid || !WIFEXITED(status) || WEXITSTATUS(status) == 0 ||
	    !said) {
		server_print_log(&s, 4096);
		char *text = log_slurp(error_path);
		print_message("error log:\n%s\n", text ? text : "(none)");
		free(text);
	}
	unlink(s.log);
	assert_int_equal(r, s.pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	assert_true(said);
}

#define TL(fn) T_WITH(fn, setup_logs)

int main(void)
{
	fixture_init();
	const struct CMUnitTest tests[] = {
	    TL(test_combined_fields),
	    TL(test_escaping),
	    TL(test_rejected_request),
	    TL(test_rotation),
	    TL(test_many_lines),
	    TL(test_flush_at_stop),
	    T_WITH(test_two_workers, setup_two_workers),
	    T_WITH(test_write_errors, setup_full_device),
	    T_WITH(test_slow_disk, setup_fifo),
	    T_WITH(test_unwritable_access_log, setup_no_server),
	};
	return FIXTURE_RUN(tests);
}
