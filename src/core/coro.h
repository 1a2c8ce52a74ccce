/* coro.h: stackful coroutines that run request handlers (internal API).
 *
 * A handler is plain synchronous C on a stack of its own. To wait for I/O it
 * stores rg__coro_current() in the pending operation and calls
 * rg__coro_yield(); the event loop, when the operation completes, calls
 * rg__coro_resume() on that pointer and the handler carries on from its
 * yield. One scheduler per worker thread; nothing here is thread-safe.
 *
 * Memory: a coroutine is one object of the scheduler's stack pool, a pool
 * created with guard_pages=1 so that an overflow faults on the PROT_NONE page
 * below the stack instead of corrupting the neighbour. The struct rg__coro
 * sits at the top of that object and the stack grows down from just below it:
 * starting a coroutine allocates nothing else. The object is bound to the
 * coroutine only while its function runs; when the function returns, the
 * object goes back to the pool and the struct rg__coro * is dead. */
#ifndef RG_CORE_CORO_H
#define RG_CORE_CORO_H

#include "ringlet.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Default coroutine_stack_size (the pool's object_size, struct rg__coro
 * included). bench/coro, x86-64, glibc 2.36: a JSON handler with a 4 KiB
 * body buffer peaks at 7.9 KiB of stack; snprintf (even "%f" of 1e308),
 * strtod, qsort, strftime at 2.3-5.1 KiB; glibc's regexec at 19.6 KiB on a
 * pattern's first match (24.2 KiB under ASan). 64 KiB leaves 3x the worst.
 * A suspended coroutine holds only the pages it touched (4-8 KiB above)
 * whatever the size, but a pooled stack keeps every page it ever touched,
 * and its whole mapping is charged to the worker's memory account: the size
 * caps both, and 64 KiB + guard is a quarter of a 256 KiB stack's. */
#define RG__CORO_STACK_SIZE_DEFAULT 65536
/* Smaller stack pools are refused by rg__coro_sched_init. */
#define RG__CORO_STACK_SIZE_MIN 16384

/* A coroutine; opaque. Lives at the top of its own stack. */
struct rg__coro;

/* One per worker; a plain struct so the worker can embed it. */
struct rg__coro_sched {
	struct rg_pool *stacks; /* guard_pages=1, object_size = stack size */
	uint64_t live;		/* started and not yet finished */
	uint64_t started;	/* successful rg__coro_start calls, ever */
};

/* Binds `sched` to `stacks`, a pool created with guard_pages=1 whose
 * object_size is the stack size. The pool stays the caller's: destroy it
 * after the last coroutine finished (destroying it earlier frees the stacks
 * of suspended coroutines without running them any further).
 * Returns 0, or -EINVAL if the objects are smaller than
 * RG__CORO_STACK_SIZE_MIN. */
int rg__coro_sched_init(struct rg__coro_sched *sched, struct rg_pool *stacks);

/* Runs fn(arg) on a new coroutine at once, until it yields or returns.
 * Returns 0 either way (a coroutine that yielded has stored its pointer
 * wherever it waits), or -ENOMEM if the pool has no stack left: fn was not
 * called (the pool counts the failure). May be called from a coroutine: the
 * new one then yields back to it, not to the loop. */
int rg__coro_start(struct rg__coro_sched *sched, void (*fn)(void *arg),
		   void *arg);

/* Continues a suspended coroutine until it yields again or its function
 * returns. Returns true if it is suspended again, false if it finished: its
 * stack is back in the pool and `coro` must not be used any more. */
bool rg__coro_resume(struct rg__coro *coro);

/* From inside a coroutine: suspends it and returns to whoever resumed (or
 * started) it; returns when it is resumed. Must not be called outside a
 * coroutine. */
void rg__coro_yield(void);

/* The running coroutine, or NULL outside any. */
struct rg__coro *rg__coro_current(void);

/* Fills `r` with the coroutines of `sched`: the server's default runner. */
void rg__coro_runner(struct rg_runner *r, struct rg__coro_sched *sched);

/* The coroutine's user pointer, for the request it serves: `arg` at start,
 * then whatever rg__coro_set_data stored. */
void *rg__coro_data(const struct rg__coro *coro);
void rg__coro_set_data(struct rg__coro *coro, void *data);

/* ------------------------------------------------------------------------
 * Context switch (coro_switch.c), for coro.c, and for the test and bench
 * that probe the switch alone.
 *
 * x86-64 and aarch64 have hand-written switches; RG_CORO_UCONTEXT (or any
 * other architecture) selects the portable makecontext/swapcontext one,
 * which is slower by a system call per switch (it saves the signal mask).
 * ------------------------------------------------------------------------ */

#if (defined(__x86_64__) || defined(__aarch64__)) && !defined(RG_CORO_UCONTEXT)
#define RG__CORO_ASM 1
struct rg__coro_ctx {
	void *sp; /* the callee-saved registers are pushed below it */
};
#else
#include <ucontext.h>
struct rg__coro_ctx {
	ucontext_t uc;
	void (*entry)(void *arg);
	void *arg;
};
#endif

#define RG__HIDDEN __attribute__((visibility("hidden")))

/* Prepares `ctx` so that switching to it calls entry(arg) on the stack
 * [stack, stack + size); `stack + size` must be 16-byte aligned. `entry`
 * must never return: it ends by switching away for good. */
RG__HIDDEN void rg__coro_ctx_make(struct rg__coro_ctx *ctx, void *stack,
				  size_t size, void (*entry)(void *arg),
				  void *arg);

/* Saves the running context in `from` and continues `to`; returns when
 * something switches back to `from`. */
RG__HIDDEN void rg__coro_ctx_switch(struct rg__coro_ctx *from,
				    const struct rg__coro_ctx *to);

#endif /* RG_CORE_CORO_H */
