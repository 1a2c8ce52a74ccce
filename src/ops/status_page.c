/* status_page.c: GET /status (rg_status_page_handler): the live status
 * page, one HTML file (status_page.html: its own CSS and JavaScript, no
 * external asset) embedded in the library at build time and served from
 * that memory, with the configured statistics path written into its
 * <meta name="ringlet-stats"> as it goes out. No heap: the response is
 * streamed from the embedded bytes. */
#include "core/server.h"
#include "static/static.h"

#include <stdatomic.h>
#include <string.h>

/* The file, by the assembler's .incbin: no generator (xxd, ld -b binary)
 * a fresh machine may lack, the same directive for gcc and clang on
 * x86-64 and aarch64. The Makefile passes the file's absolute path (and
 * lists it as a prerequisite of this object, which -MMD cannot see); the
 * fallback is relative to the directory make runs in. ",\"a\"" (no
 * @progbits: '@' starts a comment on aarch64) makes it read-only data. */
#ifndef RG_STATUS_PAGE_HTML
#define RG_STATUS_PAGE_HTML "src/ops/status_page.html"
#endif
__asm__(".pushsection .rodata.rg__status_page,\"a\"\n"
	".globl rg__status_page\n"
	".hidden rg__status_page\n"
	".globl rg__status_page_end\n"
	".hidden rg__status_page_end\n"
	".balign 16\n"
	"rg__status_page:\n"
	".incbin \"" RG_STATUS_PAGE_HTML "\"\n"
	"rg__status_page_end:\n"
	".byte 0\n"
	".popsection\n");
extern const char rg__status_page[] __attribute__((visibility("hidden")));
extern const char rg__status_page_end[] __attribute__((visibility("hidden")));

static const char page_type[] = "text/html; charset=utf-8";
#define ETAG_LEN 18 /* '"', 16 hex digits, '"' */
/* Where the page says it finds the JSON; the value up to the next quote
 * is replaced by the configured stats_path. */
static const char meta[] = "<meta name=\"ringlet-stats\" content=\"";

/* FNV-1a, 64 bits, continuing from `h`. */
static uint64_t fnv(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h;
}

/* The embedded page's hash, computed on first use (every thread gets the
 * same value, so a race only repeats the work). */
static uint64_t page_hash(void)
{
	static _Atomic uint64_t cached;
	uint64_t h = atomic_load_explicit(&cached, memory_order_relaxed);
	if (!h) {
		h = fnv(0xcbf29ce484222325ull, rg__status_page,
			(size_t)(rg__status_page_end - rg__status_page));
		h |= 1;
		atomic_store_explicit(&cached, h, memory_order_relaxed);
	}
	return h;
}

/* The HTML entity for `c` inside a double-quoted attribute, or NULL. */
static const char *entity(char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '"':
		return "&quot;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	default:
		return NULL;
	}
}

static size_t escaped_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++) {
		const char *e = entity(*s);
		n += e ? strlen(e) : 1;
	}
	return n;
}

static int write_escaped(struct rg_request *req, const char *s)
{
	const char *run = s;
	int err = 0;
	for (; *s && !err; s++) {
		const char *e = entity(*s);
		if (!e)
			continue;
		if (s > run)
			err = rg_stream_write(req, run, (size_t)(s - run));
		if (!err)
			err = rg_stream_write(req, e, strlen(e));
		run = s + 1;
	}
	if (!err && s > run)
		err = rg_stream_write(req, run, (size_t)(s - run));
	return err;
}

void rg_status_page_handler(struct rg_request *req, void *data)
{
	const struct rg_server *server = data;
	const char *page = rg__status_page;
	size_t size = (size_t)(rg__status_page_end - rg__status_page);
	/* Without a configured path (the handler routed by hand, or the
	 * statistics off) the page keeps its own default, "/stats". */
	const char *path = server->status.stats_path;
	const char *at = memmem(page, size, meta, sizeof(meta) - 1);
	const char *value = at ? at + sizeof(meta) - 1 : NULL;
	const char *rest =
	    value ? memchr(value, '"', size - (size_t)(value - page)) : NULL;
	if (!rest)
		path = NULL;

	/* The tag names the page and the path written into it, so a reload
	 * costs a 304 until either changes; no-cache asks for that check
	 * every time (the page changes with the library). */
	uint64_t h = page_hash();
	if (path)
		h = fnv(h, path, strlen(path));
	char etag[ETAG_LEN + 1] = "\"";
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++)
		etag[1 + i] = hex[(h >> (60 - 4 * i)) & 15];
	etag[17] = '"';
	etag[ETAG_LEN] = '\0';
	int err = rg_header_add(req, "ETag", etag);
	if (!err)
		err = rg_header_add(req, "Cache-Control", "no-cache");
	if (!err)
		err = rg_header_add(req, "X-Content-Type-Options", "nosniff");
	/* The page's own script and style only; it reads the statistics from
	 * this origin. */
	if (!err)
		err = rg_header_add(req, "Content-Security-Policy",
				    "default-src 'none'; script-src "
				    "'unsafe-inline'; style-src "
				    "'unsafe-inline'; connect-src 'self'; "
				    "img-src data:; base-uri 'none'; "
				    "form-action 'none'");
	if (err) {
		static const char msg[] = "out of memory\n";
		rg_respond(req, 503, "text/plain", msg, sizeof(msg) - 1);
		return;
	}
	const struct rg_str *inm = rg_header(req, "If-None-Match");
	if (inm && rg__etag_match_weak(*inm, (struct rg_str){etag, ETAG_LEN})) {
		rg_respond(req, 304, NULL, NULL, 0);
		return;
	}
	if (!path) {
		rg_respond(req, 200, page_type, page, size);
		return;
	}
	size_t head = (size_t)(value - page);
	size_t tail = size - (size_t)(rest - page);
	if (rg_stream_begin(req, 200, page_type,
			    (int64_t)(head + escaped_len(path) + tail)) < 0)
		return;
	/* A client gone makes the writes fail; the handler just ends. */
	if (rg_stream_write(req, page, head) < 0 ||
	    write_escaped(req, path) < 0 ||
	    rg_stream_write(req, rest, tail) < 0)
		return;
	rg_stream_end(req);
}
