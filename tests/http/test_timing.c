/* test_timing.c: the ringlet binary against time and scarcity: the header
 * and keep-alive timeouts, slowloris clients, connection-pool exhaustion
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

struct watched {
	struct http_conn c;
	int64_t since;	 /* when its timer should have started */
	int64_t closed;	 /* when the server closed it; 0 while open */
	struct sbuf got; /* what arrived before the close */
};

/* Waits (until `end`) for the server to close each of w[0, n). */
static void watch_closes(struct watched *w, int n, int64_t end)
{
	for (;;) {
		int open = 0;
		for (int i = 0; i < n; i++) {
			if (w[i].closed)
				continue;
			char buf[4096];
			ssize_t r =
			    recv_timeout(w[i].c.fd, buf, sizeof(buf), 0);
			if (r > 0) {
				sb_add(&w[i].got, buf, (size_t)r);
				open++;
			} else if (r == 0 || r == -ECONNRESET) {
				w[i].closed = now_ms();
			} else {
				open++;
			}
		}
		if (!open || now_ms() >= end)
			return;
		sleep_ms(20);
	}
}

/* Nothing, or a 408 response. */
static bool nothing_or_408(const struct sbuf *b)
{
	return b->len == 0 ||
	       (b->len > 12 && !memcmp(b->p, "HTTP/1.1 408 ", 13));
}

/* The header timeout (10 s by default) and the keep-alive timeout (5 s)
 * run side by side, on three connections: half a head; one request then
 * idle; nothing at all. */
static void test_timeouts(void **state)
{
	struct fixture *f = fixture_get(state);
	struct watched w[3];
	memset(w, 0, sizeof(w));
	for (int i = 0; i < 3; i++)
		conn_open(f, &w[i].c);
	w[0].since = now_ms();
	send_str(&w[0].c, "GET /plaintext HTTP/1.1\r\nHost: localhost\r\nX-Ha");
	w[2].since = now_ms();
	struct http_resp r;
	send_str(&w[1].c, GET("/plaintext"));
	read_resp(&w[1].c, &r, 0);
	check_str(&r, 200, "Hello, World!");
	http_resp_free(&r);
	w[1].since = now_ms();

	watch_closes(w, 3, w[0].since + 13000);
	static const char *const what[] = {"half a head", "idle keep-alive",
					   "silent connection"};
	for (int i = 0; i < 3; i++) {
		if (w[i].closed)
			print_message("%s: closed after %lld ms, %zu bytes "
				      "first\n",
				      what[i],
				      (long long)(w[i].closed - w[i].since),
				      w[i].got.len);
		else
			print_message("%s: still open after 13 s\n", what[i]);
	}
	for (int i = 0; i < 3; i++)
		assert_true(w[i].closed != 0);
	int64_t head = w[0].closed - w[0].since;
	int64_t idle = w[1].closed - w[1].since;
	int64_t silent = w[2].closed - w[2].since;
	assert_true(head >= 8000 && head <= 12000);
	assert_true(nothing_or_408(&w[0].got));
	assert_true(idle >= 4000 && idle <= 7500);
	assert_int_equal(w[1].got.len, 0); /* an idle close is silent */
	assert_true(silent >= 4000 && silent <= 12000);
	assert_true(nothing_or_408(&w[2].got));
	for (int i = 0; i < 3; i++) {
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
	    T(test_timeouts),
	    T(test_slowloris),
	    T_WITH(test_pool_exhaustion, setup_pool),
	    T(test_slow_upstream),
	    T(test_sleep_concurrent),
	    T(test_clock_after_idle),
	    T(test_graceful_stop),
	};
	return FIXTURE_RUN(tests) ? 1 : 0;
}
