/* access_log.h: the worker's access log: one line per request in the
 * combined log format (access_log_line.c formats it), appended to a
 * per-worker buffer and written by the io layer without blocking the loop
 * (access_log.c), reopened after rotation. */
#ifndef RG_CORE_ACCESS_LOG_H
#define RG_CORE_ACCESS_LOG_H

#include "ringlet.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct rg__alog; /* a worker's log: its file, buffers, timer */
struct rg__io;
struct rg__timers;
struct rg__request;
struct rg_mem_account;

/* ------------------------------------------------------------------------
 * The log (access_log.c)
 *
 * It never looks at a connection or a request: the worker names what the
 * log uses (its io, timers, memory account, where to report trouble), and
 * a request's end hands it an entry (struct rg__alog_end), as h2o's
 * connections answer their logger through callbacks.
 * ------------------------------------------------------------------------ */

/* What the log uses of the worker that owns it. */
struct rg__alog_host {
	struct rg__io *io;
	struct rg__timers *timers;
	struct rg_mem_account *acct;
	/* Reports trouble (a failed write, dropped lines, a failed reopen):
	 * `limited` when it can repeat quickly (at most one a second). */
	void (*report)(void *arg, bool limited, int level, const char *msg);
	void *arg;
};

/* Opens `path` (O_APPEND, created 0644) and maps its two buffers, once: 0
 * and *out, or -errno (the server then refuses to start). The path must
 * outlive the log. */
int rg__alog_open(struct rg__alog **out, const char *path,
		  const struct rg__alog_host *host);

/* Waits for a write in flight, writes what is buffered synchronously,
 * closes and frees. Call before the io layer is destroyed. */
void rg__alog_close(struct rg__alog *a);

/* Log rotation: lines appended so far go to the file open now, later ones
 * to the path opened again. On failure the old file stays, reported. */
void rg__alog_reopen(struct rg__alog *a);

/* A request that ends, as the log writes it. */
struct rg__alog_end {
	int peer_af;	     /* AF_INET, AF_INET6, AF_UNIX; 0: unknown ("-") */
	const uint8_t *peer; /* 16 bytes (the first 4 for AF_INET) */
	time_t wall;	     /* now, in seconds */
	/* The head as parsed (method, target, version, Referer,
	 * User-Agent), or NULL for one the parser rejected: then `raw_line`
	 * is its first line as received. */
	const struct rg__request *head;
	struct rg_str raw_line;
	unsigned status;
	uint64_t bytes; /* body bytes sent */
};

/* Appends the line of a request that ends. */
void rg__alog_request(struct rg__alog *a, const struct rg__alog_end *e);

/* ------------------------------------------------------------------------
 * The line (access_log_line.c): pure functions, no state
 * ------------------------------------------------------------------------ */

/* "01/Dec/2026:03:10:00 +0000" */
#define RG__ALOG_TIME_LEN 26
/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" */
#define RG__ALOG_ADDR_LEN 46

/* Escaped bytes kept of each quoted field; a longer one is cut there (at
 * a whole byte or escape) and ends with "...". */
#define RG__ALOG_REQUEST_MAX 4096
#define RG__ALOG_FIELD_MAX 2048
/* The same for a rejected head's first line, logged as received. */
#define RG__ALOG_RAW_MAX 1024
/* The longest line rg__alog_format can produce. */
#define RG__ALOG_LINE_MAX                                                      \
	(RG__ALOG_ADDR_LEN + RG__ALOG_TIME_LEN + RG__ALOG_REQUEST_MAX +        \
	 2 * RG__ALOG_FIELD_MAX + 3 * 3 + 64)

struct rg__alog_entry {
	struct rg_str addr; /* the client's address as text */
	const char *time;   /* RG__ALOG_TIME_LEN bytes */
	/* The request line: method, target and HTTP/1.version_minor as
	 * parsed; or, when method.ptr is NULL, `target` alone is the line as
	 * received (a rejected head). */
	struct rg_str method, target;
	unsigned version_minor;
	unsigned status;
	uint64_t bytes;				   /* body bytes sent */
	const struct rg_str *referer, *user_agent; /* NULL: "-" */
};

/* Writes the line for `e`, newline included, into out[0, cap): its
 * length, or 0 (out partly written) when it does not fit. Quoted fields
 * have '"', '\\', control and non-ASCII bytes as \xHH (as nginx does), so
 * that a client cannot end a field or a line. */
size_t rg__alog_format(char *out, size_t cap, const struct rg__alog_entry *e);

/* The time field for local time `tm` (tm_gmtoff gives the zone), years
 * clamped to 0000-9999; NUL-terminated. */
void rg__alog_format_time(char out[RG__ALOG_TIME_LEN + 1], const struct tm *tm);

/* The address `addr` of family `af` (AF_INET: 4 bytes, AF_INET6: 16;
 * IPv4-mapped IPv6 addresses are shown as IPv4), "unix:" for AF_UNIX, "-"
 * for anything else; NUL-terminated; returns the length. */
size_t rg__alog_format_addr(char out[RG__ALOG_ADDR_LEN + 1], int af,
			    const uint8_t *addr);

/* Escapes s[0, n) into out as above, writing at most `max` bytes: an
 * input byte whose output would pass `max` is left out, with everything
 * after it, and *cut set. Returns the bytes written. */
size_t rg__alog_escape(char *out, size_t max, const char *s, size_t n,
		       bool *cut);

#endif
