/* test_timing.c: the ringlet binary against time and scarcity: the header,
 * body and keep-alive timeouts (each set apart in a configuration file),
 * slowloris clients, connection-pool exhaustion
 * (503, then the slot freed), slow upstreams and sleeping handlers that
 * must not hold up the worker, and a graceful stop on SIGTERM. Every test
 * runs on both io backends (fixture.h). */
#include "fixture.h"
#include "stub.h"

#include <pthread.h>
#include <stdatomic.h>

/* Pool exhaustion needs a small pool: the binary's --max-connections. */
#define POOL_SIZE 16
static int setup_pool(void **state)
{
	static const char *const extra[] = {"--max-connections", "16", NULL};
	return start_with(state, extra);
}

/* The timeouts test runs on a configuration file giving each timeout its
 * own short value, 700 ms apart or more: far more than a timer fires late
 * on a loaded machine, so a connection closed by the wrong timer is
 * caught. The write timeout fires on nothing here; it bounds the header
 * timeout's window from above (and is not 2 x 1400, when the body timeout
 * fires a second time). */
#define KEEPALIVE_MS 700
#define BODY_MS 1400
#define HEADER_MS 2100
#define WRITE_MS 3500

static int setup_timeouts(void **state)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "[server]\n"
		 "listen = [\"127.0.0.1:8080\"]  # the port comes from --port\n"
		 "header_timeout = %d\n"
		 "body_timeout = \"%dms\"\n"
		 "keepalive_timeout = %d\n"
		 "write_timeout = \"%dms\"\n"
		 "[performance]\n"
		 "workers = 1\n",
		 HEADER_MS, BODY_MS, KEEPALIVE_MS, WRITE_MS);
	return start_with_config(state, text);
}

struct watched {
	const char *what;
	struct http_conn c;
	int64_t since;	 /* before what starts its timer in the server */
	int64_t first;	 /* when its first byte came; 0 if none */
	int64_t closed;	 /* when the server closed it; 0 while open */
	struct sbuf got; /* what arrived before the close */
};

/* Waits (until `end`) for the server to close each of w[0, n), noting when
 * each sends its first byte and when it closes. */
static void watch_closes(struct watched *w, int n, int64_t end)
{
	for (;;) {
		struct pollfd p[8];
		int at[8], k = 0;
		for (int i = 0; i < n && k < 8; i++)
			if (!w[i].closed) {
				p[k] = (struct pollfd){w[i].c.fd, POLLIN, 0};
				at[k++] = i;
			}
		int64_t left = end - now_ms();
		if (!k || left <= 0)
			return;
		if (poll(p, (nfds_t)k, (int)left) <= 0)
			continue;
		int64_t t = now_ms();
		for (int j = 0; j < k; j++) {
			if (!p[j].revents)
				continue;
			struct watched *x = &w[at[j]];
			char buf[4096];
			ssize_t r = recv_timeout(x->c.fd, buf, sizeof(buf), 0);
			if (r > 0) {
				if (!x->first)
					x->first = t;
				sb_add(&x->got, buf, (size_t)r);
			} else if (r == 0 || r == -ECONNRESET) {
				x->closed = t;
			}
		}
	}
}

/* `when` (a time in w's life) came no earlier than `lo` ms after w->since,
 * and before `hi`: the timeout expected, not one of the others. */
static void check_within(const struct watched *w, const char *event,
			 int64_t when, int64_t lo, int64_t hi)
{
	if (!when)
		print_message("%s: never %s\n", w->what, event);
	assert_true(when != 0);
	int64_t took = when - w->since;
	if (took < lo || took >= hi)
		print_message("%s: %s after %lld ms, expected in [%lld, %lld) "
			      "ms\n",
			      w->what, event, (long long)took, (long long)lo,
			      (long long)hi);
	assert_true(took >= lo && took < hi);
}

static bool starts(const struct sbuf *b, const char *s)
{
	return b->len >= strlen(s) && !memcmp(b->p, s, strlen(s));
}

/* The header, body and keep-alive timeouts run side by side, each on the
 * connections it governs: half a head (408 and close after the header
 * timeout); nothing at all (closed silently after it, RFC 9112 9.5); one
 * request then idle (closed silently after the keep-alive timeout); a body
 * the handler reads that stops coming (408 and close after the body
 * timeout); a body the handler left unread that stops coming (its
 * response, then closed after the body timeout, waiting for the rest). */
static void test_timeouts(void **state)
{
	struct fixture *f = fixture_get(state);
	enum { HALF_HEAD, SILENT, IDLE, BODY, UNREAD, N };
	struct watched w[N];
	memset(w, 0, sizeof(w));
	w[HALF_HEAD].what = "half a head";
	w[SILENT].what = "silent connection";
	w[IDLE].what = "idle keep-alive";
	w[BODY].what = "body stopped (read)";
	w[UNREAD].what = "body stopped (unread)";
	for (int i = 0; i < N; i++) {
		w[i].since = now_ms();
		conn_open(f, &w[i].c);
	}
	w[HALF_HEAD].since = now_ms();
	send_str(&w[HALF_HEAD].c,
		 "GET /plaintext HTTP/1.1\r\nHost: localhost\r\nX-Ha");
	w[BODY].since = now_ms();
	send_str(&w[BODY].c, "POST /upload HTTP/1.1\r\nHost: localhost\r\n"
			     "Content-Length: 100\r\n\r\n0123456789");
	w[UNREAD].since = now_ms();
	send_str(&w[UNREAD].c, "POST /echo HTTP/1.1\r\nHost: localhost\r\n"
			       "Content-Length: 100\r\n\r\n0123456789");
	w[IDLE].since = now_ms();
	struct http_resp r;
	send_str(&w[IDLE].c, GET("/plaintext"));
	read_resp(&w[IDLE].c, &r, 0);
	check_str(&r, 200, "Hello, World!");
	http_resp_free(&r);

	watch_closes(w, N, w[SILENT].since + WRITE_MS + 2000);
	for (int i = 0; i < N; i++) {
		struct watched *x = &w[i];
		if (x->got.len)
			print_message("%s: %zu bytes after %lld ms\n", x->what,
				      x->got.len,
				      (long long)(x->first - x->since));
		if (x->closed)
			print_message("%s: closed after %lld ms\n", x->what,
				      (long long)(x->closed - x->since));
		else
			print_message("%s: still open after %d ms\n", x->what,
				      WRITE_MS + 2000);
	}
	/* Each between its own timeout and the next one above it. */
	struct watched *x = &w[HALF_HEAD];
	assert_true(starts(&x->got, "HTTP/1.1 408 "));
	check_within(x, "408", x->first, HEADER_MS, WRITE_MS);
	check_within(x, "closed", x->closed, HEADER_MS, WRITE_MS);
	x = &w[SILENT];
	assert_int_equal(x->got.len, 0);
	check_within(x, "closed", x->closed, HEADER_MS, WRITE_MS);
	x = &w[IDLE];
	assert_int_equal(x->got.len, 0);
	check_within(x, "closed", x->closed, KEEPALIVE_MS, BODY_MS);
	x = &w[BODY];
	assert_true(starts(&x->got, "HTTP/1.1 408 "));
	check_within(x, "408", x->first, BODY_MS, HEADER_MS);
	/* Closed right after the 408, the rest of the body never waited
	 * for (it used to wait one more body timeout). */
	check_within(x, "closed", x->closed, x->first - x->since,
		     x->first - x->since + KEEPALIVE_MS);
	x = &w[UNREAD];
	assert_true(starts(&x->got, "HTTP/1.1 200 "));
	check_within(x, "response", x->first, 0, KEEPALIVE_MS);
	check_within(x, "closed", x->closed, BODY_MS, HEADER_MS);
	for (int i = 0; i < N; i++) {
		sb_free(&w[i].got);
		http_close(&w[i].c);
	}
}

/* Slowloris: clients that trickle a request head one byte every 500 ms. */
#define TRICKLERS 20

struct trickle {
	int fd[TRICKLERS];
	const char *req;
	size_t sent; /* bytes of req sent on each */
	atomic_bool stop;
	int err;
	pthread_t thread;
};

static struct trickle *live_trickle;

static void *trickle_run(void *arg)
{
	struct trickle *t = arg;
	size_t len = strlen(t->req);
	while (!atomic_load(&t->stop) && t->sent < len - 1) {
		for (int i = 0; i < TRICKLERS; i++)
			if (send_all(t->fd[i], t->req + t->sent, 1))
				t->err = errno;
		t->sent++;
		for (int k = 0; k < 10 && !atomic_load(&t->stop); k++)
			sleep_ms(50);
	}
	return NULL;
}

static void trickle_stop(struct trickle *t)
{
	atomic_store(&t->stop, true);
	pthread_join(t->thread, NULL);
	if (live_trickle == t)
		live_trickle = NULL;
}

static void trickle_cleanup(void)
{
	if (live_trickle)
		trickle_stop(live_trickle);
}

static void test_slowloris(void **state)
{
	struct fixture *f = fixture_get(state);
	static struct trickle t;
	memset(&t, 0, sizeof(t));
	t.req = GET("/plaintext");
	for (int i = 0; i < TRICKLERS; i++) {
		t.fd[i] = tcp_connect(f->port);
		assert_true(t.fd[i] >= 0);
	}
	assert_int_equal(pthread_create(&t.thread, NULL, trickle_run, &t), 0);
	live_trickle = &t;
	fixture_on_teardown(trickle_cleanup);
	for (int round = 0; round < 3; round++) {
		sleep_ms(round ? 700 : 600);
		struct http_conn c;
		int64_t t0 = now_ms();
		conn_open(f, &c);
		roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
		int64_t took = now_ms() - t0;
		http_close(&c);
		print_message("a normal request beside %d slow clients: %lld "
			      "ms\n",
			      TRICKLERS, (long long)took);
		assert_true(took < 1000);
	}
	trickle_stop(&t);
	assert_int_equal(t.err, 0);
	assert_true(t.sent >= 4);
	/* The slow ones were served once their heads were complete. */
	size_t len = strlen(t.req);
	for (int i = 0; i < TRICKLERS; i++) {
		struct http_conn c;
		memset(&c, 0, sizeof(c));
		c.fd = t.fd[i];
		c.timeout_ms = 5000;
		send_bytes(&c, t.req + t.sent, len - t.sent);
		struct http_resp r;
		read_resp(&c, &r, 0);
		check_str(&r, 200, "Hello, World!");
		http_resp_free(&r);
		http_close(&c);
	}
}

/* With --max-connections 16: 16 connections held open, the 17th gets 503
 * and is closed, the 16 still work, and a closed one frees its slot. */
static void test_pool_exhaustion(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c[POOL_SIZE], extra;
	struct http_resp r;
	/* The 16 slots fill up; the start-up probe's connection (closed)
	 * must not hold one for long: a refused one is tried again for 2 s. */
	int64_t until = now_ms() + 2000;
	for (int i = 0; i < POOL_SIZE; i++) {
		for (;;) {
			conn_open(f, &c[i]);
			send_str(&c[i], GET("/pipeline"));
			read_resp(&c[i], &r, 0);
			if (r.status != 503 || now_ms() > until)
				break;
			http_resp_free(&r);
			http_close(&c[i]);
			sleep_ms(100);
		}
		if (r.status != 200)
			print_message("connection %d of %d: %d; a closed "
				      "connection still holds its slot?\n",
				      i + 1, POOL_SIZE, r.status);
		check_str(&r, 200, "ok");
		http_resp_free(&r);
	}
	conn_open(f, &extra);
	extra.timeout_ms = 5000;
	http_send_str(&extra, GET("/pipeline"));
	assert_int_equal(http_read(&extra, &r, 0), 0);
	if (r.status != 503)
		print_message("connection %d: %d, expected 503\n",
			      POOL_SIZE + 1, r.status);
	assert_int_equal(r.status, 503);
	http_resp_free(&r);
	expect_closed(&extra, 3000);
	http_close(&extra);
	for (int i = 0; i < POOL_SIZE; i++)
		roundtrip(&c[i], GET("/plaintext"), 200, "Hello, World!");
	/* One leaves; a newcomer is served (once the server saw it go). */
	http_close(&c[0]);
	int64_t end = now_ms() + 3000;
	int status = 0;
	while (now_ms() < end) {
		conn_open(f, &extra);
		extra.timeout_ms = 3000;
		http_send_str(&extra, GET("/pipeline"));
		int rc = http_read(&extra, &r, 0);
		status = rc ? 0 : r.status;
		if (status == 200)
			check_str(&r, 200, "ok");
		http_resp_free(&r);
		http_close(&extra);
		if (status == 200)
			break;
		sleep_ms(50);
	}
	assert_int_equal(status, 200);
	for (int i = 1; i < POOL_SIZE; i++)
		http_close(&c[i]);
}

/* While /upstream waits 1 s on a slow upstream, the worker serves others
 * at once; four such waits overlap instead of adding up. */
static void test_slow_upstream(void **state)
{
	struct fixture *f = fixture_get(state);
	static struct stub s;
	char req[256], want[32];
	stub_start(&s, 1000, 1000);
	snprintf(want, sizeof(want), "%zu", stub_reply_len(&s));
	upstream_req(req, sizeof(req), s.port, 3000);

	struct http_conn a, b;
	conn_open(f, &a);
	int64_t t0 = now_ms();
	send_str(&a, req);
	while (atomic_load(&s.accepted) < 1 && now_ms() < t0 + 3000)
		sleep_ms(2);
	assert_int_equal(atomic_load(&s.accepted), 1);
	sleep_ms(20);
	conn_open(f, &b);
	int64_t t1 = now_ms();
	roundtrip(&b, GET("/plaintext"), 200, "Hello, World!");
	int64_t quick = now_ms() - t1;
	struct http_resp r;
	read_resp(&a, &r, 0);
	int64_t slow = now_ms() - t0;
	check_str(&r, 200, want);
	http_resp_free(&r);
	print_message("/plaintext in %lld ms while /upstream took %lld ms\n",
		      (long long)quick, (long long)slow);
	assert_true(quick < 200);
	assert_true(slow >= 990);

	struct http_conn many[4];
	t0 = now_ms();
	for (int i = 0; i < 4; i++) {
		conn_open(f, &many[i]);
		send_str(&many[i], req);
	}
	for (int i = 0; i < 4; i++) {
		read_resp(&many[i], &r, 0);
		check_str(&r, 200, want);
		http_resp_free(&r);
		http_close(&many[i]);
	}
	int64_t four = now_ms() - t0;
	print_message("four slow upstream calls at once: %lld ms\n",
		      (long long)four);
	assert_true(four >= 990 && four < 2500);
	assert_int_equal(atomic_load(&s.accepted), 5);
	stub_stop(&s);
	http_close(&a);
	http_close(&b);
}

/* /sleep does not hold the worker either. */
static void test_sleep_concurrent(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c[8], b;
	struct http_resp r;
	int64_t t0 = now_ms();
	for (int i = 0; i < 8; i++) {
		conn_open(f, &c[i]);
		send_str(&c[i], GET("/sleep?ms=700"));
	}
	sleep_ms(100);
	conn_open(f, &b);
	int64_t t1 = now_ms();
	roundtrip(&b, GET("/plaintext"), 200, "Hello, World!");
	int64_t quick = now_ms() - t1;
	for (int i = 0; i < 8; i++) {
		read_resp(&c[i], &r, 0);
		check_str(&r, 200, "slept 700");
		http_resp_free(&r);
		http_close(&c[i]);
	}
	int64_t all = now_ms() - t0;
	print_message("/plaintext in %lld ms beside 8 sleepers; they took "
		      "%lld ms together\n",
		      (long long)quick, (long long)all);
	assert_true(quick < 200);
	assert_true(all >= 700 && all < 1700);
	http_close(&b);
}

/* Deadlines set after the worker slept count from when it woke: after a
 * quiet second, /sleep?ms=300 still sleeps 300 ms, and a keep-alive
 * connection still gets its 5 s. (The loop's clock was once read only
 * before the wait, so both came early by the time spent idle.) */
static void test_clock_after_idle(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	conn_open(f, &c);
	sleep_ms(1000);
	int64_t t0 = now_ms();
	roundtrip(&c, GET("/sleep?ms=300"), 200, "slept 300");
	int64_t slept = now_ms() - t0;
	sleep_ms(1000);
	roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
	int64_t t1 = now_ms();
	expect_closed(&c, 8000);
	int64_t idle = now_ms() - t1;
	print_message("slept %lld ms after 1 s idle; keep-alive closed after "
		      "%lld ms\n",
		      (long long)slept, (long long)idle);
	assert_true(slept >= 300);
	assert_true(idle >= 4900);
	http_close(&c);
}

/* SIGTERM: a request in progress is finished, an idle connection closed,
 * and the server exits 0. */
static void test_graceful_stop(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn busy, idle;
	struct http_resp r;
	conn_open(f, &idle);
	roundtrip(&idle, GET("/pipeline"), 200, "ok");
	conn_open(f, &busy);
	send_str(&busy, GET("/sleep?ms=500"));
	sleep_ms(150);
	int64_t t0 = now_ms();
	assert_int_equal(kill(f->srv.pid, SIGTERM), 0);
	read_resp(&busy, &r, 0);
	check_str(&r, 200, "slept 500");
	http_resp_free(&r);
	expect_closed(&idle, 3000);
	f->running = false;
	int status = server_signal_wait(&f->srv, 0, t0 + 5000 - now_ms());
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	http_close(&busy);
	http_close(&idle);
}

int main(void)
{
	fixture_init();
	const struct CMUnitTest tests[] = {
	    T_WITH(test_timeouts, setup_timeouts),
	    T(test_slowloris),
	    T_WITH(test_pool_exhaustion, setup_pool),
	    T(test_slow_upstream),
	    T(test_sleep_concurrent),
	    T(test_clock_after_idle),
	    T(test_graceful_stop),
	};
	return FIXTURE_RUN(tests) ? 1 : 0;
}
