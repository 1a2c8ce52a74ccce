/* stats_history.c: the whole server's recent past (stats.h): a ring of 60
 * samples taken every 10 s by the master into the shared board, read
 * under its seqlock by whichever worker answers /stats, and the growth
 * rates computed from it. No heap: the ring lives in the board, readers
 * copy it to their stack. */
#include "core/stats.h"

#include <string.h>

void rg__history_push(struct rg__stats_history *h,
		      const struct rg__stats_sample *s)
{
	uint64_t seq = atomic_load_explicit(&h->seq, memory_order_relaxed);
	atomic_store_explicit(&h->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	h->s[h->next] = *s;
	h->next = (h->next + 1) % RG__HISTORY_SAMPLES;
	if (h->count < RG__HISTORY_SAMPLES)
		h->count++;
	atomic_store_explicit(&h->seq, seq + 2, memory_order_release);
}

unsigned rg__history_read(const struct rg__stats_history *h,
			  struct rg__stats_sample out[RG__HISTORY_SAMPLES])
{
	for (int tries = 0; tries < 1000; tries++) {
		uint64_t a =
		    atomic_load_explicit(&h->seq, memory_order_acquire);
		if (a & 1)
			continue;
		uint32_t count = h->count, next = h->next;
		if (count > RG__HISTORY_SAMPLES || next >= RG__HISTORY_SAMPLES)
			continue; /* torn: read again */
		uint32_t first =
		    (next + RG__HISTORY_SAMPLES - count) % RG__HISTORY_SAMPLES;
		for (uint32_t i = 0; i < count; i++)
			out[i] = h->s[(first + i) % RG__HISTORY_SAMPLES];
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&h->seq, memory_order_relaxed) == a)
			return count;
	}
	return 0;
}

static uint64_t at(const struct rg__stats_sample *s, size_t off)
{
	uint64_t v;
	memcpy(&v, (const char *)s + off, sizeof(v));
	return v;
}

/* Least squares rather than (last - first) / time: one sample taken in a
 * burst (a reload's two generations, a flood) moves the line by 1/n, not
 * the whole rate. */
bool rg__history_slope(const struct rg__stats_sample *s, unsigned n, size_t off,
		       double *per_min)
{
	*per_min = 0;
	if (n < 2)
		return false;
	double mx = 0, my = 0;
	for (unsigned i = 0; i < n; i++) {
		mx += (double)(s[i].mono_ms - s[0].mono_ms) / 60000.0;
		my += (double)at(&s[i], off);
	}
	mx /= n;
	my /= n;
	double sxy = 0, sxx = 0;
	for (unsigned i = 0; i < n; i++) {
		double dx =
		    (double)(s[i].mono_ms - s[0].mono_ms) / 60000.0 - mx;
		sxy += dx * ((double)at(&s[i], off) - my);
		sxx += dx * dx;
	}
	if (sxx <= 0)
		return false;
	*per_min = sxy / sxx;
	return true;
}

static void put_rate(struct rg__out *o, const char *name,
		     const struct rg__stats_sample *s, unsigned n, size_t off)
{
	double v;
	if (rg__history_slope(s, n, off, &v))
		rg__put(o, "\"%s\":%.1f", name, v);
	else
		rg__put(o, "\"%s\":null", name);
}

void rg__history_json(struct rg__out *o, const struct rg__stats_history *h)
{
	struct rg__stats_sample s[RG__HISTORY_SAMPLES];
	unsigned n = h ? rg__history_read(h, s) : 0;
	rg__put(o,
		"\"history\":{\"interval_s\":%u,\"capacity\":%u,"
		"\"samples\":[",
		RG__HISTORY_INTERVAL_MS / 1000, RG__HISTORY_SAMPLES);
	for (unsigned i = 0; i < n; i++) {
		rg__put(o,
			"%s{\"t\":%lld,\"workers\":%llu,\"rss\":%llu,"
			"\"reserved\":%llu,\"tiers\":{",
			i ? "," : "", (long long)s[i].unix_s,
			(unsigned long long)s[i].workers,
			(unsigned long long)s[i].rss,
			(unsigned long long)s[i].reserved);
		for (unsigned t = 0; t < RG__TIERS; t++)
			rg__put(o, "%s\"%s\":%llu", t ? "," : "",
				rg__tier_names[t],
				(unsigned long long)s[i].tier[t]);
		rg__put(o, "},\"requests\":%llu}",
			(unsigned long long)s[i].requests);
	}
	double window =
	    n >= 2 ? (double)(s[n - 1].mono_ms - s[0].mono_ms) / 1000.0 : 0.0;
	rg__put(o, "]},\"growth\":{\"window_s\":%.0f,", window);
#define OFF(f) offsetof(struct rg__stats_sample, f)
	put_rate(o, "rss_bytes_per_min", s, n, OFF(rss));
	rg__put(o, ",");
	put_rate(o, "reserved_bytes_per_min", s, n, OFF(reserved));
	rg__put(o, ",\"tiers_bytes_per_min\":{");
	for (unsigned t = 0; t < RG__TIERS; t++) {
		rg__put(o, "%s", t ? "," : "");
		put_rate(o, rg__tier_names[t], s, n,
			 OFF(tier) + t * sizeof(uint64_t));
	}
#undef OFF
	if (window > 0)
		rg__put(o, "},\"requests_per_s\":%.2f}",
			(double)(s[n - 1].requests - s[0].requests) / window);
	else
		rg__put(o, "},\"requests_per_s\":null}");
}
