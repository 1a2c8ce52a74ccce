/* parser_fields.c: what the well-known fields of a request head mean:
 * framing (Content-Length, Transfer-Encoding: RFC 9112 6), Host (RFC 9112
 * 3.2), persistence (Connection: RFC 9112 9.3) and Expect (RFC 9110
 * 10.1.1). parser.c calls in as each such field is parsed, then once the
 * head is complete; the decisions are listed at the top of parser.c. */
#include "parser_fields.h"

/* uri-host [":" port] (RFC 3986 3.2.2, 3.2.3): an IP-literal in brackets
 * (checked loosely: unreserved, sub-delims and ':') or a reg-name, which
 * covers IPv4, with well-formed pct-encodings; a port of at most 5 digits up
 * to 65535. No userinfo: RFC 9110 4.2.4 has recipients treat it as an
 * error. */
bool rg__authority_ok(const char *s, size_t n, bool need_host, bool need_port)
{
	const char *e = s + n, *h = s;
	if (h < e && *h == '[') {
		const char *in = ++h;
		while (h < e && *h != ']') {
			unsigned char c = (unsigned char)*h++;
			if (!rg__is(c, RG__C_REGNAME) && c != ':')
				return false;
		}
		if (h == e || h == in)
			return false;
		h++;
	} else {
		for (;;) {
			h = rg__scan_scalar(h, e, RG__C_REGNAME);
			if (h == e || *h != '%')
				break;
			if (e - h < 3 ||
			    !rg__is((unsigned char)h[1], RG__C_HEX) ||
			    !rg__is((unsigned char)h[2], RG__C_HEX))
				return false;
			h += 3;
		}
		if (need_host && h == s)
			return false;
	}
	if (h == e)
		return !need_port;
	if (*h++ != ':' || e - h > 5 || (need_port && h == e))
		return false;
	unsigned port = 0;
	for (; h < e; h++) {
		if ((unsigned char)(*h - '0') > 9)
			return false;
		port = port * 10 + (unsigned)(*h - '0');
	}
	return port <= 65535;
}

/* token BWS "=" BWS ( token / quoted-string ), after a ';'. */
static const char *parameter(const char *s, const char *e)
{
	const char *t = s;
	s = rg__scan_scalar(s, e, RG__C_TCHAR);
	if (s == t)
		return NULL;
	s = skip_ows(s, e);
	if (s == e || *s != '=')
		return NULL;
	s = skip_ows(s + 1, e);
	if (s < e && *s == '"') { /* quoted-string, RFC 9110 5.6.4 */
		for (s++; s < e; s++) {
			if (*s == '"')
				return s + 1;
			if (*s == '\\' && ++s == e)
				return NULL;
			if (!rg__is((unsigned char)*s,
				    s[-1] == '\\' ? RG__C_VALUE : RG__C_QDTEXT))
				return NULL;
		}
		return NULL;
	}
	t = s;
	s = rg__scan_scalar(s, e, RG__C_TCHAR);
	return s == t ? NULL : s;
}

/* #transfer-coding (RFC 9112 6.1, RFC 9110 5.6.1): empty elements are
 * skipped; several fields make one list, in order. */
static void transfer_codings(struct rg__parser *p, const char *s, size_t n)
{
	const char *e = s + n;
	p->te |= TE_SEEN;
	for (;;) {
		s = skip_ows(s, e);
		if (s == e)
			return;
		if (*s == ',') {
			s++;
			continue;
		}
		const char *t = s;
		s = rg__scan_scalar(s, e, RG__C_TCHAR);
		if (s == t) {
			p->te |= TE_BAD;
			return;
		}
		bool chunked = s - t == 7 && ieq(t, "chunked", 7);
		s = skip_ows(s, e);
		while (s < e && *s == ';') {
			chunked = false; /* chunked takes no parameters */
			s = parameter(skip_ows(s + 1, e), e);
			if (!s) {
				p->te |= TE_BAD;
				return;
			}
			s = skip_ows(s, e);
		}
		if (s < e && *s != ',') {
			p->te |= TE_BAD;
			return;
		}
		if (chunked) {
			if (p->te & TE_CHUNKED)
				p->te |= TE_BAD;
			p->te |= TE_CHUNKED | TE_CHUNKED_LAST;
		} else {
			p->te =
			    (uint8_t)((p->te & ~TE_CHUNKED_LAST) | TE_UNKNOWN);
		}
	}
}

/* #connection-option (RFC 9112 9.3, RFC 9110 7.6.1): close, keep-alive. */
static void connection_options(struct rg__parser *p, const char *s, size_t n)
{
	const char *e = s + n;
	for (;;) {
		s = skip_ows(s, e);
		const char *t = s;
		while (s < e && *s != ',')
			s++;
		const char *te = s;
		while (te > t && rg__is((unsigned char)te[-1], RG__C_OWS))
			te--;
		if (te - t == 5 && ieq(t, "close", 5))
			p->conn |= CONN_CLOSE;
		else if (te - t == 10 && ieq(t, "keep-alive", 10))
			p->conn |= CONN_KEEP_ALIVE;
		if (s == e)
			return;
		s++;
	}
}

/* What a field with framing or connection meaning says, as it is parsed;
 * checks across fields wait for the end of the head (head_done). */
int rg__field_meaning(struct rg__parser *p, struct rg__request *req, int id,
		      const char *v, size_t n)
{
	switch (id) {
	case RG__H_TRANSFER_ENCODING:
		transfer_codings(p, v, n);
		return 0;
	case RG__H_CONNECTION:
		if (n == 10 && token_ieq(v, "keep-alive", 10))
			p->conn |=
			    CONN_KEEP_ALIVE; /* the usual values, quickly */
		else if (n == 5 && token_ieq(v, "close", 5))
			p->conn |= CONN_CLOSE;
		else
			connection_options(p, v, n);
		return 0;
	case RG__H_EXPECT:
		if (n == 12 && token_ieq(v, "100-continue", 12))
			req->expect_continue = true;
		return 0;
	}
	return 0;
}

/* Framing (RFC 9112 6.1-6.3), Host (3.2) and persistence (9.3), once the
 * head is complete. */
int rg__head_done_any(struct rg__parser *p, struct rg__request *req)
{
	if (p->te) {
		if (req->version_minor == 0)
			return -RG__E_TE_HTTP10;
		if (p->has_length)
			return -RG__E_CL_AND_TE;
		if ((p->te & TE_BAD) || !(p->te & TE_CHUNKED_LAST))
			return -RG__E_TE_NOT_CHUNKED;
		if (p->te & TE_UNKNOWN)
			return -RG__E_TE_UNKNOWN;
		req->body = RG__BODY_CHUNKED;
	} else if (p->has_length) {
		int err = rg__length_body(p, req);
		if (err)
			return err;
	}
	if (req->version_minor == 1 && !p->hosts)
		return -RG__E_HOST_MISSING;
	if (req->version_minor == 1) {
		req->keep_alive = !(p->conn & CONN_CLOSE);
	} else {
		req->keep_alive = p->conn == CONN_KEEP_ALIVE;
		/* RFC 9110 10.1.1: ignored in HTTP/1.0, which has no 1xx. */
		req->expect_continue = false;
	}
	return 0;
}
