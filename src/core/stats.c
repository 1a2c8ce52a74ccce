/* stats.c: the worker's statistics (rg_server_stats), the shared board
 * where worker processes publish them (a seqlock per slot in an anonymous
 * shared mapping), and their JSON form with the derived figures operators
 * read (/stats), the history the master samples into the board. Their
 * Prometheus form is metrics.c's, the memory dump stats_dump.c's. */
#include "core/server.h"
#include "core/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500 ms, 1, 2.5, 5, 10 s. */
#define MS 1000000ull
const uint64_t rg__duration_bounds_ns[RG_STATS_DURATION_BUCKETS - 1] = {
    MS / 2,    MS,	  5 * MS / 2, 5 * MS,	 10 * MS,
    25 * MS,   50 * MS,	  100 * MS,   250 * MS,	 500 * MS,
    1000 * MS, 2500 * MS, 5000 * MS,  10000 * MS};
#undef MS

/* "VmRSS:    1234 kB" in /proc/self/status, in bytes; 0 if absent. */
static uint64_t status_kb(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	if (!p)
		return 0;
	p += strlen(key);
	while (*p == ' ' || *p == '\t')
		p++;
	uint64_t kb = 0;
	for (; *p >= '0' && *p <= '9'; p++)
		kb = kb * 10 + (uint64_t)(*p - '0');
	return kb * 1024;
}

/* Resident and peak resident set of the process, from /proc; read with
 * plain syscalls into a stack buffer (stdio would call malloc, and this
 * runs once a second in a worker that must not). */
static void read_rss(uint64_t *rss, uint64_t *peak)
{
	*rss = *peak = 0;
	char text[4096];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(text) - 1 &&
	       (n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	text[len] = '\0';
	*rss = status_kb(text, "\nVmRSS:");
	*peak = status_kb(text, "\nVmHWM:");
}

void rg_server_stats(const struct rg_server *s, struct rg_server_stats *out)
{
	const struct rg__worker *w = &s->w;
	*out = w->stats;
	out->memory = s->account;
	read_rss(&out->rss_bytes, &out->peak_rss_bytes);
	if (w->conns)
		rg_pool_stats(w->conns, &out->connections);
	if (w->stacks)
		rg_pool_stats(w->stacks, &out->coroutines);
	if (w->blocks)
		rg_pool_stats(w->blocks, &out->arena_blocks);
	if (w->slab)
		rg_slab_stats(w->slab, &out->slab);
	const struct rg_stats_extra *x = s->config.stats_extra;
	memset(out->extra, 0, sizeof(out->extra));
	if (x)
		x->read(x->arg, out->extra);
}

/* ------------------------------------------------------------------------
 * The shared board
 * ------------------------------------------------------------------------ */

struct rg__stats_slot {
	_Atomic uint64_t seq; /* odd while its worker writes */
	_Atomic int32_t pid;  /* 0: empty */
	struct rg_server_stats stats;
};

struct rg_stats_board {
	size_t bytes; /* of the mapping */
	unsigned nslots;
	/* One past the highest slot ever published: readers scan no
	 * further, so the pages of slots never used stay untouched (a read
	 * of a shared mapping's hole maps a page too: 1.5 kB a slot, 3 MB
	 * for the master's 2048). The master fills the lowest slots first. */
	_Atomic unsigned used;
	/* The figures of workers gone, summed as they are retired (the
	 * master's): what keeps the whole server's counters monotonic
	 * across restarts and reloads. Written under retire_seq (odd while
	 * it changes, the slot cleared in the same step). */
	_Atomic unsigned retire_seq;
	struct rg_server_stats retired;
	struct rg__stats_history history; /* written by the master */
	struct rg__stats_slot slots[];
};

struct rg_stats_board *rg_stats_board_create(unsigned slots)
{
	if (!slots || slots > 65536) {
		errno = EINVAL;
		return NULL;
	}
	size_t bytes = sizeof(struct rg_stats_board) +
		       (size_t)slots * sizeof(struct rg__stats_slot);
	/* Zero-filled; pages of slots never used are never touched. */
	struct rg_stats_board *b = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		return NULL;
	b->bytes = bytes;
	b->nslots = slots;
	return b;
}

void rg_stats_board_destroy(struct rg_stats_board *b)
{
	if (b)
		munmap(b, b->bytes);
}

void rg_stats_board_clear(struct rg_stats_board *b, unsigned slot)
{
	if (slot < b->nslots)
		atomic_store(&b->slots[slot].pid, 0);
}

void rg__stats_publish(struct rg__worker *w)
{
	const struct rg_server_config *c = &w->server->config;
	if (!c->stats_board || c->stats_slot >= c->stats_board->nslots)
		return;
	struct rg__stats_slot *sl = &c->stats_board->slots[c->stats_slot];
	struct rg_server_stats st;
	rg_server_stats(w->server, &st);
	uint64_t seq = atomic_load_explicit(&sl->seq, memory_order_relaxed);
	atomic_store_explicit(&sl->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(&sl->stats, &st, sizeof(st));
	atomic_store_explicit(&sl->seq, seq + 2, memory_order_release);
	atomic_store(&sl->pid, (int32_t)getpid());
	unsigned want = c->stats_slot + 1,
		 u = atomic_load(&c->stats_board->used);
	while (u < want &&
	       !atomic_compare_exchange_weak(&c->stats_board->used, &u, want))
		;
}

struct rg__stats_history *rg__stats_board_history(struct rg_stats_board *b)
{
	return &b->history;
}

const char *const rg__tier_names[RG__TIERS] = {"arena", "pool", "slab",
					       "other"};

void rg__stats_tiers(const struct rg_server_stats *st, uint64_t v[RG__TIERS])
{
	v[RG__TIER_ARENA] = st->arena_blocks.bytes_reserved;
	v[RG__TIER_POOL] =
	    st->connections.bytes_reserved + st->coroutines.bytes_reserved;
	v[RG__TIER_SLAB] = 0;
	for (unsigned i = 0; i < st->slab.nclasses && i < RG_SLAB_MAX_CLASSES;
	     i++)
		v[RG__TIER_SLAB] += st->slab.classes[i].pool.bytes_reserved;
	uint64_t mapped =
	    v[RG__TIER_ARENA] + v[RG__TIER_POOL] + v[RG__TIER_SLAB];
	v[RG__TIER_OTHER] =
	    st->memory.reserved > mapped ? st->memory.reserved - mapped : 0;
}

/* Every 10 s in the master: a read of each slot's pid, and a copy of the
 * figures of those in use (a few kB each). */
void rg__stats_board_sample(struct rg_stats_board *b, int64_t mono_ms,
			    int64_t unix_s)
{
	struct rg__stats_sample sm = {.mono_ms = mono_ms,
				      .unix_s = unix_s,
				      .requests = b->retired.requests};
	struct rg_server_stats st;
	for (unsigned i = 0; i < rg__stats_board_slots(b); i++) {
		if (!rg__stats_board_read(b, i, &st))
			continue;
		uint64_t tier[RG__TIERS];
		rg__stats_tiers(&st, tier);
		sm.workers++;
		sm.rss += st.rss_bytes;
		sm.reserved += st.memory.reserved;
		for (unsigned t = 0; t < RG__TIERS; t++)
			sm.tier[t] += tier[t];
		sm.requests += st.requests;
	}
	rg__history_push(&b->history, &sm);
}

static void add_stats(struct rg_server_stats *t,
		      const struct rg_server_stats *s,
		      const struct rg_stats_extra *x);

void rg__stats_board_retire(struct rg_stats_board *b, unsigned slot)
{
	struct rg_server_stats st;
	if (slot >= b->nslots)
		return;
	bool had = rg__stats_board_read(b, slot, &st);
	atomic_fetch_add_explicit(&b->retire_seq, 1, memory_order_acq_rel);
	if (had) {
		add_stats(&b->retired, &st, NULL);
		for (unsigned i = 0; i < RG_STATS_EXTRA; i++)
			b->retired.extra[i] += st.extra[i];
	}
	rg_stats_board_clear(b, slot);
	atomic_fetch_add_explicit(&b->retire_seq, 1, memory_order_release);
}

void rg__stats_board_totals(const struct rg_stats_board *b,
			    const struct rg_stats_extra *x,
			    struct rg_server_stats *live,
			    struct rg_server_stats *retired)
{
	struct rg_server_stats st;
	for (;;) {
		unsigned seq = atomic_load_explicit(
		    &((struct rg_stats_board *)b)->retire_seq,
		    memory_order_acquire);
		*live = (struct rg_server_stats){0};
		for (unsigned i = 0; i < rg__stats_board_slots(b); i++)
			if (rg__stats_board_read(b, i, &st))
				add_stats(live, &st, x);
		*retired = b->retired;
		atomic_thread_fence(memory_order_acquire);
		if (!(seq & 1) &&
		    seq == atomic_load_explicit(
			       &((struct rg_stats_board *)b)->retire_seq,
			       memory_order_relaxed))
			return;
	}
}

unsigned rg__stats_board_slots(const struct rg_stats_board *b)
{
	unsigned u = atomic_load(&b->used);
	return u < b->nslots ? u : b->nslots;
}

int32_t rg__stats_board_read(const struct rg_stats_board *b, unsigned slot,
			     struct rg_server_stats *out)
{
	if (slot >= b->nslots)
		return 0;
	const struct rg__stats_slot *sl = &b->slots[slot];
	for (int tries = 0; tries < 1000; tries++) {
		int32_t pid = atomic_load(&sl->pid);
		if (!pid)
			return 0;
		uint64_t a =
		    atomic_load_explicit(&sl->seq, memory_order_acquire);
		if (a & 1)
			continue;
		memcpy(out, &sl->stats, sizeof(*out));
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&sl->seq, memory_order_relaxed) == a)
			return pid;
	}
	return 0;
}

static void add_pool(struct rg_pool_stats *t, const struct rg_pool_stats *p)
{
	t->object_size = p->object_size;
	t->capacity += p->capacity;
	t->max += p->max;
	t->in_use += p->in_use;
	t->high_water += p->high_water;
	t->gets += p->gets;
	t->failures += p->failures;
	t->bytes_reserved += p->bytes_reserved;
}

/* Whole-server figures: counters and bytes add up; sizes stay. */
static void add_stats(struct rg_server_stats *t,
		      const struct rg_server_stats *s,
		      const struct rg_stats_extra *x)
{
	for (unsigned i = 0; x && i < RG_STATS_EXTRA; i++)
		t->extra[i] = (x->max_mask >> i) & 1
				  ? (s->extra[i] > t->extra[i] ? s->extra[i]
							       : t->extra[i])
				  : t->extra[i] + s->extra[i];
	t->connections_accepted += s->connections_accepted;
	t->connections_active += s->connections_active;
	t->connections_refused += s->connections_refused;
	t->proxy_refused += s->proxy_refused;
	t->requests += s->requests;
	t->errors += s->errors;
	t->timeouts += s->timeouts;
	t->rss_bytes += s->rss_bytes;
	t->peak_rss_bytes += s->peak_rss_bytes;
	t->memory.limit += s->memory.limit;
	t->memory.reserved += s->memory.reserved;
	t->memory.peak += s->memory.peak;
	t->memory.failures += s->memory.failures;
	const struct rg_arena_stats *a = &s->arena;
	struct rg_arena_stats *ta = &t->arena;
	ta->live += a->live;
	ta->lifecycles += a->lifecycles;
	ta->allocs += a->allocs;
	ta->bytes_used += a->bytes_used;
	ta->bytes_reserved += a->bytes_reserved;
	ta->extra_blocks += a->extra_blocks;
	ta->spills += a->spills;
	ta->spill_bytes += a->spill_bytes;
	ta->failures += a->failures;
	add_pool(&t->connections, &s->connections);
	add_pool(&t->coroutines, &s->coroutines);
	add_pool(&t->arena_blocks, &s->arena_blocks);
	t->slab.nclasses = s->slab.nclasses;
	t->slab.too_large += s->slab.too_large;
	for (unsigned i = 0; i < s->slab.nclasses; i++) {
		struct rg_slab_class_stats *tc = &t->slab.classes[i];
		const struct rg_slab_class_stats *c = &s->slab.classes[i];
		tc->size = c->size;
		tc->allocs += c->allocs;
		tc->bytes_asked += c->bytes_asked;
		tc->bytes_given += c->bytes_given;
		add_pool(&tc->pool, &c->pool);
	}
	for (unsigned i = 0; i < RG_STATS_DURATION_BUCKETS; i++)
		t->duration_buckets[i] += s->duration_buckets[i];
	t->duration_ns += s->duration_ns;
	for (unsigned i = 0; i < RG_STATS_ARENA_BUCKETS; i++)
		t->arena_buckets[i] += s->arena_buckets[i];
	t->arena_bytes += s->arena_bytes;
}

/* ------------------------------------------------------------------------
 * JSON
 * ------------------------------------------------------------------------ */

/* Also metrics.c's (stats.h). */
void rg__put(struct rg__out *o, const char *fmt, ...)
{
	va_list ap, again;
	va_start(ap, fmt);
	va_copy(again, ap);
	int n = vsnprintf(o->len < o->cap ? o->buf + o->len : NULL,
			  o->len < o->cap ? o->cap - o->len : 0, fmt, ap);
	if (o->flush && n > 0 && o->len && o->len + (size_t)n >= o->cap) {
		o->flush(o->arg, o->buf, o->len);
		o->len = 0;
		n = vsnprintf(o->buf, o->cap, fmt, again);
	}
	va_end(again);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
	if (o->flush && o->len >= o->cap)
		o->len = o->cap - 1; /* cut */
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static void put_pool(struct rg__out *o, const char *name,
		     const struct rg_pool_stats *p)
{
	rg__put(o,
		"\"%s\":{\"object_size\":%llu,\"capacity\":%llu,\"max\":%llu,"
		"\"in_use\":%llu,\"high_water\":%llu,\"saturation\":%.4f,"
		"\"failures\":%llu,\"bytes_reserved\":%llu}",
		name, (unsigned long long)p->object_size,
		(unsigned long long)p->capacity, (unsigned long long)p->max,
		(unsigned long long)p->in_use,
		(unsigned long long)p->high_water, ratio(p->high_water, p->max),
		(unsigned long long)p->failures,
		(unsigned long long)p->bytes_reserved);
}

/* ,"section":{"name":value,...} of the program's figures, if any. */
static void put_extra(struct rg__out *o, const struct rg_server_stats *st,
		      const struct rg_stats_extra *x)
{
	if (!x)
		return;
	rg__put(o, ",\"%s\":{", x->section);
	for (unsigned i = 0; i < RG_STATS_EXTRA && x->names[i]; i++)
		rg__put(o, "%s\"%s\":%llu", i ? "," : "", x->names[i],
			(unsigned long long)st->extra[i]);
	rg__put(o, "}");
}

/* The figures of `st` as JSON members, without the braces. */
static void put_stats(struct rg__out *o, const struct rg_server_stats *st,
		      const struct rg_stats_extra *x)
{
	const struct rg_arena_stats *a = &st->arena;
	rg__put(o,
		"\"connections\":{\"accepted\":%llu,\"active\":%llu,"
		"\"refused\":%llu,\"proxy_refused\":%llu,\"timeouts\":%llu},"
		"\"requests\":%llu,\"errors\":%llu,",
		(unsigned long long)st->connections_accepted,
		(unsigned long long)st->connections_active,
		(unsigned long long)st->connections_refused,
		(unsigned long long)st->proxy_refused,
		(unsigned long long)st->timeouts,
		(unsigned long long)st->requests,
		(unsigned long long)st->errors);
	uint64_t tier[RG__TIERS];
	rg__stats_tiers(st, tier);
	rg__put(o,
		"\"memory\":{\"rss\":%llu,\"peak_rss\":%llu,\"reserved\":%llu,"
		"\"peak_reserved\":%llu,\"limit\":%llu,\"limit_failures\":%llu,"
		"\"tiers\":{\"arena\":%llu,\"pool\":%llu,\"slab\":%llu,"
		"\"other\":%llu}},",
		(unsigned long long)st->rss_bytes,
		(unsigned long long)st->peak_rss_bytes,
		(unsigned long long)st->memory.reserved,
		(unsigned long long)st->memory.peak,
		(unsigned long long)st->memory.limit,
		(unsigned long long)st->memory.failures,
		(unsigned long long)tier[RG__TIER_ARENA],
		(unsigned long long)tier[RG__TIER_POOL],
		(unsigned long long)tier[RG__TIER_SLAB],
		(unsigned long long)tier[RG__TIER_OTHER]);
	/* Utilisation: bytes handed out per byte of block held; spills and
	 * allocations per request (an arena lives one request). */
	rg__put(
	    o,
	    "\"arena\":{\"requests\":%llu,\"allocs\":%llu,"
	    "\"allocs_per_request\":%.2f,\"bytes_used\":%llu,"
	    "\"bytes_reserved\":%llu,\"utilisation\":%.4f,"
	    "\"extra_blocks\":%llu,\"heap_spills\":%llu,"
	    "\"heap_spill_bytes\":%llu,\"heap_spills_per_request\":%.4f,"
	    "\"failures\":%llu},",
	    (unsigned long long)a->lifecycles, (unsigned long long)a->allocs,
	    ratio(a->allocs, a->lifecycles), (unsigned long long)a->bytes_used,
	    (unsigned long long)a->bytes_reserved,
	    ratio(a->bytes_used, a->bytes_reserved),
	    (unsigned long long)a->extra_blocks, (unsigned long long)a->spills,
	    (unsigned long long)a->spill_bytes, ratio(a->spills, a->lifecycles),
	    (unsigned long long)a->failures);
	rg__put(o, "\"pools\":{");
	put_pool(o, "connections", &st->connections);
	rg__put(o, ",");
	put_pool(o, "coroutine_stacks", &st->coroutines);
	rg__put(o, ",");
	put_pool(o, "arena_blocks", &st->arena_blocks);
	rg__put(o, "},\"slab\":{\"too_large\":%llu,\"classes\":[",
		(unsigned long long)st->slab.too_large);
	for (unsigned i = 0; i < st->slab.nclasses; i++) {
		const struct rg_slab_class_stats *c = &st->slab.classes[i];
		/* Fragmentation: the share of given bytes nobody asked for. */
		rg__put(o,
			"%s{\"size\":%llu,\"allocs\":%llu,\"in_use\":%llu,"
			"\"high_water\":%llu,\"fragmentation\":%.4f}",
			i ? "," : "", (unsigned long long)c->size,
			(unsigned long long)c->allocs,
			(unsigned long long)c->pool.in_use,
			(unsigned long long)c->pool.high_water,
			c->bytes_given
			    ? 1.0 - ratio(c->bytes_asked, c->bytes_given)
			    : 0.0);
	}
	rg__put(o, "]}");
	put_extra(o, st, x);
}

/* The whole-server document: each worker's headline figures, the
 * history, then the sums. */
static void stats_json(const struct rg_server *s, struct rg__out *o)
{
	struct rg_server_stats one;
	struct rg_stats_board *b = s->config.stats_board;
	const struct rg_stats_extra *x = s->config.stats_extra;
	if (!b) {
		rg_server_stats(s, &one);
		rg__put(o, "{");
		rg__history_json(o, NULL);
		rg__put(o, ",");
		put_stats(o, &one, x);
		rg__put(o, "}");
		return;
	}
	/* The whole server, in one pass over the board so that the list,
	 * the count and the sums agree: each worker's headline figures (this
	 * one fresh, the others as of their last publication, at most a
	 * second old), then their number and the sums. */
	rg__stats_publish((struct rg__worker *)&s->w);
	struct rg_server_stats total;
	memset(&total, 0, sizeof(total));
	unsigned n = 0;
	rg__put(o, "{\"workers\":[");
	for (unsigned i = 0, n_slots = rg__stats_board_slots(b); i < n_slots;
	     i++) {
		int32_t pid = rg__stats_board_read(b, i, &one);
		if (!pid)
			continue;
		add_stats(&total, &one, x);
		rg__put(o,
			"%s{\"slot\":%u,\"pid\":%d,\"requests\":%llu,"
			"\"connections_active\":%llu,\"rss\":%llu,"
			"\"reserved\":%llu",
			n++ ? "," : "", i, (int)pid,
			(unsigned long long)one.requests,
			(unsigned long long)one.connections_active,
			(unsigned long long)one.rss_bytes,
			(unsigned long long)one.memory.reserved);
		put_extra(o, &one, x);
		rg__put(o, "}");
	}
	rg__put(o, "],\"worker_count\":%u,", n);
	rg__history_json(o, &b->history);
	rg__put(o, ",");
	put_stats(o, &total, x);
	rg__put(o, "}");
}

void rg__stats_json_write(const struct rg_server *s, struct rg__out *o,
			  bool memory)
{
	if (memory)
		rg__memory_json(s, o);
	else
		stats_json(s, o);
}

size_t rg_server_stats_json(const struct rg_server *s, char *buf, size_t cap)
{
	struct rg__out o = {.buf = buf, .cap = cap};
	if (cap)
		buf[0] = '\0';
	stats_json(s, &o);
	return o.len;
}

size_t rg_server_memory_json(const struct rg_server *s, char *buf, size_t cap)
{
	struct rg__out o = {.buf = buf, .cap = cap};
	if (cap)
		buf[0] = '\0';
	rg__memory_json(s, &o);
	return o.len;
}
