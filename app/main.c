/* main.c: the ringlet program's entry: reads the command line and the
 * configuration, answers -t, opens what every worker shares (the error
 * log, the dataset), then hands over to the master (master.c). */
#include "app.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* What -t (and every start) checks beyond the file's syntax: that a
 * server can be made of it, that the root and index can be served, that
 * the logs can be written. 0 or 1 with a message. What only a running
 * worker finds (memory_limit below what it reserves at start, io_uring
 * refused) stops the start with the worker's message instead. */
static int check(const struct settings *set)
{
	struct rg_server_config c = set->file.server;
	c.listen_fds = NULL;
	c.nlisten_fds = 0;
	struct rg_server *server = rg_server_create(&c);
	if (!server) {
		fprintf(stderr, "ringlet: %s: %s\n", set->name,
			errno == EINVAL ? "inconsistent server settings"
					: strerror(errno));
		return 1;
	}
	rg_server_destroy(server);
	struct rg_static_config files;
	rg_static_config_init(&files);
	files.root = set->file.root;
	files.index = set->file.index;
	struct rg_static *st = rg_static_create(&files);
	if (!st) {
		fprintf(
		    stderr, "ringlet: %s: root \"%s\" with index \"%s\": %s\n",
		    set->name, set->file.root,
		    set->file.index ? set->file.index : "", strerror(errno));
		return 1;
	}
	rg_static_destroy(st);
	const char *logs[] = {set->file.access_log, set->file.error_log};
	for (int i = 0; i < 2; i++) {
		int fd =
		    logs[i]
			? open(logs[i],
			       O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)
			: -2;
		if (fd == -1) {
			fprintf(stderr, "ringlet: %s: %s log \"%s\": %s\n",
				set->name, i ? "error" : "access", logs[i],
				strerror(errno));
			return 1;
		}
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cli cli;
	app_cli_parse(argc, argv, &cli);
	signal(SIGPIPE, SIG_IGN);

	static struct settings set;
	char err[512];
	if (app_settings_load(&set, &cli, err, sizeof(err)) < 0) {
		fprintf(stderr, "ringlet: %s\n", err);
		return 1;
	}
	int status = check(&set);
	if (cli.test_only || status) {
		if (!status)
			fprintf(stderr, "ringlet: configuration %s is ok\n",
				set.name);
		app_settings_free(&set);
		return status;
	}
	if (app_log_open(set.file.error_log, set.file.log_level) < 0) {
		fprintf(stderr, "ringlet: cannot open the error log %s: %s\n",
			set.file.error_log, strerror(errno));
		app_settings_free(&set);
		return 1;
	}

	struct app app = {0};
	struct dataset dataset;
	if (cli.data) {
		char why[256];
		if (dataset_load(&dataset, cli.data, why, sizeof(why)) < 0) {
			app_log(RG_LOG_ERROR, "cannot load --data %s: %s",
				cli.data, why);
			app_settings_free(&set);
			return 1;
		}
		app.dataset = &dataset;
	}

	status = app_master_run(&cli, &set, &app);

	if (cli.data)
		dataset_free(&dataset);
	app_settings_free(&set);
	app_log_close();
	return status;
}
