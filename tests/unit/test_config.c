/* test_config.c: the configuration file reader (src/core/config.c and
 * toml.c): a full reference file, the defaults, one test per error class
 * checking the "name:line:" prefix a user would see, the [status] table
 * and its address ranges (rg_cidr_parse), and a program's own table
 * (rg_config_table). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"

static char err[256];

static int parse(struct rg_config *c, const char *text)
{
	return rg__config_parse(c, "t.toml", text, strlen(text), NULL, err,
				sizeof(err));
}

/* Parses `text`, expects -EINVAL with a message starting with `prefix` and
 * containing `needle`. */
static void expect_error(const char *text, const char *prefix,
			 const char *needle)
{
	struct rg_config c;
	int r = parse(&c, text);
	if (r != -EINVAL || strncmp(err, prefix, strlen(prefix)) ||
	    !strstr(err, needle))
		fail_msg("input:\n%s\ngot %d \"%s\", want prefix \"%s\" and "
			 "\"%s\"",
			 text, r, err, prefix, needle);
	assert_null(c.strings);
}

static void test_reference_file(void **state)
{
	(void)state;
	static const char text[] =
	    "# ringlet.toml: every key\n"
	    "[server]\n"
	    "listen = \"127.0.0.1:9090\"\n"
	    "root = \"/srv/www\"   # served files\n"
	    "io_backend = \"epoll\"\n"
	    "backlog = 1_024\n"
	    "header_timeout = \"5s\"\n"
	    "body_timeout = 15000\n"
	    "keepalive_timeout = \"250ms\"\n"
	    "write_timeout = +60_000\n"
	    "max_body_size = \"8MiB\"\n"
	    "max_request_line = \"4KiB\"\n"
	    "max_headers = 64\n"
	    "shutdown_timeout = \"3s\"\n"
	    "\n"
	    "[static]\n"
	    "index = \"home.html\"\n"
	    "precompressed = false\n"
	    "open_file_cache = 0\n"
	    "[memory]\n"
	    "request_arena_size = \"16KiB\"\n"
	    "max_connections = 20_000\n"
	    "connection_buffer_size = 131072\n"
	    "header_buffer_size = \"32KiB\"\n"
	    "small_alloc_threshold = 512\n"
	    "large_alloc_spill = \"32KiB\"\n"
	    "memory_limit = \"2GiB\"\n"
	    "[performance]\n"
	    "workers = 4\n"
	    "coroutine_stack_size = \"128KiB\"\n"
	    "max_coroutines = 2048\n"
	    "[log]\n"
	    "access_log = \"/var/log/ringlet/access \\\"a\\\"\\u00e9.log\"\n"
	    "error_log = \"/var/log/ringlet/error.log\"\n"
	    "level = \"debug\"\n";
	struct rg_config c;
	assert_int_equal(parse(&c, text), 0);
	assert_string_equal(c.listen[0].host, "127.0.0.1");
	assert_int_equal(c.listen[0].port, 9090);
	assert_string_equal(c.root, "/srv/www");
	assert_int_equal(c.server.shutdown_timeout_ms, 3000);
	assert_string_equal(c.index, "home.html");
	assert_false(c.precompressed);
	assert_int_equal(c.open_file_cache, 0);
	assert_int_equal(c.server.io_backend, RG_IO_EPOLL);
	assert_int_equal(c.server.backlog, 1024);
	assert_int_equal(c.server.header_timeout_ms, 5000);
	assert_int_equal(c.server.body_timeout_ms, 15000);
	assert_int_equal(c.server.keepalive_timeout_ms, 250);
	assert_int_equal(c.server.write_timeout_ms, 60000);
	assert_int_equal(c.server.max_body_size, 8 << 20);
	assert_int_equal(c.server.max_request_line, 4096);
	assert_int_equal(c.server.max_headers, 64);
	assert_int_equal(c.server.request_arena_size, 16384);
	assert_int_equal(c.server.max_connections, 20000);
	assert_int_equal(c.server.connection_buffer_size, 131072);
	assert_int_equal(c.server.header_buffer_size, 32768);
	assert_int_equal(c.server.small_alloc_threshold, 512);
	assert_int_equal(c.server.large_alloc_spill, 32768);
	assert_int_equal(c.server.memory_limit, 2ULL << 30);
	assert_int_equal(c.workers, 4);
	assert_int_equal(c.server.coroutine_stack_size, 128 * 1024);
	assert_int_equal(c.server.max_coroutines, 2048);
	assert_string_equal(c.access_log,
			    "/var/log/ringlet/access \"a\"\xc3\xa9.log");
	assert_string_equal(c.error_log, "/var/log/ringlet/error.log");
	assert_int_equal(c.log_level, RG_LOG_DEBUG);
	rg_config_free(&c);
	assert_null(c.strings);
	assert_string_equal(c.root, ".");
}

static void test_defaults(void **state)
{
	(void)state;
	struct rg_config c;
	struct rg_server_config d;
	rg_server_config_init(&d);
	assert_int_equal(parse(&c, ""), 0);
	assert_int_equal(c.nlisten, 1);
	assert_string_equal(c.listen[0].host, "0.0.0.0");
	assert_int_equal(c.listen[0].port, 8080);
	/* field by field: padding bytes need not match */
#define SAME(field) assert_true(c.server.field == d.field)
	SAME(backlog);
	SAME(reuse_port);
	SAME(io_backend);
	SAME(max_connections);
	SAME(request_arena_size);
	SAME(large_alloc_spill);
	SAME(small_alloc_threshold);
	SAME(coroutine_stack_size);
	SAME(max_coroutines);
	SAME(header_buffer_size);
	SAME(max_request_line);
	SAME(max_headers);
	SAME(max_body_size);
	SAME(connection_buffer_size);
	SAME(header_timeout_ms);
	SAME(body_timeout_ms);
	SAME(keepalive_timeout_ms);
	SAME(write_timeout_ms);
	SAME(memory_limit);
	SAME(shutdown_timeout_ms);
	SAME(listen_fds);
	SAME(nlisten_fds);
	SAME(access_log);
	SAME(stats_board);
#undef SAME
	assert_string_equal(c.root, ".");
	assert_string_equal(c.index, "index.html");
	assert_true(c.precompressed);
	assert_int_equal(c.open_file_cache, 64);
	assert_int_equal(c.server.shutdown_timeout_ms, 10000);
	assert_int_equal(c.workers, 0);
	assert_int_equal(c.server.small_alloc_threshold, 256);
	assert_int_equal(c.server.large_alloc_spill, 16384);
	assert_null(c.access_log);
	assert_null(c.error_log);
	assert_int_equal(c.log_level, RG_LOG_INFO);
	rg_config_free(&c);

	/* only comments, blank lines, empty tables and CRLF: still defaults */
	assert_int_equal(parse(&c, "# a comment\n\n   \t\n[server] # x\r\n"
				   "  # indented comment\n[log]\n"),
			 0);
	assert_int_equal(c.listen[0].port, 8080);
	rg_config_free(&c);
}

static void test_comments_and_values(void **state)
{
	(void)state;
	struct rg_config c;
	assert_int_equal(parse(&c, "\n\n[performance]\n"
				   "  workers = \"auto\"# no space\n"
				   "\t# tab\n"
				   "coroutine_stack_size = 32768\n"
				   "[log]\naccess_log = \"off\"\n"
				   "level = \"warn\"\n"),
			 0);
	assert_int_equal(c.workers, 0);
	assert_int_equal(c.server.coroutine_stack_size, 32768);
	assert_null(c.access_log);
	assert_int_equal(c.log_level, RG_LOG_WARN);
	rg_config_free(&c);
}

static void test_listen(void **state)
{
	(void)state;
	struct rg_config c;
	assert_int_equal(parse(&c, "[server]\nlisten = \"[::1]:8443\"\n"), 0);
	assert_string_equal(c.listen[0].host, "::1");
	assert_int_equal(c.listen[0].port, 8443);
	rg_config_free(&c);
	assert_int_equal(parse(&c, "[server]\nlisten = \"[::]:0\"\n"), 0);
	assert_string_equal(c.listen[0].host, "::");
	assert_int_equal(c.listen[0].port, 0);
	rg_config_free(&c);
	assert_int_equal(parse(&c, "[server]\nlisten = \":80\"\n"), 0);
	assert_string_equal(c.listen[0].host, "0.0.0.0");
	assert_int_equal(c.listen[0].port, 80);
	rg_config_free(&c);
	/* IPv4 and IPv6 side by side */
	assert_int_equal(
	    parse(&c, "[server]\nlisten = [\"0.0.0.0:80\", \"[::]:80\", "
		      "\"127.0.0.1:81\"]\n"),
	    0);
	assert_int_equal(c.nlisten, 3);
	assert_string_equal(c.listen[1].host, "::");
	assert_int_equal(c.listen[1].port, 80);
	assert_string_equal(c.listen[2].host, "127.0.0.1");
	assert_int_equal(c.listen[2].port, 81);
	rg_config_free(&c);
	expect_error("[server]\nlisten = []\n",
		     "t.toml:2: ", "at least one address");
	expect_error("[server]\nlisten = [\":80\", \"0.0.0.0:80\"]\n",
		     "t.toml:2: ", "listen address 0.0.0.0:80 given twice");
	expect_error("[server]\nlisten = [\"[::]:80\", \"[0::0]:80\"]\n",
		     "t.toml:2: ", "listen address [0::0]:80 given twice");
	/* port 0 twice: two sockets, two ports */
	assert_int_equal(
	    parse(&c, "[server]\nlisten = [\"[::1]:0\", \"[::1]:0\"]\n"), 0);
	rg_config_free(&c);
	expect_error("[server]\nlisten = [\":80\", \"x\"]\n",
		     "t.toml:2: ", "bad listen address");
	expect_error("[server]\nlisten = 80\n", "t.toml:2: ",
		     "listen must be a string or an array of strings");

	static const char *const bad[] = {
	    "::1:80",	    "[::1]80",	       "[::1",	       "127.0.0.1",
	    "127.0.0.1:",   "127.0.0.1:65536", "localhost:80", "1.2.3.4:8x",
	    "[1.2.3.4]:80", "[]:80",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text), "[server]\n\nlisten = \"%s\"\n",
			 bad[i]);
		expect_error(text, "t.toml:3: ", "bad listen address");
	}
}

static void test_unknown(void **state)
{
	(void)state;
	expect_error("[server]\nlisten = \":1\"\nport = 80\n",
		     "t.toml:3: ", "unknown key 'port' in [server]");
	/* a key valid in another table is still unknown here */
	expect_error("[log]\nworkers = 2\n",
		     "t.toml:2: ", "unknown key 'workers'");
	expect_error("# c\n[servr]\n", "t.toml:2: ", "unknown table [servr]");
	expect_error("workers = 2\n", "t.toml:1: ", "outside any table");
	expect_error("[server.tls]\n", "t.toml:1: ", "bad table header");
}

static void test_duplicates(void **state)
{
	(void)state;
	expect_error("[memory]\nmax_connections = 1\n\nmax_connections = 2\n",
		     "t.toml:4: ", "duplicate key 'max_connections'");
	expect_error("[server]\n[log]\n[server]\n",
		     "t.toml:3: ", "table [server] defined twice");
	/* Greenlets have no stack of their own to size (they copy theirs
	 * away): the old alias is gone. */
	expect_error("[performance]\ngreenlet_stack_size = \"64KiB\"\n",
		     "t.toml:2: ", "unknown key 'greenlet_stack_size'");
}

static void test_wrong_type(void **state)
{
	(void)state;
	expect_error("[memory]\nmax_connections = \"10\"\n", "t.toml:2: ",
		     "max_connections must be an integer, not a string");
	expect_error("[server]\nroot = 1\n",
		     "t.toml:2: ", "root must be a string");
	expect_error("[server]\nreuse_port = true\n", "t.toml:2: ",
		     "unknown key 'reuse_port'"); /* the master's business */
	expect_error("[server]\nroot = [\"a\", \"b\"]\n",
		     "t.toml:2: ", "not an array");
	expect_error("[static]\nprecompressed = 1\n",
		     "t.toml:2: ", "precompressed must be a boolean");
	expect_error("[log]\nerror_log = \"off\"\n",
		     "t.toml:2: ", "error_log cannot be \"off\"");
	expect_error("[server]\nshutdown_timeout = true\n",
		     "t.toml:2: ", "shutdown_timeout must be an integer");
	expect_error("[performance]\nworkers = true\n",
		     "t.toml:2: ", "workers must be an integer or \"auto\"");
	expect_error("[performance]\nworkers = \"many\"\n",
		     "t.toml:2: ", "workers must be an integer or \"auto\"");
	expect_error("[server]\nio_backend = \"kqueue\"\n",
		     "t.toml:2: ", "io_backend must be one of");
	expect_error("[log]\nlevel = \"trace\"\n",
		     "t.toml:2: ", "level must be one of");
	expect_error("[server]\nmax_headers = 01\n",
		     "t.toml:2: ", "leading zeros");
	expect_error("[server]\nmax_headers = 1__0\n",
		     "t.toml:2: ", "bad integer");
	expect_error("[server]\nmax_headers = 10_\n",
		     "t.toml:2: ", "bad integer");
	expect_error("[server]\nmax_headers = \n",
		     "t.toml:2: ", "expected a value");
	expect_error("[server]\nmax_headers = 10 20\n",
		     "t.toml:2: ", "unexpected '2' after value");
	expect_error("[server]\nmax_headers 10\n",
		     "t.toml:2: ", "expected '='");
}

static void test_out_of_range(void **state)
{
	(void)state;
	expect_error("[memory]\nrequest_arena_size = \"512\"\n", "t.toml:2: ",
		     "request_arena_size must be between 1KiB and 1GiB");
	expect_error("[memory]\nrequest_arena_size = \"2GiB\"\n", "t.toml:2: ",
		     "request_arena_size must be between 1KiB and 1GiB");
	expect_error("[memory]\nmax_connections = 0\n", "t.toml:2: ",
		     "max_connections must be between 1 and 10000000");
	expect_error("[memory]\nmax_connections = -5\n", "t.toml:2: ",
		     "max_connections must be between 1 and 10000000");
	expect_error("[performance]\ncoroutine_stack_size = \"8KiB\"\n",
		     "t.toml:2: ",
		     "coroutine_stack_size must be between 16KiB and 64MiB");
	expect_error("[server]\nheader_timeout = \"2000000s\"\n", "t.toml:2: ",
		     "header_timeout must be between 0 and 86400000 ms");
	expect_error("[server]\nwrite_timeout = 99999999999999999999\n",
		     "t.toml:2: ", "integer too large");
	expect_error("[memory]\nmemory_limit = \"99999999999999999999GiB\"\n",
		     "t.toml:2: ", "memory_limit must be between");
	expect_error("[performance]\nworkers = 0\n",
		     "t.toml:2: ", "workers must be between 1 and 1024");
	/* cross-field: the request line has to fit in the header buffer */
	expect_error("[server]\nmax_request_line = \"64KiB\"\n",
		     "t.toml:2: ", "exceeds header_buffer_size");
	expect_error("[memory]\nheader_buffer_size = \"4KiB\"\n\n",
		     "t.toml:2: ", "exceeds header_buffer_size");
}

static void test_bad_units(void **state)
{
	(void)state;
	expect_error("[memory]\nrequest_arena_size = \"64k\"\n",
		     "t.toml:2: ", "bad size \"64k\" for request_arena_size");
	expect_error("[memory]\nrequest_arena_size = \"8 KiB\"\n",
		     "t.toml:2: ", "bad size");
	expect_error("[memory]\nrequest_arena_size = \"KiB\"\n",
		     "t.toml:2: ", "bad size");
	expect_error("[memory]\nrequest_arena_size = 8KiB\n",
		     "t.toml:2: ", "must be quoted");
	expect_error("[server]\nbody_timeout = \"5m\"\n",
		     "t.toml:2: ", "bad duration \"5m\" for body_timeout");
}

static void test_bad_strings(void **state)
{
	(void)state;
	expect_error("[server]\nroot = \"/srv\n",
		     "t.toml:2: ", "unterminated string");
	expect_error("[server]\nroot = \"/srv",
		     "t.toml:2: ", "unterminated string");
	expect_error("[server]\nroot = \"a\\qb\"\n",
		     "t.toml:2: ", "unknown escape");
	expect_error("[server]\nroot = \"\\u12\"\n",
		     "t.toml:2: ", "bad \\u escape");
	expect_error("[server]\nroot = \"\\ud800\"\n",
		     "t.toml:2: ", "bad \\u escape");
	expect_error("[server]\nroot = \"\"\n",
		     "t.toml:2: ", "root must not be empty");
	expect_error("[server]\nroot = [\"a\"\n",
		     "t.toml:2: ", "unterminated array");
}

static void test_status(void **state)
{
	(void)state;
	struct rg_config c;
	assert_int_equal(parse(&c, ""), 0);
	assert_string_equal(c.status.stats_path, "/stats");
	assert_string_equal(c.status.metrics_path, "/metrics");
	assert_string_equal(c.status.page_path, "/status");
	assert_int_equal(c.status.allow.n, 2);
	assert_int_equal(c.status.allow.range[0].af, AF_INET);
	assert_int_equal(c.status.allow.range[0].bits, 32);
	assert_memory_equal(c.status.allow.range[0].addr, "\x7f\0\0\1", 4);
	assert_int_equal(c.status.allow.range[1].af, AF_INET6);
	assert_int_equal(c.status.allow.range[1].addr[15], 1);
	rg_config_free(&c);
	assert_int_equal(
	    parse(&c, "[status]\nstats_path = \"/_s\"\nallow = "
		      "[\"10.0.0.0/8\", \"2001:db8::/32\", \"192.0.2.7\", "
		      "\"::/0\"]\n"),
	    0);
	assert_string_equal(c.status.stats_path, "/_s");
	assert_int_equal(c.status.allow.n, 4);
	assert_int_equal(c.status.allow.range[0].bits, 8);
	assert_int_equal(c.status.allow.range[1].af, AF_INET6);
	assert_int_equal(c.status.allow.range[1].bits, 32);
	assert_int_equal(c.status.allow.range[2].bits, 32);
	assert_int_equal(c.status.allow.range[3].bits, 0);
	rg_config_free(&c);
	assert_int_equal(parse(&c,
			       "[status]\nstats_path = \"off\"\nmetrics_path = "
			       "\"/m\"\npage_path = \"off\"\nallow = []\n"),
			 0);
	assert_null(c.status.stats_path);
	assert_string_equal(c.status.metrics_path, "/m");
	assert_null(c.status.page_path);
	assert_int_equal(c.status.allow.n, 0);
	rg_config_free(&c);
	expect_error("[status]\nstats_path = \"stats\"\n",
		     "t.toml:2: ", "stats_path must start with '/'");
	expect_error("[status]\nmetrics_path = \"\"\n",
		     "t.toml:2: ", "metrics_path must start with '/'");
	expect_error("[status]\npage_path = 1\n",
		     "t.toml:2: ", "page_path must be a string");
	/* A program's own defaults, which the file overrides key by key. */
	const struct rg_status_config mine = {
	    .stats_path = "/_s", .metrics_path = "/_m", .page_path = NULL};
	const struct rg_config_source prog = {.status = &mine};
	const char *t = "[status]\nmetrics_path = \"/m\"\n";
	assert_int_equal(rg__config_parse(&c, "t.toml", t, strlen(t), &prog,
					  err, sizeof(err)),
			 0);
	assert_string_equal(c.status.stats_path, "/_s");
	assert_string_equal(c.status.metrics_path, "/m");
	assert_null(c.status.page_path);
	assert_int_equal(c.status.allow.n, 0);
	rg_config_free(&c);
	expect_error("[status]\nstats_path = \"off\"\n",
		     "t.toml:2: ", "page_path needs stats_path");
	expect_error("[status]\nstats_path = \"/s\"\nmetrics_path = \"/s\"\n",
		     "t.toml:3: ", "stats_path and metrics_path are both /s");
	expect_error("[status]\nallow = \"127.0.0.1\"\n",
		     "t.toml:2: ", "allow must be an array");
	static const char *const bad[] = {
	    "10.0.0.1/8", "10.0.0.0/33", "::1/129",    "10.0.0.0/", "/8",
	    "localhost",  "10.0.0.0/8x", "1.2.3.4/-1", "::1/0128",  "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text),
			 "[status]\nallow = [\"::1\", \"%s\"]\n", bad[i]);
		expect_error(text,
			     "t.toml:2: ", "is not an address or a range");
	}
}

static void test_error_buffer(void **state)
{
	(void)state;
	struct rg_config c;
	char small[8];
	const char *t = "[nope]\n";
	assert_int_equal(rg__config_parse(&c, "t.toml", t, strlen(t), NULL,
					  small, sizeof(small)),
			 -EINVAL);
	assert_string_equal(small, "t.toml:");
	/* the text need not be NUL-terminated: the length is honoured */
	t = "[server]\nmax_headers = 12345";
	assert_int_equal(
	    rg__config_parse(&c, "t", t, strlen(t) - 3, NULL, err, sizeof(err)),
	    0);
	assert_int_equal(c.server.max_headers, 12);
	rg_config_free(&c);
}

static void test_load(void **state)
{
	(void)state;
	struct rg_config c;
	char path[] = "/tmp/rg-config-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("[server]\nlisten = \"[::1]:1234\"\nroot = \"www\"\nbogus = 1\n",
	      f);
	fclose(f);
	assert_int_equal(rg__config_load(&c, path, NULL, err, sizeof(err)),
			 -EINVAL);
	char want[64];
	snprintf(want, sizeof(want), "%s:4: unknown key 'bogus'", path);
	assert_true(strncmp(err, want, strlen(want)) == 0);
	unlink(path);
	assert_int_equal(rg__config_load(&c, path, NULL, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, path));
}

/* A program's own table, as the Python front's [python]. */
struct py {
	const char *app;
	bool preload;
	int64_t gc;
	unsigned keys;
};

static int py_key(void *arg, const char *key, const struct rg_config_value *v,
		  char *why, size_t len)
{
	struct py *p = arg;
	p->keys++;
	if (!strcmp(key, "app") && v->type == RG_CONFIG_STRING) {
		p->app = v->string;
		return 0;
	}
	if (!strcmp(key, "preload") && v->type == RG_CONFIG_BOOLEAN) {
		p->preload = v->integer;
		return 0;
	}
	if (!strcmp(key, "gc_threshold") && v->type == RG_CONFIG_ARRAY &&
	    v->nitems == 2) {
		p->gc = (int64_t)strlen(v->items[0]) + v->line;
		return 0;
	}
	snprintf(why, len, "unknown key '%s' in [python]", key);
	return -EINVAL;
}

static void test_program_table(void **state)
{
	(void)state;
	struct py p = {0};
	const struct rg_config_table tables[] = {{"python", py_key, &p}};
	struct rg_config c;
	const char *text = "[server]\nbacklog = 7\n"
			   "[python]\napp = \"my\\u00e9app:app\"  # comment\n"
			   "preload = true\ngc_threshold = [\"700\", \"10\"]\n"
			   "[log]\nlevel = \"warn\"\n";
	const struct rg_config_source program = {.tables = tables,
						 .ntables = 1};
	assert_int_equal(rg__config_parse(&c, "t.toml", text, strlen(text),
					  &program, err, sizeof(err)),
			 0);
	assert_int_equal(c.server.backlog, 7);
	assert_int_equal(c.log_level, RG_LOG_WARN);
	assert_int_equal(p.keys, 3);
	assert_true(p.preload);
	assert_int_equal(p.gc, 3 + 6); /* "700", on line 6 */
	/* The strings live as long as the configuration. */
	assert_string_equal(p.app, "my\xc3\xa9"
				   "app:app");
	/* What the table took is kept in the configuration, for a worker. */
	const struct rg_config_value *v = rg_config_get(&c, "python", "app");
	assert_non_null(v);
	assert_ptr_equal(v->string, p.app);
	assert_int_equal(v->line, 4);
	v = rg_config_get(&c, "python", "gc_threshold");
	assert_non_null(v);
	assert_int_equal(v->nitems, 2);
	assert_string_equal(v->items[1], "10");
	assert_null(rg_config_get(&c, "python", "patch"));
	assert_null(rg_config_get(&c, "server", "backlog"));
	rg_config_free(&c);
	assert_null(rg_config_get(&c, "python", "app"));

	/* A key given twice, even one the table accepts. */
	text = "[python]\npreload = true\npreload = false\n";
	assert_int_equal(rg__config_parse(&c, "t.toml", text, strlen(text),
					  &program, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err,
			    "t.toml:3: duplicate key 'preload' (first on line "
			    "2)");

	/* The table's own error, with the reader's prefix. */
	text = "[python]\napp = \"a:b\"\nworkers = 3\n";
	assert_int_equal(rg__config_parse(&c, "t.toml", text, strlen(text),
					  &program, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "t.toml:3: unknown key 'workers' in [python]");
	/* The reader's errors inside it. */
	text = "[python]\napp = a:b\n";
	assert_int_equal(rg__config_parse(&c, "t.toml", text, strlen(text),
					  &program, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "t.toml:2: "));
	text = "[python]\n[python]\n";
	assert_int_equal(rg__config_parse(&c, "t.toml", text, strlen(text),
					  &program, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "t.toml:2: table [python] defined twice");
	/* Without the table, [python] is unknown. */
	text = "[python]\napp = \"a:b\"\n";
	assert_int_equal(parse(&c, text), -EINVAL);
	assert_string_equal(err, "t.toml:1: unknown table [python]");
}

/* rg_server_create refuses a setting by name (what -t says). */
static void test_server_problems(void **state)
{
	(void)state;
	struct rg_server_config c;
	rg_server_config_init(&c);
	assert_null(rg_server_config_problem(&c));
	c.max_request_line = c.header_buffer_size + 1;
	assert_string_equal(rg_server_config_problem(&c),
			    "max_request_line exceeds header_buffer_size");
	errno = 0;
	assert_null(rg_server_create(&c));
	assert_int_equal(errno, EINVAL);
	rg_server_config_init(&c);
	c.connection_buffer_size = 4096;
	assert_string_equal(rg_server_config_problem(&c),
			    "connection_buffer_size is below 8 KiB");
	rg_server_config_init(&c);
	c.small_alloc_threshold = 2048;
	assert_string_equal(rg_server_config_problem(&c),
			    "small_alloc_threshold is outside 64 B - 1 KiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reference_file),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_comments_and_values),
	    cmocka_unit_test(test_listen),
	    cmocka_unit_test(test_unknown),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_wrong_type),
	    cmocka_unit_test(test_out_of_range),
	    cmocka_unit_test(test_bad_units),
	    cmocka_unit_test(test_bad_strings),
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_error_buffer),
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_program_table),
	    cmocka_unit_test(test_server_problems),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
