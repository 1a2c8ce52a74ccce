/* test_parser.c: the request-head parser against a table of valid and
 * invalid requests (RFC 9110, RFC 9112, request-smuggling vectors). Every
 * row runs on every SIMD level (scalar, SSE4.2, AVX2; skipped where the CPU
 * lacks one), fed whole, split at every byte (first part, then all), and one
 * byte at a time; each input sits against a PROT_NONE page, so that a read
 * past the bytes given crashes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/parser.h"
#include "http/scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* --- the table ------------------------------------------------------------ */

struct row {
	const char *name;
	const char *raw;
	size_t len;
	enum rg__http_error err;	       /* RG__E_NONE: valid */
	int status;			       /* what err maps to */
	const struct rg__parse_limits *limits; /* NULL: defaults */
	/* valid rows; NULL strings are not checked */
	const char *method, *path, *query, *authority, *target;
	enum rg_method mid;
	bool v10;   /* HTTP/1.0, else 1.1 */
	bool close; /* keep_alive false, else true */
	bool cont;  /* expect_continue */
	enum rg__body_kind body;
	uint64_t cl;
	size_t consumed;    /* 0: all of raw */
	const char *fields; /* "Name: value\n" each, in order */
	unsigned dropped;   /* fields dropped for a '_' in the name */
	size_t at; /* errors: bytes after which it is reported (the byte at
		      fault, or the CRLF a line needs); 0: not checked */
};

#define RAW(s) .raw = s, .len = sizeof(s) - 1
#define OK(nm, s, ...)                                                         \
	{                                                                      \
		.name = nm, RAW(s), __VA_ARGS__                                \
	}
#define BAD(nm, s, e, st, ...)                                                 \
	{                                                                      \
		.name = nm, RAW(s), .err = e, .status = st, __VA_ARGS__        \
	}

/* Small limits, so that the limit rows stay short. */
static const struct rg__parse_limits small = {
    .max_request_line = 32,
    .max_head = 128,
    .max_headers = 3,
    .max_body = 100,
};
static const struct rg__parse_limits underscores = {
    .max_request_line = 8192,
    .max_head = 16384,
    .max_headers = 100,
    .max_body = 1024 * 1024,
    .underscores = true,
};
static const struct rg__parse_limits unlimited_body = {
    .max_request_line = 8192,
    .max_head = 16384,
    .max_headers = 100,
    .max_body = 0,
};

#define H11 " HTTP/1.1\r\n"
#define HOST "Host: a\r\n"
#define GET "GET /" H11 HOST

static const struct row rows[] = {
    /* --- typical requests ----------------------------------------- */
    OK("curl GET",
       "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5.0\r\n"
       "Accept: */*\r\n\r\n",
       .method = "GET", .mid = RG_METHOD_GET, .path = "/", .query = "",
       .authority = "example.com",
       .fields = "Host: example.com\nUser-Agent: curl/8.5.0\nAccept: */*\n"),
    OK("browser GET, 12 fields",
       "GET /wiki/HTTP?action=view HTTP/1.1\r\n"
       "Host: en.wikipedia.org\r\n"
       "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:124.0) "
       "Gecko/20100101 Firefox/124.0\r\n"
       "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,"
       "image/avif,image/webp,*/*;q=0.8\r\n"
       "Accept-Language: en-US,en;q=0.5\r\n"
       "Accept-Encoding: gzip, deflate, br\r\n"
       "Referer: https://www.google.com/\r\n"
       "Connection: keep-alive\r\n"
       "Cookie: WMF-Last-Access=01-Apr-2024; GeoIP=FR:IDF:Paris:48.86:2.34"
       ":v4\r\n"
       "Upgrade-Insecure-Requests: 1\r\n"
       "Sec-Fetch-Dest: document\r\n"
       "Sec-Fetch-Mode: navigate\r\n"
       "If-Modified-Since: Mon, 01 Apr 2024 10:00:00 GMT\r\n\r\n",
       .method = "GET", .mid = RG_METHOD_GET, .path = "/wiki/HTTP",
       .query = "action=view", .authority = "en.wikipedia.org"),
    OK("TechEmpower plaintext",
       "GET /plaintext HTTP/1.1\r\n"
       "Host: server\r\n"
       "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20130501 "
       "Firefox/30.0 AppleWebKit/600.00 Chrome/30.0.0000.0 Trident/10.0 "
       "Safari/600.00\r\n"
       "Cookie: uid=12345678901234567890; __utma=1.1234567890.1234567890"
       ".1234567890.1234567890.12; wd=2560x1600\r\n"
       "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,"
       "*/*;q=0.8\r\n"
       "Accept-Language: en-US,en;q=0.5\r\n"
       "Connection: keep-alive\r\n\r\n",
       .method = "GET", .mid = RG_METHOD_GET, .path = "/plaintext", .query = "",
       .authority = "server"),
    OK("small POST, body not consumed",
       "POST /api/items HTTP/1.1\r\nHost: api.local:8080\r\n"
       "Content-Type: application/json\r\nContent-Length: 13\r\n\r\n"
       "{\"id\": 1234}\n",
       .method = "POST", .mid = RG_METHOD_POST, .path = "/api/items",
       .authority = "api.local:8080", .body = RG__BODY_LENGTH, .cl = 13,
       .consumed = 102,
       .fields = "Host: api.local:8080\nContent-Type: application/json\n"
		 "Content-Length: 13\n"),
    OK("HTTP/1.0, no Host, closes", "GET / HTTP/1.0\r\n\r\n", .v10 = true,
       .close = true, .authority = "", .fields = ""),
    OK("HTTP/1.0 keep-alive",
       "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", .v10 = true),
    OK("HTTP/1.0 Keep-Alive, any case",
       "GET / HTTP/1.0\r\nConnection: Keep-ALIVE\r\n\r\n", .v10 = true),
    OK("HTTP/1.0 keep-alive and close",
       "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", .v10 = true,
       .close = true),
    OK("HTTP/1.0 with Host", "GET /x HTTP/1.0\r\nHost: h\r\n\r\n", .v10 = true,
       .close = true, .authority = "h"),
    OK("Connection: close", GET "Connection: close\r\n\r\n", .close = true),
    OK("Connection: CLOSE among others",
       GET "Connection: Upgrade, CLOSE\r\n\r\n", .close = true),
    OK("Connection: closed is not close", GET "Connection: closed\r\n\r\n"),
    OK("Connection: empty elements", GET "Connection: , ,close ,\r\n\r\n",
       .close = true),
    OK("Connection: two fields",
       GET "Connection: keep-alive\r\nConnection: close\r\n\r\n",
       .close = true),
    OK("Expect: 100-continue",
       "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
       "Content-Length: 3\r\n\r\n",
       .method = "PUT", .mid = RG_METHOD_PUT, .cont = true,
       .body = RG__BODY_LENGTH, .cl = 3),
    OK("Expect: 100-Continue, any case", GET "Expect: 100-Continue\r\n\r\n",
       .cont = true),
    OK("Expect: with OWS", GET "Expect: \t 100-continue  \r\n\r\n",
       .cont = true),
    OK("Expect: other value left alone", GET "Expect: 100-continuex\r\n\r\n"),
    /* RFC 9110 10.1.1: ignored in HTTP/1.0 (which must get no 1xx). */
    OK("Expect: 100-continue in HTTP/1.0 is ignored",
       "PUT /f HTTP/1.0\r\nExpect: 100-continue\r\n"
       "Content-Length: 3\r\n\r\n",
       .v10 = true, .close = true, .body = RG__BODY_LENGTH, .cl = 3),
    OK("query split", "GET /search?q=a&b=c" H11 HOST "\r\n", .path = "/search",
       .query = "q=a&b=c"),
    OK("empty query", "GET /a?" H11 HOST "\r\n", .path = "/a", .query = ""),
    OK("second '?' in query", "GET /a?b?c" H11 HOST "\r\n", .path = "/a",
       .query = "b?c"),
    OK("visible ASCII in path",
       "GET /~!$&'()*+,;=:@-._%20\"<>[]^`{|}\\x" H11 HOST "\r\n",
       .path = "/~!$&'()*+,;=:@-._%20\"<>[]^`{|}\\x", .query = ""),
    OK("long target (SIMD)",
       "GET /0123456789/0123456789/0123456789/0123456789/0123456789/"
       "0123456789/0123456789?k=0123456789&l=0123456789&m=0123456789" H11 HOST
       "\r\n",
       .path = "/0123456789/0123456789/0123456789/0123456789/0123456789/"
	       "0123456789/0123456789",
       .query = "k=0123456789&l=0123456789&m=0123456789"),
    OK("absolute-form, authority replaces Host",
       "GET http://example.com/p?q=1" H11 "Host: other\r\n\r\n",
       .authority = "example.com", .path = "/p", .query = "q=1",
       .target = "http://example.com/p?q=1"),
    OK("absolute-form https, port, empty path",
       "GET https://example.com:8443" H11 "Host: x\r\n\r\n",
       .authority = "example.com:8443", .path = "/", .query = ""),
    OK("absolute-form, scheme any case, query without path",
       "GET HTTP://EXAMPLE.COM?x" H11 "Host: x\r\n\r\n",
       .authority = "EXAMPLE.COM", .path = "/", .query = "x"),
    OK("absolute-form, IPv6 literal",
       "GET http://[::1]:8080/" H11 "Host: [::1]:8080\r\n\r\n",
       .authority = "[::1]:8080", .path = "/", .query = ""),
    OK("absolute-form in HTTP/1.0 without Host",
       "GET http://h/x HTTP/1.0\r\n\r\n", .v10 = true, .close = true,
       .authority = "h", .path = "/x"),
    OK("asterisk-form with OPTIONS", "OPTIONS *" H11 HOST "\r\n",
       .method = "OPTIONS", .mid = RG_METHOD_OPTIONS, .path = "*", .query = ""),
    OK("authority-form with CONNECT",
       "CONNECT example.com:443" H11 "Host: example.com:443\r\n\r\n",
       .method = "CONNECT", .mid = RG_METHOD_CONNECT,
       .authority = "example.com:443", .path = "", .query = ""),
    OK("one leading CRLF is skipped", "\r\nGET /" H11 HOST "\r\n"),
    OK("several leading CRLFs", "\r\n\r\n\r\nGET /" H11 HOST "\r\n"),
    OK("pipelined: stops at the first head", GET "\r\nGET /2" H11 HOST "\r\n",
       .consumed = 27),
    OK("pipelined after a body",
       "POST /" H11 HOST "Content-Length: 2\r\n\r\nhiGET /" H11,
       .method = "POST", .mid = RG_METHOD_POST, .body = RG__BODY_LENGTH,
       .cl = 2, .consumed = 47),
    OK("value OWS trimmed, inner kept", GET "X:   a b \t \t\r\n\r\n",
       .fields = "Host: a\nX: a b\n"),
    OK("empty value", GET "X:\r\n\r\n", .fields = "Host: a\nX: \n"),
    OK("value of OWS only", GET "X: \t \r\n\r\n", .fields = "Host: a\nX: \n"),
    OK("obs-text in value", GET "X: caf\xc3\xa9\r\n\r\n",
       .fields = "Host: a\nX: caf\xc3\xa9\n"),
    OK("HTAB inside value", GET "X: a\tb\r\n\r\n",
       .fields = "Host: a\nX: a\tb\n"),
    OK("colon in value", GET "X: a:b: c\r\n\r\n",
       .fields = "Host: a\nX: a:b: c\n"),
    OK("every tchar in a name but '_'", GET "!#$%&'*+-.^`|~09AZaz: v\r\n\r\n",
       .fields = "Host: a\n!#$%&'*+-.^`|~09AZaz: v\n"),
    OK("every tchar in a name, '_' allowed",
       GET "!#$%&'*+-.^_`|~09AZaz: v\r\n\r\n",
       .fields = "Host: a\n!#$%&'*+-.^_`|~09AZaz: v\n", .limits = &underscores),
    OK("long name and value (SIMD)",
       GET "X-A-Rather-Long-Header-Name-For-Simd: "
	   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	   "|~`^_{}\r\n\r\n",
       .fields = "Host: a\nX-A-Rather-Long-Header-Name-For-Simd: "
		 "0123456789abcdef0123456789abcdef0123456789abcdef"
		 "0123456789abcdef|~`^_{}\n"),
    OK("name with | and ~ past 16 bytes (SSE4.2 ranges)",
       GET "X-0123456789abcdef|~|~|~|~|~|~|~|~|~: v\r\n\r\n",
       .fields = "Host: a\nX-0123456789abcdef|~|~|~|~|~|~|~|~|~: v\n"),
    OK("Host name any case", "GET /" H11 "hOsT: a\r\n\r\n", .authority = "a"),
    OK("Host with port", "GET /" H11 "Host: example.com:8080\r\n\r\n",
       .authority = "example.com:8080"),
    OK("Host IPv4", "GET /" H11 "Host: 127.0.0.1:80\r\n\r\n",
       .authority = "127.0.0.1:80"),
    OK("Host IPv6", "GET /" H11 "Host: [2001:db8::1]:443\r\n\r\n",
       .authority = "[2001:db8::1]:443"),
    /* An http URI with an empty host is invalid (RFC 9110 4.2.1): the
     * target gives none, so Host must. */
    BAD("Host empty", "GET /" H11 "Host:\r\n\r\n", RG__E_HOST_EMPTY, 400,
	.at = 23),
    BAD("Host of whitespace", "GET /" H11 "Host: \t \r\n\r\n", RG__E_HOST_EMPTY,
	400),
    BAD("Host empty, HTTP/1.0", "GET / HTTP/1.0\r\nHost:\r\n\r\n",
	RG__E_HOST_EMPTY, 400),
    BAD("Host empty, OPTIONS *", "OPTIONS *" H11 "Host:\r\n\r\n",
	RG__E_HOST_EMPTY, 400),
    BAD("Host of a port only", "GET /" H11 "Host: :80\r\n\r\n",
	RG__E_HOST_INVALID, 400),
    OK("Host empty, absolute-form (the target's authority wins)",
       "GET http://a.example/x" H11 "Host:\r\n\r\n", .authority = "a.example",
       .path = "/x"),
    OK("Host empty, CONNECT", "CONNECT a.example:443" H11 "Host:\r\n\r\n",
       .method = "CONNECT", .mid = RG_METHOD_CONNECT,
       .authority = "a.example:443"),
    OK("Host empty port", "GET /" H11 "Host: a:\r\n\r\n", .authority = "a:"),
    /* The SIMD check of Host (parser_fields.h, host_ok) at its edges: 16
     * bytes and one more, a port of five digits, a head too short for 16
     * bytes from the value. */
    OK("Host port 65535", "GET /" H11 "Host: a:65535\r\n\r\n",
       .authority = "a:65535"),
    OK("Host of 16 bytes", "GET /" H11 "Host: abcdefghij.local\r\n\r\n",
       .authority = "abcdefghij.local"),
    OK("Host of 17 bytes", "GET /" H11 "Host: abcdefghij.locals\r\n\r\n",
       .authority = "abcdefghij.locals"),
    OK("Host of 16 bytes with a port",
       "GET /" H11 "Host: abcdefghij.l:8080\r\n\r\n",
       .authority = "abcdefghij.l:8080"),
    OK("Host first, in a short head", "GET / HTTP/1.0\r\nHost: a:1\r\n\r\n",
       .v10 = true, .close = true, .authority = "a:1"),
    OK("Host pct-encoded, sub-delims",
       "GET /" H11 "Host: ex%41mple!$&'()*+,;=-._~\r\n\r\n",
       .authority = "ex%41mple!$&'()*+,;=-._~"),
    OK("Content-Length: 0", "POST /" H11 HOST "Content-Length: 0\r\n\r\n",
       .body = RG__BODY_LENGTH, .cl = 0),
    OK("Content-Length leading zeros",
       "POST /" H11 HOST "Content-Length: 007\r\n\r\n", .body = RG__BODY_LENGTH,
       .cl = 7),
    OK("Content-Length 19 digits, no body limit",
       "POST /" H11 HOST "Content-Length: 9999999999999999999\r\n\r\n",
       .limits = &unlimited_body, .body = RG__BODY_LENGTH,
       .cl = 9999999999999999999u),
    OK("Content-Length twice, same value (RFC 9110 8.6)",
       "POST /" H11 HOST "Content-Length: 5\r\nContent-Length: 05\r\n\r\n",
       .body = RG__BODY_LENGTH, .cl = 5),
    OK("Content-Length with OWS",
       "POST /" H11 HOST "Content-Length: \t42 \r\n\r\n",
       .body = RG__BODY_LENGTH, .cl = 42),
    OK("chunked", "POST /" H11 HOST "Transfer-Encoding: chunked\r\n\r\n",
       .body = RG__BODY_CHUNKED),
    OK("Chunked, any case",
       "POST /" H11 HOST "transfer-ENCODING: ChUnKeD\r\n\r\n",
       .body = RG__BODY_CHUNKED),
    OK("chunked with odd OWS",
       "POST /" H11 HOST "Transfer-Encoding: \t chunked\t \r\n\r\n",
       .body = RG__BODY_CHUNKED),
    OK("chunked after empty elements",
       "POST /" H11 HOST "Transfer-Encoding: , ,chunked,\r\n\r\n",
       .body = RG__BODY_CHUNKED),
    OK("Transfer_Encoding, allowed, is another field",
       "POST /" H11 HOST "Transfer_Encoding: chunked\r\n\r\n",
       .body = RG__BODY_NONE, .limits = &underscores),
    OK("Content_Length, allowed, is another field",
       "POST /" H11 HOST "Content_Length: 5\r\n\r\n", .body = RG__BODY_NONE,
       .limits = &underscores),
    OK("chunked with Connection: close",
       "POST /" H11 HOST "Transfer-Encoding: chunked\r\nConnection: close"
       "\r\n\r\n",
       .body = RG__BODY_CHUNKED, .close = true),
    OK("method HEAD", "HEAD /" H11 HOST "\r\n", .method = "HEAD",
       .mid = RG_METHOD_HEAD),
    OK("method DELETE", "DELETE /x" H11 HOST "\r\n", .method = "DELETE",
       .mid = RG_METHOD_DELETE),
    OK("method PATCH", "PATCH /x" H11 HOST "\r\n", .method = "PATCH",
       .mid = RG_METHOD_PATCH),
    OK("method TRACE", "TRACE /x" H11 HOST "\r\n", .method = "TRACE",
       .mid = RG_METHOD_TRACE),
    OK("OPTIONS with origin-form", "OPTIONS /x" H11 HOST "\r\n",
       .method = "OPTIONS", .mid = RG_METHOD_OPTIONS),
    OK("unknown method is a token", "PROPFIND /x" H11 HOST "\r\n",
       .method = "PROPFIND", .mid = RG_METHOD_OTHER),
    OK("methods are case-sensitive", "get /" H11 HOST "\r\n", .method = "get",
       .mid = RG_METHOD_OTHER),
    OK("method with tchars", "M-SEARCH /" H11 HOST "\r\n", .method = "M-SEARCH",
       .mid = RG_METHOD_OTHER),
    OK("long method (SIMD)", "VERSION-CONTROL-0123456789 /" H11 HOST "\r\n",
       .method = "VERSION-CONTROL-0123456789", .mid = RG_METHOD_OTHER),
    OK("request line at the limit",
       "GET /aaaaaaaaaaaaaaaaaa HTTP/1.1\r\n" HOST "\r\n", .limits = &small,
       .path = "/aaaaaaaaaaaaaaaaaa"),
    OK("fields at the limit", "GET /" H11 HOST "B: 2\r\nC: 3\r\n\r\n",
       .limits = &small, .fields = "Host: a\nB: 2\nC: 3\n"),
    OK("head at the limit",
       "GET /" H11 HOST
       "X: 012345678901234567890123456789012345678901234567890123456789"
       "012345678901234567890123456789012345\r\n\r\n",
       .limits = &small),
    OK("Content-Length at max_body",
       "POST /" H11 HOST "Content-Length: 100\r\n\r\n", .limits = &small,
       .body = RG__BODY_LENGTH, .cl = 100),

    /* --- request line --------------------------------------------- */
    BAD("two spaces before the target", "GET  /" H11 HOST "\r\n", RG__E_TARGET,
	400),
    BAD("two spaces before the version", "GET /  HTTP/1.1\r\n" HOST "\r\n",
	RG__E_VERSION, 400),
    BAD("space before the method", " GET /" H11 HOST "\r\n", RG__E_METHOD, 400),
    BAD("trailing space after the version", "GET / HTTP/1.1 \r\n" HOST "\r\n",
	RG__E_VERSION, 400),
    BAD("HTAB after the method", "GET\t/" H11 HOST "\r\n", RG__E_METHOD, 400),
    BAD("HTAB after the target", "GET /\tHTTP/1.1\r\n" HOST "\r\n",
	RG__E_TARGET, 400),
    BAD("non-tchar in method", "G(T /" H11 HOST "\r\n", RG__E_METHOD, 400),
    BAD("NUL in method", "GE\0T /" H11 HOST "\r\n", RG__E_METHOD, 400),
    BAD("non-ASCII method", "G\xc3\x89T /" H11 HOST "\r\n", RG__E_METHOD, 400),
    BAD("lowercase http", "GET / http/1.1\r\n" HOST "\r\n", RG__E_VERSION, 400),
    BAD("HTTPS/1.1", "GET / HTTPS/1.1\r\n" HOST "\r\n", RG__E_VERSION, 400),
    BAD("HTTP/2.0", "GET / HTTP/2.0\r\n" HOST "\r\n", RG__E_VERSION_UNSUPPORTED,
	505),
    BAD("HTTP/1.2", "GET / HTTP/1.2\r\n" HOST "\r\n", RG__E_VERSION_UNSUPPORTED,
	505),
    BAD("HTTP/0.9", "GET / HTTP/0.9\r\n" HOST "\r\n", RG__E_VERSION_UNSUPPORTED,
	505),
    BAD("HTTP/3.0", "GET / HTTP/3.0\r\n\r\n", RG__E_VERSION_UNSUPPORTED, 505),
    BAD("huge version digits", "GET / HTTP/11.1\r\n" HOST "\r\n", RG__E_VERSION,
	400),
    BAD("HTTP/1.10", "GET / HTTP/1.10\r\n" HOST "\r\n", RG__E_VERSION, 400),
    BAD("HTTP/1", "GET / HTTP/1\r\n" HOST "\r\n", RG__E_VERSION, 400),
    BAD("HTTP/1.1x", "GET / HTTP/1.1x\r\n" HOST "\r\n", RG__E_VERSION, 400),
    BAD("HTTP/1.x", "GET / HTTP/1.x\r\n" HOST "\r\n", RG__E_VERSION, 400),
    BAD("no version (HTTP/0.9 style)", "GET /\r\n\r\n", RG__E_TARGET, 400),
    BAD("method alone", "GET\r\n\r\n", RG__E_METHOD, 400),
    BAD("bare LF after the request line", "GET / HTTP/1.1\n" HOST "\r\n",
	RG__E_LINE_ENDING, 400),
    BAD("bare CR after the request line", "GET / HTTP/1.1\rHost: a\r\n\r\n",
	RG__E_LINE_ENDING, 400),
    BAD("CR CR LF after the request line", "GET / HTTP/1.1\r\r\n" HOST "\r\n",
	RG__E_LINE_ENDING, 400),
    BAD("bare LF inside the method", "GE\nT /" H11 HOST "\r\n",
	RG__E_LINE_ENDING, 400),
    BAD("bare CR inside the target", "GET /a\rb" H11 HOST "\r\n",
	RG__E_LINE_ENDING, 400),
    BAD("bare LF inside the version", "GET / HTTP/1\n.1\r\n" HOST "\r\n",
	RG__E_LINE_ENDING, 400),
    BAD("non-ASCII target", "GET /caf\xc3\xa9" H11 HOST "\r\n", RG__E_TARGET,
	400),
    BAD("DEL in target", "GET /a\x7f" H11 HOST "\r\n", RG__E_TARGET, 400),
    BAD("NUL in target", "GET /a\0b" H11 HOST "\r\n", RG__E_TARGET, 400),
    BAD("CTL in target", "GET /a\x01" H11 HOST "\r\n", RG__E_TARGET, 400),
    BAD("NUL in a long target (SIMD)",
	"GET /0123456789abcdef0123456789abcdef0123456789\0" H11 HOST "\r\n",
	RG__E_TARGET, 400),
    /* A fragment is in no request-target form (RFC 9112 3.2): 400 at the
     * '#', before the rest of the line. */
    BAD("fragment", "GET /plaintext#x" H11 HOST "\r\n", RG__E_TARGET, 400,
	.at = 15),
    BAD("fragment alone", "GET /#" H11 HOST "\r\n", RG__E_TARGET, 400, .at = 6),
    BAD("fragment after the query", "GET /a?b=c#d" H11 HOST "\r\n",
	RG__E_TARGET, 400, .at = 11),
    BAD("fragment in absolute-form", "GET http://a/b#c" H11 "\r\n",
	RG__E_TARGET, 400, .at = 15),
    BAD("fragment in a long target (SIMD)",
	"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"#" H11 HOST "\r\n",
	RG__E_TARGET, 400, .at = 69),
    OK("'%23' is not a fragment", "GET /a%23b" H11 HOST "\r\n",
       .path = "/a%23b"),
    BAD("origin-form without '/'", "GET foo" H11 HOST "\r\n", RG__E_TARGET,
	400),
    BAD("asterisk-form with GET", "GET *" H11 HOST "\r\n", RG__E_TARGET, 400),
    BAD("OPTIONS *x", "OPTIONS *x" H11 HOST "\r\n", RG__E_TARGET, 400),
    BAD("CONNECT with origin-form", "CONNECT /" H11 HOST "\r\n", RG__E_TARGET,
	400),
    BAD("CONNECT without port", "CONNECT example.com" H11 HOST "\r\n",
	RG__E_TARGET, 400),
    BAD("CONNECT with empty port", "CONNECT example.com:" H11 HOST "\r\n",
	RG__E_TARGET, 400),
    BAD("CONNECT with userinfo", "CONNECT u@example.com:443" H11 HOST "\r\n",
	RG__E_TARGET, 400),
    BAD("CONNECT with absolute-form", "CONNECT http://a:443/" H11 HOST "\r\n",
	RG__E_TARGET, 400),
    BAD("authority-form with GET", "GET example.com:443" H11 HOST "\r\n",
	RG__E_TARGET, 400),
    BAD("absolute-form ftp", "GET ftp://a/" H11 HOST "\r\n", RG__E_TARGET, 400),
    BAD("absolute-form with userinfo", "GET http://u:p@a/" H11 HOST "\r\n",
	RG__E_TARGET, 400),
    BAD("absolute-form, empty host", "GET http:///p" H11 HOST "\r\n",
	RG__E_TARGET, 400),
    BAD("absolute-form, scheme only", "GET http://" H11 HOST "\r\n",
	RG__E_TARGET, 400),
    BAD("absolute-form, bad port", "GET http://a:99999/" H11 HOST "\r\n",
	RG__E_TARGET, 400),
    BAD("absolute-form, port not digits", "GET http://a:8o/" H11 HOST "\r\n",
	RG__E_TARGET, 400),
    BAD("leading bare LF", "\nGET /" H11 HOST "\r\n", RG__E_LINE_ENDING, 400),
    BAD("leading CR CR LF", "\r\r\nGET /" H11 HOST "\r\n", RG__E_LINE_ENDING,
	400),
    BAD("leading whitespace line", " \r\nGET /" H11 HOST "\r\n", RG__E_METHOD,
	400),
    BAD("request line too long", "GET /aaaaaaaaaaaaaaaaaaa" H11 HOST "\r\n",
	RG__E_REQUEST_LINE_LONG, 414, .limits = &small),
    BAD("request line too long, no CRLF yet",
	"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	RG__E_REQUEST_LINE_LONG, 414, .limits = &small),
    /* 414 is about the target: a method that long is no known one. */
    BAD("request line too long, method only",
	"GETGETGETGETGETGETGETGETGETGETGETGETGETGET", RG__E_METHOD_LONG, 501,
	.limits = &small, .at = 34),
    BAD("syntax error before the line limit",
	"GET /a\x01"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	RG__E_TARGET, 400, .limits = &small),

    /* --- field syntax --------------------------------------------- */
    BAD("space before colon", "GET /" H11 "Host : a\r\n\r\n", RG__E_HEADER_NAME,
	400),
    BAD("space before colon in Transfer-Encoding",
	"POST /" H11 HOST "Transfer-Encoding : chunked\r\n\r\n",
	RG__E_HEADER_NAME, 400),
    BAD("HTAB before colon in Transfer-Encoding",
	"POST /" H11 HOST "Transfer-Encoding\t: chunked\r\n\r\n",
	RG__E_HEADER_NAME, 400),
    BAD("space before colon in Content-Length",
	"POST /" H11 HOST "Content-Length : 5\r\n\r\n", RG__E_HEADER_NAME, 400),
    BAD("empty name", GET ": v\r\n\r\n", RG__E_HEADER_NAME, 400),
    BAD("no colon", GET "Foo\r\n\r\n", RG__E_HEADER_NAME, 400),
    BAD("space inside the name", GET "Foo Bar: v\r\n\r\n", RG__E_HEADER_NAME,
	400),
    BAD("non-tchar in name", GET "Fo(o: v\r\n\r\n", RG__E_HEADER_NAME, 400,
	.at = 28),

    /* --- '_' in field names: dropped unless limits->underscores ------ */
    OK("underscore name dropped", GET "Content_Length: 5\r\nX-A: b\r\n\r\n",
       .fields = "Host: a\nX-A: b\n", .dropped = 1),
    OK("Transfer_Encoding dropped: no body",
       "POST /" H11 HOST "Transfer_Encoding: chunked\r\n\r\n",
       .fields = "Host: a\n", .dropped = 1, .body = RG__BODY_NONE),
    OK("Host_ dropped, Host kept", "GET /" H11 "Host_: evil\r\n" HOST "\r\n",
       .authority = "a", .fields = "Host: a\n", .dropped = 1),
    OK("names of '_' only, first and last", GET "_: x\r\nX_: y\r\n\r\n",
       .fields = "Host: a\n", .dropped = 2),
    OK("underscore deep in a long name (SIMD)",
       GET "X-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_b: "
	   "v\r\nY: z\r\n\r\n",
       .fields = "Host: a\nY: z\n", .dropped = 1),
    OK("underscore in a value is a value byte", GET "Cookie: __utma=1\r\n\r\n",
       .fields = "Host: a\nCookie: __utma=1\n"),
    OK("underscores kept when allowed",
       GET "Content_Length: 5\r\nX_A: b\r\n\r\n",
       .fields = "Host: a\nContent_Length: 5\nX_A: b\n",
       .limits = &underscores),
    OK("dropped fields count towards max_headers, known fields move down",
       "GET /" H11 "B_: 2\r\n" HOST "C_: 3\r\n\r\n", .fields = "Host: a\n",
       .dropped = 2, .authority = "a", .limits = &small),
    BAD("dropped fields count towards max_headers",
	"GET /" H11 "A: 1\r\nB_: 2\r\nC_: 3\r\nD: 4\r\n" HOST "\r\n",
	RG__E_TOO_MANY_HEADERS, 431, .limits = &small),
    OK("fields after dropped ones keep their known index",
       "POST /" H11 "X_1: a\r\n" HOST "Y_2: b\r\nContent-Length: 3\r\n"
       "Z: c\r\nConnection: close\r\n\r\n",
       .fields = "Host: a\nContent-Length: 3\nZ: c\nConnection: close\n",
       .dropped = 2, .body = RG__BODY_LENGTH, .cl = 3, .close = true),
    BAD("underscore name with a bad byte after it", GET "X_(: v\r\n\r\n",
	RG__E_HEADER_NAME, 400, .at = 28),

    /* --- not HTTP at all: 400 at the byte at fault ------------------- */
    BAD("TLS ClientHello",
	"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
	"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
	RG__E_METHOD, 400, .at = 1),
    BAD("SSH banner", "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", RG__E_TARGET, 400,
	.at = 23),
    BAD("NUL in a method, at once", "GE\0T / HTTP/1.1", RG__E_METHOD, 400,
	.at = 3),
    BAD("CTL in a target, at once", "GET /a\x01b HTTP/1.1", RG__E_TARGET, 400,
	.at = 7),
    BAD("NUL in a value, at once", GET "X: a\0b", RG__E_HEADER_VALUE, 400,
	.at = 30),
    BAD("byte after the version, at once", "GET / HTTP/1.1x", RG__E_VERSION,
	400, .at = 15),
    BAD("NUL in name", GET "F\0o: v\r\n\r\n", RG__E_HEADER_NAME, 400),
    BAD("NUL starts a line", GET "\0X: v\r\n\r\n", RG__E_HEADER_NAME, 400),
    BAD("non-ASCII name", GET "F\xc3\xb3o: v\r\n\r\n", RG__E_HEADER_NAME, 400),
    BAD("DEL in a long name (SIMD)",
	GET "X-0123456789abcdef0123456789\x7f: v\r\n\r\n", RG__E_HEADER_NAME,
	400),
    BAD("NUL in value", GET "X: a\0b\r\n\r\n", RG__E_HEADER_VALUE, 400),
    BAD("SOH in value",
	GET "X: a\x01"
	    "b\r\n\r\n",
	RG__E_HEADER_VALUE, 400),
    BAD("DEL in value",
	GET "X: a\x7f"
	    "b\r\n\r\n",
	RG__E_HEADER_VALUE, 400),
    BAD("VT in value",
	GET "X: a\x0b"
	    "b\r\n\r\n",
	RG__E_HEADER_VALUE, 400),
    BAD("FF in value",
	GET "X: a\x0c"
	    "b\r\n\r\n",
	RG__E_HEADER_VALUE, 400),
    BAD("ESC in value",
	GET "X: a\x1b"
	    "b\r\n\r\n",
	RG__E_HEADER_VALUE, 400),
    BAD("NUL deep in a long value (SIMD)",
	GET "X: 0123456789abcdef0123456789abcdef0123456789abcdef\0x\r\n\r\n",
	RG__E_HEADER_VALUE, 400),
    BAD("DEL at the end of a long value (SIMD tail)",
	GET "X: 0123456789abcdef0123456789abcdef0123456789\x7f\r\n\r\n",
	RG__E_HEADER_VALUE, 400),
    BAD("bare CR in value", GET "X: a\rb\r\n\r\n", RG__E_LINE_ENDING, 400),
    BAD("bare LF ends a field", GET "X: a\nY: b\r\n\r\n", RG__E_LINE_ENDING,
	400),
    BAD("bare LF ends the head", GET "\n", RG__E_LINE_ENDING, 400),
    BAD("bare LF field, bare LF end", "GET / HTTP/1.1\r\nHost: a\n\n",
	RG__E_LINE_ENDING, 400),
    BAD("CR CR at the end", GET "\r\r\n", RG__E_LINE_ENDING, 400),
    BAD("CR CR LF ends a field", GET "X: a\r\r\n\r\n", RG__E_LINE_ENDING, 400),
    BAD("bare CR in name", GET "X\r: a\r\n\r\n", RG__E_LINE_ENDING, 400),
    BAD("obs-fold", GET "X: a\r\n b\r\n\r\n", RG__E_OBS_FOLD, 400),
    BAD("obs-fold with HTAB", GET "X: a\r\n\tb\r\n\r\n", RG__E_OBS_FOLD, 400),
    BAD("obs-fold of Transfer-Encoding",
	"POST /" H11 HOST "Transfer-Encoding:\r\n chunked\r\n\r\n",
	RG__E_OBS_FOLD, 400),
    BAD("whitespace before the first field", "GET /" H11 " Host: a\r\n\r\n",
	RG__E_OBS_FOLD, 400),
    BAD("too many fields", "GET /" H11 HOST "B: 2\r\nC: 3\r\nD: 4\r\n\r\n",
	RG__E_TOO_MANY_HEADERS, 431, .limits = &small),
    BAD("too many fields, seen early", "GET /" H11 HOST "B: 2\r\nC: 3\r\nD",
	RG__E_TOO_MANY_HEADERS, 431, .limits = &small),
    BAD("head too large",
	"GET /" H11 HOST
	"X: 012345678901234567890123456789012345678901234567890123456789"
	"0123456789012345678901234567890123456\r\n\r\n",
	RG__E_HEADERS_TOO_LARGE, 431, .limits = &small),
    BAD("head too large, no end yet",
	"GET /" H11 HOST
	"X: 012345678901234567890123456789012345678901234567890123456789"
	"0123456789012345678901234567890123456789012345678901234567890123",
	RG__E_HEADERS_TOO_LARGE, 431, .limits = &small),
    BAD("head too large in leading CRLFs",
	"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
	"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
	"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
	"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
	"\r\n",
	RG__E_HEADERS_TOO_LARGE, 431, .limits = &small),
    BAD("bad byte before the head limit",
	"GET /" H11 HOST "X: 0123456789\x01"
	"0123456789012345678901234567890123456789012345678901234567890123"
	"4567890123456789012345678901234567890123456789",
	RG__E_HEADER_VALUE, 400, .limits = &small),

    /* --- Host ------------------------------------------------------- */
    BAD("HTTP/1.1 without Host", "GET /" H11 "\r\n", RG__E_HOST_MISSING, 400),
    BAD("HTTP/1.1 absolute-form without Host", "GET http://a/" H11 "\r\n",
	RG__E_HOST_MISSING, 400),
    BAD("two Host fields", "GET /" H11 HOST "Host: b\r\n\r\n",
	RG__E_HOST_DUPLICATE, 400),
    BAD("two Host fields, same value", "GET /" H11 HOST HOST "\r\n",
	RG__E_HOST_DUPLICATE, 400),
    BAD("two Host fields, any case", "GET /" H11 HOST "HOST: a\r\n\r\n",
	RG__E_HOST_DUPLICATE, 400),
    BAD("Host with a space", "GET /" H11 "Host: a b\r\n\r\n",
	RG__E_HOST_INVALID, 400),
    BAD("Host with a path", "GET /" H11 "Host: a/b\r\n\r\n", RG__E_HOST_INVALID,
	400),
    BAD("Host with userinfo", "GET /" H11 "Host: u@a\r\n\r\n",
	RG__E_HOST_INVALID, 400),
    BAD("Host list", "GET /" H11 "Host: a, b\r\n\r\n", RG__E_HOST_INVALID, 400),
    BAD("Host port not digits", "GET /" H11 "Host: a:http\r\n\r\n",
	RG__E_HOST_INVALID, 400),
    BAD("Host port over 65535", "GET /" H11 "Host: a:65536\r\n\r\n",
	RG__E_HOST_INVALID, 400),
    BAD("Host port of 6 digits", "GET /" H11 "Host: a:000080\r\n\r\n",
	RG__E_HOST_INVALID, 400),
    BAD("Host port 99999", "GET /" H11 "Host: a:99999\r\n\r\n",
	RG__E_HOST_INVALID, 400),
    BAD("Host port with a letter", "GET /" H11 "Host: a:808x\r\n\r\n",
	RG__E_HOST_INVALID, 400),
    BAD("Host with two ports", "GET /" H11 "Host: a:80:80\r\n\r\n",
	RG__E_HOST_INVALID, 400),
    BAD("Host with a space, then a port", "GET /" H11 "Host: a b:80\r\n\r\n",
	RG__E_HOST_INVALID, 400),
    BAD("Host of 16 bytes, a bad one last",
	"GET /" H11 "Host: abcdefghij.loca/\r\n\r\n", RG__E_HOST_INVALID, 400),
    BAD("Host unclosed IPv6", "GET /" H11 "Host: [::1\r\n\r\n",
	RG__E_HOST_INVALID, 400),
    BAD("Host empty IPv6", "GET /" H11 "Host: []\r\n\r\n", RG__E_HOST_INVALID,
	400),
    BAD("Host bad pct-encoding", "GET /" H11 "Host: a%zz\r\n\r\n",
	RG__E_HOST_INVALID, 400),
    BAD("Host truncated pct-encoding", "GET /" H11 "Host: a%4\r\n\r\n",
	RG__E_HOST_INVALID, 400),
    BAD("Host with obs-text", "GET /" H11 "Host: caf\xc3\xa9\r\n\r\n",
	RG__E_HOST_INVALID, 400),

    /* --- Content-Length ------------------------------------------- */
    BAD("Content-Length: +5", "POST /" H11 HOST "Content-Length: +5\r\n\r\n",
	RG__E_CONTENT_LENGTH, 400),
    BAD("Content-Length: -5", "POST /" H11 HOST "Content-Length: -5\r\n\r\n",
	RG__E_CONTENT_LENGTH, 400),
    BAD("Content-Length: 0x10",
	"POST /" H11 HOST "Content-Length: 0x10\r\n\r\n", RG__E_CONTENT_LENGTH,
	400),
    BAD("Content-Length: 5, 6",
	"POST /" H11 HOST "Content-Length: 5, 6\r\n\r\n", RG__E_CONTENT_LENGTH,
	400),
    BAD("Content-Length: 5, 5 (a list)",
	"POST /" H11 HOST "Content-Length: 5, 5\r\n\r\n", RG__E_CONTENT_LENGTH,
	400),
    BAD("Content-Length: 5 5", "POST /" H11 HOST "Content-Length: 5 5\r\n\r\n",
	RG__E_CONTENT_LENGTH, 400),
    BAD("two Content-Length, different values",
	"POST /" H11 HOST "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
	RG__E_CONTENT_LENGTH, 400),
    BAD("empty Content-Length", "POST /" H11 HOST "Content-Length:\r\n\r\n",
	RG__E_CONTENT_LENGTH, 400),
    BAD("Content-Length of OWS",
	"POST /" H11 HOST "Content-Length: \t \r\n\r\n", RG__E_CONTENT_LENGTH,
	400),
    BAD("Content-Length: 1e3", "POST /" H11 HOST "Content-Length: 1e3\r\n\r\n",
	RG__E_CONTENT_LENGTH, 400),
    BAD("Content-Length: 20 digits",
	"POST /" H11 HOST "Content-Length: 12345678901234567890\r\n\r\n",
	RG__E_CONTENT_LENGTH, 400),
    BAD("Content-Length: 20 digits, leading zeros",
	"POST /" H11 HOST "Content-Length: 00000000000000000001\r\n\r\n",
	RG__E_CONTENT_LENGTH, 400),
    BAD("Content-Length: 2^64",
	"POST /" H11 HOST "Content-Length: 18446744073709551616\r\n\r\n",
	RG__E_CONTENT_LENGTH, 400, .limits = &unlimited_body),
    BAD("Content-Length: quoted",
	"POST /" H11 HOST "Content-Length: \"5\"\r\n\r\n", RG__E_CONTENT_LENGTH,
	400),
    BAD("Content-Length above max_body",
	"POST /" H11 HOST "Content-Length: 1048577\r\n\r\n",
	RG__E_BODY_TOO_LARGE, 413),
    BAD("Content-Length above the small max_body",
	"POST /" H11 HOST "Content-Length: 101\r\n\r\n", RG__E_BODY_TOO_LARGE,
	413, .limits = &small),
    BAD("Content-Length 19 nines above max_body",
	"POST /" H11 HOST "Content-Length: 9999999999999999999\r\n\r\n",
	RG__E_BODY_TOO_LARGE, 413),

    /* --- Transfer-Encoding and smuggling ---------------------------- */
    BAD("CL.TE: both",
	"POST /" H11 HOST
	"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n",
	RG__E_CL_AND_TE, 400),
    BAD("TE.CL: both",
	"POST /" H11 HOST
	"Transfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n",
	RG__E_CL_AND_TE, 400),
    BAD("CL: 0 and TE",
	"POST /" H11 HOST
	"Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
	RG__E_CL_AND_TE, 400),
    BAD("TE.TE: xchunked",
	"POST /" H11 HOST "Transfer-Encoding: xchunked\r\n\r\n",
	RG__E_TE_NOT_CHUNKED, 400),
    BAD("TE.TE: chunkedx",
	"POST /" H11 HOST "Transfer-Encoding: chunkedx\r\n\r\n",
	RG__E_TE_NOT_CHUNKED, 400),
    BAD("TE.TE: chunked, identity",
	"POST /" H11 HOST "Transfer-Encoding: chunked, identity\r\n\r\n",
	RG__E_TE_NOT_CHUNKED, 400),
    BAD("TE.TE: identity, chunked (unknown coding)",
	"POST /" H11 HOST "Transfer-Encoding: identity, chunked\r\n\r\n",
	RG__E_TE_UNKNOWN, 501),
    BAD("gzip, chunked",
	"POST /" H11 HOST "Transfer-Encoding: gzip, chunked\r\n\r\n",
	RG__E_TE_UNKNOWN, 501),
    BAD("deflate, chunked",
	"POST /" H11 HOST "Transfer-Encoding: deflate, chunked\r\n\r\n",
	RG__E_TE_UNKNOWN, 501),
    BAD("compress, chunked",
	"POST /" H11 HOST "Transfer-Encoding: compress, chunked\r\n\r\n",
	RG__E_TE_UNKNOWN, 501),
    BAD("gzip with parameters, chunked",
	"POST /" H11 HOST
	"Transfer-Encoding: gzip;level=\"9\" ; x=y, chunked\r\n\r\n",
	RG__E_TE_UNKNOWN, 501),
    BAD("gzip alone", "POST /" H11 HOST "Transfer-Encoding: gzip\r\n\r\n",
	RG__E_TE_NOT_CHUNKED, 400),
    BAD("chunked, chunked",
	"POST /" H11 HOST "Transfer-Encoding: chunked, chunked\r\n\r\n",
	RG__E_TE_NOT_CHUNKED, 400),
    BAD("chunked in two fields",
	"POST /" H11 HOST
	"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	RG__E_TE_NOT_CHUNKED, 400),
    BAD("TE.TE: chunked then cow",
	"POST /" H11 HOST
	"Transfer-Encoding: chunked\r\nTransfer-encoding: cow\r\n\r\n",
	RG__E_TE_NOT_CHUNKED, 400),
    BAD("gzip then chunked in two fields",
	"POST /" H11 HOST
	"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
	RG__E_TE_UNKNOWN, 501),
    BAD("empty Transfer-Encoding",
	"POST /" H11 HOST "Transfer-Encoding:\r\n\r\n", RG__E_TE_NOT_CHUNKED,
	400),
    BAD("Transfer-Encoding of commas",
	"POST /" H11 HOST "Transfer-Encoding: , ,\r\n\r\n",
	RG__E_TE_NOT_CHUNKED, 400),
    BAD("chunked with a parameter",
	"POST /" H11 HOST "Transfer-Encoding: chunked;q=1\r\n\r\n",
	RG__E_TE_NOT_CHUNKED, 400),
    BAD("chu nked", "POST /" H11 HOST "Transfer-Encoding: chu nked\r\n\r\n",
	RG__E_TE_NOT_CHUNKED, 400),
    BAD("quoted chunked",
	"POST /" H11 HOST "Transfer-Encoding: \"chunked\"\r\n\r\n",
	RG__E_TE_NOT_CHUNKED, 400),
    BAD("quoted comma in a parameter",
	"POST /" H11 HOST "Transfer-Encoding: gzip;q=\"a, chunked\"\r\n\r\n",
	RG__E_TE_NOT_CHUNKED, 400),
    BAD("unterminated quoted parameter",
	"POST /" H11 HOST "Transfer-Encoding: gzip;q=\"a, chunked\r\n\r\n",
	RG__E_TE_NOT_CHUNKED, 400),
    BAD("VT before chunked",
	"POST /" H11 HOST "Transfer-Encoding: \x0b"
	"chunked\r\n\r\n",
	RG__E_HEADER_VALUE, 400),
    BAD("NUL after chunked",
	"POST /" H11 HOST "Transfer-Encoding: chunked\0\r\n\r\n",
	RG__E_HEADER_VALUE, 400),
    BAD("Transfer-Encoding in HTTP/1.0",
	"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
	RG__E_TE_HTTP10, 400),
    BAD("Transfer-Encoding in HTTP/1.0 with Content-Length",
	"POST / HTTP/1.0\r\nContent-Length: 5\r\n"
	"Transfer-Encoding: chunked\r\n\r\n",
	RG__E_TE_HTTP10, 400),
    BAD("CL.CL smuggling",
	"POST /" H11 HOST "Content-Length: 0\r\nContent-Length: 44\r\n\r\n",
	RG__E_CONTENT_LENGTH, 400),
    BAD("CL with obs-fold",
	"POST /" H11 HOST "Content-Length: 0\r\n 44\r\n\r\n", RG__E_OBS_FOLD,
	400),
    BAD("TE split by bare LF",
	"POST /" H11 HOST "Foo: bar\nTransfer-Encoding: chunked\r\n\r\n",
	RG__E_LINE_ENDING, 400),
    BAD("TE after bare CR",
	"POST /" H11 HOST "Foo: bar\rTransfer-Encoding: chunked\r\n\r\n",
	RG__E_LINE_ENDING, 400),
    BAD("CL with NUL", "POST /" H11 HOST "Content-Length: 5\0\r\n\r\n",
	RG__E_HEADER_VALUE, 400),
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* --- the harness ------------------------------------------------------------
 */

static char *guard_end; /* first byte of the PROT_NONE page */
static size_t guard_room;
static struct rg_pool *pool;
static struct rg_arena *arena;

/* `src[0, n)` copied so that it ends right at the guard page. */
static const char *at_guard(const char *src, size_t n)
{
	assert_true(n <= guard_room);
	char *dst = guard_end - n;
	memmove(dst, src, n);
	return dst;
}

static int setup(void **state)
{
	(void)state;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	guard_room = 64 * 1024;
	char *m = mmap(NULL, guard_room + page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	guard_end = m + guard_room;
	if (mprotect(guard_end, page, PROT_NONE))
		return -1;
	struct rg_pool_config cfg = {
	    .object_size = 16384, .initial = 4, .grow_by = 4, .max = 64};
	pool = rg_pool_create(&cfg, NULL);
	arena = pool ? rg_arena_create(pool, NULL) : NULL;
	return arena ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	rg_arena_destroy(arena);
	rg_pool_destroy(pool);
	munmap(guard_end - guard_room,
	       guard_room + (size_t)sysconf(_SC_PAGESIZE));
	return 0;
}

static bool str_is(struct rg_str s, const char *want)
{
	return s.len == strlen(want) && (!s.len || !memcmp(s.ptr, want, s.len));
}

#define assert_str(s, want)                                                    \
	do {                                                                   \
		if (!str_is((s), (want)))                                      \
			fail_msg("%s: got \"%.*s\", want \"%s\"", #s,          \
				 (int)(s).len, (s).ptr, (want));               \
	} while (0)

/* Checks a parse result against the row; `how` names the feed. */
static void check(const struct row *row, int r, const struct rg__request *q,
		  const char *how)
{
	if (row->err) {
		if (r != -(int)row->err)
			fail_msg("%s: got %d (%s), want -%d (%s)", how, r,
				 r < 0 ? rg__http_error_reason(-r) : "-",
				 row->err, rg__http_error_reason(row->err));
		return;
	}
	size_t consumed = row->consumed ? row->consumed : row->len;
	if (r != (int)consumed)
		fail_msg("%s: got %d (%s), want %zu", how, r,
			 r < 0 ? rg__http_error_reason(-r) : "-", consumed);
	if (row->method) {
		assert_str(q->method, row->method);
		assert_int_equal(q->method_id, row->mid);
	}
	if (row->path)
		assert_str(q->path, row->path);
	if (row->query)
		assert_str(q->query, row->query);
	if (row->authority)
		assert_str(q->authority, row->authority);
	if (row->target)
		assert_str(q->target, row->target);
	assert_int_equal(q->version_minor, row->v10 ? 0 : 1);
	assert_int_equal(q->dropped, row->dropped);
	assert_int_equal(q->keep_alive, !row->close);
	assert_int_equal(q->expect_continue, row->cont);
	assert_int_equal(q->body, row->body);
	if (row->body == RG__BODY_LENGTH)
		assert_int_equal(q->content_length, row->cl);
	if (row->fields) {
		const char *f = row->fields;
		uint32_t i = 0;
		for (; *f; i++) {
			const char *colon = strstr(f, ": ");
			const char *nl = strchr(f, '\n');
			assert_non_null(colon);
			assert_non_null(nl);
			assert_true(i < q->nheaders);
			const struct rg_header *h = &q->headers[i];
			if (h->name.len != (size_t)(colon - f) ||
			    memcmp(h->name.ptr, f, h->name.len) ||
			    h->value.len != (size_t)(nl - colon - 2) ||
			    memcmp(h->value.ptr, colon + 2, h->value.len))
				fail_msg("%s: field %u is \"%.*s: %.*s\"", how,
					 i, (int)h->name.len, h->name.ptr,
					 (int)h->value.len, h->value.ptr);
			f = nl + 1;
		}
		assert_int_equal(q->nheaders, i);
	}
	/* known[] points at the first field of each name, wherever fields
	 * were dropped. */
	for (int id = 0; id < RG__H_COUNT; id++) {
		const struct rg_header *h = rg__request_header(
		    q, rg__known_name[id], strlen(rg__known_name[id]));
		if (h ? q->known[id] != h - q->headers : q->known[id] != -1)
			fail_msg("%s: known[%s] is %d", how, rg__known_name[id],
				 q->known[id]);
	}
	/* The slices lie in the buffer (or are the static "/"). */
	assert_true(q->method.ptr && q->target.ptr && q->path.ptr);
}

static const struct rg__parse_limits *limits_of(const struct row *row)
{
	return row->limits ? row->limits : &rg__default_limits;
}

static void feed_whole(const struct row *row)
{
	struct rg__parser p;
	struct rg__request q;
	rg__parser_init(&p, limits_of(row));
	const char *b = at_guard(row->raw, row->len);
	check(row, rg__parse_request(&p, arena, b, row->len, &q), &q, "whole");
	rg_arena_reset(arena);
}

/* First `k` bytes, then all of them; each call's input ends at the guard,
 * so the buffer moves between the calls. An error must come from the first
 * call exactly when its `k` bytes reach `at`, where a byte at a time found
 * it: never earlier, and never later because of the split. */
static void feed_split(const struct row *row, size_t k, size_t at)
{
	struct rg__parser p;
	struct rg__request q;
	char how[48];
	snprintf(how, sizeof(how), "split at %zu", k);
	rg__parser_init(&p, limits_of(row));
	int r = rg__parse_request(&p, arena, at_guard(row->raw, k), k, &q);
	size_t consumed = row->consumed ? row->consumed : row->len;
	if (!row->err && k < consumed && r != 0)
		fail_msg("%s: got %d before the head was complete", how, r);
	if (row->err && (r != 0) != (k >= at))
		fail_msg("%s: got %d; a byte at a time found the error at %zu",
			 how, r, at);
	if (r == 0)
		r = rg__parse_request(&p, arena, at_guard(row->raw, row->len),
				      row->len, &q);
	check(row, r, &q, how);
	rg_arena_reset(arena);
}

/* One more byte per call until a result. Up to 4 KiB the buffer moves on
 * every call so that each ends at the guard; beyond, it stays put. Returns
 * the bytes it took. */
static size_t feed_bytes(const struct row *row)
{
	struct rg__parser p;
	struct rg__request q;
	bool move = row->len <= 4096;
	const char *fixed = at_guard(row->raw, row->len);
	rg__parser_init(&p, limits_of(row));
	int r = 0;
	size_t k;
	for (k = 1; k <= row->len && r == 0; k++)
		r = rg__parse_request(
		    &p, arena, move ? at_guard(row->raw, k) : fixed, k, &q);
	k--;
	check(row, r, &q, "byte at a time");
	if (!row->err) {
		size_t consumed = row->consumed ? row->consumed : row->len;
		assert_int_equal(k, consumed); /* complete as soon as it is */
	}
	if (row->err && row->at && k != row->at)
		fail_msg("byte at a time: the error came after %zu bytes, not "
			 "%zu",
			 k, row->at);
	rg_arena_reset(arena);
	return k;
}

struct run {
	const struct row *row;
	enum rg__simd level;
};

static const char *level_name[] = {"scalar", "sse4.2", "avx2"};

static void run_row(void **state)
{
	const struct run *run = *state;
	const struct row *row = run->row;
	if (rg__simd_select(run->level) != run->level) {
		rg__simd_select(RG__SIMD_AVX2);
		skip();
	}
	if (row->err)
		assert_int_equal(rg__http_error_status(row->err), row->status);
	feed_whole(row);
	size_t at = feed_bytes(row);
	/* Splits: every boundary, or for long rows the first and last 300
	 * and every 61st between. */
	for (size_t k = 1; k < row->len; k++)
		if (row->len <= 4096 || k < 300 || row->len - k < 300 ||
		    k % 61 == 0)
			feed_split(row, k, at);
	rg__simd_select(RG__SIMD_AVX2);
}

/* --- rows built at run time: the default limits -----------------------------
 */

static struct row *extra;
static size_t nextra;

static char *repeat(char *d, const char *s, size_t times)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < times; i++, d += n)
		memcpy(d, s, n);
	return d;
}

/* "GET /aaa... HTTP/1.1\r\n" with a request line of `line` bytes, then
 * Host, `fields` more "X: v" fields, one field padding the head to `head`
 * bytes if non-zero, and the final CRLF unless `open`. */
static void add_row(const char *name, size_t line, unsigned fields, size_t head,
		    bool open, enum rg__http_error err, int status,
		    const char *cl)
{
	char *b = malloc(64 * 1024), *d = b;
	d += sprintf(d, "%s /", cl ? "POST" : "GET");
	d = repeat(d, "a", line - (size_t)(d - b) - 9);
	d += sprintf(d, " HTTP/1.1%s",
		     line > 8192 && open ? "" : "\r\nHost: h\r\n");
	for (unsigned i = 0; i < fields; i++)
		d += sprintf(d, "X: v\r\n");
	if (cl)
		d += sprintf(d, "Content-Length: %s\r\n", cl);
	if (head) {
		size_t pad = head - (size_t)(d - b) - 5 - (open ? 0 : 2);
		d += sprintf(d, "P: ");
		d = repeat(d, "p", pad);
		if (!open)
			d += sprintf(d, "\r\n");
	}
	if (!open)
		d += sprintf(d, "\r\n");
	struct row *r = &extra[nextra++];
	*r = (struct row){.name = name,
			  .raw = b,
			  .len = (size_t)(d - b),
			  .err = err,
			  .status = status};
	if (cl && !err) {
		r->body = RG__BODY_LENGTH;
		r->cl = strtoull(cl, NULL, 10);
	}
}

static void build_extra(void)
{
	extra = calloc(16, sizeof(*extra));
	add_row("default limits: request line of 8192", 8192, 0, 0, false,
		RG__E_NONE, 0, NULL);
	add_row("default limits: request line of 8193", 8193, 0, 0, false,
		RG__E_REQUEST_LINE_LONG, 414, NULL);
	add_row("default limits: request line over 8192, no CRLF", 8300, 0, 0,
		true, RG__E_REQUEST_LINE_LONG, 414, NULL);
	add_row("default limits: head of 16384", 100, 0, 16384, false,
		RG__E_NONE, 0, NULL);
	add_row("default limits: head of 16385", 100, 0, 16385, false,
		RG__E_HEADERS_TOO_LARGE, 431, NULL);
	add_row("default limits: head over 16384, no end", 100, 0, 17000, true,
		RG__E_HEADERS_TOO_LARGE, 431, NULL);
	add_row("default limits: 100 fields", 20, 99, 0, false, RG__E_NONE, 0,
		NULL);
	add_row("default limits: 101 fields", 20, 100, 0, false,
		RG__E_TOO_MANY_HEADERS, 431, NULL);
	add_row("default limits: Content-Length of 1 MiB", 20, 0, 0, false,
		RG__E_NONE, 0, "1048576");
	add_row("default limits: Content-Length over 1 MiB", 20, 0, 0, false,
		RG__E_BODY_TOO_LARGE, 413, "1048577");
}

/* --- single-purpose tests
 * ----------------------------------------------------- */

static int parse_str(struct rg__parser *p, const char *s, struct rg__request *q)
{
	return rg__parse_request(p, arena, at_guard(s, strlen(s)), strlen(s),
				 q);
}

static void known_fields(void **state)
{
	(void)state;
	struct rg__parser p;
	struct rg__request q;
	rg__parser_init(&p, NULL);
	int r = parse_str(&p,
			  "POST / HTTP/1.1\r\n"
			  "x-other: 0\r\n"
			  "HOST: h\r\n"
			  "content-length: 0\r\n"
			  "Connection: keep-alive\r\n"
			  "EXPECT: 100-continue\r\n"
			  "Content-Type: text/plain\r\n"
			  "accept-encoding: gzip\r\n"
			  "Accept-Encoding: br\r\n"
			  "If-None-Match: \"a\"\r\n"
			  "if-modified-since: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
			  "Range: bytes=0-1\r\n"
			  "upgrade: websocket\r\n"
			  "Connection: upgrade\r\n"
			  "Hosts: x\r\n"
			  "\r\n",
			  &q);
	assert_true(r > 0);
	assert_int_equal(q.known[RG__H_HOST], 1);
	assert_int_equal(q.known[RG__H_CONTENT_LENGTH], 2);
	assert_int_equal(q.known[RG__H_CONNECTION], 3);
	assert_int_equal(q.known[RG__H_EXPECT], 4);
	assert_int_equal(q.known[RG__H_CONTENT_TYPE], 5);
	assert_int_equal(q.known[RG__H_ACCEPT_ENCODING], 6);
	assert_int_equal(q.known[RG__H_IF_NONE_MATCH], 8);
	assert_int_equal(q.known[RG__H_IF_MODIFIED_SINCE], 9);
	assert_int_equal(q.known[RG__H_RANGE], 10);
	assert_int_equal(q.known[RG__H_UPGRADE], 11);
	assert_int_equal(q.known[RG__H_TRANSFER_ENCODING], -1);
	rg_arena_reset(arena);

	rg__parser_init(&p, NULL);
	r = parse_str(&p, "GET / HTTP/1.0\r\nX-Host: a\r\nHos: b\r\n\r\n", &q);
	assert_true(r > 0);
	for (int i = 0; i < RG__H_COUNT; i++)
		assert_int_equal(q.known[i], -1);
	rg_arena_reset(arena);
}

static void header_lookup(void **state)
{
	(void)state;
	struct rg__parser p;
	struct rg__request q;
	rg__parser_init(&p, NULL);
	int r = parse_str(&p,
			  "GET / HTTP/1.1\r\nHost: h\r\nX-Token: one\r\n"
			  "x-token: two\r\nX-Tok: three\r\n\r\n",
			  &q);
	assert_true(r > 0);
	const struct rg_header *h = rg__request_header(&q, "X-TOKEN", 7);
	assert_non_null(h);
	assert_str(h->value, "one");
	h = rg__request_header(&q, "x-tok", 5);
	assert_non_null(h);
	assert_str(h->value, "three");
	assert_null(rg__request_header(&q, "X-To", 4));
	assert_null(rg__request_header(&q, "Accept", 6));
	assert_non_null(rg__request_header(&q, "host", 4));
	rg_arena_reset(arena);
}

/* The usual case: the same buffer grows, and the parser resumes. */
static void same_buffer_grows(void **state)
{
	(void)state;
	static const char req[] =
	    "GET /path?x=1 HTTP/1.1\r\nHost: example.com\r\n"
	    "User-Agent: test\r\nAccept: */*\r\n\r\n";
	char buf[sizeof(req)];
	struct rg__parser p;
	struct rg__request q;
	rg__parser_init(&p, NULL);
	size_t n = 0;
	const size_t steps[] = {3, 10, 24, 30, 45, 60, 70, sizeof(req) - 1};
	int r = 0;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		memcpy(buf + n, req + n, steps[i] - n);
		n = steps[i];
		r = rg__parse_request(&p, arena, buf, n, &q);
		if (n < sizeof(req) - 1)
			assert_int_equal(r, 0);
	}
	assert_int_equal(r, sizeof(req) - 1);
	assert_ptr_equal(q.method.ptr, buf);
	assert_str(q.path, "/path");
	assert_str(q.query, "x=1");
	assert_int_equal(q.nheaders, 3);
	assert_ptr_equal(q.headers[2].value.ptr, buf + 69);
	assert_str(q.headers[2].value, "*/*");
	/* No new bytes: nothing to do. */
	rg__parser_init(&p, NULL);
	assert_int_equal(rg__parse_request(&p, arena, buf, 30, &q), 0);
	assert_int_equal(rg__parse_request(&p, arena, buf, 30, &q), 0);
	assert_int_equal(rg__parse_request(&p, arena, buf, 31, &q), 0);
	assert_int_equal(rg__parse_request(&p, arena, buf, sizeof(req) - 1, &q),
			 sizeof(req) - 1);
	rg_arena_reset(arena);
}

/* After a complete head the parser takes the next request. */
static void pipelined_requests(void **state)
{
	(void)state;
	static const char two[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
				  "\r\nPOST /2 HTTP/1.1\r\nHost: b\r\n"
				  "Content-Length: 0\r\n\r\n";
	const char *b = at_guard(two, sizeof(two) - 1);
	struct rg__parser p;
	struct rg__request q;
	rg__parser_init(&p, NULL);
	int r = rg__parse_request(&p, arena, b, sizeof(two) - 1, &q);
	assert_int_equal(r, 28);
	assert_str(q.path, "/1");
	int r2 = rg__parse_request(&p, arena, b + r, sizeof(two) - 1 - 28, &q);
	assert_int_equal(r2, sizeof(two) - 1 - 28);
	assert_str(q.path, "/2");
	assert_str(q.authority, "b");
	assert_int_equal(q.body, RG__BODY_LENGTH);
	rg_arena_reset(arena);
}

/* The header array is the only allocation, and it is exact. */
static void allocates_only_the_fields(void **state)
{
	(void)state;
	struct rg__parser p;
	struct rg__request q;
	rg_arena_reset(arena);
	rg__parser_init(&p, NULL);
	assert_true(parse_str(&p, "GET / HTTP/1.0\r\n\r\n", &q) > 0);
	assert_int_equal(rg_arena_used(arena), 0);
	rg__parser_init(&p, NULL);
	assert_true(
	    parse_str(&p, "GET / HTTP/1.1\r\nHost: a\r\nB: c\r\n\r\n", &q) > 0);
	/* One array, of the first size. */
	assert_int_equal(rg_arena_used(arena), 16 * sizeof(struct rg_header));
	rg_arena_reset(arena);
	/* Grown past the first size, its spare entries are given back. */
	char big[2048], *d = big;
	d += sprintf(d, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < 19; i++)
		d += sprintf(d, "X%d: y\r\n", i);
	d += sprintf(d, "\r\n");
	rg__parser_init(&p, NULL);
	assert_true(parse_str(&p, big, &q) > 0);
	assert_int_equal(q.nheaders, 20);
	struct rg_header *next = rg_arena_alloc(arena, sizeof(*next));
	assert_ptr_equal(next, q.headers + 20);
	rg_arena_reset(arena);
}

/* The arena cannot grow: 503, not a client error. */
static void out_of_memory(void **state)
{
	(void)state;
	struct rg_mem_account acct = {.limit = 0};
	struct rg_pool_config cfg = {.object_size = 1024, .initial = 1};
	struct rg_pool *small_pool = rg_pool_create(&cfg, &acct);
	assert_non_null(small_pool);
	acct.limit = acct.reserved; /* no spill may be charged */
	struct rg_arena *a = rg_arena_create(small_pool, NULL);
	assert_non_null(a);
	struct rg__parser p;
	struct rg__request q;
	rg__parser_init(&p, NULL);
	static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	int r = rg__parse_request(&p, a, req, sizeof(req) - 1, &q);
	assert_int_equal(r, -RG__E_NO_MEMORY);
	assert_int_equal(rg__http_error_status(RG__E_NO_MEMORY), 503);
	rg_arena_destroy(a);
	rg_pool_destroy(small_pool);
}

/* One table: every error has a status among those the parser may send and
 * a reason of its own. */
static void error_table(void **state)
{
	(void)state;
	for (int e = 1; e < RG__E_COUNT; e++) {
		int st = rg__http_error_status(e);
		assert_true(st == 400 || st == 413 || st == 414 || st == 431 ||
			    st == 501 || st == 503 || st == 505);
		const char *reason = rg__http_error_reason(e);
		assert_non_null(reason);
		assert_true(strlen(reason) > 5);
		for (int f = 1; f < e; f++)
			assert_string_not_equal(reason,
						rg__http_error_reason(f));
	}
	assert_string_equal(rg__http_error_reason(RG__E_CL_AND_TE),
			    "both Content-Length and Transfer-Encoding");
	assert_int_equal(rg__http_error_status(RG__E_COUNT), 500);
	assert_int_equal(rg__http_error_status(RG__E_TE_UNKNOWN), 501);
	assert_int_equal(rg__http_error_status(RG__E_VERSION_UNSUPPORTED), 505);
}

int main(void)
{
	build_extra();
	size_t nrows = NROWS + nextra;
	size_t n = 3 * nrows;
	struct CMUnitTest *tests = calloc(n + 8, sizeof(*tests));
	struct run *runs = calloc(n, sizeof(*runs));
	size_t t = 0;
	for (int level = RG__SIMD_SCALAR; level <= RG__SIMD_AVX2; level++) {
		for (size_t i = 0; i < nrows; i++) {
			const struct row *row =
			    i < NROWS ? &rows[i] : &extra[i - NROWS];
			char *name;
			if (asprintf(&name, "%s: %s", level_name[level],
				     row->name) < 0)
				return 1;
			runs[t] = (struct run){row, (enum rg__simd)level};
			tests[t] = (struct CMUnitTest){
			    .name = name,
			    .test_func = run_row,
			    .initial_state = &runs[t],
			};
			t++;
		}
	}
	const struct CMUnitTest more[] = {
	    cmocka_unit_test(known_fields),
	    cmocka_unit_test(header_lookup),
	    cmocka_unit_test(same_buffer_grows),
	    cmocka_unit_test(pipelined_requests),
	    cmocka_unit_test(allocates_only_the_fields),
	    cmocka_unit_test(out_of_memory),
	    cmocka_unit_test(error_table),
	};
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		tests[t++] = more[i];
	return _cmocka_run_group_tests("parser", tests, t, setup, teardown);
}
