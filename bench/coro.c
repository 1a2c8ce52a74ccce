/* bench/coro.c: coroutine switch cost against glibc's swapcontext in the
 * same run, the cost of a coroutine's whole life, and the stack figures
 * behind RG__CORO_STACK_SIZE_DEFAULT: how deep handler-like code and the
 * libc calls handlers make go, and how much RSS a suspended coroutine holds.
 *
 * Timings are the best of REPS repetitions. Stack depth is measured by
 * filling a stack object with a pattern, running the workload on it and
 * finding the deepest byte that changed; it counts from the top of the
 * object, so the struct rg__coro and the entry frames (the "empty handler"
 * line) are included. RSS is /proc/self/statm before and after suspending
 * COROS coroutines on fresh stacks, divided by COROS. */
#include "core/coro.h"
#include "mem/poison.h"
#include "ringlet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <float.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define ROUND_TRIPS 5000000
#define LIVES 1000000
#define REPS 5
#define COROS 1000
#define PATTERN RG_POISON_BYTE /* what the pool itself fills with */

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static struct rg_pool *stack_pool(size_t stack_size, size_t n)
{
	struct rg_pool_config cfg = {
	    .object_size = stack_size,
	    .initial = n,
	    .max = n,
	    .guard_pages = 1,
	};
	struct rg_pool *pool = rg_pool_create(&cfg, NULL);
	if (!pool) {
		perror("coro: rg_pool_create");
		exit(1);
	}
	return pool;
}

/* --- switch cost ------------------------------------------------------- */

static volatile bool stop;
static struct rg__coro *pinger;

static void ping_fn(void *arg)
{
	(void)arg;
	pinger = rg__coro_current();
	while (!stop)
		rg__coro_yield();
}

/* yield + resume through the API: bookkeeping included. */
static double api_round_trip(struct rg__coro_sched *sched)
{
	double best = 1e30;
	stop = false;
	rg__coro_start(sched, ping_fn, NULL);
	for (int r = 0; r < REPS; r++) {
		double t = now_ns();
		for (int i = 0; i < ROUND_TRIPS; i++)
			rg__coro_resume(pinger);
		t = (now_ns() - t) / ROUND_TRIPS;
		best = t < best ? t : best;
	}
	stop = true;
	rg__coro_resume(pinger);
	return best;
}

/* The bare context switch, there and back. */
static struct rg__coro_ctx raw_main, raw_other;

static _Noreturn void raw_entry(void *arg)
{
	(void)arg;
	for (;;)
		rg__coro_ctx_switch(&raw_other, &raw_main);
}

static double raw_round_trip(char *stack, size_t size)
{
	double best = 1e30;
	rg__coro_ctx_make(&raw_other, stack, size, raw_entry, NULL);
	for (int r = 0; r < REPS; r++) {
		double t = now_ns();
		for (int i = 0; i < ROUND_TRIPS; i++)
			rg__coro_ctx_switch(&raw_main, &raw_other);
		t = (now_ns() - t) / ROUND_TRIPS;
		best = t < best ? t : best;
	}
	return best;
}

#if defined(RG__CORO_ASM) && defined(__x86_64__)
/* The same switch without the MXCSR/x87 control word, to price them. */
/* clang-format off */
__asm__(".pushsection .text\n"
	".balign 16\n"
	"switch_no_fp:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	movq %rsp, (%rdi)\n"
	"	movq (%rsi), %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".popsection\n");
/* clang-format on */
void switch_no_fp(void **from, void *const *to);

static void *nofp_main, *nofp_other;

static _Noreturn void nofp_loop(void)
{
	for (;;)
		switch_no_fp(&nofp_other, &nofp_main);
}

static double nofp_round_trip(char *stack, size_t size)
{
	/* Forged frame: six zeroed registers, then nofp_loop as the return
	 * address, placed so that rsp = 8 mod 16 on entry to it, as after a
	 * call. */
	uint64_t *f = (uint64_t *)(stack + size - 8) - 7;
	memset(f, 0, 7 * sizeof(*f));
	f[6] = (uintptr_t)nofp_loop;
	nofp_other = f;
	double best = 1e30;
	for (int r = 0; r < REPS; r++) {
		double t = now_ns();
		for (int i = 0; i < ROUND_TRIPS; i++)
			switch_no_fp(&nofp_main, &nofp_other);
		t = (now_ns() - t) / ROUND_TRIPS;
		best = t < best ? t : best;
	}
	return best;
}
#endif

/* The peer: glibc's swapcontext, which also saves the signal mask. */
static ucontext_t uc_main, uc_other;

static void uc_loop(void)
{
	for (;;)
		swapcontext(&uc_other, &uc_main);
}

static double ucontext_round_trip(char *stack, size_t size)
{
	getcontext(&uc_other);
	uc_other.uc_stack.ss_sp = stack;
	uc_other.uc_stack.ss_size = size;
	uc_other.uc_link = NULL;
	makecontext(&uc_other, uc_loop, 0);
	double best = 1e30;
	for (int r = 0; r < REPS; r++) {
		double t = now_ns();
		for (int i = 0; i < ROUND_TRIPS / 10; i++)
			swapcontext(&uc_main, &uc_other);
		t = (now_ns() - t) / (ROUND_TRIPS / 10);
		best = t < best ? t : best;
	}
	return best;
}

static void empty_fn(void *arg)
{
	(void)arg;
}

/* rg__coro_start of a function that returns at once: stack from the pool,
 * context made, switched in, finished, switched out, stack back. */
static double life(struct rg__coro_sched *sched)
{
	double best = 1e30;
	for (int r = 0; r < REPS; r++) {
		double t = now_ns();
		for (int i = 0; i < LIVES; i++)
			rg__coro_start(sched, empty_fn, NULL);
		t = (now_ns() - t) / LIVES;
		best = t < best ? t : best;
	}
	return best;
}

/* --- handler-like workloads -------------------------------------------- */

static volatile unsigned long sink;

static void keep(const char *s)
{
	sink += (unsigned char)s[0];
}

static void keep_d(double d)
{
	sink += d != 0.0;
}

static void w_empty(void)
{
}

/* Status line and headers, as a handler that formats its own would. */
static void w_headers(void)
{
	char out[512];
	snprintf(out, sizeof(out),
		 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: "
		 "%zu\r\nX-Request-Id: %08x-%04x\r\nCache-Control: max-age=%d"
		 "\r\n\r\n",
		 200, "OK", "application/json", (size_t)1234, 0xdeadbeefu,
		 0xbeefu, 3600);
	keep(out);
}

static void w_doubles(void)
{
	char out[256];
	snprintf(out, sizeof(out), "%f %.3f %g %e %.17g", 3.14159265, 1234.5678,
		 1e-7, 6.02214076e23, 0.1);
	keep(out);
}

static void w_huge_double(void)
{
	char out[512];
	snprintf(out, sizeof(out), "%f", 1e308);
	keep(out);
	snprintf(out, sizeof(out), "%.17g %.40e", DBL_MAX, DBL_MIN);
	keep(out);
}

static void w_strtod(void)
{
	keep_d(strtod("3.14159", NULL));
	keep_d(strtod("-1.5e-300", NULL));
	keep_d(strtod("12345678901234567890.123456789e10", NULL));
}

/* strtod's slow path: a 800-digit mantissa. */
static void w_strtod_long(void)
{
	char num[820];
	memset(num, '7', 800);
	memcpy(num, "0.", 2);
	strcpy(num + 800, "e-5");
	keep_d(strtod(num, NULL));
}

static int int_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* 255 ints: glibc's merge sort takes its scratch from alloca below 1 KiB,
 * from malloc above. */
static void w_qsort(void)
{
	int v[255];
	for (int i = 0; i < 255; i++)
		v[i] = (i * 7919) % 255;
	qsort(v, 255, sizeof(v[0]), int_cmp);
	sink += (unsigned long)v[0];
	static int big[10000];
	for (int i = 0; i < 10000; i++)
		big[i] = (i * 7919) % 10000;
	qsort(big, 10000, sizeof(big[0]), int_cmp);
	sink += (unsigned long)big[0];
}

static void w_date(void)
{
	char out[64];
	struct tm tm;
	time_t t = time(NULL);
	gmtime_r(&t, &tm);
	strftime(out, sizeof(out), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	keep(out);
}

static void w_localtime(void)
{
	char out[64];
	struct tm tm;
	time_t t = time(NULL);
	localtime_r(&t, &tm); /* the first call reads the time zone file */
	strftime(out, sizeof(out), "%c %Z", &tm);
	keep(out);
}

static void w_misc(void)
{
	char out[128];
	unsigned char addr[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	keep(inet_ntop(AF_INET6, addr, out, sizeof(out)));
	keep(strerror_r(ECONNRESET, out, sizeof(out)));
}

#define ROUTE "^/api/v([0-9]+)/users/([0-9a-f]+)$"
static regex_t route; /* compiled in main, for w_regexec */

static void w_regcomp(void)
{
	regex_t re;
	if (regcomp(&re, ROUTE, REG_EXTENDED) == 0)
		regfree(&re);
}

static void w_regexec(void)
{
	regmatch_t m[3];
	sink += (unsigned long)regexec(&route, "/api/v2/users/00ff3a", 3, m, 0);
}

/* A JSON-rendering handler: a 4 KiB body buffer on its stack, nested
 * objects six deep, escaped strings, numbers through snprintf. */
struct out {
	char *p, *end;
};

static void put(struct out *o, const char *s, size_t n)
{
	if ((size_t)(o->end - o->p) < n)
		n = (size_t)(o->end - o->p);
	memcpy(o->p, s, n);
	o->p += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, "\"", 1);
	for (; *s; s++) {
		char esc[8];
		if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = *s;
			put(o, esc, 2);
		} else if ((unsigned char)*s < 0x20) {
			int n = snprintf(esc, sizeof(esc), "\\u%04x", *s);
			put(o, esc, (size_t)n);
		} else {
			put(o, s, 1);
		}
	}
	put(o, "\"", 1);
}

static void put_num(struct out *o, double v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%.17g", v);
	put(o, num, (size_t)n);
}

static void put_obj(struct out *o, int depth)
{
	char key[64];
	put(o, "{", 1);
	snprintf(key, sizeof(key), "level-%d", depth);
	put_str(o, "name");
	put(o, ":", 1);
	put_str(o, key);
	put(o, ",", 1);
	put_str(o, "note");
	put(o, ":", 1);
	put_str(o, "a \"quoted\"\tline\n");
	put(o, ",", 1);
	put_str(o, "score");
	put(o, ":", 1);
	put_num(o, 3.14159 * depth);
	put(o, ",", 1);
	put_str(o, "tags");
	put(o, ":[", 2);
	for (int i = 0; i < 3; i++) {
		if (i)
			put(o, ",", 1);
		put_num(o, i * 0.5);
	}
	put(o, "]", 1);
	if (depth > 0) {
		put(o, ",", 1);
		put_str(o, "child");
		put(o, ":", 1);
		put_obj(o, depth - 1);
	}
	put(o, "}", 1);
}

static void w_json(void)
{
	char body[4096];
	struct out o = {body, body + sizeof(body)};
	put_obj(&o, 6);
	keep(body);
}

struct workload {
	const char *name;
	void (*fn)(void);
};

static const struct workload workloads[] = {
    {"empty handler", w_empty},
    {"status line + headers (snprintf %s %d %zu)", w_headers},
    {"snprintf %f %g %e %.17g, everyday values", w_doubles},
    {"snprintf %f of 1e308, %.40e of DBL_MIN", w_huge_double},
    {"strtod, short inputs", w_strtod},
    {"strtod, 800-digit mantissa", w_strtod_long},
    {"qsort 255 ints (alloca) + 10000 (malloc)", w_qsort},
    {"gmtime_r + strftime (Date header)", w_date},
    {"localtime_r (time zone load) + strftime", w_localtime},
    {"inet_ntop + strerror_r", w_misc},
    {"regcomp (route pattern)", w_regcomp},
    {"regexec, first match (builds its DFA)", w_regexec},
    {"regexec again (DFA states cached)", w_regexec},
    {"JSON handler: 4 KiB body buffer, 7 levels", w_json},
};

/* --- stack depth ------------------------------------------------------- */

struct depth_job {
	void (*fn)(void);
	char *stack;
	size_t size, used;
};

static void depth_fn(void *arg)
{
	struct depth_job *j = arg;
	j->fn();
	/* The first word is the pool's free-list link. */
	const char *p = j->stack + sizeof(void *);
	while (p < j->stack + j->size && (unsigned char)*p == PATTERN)
		p++;
	j->used = (size_t)(j->stack + j->size - p);
}

/* The pool holds one stack: fill it, give it back, and the coroutine gets
 * it again. */
static size_t stack_depth(struct rg__coro_sched *sched, void (*fn)(void))
{
	struct depth_job j = {.fn = fn};
	j.stack = rg_pool_get(sched->stacks);
	j.size = rg_pool_object_size(sched->stacks);
	memset(j.stack, PATTERN, j.size);
	rg_pool_put(sched->stacks, j.stack);
	rg__coro_start(sched, depth_fn, &j);
	return j.used;
}

/* --- RSS of suspended coroutines --------------------------------------- */

static long rss_bytes(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = -1;
	if (f)
		fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

static struct rg__coro *suspended[COROS];
static int nsuspended;

static void suspend_fn(void *arg)
{
	const struct workload *w = arg;
	w->fn();
	suspended[nsuspended++] = rg__coro_current();
	rg__coro_yield();
}

/* Bytes of RSS per coroutine suspended after running `w` on a fresh
 * stack. */
static double rss_per_coro(size_t stack_size, const struct workload *w)
{
	struct rg_pool *pool = stack_pool(stack_size, COROS);
	struct rg__coro_sched sched;
	rg__coro_sched_init(&sched, pool);
	long before = rss_bytes();
	nsuspended = 0;
	for (int i = 0; i < COROS; i++)
		rg__coro_start(&sched, suspend_fn, (void *)w);
	long after = rss_bytes();
	for (int i = 0; i < nsuspended; i++)
		rg__coro_resume(suspended[i]);
	rg_pool_destroy(pool);
	return (double)(after - before) / COROS;
}

int main(void)
{
	struct rg_pool *pool = stack_pool(RG__CORO_STACK_SIZE_DEFAULT, 4);
	struct rg__coro_sched sched;
	rg__coro_sched_init(&sched, pool);

	double api = api_round_trip(&sched);
	char *stack = rg_pool_get(pool);
	size_t size = rg_pool_object_size(pool);
	double raw = raw_round_trip(stack, size);
	double uc = ucontext_round_trip(stack, size);
	printf("switch there and back (ns; best of %d x %d)\n", REPS,
	       ROUND_TRIPS);
	printf("  rg__coro_resume + rg__coro_yield  %6.1f\n", api);
	printf("  rg__coro_ctx_switch x2            %6.1f\n", raw);
#if defined(RG__CORO_ASM) && defined(__x86_64__)
	double nofp = nofp_round_trip(stack, size);
	printf("    same without MXCSR/x87 CW       %6.1f\n", nofp);
#endif
	printf("  glibc swapcontext x2              %6.1f  (%.1fx ringlet's "
	       "resume + yield)\n",
	       uc, uc / api);
	rg_pool_put(pool, stack);
	printf("coroutine life, start to finish     %6.1f ns\n", life(&sched));
	rg_pool_destroy(pool);

	if (regcomp(&route, ROUTE, REG_EXTENDED))
		return 1;
	pool = stack_pool(256 * 1024, 1);
	rg__coro_sched_init(&sched, pool);
	printf("\nstack depth and RSS per suspended coroutine "
	       "(%d coroutines, %zu KiB stacks)\n",
	       COROS, (size_t)RG__CORO_STACK_SIZE_DEFAULT / 1024);
	printf("  %-44s %9s %9s\n", "workload", "depth B", "RSS B");
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		const struct workload *w = &workloads[i];
		size_t depth = stack_depth(&sched, w->fn);
		double rss = rss_per_coro(RG__CORO_STACK_SIZE_DEFAULT, w);
		printf("  %-44s %9zu %9.0f\n", w->name, depth, rss);
	}
	rg_pool_destroy(pool);
	regfree(&route);

	long page = sysconf(_SC_PAGESIZE);
	printf("\nmapped and charged to the memory account per coroutine "
	       "(stack + guard page)\n");
	for (size_t kib = 16; kib <= 256; kib *= 2)
		printf(
		    "  %3zu KiB stacks: %3zu KiB; 10000 coroutines: %4zu MiB\n",
		    kib, kib + (size_t)page / 1024,
		    (kib * 1024 + (size_t)page) * 10000 >> 20);
	return 0;
}
