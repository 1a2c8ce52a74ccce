/* config_source.c: a configuration as a program runs it: the file given
 * with -c (or the program's embedded default) read by core/config.c, the
 * command line's overrides applied on top (at start and at every reload),
 * "auto" workers resolved, and what -t checks beyond the syntax. */
#include "core/config.h"
#include "ops/ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void rg_config_source_init(struct rg_config_source *src, const char *embedded)
{
	*src = (struct rg_config_source){
	    .embedded = embedded, .port = -1, .io_backend = -1};
}

static void apply(struct rg_config *c, const struct rg_config_source *src)
{
	if (src->host) {
		c->listen[0] =
		    (struct rg_listen_addr){src->host, c->listen[0].port};
		c->nlisten = 1;
	}
	if (src->port >= 0)
		for (unsigned i = 0; i < c->nlisten; i++)
			c->listen[i].port = (uint16_t)src->port;
	if (src->root)
		c->root = src->root;
	if (src->io_backend >= 0)
		c->server.io_backend = (enum rg_io_backend)src->io_backend;
	if (src->max_connections)
		c->server.max_connections = src->max_connections;
	if (src->workers)
		c->workers = src->workers == RG_WORKERS_AUTO ? 0 : src->workers;
	if (!c->workers) { /* auto: one per CPU */
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		c->workers = n < 1		  ? 1
			     : n > RG_MAX_WORKERS ? RG_MAX_WORKERS
						  : (unsigned)n;
	}
}

int rg_config_load(struct rg_config *c, const struct rg_config_source *src,
		   char *err, size_t err_len)
{
	int rc;
	rg__config_init(c); /* so that rg_config_free is safe after a failure */
	if (src->path)
		rc = rg__config_load(c, src->path, src, err, err_len);
	else
		rc = rg__config_parse(c, "(embedded)", src->embedded,
				      strlen(src->embedded), src, err, err_len);
	if (rc < 0)
		return rc;
	c->name = src->path ? src->path : "(embedded)";
	apply(c, src);
	return 0;
}

int rg_config_check(const struct rg_config *c, char *err, size_t err_len)
{
	struct rg_server_config sc = c->server;
	sc.listen_fds = NULL;
	sc.nlisten_fds = 0;
	const char *problem = rg_server_config_problem(&sc);
	if (problem) {
		snprintf(err, err_len, "%s: %s", c->name, problem);
		return -EINVAL;
	}
	struct rg_server *server = rg_server_create(&sc);
	if (!server) {
		int e = errno;
		snprintf(err, err_len, "%s: %s", c->name, strerror(e));
		return -e;
	}
	rg_server_destroy(server);
	struct rg_static_config files;
	rg_static_config_init(&files);
	files.root = c->root;
	files.index = c->index;
	struct rg_static *st = rg_static_create(&files);
	if (!st) {
		int e = errno;
		snprintf(err, err_len, "%s: root \"%s\" with index \"%s\": %s",
			 c->name, c->root, c->index ? c->index : "",
			 strerror(e));
		return -e;
	}
	rg_static_destroy(st);
	const char *logs[] = {c->access_log, c->error_log};
	for (int i = 0; i < 2; i++) {
		if (!logs[i])
			continue;
		int fd = open(logs[i],
			      O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			int e = errno;
			snprintf(err, err_len, "%s: %s log \"%s\": %s", c->name,
				 i ? "error" : "access", logs[i], strerror(e));
			return -e;
		}
		close(fd);
	}
	return 0;
}
