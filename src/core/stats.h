/* stats.h: what the statistics' writers (stats.c: JSON, metrics.c:
 * Prometheus text) share, and what the request path updates: the text
 * buffer they write into, the shared board's slots as both read them, and
 * the request histograms (counted by conn.c at each response's end). */
#ifndef RG_CORE_STATS_H
#define RG_CORE_STATS_H

#include "ringlet.h"

#include <stddef.h>
#include <stdint.h>

/* Text written into buf[0, cap). Without `flush`, like snprintf: `len`
 * counts what it needs, past cap too; what fits is NUL-terminated. With
 * it, a stream: whenever the next piece would not fit, buf[0, len) is
 * handed to flush and the buffer starts again (a piece longer than the
 * whole buffer is cut: pieces are lines of a few hundred bytes). */
struct rg__out {
	char *buf;
	size_t cap, len;
	void (*flush)(void *arg, const char *text, size_t n);
	void *arg;
};

/* Appends to `o`; vsnprintf into the caller's buffer, no allocation. */
__attribute__((format(printf, 2, 3))) void rg__put(struct rg__out *o,
						   const char *fmt, ...);

/* metrics.c: rg_server_metrics into `o`, which may stream. */
void rg__metrics_write(const struct rg_server *server, struct rg__out *o);

/* The board's number of slots. */
unsigned rg__stats_board_slots(const struct rg_stats_board *board);

/* A consistent copy of slot `slot` (retrying while its worker writes, the
 * seqlock): its worker's pid, or 0 when the slot is empty or never
 * settles. */
int32_t rg__stats_board_read(const struct rg_stats_board *board, unsigned slot,
			     struct rg_server_stats *out);

/* The duration histogram's bounds (RG_STATS_DURATION_BUCKETS), in
 * nanoseconds, ascending; the last bucket has none (+Inf). */
extern const uint64_t rg__duration_bounds_ns[RG_STATS_DURATION_BUCKETS - 1];

/* A request's response is complete: it is counted, and its duration and
 * the bytes its arena handed out go into the histograms. No call and no
 * heap: the scan of the duration bounds ends at the first one (0.5 ms) for
 * most requests; the arena's bucket is a count of leading zeros. */
static inline void rg__stats_request(struct rg_server_stats *st, uint64_t ns,
				     uint64_t bytes)
{
	unsigned i = 0;
	while (i < RG_STATS_DURATION_BUCKETS - 1 &&
	       ns > rg__duration_bounds_ns[i])
		i++;
	st->duration_buckets[i]++;
	st->duration_ns += ns;
	/* Bucket j holds (256 << (j - 1), 256 << j]; bucket 0 up to 256. */
	unsigned j =
	    bytes <= 256 ? 0 : 56 - (unsigned)__builtin_clzll(bytes - 1);
	if (j > RG_STATS_ARENA_BUCKETS - 1)
		j = RG_STATS_ARENA_BUCKETS - 1;
	st->arena_buckets[j]++;
	st->arena_bytes += bytes;
	st->requests++;
}

#endif /* RG_CORE_STATS_H */
