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

struct rg__worker;
struct rg__conn;
struct rg_request;

/* ------------------------------------------------------------------------
 * The log (access_log.c)
 * ------------------------------------------------------------------------ */

/* Opens config.access_log (O_APPEND, created 0644) and allocates its two
 * buffers, once: 0 or -errno (the server then refuses to start). */
int rg__alog_open(struct rg__worker *w);

/* Waits for a write in flight, writes what is buffered synchronously,
 * closes and frees. Call before the io layer is destroyed. Nothing when
 * the log is off. */
void rg__alog_close(struct rg__worker *w);

/* Log rotation: lines appended so far go to the file open now, later ones
 * to the path opened again. On failure the old file stays, and the error
 * goes to config.log. */
void rg__alog_reopen(struct rg__worker *w);

/* Appends the line of a request that ends (from request_end): its response
 * was written, or it was rejected with a status, or the client went away
 * after its head was parsed (499). Requests that never got a status nor a
 * complete head are not logged. Nothing when the log is off. */
void rg__alog_request(struct rg_request *req);

/* At accept: keeps the peer's address in the connection (one getpeername
 * per connection, only when the log is on). */
void rg__alog_accept(struct rg__conn *c);

/* Before a head the parser rejected is dropped: copies its first line as
 * received into the request's arena, for the log line ($request). */
void rg__alog_reject(struct rg__conn *c);

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
