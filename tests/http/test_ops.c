/* test_ops.c: the ringlet program as operators run it: the command line and
 * `-t` (configuration errors with their line), the master and its workers
 * (a killed worker is replaced, /stats covers every worker), the signals
 * (TERM finishes what is in flight, QUIT does not, shutdown_timeout cuts
 * off what is too slow, HUP reloads under load without refusing anyone,
 * including a bad file that changes nothing, USR1 reopens the error log),
 * IPv6, and silence on standard output. Server tests run on both io
 * backends (fixture.h); command-line tests need no server. */
#include "fixture.h"
#include "json.h"

#include <pthread.h>
#include <stdatomic.h>

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* A file name under /tmp for this test; removed at teardown. */
#define TMP_FILES 8
static char tmp_paths[TMP_FILES][64];
static const char *tmp_path(const char *what)
{
	for (int i = 0; i < TMP_FILES; i++)
		if (!tmp_paths[i][0]) {
			snprintf(tmp_paths[i], sizeof(tmp_paths[i]),
				 "/tmp/ringlet-ops-%d-%s", (int)getpid(), what);
			return tmp_paths[i];
		}
	fail_msg("more than %d temporary files", TMP_FILES);
	return NULL;
}

static void tmp_cleanup(void)
{
	for (int i = 0; i < TMP_FILES; i++)
		if (tmp_paths[i][0]) {
			char rotated[128];
			snprintf(rotated, sizeof(rotated), "%.63s.1",
				 tmp_paths[i]);
			unlink(tmp_paths[i]);
			unlink(rotated);
			tmp_paths[i][0] = '\0';
		}
}

static int ops_teardown(void **state)
{
	tmp_cleanup();
	return teardown(state);
}

/* Starts the server on a configuration file `name` holding `text`. */
static int start_with_file(void **state, const char *name, const char *text)
{
	const char *conf = tmp_path(name);
	write_text(conf, text);
	const char *extra[] = {"-c", conf, NULL};
	return start_with(state, extra);
}

/* Runs the binary with `args`; its standard output and error, together,
 * into *out (malloc'd). Returns its exit status, or -1 if it was killed. */
static int run_ringlet(const char *const args[], char **out)
{
	const char *argv[32] = {RG_RINGLET_BIN};
	int n = 1;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	/* sh merges stderr into the captured stdout */
	char cmd[2048] = "exec";
	for (int i = 0; i < n; i++) {
		size_t len = strlen(cmd);
		snprintf(cmd + len, sizeof(cmd) - len, " '%s'", argv[i]);
	}
	strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	const char *sh[] = {"sh", "-c", cmd, NULL};
	size_t len;
	int st = run_capture(sh, out, &len, 10000);
	if (st < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void expect_run(const char *const args[], int status, const char *needle)
{
	char *out = NULL;
	int st = run_ringlet(args, &out);
	if (st != status || !strstr(out, needle))
		print_message("ringlet %s ...: status %d, output:\n%s\n"
			      "(wanted status %d and \"%s\")\n",
			      args[0] ? args[0] : "", st, out, status, needle);
	assert_int_equal(st, status);
	assert_non_null(strstr(out, needle));
	free(out);
}

/* /stats, parsed (the caller frees it), or NULL if the exchange failed:
 * a client the kernel had queued for a worker that was just killed is
 * reset, as it would be with any server. */
static struct json *stats_try(uint16_t port)
{
	struct http_conn c;
	struct http_resp r;
	struct json *j = NULL;
	if (http_open(&c, port) < 0)
		return NULL;
	if (!http_send_str(&c, GET("/stats")) && !http_read_final(&c, &r, 0)) {
		if (r.status == 200)
			j = json_parse(r.body, r.body_len);
		http_resp_free(&r);
	}
	http_close(&c);
	return j;
}

static struct json *stats_get(uint16_t port)
{
	struct json *j = stats_try(port);
	assert_non_null(j);
	return j;
}

/* The worker pids /stats lists, sorted; their number, or -1 when /stats
 * could not be read. */
static int worker_pids(uint16_t port, int *pids, int max)
{
	struct json *j = stats_try(port);
	if (!j)
		return -1;
	const struct json *ws = json_get(j, "workers");
	assert_non_null(ws);
	assert_int_equal(ws->type, JSON_ARR);
	int n = 0;
	for (size_t i = 0; i < ws->len && n < max; i++) {
		const struct json *pid = json_get(&ws->item[i], "pid");
		assert_non_null(pid);
		int v = (int)pid->num, k = n++;
		for (; k > 0 && pids[k - 1] > v; k--)
			pids[k] = pids[k - 1];
		pids[k] = v;
	}
	const struct json *count = json_get(j, "worker_count");
	assert_non_null(count);
	assert_int_equal((int)count->num, n);
	json_free(j);
	return n;
}

/* Waits until the master's children are exactly `want` processes (and
 * /stats agrees); fails after `ms`. */
static void wait_workers(struct fixture *f, int want, int64_t ms)
{
	int64_t end = now_ms() + ms;
	int pids[64], n = -1;
	while (now_ms() < end) {
		n = worker_pids(f->port, pids, 64);
		if (n == want)
			return;
		sleep_ms(50);
	}
	fail_msg("%d workers on /stats, wanted %d", n, want);
}

/* Sends `sig` to the master (0: none) and waits (up to ms) for its exit
 * status; -1 if it had to be killed. */
static int stop_master(struct fixture *f, int sig, int64_t ms)
{
	if (sig)
		assert_int_equal(kill(f->srv.pid, sig), 0);
	f->running = false;
	return server_signal_wait(&f->srv, 0, ms);
}

/* ------------------------------------------------------------------------
 * The command line and -t (no server)
 * ------------------------------------------------------------------------ */

static void test_usage(void **state)
{
	(void)state;
	expect_run((const char *[]){"--help", NULL}, 0, "Usage: ringlet");
	expect_run((const char *[]){"-h", NULL}, 0, "-t, --test");
	expect_run((const char *[]){"--version", NULL}, 0, "ringlet 0.");
	expect_run((const char *[]){"-x", NULL}, 2, "unknown option '-x'");
	expect_run((const char *[]){"-p", "65536", NULL}, 2,
		   "-p wants an integer in [0, 65535]");
	expect_run((const char *[]){"-w", "0", NULL}, 2, "-w wants");
	expect_run((const char *[]){"-c", NULL}, 2, "-c wants a value");
	expect_run((const char *[]){"serve", NULL}, 2,
		   "unexpected argument 'serve'");
	expect_run((const char *[]){"--host", "localhost", NULL}, 2,
		   "numeric IPv4 or IPv6");
}

static void test_check_config(void **state)
{
	(void)state;
	const char *conf = tmp_path("check.toml");
	/* the embedded default, and a good file */
	expect_run((const char *[]){"-t", NULL}, 0,
		   "configuration (embedded) is ok");
	write_text(conf, "# ok\n[server]\nlisten = [\"127.0.0.1:0\", "
			 "\"[::1]:0\"]\nshutdown_timeout = \"2s\"\n"
			 "[performance]\nworkers = 3\n");
	expect_run((const char *[]){"-t", "-c", conf, NULL}, 0, "is ok");

	/* each error names the file and the line, exit status 1 */
	static const struct {
		const char *text, *line, *msg;
	} bad[] = {
	    {"[server]\nroot = \"/\"\nlisten_on = \":80\"\n",
	     ":3: ", "unknown key 'listen_on' in [server]"},
	    {"\n[memory]\nmax_connections = \"many\"\n",
	     ":3: ", "max_connections must be an integer, not a string"},
	    {"[performance]\n\n\nworkers = 100000\n",
	     ":4: ", "workers must be between 1 and 1024"},
	    {"[memory]\nrequest_arena_size = \"8KB\"\n",
	     ":2: ", "bad size \"8KB\""},
	    {"[static]\nprecompressed = \"yes\"\n",
	     ":2: ", "precompressed must be a boolean"},
	    {"[server]\nlisten = [\"0.0.0.0:80\", \"::1:80\"]\n",
	     ":2: ", "bad listen address"},
	    {"[log]\nlevel = \"verbose\"\n", ":2: ", "level must be one of"},
	    {"[srv]\n", ":1: ", "unknown table [srv]"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(conf, bad[i].text);
		char want[256];
		snprintf(want, sizeof(want), "%s%s%s", conf, bad[i].line,
			 bad[i].msg);
		expect_run((const char *[]){"-t", "-c", conf, NULL}, 1, want);
		/* without -t too: it does not start */
		expect_run((const char *[]){"-c", conf, NULL}, 1, want);
	}
	/* what the syntax cannot say: a missing file, a root that is no
	 * directory, settings the server refuses together */
	unlink(conf);
	expect_run((const char *[]){"-t", "-c", conf, NULL}, 1,
		   "No such file or directory");
	write_text(conf, "[server]\nroot = \"/etc/hostname\"\n");
	expect_run((const char *[]){"-t", "-c", conf, NULL}, 1,
		   "root \"/etc/hostname\" with index \"index.html\": Not a "
		   "directory");
	write_text(conf, "[static]\nindex = \"a/b.html\"\n");
	expect_run((const char *[]){"-t", "-c", conf, NULL}, 1,
		   "index \"a/b.html\"");
	write_text(conf,
		   "[log]\naccess_log = \"/nonexistent/dir/access.log\"\n");
	expect_run((const char *[]){"-t", "-c", conf, NULL}, 1,
		   "access log \"/nonexistent/dir/access.log\": No such file");
	write_text(conf, "[server]\nmax_request_line = \"32KiB\"\n"
			 "[memory]\nheader_buffer_size = \"16KiB\"\n");
	expect_run((const char *[]){"-t", "-c", conf, NULL}, 1,
		   "exceeds header_buffer_size");
	/* flags override the file: --root is checked, not the file's */
	write_text(conf, "[server]\nroot = \"/nonexistent\"\n");
	expect_run((const char *[]){"-t", "-c", conf, "--root", "/", NULL}, 0,
		   "is ok");
	tmp_cleanup();
}

/* ------------------------------------------------------------------------
 * Master and workers
 * ------------------------------------------------------------------------ */

static int setup_two(void **state)
{
	static const char *const extra[] = {"-w", "2", NULL};
	return start_with(state, extra);
}

/* /stats sums every worker; a killed worker is replaced while the other
 * keeps serving. */
static void test_workers(void **state)
{
	struct fixture *f = fixture_get(state);
	wait_workers(f, 2, 5000);
	/* requests over several connections land on both workers (the
	 * kernel spreads them); the total counts every one of them */
	struct json *j = stats_get(f->port);
	double before = json_get(j, "requests")->num;
	json_free(j);
	for (int i = 0; i < 40; i++) {
		struct http_conn c;
		conn_open(f, &c);
		roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
		http_close(&c);
	}
	sleep_ms(1100); /* each worker publishes at least once a second */
	j = stats_get(f->port);
	double after = json_get(j, "requests")->num;
	const struct json *ws = json_get(j, "workers");
	assert_int_equal(ws->len, 2);
	double sum = 0;
	for (size_t i = 0; i < ws->len; i++)
		sum += json_get(&ws->item[i], "requests")->num;
	assert_true(after >= before + 40);
	assert_true(sum == after);
	json_free(j);

	int pids[2], again[2];
	assert_int_equal(worker_pids(f->port, pids, 2), 2);
	assert_int_equal(kill(pids[0], SIGKILL), 0);
	/* until /stats shows a replacement (an exchange may fail meanwhile:
	 * see stats_try) */
	int64_t end = now_ms() + 5000;
	for (;;) {
		int n = worker_pids(f->port, again, 2);
		if (n == 2 && again[0] != pids[0] && again[1] != pids[0])
			break;
		assert_true(now_ms() < end);
		sleep_ms(50);
	}
	assert_true(again[0] == pids[1] || again[1] == pids[1]);
	for (int i = 0; i < 20; i++) {
		struct http_conn c;
		conn_open(f, &c);
		roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
		http_close(&c);
	}
}

/* ------------------------------------------------------------------------
 * Signals
 * ------------------------------------------------------------------------ */

/* TERM: the request in flight on each worker is finished, new clients are
 * refused, exit status 0. */
static void test_term(void **state)
{
	struct fixture *f = fixture_get(state);
	wait_workers(f, 2, 5000);
	struct http_conn busy[4];
	for (int i = 0; i < 4; i++) {
		conn_open(f, &busy[i]);
		send_str(&busy[i], GET("/sleep?ms=800"));
	}
	sleep_ms(200);
	assert_int_equal(kill(f->srv.pid, SIGTERM), 0);
	sleep_ms(300);
	int fd = tcp_connect(f->port);
	if (fd >= 0) /* accepted by nobody: refused, or reset */
		print_message("a connection after SIGTERM was not refused\n");
	assert_true(fd == -ECONNREFUSED);
	for (int i = 0; i < 4; i++) {
		struct http_resp r;
		read_resp(&busy[i], &r, 0);
		check_str(&r, 200, "slept 800");
		http_resp_free(&r);
		http_close(&busy[i]);
	}
	assert_int_equal(stop_master(f, 0, 5000), 0); /* 0: just wait */
}

/* QUIT: at once; what is in flight is dropped. */
static void test_quit(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn busy;
	conn_open(f, &busy);
	send_str(&busy, GET("/sleep?ms=5000"));
	sleep_ms(200);
	int64_t t0 = now_ms();
	assert_int_equal(stop_master(f, SIGQUIT, 3000), 0);
	assert_true(now_ms() - t0 < 2500);
	expect_closed(&busy, 1000);
	http_close(&busy);
}

static int setup_short_shutdown(void **state)
{
	return start_with_file(state, "shutdown.toml",
			       "[server]\nshutdown_timeout = \"300ms\"\n");
}

/* TERM with a handler slower than shutdown_timeout: it is cut off, the
 * worker exits cleanly (status 0) instead of waiting or being killed. */
static void test_shutdown_timeout(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn busy;
	conn_open(f, &busy);
	send_str(&busy, GET("/sleep?ms=20000"));
	sleep_ms(200);
	int64_t t0 = now_ms();
	assert_int_equal(stop_master(f, SIGTERM, 5000), 0);
	int64_t took = now_ms() - t0;
	print_message("stopped %lld ms after SIGTERM\n", (long long)took);
	assert_true(took >= 250 && took < 2000);
	expect_closed(&busy, 1000);
	http_close(&busy);
}

/* A client that keeps opening connections while the master reloads. */
struct hammer {
	pthread_t thread;
	uint16_t port;
	atomic_bool stop;
	atomic_int ok, failed;
	char why[160];
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	static const char req[] =
	    "GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	while (!atomic_load(&h->stop)) {
		int fd = tcp_connect(h->port);
		char buf[512];
		size_t got = 0;
		ssize_t r = 0;
		if (fd >= 0 && !send_all(fd, req, sizeof(req) - 1))
			while ((r = recv_timeout(fd, buf + got,
						 sizeof(buf) - 1 - got, 3000)) >
				   0 &&
			       got + (size_t)r < sizeof(buf) - 1)
				got += (size_t)r;
		buf[got] = '\0';
		if (fd >= 0)
			socket_close(fd);
		if (got > 12 && !memcmp(buf, "HTTP/1.1 200 ", 13) &&
		    strstr(buf, "Hello, World!")) {
			atomic_fetch_add(&h->ok, 1);
		} else {
			if (!atomic_fetch_add(&h->failed, 1))
				snprintf(h->why, sizeof(h->why),
					 "connect %d, recv %zd, got \"%.60s\"",
					 fd < 0 ? fd : 0, r, buf);
		}
	}
	return NULL;
}

static struct hammer *live_hammer;
static void hammer_cleanup(void)
{
	if (live_hammer) {
		atomic_store(&live_hammer->stop, true);
		pthread_join(live_hammer->thread, NULL);
		live_hammer = NULL;
	}
}

/* HUP under load: new workers start on the same sockets before the old
 * ones drain, so not one connection is refused or dropped; a reload that
 * changes the worker count takes effect; a broken file changes nothing. */
static void test_reload(void **state)
{
	struct fixture *f = fixture_get(state);
	wait_workers(f, 2, 5000);
	int before[2];
	assert_int_equal(worker_pids(f->port, before, 2), 2);

	static struct hammer h[2];
	for (int i = 0; i < 2; i++) {
		h[i] = (struct hammer){.port = f->port};
		assert_int_equal(
		    pthread_create(&h[i].thread, NULL, hammer_run, &h[i]), 0);
	}
	live_hammer = &h[0];
	fixture_on_teardown(hammer_cleanup);
	for (int round = 0; round < 3; round++) {
		sleep_ms(300);
		assert_int_equal(kill(f->srv.pid, SIGHUP), 0);
	}
	sleep_ms(500);
	for (int i = 0; i < 2; i++) {
		atomic_store(&h[i].stop, true);
		pthread_join(h[i].thread, NULL);
	}
	live_hammer = NULL;
	int ok = h[0].ok + h[1].ok, failed = h[0].failed + h[1].failed;
	print_message("%d requests during 3 reloads, %d failed %s %s\n", ok,
		      failed, h[0].why, h[1].why);
	assert_int_equal(failed, 0);
	assert_true(ok > 50);

	/* a new generation: none of the old workers is left */
	wait_workers(f, 2, 5000);
	int now[2];
	assert_int_equal(worker_pids(f->port, now, 2), 2);
	for (int i = 0; i < 2; i++)
		assert_true(now[i] != before[0] && now[i] != before[1]);
}

static int setup_from_file(void **state)
{
	/* tmp_paths[0] is the error log, [1] the file (test_reload_file) */
	const char *log = tmp_path("error.log");
	char text[512];
	snprintf(text, sizeof(text),
		 "[performance]\nworkers = 1\n[log]\nerror_log = \"%s\"\n",
		 log);
	return start_with_file(state, "file.toml", text);
}

static char *slurp(const char *path)
{
	size_t len;
	char *s = read_file(path, &len);
	return s ? s : strdup("");
}

/* HUP re-reads the file: a changed worker count takes effect, a broken
 * file is reported in the error log and changes nothing; USR1 reopens
 * the error log after it was renamed (rotation). */
static void test_reload_file(void **state)
{
	struct fixture *f = fixture_get(state);
	const char *conf = tmp_paths[1], *log = tmp_paths[0];
	char text[512];
	wait_workers(f, 1, 5000);

	snprintf(text, sizeof(text),
		 "[performance]\nworkers = 3\n[log]\nerror_log = \"%s\"\n",
		 log);
	write_text(conf, text);
	assert_int_equal(kill(f->srv.pid, SIGHUP), 0);
	wait_workers(f, 3, 5000);

	write_text(conf, "[performance]\nworkers = 2\nbogus = 1\n");
	assert_int_equal(kill(f->srv.pid, SIGHUP), 0);
	char want[256];
	snprintf(want, sizeof(want), "%s:3: unknown key 'bogus'", conf);
	char *s = slurp(log);
	for (int i = 0; i < 250 && !strstr(s, "nothing changed"); i++) {
		free(s);
		sleep_ms(20);
		s = slurp(log);
	}
	wait_workers(f, 3, 1000);
	if (!strstr(s, want))
		print_message("error log:\n%s\n", s);
	assert_non_null(strstr(s, want));
	assert_non_null(strstr(s, "nothing changed"));
	free(s);

	/* rotation: rename, USR1, and the new lines go to a new file */
	char rotated[128];
	snprintf(rotated, sizeof(rotated), "%s.1", log);
	assert_int_equal(rename(log, rotated), 0);
	assert_int_equal(kill(f->srv.pid, SIGUSR1), 0);
	sleep_ms(300);
	assert_int_equal(kill(f->srv.pid, SIGHUP), 0); /* logs a line */
	sleep_ms(300);
	s = slurp(log);
	if (!strstr(s, "SIGHUP"))
		print_message("new error log:\n%s\n", s);
	assert_non_null(strstr(s, "SIGHUP"));
	free(s);
	s = slurp(rotated); /* what came before the rotation stayed */
	assert_non_null(strstr(s, "nothing changed"));
	assert_null(strstr(s, "SIGUSR1"));
	free(s);
	wait_workers(f, 3, 1000);
}

static int setup_tiers(void **state)
{
	return start_with_file(state, "tiers.toml",
			       "[memory]\nsmall_alloc_threshold = 64\n"
			       "large_alloc_spill = 64\n"
			       "[performance]\nworkers = 1\n");
}

/* The [memory] knobs reach the tiers: the smallest slab class is 64 B and
 * takes new input queues; arena allocations above 64 B spill to the heap
 * (and requests still work). */
static void test_memory_knobs(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	conn_open(f, &c);
	for (int i = 0; i < 5; i++) {
		send_str(&c, GET("/json"));
		struct http_resp r;
		read_resp(&c, &r, 0);
		assert_int_equal(r.status, 200);
		http_resp_free(&r);
		send_str(&c,
			 "POST /echo HTTP/1.1\r\nHost: x\r\n"
			 "X-Long: "
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
			 "Content-Length: 0\r\n\r\n");
		read_resp(&c, &r, 0);
		assert_int_equal(r.status, 200);
		http_resp_free(&r);
	}
	http_close(&c);
	struct json *j = stats_get(f->port);
	const struct json *classes = json_find(j, "classes");
	assert_non_null(classes);
	assert_int_equal((int)json_get(&classes->item[0], "size")->num, 64);
	assert_true(json_get(&classes->item[0], "allocs")->num > 0);
	assert_true(json_find(j, "heap_spills")->num > 0);
	json_free(j);
}

static int setup_no_timeouts(void **state)
{
	return start_with_file(state, "notimeouts.toml",
			       "[server]\nwrite_timeout = 0\nbody_timeout = 0\n"
			       "[performance]\nworkers = 1\n");
}

/* A timeout of 0 means none, not "at once": a slow reader gets the whole
 * of a large response; a body the handler does not read, sent late, is
 * waited for and drained, and the response arrives. */
static void test_zero_timeouts(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	conn_open(f, &c);
	/* 32 MiB: more than loopback's socket buffers hold, so the server's
	 * send stalls while the client does not read */
	send_str(&c, GET("/stream?n=33554432&piece=65536"));
	sleep_ms(1500);
	struct http_resp r;
	read_resp(&c, &r, 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 33554432);
	http_resp_free(&r);

	/* POST to a GET route: 405 without reading the body */
	send_str(&c, "POST /plaintext HTTP/1.1\r\nHost: x\r\n"
		     "Content-Length: 10\r\n\r\n");
	sleep_ms(300);
	send_str(&c, "0123456789");
	read_resp(&c, &r, 0);
	assert_int_equal(r.status, 405);
	http_resp_free(&r);
	roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
	http_close(&c);
}

/* ------------------------------------------------------------------------
 * Addresses and output
 * ------------------------------------------------------------------------ */

static int tcp6_connect(uint16_t port)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_in6 a = {.sin6_family = AF_INET6,
				 .sin6_port = htons(port),
				 .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int err = errno;
		close(fd);
		return -err;
	}
	socket_track(fd);
	return fd;
}

/* The default listens on IPv4 and IPv6 (two sockets, IPv6-only, so they
 * coexist); --host ::1 on IPv6 alone. */
static void test_ipv6(void **state)
{
	struct fixture *f = fixture_get(state);
	int fd = tcp6_connect(f->port);
	if (fd == -EADDRNOTAVAIL || fd == -EAFNOSUPPORT) {
		print_message("SKIP: no IPv6 loopback here\n");
		skip();
	}
	assert_true(fd >= 0);
	struct http_conn c = {.fd = fd, .timeout_ms = 10000};
	roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
	http_close(&c);
	conn_open(f, &c); /* and IPv4 */
	roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
	http_close(&c);
}

/* --host ::1, started by hand: the fixture waits for it over IPv4. */
static int setup_v6_only(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->be = *state;
	*state = f;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6,
				 .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	bool have_v6 = fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a));
	if (fd >= 0)
		close(fd);
	if (f->be->why_not || !have_v6)
		return 0; /* the test skips */
	snprintf(f->srv.log, sizeof(f->srv.log), "/tmp/ringlet-http-XXXXXX");
	int lfd = mkstemp(f->srv.log);
	assert_true(lfd >= 0);
	close(lfd);
	f->srv.port = f->port = free_port();
	const char *args[] = {"-w",	"1",   "--io", f->be->name,
			      "--host", "::1", NULL};
	f->srv.pid = server_spawn(&f->srv, args);
	assert_true(f->srv.pid > 0);
	f->running = true;
	return 0;
}

static void test_ipv6_only(void **state)
{
	struct fixture *f = fixture_get(state);
	if (!f->running) {
		print_message("SKIP: no IPv6 loopback here\n");
		skip();
	}
	int fd = -1;
	for (int64_t end = now_ms() + 5000; now_ms() < end; sleep_ms(20))
		if ((fd = tcp6_connect(f->port)) >= 0)
			break;
	assert_true(fd >= 0);
	struct http_conn c = {.fd = fd, .timeout_ms = 10000};
	roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
	http_close(&c);
	assert_int_equal(tcp_connect(f->port), -ECONNREFUSED);
}

/* Once serving, nothing goes to standard output (the fixture's log holds
 * both; here they are apart): systemd and pipes stay clean. */
static void test_quiet_stdout(void **state)
{
	struct fixture *f = fixture_get(state);
	(void)f;
	const char *out = tmp_path("stdout");
	uint16_t port = free_port();
	char p[8];
	snprintf(p, sizeof(p), "%u", port);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(fd, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		execl(RG_RINGLET_BIN, RG_RINGLET_BIN, "-p", p, "-w", "2",
		      "--io", f->be->name, (char *)NULL);
		_exit(127);
	}
	bool up = false;
	for (int64_t end = now_ms() + 5000; !up && now_ms() < end; sleep_ms(20))
		up = server_probe(port);
	kill(pid, SIGHUP);
	sleep_ms(300);
	kill(pid, SIGUSR1);
	sleep_ms(100);
	kill(pid, SIGTERM);
	int status;
	waitpid(pid, &status, 0);
	assert_true(up);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	char *s = slurp(out);
	if (*s)
		print_message("standard output: %s\n", s);
	assert_string_equal(s, "");
	free(s);
}

#define T_OPS(fn) cmocka_unit_test_setup_teardown(fn, setup, ops_teardown)
#define T_OPS_WITH(fn, set)                                                    \
	cmocka_unit_test_setup_teardown(fn, set, ops_teardown)

int main(void)
{
	fixture_init();
	const struct CMUnitTest cli[] = {
	    cmocka_unit_test(test_usage),
	    cmocka_unit_test(test_check_config),
	};
	const struct CMUnitTest tests[] = {
	    T_OPS_WITH(test_workers, setup_two),
	    T_OPS_WITH(test_term, setup_two),
	    T_OPS(test_quit),
	    T_OPS_WITH(test_shutdown_timeout, setup_short_shutdown),
	    T_OPS_WITH(test_reload, setup_two),
	    T_OPS_WITH(test_reload_file, setup_from_file),
	    T_OPS_WITH(test_memory_knobs, setup_tiers),
	    T_OPS_WITH(test_zero_timeouts, setup_no_timeouts),
	    T_OPS(test_ipv6),
	    T_OPS_WITH(test_ipv6_only, setup_v6_only),
	    T_OPS(test_quiet_stdout),
	};
	int failed =
	    cmocka_run_group_tests_name("command line", cli, NULL, NULL);
	failed += FIXTURE_RUN(tests);
	tmp_cleanup();
	return failed ? 1 : 0;
}
