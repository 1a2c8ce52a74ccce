/* test_coro.c: coroutines: switch order, data, many at once, stack reuse,
 * registers and FP state across switches, alignment, guard page, ASan. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/coro.h"
#include "mem/poison.h"
#include "ringlet.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#ifdef RG_ASAN
/* Fake stacks on, so that every test also runs the fake-stack side of the
 * fiber annotations: one per coroutine, freed when it finishes. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_stack_use_after_return=1";
}
#endif

static struct rg_pool *stack_pool(size_t stack_size, size_t n)
{
	struct rg_pool_config cfg = {
	    .object_size = stack_size,
	    .initial = n,
	    .max = n,
	    .guard_pages = 1,
	};
	struct rg_pool *pool = rg_pool_create(&cfg, NULL);
	assert_non_null(pool);
	return pool;
}

static uint64_t pool_in_use(struct rg_pool *pool)
{
	struct rg_pool_stats st;
	rg_pool_stats(pool, &st);
	return st.in_use;
}

/* --- start, yield, resume order ---------------------------------------- */

static char trace[64];
static size_t trace_len;

static void mark(char c)
{
	trace[trace_len++] = c;
	trace[trace_len] = '\0';
}

static void ping_pong_fn(void *arg)
{
	struct rg__coro **self = arg;
	*self = rg__coro_current();
	mark('a');
	rg__coro_yield();
	mark('b');
	rg__coro_yield();
	mark('c');
}

static void ping_pong_order(void **state)
{
	(void)state;
	struct rg_pool *pool = stack_pool(RG__CORO_STACK_SIZE_DEFAULT, 1);
	struct rg__coro_sched sched;
	assert_int_equal(rg__coro_sched_init(&sched, pool), 0);
	struct rg__coro *coro = NULL;

	trace_len = 0;
	mark('0');
	assert_int_equal(rg__coro_start(&sched, ping_pong_fn, &coro), 0);
	assert_non_null(coro);
	assert_null(rg__coro_current());
	mark('1');
	assert_true(rg__coro_resume(coro));
	mark('2');
	assert_false(rg__coro_resume(coro));
	mark('3');
	assert_string_equal(trace, "0a1b2c3");
	assert_int_equal(sched.live, 0);
	assert_int_equal(sched.started, 1);
	rg_pool_destroy(pool);
}

/* --- data -------------------------------------------------------------- */

struct exchange {
	struct rg__coro *self;
	void *seen_data[3];
	int in, out;
};

static int other_thing;

static void exchange_fn(void *arg)
{
	struct exchange *x = arg;
	x->self = rg__coro_current();
	x->seen_data[0] = rg__coro_data(x->self);
	rg__coro_yield();
	/* The loop replaced data and put a value in x->in. */
	x->seen_data[1] = rg__coro_data(rg__coro_current());
	x->out = x->in * 3;
	rg__coro_set_data(x->self, &x->out);
	rg__coro_yield();
	x->seen_data[2] = rg__coro_data(rg__coro_current());
}

static void data_passing(void **state)
{
	(void)state;
	struct rg_pool *pool = stack_pool(RG__CORO_STACK_SIZE_DEFAULT, 1);
	struct rg__coro_sched sched;
	assert_int_equal(rg__coro_sched_init(&sched, pool), 0);
	struct exchange x = {0};

	assert_int_equal(rg__coro_start(&sched, exchange_fn, &x), 0);
	assert_ptr_equal(x.seen_data[0], &x);
	assert_ptr_equal(rg__coro_data(x.self), &x);
	rg__coro_set_data(x.self, &other_thing);
	x.in = 14;
	assert_true(rg__coro_resume(x.self));
	assert_ptr_equal(x.seen_data[1], &other_thing);
	assert_int_equal(x.out, 42);
	assert_ptr_equal(rg__coro_data(x.self), &x.out);
	assert_false(rg__coro_resume(x.self));
	assert_ptr_equal(x.seen_data[2], &x.out);
	rg_pool_destroy(pool);
}

/* --- many coroutines at once, pool exhaustion -------------------------- */

#define MANY 1000
#define ROUNDS 10

struct member {
	struct rg__coro *self;
	unsigned seq[ROUNDS + 1];
};

static unsigned ticks;

static void member_fn(void *arg)
{
	struct member *m = arg;
	m->self = rg__coro_current();
	for (int r = 0; r < ROUNDS; r++) {
		m->seq[r] = ticks++;
		rg__coro_yield();
	}
	m->seq[ROUNDS] = ticks++;
}

static bool never_called_ran;

static void never_called_fn(void *arg)
{
	(void)arg;
	never_called_ran = true;
}

static void many_interleaved(void **state)
{
	(void)state;
	struct rg_pool *pool = stack_pool(RG__CORO_STACK_SIZE_MIN, MANY);
	struct rg__coro_sched sched;
	assert_int_equal(rg__coro_sched_init(&sched, pool), 0);
	struct member *m = calloc(MANY, sizeof(*m));
	assert_non_null(m);

	ticks = 0;
	for (int i = 0; i < MANY; i++)
		assert_int_equal(rg__coro_start(&sched, member_fn, &m[i]), 0);
	assert_int_equal(sched.live, MANY);
	assert_int_equal(pool_in_use(pool), MANY);

	/* The pool is exhausted: a start is refused cleanly. */
	never_called_ran = false;
	assert_int_equal(rg__coro_start(&sched, never_called_fn, NULL),
			 -ENOMEM);
	assert_false(never_called_ran);
	struct rg_pool_stats st;
	rg_pool_stats(pool, &st);
	assert_int_equal(st.failures, 1);
	assert_int_equal(sched.live, MANY);

	for (int r = 1; r <= ROUNDS; r++)
		for (int i = 0; i < MANY; i++)
			assert_int_equal(rg__coro_resume(m[i].self),
					 r < ROUNDS);
	for (int i = 0; i < MANY; i++)
		for (int r = 0; r <= ROUNDS; r++)
			assert_int_equal(m[i].seq[r], (unsigned)(r * MANY + i));
	assert_int_equal(sched.live, 0);
	assert_int_equal(pool_in_use(pool), 0);

	/* Room again. */
	struct rg__coro *coro = NULL;
	assert_int_equal(rg__coro_start(&sched, ping_pong_fn, &coro), 0);
	assert_int_equal(pool_in_use(pool), 1);
	assert_true(rg__coro_resume(coro));
	assert_false(rg__coro_resume(coro));
	free(m);
	rg_pool_destroy(pool);
}

/* --- the stack goes back to the pool when fn returns ------------------- */

struct where {
	struct rg__coro *self;
	uintptr_t frame;
	bool yield;
};

static void where_fn(void *arg)
{
	struct where *w = arg;
	w->self = rg__coro_current();
	w->frame = (uintptr_t)__builtin_frame_address(0);
	if (w->yield)
		rg__coro_yield();
}

static void stack_returned_to_pool(void **state)
{
	(void)state;
	struct rg_pool *pool = stack_pool(RG__CORO_STACK_SIZE_DEFAULT, 2);
	struct rg__coro_sched sched;
	assert_int_equal(rg__coro_sched_init(&sched, pool), 0);

	struct where a = {.yield = true}, b = {.yield = false};
	assert_int_equal(rg__coro_start(&sched, where_fn, &a), 0);
	assert_int_equal(pool_in_use(pool), 1);
	assert_int_equal(sched.live, 1);
	assert_false(rg__coro_resume(a.self));
	assert_int_equal(pool_in_use(pool), 0);
	assert_int_equal(sched.live, 0);

	/* One that never yields is done when start returns, and the pool
	 * (LIFO) hands the same stack out again. */
	assert_int_equal(rg__coro_start(&sched, where_fn, &b), 0);
	assert_int_equal(pool_in_use(pool), 0);
	assert_int_equal(b.frame, a.frame);
	assert_ptr_equal(b.self, a.self);
	struct rg_pool_stats st;
	rg_pool_stats(pool, &st);
	assert_int_equal(st.gets, 2);
	assert_int_equal(st.high_water, 1);
	assert_int_equal(sched.started, 2);
	rg_pool_destroy(pool);
}

/* --- registers across switches ----------------------------------------- */

/* Keeps many integers and doubles live across every call of `hook`, so the
 * compiler parks them in callee-saved registers (rbx, rbp, r12-r15 and
 * x19-x28, d8-d15) and on the stack. With a hook that switches to the other
 * side, which runs the same code with other values, any register the switch
 * loses changes the result. */
__attribute__((noinline)) static void
mix(uint64_t seed, int n, void (*hook)(void), uint64_t *ires, double *dres)
{
	uint64_t a = seed, b = seed * 3 + 1, c = seed ^ 0x9e3779b97f4a7c15,
		 d = seed + 7, e = ~seed, f = seed << 3, g = seed >> 2,
		 h = seed * seed, i = seed | 0x1234, j = seed & 0xff00ff;
	double x = (double)seed * 0.5, y = 1.0 / ((double)seed + 1.0),
	       z = (double)(seed % 1000) + 0.25, w = 3.0e-3, u = -2.5,
	       v = (double)seed * 1e-9, s = 0.0, t = 1.0;
	for (int k = 0; k < n; k++) {
		hook();
		a = a * 6364136223846793005u + b;
		b ^= a >> 7;
		c += b * 31;
		d = (d << 5) | (d >> 59);
		e -= c;
		f ^= e + d;
		g += f >> 3;
		h = h * 7 + g;
		i ^= h;
		j += i * 3;
		x = x * 0.999 + y;
		y = y * 1.001 - z * 1e-6;
		z = z + w * u;
		w = w * 1.0001 + v;
		u = -u * 0.9999;
		v = v + x * 1e-12;
		s += x - y + z;
		t *= 1.0000001;
	}
	*ires = a ^ b ^ c ^ d ^ e ^ f ^ g ^ h ^ i ^ j;
	*dres = x + y + z + w + u + v + s + t;
}

#define MIX_ROUNDS 200

static void no_hook(void)
{
}

static struct rg__coro *peer;

static void resume_peer(void)
{
	rg__coro_resume(peer);
}

struct mix_result {
	uint64_t i;
	double d;
};

static void mix_fn(void *arg)
{
	struct mix_result *r = arg;
	peer = rg__coro_current();
	mix(12345, MIX_ROUNDS, rg__coro_yield, &r->i, &r->d);
}

static void registers_preserved(void **state)
{
	(void)state;
	struct rg_pool *pool = stack_pool(RG__CORO_STACK_SIZE_DEFAULT, 1);
	struct rg__coro_sched sched;
	assert_int_equal(rg__coro_sched_init(&sched, pool), 0);
	struct mix_result want_c, want_m, got_c = {0}, got_m;
	mix(12345, MIX_ROUNDS, no_hook, &want_c.i, &want_c.d);
	mix(987654321, MIX_ROUNDS, no_hook, &want_m.i, &want_m.d);

	/* The coroutine yields at its first hook call, then each resume
	 * from the loop's hook runs it to its next one; the last resume
	 * lets it finish. */
	assert_int_equal(rg__coro_start(&sched, mix_fn, &got_c), 0);
	mix(987654321, MIX_ROUNDS, resume_peer, &got_m.i, &got_m.d);
	assert_int_equal(pool_in_use(pool), 0);
	assert_int_equal(got_c.i, want_c.i);
	assert_int_equal(got_m.i, want_m.i);
	assert_true(got_c.d == want_c.d);
	assert_true(got_m.d == want_m.d);
	rg_pool_destroy(pool);
}

#if defined(RG__CORO_ASM) && defined(__x86_64__)
/* uint64_t probe_switch(from, to, seed): loads seed + 1 .. seed + 6 into
 * rbx, rbp, r12-r15, calls rg__coro_ctx_switch directly (no C frame in
 * between that could save a register the switch forgets), and returns the
 * OR of (register ^ expected) over them once switched back. */
/* clang-format off */
__asm__(".pushsection .text\n"
	".balign 16\n"
	"probe_switch:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	pushq %rdx\n" /* the seed; rsp is 16-aligned now */
	"	leaq 1(%rdx), %rbx\n"
	"	leaq 2(%rdx), %rbp\n"
	"	leaq 3(%rdx), %r12\n"
	"	leaq 4(%rdx), %r13\n"
	"	leaq 5(%rdx), %r14\n"
	"	leaq 6(%rdx), %r15\n"
	"	call rg__coro_ctx_switch@PLT\n"
	"	popq %rdx\n"
	"	leaq 1(%rdx), %rax\n"
	"	xorq %rbx, %rax\n"
	"	leaq 2(%rdx), %rcx\n"
	"	xorq %rbp, %rcx\n"
	"	orq %rcx, %rax\n"
	"	leaq 3(%rdx), %rcx\n"
	"	xorq %r12, %rcx\n"
	"	orq %rcx, %rax\n"
	"	leaq 4(%rdx), %rcx\n"
	"	xorq %r13, %rcx\n"
	"	orq %rcx, %rax\n"
	"	leaq 5(%rdx), %rcx\n"
	"	xorq %r14, %rcx\n"
	"	orq %rcx, %rax\n"
	"	leaq 6(%rdx), %rcx\n"
	"	xorq %r15, %rcx\n"
	"	orq %rcx, %rax\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".popsection\n");
/* clang-format on */
#define HAVE_PROBE 1
#elif defined(RG__CORO_ASM) && defined(__aarch64__)
/* The same for x19-x29 (seed + 1 .. + 11) and d8-d15 (seed + 12 .. + 19,
 * as bit patterns). */
/* clang-format off */
__asm__(".pushsection .text\n"
	".balign 16\n"
	"probe_switch:\n"
	"	sub sp, sp, #176\n"
	"	stp x19, x20, [sp, #0]\n"
	"	stp x21, x22, [sp, #16]\n"
	"	stp x23, x24, [sp, #32]\n"
	"	stp x25, x26, [sp, #48]\n"
	"	stp x27, x28, [sp, #64]\n"
	"	stp x29, x30, [sp, #80]\n"
	"	stp d8, d9, [sp, #96]\n"
	"	stp d10, d11, [sp, #112]\n"
	"	stp d12, d13, [sp, #128]\n"
	"	stp d14, d15, [sp, #144]\n"
	"	str x2, [sp, #160]\n"
	"	add x19, x2, #1\n"
	"	add x20, x2, #2\n"
	"	add x21, x2, #3\n"
	"	add x22, x2, #4\n"
	"	add x23, x2, #5\n"
	"	add x24, x2, #6\n"
	"	add x25, x2, #7\n"
	"	add x26, x2, #8\n"
	"	add x27, x2, #9\n"
	"	add x28, x2, #10\n"
	"	add x29, x2, #11\n"
	"	add x9, x2, #12\n"
	"	fmov d8, x9\n"
	"	add x9, x2, #13\n"
	"	fmov d9, x9\n"
	"	add x9, x2, #14\n"
	"	fmov d10, x9\n"
	"	add x9, x2, #15\n"
	"	fmov d11, x9\n"
	"	add x9, x2, #16\n"
	"	fmov d12, x9\n"
	"	add x9, x2, #17\n"
	"	fmov d13, x9\n"
	"	add x9, x2, #18\n"
	"	fmov d14, x9\n"
	"	add x9, x2, #19\n"
	"	fmov d15, x9\n"
	"	bl rg__coro_ctx_switch\n"
	"	ldr x2, [sp, #160]\n"
	"	mov x0, #0\n"
	"	add x9, x2, #1\n"
	"	eor x9, x9, x19\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #2\n"
	"	eor x9, x9, x20\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #3\n"
	"	eor x9, x9, x21\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #4\n"
	"	eor x9, x9, x22\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #5\n"
	"	eor x9, x9, x23\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #6\n"
	"	eor x9, x9, x24\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #7\n"
	"	eor x9, x9, x25\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #8\n"
	"	eor x9, x9, x26\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #9\n"
	"	eor x9, x9, x27\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #10\n"
	"	eor x9, x9, x28\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #11\n"
	"	eor x9, x9, x29\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #12\n"
	"	fmov x10, d8\n"
	"	eor x9, x9, x10\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #13\n"
	"	fmov x10, d9\n"
	"	eor x9, x9, x10\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #14\n"
	"	fmov x10, d10\n"
	"	eor x9, x9, x10\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #15\n"
	"	fmov x10, d11\n"
	"	eor x9, x9, x10\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #16\n"
	"	fmov x10, d12\n"
	"	eor x9, x9, x10\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #17\n"
	"	fmov x10, d13\n"
	"	eor x9, x9, x10\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #18\n"
	"	fmov x10, d14\n"
	"	eor x9, x9, x10\n"
	"	orr x0, x0, x9\n"
	"	add x9, x2, #19\n"
	"	fmov x10, d15\n"
	"	eor x9, x9, x10\n"
	"	orr x0, x0, x9\n"
	"	ldp x19, x20, [sp, #0]\n"
	"	ldp x21, x22, [sp, #16]\n"
	"	ldp x23, x24, [sp, #32]\n"
	"	ldp x25, x26, [sp, #48]\n"
	"	ldp x27, x28, [sp, #64]\n"
	"	ldp x29, x30, [sp, #80]\n"
	"	ldp d8, d9, [sp, #96]\n"
	"	ldp d10, d11, [sp, #112]\n"
	"	ldp d12, d13, [sp, #128]\n"
	"	ldp d14, d15, [sp, #144]\n"
	"	add sp, sp, #176\n"
	"	ret\n"
	".popsection\n");
/* clang-format on */
#define HAVE_PROBE 1
#endif

#ifdef HAVE_PROBE
uint64_t probe_switch(struct rg__coro_ctx *from, const struct rg__coro_ctx *to,
		      uint64_t seed);

static struct rg__coro_ctx probe_loop_ctx, probe_coro_ctx;
static uint64_t probe_coro_result = 1;

static _Noreturn void probe_entry(void *arg)
{
	(void)arg;
	probe_coro_result =
	    probe_switch(&probe_coro_ctx, &probe_loop_ctx, 0x0123456789abc000u);
	rg__coro_ctx_switch(&probe_coro_ctx, &probe_loop_ctx);
	abort();
}
#endif

/* The switch itself, without rg__coro_yield and rg__coro_resume around it:
 * their own saves of callee-saved registers could hide one it forgets. */
static void switch_keeps_callee_saved(void **state)
{
	(void)state;
#ifdef HAVE_PROBE
	struct rg_pool *pool = stack_pool(RG__CORO_STACK_SIZE_DEFAULT, 1);
	char *stack = rg_pool_get(pool);
	rg__coro_ctx_make(&probe_coro_ctx, stack, rg_pool_object_size(pool),
			  probe_entry, NULL);
	/* In: it loads its values and switches back. */
	assert_int_equal(
	    probe_switch(&probe_loop_ctx, &probe_coro_ctx, 0xfedcba9876543000u),
	    0);
	/* In again: it checks its values and leaves for good. */
	assert_int_equal(
	    probe_switch(&probe_loop_ctx, &probe_coro_ctx, 0x5555aaaa5555a000u),
	    0);
	assert_int_equal(probe_coro_result, 0);
	rg_pool_put(pool, stack);
	rg_pool_destroy(pool);
#else
	skip();
#endif
}

/* --- floating-point control state -------------------------------------- */

#if defined(__x86_64__)
static uint32_t fp_control(void)
{
	uint16_t cw;
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	return (_mm_getcsr() & 0xffc0) << 16 | cw; /* control bits only */
}

static void fp_control_set(uint32_t v)
{
	uint16_t cw = (uint16_t)v;
	_mm_setcsr((_mm_getcsr() & 0x3f) | v >> 16);
	__asm__ volatile("fldcw %0" : : "m"(cw));
}

/* Round up in both units: MXCSR RC = 10b, x87 RC = 10b. */
#define FP_UP(v) (((v) & ~(0x6000u << 16 | 0x0c00u)) | 0x4000u << 16 | 0x0800u)
#define FP_DOWN(v)                                                             \
	(((v) & ~(0x6000u << 16 | 0x0c00u)) | 0x2000u << 16 | 0x0400u)
#define HAVE_FP_CONTROL 1
#elif defined(__aarch64__)
static uint32_t fp_control(void)
{
	uint64_t v;
	__asm__ volatile("mrs %0, fpcr" : "=r"(v));
	return (uint32_t)v;
}

static void fp_control_set(uint32_t v)
{
	__asm__ volatile("msr fpcr, %0" : : "r"((uint64_t)v));
}

/* FPCR RMode (bits 23:22): 01b toward +inf, 10b toward -inf. */
#define FP_UP(v) (((v) & ~(3u << 22)) | 1u << 22)
#define FP_DOWN(v) (((v) & ~(3u << 22)) | 2u << 22)
#define HAVE_FP_CONTROL 1
#endif

#ifdef HAVE_FP_CONTROL
struct fp_probe {
	struct rg__coro *self;
	uint32_t at_start, after_yield;
};

static void fp_fn(void *arg)
{
	struct fp_probe *p = arg;
	p->self = rg__coro_current();
	p->at_start = fp_control();
	fp_control_set(FP_UP(p->at_start));
	rg__coro_yield();
	p->after_yield = fp_control();
	fp_control_set(p->at_start);
}
#endif

static void fp_control_preserved(void **state)
{
	(void)state;
#ifdef HAVE_FP_CONTROL
	struct rg_pool *pool = stack_pool(RG__CORO_STACK_SIZE_DEFAULT, 1);
	struct rg__coro_sched sched;
	assert_int_equal(rg__coro_sched_init(&sched, pool), 0);
	uint32_t saved = fp_control();
	uint32_t down = FP_DOWN(saved);
	struct fp_probe p = {0};

	fp_control_set(down);
	assert_int_equal(fp_control(), down);
	assert_int_equal(rg__coro_start(&sched, fp_fn, &p), 0);
	/* Inherited from its creator; its own change stays its own. */
	assert_int_equal(p.at_start, down);
	assert_int_equal(fp_control(), down);
	fp_control_set(saved);
	assert_false(rg__coro_resume(p.self));
	assert_int_equal(p.after_yield, FP_UP(down));
	assert_int_equal(fp_control(), saved);
	rg_pool_destroy(pool);
#else
	skip();
#endif
}

/* --- alignment ----------------------------------------------------------- */

struct align_probe {
	struct rg__coro *self;
	uintptr_t frame[2], local[2];
	char text[2][32];
};

__attribute__((noinline)) static void probe_alignment(struct align_probe *p,
						      int i)
{
	_Alignas(16) volatile char local[16] = {0};
	p->frame[i] = (uintptr_t)__builtin_frame_address(0);
	p->local[i] = (uintptr_t)local;
	/* glibc's printf_fp keeps SSE values in 16-byte stack slots. */
	snprintf(p->text[i], sizeof(p->text[i]), "%.3f|%g", 3.25 + local[0],
		 1e-300);
}

static void align_fn(void *arg)
{
	struct align_probe *p = arg;
	p->self = rg__coro_current();
	probe_alignment(p, 0);
	rg__coro_yield();
	probe_alignment(p, 1);
}

static void stack_alignment(void **state)
{
	(void)state;
	struct rg_pool *pool = stack_pool(RG__CORO_STACK_SIZE_DEFAULT, 1);
	struct rg__coro_sched sched;
	assert_int_equal(rg__coro_sched_init(&sched, pool), 0);
	struct align_probe p = {0};

	assert_int_equal(rg__coro_start(&sched, align_fn, &p), 0);
	assert_false(rg__coro_resume(p.self));
	for (int i = 0; i < 2; i++) {
		/* The frame address is the stack pointer just after the
		 * call pushed the return address and the callee its frame
		 * pointer: 16-aligned iff the stack was at the call. */
		assert_int_equal(p.frame[i] % 16, 0);
		assert_int_equal(p.local[i] % 16, 0);
		assert_string_equal(p.text[i], "3.250|1e-300");
	}
	rg_pool_destroy(pool);
}

/* --- nesting -------------------------------------------------------------- */

static struct rg__coro *inner_self, *outer_self;
static struct rg__coro *current_after_start;

static void inner_fn(void *arg)
{
	(void)arg;
	inner_self = rg__coro_current();
	mark('i');
	rg__coro_yield(); /* back to outer, which started it */
	mark('j');
	rg__coro_yield(); /* back to the loop, which resumed it */
	mark('k');
}

static void outer_fn(void *arg)
{
	struct rg__coro_sched *sched = arg;
	outer_self = rg__coro_current();
	mark('o');
	assert_int_equal(rg__coro_start(sched, inner_fn, NULL), 0);
	current_after_start = rg__coro_current();
	mark('p');
	rg__coro_yield();
	mark('q');
}

static void nested_start(void **state)
{
	(void)state;
	struct rg_pool *pool = stack_pool(RG__CORO_STACK_SIZE_DEFAULT, 2);
	struct rg__coro_sched sched;
	assert_int_equal(rg__coro_sched_init(&sched, pool), 0);

	trace_len = 0;
	mark('0');
	assert_int_equal(rg__coro_start(&sched, outer_fn, &sched), 0);
	assert_ptr_equal(current_after_start, outer_self);
	assert_int_equal(sched.live, 2);
	mark('1');
	assert_true(rg__coro_resume(inner_self));
	mark('2');
	assert_false(rg__coro_resume(outer_self));
	mark('3');
	assert_false(rg__coro_resume(inner_self));
	mark('4');
	assert_string_equal(trace, "0oip1j2q3k4");
	assert_null(rg__coro_current());
	assert_int_equal(sched.live, 0);
	assert_int_equal(pool_in_use(pool), 0);
	rg_pool_destroy(pool);
}

/* --- stack overflow hits the guard page --------------------------------- */

static volatile unsigned long depth_limit = ~0ul;

__attribute__((noinline)) static unsigned long recurse(unsigned long n)
{
	volatile char pad[256];
	pad[0] = (char)n;
	if (n >= depth_limit)
		return n;
	return recurse(n + 1) + (unsigned long)pad[0];
}

static void overflow_fn(void *arg)
{
	(void)arg;
	recurse(0);
}

#ifndef RG_ASAN
static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	char line[] = "fault=0x0000000000000000\n";
	uintptr_t v = (uintptr_t)si->si_addr;
	for (int i = 23; i >= 8; i--, v >>= 4)
		line[i] = "0123456789abcdef"[v & 15];
	ssize_t n = write(2, line, sizeof(line) - 1);
	(void)n;
	/* SA_RESETHAND restored the default action: returning re-runs the
	 * faulting access, which now kills the process with SIGSEGV. */
}
#endif

static _Noreturn void overflow_child(void)
{
	struct rg_pool_config cfg = {.object_size = RG__CORO_STACK_SIZE_DEFAULT,
				     .initial = 1,
				     .guard_pages = 1};
	struct rg_pool *pool = rg_pool_create(&cfg, NULL);
	struct rg__coro_sched sched;
	if (!pool || rg__coro_sched_init(&sched, pool) < 0)
		_exit(3);
	/* LIFO: the coroutine will run on this very object. */
	char *stack = rg_pool_get(pool);
	rg_pool_put(pool, stack);
	fprintf(stderr, "guard=%p\n", (void *)(stack - sysconf(_SC_PAGESIZE)));
#ifndef RG_ASAN
	/* The handler cannot run on the stack that overflowed. */
	static char altstack[65536];
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	struct sigaction sa = {.sa_sigaction = on_segv,
			       .sa_flags =
				   SA_SIGINFO | SA_ONSTACK | SA_RESETHAND};
	if (sigaltstack(&ss, NULL) < 0 || sigaction(SIGSEGV, &sa, NULL) < 0)
		_exit(4);
#endif
	rg__coro_start(&sched, overflow_fn, NULL);
	_exit(0);
}

static void overflow_hits_guard_page(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		close(fds[1]);
		overflow_child();
	}
	close(fds[1]);
	char out[8192], spill[4096];
	size_t len = 0;
	for (;;) {
		bool full = len == sizeof(out) - 1;
		ssize_t n =
		    full ? read(fds[0], spill, sizeof(spill))
			 : read(fds[0], out + len, sizeof(out) - 1 - len);
		if (n <= 0)
			break;
		if (!full)
			len += (size_t)n;
	}
	out[len] = '\0';
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);

	/* The faulting address must lie in the guard page below the stack:
	 * reported by our handler, or by ASan's (on its own alternate
	 * stack), which then exits non-zero instead of re-raising. */
	const char *g = strstr(out, "guard=");
	const char *f = strstr(out, "fault=");
#ifndef RG_ASAN
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV || !f)
		fail_msg("child status %#x, output:\n%s", status, out);
	f += strlen("fault=");
#else
	if (!f && (f = strstr(out, "stack-overflow on address ")))
		f += strlen("stack-overflow on address ");
	bool died = WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
	bool reported = WIFEXITED(status) && WEXITSTATUS(status) != 0 && f;
	if (!died && !reported)
		fail_msg("child status %#x, output:\n%s", status, out);
#endif
	assert_non_null(g);
	if (f) {
		uintptr_t guard = (uintptr_t)strtoull(g + 6, NULL, 16);
		uintptr_t fault = (uintptr_t)strtoull(f, NULL, 16);
		uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
		if (fault < guard || fault >= guard + page)
			fail_msg("fault at %#lx, guard page at %#lx",
				 (unsigned long)fault, (unsigned long)guard);
	}
}

/* --- stacks reused many times (ASan: no stale redzones) ----------------- */

#define REUSE_STACKS 4
#define REUSE_RUNS 10000
#define REUSE_MAX_DEPTH 23

struct deep {
	struct rg__coro *self;
	unsigned depth;
	bool yield;
	unsigned long sum;
};

static unsigned long dig(struct deep *d, unsigned n);

/* Two frame shapes taking turns, and a depth that changes from one
 * occupant of a stack to the next: each one's locals lie where the
 * previous one had redzones, which ASan would report if any were left
 * poisoned. */
__attribute__((noinline)) static unsigned long dig_wide(struct deep *d,
							unsigned n)
{
	char buf[200];
	memset(buf, (int)n, sizeof(buf));
	unsigned long s = dig(d, n - 1);
	for (size_t i = 0; i < sizeof(buf); i += 37)
		s += (unsigned char)buf[i];
	return s;
}

__attribute__((noinline)) static unsigned long dig_narrow(struct deep *d,
							  unsigned n)
{
	struct {
		uint32_t a[5];
		char tag[13];
	} loc;
	memset(&loc, (int)n + 1, sizeof(loc));
	unsigned long s = dig(d, n - 1);
	return s + loc.a[n % 5] % 1000 + (unsigned char)loc.tag[n % 13];
}

static unsigned long dig(struct deep *d, unsigned n)
{
	if (n == 0) {
		if (d->yield)
			rg__coro_yield(); /* suspended at the deepest point */
		return 1;
	}
	return n % 2 ? dig_wide(d, n) : dig_narrow(d, n);
}

static void deep_fn(void *arg)
{
	struct deep *d = arg;
	d->self = rg__coro_current();
	d->sum = dig(d, d->depth);
}

static void stacks_reused_10000_times(void **state)
{
	(void)state;
	struct rg_pool *pool =
	    stack_pool(RG__CORO_STACK_SIZE_DEFAULT, REUSE_STACKS);
	struct rg__coro_sched sched;
	assert_int_equal(rg__coro_sched_init(&sched, pool), 0);

	unsigned long want[REUSE_MAX_DEPTH + 1];
	for (unsigned n = 0; n <= REUSE_MAX_DEPTH; n++) {
		struct deep d = {.depth = n};
		want[n] = dig(&d, n);
	}
	for (int run = 0; run < REUSE_RUNS; run += REUSE_STACKS) {
		struct deep d[REUSE_STACKS];
		for (int k = 0; k < REUSE_STACKS; k++) {
			d[k] = (struct deep){
			    .depth = (unsigned)(run * 7 + k * 5) %
				     (REUSE_MAX_DEPTH + 1),
			    .yield = true,
			};
			assert_int_equal(rg__coro_start(&sched, deep_fn, &d[k]),
					 0);
		}
		assert_int_equal(pool_in_use(pool), REUSE_STACKS);
		/* Finish them in an order that changes from run to run, so
		 * the LIFO pool deals the stacks out differently. */
		for (int k = 0; k < REUSE_STACKS; k++) {
			int i = (k + run / REUSE_STACKS) % REUSE_STACKS;
			assert_false(rg__coro_resume(d[i].self));
			assert_int_equal(d[i].sum, want[d[i].depth]);
		}
	}
	struct rg_pool_stats st;
	rg_pool_stats(pool, &st);
	assert_int_equal(st.gets, REUSE_RUNS);
	assert_int_equal(st.in_use, 0);
	assert_int_equal(sched.started, REUSE_RUNS);
	rg_pool_destroy(pool);
}

/* --- longjmp inside a coroutine ------------------------------------------ */

/* A handler may longjmp out of deep frames (libraries report errors that
 * way). ASan then unpoisons the redzones of the frames it skipped, from the
 * stack pointer to the bottom of the stack it believes current: without
 * the fiber annotations it sees a stack pointer outside the thread's stack,
 * declines with "False positive error reports may follow" and leaves them
 * poisoned. The test looks for any such report. */
static jmp_buf unwind_to;
static volatile bool jump = true;
static volatile unsigned sink;
static int sorted[64];
static struct rg__coro *lj_self;

__attribute__((noinline)) static void bail_out(int n)
{
	char small[40], big[300];
	memset(small, n, sizeof(small));
	memset(big, n + 1, sizeof(big));
	if (n == 0) {
		if (jump)
			longjmp(unwind_to, 1);
		return;
	}
	bail_out(n - 1);
	sink += (unsigned)small[n % 40] + (unsigned)big[n % 300];
}

static int int_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void longjmp_fn(void *arg)
{
	(void)arg;
	lj_self = rg__coro_current();
	if (!setjmp(unwind_to))
		bail_out(24);
	rg__coro_yield();
	/* Frames of other shapes over the region the skipped ones used. */
	int v[64];
	for (int i = 0; i < 64; i++)
		v[i] = (i * 37) % 64;
	qsort(v, 64, sizeof(v[0]), int_cmp);
	char text[128];
	snprintf(text, sizeof(text), "%d..%d %.2f", v[0], v[63], 0.5);
	memcpy(sorted, v, sizeof(v));
	sink += (unsigned)text[0];
}

static void longjmp_out_of_deep_frames(void **state)
{
	(void)state;
	struct rg_pool *pool = stack_pool(RG__CORO_STACK_SIZE_DEFAULT, 2);
	struct rg__coro_sched sched;
	assert_int_equal(rg__coro_sched_init(&sched, pool), 0);
	int err[2];
	assert_int_equal(pipe(err), 0);
	fflush(stderr);
	int saved = dup(2);
	assert_true(saved >= 0);
	dup2(err[1], 2);

	bool all_sorted = true;
	for (int i = 0; i < 100; i++) {
		memset(sorted, 0, sizeof(sorted));
		assert_int_equal(rg__coro_start(&sched, longjmp_fn, NULL), 0);
		assert_false(rg__coro_resume(lj_self));
		all_sorted = all_sorted && sorted[0] == 0 && sorted[63] == 63;
	}

	dup2(saved, 2);
	close(saved);
	close(err[1]);
	char out[4096];
	ssize_t n = read(err[0], out, sizeof(out) - 1);
	close(err[0]);
	out[n > 0 ? n : 0] = '\0';
	if (n > 0)
		fail_msg("stderr during the test:\n%s", out);
	assert_true(all_sorted);
	assert_int_equal(pool_in_use(pool), 0);
	rg_pool_destroy(pool);
}

static void sched_init_rejects_small_stacks(void **state)
{
	(void)state;
	struct rg_pool *pool = stack_pool(4096, 1);
	struct rg__coro_sched sched;
	assert_int_equal(rg__coro_sched_init(&sched, pool), -EINVAL);
	rg_pool_destroy(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ping_pong_order),
	    cmocka_unit_test(data_passing),
	    cmocka_unit_test(many_interleaved),
	    cmocka_unit_test(stack_returned_to_pool),
	    cmocka_unit_test(registers_preserved),
	    cmocka_unit_test(switch_keeps_callee_saved),
	    cmocka_unit_test(fp_control_preserved),
	    cmocka_unit_test(stack_alignment),
	    cmocka_unit_test(nested_start),
	    cmocka_unit_test(overflow_hits_guard_page),
	    cmocka_unit_test(stacks_reused_10000_times),
	    cmocka_unit_test(longjmp_out_of_deep_frames),
	    cmocka_unit_test(sched_init_rejects_small_stacks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
