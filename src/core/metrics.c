/* metrics.c: the statistics in the Prometheus text exposition format 0.0.4
 * (rg_server_metrics, /metrics): a family per figure with HELP and TYPE,
 * one series per worker and one for the whole server (worker="all"),
 * read from the shared board as the JSON is (stats.h). Written with vsnprintf
 * into the caller's buffer, or streamed through it (rg__metrics_write): no
 * heap. */
#include "core/server.h"
#include "core/stats.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* One scrape: the text, and where the workers' figures come from. Each
 * family reads every worker's slot once, so that its series (a
 * histogram's buckets, sum and count) come from one copy of the figures;
 * two families may be one publication apart (a second), as the board's
 * figures always can be. */
struct scrape {
	struct rg__out *o;
	const struct rg_stats_board *b; /* NULL: `one` is the only worker */
	unsigned nslots;
	const struct rg_stats_extra *x;
	struct rg_server_stats one; /* without a board: this worker's */
	struct rg_server_stats st;  /* the slot being written */
	/* worker="all": the workers alive summed, and those gone (whose
	 * counters the whole server's keep: monotonic across restarts and
	 * reloads, where a worker's own series starts again from 0). */
	struct rg_server_stats live, retired;
};

/* Worker `slot`'s figures, or NULL when the slot is empty. */
static const struct rg_server_stats *worker(struct scrape *sc, unsigned slot)
{
	if (!sc->b)
		return &sc->one;
	return rg__stats_board_read(sc->b, slot, &sc->st) ? &sc->st : NULL;
}

static void head(struct scrape *sc, const char *name, const char *type,
		 const char *help)
{
	rg__put(sc->o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static unsigned long long field(const void *base, size_t off)
{
	uint64_t v;
	memcpy(&v, (const char *)base + off, sizeof(v));
	return (unsigned long long)v;
}

/* The whole server's value of the figure at `off` in rg_server_stats:
 * the live sum, plus the retired workers' for a counter. */
static unsigned long long all(const struct scrape *sc, const char *type,
			      size_t off)
{
	return field(&sc->live, off) +
	       (strcmp(type, "gauge") ? field(&sc->retired, off) : 0);
}

/* `v` in units of 1/10^digits s as decimal seconds, trailing zeros
 * dropped: "0.0005", "10". */
static const char *seconds(char buf[32], uint64_t v, int digits)
{
	uint64_t per = 1;
	for (int i = 0; i < digits; i++)
		per *= 10;
	int n = snprintf(buf, 32, "%llu.%0*llu", (unsigned long long)(v / per),
			 digits, (unsigned long long)(v % per));
	while (n > 0 && buf[n - 1] == '0')
		n--;
	if (n > 0 && buf[n - 1] == '.')
		n--;
	buf[n] = '\0';
	return buf;
}

/* ------------------------------------------------------------------------
 * Figures that are one number per worker
 * ------------------------------------------------------------------------ */

struct figure {
	const char *name, *type, *help;
	size_t off; /* of the uint64_t, in the struct the family reads */
};

#define S(f) offsetof(struct rg_server_stats, f)
static const struct figure traffic[] = {
    {"ringlet_connections_accepted_total", "counter", "Connections accepted.",
     S(connections_accepted)},
    {"ringlet_connections_active", "gauge", "Connections open now.",
     S(connections_active)},
    {"ringlet_connections_refused_total", "counter",
     "Connections refused (503 and close): the connection pool was full.",
     S(connections_refused)},
    {"ringlet_proxy_refused_total", "counter",
     "Connections closed without a response: no valid PROXY header.",
     S(proxy_refused)},
    {"ringlet_connection_timeouts_total", "counter",
     "Connections closed by a timeout.", S(timeouts)},
    {"ringlet_requests_total", "counter",
     "Requests whose response was completed.", S(requests)},
    {"ringlet_request_errors_total", "counter",
     "Requests the server rejected itself (4xx/5xx from the parser or the "
     "limits).",
     S(errors)},
};

static const struct figure memory[] = {
    {"process_resident_memory_bytes", "gauge",
     "Resident memory of the worker process (VmRSS).", S(rss_bytes)},
    {"ringlet_process_peak_resident_memory_bytes", "gauge",
     "Peak resident memory of the worker process (VmHWM).", S(peak_rss_bytes)},
    {"ringlet_memory_limit_bytes", "gauge",
     "The worker's memory_limit; 0 = unlimited.", S(memory.limit)},
    {"ringlet_memory_peak_reserved_bytes", "gauge",
     "Most bytes the worker has held from the system at once.", S(memory.peak)},
    {"ringlet_memory_limit_failures_total", "counter",
     "Reservations refused because of memory_limit.", S(memory.failures)},
};

static const struct figure arena[] = {
    {"ringlet_arena_live", "gauge",
     "Request arenas alive now: requests in progress.", S(arena.live)},
    {"ringlet_arena_requests_total", "counter",
     "Request arenas released: one per request, rejected ones included.",
     S(arena.lifecycles)},
    {"ringlet_arena_allocs_total", "counter", "Arena allocations served.",
     S(arena.allocs)},
    {"ringlet_arena_used_bytes_total", "counter",
     "Block bytes the arenas handed out (heap spills: "
     "ringlet_arena_spill_bytes_total).",
     S(arena.bytes_used)},
    {"ringlet_arena_block_bytes_total", "counter",
     "Block bytes the arenas held, summed over the requests.",
     S(arena.bytes_reserved)},
    {"ringlet_arena_extra_blocks_total", "counter",
     "Blocks chained beyond a request's first.", S(arena.extra_blocks)},
    {"ringlet_arena_spills_total", "counter",
     "Arena allocations sent to the heap (above large_alloc_spill).",
     S(arena.spills)},
    {"ringlet_arena_spill_bytes_total", "counter",
     "Bytes of the allocations sent to the heap.", S(arena.spill_bytes)},
    {"ringlet_arena_failures_total", "counter",
     "Arena allocations that returned NULL.", S(arena.failures)},
};

static const struct figure slab[] = {
    {"ringlet_slab_too_large_total", "counter",
     "Buffers asked above the largest slab class.", S(slab.too_large)},
};

static void figures(struct scrape *sc, const struct figure *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		head(sc, f[i].name, f[i].type, f[i].help);
		for (unsigned w = 0; w < sc->nslots; w++) {
			const struct rg_server_stats *st = worker(sc, w);
			if (st)
				rg__put(sc->o, "%s{worker=\"%u\"} %llu\n",
					f[i].name, w, field(st, f[i].off));
		}
		rg__put(sc->o, "%s{worker=\"all\"} %llu\n", f[i].name,
			all(sc, f[i].type, f[i].off));
	}
}

/* The memory the account holds, by tier (rg__stats_tiers). The rest of
 * the account, beyond the pools' mappings, is the heap spills of the
 * requests in flight and, when it is on, the access log's buffers: no
 * figure tells those apart (an arena reports its spills only once it is
 * reset), so it is "other", not "spill". The tiers add up to the
 * account. */
static void tiers(struct scrape *sc)
{
	static const char name[] = "ringlet_memory_reserved_bytes";
	head(sc, name, "gauge",
	     "Bytes the worker holds from the system, by tier: arena (request "
	     "arena blocks), pool (connections, coroutine stacks), slab "
	     "(buffers), other (heap spills of requests in flight, the access "
	     "log's buffers).");
	for (unsigned w = 0; w < sc->nslots; w++) {
		const struct rg_server_stats *st = worker(sc, w);
		if (!st)
			continue;
		uint64_t v[RG__TIERS];
		rg__stats_tiers(st, v);
		for (unsigned i = 0; i < RG__TIERS; i++)
			rg__put(sc->o, "%s{worker=\"%u\",tier=\"%s\"} %llu\n",
				name, w, rg__tier_names[i],
				(unsigned long long)v[i]);
	}
	uint64_t v[RG__TIERS];
	rg__stats_tiers(&sc->live, v);
	for (unsigned i = 0; i < RG__TIERS; i++)
		rg__put(sc->o, "%s{worker=\"all\",tier=\"%s\"} %llu\n", name,
			rg__tier_names[i], (unsigned long long)v[i]);
}

/* ------------------------------------------------------------------------
 * Pools and slab classes: a series per worker and pool (class)
 * ------------------------------------------------------------------------ */

#define P(f) offsetof(struct rg_pool_stats, f)
static const struct figure pool_figures[] = {
    {"ringlet_pool_object_size_bytes", "gauge", "Bytes per object of the pool.",
     P(object_size)},
    {"ringlet_pool_capacity", "gauge", "Objects the pool has mapped.",
     P(capacity)},
    {"ringlet_pool_max", "gauge", "The pool's cap on objects.", P(max)},
    {"ringlet_pool_in_use", "gauge", "Objects handed out now.", P(in_use)},
    {"ringlet_pool_high_water", "gauge", "Most objects handed out at once.",
     P(high_water)},
    {"ringlet_pool_gets_total", "counter", "Objects handed out.", P(gets)},
    {"ringlet_pool_failures_total", "counter",
     "Objects refused: the pool's cap or memory_limit.", P(failures)},
    {"ringlet_pool_reserved_bytes", "gauge",
     "Bytes the pool has mapped, headers and guard pages included.",
     P(bytes_reserved)},
};

static const struct {
	const char *label;
	size_t off;
} pools[] = {
    {"connections", S(connections)},
    {"coroutine_stacks", S(coroutines)},
    {"arena_blocks", S(arena_blocks)},
};

#define K(f) offsetof(struct rg_slab_class_stats, f)
static const struct figure class_figures[] = {
    {"ringlet_slab_capacity", "gauge", "Buffers the class has mapped.",
     K(pool.capacity)},
    {"ringlet_slab_max", "gauge", "The class's cap on buffers.", K(pool.max)},
    {"ringlet_slab_in_use", "gauge", "Buffers handed out now.", K(pool.in_use)},
    {"ringlet_slab_high_water", "gauge", "Most buffers handed out at once.",
     K(pool.high_water)},
    {"ringlet_slab_allocs_total", "counter", "Buffers handed out.", K(allocs)},
    {"ringlet_slab_failures_total", "counter",
     "Buffers refused: the class's cap or memory_limit.", K(pool.failures)},
    {"ringlet_slab_asked_bytes_total", "counter",
     "Bytes asked of the class (what given adds is fragmentation).",
     K(bytes_asked)},
    {"ringlet_slab_given_bytes_total", "counter",
     "Bytes handed out: the class size per buffer.", K(bytes_given)},
    {"ringlet_slab_reserved_bytes", "gauge",
     "Bytes the class has mapped, headers included.", K(pool.bytes_reserved)},
};

static void pool_families(struct scrape *sc)
{
	for (size_t i = 0; i < COUNT(pool_figures); i++) {
		const struct figure *f = &pool_figures[i];
		head(sc, f->name, f->type, f->help);
		for (unsigned w = 0; w < sc->nslots; w++) {
			const struct rg_server_stats *st = worker(sc, w);
			for (size_t p = 0; st && p < COUNT(pools); p++)
				rg__put(sc->o,
					"%s{worker=\"%u\",pool=\"%s\"} %llu\n",
					f->name, w, pools[p].label,
					field(st, pools[p].off + f->off));
		}
		for (size_t p = 0; p < COUNT(pools); p++)
			rg__put(sc->o, "%s{worker=\"all\",pool=\"%s\"} %llu\n",
				f->name, pools[p].label,
				all(sc, f->type, pools[p].off + f->off));
	}
}

static void class_families(struct scrape *sc)
{
	for (size_t i = 0; i < COUNT(class_figures); i++) {
		const struct figure *f = &class_figures[i];
		head(sc, f->name, f->type, f->help);
		for (unsigned w = 0; w < sc->nslots; w++) {
			const struct rg_server_stats *st = worker(sc, w);
			for (unsigned k = 0; st && k < st->slab.nclasses &&
					     k < RG_SLAB_MAX_CLASSES;
			     k++) {
				const struct rg_slab_class_stats *c =
				    &st->slab.classes[k];
				rg__put(sc->o,
					"%s{worker=\"%u\",class=\"%llu\"} "
					"%llu\n",
					f->name, w, (unsigned long long)c->size,
					field(c, f->off));
			}
		}
		const struct rg_slab_stats *ls = &sc->live.slab;
		for (unsigned k = 0;
		     k < ls->nclasses && k < RG_SLAB_MAX_CLASSES; k++) {
			size_t off = (size_t)((const char *)&ls->classes[k] -
					      (const char *)&sc->live);
			rg__put(
			    sc->o, "%s{worker=\"all\",class=\"%llu\"} %llu\n",
			    f->name, (unsigned long long)ls->classes[k].size,
			    all(sc, f->type, off + f->off));
		}
	}
}

/* ------------------------------------------------------------------------
 * The request histograms
 * ------------------------------------------------------------------------ */

/* One worker's series (`label`), or the whole server's (st + more):
 * cumulative buckets ending in +Inf, then _sum and _count (the +Inf
 * bucket: the sum of the buckets, so they always agree). */
static void histogram_series(struct scrape *sc, const char *name,
			     const char *label, bool duration,
			     const struct rg_server_stats *st,
			     const struct rg_server_stats *more)
{
	unsigned n =
	    duration ? RG_STATS_DURATION_BUCKETS : RG_STATS_ARENA_BUCKETS;
	const uint64_t *b = duration ? st->duration_buckets : st->arena_buckets;
	const uint64_t *b2 = !more	? NULL
			     : duration ? more->duration_buckets
					: more->arena_buckets;
	unsigned long long total = 0;
	char le[32];
	for (unsigned i = 0; i < n; i++) {
		total += b[i] + (b2 ? b2[i] : 0);
		if (i == n - 1)
			snprintf(le, sizeof(le), "+Inf");
		else if (duration)
			seconds(le, rg__duration_bounds_ns[i], 9);
		else
			snprintf(le, sizeof(le), "%llu", 256ull << i);
		rg__put(sc->o, "%s_bucket{worker=\"%s\",le=\"%s\"} %llu\n",
			name, label, le, total);
	}
	uint64_t sum = duration ? st->duration_ns : st->arena_bytes;
	if (more)
		sum += duration ? more->duration_ns : more->arena_bytes;
	if (duration)
		seconds(le, sum, 9);
	else
		snprintf(le, sizeof(le), "%llu", (unsigned long long)sum);
	rg__put(sc->o, "%s_sum{worker=\"%s\"} %s\n", name, label, le);
	rg__put(sc->o, "%s_count{worker=\"%s\"} %llu\n", name, label, total);
}

static void histogram(struct scrape *sc, bool duration)
{
	const char *name = duration ? "ringlet_request_duration_seconds"
				    : "ringlet_request_arena_bytes";
	head(sc, name, "histogram",
	     duration ? "Request durations: from the loop iteration in which "
			"its first bytes are parsed to its response being "
			"complete."
		      : "Bytes a request's arena handed out, heap spills "
			"included.");
	for (unsigned w = 0; w < sc->nslots; w++) {
		const struct rg_server_stats *st = worker(sc, w);
		char label[16];
		snprintf(label, sizeof(label), "%u", w);
		if (st)
			histogram_series(sc, name, label, duration, st, NULL);
	}
	histogram_series(sc, name, "all", duration, &sc->live, &sc->retired);
}

/* ------------------------------------------------------------------------
 * The program's section (rg_stats_extra)
 * ------------------------------------------------------------------------ */

struct extra_name {
	char name[160];
	char help[160];
	bool gauge;
	int digits; /* > 0: the value is in 1/10^digits s */
};

static bool ends(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n > k && !memcmp(s + n - k, suffix, k);
}

/* The family of figure `i`, by the rule struct rg_stats_extra states. */
static void extra_name(const struct rg_stats_extra *x, unsigned i,
		       struct extra_name *e)
{
	char stem[128];
	int len = snprintf(stem, sizeof(stem), "%s_%s",
			   x->section ? x->section : "", x->names[i]);
	size_t n = len < 0 ? 0 : (size_t)len;
	if (n >= sizeof(stem))
		n = sizeof(stem) - 1;
	for (size_t k = 0; k < n; k++) {
		char ch = stem[k];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_'))
			stem[k] = '_';
	}
	snprintf(e->help, sizeof(e->help),
		 "The program's figure %.*s (rg_stats_extra).", (int)n, stem);
	static const struct {
		const char *suffix;
		int digits;
	} units[] = {{"_ns", 9}, {"_us", 6}, {"_ms", 3}};
	e->digits = 0;
	for (size_t u = 0; u < COUNT(units); u++) {
		if (ends(stem, n, units[u].suffix)) {
			n -= strlen(units[u].suffix);
			e->digits = units[u].digits;
			break;
		}
	}
	e->gauge = ((x->max_mask | x->gauge_mask) >> i) & 1 ||
		   ends(stem, n, "_in_use") || ends(stem, n, "_high_water") ||
		   ends(stem, n, "_max");
	if (!e->gauge && ends(stem, n, "_total"))
		n -= strlen("_total"); /* goes last, after the unit */
	snprintf(e->name, sizeof(e->name), "ringlet_%.*s%s%s", (int)n, stem,
		 e->digits ? "_seconds" : "", e->gauge ? "" : "_total");
}

static void extras(struct scrape *sc)
{
	const struct rg_stats_extra *x = sc->x;
	for (unsigned i = 0; x && i < RG_STATS_EXTRA && x->names[i]; i++) {
		struct extra_name e;
		extra_name(x, i, &e);
		head(sc, e.name, e.gauge ? "gauge" : "counter", e.help);
		for (unsigned w = 0; w <= sc->nslots; w++) {
			const struct rg_server_stats *st =
			    w < sc->nslots ? worker(sc, w) : NULL;
			uint64_t n = st ? st->extra[i] : 0;
			char label[16];
			snprintf(label, sizeof(label), "%u", w);
			if (w == sc->nslots) { /* the whole server */
				n = sc->live.extra[i] +
				    (e.gauge ? 0 : sc->retired.extra[i]);
				snprintf(label, sizeof(label), "all");
			} else if (!st) {
				continue;
			}
			char v[32];
			if (e.digits)
				seconds(v, n, e.digits);
			else
				snprintf(v, sizeof(v), "%llu",
					 (unsigned long long)n);
			rg__put(sc->o, "%s{worker=\"%s\"} %s\n", e.name, label,
				v);
		}
	}
}

void rg__metrics_write(const struct rg_server *s, struct rg__out *o)
{
	struct scrape sc = {
	    .o = o, .b = s->config.stats_board, .x = s->config.stats_extra};
	if (sc.b) {
		/* This worker's figures fresh, the others' as of their last
		 * publication (a second at most). */
		rg__stats_publish((struct rg__worker *)&s->w);
		sc.nslots = rg__stats_board_slots(sc.b);
		rg__stats_board_totals(sc.b, sc.x, &sc.live, &sc.retired);
	} else {
		rg_server_stats(s, &sc.one);
		sc.nslots = 1;
		sc.live = sc.one;
	}
	figures(&sc, traffic, COUNT(traffic));
	histogram(&sc, true);
	histogram(&sc, false);
	figures(&sc, memory, COUNT(memory));
	tiers(&sc);
	pool_families(&sc);
	class_families(&sc);
	figures(&sc, slab, COUNT(slab));
	figures(&sc, arena, COUNT(arena));
	extras(&sc);
}

size_t rg_server_metrics(const struct rg_server *s, char *buf, size_t cap)
{
	struct rg__out o = {.buf = buf, .cap = cap};
	if (cap)
		buf[0] = '\0';
	rg__metrics_write(s, &o);
	return o.len;
}
