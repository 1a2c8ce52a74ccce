/* server.h: the server's internal state shared by its files: the worker
 * (server.c: loop, accept, stop), connections (conn.c) and their input
 * (inq.c), requests and responses (request.c, body.c, sendfile.c),
 * suspending calls (suspend.c) and statistics (stats.c, metrics.c). */
#ifndef RG_CORE_SERVER_H
#define RG_CORE_SERVER_H

#include "ringlet.h"

#include "core/container.h"
#include "core/coro.h"
#include "core/router.h"
#include "core/timer.h"
#include "http/addr.h"
#include "http/parser.h"
#include "http/response.h"
#include "io/io.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

/* Output buffer of a connection with a response in flight (a slab class). */
#define RG__OUT_SIZE 16384
/* After a final response with Connection: close, input is read and
 * dropped this long before closing, so that the client reads the response
 * instead of a reset (nginx's lingering close). */
#define RG__LINGER_MS 2000

/* ------------------------------------------------------------------------
 * Input queue: bytes received and not consumed yet, in the order received.
 * Each segment is a receive buffer kept from the io layer, or a slab buffer
 * (where a head that spans receive buffers is gathered). The queue itself
 * is a slab buffer that exists only while bytes are pending.
 * ------------------------------------------------------------------------ */

enum rg__buf_kind {
	RG__BUF_LENT, /* lent by the running receive callback, not kept yet */
	RG__BUF_KEPT, /* kept from the io layer: rg__io_buf_free */
	RG__BUF_SLAB, /* from the slab: rg_slab_free(cap) */
};

struct rg__seg {
	char *buf;
	uint32_t off, len, cap;
	uint32_t kind; /* enum rg__buf_kind */
};

struct rg__inq {
	uint32_t n, max; /* segments used, segments that fit */
	uint64_t bytes;	 /* unconsumed bytes in all segments */
	size_t size;	 /* slab size of this queue */
	struct rg__seg seg[];
};

/* ------------------------------------------------------------------------
 * Connection: one pool object, at most 256 bytes; while idle it holds no
 * buffer, no arena and no coroutine.
 * ------------------------------------------------------------------------ */

enum {
	RG__C_CLOSING = 0x01,  /* fd closed or closing: release when quiet */
	RG__C_DIRTY = 0x02,    /* on the worker's flush list */
	RG__C_PAUSED = 0x04,   /* receive cancelled: input queue full */
	RG__C_EOF = 0x08,      /* the client sent FIN, or receive failed */
	RG__C_LAST = 0x10,     /* no request after the current one */
	RG__C_LINGER = 0x20,   /* final response sent, draining input */
	RG__C_HANDLER = 0x40,  /* a request's handler is suspended */
	RG__C_TIMEDOUT = 0x80, /* a timeout closed it */
	RG__C_SERVED = 0x100,  /* a response was completed on it */
	RG__C_PEER = 0x200,    /* peer_* hold the client's address */
	RG__C_PROXY = 0x400,   /* its PROXY header is still to be read */
};

struct rg__conn {
	struct rg__io_op rx, tx;
	struct rg__timer timer;
	uint64_t deadline;    /* of the current state; 0 = none */
	uint64_t tx_deadline; /* of the send in flight */
	struct rg__worker *w;
	struct rg__inq *in;	    /* NULL when no byte is pending */
	char *out;		    /* NULL when no byte is pending */
	uint32_t out_len, out_sent; /* pending; in flight at out[0, sent) */
	struct rg_request *req;	    /* in its arena; NULL between requests */
	struct rg__conn *dirty_next;
	struct rg__conn *prev, *next; /* the worker's live connections */
	int fd;
	uint16_t flags;
	/* The client's address (rg__conn_peer): family (AF_INET/AF_INET6/
	 * AF_UNIX; 0 = not known), bytes and port, asked once per
	 * connection: at accept when the access log is on, else when a
	 * handler first wants it. */
	uint8_t peer_af;
	uint16_t peer_port;
	uint8_t peer[16];
};
_Static_assert(sizeof(struct rg__conn) <= 256,
	       "an idle connection costs at most 256 bytes");

/* ------------------------------------------------------------------------
 * Request: lives in its arena, from the first byte of its head until its
 * response is written.
 * ------------------------------------------------------------------------ */

enum rg__wait {
	RG__WAIT_NONE,
	RG__WAIT_BODY,	   /* rg_body_read: bytes, end or error */
	RG__WAIT_OUTPUT,   /* the output buffer to drain */
	RG__WAIT_WRITABLE, /* rg_stream_file: the socket to take more */
	RG__WAIT_OTHER,	   /* sleep, upstream socket: not the connection */
};

enum rg__resp_state { RG__RESP_NONE, RG__RESP_STREAM, RG__RESP_DONE };

/* What a handler suspended in rg_sleep or a socket call waits on
 * (suspend.c): the io operation, its timer, and a connect's address, all
 * read by the loop while the handler is away. */
struct rg__waiter {
	struct rg__io_op op;
	struct rg__timer timer;
	struct rg_request *req;
	struct rg__worker *w;
	bool timed_out;
	struct sockaddr_storage addr;
};

struct rg_request {
	struct rg__conn *conn;
	struct rg_arena *arena;
	void *task;	   /* the runner's, while its handler is suspended */
	bool coro_ok;	   /* its handler runs on a task that can suspend */
	bool wait_refused; /* rg__request_no_wait: 500 if it did not answer */
	struct rg__parser parser;
	struct rg__request head;
	/* The client a trusted proxy's forwarding header named; family 0:
	 * the connection's peer (rg__request_client). */
	struct rg__addr client;
	/* The buffer the head is in; the slices point into it. Owned by the
	 * request once it left the input queue (pin_owned). */
	struct rg__seg pin;
	bool pin_owned;
	/* Body */
	bool body_done;
	bool continued; /* 100 Continue sent, or not needed: body bytes came */
	uint64_t body_left; /* Content-Length bytes not read yet */
	struct rg__chunked chunked;
	/* Suspension */
	struct rg__waiter *waiter; /* RG__WAIT_OTHER: what it waits on */
	uint8_t wait;		   /* enum rg__wait */
	int wait_res;
	/* Response */
	uint8_t resp;	   /* enum rg__resp_state */
	uint8_t resp_body; /* RG__RESP_RAW_BODY/CHUNKED_BODY/NO_BODY */
	bool resp_close;
	int64_t resp_left; /* Content-Length bytes still to write; -1 none */
	struct rg_str resp_reason; /* rg_reason_set's, or none */
	struct rg_header *resp_headers;
	uint32_t resp_nheaders, resp_cap;
	/* For the access log: status sent, body bytes sent. */
	uint16_t status;
	uint64_t body_sent;
	/* For the duration histogram: the loop's clock when the request's
	 * first bytes were parsed (worker.now_ns). */
	uint64_t start_ns;
	/* A head the parser rejected: its first line as received, copied
	 * into the arena (access_log.c); ptr NULL otherwise. */
	struct rg_str raw_line;

	/* Not zeroed when the request is made (RG__REQUEST_ZEROED): each is
	 * written whole before it is read, and together they are half the
	 * struct (552 of 1192 bytes, 40 instructions of memset a request). */
	struct rg__route_match route; /* by rg__router_match */
	struct rg__waiter wait_on;    /* where a suspended handler waits:
					 in the request, not on its stack
					 (suspend.c's waiter_init) */
};
/* The bytes of a new request that start zeroed: all before `route`. */
#define RG__REQUEST_ZEROED offsetof(struct rg_request, route)

/* ------------------------------------------------------------------------
 * Worker: the event loop and every pool it draws from.
 * ------------------------------------------------------------------------ */

/* Events whose messages rg__log_limited rate-limits (log.c). */
enum rg__log_event {
	RG__LOG_EV_ACCEPT,     /* accept failed (EMFILE, ENFILE...) */
	RG__LOG_EV_CONN_POOL,  /* connection pool exhausted: 503 */
	RG__LOG_EV_MEMORY,     /* memory limit or pool cap: a refusal */
	RG__LOG_EV_ACCESS_LOG, /* access log write failed, lines dropped */
	RG__LOG_EV_UNDERSCORE, /* header fields with '_' dropped (debug) */
	RG__LOG_EV_PROXY,      /* a connection without a valid PROXY header */
	RG__LOG_EV_INLINE,     /* an inline handler would have waited */
	RG__LOG_EVENTS
};

struct rg__worker {
	struct rg_server *server;
	struct rg__io *io;
	struct rg__timers timers;
	struct rg__coro_sched sched;
	struct rg_runner runner; /* config.runner, or coroutines on sched */
	struct rg_pool *conns, *stacks, *blocks;
	struct rg_slab *slab;
	struct rg__date_cache date;
	struct rg__parse_limits limits;
	struct rg__conn *dirty; /* connections with output to send */
	struct rg__conn *live;	/* every open connection */
	struct rg__listener {
		struct rg__io_op op; /* multishot accept */
		struct rg__worker *w;
		int fd;
	} listeners[RG_MAX_LISTEN];
	unsigned nlisteners;
	struct rg__io_op wake_op;
	struct rg__timer accept_retry;
	struct rg__timer shutdown; /* shutdown_timeout_ms after the stop */
	struct rg__timer drain;	   /* drain_delay_ms: then the stop */
	struct rg__timer publish;  /* statistics to the shared board */
	struct rg__timer trim;	   /* pools given back when idle */
	uint64_t wake_buf;
	int wake_fd;
	bool stopping;
	bool draining;	 /* before the stop: keep-alive off, health 503 */
	time_t wall;	 /* the loop's wall clock second, for Date */
	uint64_t now_ns; /* the loop's CLOCK_MONOTONIC, whose ms timers.now
			    holds: when a request starts */
	struct rg_server_stats stats; /* the counters; memory figures filled
					 in by rg_server_stats */
	struct rg__alog *alog;	      /* access log; NULL = none */
	/* rg__log_limited: when each event was last reported, and how many
	 * reports were held back since. */
	struct rg__log_limit {
		uint64_t last_ms;
		uint64_t held;
		uint64_t seen; /* memory: the account's failures last seen */
	} log_limits[RG__LOG_EVENTS];
};

struct rg_server {
	struct rg_server_config config;
	struct rg__router router;
	struct rg__worker w;
	struct rg_mem_account account;
	struct rg_status_config status; /* rg_status_routes' copy */
	volatile sig_atomic_t stop;
	volatile sig_atomic_t retire; /* stop without the drain */
	volatile sig_atomic_t reopen_logs;
	bool running;
};

/* conn.c */
/* Fills c->peer_* once per connection (RG__C_PEER). */
void rg__conn_peer(struct rg__conn *c);

/* The request's client: the one its trusted proxy named, else the
 * connection's peer (family 0 when not known). */
struct rg__addr rg__request_client(struct rg_request *req);
void rg__conn_accept(struct rg__worker *w, int fd);
void rg__conn_flush_all(struct rg__worker *w);
void rg__conn_close(struct rg__conn *c);
/* Graceful stop: closes idle connections, ends the others after their
 * current response. */
void rg__conn_close_idle(struct rg__worker *w);
void rg__conn_release(struct rg__conn *c);
/* Puts the connection on the flush list, handled at the end of the loop
 * iteration: pending output is sent, a closing connection released. */
void rg__conn_dirty(struct rg__conn *c);
/* Continues a suspended handler; then, if it finished, the connection. */
void rg__request_wake(struct rg_request *req, int res);
/* Copies data[0, n) into the output buffer, suspending while it is full.
 * 0 or -ECONNRESET. */
int rg__conn_write(struct rg__conn *c, const void *data, size_t n);
/* Makes room for `n` contiguous bytes in the output buffer, suspending the
 * handler while it drains: 0, -E2BIG, -ENOMEM, -ECONNRESET. */
int rg__conn_reserve(struct rg__conn *c, size_t n);
/* Suspends the handler until the socket takes more bytes (after a write of
 * its own met EAGAIN), at most write_timeout_ms: 0, -ETIMEDOUT (the
 * connection is then closed), -ECONNRESET. */
int rg__conn_wait_writable(struct rg__conn *c);
/* The output buffer to append to, and its new length once appended. */
struct rg__wbuf rg__conn_wbuf(struct rg__conn *c);
void rg__conn_wrote(struct rg__conn *c, size_t new_len);

/* inq.c */
/* Appends n received bytes from the receive buffer lent by the io layer:
 * 0, or -ENOBUFS when the slab is exhausted. */
int rg__inq_push(struct rg__conn *c, char *buf, uint32_t n);
/* Called before a receive callback returns: keeps the lent buffer from the
 * io layer if a segment (or the request's head) still points into it. */
void rg__inq_keep_lent(struct rg__conn *c, char *buf);
/* Moves the head at the front, which spans segments or fills its buffer,
 * into one header buffer: 0, -EMSGSIZE when it cannot grow (431), or
 * -ENOBUFS. */
int rg__inq_gather(struct rg__conn *c);
/* Consumes up to n bytes of input into dst (dst NULL: drops them). */
size_t rg__inq_take(struct rg__conn *c, char *dst, size_t n);
/* Releases the consumed segments at the front of the input queue. */
void rg__inq_trim(struct rg__conn *c);
/* Releases every segment (the request takes over the one its head is in)
 * and the queue itself. */
void rg__inq_free(struct rg__conn *c);
/* Returns a segment's buffer to where it came from. */
void rg__buf_release(struct rg__worker *w, const struct rg__seg *s);

/* sockaddr.c: numeric `host` and `port` as *ss (*len bytes): 0, or
 * -EINVAL when host is no IPv4 or IPv6 address. */
int rg__sockaddr(const char *host, uint16_t port, struct sockaddr_storage *ss,
		 socklen_t *len);

/* log.c: formats a message and hands it to config.log (if set). */
__attribute__((format(printf, 3, 4))) void
rg__log(struct rg__worker *w, int level, const char *fmt, ...);
/* The same for an event that can repeat quickly (an accept failing, the
 * connection pool exhausted): at most one message per event and second;
 * the next one says how many were held back. */
__attribute__((format(printf, 4, 5))) void
rg__log_limited(struct rg__worker *w, enum rg__log_event ev, int level,
		const char *fmt, ...);
/* Rate-limited: a refusal for lack of memory (`what` could not be had),
 * saying whether memory_limit or a pool's cap was reached. */
void rg__log_no_memory(struct rg__worker *w, const char *what);

/* stats.c: copies the worker's statistics to its slot of the shared board
 * (config.stats_board); nothing without one. */
void rg__stats_publish(struct rg__worker *w);

/* request.c: a handler runs on the worker's runner (rg_runner: C
 * coroutines by default), started here and resumed here, never by calling
 * the coroutines directly, so that another kind of task can take their
 * place. */
void rg__request_run(void *arg); /* a task's body */
/* The head of a response to `req`: its version, keep-alive (unless the
 * connection ends or the worker stops), HEAD, the headers the handler
 * added, the Date. For handlers' responses and the server's own. */
struct rg__response_head rg__request_head(struct rg_request *req, int status,
					  const char *type);
/* Starts the request's handler: 0, or -errno (no task could be had). */
int rg__request_start(struct rg_request *req);
/* Runs the handler of a route of rg_route_inline at once, on the loop's
 * stack (req->coro_ok false). */
void rg__request_inline(struct rg_request *req);
/* What a call that would suspend the inline handler of `req` gets: the
 * refusal logged (rate-limited) and remembered, so that the request is
 * answered 500 if its handler ends without responding. -EWOULDBLOCK. */
int rg__request_no_wait(struct rg_request *req);
/* Continues its suspended handler until it suspends again or returns. */
void rg__request_resume(struct rg_request *req);
int rg__request_finish(struct rg_request *req);

/* body.c: 1 when the body is fully consumed, 0 if bytes are missing,
 * -errno. Drops whatever the handler did not read. */
int rg__body_drain(struct rg_request *req);
/* The body bytes available now, decoded: up to n into buf (NULL drops). */
long rg__body_take(struct rg_request *req, char *buf, size_t n);

/* suspend.c: ends the wait of a handler suspended in rg_sleep or a socket
 * call at once (-ECANCELED): the shutdown timeout has passed. */
void rg__suspend_cancel(struct rg_request *req);

/* The request whose handler runs now, or NULL on the loop. */
struct rg_request *rg__request_current(void);
/* Suspends the running handler until rg__request_wake(req, res); returns
 * res. */
int rg__request_suspend(struct rg_request *req, enum rg__wait why);

#endif /* RG_CORE_SERVER_H */
