/* settings.c: the ringlet program's command line: the configuration it
 * selects (an rg_config_source: the file given with -c or the embedded
 * default, and the flags applied on top of it at every reload), -t and
 * --data. */
#include "app.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "Usage: ringlet [-c FILE] [-t] [-p PORT] [-w WORKERS] [--root DIR]\n"
    "               [--host ADDR] [--io BACKEND] [--max-connections N]\n"
    "               [--data FILE] [--version] [--help]\n"
    "An HTTP/1.1 server: a master process and its workers, one\n"
    "configuration file (without -c, the embedded default: see\n"
    "docs/configuration.md). Runs in the foreground; logs go to the error\n"
    "log (standard error by default), nothing to standard output.\n"
    "\n"
    "  -c, --config FILE     read the configuration from FILE\n"
    "  -t, --test            check the configuration, then exit 0 or 1\n"
    "  -p, --port PORT       listen on PORT (0 = any) at every listen\n"
    "                        address of the configuration\n"
    "  -w, --workers N       worker processes (N or 'auto')\n"
    "      --root DIR        serve DIR under /static/\n"
    "      --host ADDR       listen on ADDR only (numeric IPv4 or IPv6)\n"
    "      --io BACKEND      auto, io_uring or epoll\n"
    "      --max-connections N  per worker\n"
    "      --data FILE       JSON dataset for /json/{count}\n"
    "  -h, --help            print this help and exit\n"
    "  -V, --version         print the version and exit\n"
    "\n"
    "Flags override the file, and keep doing so across reloads (SIGHUP).\n"
    "Signals: TERM/INT stop gracefully, QUIT at once, HUP reloads the\n"
    "configuration, USR1 reopens the logs.\n"
    "Exit status: 0 after a stop, 1 on a configuration or runtime error,\n"
    "2 on a usage error.\n";

static _Noreturn void usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ringlet: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'ringlet --help'.\n", stderr);
	exit(2);
}

static int64_t number_arg(const char *opt, const char *arg, int64_t min,
			  int64_t max)
{
	int64_t v;
	if (app_parse_i64((struct rg_str){arg, strlen(arg)}, &v) < 0 ||
	    v < min || v > max)
		usage_error("%s wants an integer in [%lld, %lld], not '%s'",
			    opt, (long long)min, (long long)max, arg);
	return v;
}

void app_cli_parse(int argc, char **argv, struct cli *o)
{
	enum { HOST = 256, IO, MAXCONN, DATA, ROOT };
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"test", no_argument, NULL, 't'},
	    {"port", required_argument, NULL, 'p'},
	    {"workers", required_argument, NULL, 'w'},
	    {"root", required_argument, NULL, ROOT},
	    {"host", required_argument, NULL, HOST},
	    {"io", required_argument, NULL, IO},
	    {"max-connections", required_argument, NULL, MAXCONN},
	    {"data", required_argument, NULL, DATA},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	*o = (struct cli){0};
	rg_config_source_init(&o->src, app_default_config);
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":c:tp:w:hV", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'c':
			o->src.path = optarg;
			break;
		case 't':
			o->test_only = true;
			break;
		case 'p':
			o->src.port = (int)number_arg("-p", optarg, 0, 65535);
			break;
		case 'w':
			o->src.workers =
			    !strcmp(optarg, "auto")
				? RG_WORKERS_AUTO
				: (unsigned)number_arg("-w", optarg, 1,
						       RG_MAX_WORKERS);
			break;
		case ROOT:
			o->src.root = optarg;
			break;
		case HOST: {
			unsigned char addr[16];
			if (inet_pton(AF_INET, optarg, addr) != 1 &&
			    inet_pton(AF_INET6, optarg, addr) != 1)
				usage_error("--host wants a numeric IPv4 or "
					    "IPv6 address, not '%s'",
					    optarg);
			o->src.host = optarg;
			break;
		}
		case IO:
			if (!strcmp(optarg, "auto"))
				o->src.io_backend = RG_IO_AUTO;
			else if (!strcmp(optarg, "io_uring"))
				o->src.io_backend = RG_IO_URING;
			else if (!strcmp(optarg, "epoll"))
				o->src.io_backend = RG_IO_EPOLL;
			else
				usage_error("--io wants auto, io_uring or "
					    "epoll, not '%s'",
					    optarg);
			break;
		case MAXCONN:
			o->src.max_connections = (uint32_t)number_arg(
			    "--max-connections", optarg, 1, 10000000);
			break;
		case DATA:
			o->data = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'V':
			printf("ringlet %s\n", RG_VERSION);
			exit(0);
		case ':':
			usage_error("%s wants a value", argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}
