/* ringlet.h: the one public header of ringlet, an HTTP/1.1 server framework.
 *
 * Conventions: functions return 0 or a negative errno unless they return a
 * pointer (NULL on failure); the allocator or owner comes first in every
 * signature; every pointer returned says how long it lives. */
#ifndef RINGLET_H
#define RINGLET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RG_VERSION "0.1.0"

/* A slice of bytes, not NUL-terminated. Slices of a request point into the
 * connection's receive buffer or the request's arena: valid until the
 * request's arena is reset (the response is done). */
struct rg_str {
	const char *ptr;
	size_t len;
};

/* A header field as received: name and value, value without surrounding
 * whitespace. */
struct rg_header {
	struct rg_str name;
	struct rg_str value;
};

/* ------------------------------------------------------------------------
 * Memory accounting
 *
 * Every tier charges what it takes from the system (mappings, heap spills)
 * to one account per worker. The account is a plain struct of counters so it
 * can live in shared memory; fill in `limit` and zero the rest.
 * ------------------------------------------------------------------------ */

struct rg_mem_account {
	uint64_t limit;	   /* bytes; 0 = unlimited (memory_limit) */
	uint64_t reserved; /* bytes currently taken from the system */
	uint64_t peak;	   /* high-water mark of `reserved` */
	uint64_t failures; /* requests refused because of `limit` */
};

/* ------------------------------------------------------------------------
 * Tier 2: object pool
 *
 * Fixed-size objects carved from large mappings, handed out LIFO (the most
 * recently freed object first, for cache warmth). get and put are O(1) and
 * never call malloc. Not thread-safe: one pool per worker.
 * ------------------------------------------------------------------------ */

struct rg_pool;

struct rg_pool_config {
	size_t object_size; /* bytes per object; rounded up to 16 */
	size_t initial;	    /* objects mapped at creation */
	size_t grow_by;	    /* objects mapped per growth step (fewer when the
			       memory limit leaves less room); 0 = never grow */
	size_t max;	    /* hard cap on objects; 0 = `initial` */
	int guard_pages;    /* nonzero: page-align objects, PROT_NONE page below
			       each one (coroutine stacks) */
};

struct rg_pool_stats {
	uint64_t object_size;	 /* bytes per object after rounding */
	uint64_t capacity;	 /* objects mapped now */
	uint64_t max;		 /* hard cap */
	uint64_t in_use;	 /* objects handed out now */
	uint64_t high_water;	 /* most objects ever handed out at once */
	uint64_t gets;		 /* successful gets */
	uint64_t failures;	 /* gets refused (cap or memory limit) */
	uint64_t bytes_reserved; /* bytes mapped, headers and guards included */
};

/* Creates a pool and maps `initial` objects up front. `account` may be NULL.
 * Returns NULL (errno set) on a bad config or if the mapping fails. */
struct rg_pool *rg_pool_create(const struct rg_pool_config *config,
			       struct rg_mem_account *account);

/* Unmaps every chunk. Objects still out become invalid. */
void rg_pool_destroy(struct rg_pool *pool);

/* An object of `object_size` bytes, or NULL when the cap or the memory limit
 * is reached (counted in `failures`). Contents are unspecified. */
void *rg_pool_get(struct rg_pool *pool);

/* Returns an object obtained from rg_pool_get of the same pool. */
void rg_pool_put(struct rg_pool *pool, void *object);

/* Object size after rounding. */
size_t rg_pool_object_size(const struct rg_pool *pool);

void rg_pool_stats(const struct rg_pool *pool, struct rg_pool_stats *out);

/* ------------------------------------------------------------------------
 * Tier 3: buffer slab
 *
 * Size classes, each backed by a pool. A buffer belongs to the class of the
 * size it was asked with; free it with the same size.
 * ------------------------------------------------------------------------ */

#define RG_SLAB_MAX_CLASSES 8

struct rg_slab;

struct rg_slab_config {
	size_t sizes[RG_SLAB_MAX_CLASSES]; /* any order, the same size once
					      or more; 0 ends the list; all
					      zero = 256, 1024, 8192 */
	size_t initial;			   /* buffers mapped per class */
	size_t max;			   /* cap per class; 0 = `initial` */
};

struct rg_slab_class_stats {
	uint64_t size;	      /* class size in bytes */
	uint64_t allocs;      /* buffers handed out, ever */
	uint64_t bytes_asked; /* sum of the sizes asked for */
	uint64_t bytes_given; /* sum of the class sizes given */
	struct rg_pool_stats pool;
};

struct rg_slab_stats {
	unsigned nclasses;
	uint64_t too_large; /* requests above the largest class */
	struct rg_slab_class_stats classes[RG_SLAB_MAX_CLASSES];
};

/* Creates the slab with one pool per class; NULL (errno set) on failure. */
struct rg_slab *rg_slab_create(const struct rg_slab_config *config,
			       struct rg_mem_account *account);
void rg_slab_destroy(struct rg_slab *slab);

/* A buffer of at least `size` bytes from the smallest class that fits, or
 * NULL if `size` exceeds the largest class (the caller falls back to the
 * arena or heap) or the class is exhausted. `*capacity`, if not NULL,
 * receives the class size: the whole of it may be used. */
void *rg_slab_alloc(struct rg_slab *slab, size_t size, size_t *capacity);

/* Returns a buffer; `size` is the size it was asked with (or its capacity). */
void rg_slab_free(struct rg_slab *slab, void *buffer, size_t size);

void rg_slab_stats(const struct rg_slab *slab, struct rg_slab_stats *out);

/* ------------------------------------------------------------------------
 * Tier 1: request arena
 *
 * A bump allocator over fixed-size blocks drawn from a pool (the block
 * source). The arena's own header lives in its first block. Allocations
 * larger than a quarter of a block go to the heap, are tracked, and are
 * freed at reset ("spills"). Everything an arena hands out stays valid until
 * the arena is reset or destroyed. Not thread-safe.
 * ------------------------------------------------------------------------ */

struct rg_arena;

/* Counters summed over every arena that reports to them; owned by the
 * caller (a worker keeps one set), plain integers so they can live in
 * shared memory. Updated at reset/destroy, except `failures`. */
struct rg_arena_stats {
	uint64_t live;		 /* arenas created and not destroyed */
	uint64_t lifecycles;	 /* resets + destroys */
	uint64_t allocs;	 /* allocations served */
	uint64_t bytes_used;	 /* block bytes handed out, padding and
				    spills excluded (those: spill_bytes) */
	uint64_t bytes_reserved; /* block bytes held, summed per lifecycle */
	uint64_t extra_blocks;	 /* blocks chained beyond the first */
	uint64_t spills;	 /* allocations sent to the heap */
	uint64_t spill_bytes;
	uint64_t failures; /* allocations that returned NULL */
};

/* Creates an arena in a block taken from `blocks`. `stats` may be NULL.
 * Returns NULL if the pool is exhausted or too small to hold an arena. */
struct rg_arena *rg_arena_create(struct rg_pool *blocks,
				 struct rg_arena_stats *stats);

/* Runs cleanups (last registered first), frees spills, returns every block
 * to the pool, the first one included. */
void rg_arena_destroy(struct rg_arena *arena);

/* Allocations larger than `bytes` go to the heap (tracked, freed at
 * reset) instead of the blocks; smaller ones that do not fit the current
 * block chain a new block from the pool. Capped at what one block can
 * hold; the default is a quarter of a block. */
void rg_arena_set_spill(struct rg_arena *arena, size_t bytes);

/* Like destroy, but keeps the first block: the arena is ready for the next
 * request. O(number of extra blocks + spills + cleanups). */
void rg_arena_reset(struct rg_arena *arena);

/* `size` bytes aligned to the largest power of two dividing `size`, at most
 * 16 ("natural alignment": a 24-byte struct gets 8, a string gets 1).
 * NULL on overflow, exhausted pool or memory limit. */
void *rg_arena_alloc(struct rg_arena *arena, size_t size);

/* `size` bytes aligned to `align` (a power of two, at most 16). */
void *rg_arena_alloc_aligned(struct rg_arena *arena, size_t size, size_t align);

/* Zeroed array of `n` elements; NULL if `n * size` overflows. */
void *rg_arena_calloc(struct rg_arena *arena, size_t n, size_t size);

/* Grows or shrinks `ptr` (allocated from this arena with `old_size`
 * bytes). When `ptr` is the most recent allocation and the block has room,
 * it grows in place; otherwise the bytes are copied. `ptr` may be NULL. */
void *rg_arena_realloc(struct rg_arena *arena, void *ptr, size_t old_size,
		       size_t new_size);

void *rg_arena_memdup(struct rg_arena *arena, const void *src, size_t size);

/* Copies at most `n` bytes of `s` and a terminating NUL. */
char *rg_arena_strndup(struct rg_arena *arena, const char *s, size_t n);

/* Registers `fn(data)` to run at reset/destroy, after those registered
 * later. Returns 0 or -ENOMEM. */
int rg_arena_cleanup_add(struct rg_arena *arena, void (*fn)(void *data),
			 void *data);

/* Bytes handed out since the last reset, and bytes of block held now. */
size_t rg_arena_used(const struct rg_arena *arena);
size_t rg_arena_reserved(const struct rg_arena *arena);

/* ------------------------------------------------------------------------
 * Server
 *
 * A server is one listening socket and one worker: an event loop (io_uring,
 * or epoll where io_uring is unavailable) that owns the connection pool,
 * the coroutine stacks, the arena blocks and the buffer slab. Handlers run
 * on coroutines, so they are written as plain synchronous C: reading a
 * body, sleeping or calling another server suspends the handler, never the
 * worker. Steady-state request handling does not call malloc.
 * ------------------------------------------------------------------------ */

struct rg_server;
/* One request and its response, handed to a handler. Lives until the
 * handler returns and its response is written; every pointer obtained from
 * it dies then too. */
struct rg_request;

enum rg_io_backend { RG_IO_AUTO, RG_IO_URING, RG_IO_EPOLL };

/* Every knob, with its default (rg_server_config_init). Sizes in bytes,
 * timeouts in milliseconds (0 = none). */
/* How request handlers run (rg_server_config.runner): each on a task that
 * can suspend (rg_body_read, rg_sleep, the socket calls) while the worker
 * serves others, and continue where it stopped. By default a C coroutine
 * from the worker's stack pool (coroutine_stack_size, max_coroutines); a
 * front whose handlers need their own kind of task (the Python front's
 * greenlets) supplies one. Every call is made on the worker's thread.
 * Tasks may share one stack, as greenlets do (a suspended one's frames are
 * copied away): the library keeps nothing the loop reads on a task's
 * stack, and a buffer handed to rg_sock_read or rg_sock_write must not
 * live there either with such a runner. */
struct rg_runner {
	/* Runs fn(arg) at once as a new task, until it suspends or returns:
	 * 0, or -errno (the request is answered 503). */
	int (*start)(void *ctx, void (*fn)(void *arg), void *arg);
	/* The running task, as resume takes it; NULL on the loop. */
	void *(*self)(void *ctx);
	/* In a task: back to the start or resume that ran it. */
	void (*suspend)(void *ctx);
	/* On the loop: continues `task` until it suspends or returns. */
	void (*resume)(void *ctx, void *task);
	/* Tasks started and not returned: a stopping worker waits for 0. */
	unsigned long (*live)(void *ctx);
	void *ctx;
};

/* A range of client addresses: the first `bits` bits of `addr` (an IPv4
 * address in its first 4 bytes). */
struct rg_cidr {
	uint8_t af; /* AF_INET or AF_INET6 */
	uint8_t bits;
	uint8_t addr[16];
};

/* "192.0.2.0/24", "2001:db8::/32", or an address alone (that address):
 * 0, or -EINVAL. Bits beyond the prefix must be zero. */
int rg_cidr_parse(const char *text, struct rg_cidr *out);

/* A list of ranges, as the configuration gives them. */
#define RG_CIDRS_MAX 16
struct rg_cidrs {
	struct rg_cidr range[RG_CIDRS_MAX];
	unsigned n; /* 0: nobody */
};

struct rg_server_config {
	const char *host; /* numeric IPv4/IPv6 to bind; "0.0.0.0" */
	uint16_t port;	  /* 8080; 0 = any (see rg_server_port) */
	int backlog;	  /* listen(2) backlog; 4096 */
	bool reuse_port;  /* SO_REUSEPORT, for one server per worker
			     process on one port; false */
	enum rg_io_backend io_backend; /* RG_IO_AUTO */
	uint32_t max_connections;      /* connection pool cap; 10000 */
	size_t request_arena_size;     /* arena block; 8192 */
	size_t large_alloc_spill;      /* arena allocations above go to the
					  heap; 16384 (capped at a block) */
	size_t small_alloc_threshold;  /* smallest buffer slab class (new
					  input queues); 256; 64..1024 */
	size_t coroutine_stack_size;   /* per running handler; 65536 */
	uint32_t max_coroutines;       /* handlers running at once; 1024 */
	size_t header_buffer_size;     /* largest request head; 16384 */
	size_t max_request_line;       /* 414 above; 8192 */
	uint32_t max_headers;	       /* 431 above; 100 */
	uint64_t max_body_size;	       /* 413 above; 1 MiB; 0 = unlimited */
	bool underscores_in_headers;   /* keep header fields whose name holds
					  '_' (dropped by default: WSGI and
					  CGI read "X_A" as "X-A"); false */
	bool proxy_protocol;	       /* every connection starts with a PROXY
					  header (v1 or v2) naming the client;
					  false */
	/* Peers whose forwarding header names the client (X-Forwarded-For
	 * or Forwarded, which one below): the right-most address not in
	 * this list is the request's client. None by default: the header
	 * is never believed. */
	struct rg_cidrs trusted_proxies;
	enum rg_forwarded_header {
		RG_FORWARDED_XFF,     /* X-Forwarded-For: 192.0.2.1, ... */
		RG_FORWARDED_RFC7239, /* Forwarded: for=192.0.2.1;proto=... */
	} forwarded_header;
	size_t connection_buffer_size; /* input buffered per connection before
					  reading pauses; 65536 */
	uint32_t header_timeout_ms;    /* whole head must arrive; 10000 */
	uint32_t body_timeout_ms;      /* between body reads; 30000 */
	uint32_t keepalive_timeout_ms; /* idle between requests; 5000 */
	uint32_t write_timeout_ms;     /* a send making no progress; 30000 */
	uint32_t drain_delay_ms;       /* rg_server_stop: draining first; 0 */
	uint64_t memory_limit;	       /* whole worker; 0 = unlimited */
	uint32_t shutdown_timeout_ms;  /* after rg_server_stop, connections
					  still busy this long are closed;
					  10000; 0 = wait for them */
	/* Sockets already listening (inherited from a master process), used
	 * instead of binding host:port: adopted by rg_server_create, closed
	 * by rg_server_destroy. NULL/0 = bind host:port. At most
	 * RG_MAX_LISTEN. */
	const int *listen_fds;
	unsigned nlisten_fds;
	/* Access log in the combined log format, appended to this path,
	 * buffered and written from the loop; NULL = none. */
	const char *access_log;
	/* Where the server reports errors and notable events (one line, no
	 * newline, RG_LOG_* level); NULL = nowhere. Called from the loop. */
	void (*log)(void *arg, int level, const char *msg);
	void *log_arg;
	/* Shared statistics (rg_stats_board_create): the worker publishes
	 * its figures in slot `stats_slot` about once a second, and
	 * rg_server_stats_json reports every slot. NULL = this worker only. */
	struct rg_stats_board *stats_board;
	unsigned stats_slot;
	/* A program's own figures, published and reported with the
	 * worker's (the Python front's "python" section). NULL = none. */
	const struct rg_stats_extra *stats_extra;
	/* Called once by rg_server_run when the loop is set up and about to
	 * accept (a master waits for it before draining old workers; a
	 * service can tell systemd). NULL = nothing. */
	void (*ready)(void *arg);
	void *ready_arg;
	/* How handlers run; NULL: C coroutines (copied at creation). */
	const struct rg_runner *runner;
	/* Called on the loop with true before it may block in the kernel
	 * waiting for events, and with false once it is back, before any
	 * handler runs: a front that holds a lock while its code runs (the
	 * Python front's GIL) releases it there, so that its other threads
	 * run while the worker waits. NULL = nothing. */
	void (*blocking)(void *arg, bool blocked);
	void *blocking_arg;
};

#define RG_MAX_LISTEN 16

enum rg_log_level { RG_LOG_ERROR, RG_LOG_WARN, RG_LOG_INFO, RG_LOG_DEBUG };

void rg_server_config_init(struct rg_server_config *config);

/* What makes `config` one rg_server_create refuses (EINVAL), naming the
 * setting ("max_request_line exceeds header_buffer_size"), or NULL. */
const char *rg_server_config_problem(const struct rg_server_config *config);

typedef void rg_handler(struct rg_request *req, void *data);

/* Creates a server (nothing is bound yet). NULL with errno set on a bad
 * configuration or if memory runs out. */
struct rg_server *rg_server_create(const struct rg_server_config *config);

/* Routes requests whose method is `method` ("GET", any token; NULL = every
 * method) and whose path matches `pattern` to handler(req, data). Pattern
 * segments are literals, ":name" (one segment, read with rg_param) or a
 * final "*" (the rest of the path, rg_param(req, "*")). HEAD requests use
 * GET routes when no HEAD route matches. Unmatched paths get 404, a path
 * matched for other methods 405 with Allow, a method no route takes 501
 * (never GET, HEAD or OPTIONS). Pattern "*" routes OPTIONS * (asterisk
 * form); without one the server answers it: 200 with Allow listing every
 * method the routes serve.
 * Returns 0, -EINVAL for a bad pattern, or -ENOMEM. */
int rg_route(struct rg_server *server, const char *method, const char *pattern,
	     rg_handler *handler, void *data);

/* The same for a handler that never waits, so that it runs on the
 * worker's own stack without a coroutine: about 180 instructions less a
 * request (7% of a pipelined one). A request whose body has not all
 * arrived still gets a coroutine, so rg_body_read works as usual. On the
 * worker's stack, a call that would suspend (rg_sleep, the socket calls,
 * rg_fd_wait, rg_stream_file, a response or stream write larger than the
 * room left in the output buffer, which is at least 8 KiB when the
 * handler starts) returns -EWOULDBLOCK instead, and the error log names
 * the route; a handler that has not responded then is answered 500. */
int rg_route_inline(struct rg_server *server, const char *method,
		    const char *pattern, rg_handler *handler, void *data);

/* A listening TCP socket on numeric `host` ("0.0.0.0", "::1") and `port`
 * (0 = any), close-on-exec and non-blocking, with SO_REUSEADDR, with
 * SO_REUSEPORT if `reuse_port`, IPv6 sockets IPv6-only (so "0.0.0.0" and
 * "::" can be listed side by side). For masters that create the sockets
 * their workers adopt (rg_server_config.listen_fds). fd or -errno. */
int rg_listen(const char *host, uint16_t port, int backlog, bool reuse_port);

/* Binds and listens (done by rg_server_run when not done before).
 * 0 or -errno. */
int rg_server_listen(struct rg_server *server);

/* The bound port (of the first socket), or 0 before rg_server_listen. */
uint16_t rg_server_port(const struct rg_server *server);

/* Runs the event loop on the calling thread until rg_server_stop; then
 * stops accepting, lets running requests finish, and returns 0 (or -errno
 * if the loop could not start or failed). */
int rg_server_run(struct rg_server *server);

/* Asks rg_server_run to return (at once if called before it starts):
 * after drain_delay_ms of draining (still accepting, every response with
 * "Connection: close", the health endpoint answering 503, so that a load
 * balancer takes the server out before it closes its port), then a
 * graceful stop. Async-signal-safe; any thread. */
void rg_server_stop(struct rg_server *server);

/* The same without the drain, or ending one: what a reload's old
 * generation gets, since the new one goes on serving its port. */
void rg_server_retire(struct rg_server *server);

/* Frees everything; the server must not be running. */
void rg_server_destroy(struct rg_server *server);

/* Asks the server to reopen its access log (after log rotation) at the
 * next loop iteration. Async-signal-safe; any thread. */
void rg_server_reopen_logs(struct rg_server *server);

/* ------------------------------------------------------------------------
 * Requests (from inside a handler)
 * ------------------------------------------------------------------------ */

/* Method as sent ("GET"); path without the query; raw query without '?'. */
struct rg_str rg_method(const struct rg_request *req);
struct rg_str rg_path(const struct rg_request *req);
struct rg_str rg_query(const struct rg_request *req);

/* The request target as sent (path and query, still percent-encoded). */
struct rg_str rg_target(const struct rg_request *req);

/* The path percent-decoded into the arena ("/a%20b" -> "/a b"), as CGI's
 * PATH_INFO wants it: 0, -EINVAL (a malformed escape or a NUL), -ENOMEM. */
int rg_path_decoded(struct rg_request *req, struct rg_str *out);

/* The request's HTTP minor version: 0 (HTTP/1.0) or 1 (HTTP/1.1). */
int rg_version_minor(const struct rg_request *req);

/* The client's address as numeric text in buf (INET6_ADDRSTRLEN bytes
 * are enough) and its port: 0, -EAFNOSUPPORT (a Unix socket), -ENOTCONN
 * (not known), -ENOSPC. Asked of the kernel once per connection. */
int rg_remote_addr(struct rg_request *req, char *buf, size_t cap,
		   uint16_t *port);

/* The path segment matched by ":name" (or "*") in the route; len 0 and
 * ptr NULL when the route has no such parameter. */
struct rg_str rg_param(const struct rg_request *req, const char *name);

/* The first query parameter `name`, percent-decoded ('+' as space) into
 * the arena. Returns 1 and sets *value if present, 0 if absent, -ENOMEM. */
int rg_query_param(struct rg_request *req, const char *name,
		   struct rg_str *value);

/* The value of the first header named `name` (any case), or NULL. */
const struct rg_str *rg_header(const struct rg_request *req, const char *name);

/* Every header as received, in order; *count receives their number. */
const struct rg_header *rg_headers(const struct rg_request *req, size_t *count);

/* Writes `v` in decimal at buf (at most 20 bytes, no NUL), two digits per
 * division; returns its length. For bodies built by hand (JSON, text). */
size_t rg_format_u64(char *buf, uint64_t v);

/* The request's arena: freed when the response is done. */
struct rg_arena *rg_request_arena(struct rg_request *req);

/* Reads up to `n` bytes of the request body (de-chunked), suspending the
 * handler until some arrive. Sends "100 Continue" first when the client
 * asked for it. Returns the bytes read, 0 at the end of the body, or
 * -ETIMEDOUT (body_timeout_ms), -ECONNRESET (client gone), -EBADMSG
 * (malformed chunked coding), -EMSGSIZE (over max_body_size). */
long rg_body_read(struct rg_request *req, void *buf, size_t n);

/* Reads the whole body into the arena, if it has at most `max` bytes:
 * 0 and *body set, -EMSGSIZE if longer, or an rg_body_read error. */
int rg_body(struct rg_request *req, size_t max, struct rg_str *body);

/* ------------------------------------------------------------------------
 * Responses (from inside a handler; one per request)
 *
 * A handler that returns without responding gets 204 No Content.
 * ------------------------------------------------------------------------ */

/* Adds a response header (both strings copied into the arena), sent with
 * the response that follows. 0, -EINVAL (CR, LF or NUL inside), -ENOMEM. */
int rg_header_add(struct rg_request *req, const char *name, const char *value);

/* The reason phrase of `status`: RFC 9110's for its codes, plus 429 and 431;
 * a generic phrase per class ("Client Error") for other codes in 100-599,
 * "Unknown" outside. Static storage. */
const char *rg_status_reason(int status);

/* The status line's reason phrase for the response that follows, instead
 * of rg_status_reason's ("200 All good" rather than "200 OK"; copied into
 * the arena). HTTP gives it no meaning: clients read only the code. 0,
 * -EINVAL (empty, over 256 bytes, or a control character other than
 * tab: RFC 9112 4), -ENOMEM. */
int rg_reason_set(struct rg_request *req, const char *reason);

/* Sends a whole response: `status`, Content-Type `type` (NULL for none) and
 * body[0, n). The handler is suspended while a body larger than the output
 * buffer goes out. 0, -EALREADY if a response was started, -ECONNRESET. */
int rg_respond(struct rg_request *req, int status, const char *type,
	       const void *body, size_t n);

/* Streams a response: begin once, write any number of times, end once (a
 * handler that returns without rg_stream_end ends it). With `length` >= 0
 * the body is exactly that long (Content-Length; writing more is -EINVAL,
 * ending short closes the connection); with RG_LENGTH_UNKNOWN it is
 * chunked on HTTP/1.1 and ends at close on HTTP/1.0. Writes are copied to
 * the output buffer, which goes out when full (suspending the handler) or
 * when the handler returns. Same results as rg_respond. */
#define RG_LENGTH_UNKNOWN (-1)
int rg_stream_begin(struct rg_request *req, int status, const char *type,
		    int64_t length);
int rg_stream_write(struct rg_request *req, const void *data, size_t n);
int rg_stream_end(struct rg_request *req);

/* Closes the connection once this request is done. Before the response,
 * the response says "Connection: close"; after rg_stream_begin, the body
 * ends where it is, so the client sees it cut short, never complete (a
 * handler that fails midway through a stream). */
void rg_close_connection(struct rg_request *req);

/* Streams `length` bytes of the open file `fd` from `offset` as (part of)
 * the body begun with rg_stream_begin, without copying them through user
 * space (sendfile), suspending the handler while the socket is full.
 * Returns 0, -EINVAL (more than the announced length), -EIO (the file
 * ended early or could not be read: the connection is then closed),
 * -ETIMEDOUT (write_timeout_ms), -ECONNRESET. */
int rg_stream_file(struct rg_request *req, int fd, int64_t offset,
		   int64_t length);

/* ------------------------------------------------------------------------
 * Static files
 *
 * Serves the files under one directory: nothing outside it is reachable
 * (openat2 RESOLVE_BENEATH: no "..", absolute path or symbolic link
 * escapes), Content-Type by extension, ETag and Last-Modified with 304,
 * single ranges (206/416), HEAD, an index file for directories, and
 * precompressed FILE.br / FILE.gz siblings chosen by Accept-Encoding.
 * Bodies go out with sendfile; open files are cached per instance. One
 * instance per worker (not thread-safe).
 * ------------------------------------------------------------------------ */

struct rg_static;

struct rg_static_config {
	const char *root;	 /* the directory served; required */
	const char *index;	 /* served for a directory; "index.html";
				    NULL = directories are 404 */
	bool precompressed;	 /* look for .br/.gz siblings; true */
	uint32_t cache_entries;	 /* open files kept; 64; 0 = no cache */
	uint32_t cache_valid_ms; /* a cached file is checked again after
				    this; 1000 */
};

void rg_static_config_init(struct rg_static_config *config);

/* Opens the root. NULL with errno set (ENOENT, ENOTDIR, EACCES...). */
struct rg_static *rg_static_create(const struct rg_static_config *config);
/* After the servers that route to it are destroyed: a request still in
 * progress holds one of its cache entries. */
void rg_static_destroy(struct rg_static *st);

/* Responds to `req` with the file at `path`, relative to the root and
 * percent-encoded as in a request target ("css/a%20b.css"). GET and HEAD
 * only (others: 405). Returns 0 once a response is sent, or -errno when
 * none could be (the client is gone). */
int rg_static_serve(struct rg_request *req, struct rg_static *st,
		    struct rg_str path);

/* A handler for a route ending in "*" whose data is a struct rg_static:
 * serves rg_param(req, "*"). */
rg_handler rg_static_handler;

/* ------------------------------------------------------------------------
 * Suspending calls (from inside a handler)
 *
 * Each suspends the calling handler and lets the worker serve others until
 * it completes. Outside a handler they return -EPERM.
 * ------------------------------------------------------------------------ */

/* Sleeps for `ms` milliseconds. 0, -EPERM, or -ECANCELED when the server
 * is stopping and its shutdown timeout has passed (as do the socket calls
 * below). */
int rg_sleep(uint32_t ms);

/* Connects to a numeric IPv4 or IPv6 address. Returns a socket for
 * rg_sock_read/write, or -errno (-ETIMEDOUT after `timeout_ms`; 0 = no
 * timeout). Close it with rg_sock_close. */
int rg_tcp_connect(const char *ip, uint16_t port, uint32_t timeout_ms);

/* Reads up to `n` bytes (0 at end of stream) / writes all `n` bytes.
 * Return bytes or -errno, -ETIMEDOUT when `timeout_ms` (0 = none) passes
 * first. */
long rg_sock_read(int sock, void *buf, size_t n, uint32_t timeout_ms);
long rg_sock_write(int sock, const void *buf, size_t n, uint32_t timeout_ms);
void rg_sock_close(int sock);

/* Waits until the caller's own non-blocking fd (a socket, a pipe) is ready
 * for `events`, POLLIN or POLLOUT (one direction), after a read or write
 * on it failed with EAGAIN. Returns the poll(2) events seen (> 0; POLLERR
 * or POLLHUP mean the next call reports the error), -ETIMEDOUT after
 * `timeout_ms` (0 = none), -EINVAL, -EPERM, -ECANCELED. The fd stays the
 * caller's: nothing of it is kept once this returns, close it with
 * close(2). */
int rg_fd_wait(int fd, short events, uint32_t timeout_ms);

/* ------------------------------------------------------------------------
 * Statistics: what the worker's memory is doing, and its traffic.
 * ------------------------------------------------------------------------ */

/* A section of figures a program adds to the statistics: its name in the
 * JSON, the name of each figure, and read(), which fills their values
 * whenever the worker publishes (about once a second, and for each
 * /stats), on the loop. The whole server's value of a figure is the sum
 * over the workers, or their maximum for those whose bit is set in
 * `max_mask` (a longest pause, a high-water mark).
 * In rg_server_metrics a figure is ringlet_<section>_<name>, one series per
 * worker: a gauge (a level, which can go down) when its bit is set in
 * `max_mask` or `gauge_mask`, or its name ends in "_in_use", "_high_water"
 * or "_max"; otherwise a counter, named with "_total" last. A name ending
 * in "_ns", "_us" or "_ms" is shown in seconds ("_seconds"). Names should
 * be [a-z0-9_]; other characters are shown as '_'. */
#define RG_STATS_EXTRA 16
struct rg_stats_extra {
	const char *section;
	const char *names[RG_STATS_EXTRA]; /* NULL ends the list */
	uint32_t max_mask;
	uint32_t gauge_mask; /* levels summed over the workers (allocated
				blocks): gauges in rg_server_metrics */
	void (*read)(void *arg, uint64_t values[RG_STATS_EXTRA]);
	void *arg;
};

/* The request histograms of rg_server_stats. Bucket i counts the requests
 * whose figure was at most bound i and above bound i - 1; the last bucket,
 * those above every bound. They are not cumulative (rg_server_metrics adds
 * them up), and their sum is `requests`. Duration, from the loop iteration
 * in which the request's first bytes are parsed to its response being
 * complete, bounds 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500 ms, 1, 2.5, 5,
 * 10 s; arena bytes, what the request's arena handed out (rg_arena_used at
 * its end, heap spills included), bounds 256 << i bytes: 256 B to 1 MiB. */
#define RG_STATS_DURATION_BUCKETS 15
#define RG_STATS_ARENA_BUCKETS 14

struct rg_server_stats {
	uint64_t connections_accepted;
	uint64_t connections_active;
	uint64_t connections_refused; /* pool exhausted: 503 and close */
	uint64_t proxy_refused;	      /* no valid PROXY header: closed */
	uint64_t requests;	      /* responses completed */
	uint64_t errors;   /* requests rejected by the server (4xx/5xx
			      the parser or the limits gave) */
	uint64_t timeouts; /* connections closed by a timeout */
	uint64_t rss_bytes, peak_rss_bytes; /* the process, from /proc */
	struct rg_mem_account memory;	    /* the worker's account */
	struct rg_arena_stats arena;
	struct rg_pool_stats connections, coroutines, arena_blocks;
	struct rg_slab_stats slab;
	uint64_t extra[RG_STATS_EXTRA]; /* rg_server_config.stats_extra's */
	uint64_t duration_buckets[RG_STATS_DURATION_BUCKETS];
	uint64_t duration_ns; /* their sum over the requests */
	uint64_t arena_buckets[RG_STATS_ARENA_BUCKETS];
	uint64_t arena_bytes; /* their sum over the requests */
};

/* A shared-memory board where several worker processes publish their
 * statistics: created by the master before it forks (an anonymous shared
 * mapping), one slot per worker. */
struct rg_stats_board;

/* NULL with errno set if the mapping fails. */
struct rg_stats_board *rg_stats_board_create(unsigned slots);
void rg_stats_board_destroy(struct rg_stats_board *board);
/* Marks a slot empty (its worker is gone): it stops counting. */
void rg_stats_board_clear(struct rg_stats_board *board, unsigned slot);

/* Copies the worker's statistics; safe from a handler of the same server. */
void rg_server_stats(const struct rg_server *server,
		     struct rg_server_stats *out);

/* Writes the statistics as one JSON object (with derived figures: arena
 * utilisation, pool saturation, slab fragmentation, allocations per
 * request; and, on a board a master samples, the last 10 minutes of
 * memory at 10 s and its growth per minute) into buf[0, cap). Returns the
 * length it needs, like snprintf. */
size_t rg_server_stats_json(const struct rg_server *server, char *buf,
			    size_t cap);

/* The memory dump as one JSON object into buf[0, cap): per worker, every
 * pool and slab class (object size, mapped, in use, high water, failures,
 * bytes reserved and an upper bound of those touched), the tiers, and the
 * arena-bytes-per-request histogram. Returns the length it needs, like
 * snprintf. */
size_t rg_server_memory_json(const struct rg_server *server, char *buf,
			     size_t cap);

/* Writes the statistics in the Prometheus text exposition format 0.0.4
 * into buf[0, cap): every figure above as a family with HELP and TYPE
 * (counters ending in "_total", sizes in "_bytes", times in "_seconds"),
 * one series per worker labelled worker="<board slot>" (worker="0" without
 * a board), memory by tier, pools, slab classes, the two request
 * histograms and the program's section (rg_stats_extra). A worker that
 * restarted counts from 0 again: a counter reset, as Prometheus expects of
 * a process. Calls no allocator. Returns the length it needs, like
 * snprintf. */
size_t rg_server_metrics(const struct rg_server *server, char *buf, size_t cap);

/* GET handler for the statistics (the JSON above) of the server in
 * `data` (a struct rg_server *): rg_route(s, "GET", "/stats",
 * rg_stats_handler, s); with the query "detail=memory", the memory dump
 * (rg_server_memory_json); another detail is 400. Streamed (chunked) from
 * a buffer on the stack: no heap, however many workers. */
void rg_stats_handler(struct rg_request *req, void *data);

/* GET handler for the same figures in the Prometheus text format (above),
 * Content-Type "text/plain; version=0.0.4; charset=utf-8", of the server
 * in `data`: rg_route(s, "GET", "/metrics", rg_metrics_handler, s).
 * Streamed (chunked) as it is written, from a buffer on the stack: no
 * heap, however many workers. */
void rg_metrics_handler(struct rg_request *req, void *data);

/* GET handler for the live status page of the server in `data`: one HTML
 * file (text/html; charset=utf-8, no external asset) embedded in the
 * library and served from that memory, with an ETag (304 on a reload) and
 * Cache-Control: no-cache. Its script polls the JSON statistics once a
 * second at the server's [status] stats_path, which it writes into the
 * page's <meta name="ringlet-stats"> ("/stats" when none is configured):
 * rg_route(s, "GET", "/status", rg_status_page_handler, s). No heap. */
void rg_status_page_handler(struct rg_request *req, void *data);

/* Whether the request's client is in `ranges`: an IPv4 client on an IPv6
 * socket (::ffff:a.b.c.d) is matched as IPv4, a client over a Unix socket
 * is local and always in, an unknown one never. */
bool rg_client_in(struct rg_request *req, const struct rg_cidrs *ranges);

/* The operator's endpoints ([status] in the configuration file): where
 * each is served, and who may read them. */
struct rg_status_config {
	const char *stats_path; /* the JSON statistics; "/stats", NULL = off */
	const char *metrics_path; /* Prometheus; "/metrics", NULL = off */
	const char *page_path;	  /* the HTML status page; "/status" */
	const char *health_path;  /* readiness, for anyone: "/healthz" */
	struct rg_cidrs allow;	  /* 127.0.0.1/32, ::1/128 */
};

/* Routes the endpoints of `status` on `server` (GET; "403 Forbidden" to a
 * client outside `allow`, before anything else is done for it). A front
 * calls it from its setup, before its own catch-all routes. 0 or the
 * -errno of rg_route. */
int rg_status_routes(struct rg_server *server,
		     const struct rg_status_config *status);

/* ------------------------------------------------------------------------
 * Operations: the configuration file, the error log, the pre-fork master
 *
 * What a program built on the library shares with the `ringlet` binary
 * (and the Python front): one configuration file (docs/configuration.md),
 * one error log per process, one master forking and supervising the
 * workers, with the same signals. A program supplies its routes; the rest
 * is here.
 * ------------------------------------------------------------------------ */

/* A listen address: numeric host ("0.0.0.0", "::") and port. */
struct rg_listen_addr {
	const char *host;
	uint16_t port;
};

/* A configuration: a file (or a program's embedded default) with the
 * command line's overrides applied. */
struct rg_config {
	struct rg_server_config server; /* host/port unused: see listen */
	struct rg_listen_addr listen[RG_MAX_LISTEN]; /* 0.0.0.0:8080 */
	unsigned nlisten;
	const char *root;	     /* [server] root; "." */
	const char *index;	     /* [static] index; "index.html" */
	bool precompressed;	     /* [static]; true */
	uint32_t open_file_cache;    /* [static] files kept open; 64 */
	unsigned workers;	     /* [performance]; 0 in the file = "auto",
					one per CPU once loaded */
	const char *access_log;	     /* [log]; NULL = off (the default) */
	const char *error_log;	     /* [log]; NULL = standard error */
	enum rg_log_level log_level; /* [log] level; RG_LOG_INFO */
	struct rg_status_config status; /* [status] */
	const char *name;		/* the file's path, or "(embedded)" */
	char *strings; /* owns every string above and server.host when they
			  came from the file */
	struct rg_config_entry *entries; /* the program tables' keys as
					    read (rg_config_get); owned */
	unsigned nentries;
};

#define RG_MAX_WORKERS 1024
#define RG_WORKERS_AUTO (~0u)
#define RG_CONFIG_ARRAY_MAX 16

/* A value of the configuration language, as a program's own table gets
 * it. Strings are decoded and NUL-terminated, in memory the rg_config
 * owns: valid until rg_config_free, so a table may keep the pointers. */
struct rg_config_value {
	enum rg_config_type {
		RG_CONFIG_STRING,
		RG_CONFIG_INTEGER,
		RG_CONFIG_BOOLEAN,
		RG_CONFIG_ARRAY, /* of strings */
	} type;
	char *string;			  /* STRING */
	int64_t integer;		  /* INTEGER; BOOLEAN: 1 or 0 */
	char *items[RG_CONFIG_ARRAY_MAX]; /* ARRAY */
	unsigned nitems;
	unsigned line; /* in the file, for messages */
};

/* A table a program reads itself (the Python front's [python]), the way
 * each module of lwan reads its section: key() checks each of its keys as
 * the file is read, and returns 0, or -EINVAL with the reason in err (the
 * reader puts "file:line: " before it); an unknown key should be an
 * error. What it accepts is kept in the rg_config (rg_config_get), so a
 * worker reads the values of the configuration it runs, a reload's
 * included. A key given twice is refused by the reader. */
struct rg_config_table {
	const char *name; /* kept as given: must outlive the rg_config */
	int (*key)(void *arg, const char *key, const struct rg_config_value *v,
		   char *err, size_t err_len); /* NULL: every key is taken */
	void *arg;
};

/* A key of a program's table, as kept by the reader. */
struct rg_config_entry {
	const char *table; /* the rg_config_table's name */
	char key[64];
	struct rg_config_value value;
};

/* The value of `key` in the program's table `table`, or NULL when the
 * file does not give it. Lives as long as `c`. */
const struct rg_config_value *rg_config_get(const struct rg_config *c,
					    const char *table, const char *key);

/* Where a configuration comes from and what a command line changes in it,
 * every time it is read (at start and at each reload). */
struct rg_config_source {
	const char *path;	  /* -c FILE; NULL: `embedded` */
	const char *embedded;	  /* the program's default (NUL-terminated) */
	int port;		  /* -p; -1 = the file's (every address) */
	const char *host;	  /* --host: this address only; NULL */
	unsigned workers;	  /* -w; 0 = the file's; RG_WORKERS_AUTO */
	const char *root;	  /* --root; NULL */
	int io_backend;		  /* --io; -1 = the file's */
	uint32_t max_connections; /* 0 = the file's */
	const struct rg_config_table *tables; /* the program's own; NULL */
	unsigned ntables;
	/* The program's defaults for the [status] table, which the file
	 * overrides key by key; NULL: the library's (/stats, /metrics,
	 * /status). */
	const struct rg_status_config *status;
};

/* A source as no command line changes it: the embedded text. */
void rg_config_source_init(struct rg_config_source *src, const char *embedded);

/* Reads the source's file (or text) and applies its overrides: 0, or
 * -errno with "file:line: message" in err. Release with rg_config_free. */
int rg_config_load(struct rg_config *out, const struct rg_config_source *src,
		   char *err, size_t err_len);

/* What -t checks beyond the syntax: a server can be made of it, the root
 * and index can be served, the logs can be written. 0, or -errno with the
 * reason in err. */
int rg_config_check(const struct rg_config *c, char *err, size_t err_len);

/* Frees what `c` owns. */
void rg_config_free(struct rg_config *c);

/* The error log: nginx-style lines ("2026/12/01 03:10:00 [error]
 * 1234#0: message") appended to a file or standard error, one write(2) per
 * line, so that the lines of the master and its workers never interleave.
 * One per process, inherited across fork. Until rg_log_open: standard
 * error, level info. */

/* Sends later lines to `path` (O_APPEND, created 0644), or standard error
 * when NULL, dropping those above `level`. 0, or -errno (errno set) with
 * the previous destination kept. */
int rg_log_open(const char *path, enum rg_log_level level);

/* One line at `level`; control characters written as \xHH, cut at about
 * 2 KiB. */
__attribute__((format(printf, 2, 3))) void rg_log(enum rg_log_level level,
						  const char *fmt, ...);

/* Opens the path again (after rotation): 0, or -errno with the old file
 * kept. Nothing for standard error. */
int rg_log_reopen(void);

/* Closes the file (back to standard error). */
void rg_log_close(void);

/* rg_server_config.log: the server's messages into this log. */
void rg_log_server(void *arg, int level, const char *msg);

/* A worker process, as rg_master_run starts it. */
struct rg_worker {
	const struct rg_config *config;
	const int *fds; /* its listening sockets, one per listen address */
	unsigned nfds;
	struct rg_stats_board *board;
	unsigned slot; /* its slot on the board */
	int ready_fd;  /* where rg_worker_serve reports it accepts */
};

/* The program's part of each worker process. */
struct rg_worker_ops {
	/* Before the server is created (NULL: nothing): changes what it is
	 * made with, the configuration's server settings already in
	 * `server` (a front's runner and blocking hook, its own limits). */
	void (*configure)(struct rg_server_config *server,
			  const struct rg_config *c, void *arg);
	/* Adds the routes (and whatever they need) to the worker's server,
	 * created from the configuration: 0, or -errno to stop the worker. */
	int (*setup)(struct rg_server *server, const struct rg_config *c,
		     void *arg);
	/* After the server is gone (NULL: nothing): frees what setup made. */
	void (*teardown)(const struct rg_config *c, void *arg);
	void *arg;
};

/* In a worker process: creates the server from w->config on the master's
 * sockets, board slot, access log and error log, calls ops->setup, tells
 * the master it accepts, and serves until SIGTERM or SIGINT (graceful: in
 * flight requests finish within shutdown_timeout) or SIGQUIT (at once);
 * SIGUSR1 reopens the logs; SIGHUP and SIGUSR2 are the master's (ignored).
 * Returns the process's exit status. */
int rg_worker_serve(const struct rg_worker *w, const struct rg_worker_ops *ops);

/* The pre-fork master: owns the listening sockets (one per worker and
 * address, SO_REUSEPORT) and the statistics board, forks
 * config->workers processes that each call worker(w, arg), replaces those
 * that die (rate-limited), and answers signals: TERM/INT stop gracefully,
 * QUIT at once, HUP reloads (reads `src` again, starts a new generation on
 * the same sockets, drains the old one once the new accepts), USR1 reopens
 * the logs, USR2 writes the memory dump of every worker to the error log
 * (level info, a line per pool and slab class). Every 10 s it samples the
 * board into the history /stats shows. `config` is the running
 * configuration at start (the master takes it over and frees it). Returns
 * the exit status: 0 after a stop, 1 on a startup or runtime error. */
int rg_master_run(struct rg_config *config, const struct rg_config_source *src,
		  int (*worker)(const struct rg_worker *w, void *arg),
		  void *arg);

#ifdef __cplusplus
}
#endif

#endif /* RINGLET_H */
