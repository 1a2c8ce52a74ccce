/* router.h: maps a request's method and path to the handler registered for
 * them (rg_route), with the 404 / 405 / 501 answers when none is. */
#ifndef RG_CORE_ROUTER_H
#define RG_CORE_ROUTER_H

#include "ringlet.h"

#define RG__MAX_PARAMS 8

/* One parameter of a matched route: ":name" or the final "*". */
struct rg__route_param {
	const char *name;    /* NUL-terminated, owned by the router */
	struct rg_str value; /* a slice of the matched path (zero-copy) */
};

/* What rg__router_match found. Slices point into the path it was given. */
struct rg__route_match {
	rg_handler *handler; /* on 200 */
	void *data;
	bool run_inline;  /* routed with rg_route_inline */
	unsigned nparams; /* on 200: params[0, nparams) in pattern order */
	struct rg__route_param params[RG__MAX_PARAMS];
	char allow[96]; /* on 405: "GET, HEAD, POST", NUL-terminated; methods
			   that do not fit are left out whole */
};

struct rg__route; /* a compiled pattern, private to router.c */

/* Routes in registration order. Built before the server runs, read-only
 * afterwards. */
struct rg__router {
	struct rg__route *routes;
	size_t n, cap;
};

/* An empty router. */
void rg__router_init(struct rg__router *r);

/* Frees every route; the router is empty (and reusable) afterwards. */
void rg__router_free(struct rg__router *r);

/* Appends a route: `method` a token ("GET", "PURGE"; case-sensitive) or
 * NULL for every method; `pattern` starts with '/' and its segments are
 * literals, ":name" (one non-empty segment) or a final "*" (the rest of the
 * path, possibly empty; its parameter is named "*"); or `pattern` is "*",
 * the asterisk-form target of OPTIONS * (RFC 9112 3.2.4). Both strings are
 * copied. Routes are tried in the order they were added; the first match
 * wins. Returns 0; -EINVAL for a NULL handler, a method that is not a
 * token, or a bad pattern (no leading '/', ":" without a name, "*" not
 * last, a name used twice, more than RG__MAX_PARAMS parameters); -ENOMEM.
 * `run_inline`: the handler runs without a coroutine (rg_route_inline). */
int rg__router_add(struct rg__router *r, const char *method,
		   const char *pattern, rg_handler *handler, void *data,
		   bool run_inline);

/* Matches the raw request path (not percent-decoded, so "/a%2Fb" is one
 * segment) and method. "/a" and "/a/" are different paths; a "*" after
 * "/s/" matches "/s/" (with "*" empty) but not "/s"; "//" holds an empty
 * segment, which an empty literal segment matches and ":name" does not.
 * 200: the first route, in order, with that method or NULL, whose pattern
 *      matches; HEAD falls back to the first matching GET route when no
 *      HEAD or NULL route matches. m->handler, data and params are set.
 * 200 with m->handler NULL: OPTIONS * and no route for "*": the server
 *      answers itself, m->allow listing every method some route serves
 *      (HEAD with GET, OPTIONS; a route for every method adds GET HEAD
 *      POST PUT DELETE OPTIONS PATCH TRACE).
 * 501: no route takes the method (RFC 9110 15.6.2), which is not GET,
 *      HEAD or OPTIONS (always implemented).
 * 405: the path matches routes of other methods only; m->allow lists
 *      them (HEAD too when GET is there), without duplicates.
 * 404: no route matches the path.
 * `method_id` is rg__method_id(method): the parser's, compared instead of
 * the text. Never allocates; reads the router only, so several threads
 * may match. */
int rg__router_match(const struct rg__router *r, struct rg_str method,
		     int method_id, struct rg_str path,
		     struct rg__route_match *m);

/* The value of parameter `name` of a 200 match, or {NULL, 0} when the route
 * has none by that name. An empty "*" is {non-NULL, 0}. */
struct rg_str rg__route_param(const struct rg__route_match *m,
			      const char *name);

#endif
