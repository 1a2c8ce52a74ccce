/* test_forwarded.c: the client a trusted proxy's forwarding header names
 * (rg__forwarded_client), for X-Forwarded-For and RFC 7239's Forwarded:
 * the right-most address that is not a trusted proxy wins, over every
 * occurrence of the header in order; a header that cannot be believed
 * (an element that is not an address) leaves the peer; the other header
 * is never read. Trusted here: 10.0.0.0/8 and 2001:db8:ffff::/48. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/forwarded.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static struct rg_cidrs trusted(void)
{
	struct rg_cidrs t = {.n = 2};
	assert_int_equal(rg_cidr_parse("10.0.0.0/8", &t.range[0]), 0);
	assert_int_equal(rg_cidr_parse("2001:db8:ffff::/48", &t.range[1]), 0);
	return t;
}

/* Fields "Name: value" (NULL-terminated), read with `which`: the client's
 * text and port in *out ("" when the peer stands). */
static void client_of(enum rg_forwarded_header which,
		      const char *const fields[], char *text, uint16_t *port)
{
	struct rg_header hs[8];
	size_t n = 0;
	for (; fields[n]; n++) {
		const char *colon = strchr(fields[n], ':');
		assert_non_null(colon);
		hs[n].name =
		    (struct rg_str){fields[n], (size_t)(colon - fields[n])};
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		hs[n].value = (struct rg_str){v, strlen(v)};
	}
	struct rg_cidrs t = trusted();
	struct rg__addr a;
	memset(&a, 0xa5, sizeof(a));
	text[0] = '\0';
	*port = 0;
	if (!rg__forwarded_client(hs, n, which, &t, &a))
		return;
	assert_true(a.af == AF_INET || a.af == AF_INET6);
	assert_non_null(inet_ntop(a.af, a.addr, text, INET6_ADDRSTRLEN));
	*port = a.port;
}

static void expect(enum rg_forwarded_header which, const char *const f[],
		   const char *want, uint16_t want_port)
{
	char got[INET6_ADDRSTRLEN];
	uint16_t port;
	client_of(which, f, got, &port);
	if (strcmp(got, want) || port != want_port)
		print_message("%s: got \"%s\" port %u, expected \"%s\" %u\n",
			      f[0] ? f[0] : "(none)", got, port, want,
			      want_port);
	assert_string_equal(got, want);
	assert_int_equal(port, want_port);
}

#define XFF(want, ...)                                                         \
	expect(RG_FORWARDED_XFF, (const char *const[]){__VA_ARGS__, NULL},     \
	       want, 0)
#define FWD(want, port, ...)                                                   \
	expect(RG_FORWARDED_RFC7239, (const char *const[]){__VA_ARGS__, NULL}, \
	       want, port)

static void test_x_forwarded_for(void **state)
{
	(void)state;
	XFF("192.0.2.1", "X-Forwarded-For: 192.0.2.1");
	/* The right-most untrusted: what the client wrote before is not
	 * believed (a forged "1.1.1.1" on the left). */
	XFF("192.0.2.1", "X-Forwarded-For: 1.1.1.1, 192.0.2.1");
	XFF("192.0.2.1", "X-Forwarded-For: 1.1.1.1, 192.0.2.1, 10.0.0.2");
	XFF("192.0.2.1",
	    "X-Forwarded-For: 1.1.1.1,192.0.2.1,10.1.1.1,10.0.0.2");
	/* All trusted: the left-most. */
	XFF("10.9.9.9", "X-Forwarded-For: 10.9.9.9, 10.0.0.2");
	/* Occurrences read as one list, in order. */
	XFF("192.0.2.7", "X-Forwarded-For: 1.1.1.1",
	    "X-Forwarded-For: 192.0.2.7, 10.0.0.3");
	XFF("198.51.100.1", "X-Forwarded-For: 198.51.100.1", "Via: 1.1 proxy",
	    "x-forwarded-for: 10.0.0.3");
	/* IPv6, an IPv4-mapped trusted hop, empty elements, tabs. */
	XFF("2001:db8::1", "X-Forwarded-For: 2001:db8::1, 2001:db8:ffff::9");
	XFF("192.0.2.1", "X-Forwarded-For: 192.0.2.1, ::ffff:10.0.0.1");
	XFF("192.0.2.1", "X-Forwarded-For: ,192.0.2.1,, \t");
	/* Not believable: the peer stands. */
	XFF("", "X-Forwarded-For: unknown");
	XFF("", "X-Forwarded-For: 192.0.2.1, garbage, 10.0.0.2");
	XFF("", "X-Forwarded-For: 192.0.2.1:80");
	XFF("", "X-Forwarded-For: [2001:db8::1]");
	XFF("", "X-Forwarded-For: 192.0.2.1 10.0.0.2");
	XFF("", "X-Forwarded-For: 192.0.2.256");
	XFF("", "X-Forwarded-For: ");
	/* ...but an untrusted address to the right of the garbage wins
	 * before the garbage is reached. */
	XFF("192.0.2.9", "X-Forwarded-For: garbage, 192.0.2.9");
	/* Absent, or only the other header: the peer. */
	XFF("", "Host: x");
	XFF("", "Forwarded: for=192.0.2.1");
}

static void test_forwarded(void **state)
{
	(void)state;
	FWD("192.0.2.60", 0,
	    "Forwarded: for=192.0.2.60;proto=http;by=10.0.0.1");
	FWD("192.0.2.60", 0, "Forwarded: For=192.0.2.60");
	FWD("192.0.2.60", 8080, "Forwarded: for=\"192.0.2.60:8080\"");
	FWD("2001:db8::17", 4711, "Forwarded: for=\"[2001:db8::17]:4711\"");
	FWD("2001:db8::17", 0, "Forwarded: for=\"[2001:db8::17]\"");
	FWD("2001:db8::17", 0, "Forwarded: for=\"[2001:db8::17]:_port\"");
	FWD("192.0.2.43", 0,
	    "Forwarded: for=1.1.1.1, for=192.0.2.43;proto=https, for=10.0.0.2");
	FWD("192.0.2.43", 0, "Forwarded: proto=https; for=192.0.2.43 ; by=x");
	FWD("192.0.2.5", 0, "Forwarded: for=192.0.2.5",
	    "Forwarded: for=10.0.0.2");
	FWD("10.0.0.7", 0, "Forwarded: for=10.0.0.7, for=10.0.0.2");
	/* Not believable: the peer stands. */
	FWD("", 0, "Forwarded: for=unknown");
	FWD("", 0, "Forwarded: for=_hidden, for=10.0.0.2");
	FWD("", 0, "Forwarded: proto=https");
	FWD("", 0, "Forwarded: for=\"[2001:db8::17\"");
	FWD("", 0, "Forwarded: for=\"[2001:db8::17]:x\"");
	FWD("", 0, "Forwarded: for=\"[2001:db8::17]80\"");
	FWD("", 0, "Forwarded: for=\"192.0.2.1:65536\"");
	FWD("", 0, "Forwarded: for=\"192\\.0.2.1\"");
	FWD("", 0, "Forwarded: for=[192.0.2.1]");
	FWD("", 0, "X-Forwarded-For: 192.0.2.1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_x_forwarded_for),
	    cmocka_unit_test(test_forwarded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
