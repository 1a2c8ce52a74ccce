/* timer.h: the worker's timers, an intrusive pairing heap keyed by deadline
 * (milliseconds of CLOCK_MONOTONIC). Adding is O(1), removing and firing
 * O(log n) amortised; nothing is allocated: the node lives in its owner (a
 * connection, a sleeping handler's stack). */
#ifndef RG_CORE_TIMER_H
#define RG_CORE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct rg__timer;
typedef void rg__timer_fn(struct rg__timer *t);

struct rg__timer {
	uint64_t at; /* deadline; 0 while not armed */
	struct rg__timer *child, *sibling;
	struct rg__timer *prev; /* parent when first child, else left sibling */
	rg__timer_fn *fire;
};

struct rg__timers {
	struct rg__timer *root;
	uint64_t now; /* the loop's clock, read once per iteration */
};

/* Milliseconds of CLOCK_MONOTONIC, never 0. */
uint64_t rg__clock_ms(void);

/* Nanoseconds of CLOCK_MONOTONIC, and the rg__clock_ms of that instant. */
uint64_t rg__clock_ns(void);
static inline uint64_t rg__clock_ms_at(uint64_t ns)
{
	return ns / 1000000 + 1;
}

/* Arms `t` to call t->fire(t) once `at` has passed. `t` must not be armed. */
void rg__timer_add(struct rg__timers *ts, struct rg__timer *t, uint64_t at);

/* Disarms `t`; harmless when it is not armed. */
void rg__timer_del(struct rg__timers *ts, struct rg__timer *t);

static inline bool rg__timer_armed(const struct rg__timer *t)
{
	return t->at != 0;
}

/* Fires, earliest first, the timers due at `until` (ts->now, or an earlier
 * reading of it), at most `max` of them; true if some due ones are left. A
 * fire function may add and delete timers, itself included. */
bool rg__timers_run(struct rg__timers *ts, uint64_t until, unsigned max);

/* Milliseconds from ts->now to the earliest deadline, or -1 if none. */
int rg__timers_next(const struct rg__timers *ts);

#endif /* RG_CORE_TIMER_H */
