/* stats.c: the worker's statistics (rg_server_stats) and their JSON form
 * with the derived figures operators read (/stats). */
#include "core/server.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Resident and peak resident set of the process, from /proc. */
static void read_rss(uint64_t *rss, uint64_t *peak)
{
	*rss = *peak = 0;
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return;
	char line[128];
	unsigned long long kb;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
			*rss = kb * 1024;
		else if (sscanf(line, "VmHWM: %llu kB", &kb) == 1)
			*peak = kb * 1024;
	}
	fclose(f);
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
}

struct out {
	char *buf;
	size_t cap, len;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o,
						      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->len < o->cap ? o->buf + o->len : NULL,
			  o->len < o->cap ? o->cap - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static void put_pool(struct out *o, const char *name,
		     const struct rg_pool_stats *p)
{
	put(o,
	    "\"%s\":{\"object_size\":%llu,\"capacity\":%llu,\"max\":%llu,"
	    "\"in_use\":%llu,\"high_water\":%llu,\"saturation\":%.4f,"
	    "\"failures\":%llu,\"bytes_reserved\":%llu}",
	    name, (unsigned long long)p->object_size,
	    (unsigned long long)p->capacity, (unsigned long long)p->max,
	    (unsigned long long)p->in_use, (unsigned long long)p->high_water,
	    ratio(p->high_water, p->max), (unsigned long long)p->failures,
	    (unsigned long long)p->bytes_reserved);
}

size_t rg_server_stats_json(const struct rg_server *s, char *buf, size_t cap)
{
	struct rg_server_stats st;
	rg_server_stats(s, &st);
	struct out o = {buf, cap, 0};
	const struct rg_arena_stats *a = &st.arena;
	put(&o,
	    "{\"connections\":{\"accepted\":%llu,\"active\":%llu,"
	    "\"refused\":%llu,\"timeouts\":%llu},"
	    "\"requests\":%llu,\"errors\":%llu,",
	    (unsigned long long)st.connections_accepted,
	    (unsigned long long)st.connections_active,
	    (unsigned long long)st.connections_refused,
	    (unsigned long long)st.timeouts, (unsigned long long)st.requests,
	    (unsigned long long)st.errors);
	put(&o,
	    "\"memory\":{\"rss\":%llu,\"peak_rss\":%llu,\"reserved\":%llu,"
	    "\"peak_reserved\":%llu,\"limit\":%llu,\"limit_failures\":%llu},",
	    (unsigned long long)st.rss_bytes,
	    (unsigned long long)st.peak_rss_bytes,
	    (unsigned long long)st.memory.reserved,
	    (unsigned long long)st.memory.peak,
	    (unsigned long long)st.memory.limit,
	    (unsigned long long)st.memory.failures);
	/* Utilisation: bytes handed out per byte of block held; spills and
	 * allocations per request (an arena lives one request). */
	put(&o,
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
	put(&o, "\"pools\":{");
	put_pool(&o, "connections", &st.connections);
	put(&o, ",");
	put_pool(&o, "coroutine_stacks", &st.coroutines);
	put(&o, ",");
	put_pool(&o, "arena_blocks", &st.arena_blocks);
	put(&o, "},\"slab\":{\"too_large\":%llu,\"classes\":[",
	    (unsigned long long)st.slab.too_large);
	for (unsigned i = 0; i < st.slab.nclasses; i++) {
		const struct rg_slab_class_stats *c = &st.slab.classes[i];
		/* Fragmentation: the share of given bytes nobody asked for. */
		put(&o,
		    "%s{\"size\":%llu,\"allocs\":%llu,\"in_use\":%llu,"
		    "\"high_water\":%llu,\"fragmentation\":%.4f}",
		    i ? "," : "", (unsigned long long)c->size,
		    (unsigned long long)c->allocs,
		    (unsigned long long)c->pool.in_use,
		    (unsigned long long)c->pool.high_water,
		    c->bytes_given ? 1.0 - ratio(c->bytes_asked, c->bytes_given)
				   : 0.0);
	}
	put(&o, "]}}");
	return o.len;
}
