/* access_log.c: the worker's access log file: the line of each request,
 * two buffers (lines go into one while the io layer writes the other, so a
 * slow disk never blocks the loop), a flush at least once a second, and
 * reopening after rotation. The buffers are mapped once, at open: a line
 * costs no allocation. */
#include "core/access_log.h"

#include "core/container.h"
#include "core/timer.h"
#include "http/parser.h"
#include "io/io.h"
#include "mem/account.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Each of the two buffers. At 150k lines/s 64 KiB fill in about 5 ms; a
 * write that takes longer (io_uring's worker thread waiting for a busy
 * CPU, a disk stall) makes lines drop, counted and reported. Measured on
 * 2 CPUs under wrk: 0-2% dropped per run with 64 KiB, none with 512 KiB.
 * Pages are touched only as lines fill them: a quiet server pays for what
 * a second of its traffic needs. */
#define ALOG_BUF_SIZE ((uint32_t)512 * 1024)
#define ALOG_FLUSH_MS 1000
#define ALOG_OPEN_FLAGS (O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC)
/* How long closing waits for a write in flight, in rg__io_wait rounds. */
#define ALOG_CLOSE_WAITS 100
#define ALOG_CLOSE_WAIT_MS 100

_Static_assert(RG__ALOG_LINE_MAX <= ALOG_BUF_SIZE,
	       "any line fits an empty buffer");

struct alog_buf {
	char *data;
	uint32_t len;	/* bytes appended */
	uint32_t off;	/* bytes written out (or lost) */
	uint32_t split; /* [0, split) was appended before a reopen: it goes
			   to old_fd, the rest to fd */
};

struct rg__alog {
	struct rg__alog_host host;
	const char *path; /* config.access_log: lives as long as the server */
	int fd;
	int old_fd; /* the file before a reopen, while bytes for it remain;
		       -1 otherwise */
	struct alog_buf buf[2];
	unsigned fill;	  /* the buffer lines are appended to */
	int writing;	  /* the buffer the io layer is writing, or -1 */
	unsigned retries; /* of the piece being written */
	bool flush_due;	  /* the timer fired while a write was in flight */
	bool reopen_due;  /* a reopen came while old_fd was still needed */
	bool closing;	  /* rg__alog_close: start no more writes */
	struct rg__io_op op;
	struct rg__timer timer;
	time_t second; /* the second `time` shows */
	char time[RG__ALOG_TIME_LEN + 1];
	/* The last client address formatted, and its text: most lines in a
	 * row come from few clients (a proxy, a load balancer). */
	int addr_af; /* -1 until the first */
	uint8_t addr_peer[16];
	char addr[RG__ALOG_ADDR_LEN + 1];
	size_t addr_len;
	uint64_t dropped; /* lines lost: no buffer free, or a failed write */
	size_t map_size;
};

/* The structure, then the two buffers, in one mapping. */
#define ALOG_HEAD_SIZE ((sizeof(struct rg__alog) + 63) & ~(size_t)63)

static void on_written(struct rg__io_op *op, int res);

__attribute__((format(printf, 4, 5))) static void
say(const struct rg__alog *a, bool limited, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	a->host.report(a->host.arg, limited, level, msg);
}

static uint64_t count_lines(const char *p, size_t n)
{
	uint64_t lines = 0;
	for (const char *end = p + n; (p = memchr(p, '\n', (size_t)(end - p)));
	     p++)
		lines++;
	return lines;
}

/* The piece of `b` to write next: [b->off, *end) to the returned fd. */
static int piece(const struct rg__alog *a, const struct alog_buf *b,
		 uint32_t *end)
{
	bool old = b->off < b->split;
	*end = old ? b->split : b->len;
	return old ? a->old_fd : a->fd;
}

/* The piece [b->off, end) could not be written: its lines are lost. */
static void lost(struct rg__alog *a, struct alog_buf *b, uint32_t end, int err)
{
	uint64_t lines = count_lines(b->data + b->off, end - b->off);
	a->dropped += lines;
	b->off = end;
	say(a, true, RG_LOG_ERROR,
	    "access log %s: write failed: %s; %" PRIu64 " lines lost (%" PRIu64
	    " in all)",
	    a->path, strerror(-err), lines, a->dropped);
}

static void buf_reset(struct alog_buf *b)
{
	b->len = b->off = b->split = 0;
}

static void flush(struct rg__alog *a);

/* The buffer being written is done. */
static void written(struct rg__alog *a)
{
	buf_reset(&a->buf[a->writing]);
	a->writing = -1;
	struct alog_buf *f = &a->buf[a->fill];
	if (a->old_fd >= 0 && f->split == 0) {
		/* Everything meant for the file before the reopen is out. */
		close(a->old_fd);
		a->old_fd = -1;
		if (a->reopen_due) {
			a->reopen_due = false;
			rg__alog_reopen(a);
		}
	}
	if (f->len && (a->flush_due || f->split ||
		       f->len > ALOG_BUF_SIZE - RG__ALOG_LINE_MAX))
		flush(a);
}

/* Starts the next piece of the buffer being written, or ends it. */
static void write_next(struct rg__alog *a)
{
	struct alog_buf *b = &a->buf[a->writing];
	while (b->off < b->len) {
		uint32_t end;
		int fd = piece(a, b, &end);
		int err = rg__io_write(a->host.io, &a->op, fd, b->data + b->off,
				       end - b->off, on_written);
		if (err == 0)
			return;
		lost(a, b, end, err);
	}
	written(a);
}

static void on_written(struct rg__io_op *op, int res)
{
	struct rg__alog *a = RG__CONTAINER(op, struct rg__alog, op);
	struct alog_buf *b = &a->buf[a->writing];
	uint32_t end;
	piece(a, b, &end);
	if (res >= 0) {
		b->off = end;
		a->retries = 0;
	} else {
		b->off += op->off; /* what went out before the error */
		bool again = res == -EINTR || res == -EAGAIN;
		if (!again || a->retries++ >= 3) {
			a->retries = 0;
			lost(a, b, end, res);
		}
	}
	if (!a->closing) /* else rg__alog_close writes the rest */
		write_next(a);
}

/* Hands the buffer being filled to the io layer and fills the other one,
 * which the io layer is done with. Nothing while a write is in flight:
 * its completion looks again. */
static void flush(struct rg__alog *a)
{
	if (a->writing >= 0 || a->closing || !a->buf[a->fill].len)
		return;
	a->writing = (int)a->fill;
	a->fill ^= 1;
	a->flush_due = false;
	write_next(a);
}

static void on_timer(struct rg__timer *t)
{
	struct rg__alog *a = RG__CONTAINER(t, struct rg__alog, timer);
	if (a->writing >= 0)
		a->flush_due = true;
	else
		flush(a);
}

/* ------------------------------------------------------------------------
 * Lines
 * ------------------------------------------------------------------------ */

static void append(struct rg__alog *a, const struct rg__alog_entry *e)
{
	struct alog_buf *b = &a->buf[a->fill];
	size_t n = rg__alog_format(b->data + b->len, ALOG_BUF_SIZE - b->len, e);
	if (!n) {
		/* Full: write it and take the other buffer, unless that one
		 * is still being written. Then the line is dropped rather
		 * than the loop blocked or memory taken. */
		if (a->writing >= 0 || !b->len) {
			a->dropped++;
			say(a, true, RG_LOG_WARN,
			    "access log %s: the disk is slower than the "
			    "requests: %" PRIu64 " lines dropped so far",
			    a->path, a->dropped);
			return;
		}
		flush(a);
		b = &a->buf[a->fill];
		n = rg__alog_format(b->data + b->len, ALOG_BUF_SIZE - b->len,
				    e);
	}
	struct rg__timers *ts = a->host.timers;
	if (!b->len && !rg__timer_armed(&a->timer))
		rg__timer_add(ts, &a->timer, ts->now + ALOG_FLUSH_MS);
	b->len += (uint32_t)n;
}

void rg__alog_request(struct rg__alog *a, const struct rg__alog_end *end)
{
	struct rg__alog_entry e = {.status = end->status, .bytes = end->bytes};
	if (end->head) {
		const struct rg__request *h = end->head;
		e.method = h->method;
		e.target = h->target;
		e.version_minor = h->version_minor;
		const struct rg_header *ref =
		    rg__request_header(h, "Referer", 7);
		const struct rg_header *ua =
		    rg__request_header(h, "User-Agent", 10);
		e.referer = ref ? &ref->value : NULL;
		e.user_agent = ua ? &ua->value : NULL;
	} else {
		e.target = end->raw_line;
	}
	if (end->peer_af != a->addr_af ||
	    memcmp(end->peer, a->addr_peer, sizeof(a->addr_peer))) {
		a->addr_len =
		    rg__alog_format_addr(a->addr, end->peer_af, end->peer);
		a->addr_af = end->peer_af;
		memcpy(a->addr_peer, end->peer, sizeof(a->addr_peer));
	}
	e.addr = (struct rg_str){a->addr, a->addr_len};
	if (end->wall != a->second) {
		struct tm tm;
		if (localtime_r(&end->wall, &tm)) {
			rg__alog_format_time(a->time, &tm);
			a->second = end->wall;
		}
	}
	e.time = a->time;
	append(a, &e);
}

/* ------------------------------------------------------------------------
 * Open, close, reopen
 * ------------------------------------------------------------------------ */

int rg__alog_open(struct rg__alog **out, const char *path,
		  const struct rg__alog_host *host)
{
	char msg[256];
	int fd = open(path, ALOG_OPEN_FLAGS, 0644);
	if (fd < 0) {
		int err = errno;
		snprintf(msg, sizeof(msg), "cannot open the access log %s: %s",
			 path, strerror(err));
		host->report(host->arg, false, RG_LOG_ERROR, msg);
		return -err;
	}
	size_t size = ALOG_HEAD_SIZE + 2 * (size_t)ALOG_BUF_SIZE;
	char *m = rg__sys_map(host->acct, size, RG__MEM_ESSENTIAL);
	if (!m) {
		snprintf(msg, sizeof(msg),
			 "cannot map the access log's buffers (%zu bytes): %s",
			 size, strerror(ENOMEM));
		host->report(host->arg, false, RG_LOG_ERROR, msg);
		close(fd);
		return -ENOMEM;
	}
	struct rg__alog *a = (struct rg__alog *)(void *)m;
	*a = (struct rg__alog){
	    .host = *host,
	    .path = path,
	    .fd = fd,
	    .old_fd = -1,
	    .writing = -1,
	    .second = -1,
	    .addr_af = -1,
	    .map_size = size,
	};
	a->buf[0].data = m + ALOG_HEAD_SIZE;
	a->buf[1].data = a->buf[0].data + ALOG_BUF_SIZE;
	a->timer.fire = on_timer;
	/* The first localtime_r reads the zone file (and allocates): here,
	 * not under the first request. */
	time_t now = time(NULL);
	struct tm tm;
	if (localtime_r(&now, &tm)) {
		rg__alog_format_time(a->time, &tm);
		a->second = now;
	}
	*out = a;
	return 0;
}

/* Writes what remains of `b` now, blocking (closing only). */
static void write_sync(struct rg__alog *a, struct alog_buf *b)
{
	while (b->off < b->len) {
		uint32_t end;
		int fd = piece(a, b, &end);
		ssize_t n = write(fd, b->data + b->off, end - b->off);
		if (n > 0)
			b->off += (uint32_t)n;
		else if (n == 0)
			lost(a, b, end, -EIO);
		else if (errno != EINTR)
			lost(a, b, end, -errno);
	}
}

void rg__alog_close(struct rg__alog *a)
{
	a->closing = true;
	rg__timer_del(a->host.timers, &a->timer);
	/* The kernel reads a buffer being written until its completion: wait
	 * for it (nothing else runs now: the worker is quiet). */
	for (int i = 0; i < ALOG_CLOSE_WAITS && a->op.kind != RG__IO_NONE; i++)
		if (rg__io_wait(a->host.io, ALOG_CLOSE_WAIT_MS) < 0 &&
		    a->op.kind != RG__IO_NONE)
			break;
	if (a->op.kind != RG__IO_NONE) {
		/* Stuck (a hung file system): the mapping is left to the
		 * kernel rather than freed under it. */
		say(a, false, RG_LOG_ERROR,
		    "access log %s: a write did not complete in %d ms; the "
		    "lines after it are lost",
		    a->path, ALOG_CLOSE_WAITS * ALOG_CLOSE_WAIT_MS);
		return;
	}
	if (a->writing >= 0)
		write_sync(a, &a->buf[a->writing]);
	write_sync(a, &a->buf[a->fill]);
	if (a->dropped)
		say(a, false, RG_LOG_WARN,
		    "access log %s: %" PRIu64 " lines lost", a->path,
		    a->dropped);
	if (a->old_fd >= 0)
		close(a->old_fd);
	close(a->fd);
	rg__sys_unmap(a->host.acct, a, a->map_size);
}

void rg__alog_reopen(struct rg__alog *a)
{
	if (a->old_fd >= 0) {
		a->reopen_due = true; /* when the last rotation is done */
		return;
	}
	int fd = open(a->path, ALOG_OPEN_FLAGS, 0644);
	if (fd < 0) {
		say(a, false, RG_LOG_ERROR,
		    "access log %s: cannot reopen: %s; still writing to the "
		    "file open before",
		    a->path, strerror(errno));
		return;
	}
	a->old_fd = a->fd;
	a->fd = fd;
	bool pending = false;
	for (int i = 0; i < 2; i++) {
		a->buf[i].split = a->buf[i].len;
		pending |= a->buf[i].off < a->buf[i].len;
	}
	say(a, false, RG_LOG_DEBUG,
	    "access log %s reopened; %u + %u bytes still for the old file",
	    a->path, a->buf[0].len - a->buf[0].off,
	    a->buf[1].len - a->buf[1].off);
	if (!pending) {
		close(a->old_fd);
		a->old_fd = -1;
		a->buf[0].split = a->buf[1].split = 0;
		return;
	}
	flush(a); /* the old file's last lines, now (or after the write in
		     flight) */
}
