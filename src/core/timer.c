/* timer.c: the pairing heap behind the worker's timers (timer.h). */
#include "core/timer.h"

#include <stddef.h>
#include <time.h>

uint64_t rg__clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

uint64_t rg__clock_ms(void)
{
	return rg__clock_ms_at(rg__clock_ns());
}

/* Two heaps (roots, either may be NULL) into one; returns the root. */
static struct rg__timer *meld(struct rg__timer *a, struct rg__timer *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	if (b->at < a->at) {
		struct rg__timer *t = a;
		a = b;
		b = t;
	}
	b->sibling = a->child;
	if (a->child)
		a->child->prev = b;
	b->prev = a;
	a->child = b;
	a->sibling = NULL;
	a->prev = NULL;
	return a;
}

/* The children list of a removed root, melded pairwise left to right,
 * then right to left: the step that gives the amortised bound. */
static struct rg__timer *merge_pairs(struct rg__timer *first)
{
	struct rg__timer *pairs = NULL; /* melded pairs, in reverse order */
	while (first) {
		struct rg__timer *a = first, *b = a->sibling;
		first = b ? b->sibling : NULL;
		a->sibling = a->prev = NULL;
		if (b)
			b->sibling = b->prev = NULL;
		struct rg__timer *m = meld(a, b);
		m->sibling = pairs;
		pairs = m;
	}
	struct rg__timer *root = NULL;
	while (pairs) {
		struct rg__timer *next = pairs->sibling;
		pairs->sibling = NULL;
		root = meld(root, pairs);
		pairs = next;
	}
	return root;
}

void rg__timer_add(struct rg__timers *ts, struct rg__timer *t, uint64_t at)
{
	t->at = at ? at : 1;
	t->child = t->sibling = t->prev = NULL;
	ts->root = meld(ts->root, t);
}

void rg__timer_del(struct rg__timers *ts, struct rg__timer *t)
{
	if (!t->at)
		return;
	t->at = 0;
	if (t == ts->root) {
		ts->root = merge_pairs(t->child);
		return;
	}
	/* Cut t's subtree out of its parent's list of children. */
	if (t->prev->child == t)
		t->prev->child = t->sibling;
	else
		t->prev->sibling = t->sibling;
	if (t->sibling)
		t->sibling->prev = t->prev;
	t->sibling = t->prev = NULL;
	struct rg__timer *sub = merge_pairs(t->child);
	t->child = NULL;
	ts->root = meld(ts->root, sub);
}

bool rg__timers_run(struct rg__timers *ts, uint64_t until, unsigned max)
{
	for (; ts->root && ts->root->at <= until; max--) {
		if (!max)
			return true;
		struct rg__timer *t = ts->root;
		rg__timer_del(ts, t);
		t->fire(t);
	}
	return false;
}

int rg__timers_next(const struct rg__timers *ts)
{
	if (!ts->root)
		return -1;
	if (ts->root->at <= ts->now)
		return 0;
	uint64_t d = ts->root->at - ts->now;
	return d > 3600000 ? 3600000 : (int)d;
}
