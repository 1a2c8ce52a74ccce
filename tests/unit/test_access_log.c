/* test_access_log.c: the access log line (access_log_line.c): nginx's
 * combined format byte for byte, escaping that keeps a client from ending
 * a field or forging a line, the time and address fields, fields cut at
 * their budget, and all-or-nothing output at every capacity against a
 * guard page. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/access_log.h"

/* clang-format off */
#define STR(s) {(s), sizeof(s) - 1}
/* clang-format on */

#define TIME "01/Dec/2026:03:10:00 +0000"

/* ---- a buffer that ends just before a PROT_NONE page ------------------- */

#define GUARD_SPAN (64 * 1024)
#include "guard.h"

/* `cap` bytes whose last one touches the guard page. */
static char *guarded(size_t cap)
{
	assert_true(cap <= GUARD_SPAN);
	char *p = guard_tail(cap);
	memset(p, '~', cap);
	return p;
}

/* The line for `e` as a NUL-terminated string (static storage). */
static const char *line_of(const struct rg__alog_entry *e)
{
	static char out[RG__ALOG_LINE_MAX + 1];
	size_t n = rg__alog_format(out, RG__ALOG_LINE_MAX, e);
	assert_true(n > 0);
	out[n] = '\0';
	return out;
}

static size_t count_char(const char *s, size_t n, char c)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

/* ---- escaping ----------------------------------------------------------- */

static size_t escape_str(char *out, size_t max, const char *s, bool *cut)
{
	return rg__alog_escape(out, max, s, strlen(s), cut);
}

static void escape_as_nginx(void **state)
{
	(void)state;
	char out[256];
	bool cut;
	size_t n =
	    escape_str(out, sizeof(out), "a \"b\" \\c\td\x7f\x80\xff", &cut);
	const char want[] = "a \\x22b\\x22 \\x5Cc\\x09d\\x7F\\x80\\xFF";
	assert_false(cut);
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(out, want, n);

	/* Every byte: safe printable ASCII as it is, the rest as \xHH. */
	char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	char big[1024];
	n = rg__alog_escape(big, sizeof(big), all, sizeof(all), &cut);
	assert_false(cut);
	size_t plain = 0x7f - 0x20 - 2; /* printable minus '"' and '\\' */
	assert_int_equal(n, plain + 4 * (256 - plain));
	size_t o = 0;
	for (int i = 0; i < 256; i++) {
		bool esc = i < 0x20 || i >= 0x7f || i == '"' || i == '\\';
		if (!esc) {
			assert_int_equal((unsigned char)big[o], i);
			o++;
			continue;
		}
		char hh[5];
		snprintf(hh, sizeof(hh), "\\x%02X", i);
		assert_memory_equal(big + o, hh, 4);
		o += 4;
	}
	assert_int_equal(o, n);
}

static void escape_cut_at_whole_escapes(void **state)
{
	(void)state;
	char out[16];
	bool cut;
	/* "ab\"": 2 + 4 bytes; a budget of 5 keeps "ab" only. */
	assert_int_equal(escape_str(out, 5, "ab\"", &cut), 2);
	assert_true(cut);
	assert_int_equal(escape_str(out, 6, "ab\"", &cut), 6);
	assert_false(cut);
	assert_int_equal(escape_str(out, 0, "a", &cut), 0);
	assert_true(cut);
	assert_int_equal(escape_str(out, 0, "", &cut), 0);
	assert_false(cut);
}

/* ---- time and address ---------------------------------------------------- */

static void time_field(void **state)
{
	(void)state;
	struct tm tm = {.tm_year = 2026 - 1900,
			.tm_mon = 11,
			.tm_mday = 1,
			.tm_hour = 3,
			.tm_min = 10,
			.tm_sec = 0};
	char out[RG__ALOG_TIME_LEN + 1];
	rg__alog_format_time(out, &tm);
	assert_string_equal(out, TIME);

	tm.tm_gmtoff = 5 * 3600 + 30 * 60; /* India */
	tm.tm_mon = 0;
	tm.tm_mday = 9;
	tm.tm_hour = 23;
	tm.tm_min = 59;
	tm.tm_sec = 60; /* a leap second */
	rg__alog_format_time(out, &tm);
	assert_string_equal(out, "09/Jan/2026:23:59:60 +0530");

	tm.tm_gmtoff = -(3 * 3600 + 30 * 60); /* Newfoundland */
	rg__alog_format_time(out, &tm);
	assert_string_equal(out, "09/Jan/2026:23:59:60 -0330");

	tm.tm_gmtoff = 0;
	tm.tm_year = 12000 - 1900; /* four digits at most */
	rg__alog_format_time(out, &tm);
	assert_string_equal(out, "09/Jan/9999:23:59:60 +0000");
	tm.tm_year = -1900 - 5;
	rg__alog_format_time(out, &tm);
	assert_string_equal(out, "09/Jan/0000:23:59:60 +0000");
}

static void address_field(void **state)
{
	(void)state;
	char out[RG__ALOG_ADDR_LEN + 1];
	uint8_t a[16];
	struct {
		int af;
		const char *text, *want;
	} cases[] = {
	    {AF_INET, "192.0.2.1", "192.0.2.1"},
	    {AF_INET, "0.0.0.0", "0.0.0.0"},
	    {AF_INET, "255.255.255.255", "255.255.255.255"},
	    {AF_INET6, "2001:db8::1", "2001:db8::1"},
	    {AF_INET6, "::1", "::1"},
	    {AF_INET6, "::ffff:198.51.100.7", "198.51.100.7"},
	    {AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(inet_pton(cases[i].af, cases[i].text, a), 1);
		size_t n = rg__alog_format_addr(out, cases[i].af, a);
		assert_string_equal(out, cases[i].want);
		assert_int_equal(n, strlen(cases[i].want));
	}
	assert_int_equal(rg__alog_format_addr(out, AF_UNIX, a), 5);
	assert_string_equal(out, "unix:");
	assert_int_equal(rg__alog_format_addr(out, 0, a), 1);
	assert_string_equal(out, "-");
}

/* ---- the line --------------------------------------------------------- */

static struct rg__alog_entry sample(void)
{
	static const struct rg_str ref = STR("http://example.com/a?b=c");
	static const struct rg_str ua = STR("Mozilla/5.0 (X11; Linux x86_64)");
	return (struct rg__alog_entry){
	    .addr = STR("192.0.2.1"),
	    .time = TIME,
	    .method = STR("GET"),
	    .target = STR("/index.html?q=1"),
	    .version_minor = 1,
	    .status = 200,
	    .bytes = 1234,
	    .referer = &ref,
	    .user_agent = &ua,
	};
}

static void combined_format(void **state)
{
	(void)state;
	struct rg__alog_entry e = sample();
	assert_string_equal(
	    line_of(&e),
	    "192.0.2.1 - - [" TIME "] \"GET /index.html?q=1 HTTP/1.1\" 200 "
	    "1234 \"http://example.com/a?b=c\" \"Mozilla/5.0 (X11; Linux "
	    "x86_64)\"\n");

	/* Absent fields are "-", empty ones "" (as nginx); HTTP/1.0. */
	static const struct rg_str empty = STR("");
	e.referer = NULL;
	e.user_agent = &empty;
	e.version_minor = 0;
	e.status = 404;
	e.bytes = 0;
	e.method = (struct rg_str)STR("HEAD");
	e.target = (struct rg_str)STR("/");
	assert_string_equal(line_of(&e), "192.0.2.1 - - [" TIME
					 "] \"HEAD / HTTP/1.0\" 404 0 \"-\" "
					 "\"\"\n");

	e.bytes = UINT64_MAX;
	e.status = 499;
	assert_string_equal(line_of(&e),
			    "192.0.2.1 - - [" TIME "] \"HEAD / HTTP/1.0\" 499 "
			    "18446744073709551615 \"-\" \"\"\n");
}

/* A rejected head: the line as received, escaped, alone in $request. */
static void rejected_head(void **state)
{
	(void)state;
	struct rg__alog_entry e = sample();
	e.method = (struct rg_str){NULL, 0};
	e.target = (struct rg_str)STR("\x16\x03\x01 GET \"x\"");
	e.referer = e.user_agent = NULL;
	e.status = 400;
	e.bytes = 16;
	assert_string_equal(line_of(&e),
			    "192.0.2.1 - - [" TIME "] \"\\x16\\x03\\x01 GET "
			    "\\x22x\\x22\" 400 16 \"-\" \"-\"\n");
	e.target = (struct rg_str){"", 0};
	assert_string_equal(line_of(&e), "192.0.2.1 - - [" TIME
					 "] \"\" 400 16 \"-\" \"-\"\n");
}

/* What a client sends cannot close a field nor start a line. */
static void no_forged_lines(void **state)
{
	(void)state;
	static const struct rg_str ua =
	    STR("x\" 200 0 \"-\" \"-\"\n6.6.6.6 - - [" TIME
		"] \"GET /admin HTTP/1.1\" 200 1 \"-\" \"y");
	static const struct rg_str ref = STR("\\\"\r\n\\x22");
	struct rg__alog_entry e = sample();
	e.user_agent = &ua;
	e.referer = &ref;
	e.target = (struct rg_str)STR("/a\"b\\c");
	const char *l = line_of(&e);
	size_t n = strlen(l);
	assert_int_equal(count_char(l, n, '\n'), 1);
	assert_int_equal(l[n - 1], '\n');
	assert_int_equal(count_char(l, n, '"'), 6); /* three fields */
	assert_non_null(strstr(l, "\"\\x5C\\x22\\x0D\\x0A\\x5Cx22\""));
	assert_non_null(strstr(l, "\"GET /a\\x22b\\x5Cc HTTP/1.1\""));
}

static struct rg_str filled(size_t n, char c)
{
	char *p = malloc(n);
	assert_non_null(p);
	memset(p, c, n);
	return (struct rg_str){p, n};
}

/* Quoted fields are cut at their budget, at a whole escape, with "...". */
static void long_fields_cut(void **state)
{
	(void)state;
	struct rg__alog_entry e = sample();
	struct rg_str target = filled(20000, 'a');
	struct rg_str ua = filled(5000, '"');
	struct rg_str ref = filled(RG__ALOG_FIELD_MAX, 'r'); /* just fits */
	e.target = target;
	e.user_agent = &ua;
	e.referer = &ref;
	const char *l = line_of(&e);

	const char *req = strchr(l, '"') + 1;
	const char *end = strchr(req, '"');
	assert_int_equal(end - req, RG__ALOG_REQUEST_MAX + 3);
	assert_memory_equal(req, "GET aaaa", 8);
	assert_memory_equal(end - 3, "...", 3);

	const char *r = strchr(end + 1, '"') + 1;
	const char *rend = strchr(r, '"');
	assert_int_equal(rend - r, RG__ALOG_FIELD_MAX);

	const char *u = strchr(rend + 1, '"') + 1;
	const char *uend = strchr(u, '"');
	/* 2048 / 4 whole escapes of '"', then "...". */
	assert_int_equal(uend - u, RG__ALOG_FIELD_MAX + 3);
	assert_memory_equal(uend - 7, "\\x22...", 7);
	assert_string_equal(uend, "\"\n");

	/* A rejected head has the smaller raw budget. */
	e.method = (struct rg_str){NULL, 0};
	l = line_of(&e);
	req = strchr(l, '"') + 1;
	end = strchr(req, '"');
	assert_int_equal(end - req, RG__ALOG_RAW_MAX + 3);

	free((void *)target.ptr);
	free((void *)ua.ptr);
	free((void *)ref.ptr);
}

/* The worst line: every field at its budget, every byte escaped. */
static void longest_line_bounded(void **state)
{
	(void)state;
	struct rg__alog_entry e = sample();
	struct rg_str all = filled(3 * RG__ALOG_REQUEST_MAX, '\x01');
	e.addr = (struct rg_str)STR("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	e.method = e.target = all;
	e.referer = e.user_agent = &all;
	e.status = 599;
	e.bytes = UINT64_MAX;
	size_t n = rg__alog_format(guarded(GUARD_SPAN), GUARD_SPAN, &e);
	assert_true(n > 0 && n <= RG__ALOG_LINE_MAX);
	free((void *)all.ptr);
}

/* At every capacity: the whole line or 0, and nothing written past it
 * (the guard page would fault). */
static void all_or_nothing(void **state)
{
	(void)state;
	struct rg__alog_entry e = sample();
	static const struct rg_str ua = STR("a\"b\\c\x01\xfe");
	e.user_agent = &ua;
	char want[1024];
	size_t len = rg__alog_format(want, sizeof(want), &e);
	assert_true(len > 0);
	for (size_t cap = 0; cap <= len + 8; cap++) {
		char *out = guarded(cap);
		size_t n = rg__alog_format(out, cap, &e);
		if (cap < len) {
			assert_int_equal(n, 0);
		} else {
			assert_int_equal(n, len);
			assert_memory_equal(out, want, len);
		}
	}
}

/* Random bytes in every field: one line, six quotes, bounded. */
static void random_fields(void **state)
{
	(void)state;
	unsigned seed = (unsigned)time(NULL);
	const char *env = getenv("RG_TEST_SEED");
	if (env)
		seed = (unsigned)strtoul(env, NULL, 10);
	print_message("seed %u (RG_TEST_SEED)\n", seed);
	srand(seed);
	static char bytes[4][6000];
	static char out[RG__ALOG_LINE_MAX];
	for (int iter = 0; iter < 2000; iter++) {
		size_t len[4];
		for (int f = 0; f < 4; f++) {
			len[f] = (size_t)rand() % (iter % 50 ? 64 : 6000);
			for (size_t i = 0; i < len[f]; i++)
				bytes[f][i] = (char)(rand() & 0xff);
		}
		struct rg_str ref = {bytes[2], len[2]}, ua = {bytes[3], len[3]};
		struct rg__alog_entry e = sample();
		e.method = (struct rg_str){bytes[0], len[0]};
		e.target = (struct rg_str){bytes[1], len[1]};
		if (iter & 1)
			e.method.ptr = NULL;
		e.referer = &ref;
		e.user_agent = iter % 3 ? &ua : NULL;
		size_t n = rg__alog_format(out, sizeof(out), &e);
		assert_true(n > 0);
		assert_int_equal(count_char(out, n, '\n'), 1);
		assert_int_equal(out[n - 1], '\n');
		assert_int_equal(count_char(out, n, '"'), 6);
		for (size_t i = 0; i < n - 1; i++)
			assert_true(out[i] >= 0x20 && out[i] < 0x7f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(escape_as_nginx),
	    cmocka_unit_test(escape_cut_at_whole_escapes),
	    cmocka_unit_test(time_field),
	    cmocka_unit_test(address_field),
	    cmocka_unit_test(combined_format),
	    cmocka_unit_test(rejected_head),
	    cmocka_unit_test(no_forged_lines),
	    cmocka_unit_test(long_fields_cut),
	    cmocka_unit_test(longest_line_bounded),
	    cmocka_unit_test(all_or_nothing),
	    cmocka_unit_test(random_fields),
	};
	return cmocka_run_group_tests(tests, guard_setup, guard_teardown);
}
