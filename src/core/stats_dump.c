/* stats_dump.c: the memory dump, like HAProxy's `show pools`: every pool
 * and slab class of every worker with what it maps, hands out and has
 * ever touched, and the arena bytes per request, as JSON
 * (rg_server_memory_json, GET /stats?detail=memory) and as lines of text
 * from the board (rg__stats_board_dump: the master's SIGUSR2). Both read
 * the figures each worker last published; both write through a buffer
 * the caller gives (no heap). */
#include "core/server.h"
#include "core/stats.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ULL(v) ((unsigned long long)(v))

static const char *const pool_names[] = {"connections", "coroutine_stacks",
					 "arena_blocks"};

static const struct rg_pool_stats *pool_of(const struct rg_server_stats *st,
					   unsigned i)
{
	return i == 0	? &st->connections
	       : i == 1 ? &st->coroutines
			: &st->arena_blocks;
}

static unsigned nclasses(const struct rg_server_stats *st)
{
	return st->slab.nclasses < RG_SLAB_MAX_CLASSES ? st->slab.nclasses
						       : RG_SLAB_MAX_CLASSES;
}

/* The pools' and classes' touched bounds, summed. */
static uint64_t touched_bound(const struct rg_server_stats *st)
{
	uint64_t t = 0;
	for (unsigned i = 0; i < 3; i++)
		t += rg__pool_touched_bound(pool_of(st, i));
	for (unsigned i = 0; i < nclasses(st); i++)
		t += rg__pool_touched_bound(&st->slab.classes[i].pool);
	return t;
}

/* The upper bound of the arena bucket where a share q of the requests is
 * reached (bucket i: at most 256 << i bytes), or 0 when there are none or
 * it is the last bucket (above every bound). */
static uint64_t arena_quantile(const struct rg_server_stats *st, double q)
{
	uint64_t count = 0, sum = 0;
	for (unsigned i = 0; i < RG_STATS_ARENA_BUCKETS; i++)
		count += st->arena_buckets[i];
	if (!count)
		return 0;
	for (unsigned i = 0; i < RG_STATS_ARENA_BUCKETS - 1; i++) {
		sum += st->arena_buckets[i];
		if ((double)sum >= q * (double)count)
			return 256ull << i;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * JSON
 * ------------------------------------------------------------------------ */

static void put_pool_fields(struct rg__out *o, const struct rg_pool_stats *p)
{
	rg__put(o,
		"\"object_size\":%llu,\"mapped\":%llu,\"max\":%llu,"
		"\"in_use\":%llu,\"high_water\":%llu,\"gets\":%llu,"
		"\"failures\":%llu,\"bytes_reserved\":%llu,"
		"\"bytes_touched_bound\":%llu",
		ULL(p->object_size), ULL(p->capacity), ULL(p->max),
		ULL(p->in_use), ULL(p->high_water), ULL(p->gets),
		ULL(p->failures), ULL(p->bytes_reserved),
		ULL(rg__pool_touched_bound(p)));
}

static void put_quantile(struct rg__out *o, const char *name, uint64_t v)
{
	if (v)
		rg__put(o, ",\"%s\":%llu", name, ULL(v));
	else
		rg__put(o, ",\"%s\":null", name);
}

static void put_worker(struct rg__out *o, unsigned slot, int32_t pid,
		       const struct rg_server_stats *st, bool first)
{
	uint64_t tier[RG__TIERS], touched = touched_bound(st);
	rg__stats_tiers(st, tier);
	rg__put(o,
		"%s{\"slot\":%u,\"pid\":%d,\"rss\":%llu,\"peak_rss\":%llu,"
		"\"reserved\":%llu,\"peak_reserved\":%llu,\"limit\":%llu,"
		"\"limit_failures\":%llu,\"tiers\":{",
		first ? "" : ",", slot, (int)pid, ULL(st->rss_bytes),
		ULL(st->peak_rss_bytes), ULL(st->memory.reserved),
		ULL(st->memory.peak), ULL(st->memory.limit),
		ULL(st->memory.failures));
	for (unsigned t = 0; t < RG__TIERS; t++)
		rg__put(o, "%s\"%s\":%llu", t ? "," : "", rg__tier_names[t],
			ULL(tier[t]));
	rg__put(o,
		"},\"bytes_touched_bound\":%llu,"
		"\"rss_outside_pools_at_least\":%llu,\"pools\":[",
		ULL(touched),
		ULL(st->rss_bytes > touched ? st->rss_bytes - touched : 0));
	for (unsigned i = 0; i < 3; i++) {
		rg__put(o, "%s{\"name\":\"%s\",", i ? "," : "", pool_names[i]);
		put_pool_fields(o, pool_of(st, i));
		rg__put(o, "}");
	}
	rg__put(o, "],\"slab\":{\"too_large\":%llu,\"classes\":[",
		ULL(st->slab.too_large));
	for (unsigned i = 0; i < nclasses(st); i++) {
		const struct rg_slab_class_stats *c = &st->slab.classes[i];
		rg__put(o, "%s{\"size\":%llu,", i ? "," : "", ULL(c->size));
		put_pool_fields(o, &c->pool);
		rg__put(o,
			",\"allocs\":%llu,\"bytes_asked\":%llu,"
			"\"bytes_given\":%llu,\"fragmentation\":%.4f}",
			ULL(c->allocs), ULL(c->bytes_asked),
			ULL(c->bytes_given),
			c->bytes_given ? 1.0 - (double)c->bytes_asked /
						   (double)c->bytes_given
				       : 0.0);
	}
	const struct rg_arena_stats *a = &st->arena;
	rg__put(o,
		"]},\"arena\":{\"live\":%llu,\"requests\":%llu,"
		"\"heap_spills\":%llu,\"heap_spill_bytes\":%llu,"
		"\"failures\":%llu,\"bytes_per_request\":{\"buckets\":[",
		ULL(a->live), ULL(a->lifecycles), ULL(a->spills),
		ULL(a->spill_bytes), ULL(a->failures));
	uint64_t count = 0;
	for (unsigned i = 0; i < RG_STATS_ARENA_BUCKETS; i++) {
		count += st->arena_buckets[i];
		if (i < RG_STATS_ARENA_BUCKETS - 1)
			rg__put(o, "%s{\"le\":%llu,\"count\":%llu}",
				i ? "," : "", 256ull << i,
				ULL(st->arena_buckets[i]));
		else
			rg__put(o, ",{\"le\":null,\"count\":%llu}",
				ULL(st->arena_buckets[i]));
	}
	rg__put(o, "],\"count\":%llu,\"sum\":%llu", ULL(count),
		ULL(st->arena_bytes));
	put_quantile(o, "p50_at_most", arena_quantile(st, 0.50));
	put_quantile(o, "p99_at_most", arena_quantile(st, 0.99));
	rg__put(o, "}}}");
}

void rg__memory_json(const struct rg_server *s, struct rg__out *o)
{
	struct rg_server_stats st;
	struct rg_stats_board *b = s->config.stats_board;
	rg__put(o, "{\"detail\":\"memory\",\"workers\":[");
	unsigned n = 0;
	if (!b) {
		rg_server_stats(s, &st);
		put_worker(o, 0, (int32_t)getpid(), &st, true);
		n = 1;
	} else {
		rg__stats_publish((struct rg__worker *)&s->w);
		for (unsigned i = 0; i < rg__stats_board_slots(b); i++) {
			int32_t pid = rg__stats_board_read(b, i, &st);
			if (pid)
				put_worker(o, i, pid, &st, n++ == 0);
		}
	}
	rg__put(o, "],\"worker_count\":%u}", n);
}

/* ------------------------------------------------------------------------
 * Text, a line at a time
 * ------------------------------------------------------------------------ */

struct dump {
	char buf[1024];
	struct rg__out o;
	void (*line)(void *arg, const char *text);
	void *arg;
};

static void dump_begin(struct dump *d)
{
	d->o = (struct rg__out){.buf = d->buf, .cap = sizeof(d->buf)};
	d->buf[0] = '\0';
}

static void dump_end(struct dump *d)
{
	d->line(d->arg, d->buf);
}

static void dump_pool(struct dump *d, unsigned slot, const char *what,
		      const struct rg_pool_stats *p)
{
	rg__put(&d->o,
		"worker %u %s: object %llu B, mapped %llu of max %llu, in use "
		"%llu, high water %llu, gets %llu, failures %llu, reserved "
		"%llu B, touched at most %llu B",
		slot, what, ULL(p->object_size), ULL(p->capacity), ULL(p->max),
		ULL(p->in_use), ULL(p->high_water), ULL(p->gets),
		ULL(p->failures), ULL(p->bytes_reserved),
		ULL(rg__pool_touched_bound(p)));
}

static void dump_worker(struct dump *d, unsigned slot, int32_t pid,
			const struct rg_server_stats *st)
{
	uint64_t tier[RG__TIERS], touched = touched_bound(st);
	rg__stats_tiers(st, tier);
	dump_begin(d);
	rg__put(&d->o,
		"worker %u pid %d: rss %llu B (peak %llu), reserved %llu B "
		"(peak %llu, limit %llu, refusals %llu): arena %llu, pool "
		"%llu, slab %llu, other %llu; pools touched at most %llu B, "
		"rss outside the pools at least %llu B",
		slot, (int)pid, ULL(st->rss_bytes), ULL(st->peak_rss_bytes),
		ULL(st->memory.reserved), ULL(st->memory.peak),
		ULL(st->memory.limit), ULL(st->memory.failures),
		ULL(tier[RG__TIER_ARENA]), ULL(tier[RG__TIER_POOL]),
		ULL(tier[RG__TIER_SLAB]), ULL(tier[RG__TIER_OTHER]),
		ULL(touched),
		ULL(st->rss_bytes > touched ? st->rss_bytes - touched : 0));
	dump_end(d);
	for (unsigned i = 0; i < 3; i++) {
		char what[64];
		snprintf(what, sizeof(what), "pool %s", pool_names[i]);
		dump_begin(d);
		dump_pool(d, slot, what, pool_of(st, i));
		dump_end(d);
	}
	for (unsigned i = 0; i < nclasses(st); i++) {
		const struct rg_slab_class_stats *c = &st->slab.classes[i];
		char what[64];
		snprintf(what, sizeof(what), "slab %llu", ULL(c->size));
		dump_begin(d);
		dump_pool(d, slot, what, &c->pool);
		rg__put(&d->o, ", asked %llu B of %llu B given",
			ULL(c->bytes_asked), ULL(c->bytes_given));
		dump_end(d);
	}
	dump_begin(d);
	uint64_t count = 0;
	for (unsigned i = 0; i < RG_STATS_ARENA_BUCKETS; i++)
		count += st->arena_buckets[i];
	rg__put(&d->o,
		"worker %u arena bytes per request: %llu requests, %llu B in "
		"all, %llu heap spills (%llu B), p50 <= %llu B, p99 <= %llu B "
		"(0: none or above 1 MiB);",
		slot, ULL(count), ULL(st->arena_bytes), ULL(st->arena.spills),
		ULL(st->arena.spill_bytes), ULL(arena_quantile(st, 0.50)),
		ULL(arena_quantile(st, 0.99)));
	for (unsigned i = 0; i < RG_STATS_ARENA_BUCKETS; i++) {
		if (i < RG_STATS_ARENA_BUCKETS - 1)
			rg__put(&d->o, " <=%llu:%llu", 256ull << i,
				ULL(st->arena_buckets[i]));
		else
			rg__put(&d->o, " more:%llu", ULL(st->arena_buckets[i]));
	}
	dump_end(d);
}

void rg__stats_board_dump(const struct rg_stats_board *b,
			  void (*line)(void *arg, const char *text), void *arg)
{
	struct dump d = {.line = line, .arg = arg};
	/* Two passes: the summary first, as an operator reads it. */
	struct rg_server_stats st;
	uint64_t n = 0, rss = 0, reserved = 0, tier[RG__TIERS] = {0};
	for (unsigned i = 0; i < rg__stats_board_slots(b); i++) {
		if (!rg__stats_board_read(b, i, &st))
			continue;
		uint64_t t[RG__TIERS];
		rg__stats_tiers(&st, t);
		n++;
		rss += st.rss_bytes;
		reserved += st.memory.reserved;
		for (unsigned k = 0; k < RG__TIERS; k++)
			tier[k] += t[k];
	}
	dump_begin(&d);
	rg__put(&d.o,
		"memory dump: %llu worker%s, rss %llu B, reserved %llu B: "
		"arena %llu, pool %llu, slab %llu, other %llu (as each worker "
		"last published, at most about a second ago)",
		ULL(n), n == 1 ? "" : "s", ULL(rss), ULL(reserved),
		ULL(tier[RG__TIER_ARENA]), ULL(tier[RG__TIER_POOL]),
		ULL(tier[RG__TIER_SLAB]), ULL(tier[RG__TIER_OTHER]));
	dump_end(&d);
	for (unsigned i = 0; i < rg__stats_board_slots(b); i++) {
		int32_t pid = rg__stats_board_read(b, i, &st);
		if (pid)
			dump_worker(&d, i, pid, &st);
	}
	dump_begin(&d);
	rg__put(&d.o, "memory dump: end");
	dump_end(&d);
}
