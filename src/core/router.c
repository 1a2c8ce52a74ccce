/* router.c: compiles route patterns into segments at start-up and matches
 * requests against them, in registration order, without allocating; says
 * what the server answers when none matches (404, 405 with Allow, 501, and
 * OPTIONS * with Allow). */
#include "core/router.h"
#include "http/parser.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum seg_kind { SEG_LITERAL, SEG_PARAM, SEG_TAIL };

struct rg__route_seg {
	const char *text; /* literal bytes or parameter name, NUL-terminated */
	size_t len;
	enum seg_kind kind;
};

struct rg__route {
	const char *method; /* NULL = every method */
	size_t method_len;
	uint8_t method_id; /* rg__method_id's: compared instead of the text,
			      unless RG_METHOD_OTHER (PURGE, say) */
	size_t first_len;  /* of the first segment when it is a literal (a
			      path whose first segment is longer or shorter
			      is passed over at once); SIZE_MAX otherwise */
	struct rg__route_seg *segs; /* one block: segs, then the strings */
	unsigned nsegs; /* one per '/' of the pattern; 0: the pattern "*",
			   matching the asterisk-form target (OPTIONS *) */
	rg_handler *handler;
	void *data;
	bool run_inline;
};

void rg__router_init(struct rg__router *r)
{
	*r = (struct rg__router){0};
}

void rg__router_free(struct rg__router *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->routes[i].segs);
	free(r->routes);
	rg__router_init(r);
}

/* tchar, RFC 9110 5.6.2. */
static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

/* Splits `text` (the pattern after its leading '/') in place into `nsegs`
 * NUL-terminated segments and checks them. 0 or -EINVAL. */
static int compile(struct rg__route_seg *segs, unsigned nsegs, char *text)
{
	unsigned nparams = 0;
	for (unsigned i = 0; i < nsegs; i++) {
		struct rg__route_seg *s = &segs[i];
		char *slash = strchr(text, '/');
		if (slash)
			*slash = '\0';
		size_t len = strlen(text);
		if (text[0] == ':')
			*s = (struct rg__route_seg){text + 1, len - 1,
						    SEG_PARAM};
		else if (!strcmp(text, "*"))
			*s = (struct rg__route_seg){text, len, SEG_TAIL};
		else
			*s = (struct rg__route_seg){text, len, SEG_LITERAL};
		if ((s->kind == SEG_PARAM && s->len == 0) ||
		    (s->kind == SEG_TAIL && i + 1 != nsegs))
			return -EINVAL;
		if (s->kind != SEG_LITERAL) {
			if (++nparams > RG__MAX_PARAMS)
				return -EINVAL;
			for (unsigned j = 0; j < i; j++)
				if (segs[j].kind != SEG_LITERAL &&
				    !strcmp(segs[j].text, s->text))
					return -EINVAL;
		}
		if (slash) /* NULL only after the last segment */
			text = slash + 1;
	}
	return 0;
}

int rg__router_add(struct rg__router *r, const char *method,
		   const char *pattern, rg_handler *handler, void *data,
		   bool run_inline)
{
	bool asterisk = pattern && !strcmp(pattern, "*");
	if (!handler || !pattern || (pattern[0] != '/' && !asterisk) ||
	    (method && !is_token(method)))
		return -EINVAL;
	unsigned nsegs = 0;
	for (const char *p = pattern; *p; p++)
		nsegs += *p == '/';
	size_t plen = strlen(pattern), mlen = method ? strlen(method) : 0;
	struct rg__route rt = {.method_len = mlen,
			       .method_id = method ? rg__method_id(method, mlen)
						   : RG_METHOD_OTHER,
			       .first_len = SIZE_MAX,
			       .nsegs = nsegs,
			       .handler = handler,
			       .data = data,
			       .run_inline = run_inline};
	rt.segs = malloc(nsegs * sizeof(*rt.segs) + plen + mlen + 1);
	if (!rt.segs)
		return -ENOMEM;
	char *strings = (char *)(rt.segs + nsegs);
	if (!asterisk) /* plen - 1 bytes and the NUL */
		memcpy(strings, pattern + 1, plen);
	if (method)
		rt.method = memcpy(strings + plen, method, mlen + 1);

	int err = compile(rt.segs, nsegs, strings);
	if (!err && nsegs && rt.segs[0].kind == SEG_LITERAL)
		rt.first_len = rt.segs[0].len;
	if (!err && r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 8;
		struct rg__route *routes =
		    realloc(r->routes, cap * sizeof(*routes));
		if (routes) {
			r->routes = routes;
			r->cap = cap;
		} else {
			err = -ENOMEM;
		}
	}
	if (err) {
		free(rt.segs);
		return err;
	}
	r->routes[r->n++] = rt;
	return 0;
}

static void add_param(struct rg__route_match *m, const char *name,
		      const char *p, size_t len)
{
	m->params[m->nparams++] = (struct rg__route_param){name, {p, len}};
}

/* Whether `path` matches the route; fills m->params as it goes. */
static bool path_match(const struct rg__route *rt, struct rg_str path,
		       struct rg__route_match *m)
{
	const char *p = path.ptr, *end = path.ptr + path.len;
	m->nparams = 0;
	if (!rt->nsegs)
		return path.len == 1 && *p == '*';
	if (p == end || *p != '/')
		return false;
	p++;
	for (unsigned i = 0; i < rt->nsegs; i++) {
		const struct rg__route_seg *s = &rt->segs[i];
		const char *seg_end;
		if (s->kind == SEG_TAIL) {
			add_param(m, s->text, p, (size_t)(end - p));
			return true;
		} else if (s->kind == SEG_LITERAL) {
			if ((size_t)(end - p) < s->len ||
			    memcmp(p, s->text, s->len))
				return false;
			seg_end = p + s->len;
			if (seg_end != end && *seg_end != '/')
				return false;
		} else {
			seg_end = memchr(p, '/', (size_t)(end - p));
			if (!seg_end)
				seg_end = end;
			if (seg_end == p)
				return false;
			add_param(m, s->text, p, (size_t)(seg_end - p));
		}
		if (seg_end == end)
			return i + 1 == rt->nsegs;
		p = seg_end + 1;
	}
	return false; /* the path has more segments than the pattern */
}

static bool str_is(struct rg_str s, const char *b, size_t n)
{
	return s.len == n && !memcmp(s.ptr, b, n);
}

/* Whether the route takes the request's method (`id` its rg__method_id). */
static bool takes(const struct rg__route *rt, struct rg_str method, int id)
{
	if (!rt->method)
		return true;
	if (rt->method_id != RG_METHOD_OTHER)
		return rt->method_id == id;
	return id == RG_METHOD_OTHER &&
	       str_is(method, rt->method, rt->method_len);
}

/* Bytes of the first segment of a path starting with '/'; SIZE_MAX for
 * another (the asterisk). */
static size_t first_segment(struct rg_str path)
{
	if (!path.len || path.ptr[0] != '/')
		return SIZE_MAX;
	const char *e = memchr(path.ptr + 1, '/', path.len - 1);
	return e ? (size_t)(e - path.ptr - 1) : path.len - 1;
}

/* path_match, first passing over a route whose first literal segment has
 * another length than the path's (`first`). */
static bool route_match(const struct rg__route *rt, struct rg_str path,
			size_t first, struct rg__route_match *m)
{
	if (rt->first_len != SIZE_MAX && rt->first_len != first)
		return false;
	return path_match(rt, path, m);
}

/* GET and HEAD, which every general-purpose server supports (RFC 9110
 * 9.1), and OPTIONS, which the server answers itself for "*": never 501. */
static bool always_implemented(int method_id)
{
	return method_id == RG_METHOD_GET || method_id == RG_METHOD_HEAD ||
	       method_id == RG_METHOD_OPTIONS;
}

/* Appends `tok` to the ", "-separated list in allow[0, cap) unless it is
 * there already or does not fit whole. */
static void allow_add(char *allow, size_t cap, const char *tok, size_t n)
{
	size_t len = 0;
	while (allow[len]) {
		size_t k = strcspn(allow + len, ",");
		if (k == n && !memcmp(allow + len, tok, n))
			return;
		len += k;
		if (allow[len])
			len += 2;
	}
	size_t sep = len ? 2 : 0;
	if (len + sep + n >= cap)
		return;
	memcpy(allow + len, ", ", sep);
	memcpy(allow + len + sep, tok, n);
	allow[len + sep + n] = '\0';
}

/* What a route for every method adds to OPTIONS *: the methods of RFC
 * 9110 and PATCH (RFC 5789) an origin-form path can carry. */
static const char *const every_method[] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"};

/* OPTIONS * (RFC 9110 9.3.7) with no route for it: every method some
 * route serves, HEAD with GET, and OPTIONS itself. */
static int options_asterisk(const struct rg__router *r,
			    struct rg__route_match *m)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct rg__route *rt = &r->routes[i];
		if (!rt->method) {
			for (size_t k = 0;
			     k < sizeof(every_method) / sizeof(every_method[0]);
			     k++)
				allow_add(m->allow, sizeof(m->allow),
					  every_method[k],
					  strlen(every_method[k]));
			continue;
		}
		allow_add(m->allow, sizeof(m->allow), rt->method,
			  rt->method_len);
		if (rt->method_id == RG_METHOD_GET)
			allow_add(m->allow, sizeof(m->allow), "HEAD", 4);
	}
	allow_add(m->allow, sizeof(m->allow), "OPTIONS", 7);
	m->nparams = 0;
	return 200;
}

static int found(const struct rg__route *rt, struct rg__route_match *m)
{
	m->handler = rt->handler;
	m->data = rt->data;
	m->run_inline = rt->run_inline;
	return 200;
}

int rg__router_match(const struct rg__router *r, struct rg_str method,
		     int method_id, struct rg_str path,
		     struct rg__route_match *m)
{
	bool head = method_id == RG_METHOD_HEAD;
	bool routed = false;		    /* some route takes this method */
	const struct rg__route *get = NULL; /* HEAD's fallback */
	size_t first = first_segment(path);
	m->handler = NULL;
	m->data = NULL;
	m->nparams = 0;
	m->allow[0] = '\0';

	for (size_t i = 0; i < r->n; i++) {
		const struct rg__route *rt = &r->routes[i];
		if (!takes(rt, method, method_id)) {
			if (head && !get && rt->method_id == RG_METHOD_GET &&
			    route_match(rt, path, first, m))
				get = rt;
			continue;
		}
		routed = true;
		if (route_match(rt, path, first, m))
			return found(rt, m);
	}
	if (get) {
		path_match(get, path, m); /* refill the params it found */
		return found(get, m);
	}
	if (path.len == 1 && path.ptr[0] == '*' &&
	    method_id == RG_METHOD_OPTIONS)
		return options_asterisk(r, m);
	if (!routed && !always_implemented(method_id))
		return 501;

	/* Every route left matching the path names another method. */
	for (size_t i = 0; i < r->n; i++) {
		const struct rg__route *rt = &r->routes[i];
		if (!route_match(rt, path, first, m))
			continue;
		allow_add(m->allow, sizeof(m->allow), rt->method,
			  rt->method_len);
		if (rt->method_id == RG_METHOD_GET)
			allow_add(m->allow, sizeof(m->allow), "HEAD", 4);
	}
	m->nparams = 0;
	return m->allow[0] ? 405 : 404;
}

struct rg_str rg__route_param(const struct rg__route_match *m, const char *name)
{
	for (unsigned i = 0; i < m->nparams; i++)
		if (!strcmp(m->params[i].name, name))
			return m->params[i].value;
	return (struct rg_str){NULL, 0};
}
