/* main.c: the ringlet demo program's entry: the command line, the routes,
 * one server per worker process (forked when --workers > 1, all bound to
 * the same port through SO_REUSEPORT), and the signals that stop them. */
#include "app.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_WORKERS 1024
#define MAX_BODY_SIZE (64u << 20) /* /upload; buffering handlers cap less */

struct options {
	const char *host;
	uint16_t port;
	unsigned workers;
	const char *root;
	const char *data;
	enum rg_io_backend io;
	uint32_t max_connections; /* 0 = the library's default */
};

static const struct {
	const char *method;
	const char *pattern;
	rg_handler *handler;
} routes[] = {
    {"GET", "/plaintext", app_plaintext},
    {"GET", "/json", app_json_hello},
    {"GET", "/json/:count", app_json_items},
    {"GET", "/baseline11", app_baseline_get},
    {"POST", "/baseline11", app_baseline_post},
    {"GET", "/pipeline", app_pipeline},
    {"POST", "/upload", app_upload},
    {"GET", "/static/:file", app_static},
    {"GET", "/", app_root},
    {"OPTIONS", "/", app_root},
    {"POST", "/", app_root_echo},
    {"POST", "/echo", app_echo_headers},
    {"GET", "/stats", app_stats},
    {"GET", "/sleep", app_sleep},
    {"GET", "/upstream", app_upstream},
    {"GET", "/stream", app_stream},
};

static const char usage_text[] =
    "Usage: ringlet [OPTION]...\n"
    "The ringlet demo server: TechEmpower and HttpArena workloads,\n"
    "conformance endpoints, /static/FILE and /stats.\n"
    "\n"
    "  --port PORT          TCP port; 0 = any (default 8080)\n"
    "  --host ADDR          numeric IPv4/IPv6 address (default 0.0.0.0)\n"
    "  --workers N          processes sharing the port (default 1)\n"
    "  --root DIR           served under /static/ (default .)\n"
    "  --data FILE          JSON for /json/{count} (default none: 503)\n"
    "  --io BACKEND         auto, io_uring or epoll (default auto)\n"
    "  --max-connections N  per worker (default: the library's)\n"
    "  --help               print this help and exit\n"
    "  --version            print the version and exit\n";

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

static void parse_options(int argc, char **argv, struct options *o)
{
	enum {
		PORT = 1,
		HOST,
		WORKERS,
		ROOT,
		DATA,
		IO,
		MAXCONN,
		HELP,
		VERSION
	};
	static const struct option longopts[] = {
	    {"port", required_argument, NULL, PORT},
	    {"host", required_argument, NULL, HOST},
	    {"workers", required_argument, NULL, WORKERS},
	    {"root", required_argument, NULL, ROOT},
	    {"data", required_argument, NULL, DATA},
	    {"io", required_argument, NULL, IO},
	    {"max-connections", required_argument, NULL, MAXCONN},
	    {"help", no_argument, NULL, HELP},
	    {"version", no_argument, NULL, VERSION},
	    {NULL, 0, NULL, 0},
	};
	*o = (struct options){"0.0.0.0", 8080, 1, ".", NULL, RG_IO_AUTO, 0};
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case PORT:
			o->port =
			    (uint16_t)number_arg("--port", optarg, 0, 65535);
			break;
		case HOST: {
			unsigned char addr[16];
			if (inet_pton(AF_INET, optarg, addr) != 1 &&
			    inet_pton(AF_INET6, optarg, addr) != 1)
				usage_error("--host wants a numeric IPv4 or "
					    "IPv6 address, not '%s'",
					    optarg);
			o->host = optarg;
			break;
		}
		case WORKERS:
			o->workers = (unsigned)number_arg("--workers", optarg,
							  1, MAX_WORKERS);
			break;
		case ROOT:
			o->root = optarg;
			break;
		case DATA:
			o->data = optarg;
			break;
		case IO:
			if (!strcmp(optarg, "auto"))
				o->io = RG_IO_AUTO;
			else if (!strcmp(optarg, "io_uring"))
				o->io = RG_IO_URING;
			else if (!strcmp(optarg, "epoll"))
				o->io = RG_IO_EPOLL;
			else
				usage_error("--io wants auto, io_uring or "
					    "epoll, not '%s'",
					    optarg);
			break;
		case MAXCONN:
			o->max_connections = (uint32_t)number_arg(
			    "--max-connections", optarg, 1, UINT32_MAX);
			break;
		case HELP:
			fputs(usage_text, stdout);
			exit(0);
		case VERSION:
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
	if (o->port == 0 && o->workers > 1)
		usage_error("--port 0 would give each worker its own port; "
			    "use --workers 1");
}

/* --- one worker: a server in this process ----------------------------- */

/* The running server, for the signal handler; NULL outside rg_server_run.
 * A lock-free atomic is one of the few objects a handler may read. */
static _Atomic(struct rg_server *) running;
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	struct rg_server *server = atomic_load(&running);
	if (server)
		rg_server_stop(server); /* async-signal-safe */
}

static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGCHLD);
}

static void print_address(const char *what, const struct options *o,
			  uint16_t port, int err)
{
	int v6 = strchr(o->host, ':') != NULL;
	fprintf(stderr, "ringlet: %s %s%s%s:%u%s%s\n", what, v6 ? "[" : "",
		o->host, v6 ? "]" : "", (unsigned)port, err ? ": " : "",
		err ? strerror(err) : "");
}

/* Runs one server until SIGINT or SIGTERM. Called with the stop signals
 * blocked, so one sent early waits for the handler. Returns the exit
 * status: 0 after a clean stop, 1 if the server could not run. */
static int serve(const struct options *o, struct app *app, int announce)
{
	struct rg_server_config config;
	rg_server_config_init(&config);
	config.host = o->host;
	config.port = o->port;
	config.io_backend = o->io;
	config.max_body_size = MAX_BODY_SIZE;
	config.reuse_port = o->workers > 1;
	if (o->max_connections)
		config.max_connections = o->max_connections;

	struct rg_server *server = rg_server_create(&config);
	if (!server) {
		fprintf(stderr, "ringlet: cannot create the server: %s\n",
			strerror(errno));
		return 1;
	}
	app->server = server;
	int status = 1, rc;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		rc = rg_route(server, routes[i].method, routes[i].pattern,
			      routes[i].handler, app);
		if (rc < 0) {
			fprintf(stderr, "ringlet: cannot route %s %s: %s\n",
				routes[i].method, routes[i].pattern,
				strerror(-rc));
			goto out;
		}
	}
	rc = rg_server_listen(server);
	if (rc < 0) {
		print_address("cannot listen on", o, o->port, -rc);
		goto out;
	}
	if (announce)
		print_address("listening on", o, rg_server_port(server), 0);

	atomic_store(&running, server);
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigset_t set;
	stop_signals(&set);
	sigprocmask(SIG_UNBLOCK, &set, NULL);

	rc = stop_requested ? 0 : rg_server_run(server);

	sigprocmask(SIG_BLOCK, &set, NULL);
	atomic_store(&running, NULL);
	if (rc < 0)
		fprintf(stderr, "ringlet: the server failed: %s\n",
			strerror(-rc));
	else
		status = 0;
out:
	rg_server_destroy(server);
	app->server = NULL;
	return status;
}

/* --- several workers: forked, supervised ------------------------------ */

static void forward(const pid_t *pids, unsigned n, int sig)
{
	for (unsigned i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], sig);
}

static void on_child(int sig)
{
	(void)sig; /* only there so SIGCHLD is not ignored: sigwaitinfo */
}

/* Forks the workers, then waits with every signal it cares about blocked
 * and taken synchronously (sigwaitinfo), so there is no handler racing
 * waitpid: SIGINT and SIGTERM are forwarded to the workers; a worker that
 * fails makes the others stop too. 0 if every worker exited 0. */
static int supervise(const struct options *o, struct app *app)
{
	static pid_t pids[MAX_WORKERS];
	unsigned forked = 0, live = 0;
	int failed = 0, stopping = 0;
	pid_t parent = getpid();

	struct sigaction sa = {.sa_handler = on_child};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);

	for (; forked < o->workers; forked++) {
		pid_t pid = fork();
		if (pid == 0) {
			/* The worker stops if the supervisor dies, even by
			 * SIGKILL, instead of serving on unsupervised. */
			if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 ||
			    getppid() != parent)
				_exit(1);
			signal(SIGCHLD, SIG_DFL);
			exit(serve(o, app, forked == 0));
		}
		if (pid < 0) {
			fprintf(stderr, "ringlet: cannot fork: %s\n",
				strerror(errno));
			failed = stopping = 1;
			forward(pids, forked, SIGTERM);
			break;
		}
		pids[forked] = pid;
		live++;
	}

	sigset_t set;
	stop_signals(&set);
	while (live > 0) {
		int sig = sigwaitinfo(&set, NULL);
		if (sig == SIGINT || sig == SIGTERM) {
			stopping = 1;
			forward(pids, forked, sig);
			continue;
		}
		if (sig != SIGCHLD)
			continue; /* EINTR */
		int st;
		pid_t pid;
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			unsigned i = 0;
			while (i < forked && pids[i] != pid)
				i++;
			if (i == forked)
				continue;
			pids[i] = 0;
			live--;
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
				continue;
			failed = 1;
			if (WIFSIGNALED(st))
				fprintf(stderr,
					"ringlet: worker %d killed by "
					"signal %d\n",
					(int)pid, WTERMSIG(st));
			else
				fprintf(stderr,
					"ringlet: worker %d exited with "
					"status %d\n",
					(int)pid, WEXITSTATUS(st));
			if (!stopping) {
				stopping = 1;
				forward(pids, forked, SIGTERM);
			}
		}
	}
	return failed;
}

int main(int argc, char **argv)
{
	struct options o;
	parse_options(argc, argv, &o);

	/* Held until each server's handler is in place; see serve(). */
	sigset_t set;
	stop_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct app app = {.root_fd = -1};
	app.root_fd = open(o.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (app.root_fd < 0) {
		fprintf(stderr, "ringlet: cannot open --root %s: %s\n", o.root,
			strerror(errno));
		return 2;
	}
	struct dataset dataset;
	if (o.data) {
		char why[256];
		int rc = dataset_load(&dataset, o.data, why, sizeof(why));
		if (rc < 0) {
			fprintf(stderr, "ringlet: cannot load --data %s: %s\n",
				o.data, why);
			close(app.root_fd);
			return 2;
		}
		app.dataset = &dataset;
	}

	int status = o.workers == 1 ? serve(&o, &app, 1) : supervise(&o, &app);

	if (o.data)
		dataset_free(&dataset);
	close(app.root_fd);
	return status;
}
