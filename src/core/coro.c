/* coro.c: coroutines on pooled, guarded stacks: start, yield, resume, and
 * the bookkeeping ASan needs to follow a thread from stack to stack. */
#include "core/coro.h"
#include "mem/poison.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

struct rg__coro {
	struct rg__coro_ctx ctx;    /* its registers while it is suspended */
	struct rg__coro_ctx caller; /* its resumer's while it runs */
	struct rg__coro_sched *sched;
	void (*fn)(void *arg);
	void *arg;
	void *data;
	char *stack; /* the pool object: lowest stack address */
	size_t stack_size;
	bool running; /* resumed and not yet yielded or finished */
	bool done;    /* fn returned; the resumer frees the stack */
#ifdef RG_ASAN
	const void *caller_bottom; /* the resumer's stack, for switching back */
	size_t caller_size;
#endif
};

/* Room kept for the struct at the top of each stack object: a multiple of
 * 64 so the stack top stays 16-byte aligned and the struct has its own
 * cache line(s). */
#define CORO_ROOM ((sizeof(struct rg__coro) + 63) & ~(size_t)63)

/* The running coroutine of this thread. initial-exec: a direct %fs-relative
 * access instead of a __tls_get_addr call; the price is that libringlet.so
 * cannot be dlopen'ed late by a program that used up its static TLS. */
static _Thread_local struct rg__coro *current
    __attribute__((tls_model("initial-exec")));

/* ASan tracks the stack each thread runs on: on longjmp and other no-return
 * calls it unpoisons that stack below the stack pointer, it keeps fake
 * frames per stack (detect_stack_use_after_return), and its reports use the
 * bounds. So each switch tells it where the thread goes (start) and
 * confirms the arrival (finish), which also says where it came from: the
 * way back for rg__coro_yield. Leaving a finished coroutine with a NULL
 * fake-stack slot frees its fake frames. Without this, a longjmp inside a
 * coroutine leaves redzones poisoned ("False positive error reports may
 * follow"); test_coro checks it. */
#ifdef RG_ASAN
#define asan_start(save, bottom, size)                                         \
	__sanitizer_start_switch_fiber(save, bottom, size)
#define asan_finish(save, bottom, size)                                        \
	__sanitizer_finish_switch_fiber(save, bottom, size)
#else
#define asan_start(save, bottom, size) ((void)(save))
#define asan_finish(save, bottom, size) ((void)(save))
#endif

/* A coroutine's first frame. */
static _Noreturn void coro_main(void *arg)
{
	struct rg__coro *coro = arg;
	asan_finish(NULL, &coro->caller_bottom, &coro->caller_size);
	coro->fn(coro->arg);
	coro->done = true;
	asan_start(NULL, coro->caller_bottom, coro->caller_size);
	rg__coro_ctx_switch(&coro->ctx, &coro->caller);
	abort(); /* nothing switches back to a finished coroutine */
}

int rg__coro_sched_init(struct rg__coro_sched *sched, struct rg_pool *stacks)
{
	if (rg_pool_object_size(stacks) < RG__CORO_STACK_SIZE_MIN)
		return -EINVAL;
	*sched = (struct rg__coro_sched){.stacks = stacks};
	return 0;
}

int rg__coro_start(struct rg__coro_sched *sched, void (*fn)(void *arg),
		   void *arg)
{
	char *stack = rg_pool_get(sched->stacks);
	if (!stack)
		return -ENOMEM;
	size_t size = rg_pool_object_size(sched->stacks) - CORO_ROOM;
	struct rg__coro *coro = (struct rg__coro *)(stack + size);
	*coro = (struct rg__coro){
	    .sched = sched,
	    .fn = fn,
	    .arg = arg,
	    .data = arg,
	    .stack = stack,
	    .stack_size = size,
	};
	rg__coro_ctx_make(&coro->ctx, stack, size, coro_main, coro);
	sched->live++;
	sched->started++;
	rg__coro_resume(coro);
	return 0;
}

bool rg__coro_resume(struct rg__coro *coro)
{
	assert(!coro->running && !coro->done);
	struct rg__coro *parent = current; /* NULL: the loop */
	coro->running = true;
	current = coro;

	void *fake_stack = NULL;
	asan_start(&fake_stack, coro->stack, coro->stack_size);
	rg__coro_ctx_switch(&coro->caller, &coro->ctx);
	asan_finish(fake_stack, NULL, NULL);

	current = parent;
	coro->running = false;
	if (!coro->done)
		return true;
	/* Its frames have all returned (or were skipped by a longjmp, which
	 * ASan cleaned up after, knowing the stack). The pool poisons the
	 * whole object now and unpoisons it whole when it hands it out
	 * again: the next coroutine starts from a clean shadow. */
	struct rg__coro_sched *sched = coro->sched;
	sched->live--;
	rg_pool_put(sched->stacks, coro->stack);
	return false;
}

void rg__coro_yield(void)
{
	struct rg__coro *coro = current;
	assert(coro && "rg__coro_yield outside a coroutine");

	void *fake_stack = NULL;
	asan_start(&fake_stack, coro->caller_bottom, coro->caller_size);
	rg__coro_ctx_switch(&coro->ctx, &coro->caller);
	asan_finish(fake_stack, &coro->caller_bottom, &coro->caller_size);
}

struct rg__coro *rg__coro_current(void)
{
	return current;
}

void *rg__coro_data(const struct rg__coro *coro)
{
	return coro->data;
}

void rg__coro_set_data(struct rg__coro *coro, void *data)
{
	coro->data = data;
}

/* --- as the server's runner (rg_runner) ---------------------------------- */

static int runner_start(void *ctx, void (*fn)(void *arg), void *arg)
{
	return rg__coro_start(ctx, fn, arg);
}

static void *runner_self(void *ctx)
{
	(void)ctx;
	return rg__coro_current();
}

static void runner_suspend(void *ctx)
{
	(void)ctx;
	rg__coro_yield();
}

static void runner_resume(void *ctx, void *task)
{
	(void)ctx;
	rg__coro_resume(task);
}

static unsigned long runner_live(void *ctx)
{
	return (unsigned long)((const struct rg__coro_sched *)ctx)->live;
}

void rg__coro_runner(struct rg_runner *r, struct rg__coro_sched *sched)
{
	*r = (struct rg_runner){runner_start,  runner_self, runner_suspend,
				runner_resume, runner_live, sched};
}
