/* main.c: the ringlet program's entry: reads the command line and the
 * configuration, answers -t, opens what every worker shares (the error
 * log, the dataset), then hands over to the library's master with the
 * demo's worker (worker.c). */
#include "app.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct cli cli;
	app_cli_parse(argc, argv, &cli);
	signal(SIGPIPE, SIG_IGN);

	struct rg_config config;
	char err[512];
	if (rg_config_load(&config, &cli.src, err, sizeof(err)) < 0 ||
	    rg_config_check(&config, err, sizeof(err)) < 0) {
		fprintf(stderr, "ringlet: %s\n", err);
		rg_config_free(&config);
		return 1;
	}
	if (cli.test_only) {
		fprintf(stderr, "ringlet: configuration %s is ok\n",
			config.name);
		rg_config_free(&config);
		return 0;
	}
	if (rg_log_open(config.error_log, config.log_level) < 0) {
		fprintf(stderr, "ringlet: cannot open the error log %s: %s\n",
			config.error_log, strerror(errno));
		rg_config_free(&config);
		return 1;
	}

	struct app app = {0};
	struct dataset dataset;
	if (cli.data) {
		char why[256];
		if (dataset_load(&dataset, cli.data, why, sizeof(why)) < 0) {
			rg_log(RG_LOG_ERROR, "cannot load --data %s: %s",
			       cli.data, why);
			rg_config_free(&config);
			return 1;
		}
		app.dataset = &dataset;
	}

	int status = rg_master_run(&config, &cli.src, app_worker, &app);

	if (cli.data)
		dataset_free(&dataset);
	rg_log_close();
	return status;
}
