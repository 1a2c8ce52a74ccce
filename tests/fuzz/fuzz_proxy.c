/* fuzz_proxy.c: libFuzzer target for the PROXY protocol reader,
 * rg__proxy_parse (http/proxy.c).
 *
 * Input: the first bytes of a connection, in an exactly-sized buffer; the
 * limit is 4096 bytes (the header buffer the server passes is larger).
 *
 * Checked: the result is -EPROTO, -EMSGSIZE, 0 (read more) or a length
 * within the input, and no longer than 107 bytes for a version 1 header
 * or the limit for version 2; an accepted header parses to the same
 * length and client from exactly its own bytes, and none of its prefixes
 * is accepted or refused (each asks for more); an input refused is
 * refused the same when cut anywhere past the first refused prefix; a
 * client is AF_INET, AF_INET6 or 0, and a version 1 one's address, as
 * inet_ntop writes it, is in the line. Any difference calls abort(). */
#include "http/proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_proxy"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX 4096

static int parse(const uint8_t *data, size_t n, struct rg__addr *c)
{
	char *b = dup_exact(data, n);
	int r = rg__proxy_parse(b, n, MAX, c);
	free(b);
	return r;
}

static void check_client(const uint8_t *data, int r, const struct rg__addr *c)
{
	CHECK(c->af == 0 || c->af == AF_INET || c->af == AF_INET6);
	if (data[0] != 'P' || !c->af)
		return;
	char text[INET6_ADDRSTRLEN + 2] = " ";
	CHECK(inet_ntop(c->af, c->addr, text + 1, INET6_ADDRSTRLEN));
	/* Version 1 writes it as the sender chose (IPv6 compressed or
	 * not), so only the IPv4 form is sure to appear as written. */
	if (c->af == AF_INET) {
		strcat(text, " ");
		char *line = dup_exact(data, (size_t)r);
		CHECK(memmem(line, (size_t)r, text, strlen(text)));
		free(line);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rg__addr c, c2;
	int r = parse(data, size, &c);
	CHECK(r == -EPROTO || r == -EMSGSIZE || r >= 0);
	CHECK(r <= (int)size && r <= MAX);
	if (r > 0) {
		CHECK(data[0] != 'P' || r <= RG__PROXY_V1_MAX);
		check_client(data, r, &c);
		CHECK(parse(data, (size_t)r, &c2) == r);
		CHECK(c2.af == c.af);
		if (c.af)
			CHECK(
			    c2.port == c.port &&
			    !memcmp(c2.addr, c.addr, c.af == AF_INET ? 4 : 16));
		for (size_t k = 0; k < (size_t)r; k++)
			CHECK(parse(data, k, &c2) == 0);
	} else if (r < 0) {
		size_t k = 0;
		while (k < size && parse(data, k, &c2) == 0)
			k++;
		for (; k <= size; k++)
			CHECK(parse(data, k, &c2) == r);
	}
	return 0;
}
