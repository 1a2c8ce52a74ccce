/* hello.c: the smallest ringlet server: one route with a ":name" parameter
 * and an optional query parameter.
 *
 *   make build/examples/hello && build/examples/hello
 *   curl 'localhost:8080/hello/world?greeting=Hi'    ->  Hi, world!
 */
#include <ringlet.h>
#include <stdio.h>

static void hello(struct rg_request *req, void *data)
{
	(void)data;
	struct rg_str name = rg_param(req, "name");
	struct rg_str greeting = {"Hello", 5};
	rg_query_param(req, "greeting",
		       &greeting); /* keeps "Hello" if absent */
	char body[256];
	int n = snprintf(body, sizeof(body), "%.*s, %.*s!\n", (int)greeting.len,
			 greeting.ptr, (int)name.len, name.ptr);
	rg_respond(req, 200, "text/plain", body,
		   n < (int)sizeof(body) ? (size_t)n : sizeof(body) - 1);
}

int main(void)
{
	struct rg_server_config config;
	rg_server_config_init(&config); /* port 8080 on every address */
	struct rg_server *server = rg_server_create(&config);
	if (!server || rg_route(server, "GET", "/hello/:name", hello, NULL) < 0)
		return 1;
	return rg_server_run(server) < 0; /* until killed */
}
