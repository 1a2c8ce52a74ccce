/* test_router.c: the request router: literals, ":name" and "*" patterns,
 * registration order, HEAD falling back to GET, 404 / 405 (Allow) / 501,
 * pattern validation, and paths that are long, deep or have empty
 * segments. Every path is matched from just below a PROT_NONE page, so a
 * read past its end crashes the test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/parser.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ringlet.h"
#include "core/router.h"

#define PATH_MAX_TEST (128 * 1024)

struct fixture {
	struct rg__router router;
	struct rg__route_match m;
	char *guard_end; /* first byte of the PROT_NONE page */
	size_t map_len;
	struct rg_str path; /* the last path matched, as placed by match() */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	rg__router_init(&f->router);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	f->map_len = PATH_MAX_TEST + page;
	char *map = mmap(NULL, f->map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(map != MAP_FAILED);
	f->guard_end = map + PATH_MAX_TEST;
	assert_int_equal(mprotect(f->guard_end, page, PROT_NONE), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rg__router_free(&f->router);
	munmap(f->guard_end - PATH_MAX_TEST, f->map_len);
	free(f);
	return 0;
}

/* Handlers are never called here; routes are told apart by `data`. */
static void handler_a(struct rg_request *req, void *data)
{
	(void)req;
	(void)data;
}

static void handler_b(struct rg_request *req, void *data)
{
	(void)req;
	(void)data;
}

#define TAG(n) ((void *)(intptr_t)(n))

static void add(struct fixture *f, const char *method, const char *pattern,
		int tag)
{
	assert_int_equal(rg__router_add(&f->router, method, pattern, handler_a,
					TAG(tag), false),
			 0);
}

/* Matches `path` (placed so that its last byte is the last readable one)
 * with `method`; the method is copied too, without a NUL after it. */
static int match_n(struct fixture *f, const char *method, const char *path,
		   size_t len)
{
	assert_true(len <= PATH_MAX_TEST - 64);
	char *p = f->guard_end - len;
	memcpy(p, path, len);
	char mbuf[64];
	size_t mlen = strlen(method);
	assert_true(mlen < sizeof(mbuf));
	memcpy(mbuf, method, mlen);
	f->path = (struct rg_str){p, len};
	memset(&f->m, 0x5a, sizeof(f->m)); /* stale garbage must not leak */
	return rg__router_match(&f->router, (struct rg_str){mbuf, mlen},
				rg__method_id(mbuf, mlen), f->path, &f->m);
}

static int match(struct fixture *f, const char *method, const char *path)
{
	return match_n(f, method, path, strlen(path));
}

static int tag(const struct fixture *f)
{
	return (int)(intptr_t)f->m.data;
}

/* Asserts that parameter `name` is `want` and a slice of the matched path. */
static void assert_param(const struct fixture *f, const char *name,
			 const char *want)
{
	struct rg_str v = rg__route_param(&f->m, name);
	assert_non_null(v.ptr);
	assert_true(v.ptr >= f->path.ptr &&
		    v.ptr + v.len <= f->path.ptr + f->path.len);
	assert_int_equal(v.len, strlen(want));
	assert_memory_equal(v.ptr, want, v.len);
}

static void assert_no_param(const struct fixture *f, const char *name)
{
	struct rg_str v = rg__route_param(&f->m, name);
	assert_null(v.ptr);
	assert_int_equal(v.len, 0);
}

/* --- matching ------------------------------------------------------------ */

static void literals(void **state)
{
	struct fixture *f = *state;
	add(f, "GET", "/", 1);
	add(f, "GET", "/users", 2);
	add(f, "GET", "/users/list", 3);

	assert_int_equal(match(f, "GET", "/"), 200);
	assert_int_equal(tag(f), 1);
	assert_ptr_equal(f->m.handler, handler_a);
	assert_int_equal(f->m.nparams, 0);
	assert_int_equal(match(f, "GET", "/users"), 200);
	assert_int_equal(tag(f), 2);
	assert_int_equal(match(f, "GET", "/users/list"), 200);
	assert_int_equal(tag(f), 3);

	const char *misses[] = {"/user",	"/usersx",
				"/Users",	"/users/lis",
				"/users/listx", "/users/list/x",
				"/users/list/", "",
				"users",	"*",
				"/x/users"};
	for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++) {
		assert_int_equal(match(f, "GET", misses[i]), 404);
		assert_null(f->m.handler);
	}
}

/* And whether it runs inline (rg_route_inline). */
static void handler_and_data_are_returned(void **state)
{
	struct fixture *f = *state;
	int x;
	assert_int_equal(
	    rg__router_add(&f->router, "GET", "/b", handler_b, &x, true), 0);
	assert_int_equal(match(f, "GET", "/b"), 200);
	assert_ptr_equal(f->m.handler, handler_b);
	assert_ptr_equal(f->m.data, &x);
	assert_true(f->m.run_inline);
	add(f, "GET", "/a", 1); /* a route of rg_route runs on a coroutine */
	assert_int_equal(match(f, "GET", "/a"), 200);
	assert_false(f->m.run_inline);
}

static void one_param(void **state)
{
	struct fixture *f = *state;
	add(f, "GET", "/users/:id", 1);

	assert_int_equal(match(f, "GET", "/users/42"), 200);
	assert_int_equal(f->m.nparams, 1);
	assert_string_equal(f->m.params[0].name, "id");
	assert_param(f, "id", "42");
	assert_true(f->m.params[0].value.ptr == f->path.ptr + 7); /* no copy */

	assert_int_equal(match(f, "GET", "/users/a:b.c-d"), 200);
	assert_param(f, "id", "a:b.c-d");
	/* ":name" is exactly one non-empty segment. */
	assert_int_equal(match(f, "GET", "/users/"), 404);
	assert_int_equal(match(f, "GET", "/users"), 404);
	assert_int_equal(match(f, "GET", "/users/42/"), 404);
	assert_int_equal(match(f, "GET", "/users/42/posts"), 404);
}

static void several_params(void **state)
{
	struct fixture *f = *state;
	add(f, "GET", "/a/:x/b/:y", 1);
	add(f, "GET", "/:p/:q/:r", 2);

	assert_int_equal(match(f, "GET", "/a/1/b/22"), 200);
	assert_int_equal(tag(f), 1);
	assert_int_equal(f->m.nparams, 2);
	assert_string_equal(f->m.params[0].name, "x");
	assert_string_equal(f->m.params[1].name, "y");
	assert_param(f, "x", "1");
	assert_param(f, "y", "22");

	/* The literal "b" fails, so the second route takes it. */
	assert_int_equal(match(f, "GET", "/a/1/c"), 200);
	assert_int_equal(tag(f), 2);
	assert_int_equal(f->m.nparams, 3);
	assert_param(f, "p", "a");
	assert_param(f, "q", "1");
	assert_param(f, "r", "c");
	assert_no_param(f, "x"); /* nothing left over from the first try */
}

static void params_are_raw_bytes(void **state)
{
	struct fixture *f = *state;
	add(f, "GET", "/f/:name", 1);
	add(f, "GET", "/caf%C3%A9", 2);

	/* No percent-decoding: %2F is not a separator. */
	assert_int_equal(match(f, "GET", "/f/a%2Fb"), 200);
	assert_param(f, "name", "a%2Fb");
	assert_int_equal(match(f, "GET", "/caf%C3%A9"), 200);
	assert_int_equal(tag(f), 2);
	assert_int_equal(match(f, "GET", "/caf%c3%a9"), 404);
	assert_int_equal(match(f, "GET", "/caf\xc3\xa9"), 404);
}

static void tail(void **state)
{
	struct fixture *f = *state;
	add(f, "GET", "/static/*", 1);

	assert_int_equal(match(f, "GET", "/static/css/site.css"), 200);
	assert_int_equal(f->m.nparams, 1);
	assert_string_equal(f->m.params[0].name, "*");
	assert_param(f, "*", "css/site.css");
	assert_int_equal(match(f, "GET", "/static/a/"), 200);
	assert_param(f, "*", "a/");

	/* Empty tail: a slice of length 0, not "no such parameter". */
	assert_int_equal(match(f, "GET", "/static/"), 200);
	assert_param(f, "*", "");

	assert_int_equal(match(f, "GET", "/static"), 404);
	assert_int_equal(match(f, "GET", "/staticx/a"), 404);
}

static void tail_at_root_and_after_params(void **state)
{
	struct fixture *f = *state;
	add(f, "GET", "/u/:id/*", 1);
	add(f, "GET", "/*", 2);

	assert_int_equal(match(f, "GET", "/u/7/files/a.txt"), 200);
	assert_int_equal(tag(f), 1);
	assert_param(f, "id", "7");
	assert_param(f, "*", "files/a.txt");
	assert_int_equal(match(f, "GET", "/u/7/"), 200);
	assert_int_equal(tag(f), 1);
	assert_param(f, "*", "");

	/* Too short for the first route, so the second takes it. */
	assert_int_equal(match(f, "GET", "/u/7"), 200);
	assert_int_equal(tag(f), 2);
	assert_param(f, "*", "u/7");
	assert_no_param(f, "id");
	assert_int_equal(match(f, "GET", "/"), 200);
	assert_param(f, "*", "");
	assert_int_equal(match(f, "GET", ""), 404);
}

static void trailing_slash_is_significant(void **state)
{
	struct fixture *f = *state;
	add(f, "GET", "/a", 1);
	add(f, "GET", "/b/", 2);

	assert_int_equal(match(f, "GET", "/a"), 200);
	assert_int_equal(tag(f), 1);
	assert_int_equal(match(f, "GET", "/a/"), 404);
	assert_int_equal(match(f, "GET", "/b/"), 200);
	assert_int_equal(tag(f), 2);
	assert_int_equal(match(f, "GET", "/b"), 404);

	add(f, "GET", "/a/", 3);
	assert_int_equal(match(f, "GET", "/a/"), 200);
	assert_int_equal(tag(f), 3);
	assert_int_equal(match(f, "GET", "/a"), 200);
	assert_int_equal(tag(f), 1);
}

static void empty_segments(void **state)
{
	struct fixture *f = *state;
	add(f, "GET", "/a//b", 1);
	add(f, "GET", "/p/:x/:y", 2);
	add(f, "GET", "/t/*", 3);

	assert_int_equal(match(f, "GET", "/a//b"), 200);
	assert_int_equal(tag(f), 1);
	assert_int_equal(match(f, "GET", "/a/b"), 404);
	assert_int_equal(match(f, "GET", "/a///b"), 404);
	/* ":name" never matches an empty segment. */
	assert_int_equal(match(f, "GET", "/p//b"), 404);
	assert_int_equal(match(f, "GET", "/p/a/"), 404);
	assert_int_equal(match(f, "GET", "/p/a/b"), 200);
	/* "*" takes the rest as it is, empty segments included. */
	assert_int_equal(match(f, "GET", "/t//x//"), 200);
	assert_param(f, "*", "/x//");
	assert_int_equal(match(f, "GET", "//"), 404);
}

static void first_match_wins(void **state)
{
	struct fixture *f = *state;
	add(f, "GET", "/users/:id", 1);
	add(f, "GET", "/users/me", 2); /* shadowed: added after ":id" */
	add(f, "GET", "/posts/latest", 3);
	add(f, "GET", "/posts/:id", 4);
	add(f, "GET", "/users/:id", 5); /* a duplicate is allowed, never hit */

	assert_int_equal(match(f, "GET", "/users/me"), 200);
	assert_int_equal(tag(f), 1);
	assert_param(f, "id", "me");
	assert_int_equal(match(f, "GET", "/posts/latest"), 200);
	assert_int_equal(tag(f), 3);
	assert_int_equal(f->m.nparams, 0);
	assert_int_equal(match(f, "GET", "/posts/9"), 200);
	assert_int_equal(tag(f), 4);
}

static void many_routes(void **state)
{
	struct fixture *f = *state;
	char pattern[32];
	for (int i = 0; i < 300; i++) {
		snprintf(pattern, sizeof(pattern), "/r%d/:v", i);
		add(f, "GET", pattern, i);
	}
	assert_int_equal(match(f, "GET", "/r0/x"), 200);
	assert_int_equal(tag(f), 0);
	assert_int_equal(match(f, "GET", "/r299/y"), 200);
	assert_int_equal(tag(f), 299);
	assert_param(f, "v", "y");
	assert_int_equal(match(f, "GET", "/r300/y"), 404);

	/* Freed, the router is empty and can be filled again. */
	rg__router_free(&f->router);
	assert_int_equal(match(f, "GET", "/r0/x"), 404);
	add(f, "GET", "/again", 7);
	assert_int_equal(match(f, "GET", "/again"), 200);
	assert_int_equal(tag(f), 7);
}

/* --- methods and statuses ------------------------------------------------ */

static void head_falls_back_to_get(void **state)
{
	struct fixture *f = *state;
	add(f, "GET", "/g/:id", 1);
	add(f, "GET", "/h", 2);
	add(f, "HEAD", "/h", 3); /* a HEAD route beats an earlier GET one */
	add(f, "GET", "/n", 4);
	add(f, NULL, "/n", 5); /* so does a route for every method */
	add(f, "HEAD", "/only-head", 6);

	assert_int_equal(match(f, "HEAD", "/g/12"), 200);
	assert_int_equal(tag(f), 1);
	assert_int_equal(f->m.nparams, 1);
	assert_param(f, "id", "12");
	assert_int_equal(match(f, "HEAD", "/h"), 200);
	assert_int_equal(tag(f), 3);
	assert_int_equal(match(f, "GET", "/h"), 200);
	assert_int_equal(tag(f), 2);
	assert_int_equal(match(f, "HEAD", "/n"), 200);
	assert_int_equal(tag(f), 5);

	/* No fallback the other way. */
	assert_int_equal(match(f, "GET", "/only-head"), 405);
	assert_string_equal(f->m.allow, "HEAD");
	assert_int_equal(match(f, "HEAD", "/nothing"), 404);
}

static void status_404_405(void **state)
{
	struct fixture *f = *state;
	add(f, "GET", "/a", 1);
	add(f, "POST", "/a", 2);
	add(f, "GET", "/:any", 3); /* matches /a too: GET listed once */
	add(f, "PUT", "/b", 4);
	add(f, "DELETE", "/a/:id", 5);

	assert_int_equal(match(f, "DELETE", "/a"), 405);
	assert_string_equal(f->m.allow, "GET, HEAD, POST");
	assert_null(f->m.handler);
	assert_int_equal(f->m.nparams, 0);
	assert_no_param(f, "any");

	assert_int_equal(match(f, "POST", "/b"), 405);
	assert_string_equal(f->m.allow, "GET, HEAD, PUT");
	assert_int_equal(match(f, "GET", "/a/1"), 405);
	assert_string_equal(f->m.allow, "DELETE");

	assert_int_equal(match(f, "DELETE", "/nope/x"), 404);
	assert_string_equal(f->m.allow, "");
	assert_null(f->m.handler);
	assert_int_equal(match(f, "PUT", "/a/1/2"), 404);
}

static void allow_lists_head_once(void **state)
{
	struct fixture *f = *state;
	add(f, "HEAD", "/c", 1);
	add(f, "OPTIONS", "/c", 2);
	add(f, "GET", "/c", 3);
	add(f, "GET", "/c", 4);
	add(f, "HEAD", "/c", 5);
	add(f, "POST", "/elsewhere", 6); /* POST is taken: 405, not 501 */

	assert_int_equal(match(f, "POST", "/c"), 405);
	assert_string_equal(f->m.allow, "HEAD, OPTIONS, GET");
}

static void allow_truncates_whole_methods(void **state)
{
	struct fixture *f = *state;
	char method[32];
	for (int i = 0; i < 12; i++) {
		snprintf(method, sizeof(method), "LONGMETHOD%02dXYZ", i);
		add(f, method, "/t", i);
	}
	add(f, "GET", "/t", 99); /* short enough to fit after the cut */
	add(f, "POST", "/elsewhere", 100);

	assert_int_equal(match(f, "POST", "/t"), 405);
	/* 15-byte names, 17 with ", ": five fit in 96 bytes with the NUL,
	 * then GET and HEAD (94 bytes); no method is cut in half. */
	assert_string_equal(f->m.allow, "LONGMETHOD00XYZ, LONGMETHOD01XYZ, "
					"LONGMETHOD02XYZ, LONGMETHOD03XYZ, "
					"LONGMETHOD04XYZ, GET, HEAD");
	assert_true(strlen(f->m.allow) < sizeof(f->m.allow));
}

static void status_501(void **state)
{
	struct fixture *f = *state;
	add(f, "GET", "/a", 1);

	/* Methods no route takes: 501 whether or not the path exists
	 * (RFC 9110 15.6.2: not supported for any resource). */
	assert_int_equal(match(f, "PURGE", "/a"), 501);
	assert_null(f->m.handler);
	assert_int_equal(match(f, "PURGE", "/nope"), 501);
	/* Methods are case-sensitive (RFC 9110 9.1): "get" is not GET. */
	assert_int_equal(match(f, "get", "/a"), 501);
	assert_int_equal(match(f, "GETX", "/a"), 501);
	assert_int_equal(match(f, "GE", "/a"), 501);
	/* Standard methods too, when no route takes them. */
	const char *unrouted[] = {"POST",  "PUT",     "DELETE",
				  "PATCH", "CONNECT", "TRACE"};
	for (size_t i = 0; i < sizeof(unrouted) / sizeof(unrouted[0]); i++) {
		assert_int_equal(match(f, unrouted[i], "/a"), 501);
		assert_int_equal(match(f, unrouted[i], "/nope"), 501);
	}
	/* CONNECT's authority-form target has an empty path. */
	assert_int_equal(match(f, "CONNECT", ""), 501);
	/* GET and HEAD (RFC 9110 9.1) and OPTIONS (answered for "*") are
	 * never 501: 405 or 404. */
	assert_int_equal(match(f, "OPTIONS", "/a"), 405);
	assert_string_equal(f->m.allow, "GET, HEAD");
	assert_int_equal(match(f, "OPTIONS", "/nope"), 404);
	assert_int_equal(match(f, "HEAD", "/nope"), 404);
	struct fixture *g = f;
	rg__router_free(&g->router);
	add(g, "POST", "/p", 1);
	assert_int_equal(match(g, "GET", "/p"), 405);
	assert_int_equal(match(g, "GET", "/q"), 404);
	assert_int_equal(match(g, "HEAD", "/q"), 404);
	/* Once a route takes DELETE, the usual 405 and 404. */
	add(g, "DELETE", "/d", 2);
	assert_int_equal(match(g, "DELETE", "/p"), 405);
	assert_string_equal(g->m.allow, "POST");
	assert_int_equal(match(g, "DELETE", "/q"), 404);
}

static void options_asterisk(void **state)
{
	struct fixture *f = *state;
	/* No routes: the server still answers, with OPTIONS alone. */
	assert_int_equal(match(f, "OPTIONS", "*"), 200);
	assert_null(f->m.handler);
	assert_string_equal(f->m.allow, "OPTIONS");

	add(f, "GET", "/a", 1);
	add(f, "POST", "/a", 2);
	add(f, "PURGE", "/cache/*", 3);
	add(f, "GET", "/b", 4);
	assert_int_equal(match(f, "OPTIONS", "*"), 200);
	assert_null(f->m.handler);
	assert_string_equal(f->m.allow, "GET, HEAD, POST, PURGE, OPTIONS");
	assert_int_equal(f->m.nparams, 0);
	/* "*" is no path of any route but its own. */
	assert_int_equal(match(f, "GET", "*"), 404);

	/* A route for every method serves all of the standard ones. */
	add(f, NULL, "/any", 5);
	assert_int_equal(match(f, "OPTIONS", "*"), 200);
	assert_string_equal(f->m.allow, "GET, HEAD, POST, PURGE, PUT, DELETE, "
					"OPTIONS, PATCH, TRACE");

	/* The application's own route for "*" wins. */
	add(f, "OPTIONS", "*", 6);
	assert_int_equal(match(f, "OPTIONS", "*"), 200);
	assert_int_equal(tag(f), 6);
	assert_string_equal(f->m.allow, "");
	/* and never matches a path. */
	assert_int_equal(match(f, "OPTIONS", "/any"), 200);
	assert_int_equal(tag(f), 5);
	assert_int_equal(match(f, "OPTIONS", "/a"), 405);
	assert_string_equal(f->m.allow, "GET, HEAD, POST");
	assert_int_equal(match(f, "OPTIONS", "/"), 404);
}

static void custom_method(void **state)
{
	struct fixture *f = *state;
	add(f, "PURGE", "/cache/*", 1);
	add(f, "GET", "/cache/*", 2);
	add(f, "DELETE", "/elsewhere", 3);

	assert_int_equal(match(f, "PURGE", "/cache/img/a.png"), 200);
	assert_int_equal(tag(f), 1);
	assert_param(f, "*", "img/a.png");
	/* Routed somewhere, so the usual 404 and 405. */
	assert_int_equal(match(f, "PURGE", "/other"), 404);
	assert_int_equal(match(f, "DELETE", "/cache/x"), 405);
	assert_string_equal(f->m.allow, "PURGE, GET, HEAD");
	assert_int_equal(f->m.nparams, 0); /* none left from the GET route */
	assert_no_param(f, "*");
	assert_int_equal(match(f, "purge", "/cache/x"), 501);
	assert_int_equal(match(f, "PURGEX", "/cache/x"), 501);
}

/* Routes whose first literal segments differ in length only, and a first
 * segment that is a parameter: the length check passes over the others
 * and never over the right one. A known method is compared as the
 * parser's id, case-sensitively as before. */
static void first_segment_and_method_ids(void **state)
{
	struct fixture *f = *state;
	add(f, "GET", "/stats", 1);
	add(f, "GET", "/statsx/:a", 2);
	add(f, "GET", "/", 3);
	add(f, "GET", "/:any/x", 4);
	add(f, "POST", "/form", 5);
	assert_int_equal(match(f, "GET", "/stats"), 200);
	assert_int_equal(tag(f), 1);
	assert_int_equal(match(f, "GET", "/statsx/1"), 200);
	assert_int_equal(tag(f), 2);
	assert_int_equal(match(f, "GET", "/"), 200);
	assert_int_equal(tag(f), 3);
	assert_int_equal(match(f, "GET", "/stat/x"), 200);
	assert_int_equal(tag(f), 4);
	assert_param(f, "any", "stat");
	assert_int_equal(match(f, "GET", "/stat"), 404);
	assert_int_equal(match(f, "GET", "/statsxy/1"), 404);
	assert_int_equal(match(f, "HEAD", "/stats"), 200); /* GET's */
	assert_int_equal(tag(f), 1);
	assert_int_equal(match(f, "get", "/stats"), 501);
	assert_int_equal(match(f, "POST", "/stats"), 405);
	assert_string_equal(f->m.allow, "GET, HEAD");
}

static void null_method_matches_every_method(void **state)
{
	struct fixture *f = *state;
	add(f, "GET", "/x", 1);
	add(f, NULL, "/x", 2);
	add(f, "POST", "/x", 3); /* shadowed by the NULL route */

	assert_int_equal(match(f, "GET", "/x"), 200);
	assert_int_equal(tag(f), 1);
	const char *methods[] = {"POST", "HEAD", "DELETE", "PURGE", "BREW"};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		assert_int_equal(match(f, methods[i], "/x"), 200);
		assert_int_equal(tag(f), 2);
	}
	/* A route for every method takes BREW too: 404 elsewhere. */
	assert_int_equal(match(f, "BREW", "/y"), 404);
	assert_int_equal(match(f, "POST", "/y"), 404);
}

/* --- registration -------------------------------------------------------- */

static void invalid_patterns(void **state)
{
	struct fixture *f = *state;
	const char *bad[] = {
	    "", /* no leading '/' */
	    "a",
	    "a/b",
	    ":id",
	    "**", /* "*" alone is the asterisk form (options_asterisk) */
	    "*/",
	    "/:", /* empty name */
	    "/a/:/b",
	    "/:/*",
	    "/*/a", /* "*" not last */
	    "/a/*/",
	    "/*/*",
	    "/:id/x/:id", /* duplicate names */
	    "/:a/:b/:a",
	    "/:*/*",
	    "/:a/:b/:c/:d/:e/:f/:g/:h/:i", /* nine parameters */
	    "/:a/:b/:c/:d/:e/:f/:g/:h/*",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = rg__router_add(&f->router, "GET", bad[i], handler_a,
					NULL, false);
		if (rc != -EINVAL)
			fail_msg("pattern \"%s\": %d, want -EINVAL", bad[i],
				 rc);
	}
	assert_int_equal(
	    rg__router_add(&f->router, "GET", NULL, handler_a, NULL, false),
	    -EINVAL);
	assert_int_equal(
	    rg__router_add(&f->router, "GET", "/ok", NULL, NULL, false),
	    -EINVAL);
	const char *bad_methods[] = {"", "GE T", "GET\r\n", "GET/", "G(ET)"};
	for (size_t i = 0; i < sizeof(bad_methods) / sizeof(bad_methods[0]);
	     i++)
		assert_int_equal(rg__router_add(&f->router, bad_methods[i],
						"/ok", handler_a, NULL, false),
				 -EINVAL);

	/* Nothing was added. */
	assert_int_equal(match(f, "GET", "/ok"), 404);
	assert_int_equal(match(f, "GET", "/a/x/b"), 404);

	/* The limits themselves are fine; ':' and '*' inside a literal are
	 * plain bytes. */
	add(f, "GET", "/:a/:b/:c/:d/:e/:f/:g/:h", 1);
	add(f, "GET", "/:a/:b/:c/:d/:e/:f/:g/*", 2);
	add(f, "GET", "/lit/a:b/c*/**/x:", 3);
	add(f, "M-1.x_y~!", "/m", 4);
	assert_int_equal(match(f, "GET", "/lit/a:b/c*/**/x:"), 200);
	assert_int_equal(tag(f), 3);
	assert_int_equal(match(f, "GET", "/lit/a:b/c*/**/x"), 404);
	assert_int_equal(match(f, "M-1.x_y~!", "/m"), 200);
	assert_int_equal(tag(f), 4);
}

static void param_lookup_missing(void **state)
{
	struct fixture *f = *state;
	add(f, "GET", "/u/:id", 1);
	add(f, "GET", "/plain", 2);

	assert_int_equal(match(f, "GET", "/u/5"), 200);
	assert_param(f, "id", "5");
	assert_no_param(f, "i");   /* a prefix of a name */
	assert_no_param(f, "idx"); /* a name as prefix */
	assert_no_param(f, "*");
	assert_no_param(f, ":id");
	assert_no_param(f, "");

	assert_int_equal(match(f, "GET", "/plain"), 200);
	assert_no_param(f, "id");
	assert_int_equal(match(f, "GET", "/none"), 404);
	assert_no_param(f, "id");
}

/* --- size --------------------------------------------------------------- */

static void deep_paths(void **state)
{
	struct fixture *f = *state;
	add(f, "GET", "/1/2/3/4/5/6/7/8/9/10/11/12", 1);
	add(f, "GET", "/x/:a/:b/:c/:d/y/:e/:f/:g/:h/z", 2);
	add(f, "GET", "/d/:a/:b/:c/:d/:e/:f/:g/*", 3);

	assert_int_equal(match(f, "GET", "/1/2/3/4/5/6/7/8/9/10/11/12"), 200);
	assert_int_equal(tag(f), 1);
	assert_int_equal(match(f, "GET", "/1/2/3/4/5/6/7/8/9/10/11"), 404);
	assert_int_equal(match(f, "GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13"),
			 404);
	assert_int_equal(match(f, "GET", "/1/2/3/4/5/6/7/8/9/10/11/13"), 404);

	assert_int_equal(match(f, "GET", "/x/1/2/3/4/y/5/6/7/8/z"), 200);
	assert_int_equal(tag(f), 2);
	assert_int_equal(f->m.nparams, 8);
	assert_param(f, "a", "1");
	assert_param(f, "h", "8");
	assert_int_equal(match(f, "GET", "/x/1/2/3/4/y/5/6/7/8/z/9"), 404);

	/* Eight parameters, the last ("*") taking nine segments. */
	assert_int_equal(match(f, "GET", "/d/1/2/3/4/5/6/7/8/9/a/b/c/d/e/f/g"),
			 200);
	assert_int_equal(f->m.nparams, 8);
	assert_param(f, "g", "7");
	assert_param(f, "*", "8/9/a/b/c/d/e/f/g");
}

static void long_paths(void **state)
{
	struct fixture *f = *state;
	size_t n = 100 * 1024;
	char *lit = malloc(5000 + 2);
	char *path = malloc(n + 1);
	assert_non_null(lit);
	assert_non_null(path);

	/* A 5000-byte literal segment, and a path differing in its last byte
	 * or one byte longer. */
	lit[0] = '/';
	memset(lit + 1, 'q', 5000);
	lit[5001] = '\0';
	add(f, "GET", lit, 1);
	assert_int_equal(match(f, "GET", lit), 200);
	assert_int_equal(tag(f), 1);
	lit[5000] = 'r';
	assert_int_equal(match(f, "GET", lit), 404);
	lit[5000] = 'q';
	memcpy(path, lit, 5001);
	path[5001] = 'q';
	assert_int_equal(match_n(f, "GET", path, 5002), 404);

	/* 100 KiB under a tail and as one parameter. */
	add(f, "GET", "/files/*", 2);
	add(f, "GET", "/one/:blob", 3);
	memset(path, 'a', n);
	for (size_t i = 100; i < n; i += 100)
		path[i] = '/';
	memcpy(path, "/files/", 7);
	assert_int_equal(match_n(f, "GET", path, n), 200);
	assert_int_equal(tag(f), 2);
	struct rg_str v = rg__route_param(&f->m, "*");
	assert_int_equal(v.len, n - 7);
	assert_ptr_equal(v.ptr, f->path.ptr + 7);

	memset(path, 'b', n);
	memcpy(path, "/one/", 5);
	assert_int_equal(match_n(f, "GET", path, n), 200);
	assert_int_equal(tag(f), 3);
	assert_int_equal(rg__route_param(&f->m, "blob").len, n - 5);
	path[n - 1] = '/';
	assert_int_equal(match_n(f, "GET", path, n), 404);

	free(path);
	free(lit);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(literals),
	    T(handler_and_data_are_returned),
	    T(one_param),
	    T(several_params),
	    T(params_are_raw_bytes),
	    T(tail),
	    T(tail_at_root_and_after_params),
	    T(trailing_slash_is_significant),
	    T(empty_segments),
	    T(first_match_wins),
	    T(many_routes),
	    T(head_falls_back_to_get),
	    T(status_404_405),
	    T(allow_lists_head_once),
	    T(allow_truncates_whole_methods),
	    T(status_501),
	    T(options_asterisk),
	    T(custom_method),
	    T(first_segment_and_method_ids),
	    T(null_method_matches_every_method),
	    T(invalid_patterns),
	    T(param_lookup_missing),
	    T(deep_paths),
	    T(long_paths),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
