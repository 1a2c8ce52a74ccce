/* stats.h: what the statistics' writers (stats.c: JSON, metrics.c:
 * Prometheus text, stats_dump.c: the memory dump, stats_history.c: the
 * history and its growth rates) share, and what the request path updates:
 * the text buffer they write into, the shared board's slots as they read
 * them, the memory tiers, and the request histograms (counted by conn.c at
 * each response's end). */
#ifndef RG_CORE_STATS_H
#define RG_CORE_STATS_H

#include "ringlet.h"

#include <stdatomic.h>
#include <stdbool.h>
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

/* The memory tiers of the account, as /stats and /metrics name them: the
 * pools' mappings, each counted by its pool (bytes_reserved): "arena" the
 * request arenas' blocks, "pool" the connections and coroutine stacks,
 * "slab" the buffers; "other" is the rest of the account (heap spills of
 * requests in flight, the access log's buffers). They add up to it. */
enum {
	RG__TIER_ARENA,
	RG__TIER_POOL,
	RG__TIER_SLAB,
	RG__TIER_OTHER,
	RG__TIERS
};
extern const char *const rg__tier_names[RG__TIERS];
void rg__stats_tiers(const struct rg_server_stats *st, uint64_t out[RG__TIERS]);

/* The most bytes of a pool's mapping that can have been written and
 * still be mapped: min(high_water, capacity) objects. A pool hands out a
 * never-used object (in address order) only when its free list is empty,
 * so at most `high_water` objects have ever left it, and the pages of the
 * others were never touched and cost no RSS; a trim (pool.c) unmaps
 * chunks or drops their pages, which can only lower what is touched, and
 * what is mapped bounds it too. An upper bound: an object handed out may
 * be written only in part (a coroutine stack), one trimmed may have been
 * given back, and chunk headers are not counted. */
static inline uint64_t rg__pool_touched_bound(const struct rg_pool_stats *p)
{
	uint64_t n = p->high_water < p->capacity ? p->high_water : p->capacity;
	return n * p->object_size;
}

/* ------------------------------------------------------------------------
 * History: the whole server sampled every 10 s, the last 60 samples
 * (10 minutes), kept in the board by the master (rg__stats_board_sample)
 * and read by every worker's /stats, so that all of them show the same.
 * ------------------------------------------------------------------------ */

#define RG__HISTORY_SAMPLES 60
#define RG__HISTORY_INTERVAL_MS 10000

struct rg__stats_sample {
	int64_t mono_ms; /* CLOCK_MONOTONIC: rates are computed on it */
	int64_t unix_s;	 /* the wall clock, shown */
	uint64_t workers;
	uint64_t rss, reserved; /* summed over the workers */
	uint64_t tier[RG__TIERS];
	uint64_t requests; /* completed since the board was made, by
			      workers gone too: never goes down */
};

/* A ring written by one process, read by others (a seqlock, as a slot). */
struct rg__stats_history {
	_Atomic uint64_t seq; /* odd while written */
	uint32_t count;	      /* samples held, at most RG__HISTORY_SAMPLES */
	uint32_t next;	      /* where the next one goes */
	struct rg__stats_sample s[RG__HISTORY_SAMPLES];
};

/* Appends a sample, dropping the oldest when full. One writer at a time. */
void rg__history_push(struct rg__stats_history *h,
		      const struct rg__stats_sample *s);
/* A consistent copy, oldest first: the number of samples (0 if it never
 * settles). */
unsigned rg__history_read(const struct rg__stats_history *h,
			  struct rg__stats_sample out[RG__HISTORY_SAMPLES]);
/* The least-squares slope of the uint64_t at `off` in the samples, per
 * minute of mono_ms: false with fewer than 2 samples or none apart. */
bool rg__history_slope(const struct rg__stats_sample *s, unsigned n, size_t off,
		       double *per_min);

/* ,"history":{...},"growth":{...} members of /stats from `h` (NULL: no
 * samples). */
void rg__history_json(struct rg__out *o, const struct rg__stats_history *h);

/* The board's history (the master writes it, the workers read it). */
struct rg__stats_history *rg__stats_board_history(struct rg_stats_board *b);
/* Sums the slots (each as its worker last published) into a sample taken
 * at mono_ms/unix_s and appends it. */
void rg__stats_board_sample(struct rg_stats_board *b, int64_t mono_ms,
			    int64_t unix_s);
/* A worker of `slot` is gone: its figures, as it last published them,
 * join the retired sum (its counters stay in the whole server's), and the
 * slot is cleared. */
void rg__stats_board_retire(struct rg_stats_board *b, unsigned slot);

/* The whole server in one consistent reading: the sum of the workers
 * alive (*live) and of those retired (*retired, counters only meaning
 * anything there). A counter of the whole server is live + retired, which
 * never goes down while the master lives. */
void rg__stats_board_totals(const struct rg_stats_board *b,
			    const struct rg_stats_extra *x,
			    struct rg_server_stats *live,
			    struct rg_server_stats *retired);

/* ------------------------------------------------------------------------
 * The JSON documents and the memory dump
 * ------------------------------------------------------------------------ */

/* stats_dump.c: rg_server_memory_json into `o`, which may stream. */
void rg__memory_json(const struct rg_server *server, struct rg__out *o);

/* rg_server_stats_json (memory false) or rg_server_memory_json into `o`,
 * which may stream. */
void rg__stats_json_write(const struct rg_server *server, struct rg__out *o,
			  bool memory);

/* The memory dump of every worker on the board, as lines of text (no
 * newline) handed to line(): a summary, then one per pool, slab class and
 * arena histogram per worker, then an end line. Written in a stack buffer:
 * no heap. */
void rg__stats_board_dump(const struct rg_stats_board *b,
			  void (*line)(void *arg, const char *text), void *arg);

/* The slots a worker may be in: one past the highest ever published (the
 * board's readers scan no further, its unused pages stay untouched). */
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
