/* test_static.c: the static file server's pure parts: byte ranges, entity
 * tag lists, HTTP-dates, Accept-Encoding q-values, Content-Type by
 * extension, path decoding; the open-file cache's table (eviction passes
 * pinned entries, a detached entry closes when its last user ends); and
 * opening beneath a root (escapes refused, index, siblings, changes). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/response.h"
#include "http/pct.h"
#include "static/static.h"

static struct rg_str S(const char *s) {
	return (struct rg_str){s, strlen(s)};
}

/* ------------------------------------------------------------------------
 * Range
 * ------------------------------------------------------------------------ */

static void
range_is(const char *v, uint64_t size, int want, uint64_t first, uint64_t len)
{
	uint64_t f = 777, l = 777;
	int r = rg__range_parse(S(v), size, &f, &l);
	if (r != want || (want == RG__RANGE_OK && (f != first || l != len)))
		print_message("Range \"%s\" of %llu: %d %llu+%llu\n", v,
			      (unsigned long long)size, r,
			      (unsigned long long)f, (unsigned long long)l);
	assert_int_equal(r, want);
	if (want == RG__RANGE_OK) {
		assert_int_equal(f, first);
		assert_int_equal(l, len);
	}
}

static void range_forms(void **state)
{
	(void)state;
	range_is("bytes=0-9", 100, RG__RANGE_OK, 0, 10);
	range_is("bytes=10-19", 100, RG__RANGE_OK, 10, 10);
	range_is("bytes=99-99", 100, RG__RANGE_OK, 99, 1);
	range_is("bytes=90-", 100, RG__RANGE_OK, 90, 10);
	range_is("bytes=0-", 100, RG__RANGE_OK, 0, 100);
	range_is("bytes=-10", 100, RG__RANGE_OK, 90, 10);
	range_is("BYTES=1-2", 100, RG__RANGE_OK, 1, 2); /* unit: any case */
	/* last-pos past the end is cut; a suffix longer than the file is
	 * the whole file. */
	range_is("bytes=50-1000", 100, RG__RANGE_OK, 50, 50);
	range_is("bytes=-1000", 100, RG__RANGE_OK, 0, 100);
	range_is("bytes=0-99999999999999999999", 100, RG__RANGE_OK, 0, 100);
	range_is("bytes=-99999999999999999999", 100, RG__RANGE_OK, 0, 100);
}

static void range_rejects(void **state)
{
	(void)state;
	/* Unsatisfiable: first-pos at or past the end, zero suffix, empty. */
	range_is("bytes=100-", 100, RG__RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=100-200", 100, RG__RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=99999999999999999999-", 100, RG__RANGE_UNSATISFIABLE, 0,
		 0);
	range_is("bytes=18446744073709551615-", 100, RG__RANGE_UNSATISFIABLE, 0,
		 0);
	range_is("bytes=-0", 100, RG__RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=0-", 0, RG__RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=-5", 0, RG__RANGE_UNSATISFIABLE, 0, 0);
	/* Ignored: malformed, other units, several ranges, a > b. */
	static const char *const ignored[] = {
	    "",
	    "bytes",
	    "bytes=",
	    "bytes=-",
	    "bytes=5",
	    "bytes=a-b",
	    "bytes=1-2x",
	    "bytes=--5",
	    "bytes=1--2",
	    "items=0-5",
	    "bytes 0-5",
	    "bytes=5-4",
	    "bytes=0-1,3-4",
	    "bytes=0-1, 5-",
	    "bytes=1-2-3",
	    "bytes=+1-2",
	    "bytes=0x1-2",
	};
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		range_is(ignored[i], 100, RG__RANGE_IGNORE, 0, 0);
}

/* ------------------------------------------------------------------------
 * Entity tags
 * ------------------------------------------------------------------------ */

static void etags(void **state)
{
	(void)state;
	struct rg_str mine = S("\"5f3e-1a2b\"");
	assert_true(rg__etag_match_weak(S("\"5f3e-1a2b\""), mine));
	assert_true(rg__etag_match_weak(S("W/\"5f3e-1a2b\""), mine));
	assert_true(rg__etag_match_weak(S("\"x\", \"5f3e-1a2b\""), mine));
	assert_true(
	    rg__etag_match_weak(S("\"x\",W/\"5f3e-1a2b\" ,\"y\""), mine));
	assert_true(rg__etag_match_weak(S("*"), mine));
	assert_true(rg__etag_match_weak(S(" * "), mine));
	assert_false(rg__etag_match_weak(S("\"5f3e-1a2c\""), mine));
	assert_false(rg__etag_match_weak(S("\"5f3e-1a2b-br\""), mine));
	assert_false(rg__etag_match_weak(S(""), mine));
	assert_false(rg__etag_match_weak(S("5f3e-1a2b"), mine)); /* unquoted */
	assert_false(rg__etag_match_weak(S("\"5f3e-1a2b"), mine));
	assert_false(rg__etag_match_weak(S("w/\"5f3e-1a2b\""), mine));
	assert_false(rg__etag_match_weak(S("*, \"5f3e-1a2b\""), mine));
	/* A malformed list matches nothing, even with a match in it. */
	assert_false(rg__etag_match_weak(S("\"5f3e-1a2b\" junk"), mine));
	/* Strong comparison for If-Range: weak tags never match. */
	assert_true(rg__etag_match_strong(S("\"5f3e-1a2b\""), mine));
	assert_false(rg__etag_match_strong(S("W/\"5f3e-1a2b\""), mine));
	assert_false(rg__etag_match_strong(S("\"5f3e-1a2b\", \"x\""), mine));
	assert_false(rg__etag_match_strong(S("\"other\""), mine));
}

/* ------------------------------------------------------------------------
 * HTTP-date
 * ------------------------------------------------------------------------ */

static void dates(void **state)
{
	(void)state;
	int64_t t;
	/* RFC 9110 5.6.7's example, in its three forms. */
	assert_int_equal(
	    rg__http_date_parse(S("Sun, 06 Nov 1994 08:49:37 GMT"), &t), 0);
	assert_int_equal(t, 784111777);
	assert_int_equal(
	    rg__http_date_parse(S("Sunday, 06-Nov-94 08:49:37 GMT"), &t), 0);
	assert_int_equal(t, 784111777);
	assert_int_equal(rg__http_date_parse(S("Sun Nov  6 08:49:37 1994"), &t),
			 0);
	assert_int_equal(t, 784111777);
	assert_int_equal(
	    rg__http_date_parse(S("Thu, 01 Jan 1970 00:00:00 GMT"), &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(
	    rg__http_date_parse(S("Tue, 29 Feb 2000 23:59:59 GMT"), &t), 0);
	assert_int_equal(t, 951868799);
	assert_int_equal(
	    rg__http_date_parse(S("Wed, 01 Jan 2031 00:00:00 GMT"), &t), 0);
	assert_int_equal(t, 1924992000);
	/* Round trip with the response writer's formatter. */
	char buf[32];
	for (time_t v = 0; v < 4102444800; v += 86400 * 97 + 3607) {
		rg__date_format(buf, v);
		assert_int_equal(rg__http_date_parse(S(buf), &t), 0);
		assert_int_equal(t, (int64_t)v);
	}
	static const char *const bad[] = {
	    "",
	    "yesterday",
	    "Sun, 06 Nov 1994 08:49:37 UTC",
	    "Sun, 6 Nov 1994 08:49:37 GMT",
	    "Sun, 06 Foo 1994 08:49:37 GMT",
	    "Sun, 06 Nov 1994 24:49:37 GMT",
	    "Sun, 06 Nov 1994 08:60:37 GMT",
	    "Sun, 00 Nov 1994 08:49:37 GMT",
	    "Sun, 06 Nov 1994 08:49:37 GMT ",
	    "Sun, 06 Nov 19x4 08:49:37 GMT",
	    "Sunday, 06-Nov-1994 08:49:37 GMT",
	    "Sun Nov 6 08:49:37 1994",
	    "1994-11-06T08:49:37Z",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rg__http_date_parse(S(bad[i]), &t) != -EINVAL)
			print_message("accepted \"%s\"\n", bad[i]);
		assert_int_equal(rg__http_date_parse(S(bad[i]), &t), -EINVAL);
	}
}

/* ------------------------------------------------------------------------
 * Accept-Encoding
 * ------------------------------------------------------------------------ */

static void codings_are(const char *v, unsigned br, unsigned gzip)
{
	struct rg__codings c;
	struct rg_str s = v ? S(v) : (struct rg_str){NULL, 0};
	rg__accept_encoding(v ? &s : NULL, &c);
	if (c.br != br || c.gzip != gzip)
		print_message("Accept-Encoding \"%s\": br %u gzip %u\n",
			      v ? v : "(none)", c.br, c.gzip);
	assert_int_equal(c.br, br);
	assert_int_equal(c.gzip, gzip);
}

static void accept_encoding(void **state)
{
	(void)state;
	codings_are(NULL, 0, 0);
	codings_are("", 0, 0);
	codings_are("identity", 0, 0);
	codings_are("gzip", 0, 1000);
	codings_are("br", 1000, 0);
	codings_are("gzip, deflate, br", 1000, 1000);
	codings_are("gzip, deflate, br, zstd", 1000, 1000);
	codings_are("br;q=0", 0, 0);
	codings_are("br;q=0, gzip", 0, 1000);
	codings_are("gzip;q=0.5, br", 1000, 500);
	codings_are("gzip;q=1.0, br;q=0.25", 250, 1000);
	codings_are("GZIP;Q=0.3,BR ;q=0.2", 200, 300);
	codings_are("x-gzip", 0, 1000);
	codings_are("*", 1000, 1000);
	codings_are("*;q=0.1, gzip", 100, 1000);
	codings_are("*;q=0, br", 1000, 0);
	codings_are("br;q=0.000", 0, 0);
	codings_are("br;q=0.001", 1, 0);
	codings_are("br;level=5;q=0.7", 700, 0);
	/* Malformed q-values make the member unacceptable. */
	codings_are("br;q=1.5", 0, 0);
	codings_are("br;q=0.0001", 0, 0);
	codings_are("br;q=", 0, 0);
	codings_are("br;q=abc, gzip", 0, 1000);
	codings_are("brotli, gzipped", 0, 0);
	codings_are(" , ,gzip,, ", 0, 1000);
}

/* ------------------------------------------------------------------------
 * Content-Type and paths
 * ------------------------------------------------------------------------ */

static void mime(void **state)
{
	(void)state;
	static const struct {
		const char *name, *type;
	} cases[] = {
	    {"index.html", "text/html; charset=utf-8"},
	    {"INDEX.HTML", "text/html; charset=utf-8"},
	    {"a/b.Css", "text/css; charset=utf-8"},
	    {"app.js", "text/javascript; charset=utf-8"},
	    {"mod.mjs", "text/javascript; charset=utf-8"},
	    {"x.json", "application/json"},
	    {"i.svg", "image/svg+xml"},
	    {"p.webp", "image/webp"},
	    {"f.woff2", "font/woff2"},
	    {"f.woff", "font/woff"},
	    {"p.PNG", "image/png"},
	    {"p.jpeg", "image/jpeg"},
	    {"p.jpg", "image/jpeg"},
	    {"a.gif", "image/gif"},
	    {"favicon.ico", "image/x-icon"},
	    {"r.txt", "text/plain; charset=utf-8"},
	    {"m.wasm", "application/wasm"},
	    {"site.webmanifest", "application/manifest+json"},
	    {"feed.xml", "application/xml"},
	    {"doc.pdf", "application/pdf"},
	    {"v.mp4", "video/mp4"},
	    {"v.webm", "video/webm"},
	    {"i.avif", "image/avif"},
	    {"app.js.map", "application/json"},
	    {"d.csv", "text/csv; charset=utf-8"},
	    {"README.md", "text/markdown; charset=utf-8"},
	    {"Makefile", "application/octet-stream"},
	    {"dir.d/file", "application/octet-stream"},
	    {"archive.tar.unknown", "application/octet-stream"},
	    {"trailing.", "application/octet-stream"},
	    {".htaccess", "application/octet-stream"},
	    {"x.jsx", "application/octet-stream"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *t =
		    rg__mime_type(cases[i].name, strlen(cases[i].name));
		if (strcmp(t, cases[i].type))
			print_message("%s: %s\n", cases[i].name, t);
		assert_string_equal(t, cases[i].type);
	}
	/* Only the given length counts. */
	assert_string_equal(rg__mime_type("a.css.gz", 5),
			    "text/css; charset=utf-8");
}

static void decode_is(const char *in, const char *want)
{
	char out[128];
	long n = rg__pct_decode(in, strlen(in), out, RG__PCT_STRICT);
	if (!want) {
		if (n != -EINVAL)
			print_message("\"%s\" decoded\n", in);
		assert_int_equal(n, -EINVAL);
		return;
	}
	assert_int_equal(n, (long)strlen(want));
	assert_memory_equal(out, want, (size_t)n + 1);
}

static void decode(void **state)
{
	(void)state;
	decode_is("", "");
	decode_is("a/b.css", "a/b.css");
	decode_is("a%20b.css", "a b.css");
	decode_is("a+b", "a+b"); /* '+' is a space in queries only */
	decode_is("%2e%2E/%2F", "../\x2f");
	decode_is("%41%7a%7A", "Azz");
	decode_is("%c3%a9", "\xc3\xa9");
	decode_is("%25", "%");
	decode_is("%2500", "%00");
	decode_is("%00", NULL);
	decode_is("a%00b", NULL);
	decode_is("%", NULL);
	decode_is("%4", NULL);
	decode_is("abc%", NULL);
	decode_is("%zz", NULL);
	decode_is("%g0", NULL);
	decode_is("%-1", NULL);
	char nul[] = {'a', '\0', 'b'};
	char out[8];
	assert_int_equal(rg__pct_decode(nul, 3, out, RG__PCT_STRICT), -EINVAL);
}

/* ------------------------------------------------------------------------
 * The cache's table
 * ------------------------------------------------------------------------ */

static struct rg__static_file no_file(void)
{
	struct rg__static_file f;
	memset(&f, 0, sizeof(f));
	for (int i = 0; i < RG__VAR_COUNT; i++)
		f.var[i].fd = -1;
	return f;
}

static struct rg__static_entry *add(struct rg__static_cache *c, const char *key)
{
	struct rg__static_file f = no_file();
	return rg__static_cache_add(c, key, strlen(key),
				    rg__static_hash(key, strlen(key)), &f);
}

static struct rg__static_entry *find(struct rg__static_cache *c,
				     const char *key)
{
	return rg__static_cache_find(c, key, strlen(key),
				     rg__static_hash(key, strlen(key)));
}

static void cache_table(void **state)
{
	(void)state;
	struct rg__static_cache c;
	assert_int_equal(rg__static_cache_init(&c, 3), 0);
	struct rg__static_entry *a = add(&c, "a"), *b = add(&c, "b"),
				*d = add(&c, "d");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(d);
	assert_ptr_equal(find(&c, "a"), a);
	assert_ptr_equal(find(&c, "b"), b);
	assert_ptr_equal(find(&c, "d"), d);
	assert_null(find(&c, "x"));
	assert_null(find(&c, "ab"));

	/* Full, every entry pinned: nothing is evicted. */
	rg__static_cache_pin(a);
	rg__static_cache_pin(b);
	rg__static_cache_pin(d);
	assert_null(add(&c, "e"));
	assert_non_null(find(&c, "a"));
	/* One unpinned: it goes, the others stay. */
	rg__static_cache_unpin(b);
	struct rg__static_entry *e = add(&c, "e");
	assert_ptr_equal(e, b);
	assert_null(find(&c, "b"));
	assert_ptr_equal(find(&c, "e"), e);
	assert_ptr_equal(find(&c, "a"), a);

	/* A detached entry is found no more; its slot returns when its last
	 * user ends. */
	rg__static_cache_detach(a);
	assert_null(find(&c, "a"));
	rg__static_cache_pin(e);
	assert_null(add(&c, "f")); /* a, d and e pinned */
	rg__static_cache_unpin(e);
	rg__static_cache_unpin(a);
	struct rg__static_entry *f = add(&c, "f");
	assert_ptr_equal(f, a);
	assert_ptr_equal(find(&c, "f"), f);
	rg__static_cache_unpin(d);

	/* Many keys through a small table: always the last few found. */
	char key[16];
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_non_null(add(&c, key));
		assert_non_null(find(&c, key));
	}
	/* Keys longer than the entry's are refused. */
	char longkey[RG__STATIC_KEY_MAX + 2];
	memset(longkey, 'x', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	assert_null(add(&c, longkey));
	rg__static_cache_fini(&c);

	/* No entries: a cache that holds nothing. */
	assert_int_equal(rg__static_cache_init(&c, 0), 0);
	assert_null(add(&c, "a"));
	assert_null(find(&c, "a"));
	rg__static_cache_fini(&c);
}

/* ------------------------------------------------------------------------
 * Opening beneath a root
 * ------------------------------------------------------------------------ */

static char root[64];

static void put(const char *name, const char *data)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

static int open_path(struct rg_static *st, const char *p,
		     struct rg__static_file *f)
{
	static char buf[512];
	size_t n = strlen(p);
	memcpy(buf, p, n + 1);
	return rg__static_open(st, buf, n, f);
}

static void opening(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/rg-test-static-XXXXXX");
	assert_non_null(mkdtemp(root));
	char path[256];
	put("a.css", "body{}");
	put("a.css.gz", "gz");
	put("b.js", "x");
	snprintf(path, sizeof(path), "%s/d", root);
	assert_int_equal(mkdir(path, 0755), 0);
	put("d/index.html", "<p>");
	snprintf(path, sizeof(path), "%s/up", root);
	assert_int_equal(symlink("../", path), 0);
	snprintf(path, sizeof(path), "%s/in", root);
	assert_int_equal(symlink("a.css", path), 0);

	struct rg_static_config cfg;
	rg_static_config_init(&cfg);
	cfg.root = root;
	struct rg_static *st = rg_static_create(&cfg);
	assert_non_null(st);
	struct rg__static_file f;

	assert_int_equal(open_path(st, "a.css", &f), 0);
	assert_int_equal(f.var[RG__VAR_IDENTITY].size, 6);
	assert_true(f.var[RG__VAR_GZIP].fd >= 0);
	assert_int_equal(f.var[RG__VAR_BR].fd, -1);
	assert_string_equal(f.type, "text/css; charset=utf-8");
	assert_true(strstr(f.var[RG__VAR_GZIP].etag, "-gz\"") != NULL);
	assert_true(strcmp(f.var[RG__VAR_GZIP].etag,
			   f.var[RG__VAR_IDENTITY].etag) != 0);
	char buf[512] = "a.css";
	assert_false(rg__static_changed(st, buf, 5, &f));
	/* A new br sibling, a rewritten gz: both are changes. */
	put("a.css.br", "br");
	assert_true(rg__static_changed(st, buf, 5, &f));
	rg__static_file_close(&f);
	assert_int_equal(open_path(st, "a.css", &f), 0);
	assert_true(f.var[RG__VAR_BR].fd >= 0);
	assert_false(rg__static_changed(st, buf, 5, &f));
	put("a.css", "body{color:red}");
	assert_true(rg__static_changed(st, buf, 5, &f));
	rg__static_file_close(&f);

	/* A sibling that is not a regular file is not used; its removal is
	 * a change. */
	snprintf(path, sizeof(path), "%s/a.css.br", root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(open_path(st, "a.css", &f), 0);
	assert_int_equal(f.var[RG__VAR_BR].fd, -1);
	assert_true(f.var[RG__VAR_GZIP].fd >= 0);
	assert_false(rg__static_changed(st, buf, 5, &f));
	snprintf(path, sizeof(path), "%s/a.css.gz", root);
	assert_int_equal(unlink(path), 0);
	assert_true(rg__static_changed(st, buf, 5, &f));
	rg__static_file_close(&f);

	assert_int_equal(open_path(st, "d", &f), 301);
	assert_int_equal(open_path(st, "d/", &f), 0);
	assert_true(f.index);
	assert_string_equal(f.type, "text/html; charset=utf-8");
	strcpy(buf, "d/");
	assert_false(rg__static_changed(st, buf, 2, &f));
	assert_string_equal(buf, "d/");
	rg__static_file_close(&f);
	assert_int_equal(open_path(st, "in", &f), 0); /* a link inside */
	rg__static_file_close(&f);
	assert_int_equal(open_path(st, "missing", &f), 404);
	assert_int_equal(open_path(st, "a.css/", &f), 404);
	assert_int_equal(open_path(st, "../etc/passwd", &f), 404);
	assert_int_equal(open_path(st, "up/etc/passwd", &f), 404);
	assert_int_equal(open_path(st, "/etc/passwd", &f), 404);
	assert_int_equal(open_path(st, "", &f), 404); /* no index at root */
	rg_static_destroy(st);

	/* Without an index, directories are 404, with or without '/'. */
	cfg.index = NULL;
	cfg.precompressed = false;
	st = rg_static_create(&cfg);
	assert_non_null(st);
	assert_int_equal(open_path(st, "d/", &f), 404);
	assert_int_equal(open_path(st, "d", &f), 404);
	assert_int_equal(open_path(st, "a.css", &f), 0);
	assert_int_equal(f.var[RG__VAR_GZIP].fd, -1);
	rg__static_file_close(&f);
	rg_static_destroy(st);

	/* Bad configurations. */
	cfg.root = "/nonexistent-rg-root";
	errno = 0;
	assert_null(rg_static_create(&cfg));
	assert_int_equal(errno, ENOENT);
	cfg.root = root;
	cfg.index = "a/b";
	assert_null(rg_static_create(&cfg));
	assert_int_equal(errno, EINVAL);
	cfg.root = NULL;
	cfg.index = "index.html";
	assert_null(rg_static_create(&cfg));
	assert_int_equal(errno, EINVAL);

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(range_forms),     cmocka_unit_test(range_rejects),
	    cmocka_unit_test(etags),	       cmocka_unit_test(dates),
	    cmocka_unit_test(accept_encoding), cmocka_unit_test(mime),
	    cmocka_unit_test(decode),	       cmocka_unit_test(cache_table),
	    cmocka_unit_test(opening),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
