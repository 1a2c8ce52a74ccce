/* fuzz_chunked.c: libFuzzer target for the chunked body decoder alone.
 *
 * Input: the body bytes (what follows a head with Transfer-Encoding:
 * chunked), then a 3-byte trailer: a flags byte (bit 0: a body limit of 64
 * bytes, so that 413 is reachable) and a little-endian 16-bit cut point.
 *
 * The body is decoded in place three ways: in one piece; cut in two, each
 * piece in its own exactly-sized buffer; and a byte at a time. All three
 * must consume the same bytes, end (or fail) the same way, and leave the
 * same decoded data. Any difference or broken invariant calls abort(). */
#include "http/parser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_chunked"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	ssize_t rc; /* bytes consumed in all, or the error */
	bool done;
	char *data; /* decoded bytes, gathered */
	size_t data_len;
	uint64_t total;
};

/* One call of the decoder on `piece`, with the invariants of the contract;
 * appends the decoded bytes to run->data. Returns false when the run is
 * over (error or end of body). */
static bool feed(struct rg__chunked *d, struct run *r, const char *in, size_t n)
{
	/* A single byte goes on the stack (ASan guards it as well) to spare
	 * a malloc per byte. */
	char byte[1];
	char *piece = n == 1 ? byte : dup_exact(in, n);
	if (n == 1)
		byte[0] = in[0];
	size_t data = 0;
	bool done = false;
	uint64_t before = d->total;
	ssize_t rc = rg__chunked_decode(d, piece, n, &data, &done);
	if (rc < 0) {
		CHECK(-rc > RG__E_NONE && -rc < RG__E_COUNT);
		int status = rg__http_error_status((int)-rc);
		CHECK(status == 400 || status == 413 || status == 431 ||
		      status == 501);
		r->rc = rc;
		if (piece != byte)
			free(piece);
		return false;
	}
	CHECK((size_t)rc <= n);
	CHECK(data <= (size_t)rc);
	CHECK(done || (size_t)rc == n);
	CHECK(d->total - before == data);
	CHECK(d->max_body == 0 || d->total <= d->max_body);
	memcpy(r->data + r->data_len, piece, data);
	r->data_len += data;
	r->rc += rc;
	r->done = done;
	if (piece != byte)
		free(piece);
	return !done;
}

static void run_pieces(struct run *r, const char *in, size_t len,
		       uint64_t max_body, size_t cut, bool bytewise)
{
	struct rg__chunked d;
	rg__chunked_init(&d, max_body);
	*r = (struct run){.data = malloc(len ? len : 1)};
	CHECK(r->data != NULL);
	if (bytewise) {
		for (size_t i = 0; i < len; i++)
			if (!feed(&d, r, in + i, 1))
				break;
	} else if (feed(&d, r, in, cut) && cut < len) {
		feed(&d, r, in + cut, len - cut);
	}
	r->total = d.total;
}

static void check_same(const struct run *a, const struct run *b,
		       const char *how)
{
	if (a->rc != b->rc || a->done != b->done ||
	    (a->rc >= 0 &&
	     (a->data_len != b->data_len ||
	      memcmp(a->data, b->data, a->data_len) || a->total != b->total))) {
		fprintf(
		    stderr,
		    "fuzz_chunked: %s: rc %zd/%zd done %d/%d data %zu/%zu\n",
		    how, a->rc, b->rc, a->done, b->done, a->data_len,
		    b->data_len);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	size_t len = size - 3;
	uint64_t max_body = data[len] & 1 ? 64 : 0;
	size_t cut = (size_t)(data[len + 1] | data[len + 2] << 8);
	cut = cut % (len + 1);
	const char *in = (const char *)data;

	struct run one, two, bytes;
	run_pieces(&one, in, len, max_body, len, false);
	run_pieces(&two, in, len, max_body, cut, false);
	run_pieces(&bytes, in, len, max_body, 0, true);
	check_same(&one, &two, "cut in two");
	check_same(&one, &bytes, "a byte at a time");
	free(one.data);
	free(two.data);
	free(bytes.data);
	return 0;
}
