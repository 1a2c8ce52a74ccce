/* respond.c: ns per response of the response writer on the hot case (200,
 * Server, Date, Content-Type, Content-Length, 13-byte body) and a few
 * others, against an snprintf writer of the same bytes in the same run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/response.h"

#define ROUNDS 1000000
#define TRIALS 31   /* the best trial counts: other processes share the CPU */
#define PIPELINE 16 /* responses appended per buffer before it is "sent" */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The peer: what a writer built on snprintf does for the hot case. */
static int snprintf_simple(struct rg__wbuf *b, const char *date,
			   const char *type, const char *body, size_t n)
{
	int r = snprintf(b->data + b->len, b->cap - b->len,
			 "HTTP/1.1 %d %s\r\nServer: ringlet\r\nDate: %s\r\n"
			 "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n%.*s",
			 200, "OK", date, type, n, (int)n, body);
	if (r < 0 || (size_t)r >= b->cap - b->len)
		return -1;
	b->len += (size_t)r;
	return 0;
}

enum which { HOT, HOT_SNPRINTF, CHUNKED, ERROR };

static double trial(enum which w, char *mem, size_t cap)
{
	static const char body[] = "Hello, World!";
	struct rg__date_cache dates = {0};
	struct rg__wbuf b = {mem, 0, cap};
	time_t t = time(NULL);
	double start = now_ns();

	for (long i = 0; i < ROUNDS; i++) {
		if (i % PIPELINE == 0)
			b.len = 0;
		/* the worker's clock ticks once per second; here every 2^20
		 * responses, so the cache refreshes now and then */
		const char *date = rg__date_get(&dates, t + (i >> 20));
		struct rg__response_head h = {
		    .status = 200,
		    .version_minor = 1,
		    .keep_alive = true,
		    .content_type = {"text/plain", 10},
		    .date = date,
		};
		int r = 0;
		switch (w) {
		case HOT:
			r = rg__response_simple(&b, &h, body, 13);
			break;
		case HOT_SNPRINTF:
			r = snprintf_simple(&b, date, "text/plain", body, 13);
			break;
		case CHUNKED:
			h.framing = RG__FRAMING_CHUNKED;
			r = rg__response_head(&b, &h);
			r |= rg__chunk_write(&b, body, 13);
			r |= rg__chunk_end(&b);
			break;
		case ERROR:
			r = rg__response_error(&b, 400, "bad request-target",
					       date);
			break;
		}
		if (r < 0) {
			fprintf(stderr, "respond: write failed: %d\n", r);
			exit(1);
		}
	}
	return (now_ns() - start) / ROUNDS;
}

static double run(enum which w, char *mem, size_t cap)
{
	double best = trial(w, mem, cap);

	for (int i = 1; i < TRIALS; i++) {
		double t = trial(w, mem, cap);
		if (t < best)
			best = t;
	}
	return best;
}

int main(void)
{
	static char mem[PIPELINE * 512];
	struct rg__date_cache dates = {0};
	const char *date = rg__date_get(&dates, time(NULL));
	struct rg__wbuf a = {mem, 0, 256}, b = {mem + 256, 0, 256};
	struct rg__response_head h = {.status = 200,
				      .version_minor = 1,
				      .keep_alive = true,
				      .content_type = {"text/plain", 10},
				      .date = date};

	if (rg__response_simple(&a, &h, "Hello, World!", 13) ||
	    snprintf_simple(&b, date, "text/plain", "Hello, World!", 13) ||
	    a.len != b.len || memcmp(a.data, b.data, a.len)) {
		fprintf(stderr, "respond: the two writers disagree\n");
		return 1;
	}

	double hot = run(HOT, mem, sizeof(mem));
	double peer = run(HOT_SNPRINTF, mem, sizeof(mem));
	double chunked = run(CHUNKED, mem, sizeof(mem));
	double error = run(ERROR, mem, sizeof(mem));

	printf("hot 200 + 13-byte body (%zu bytes)\n", a.len);
	printf("  ringlet   %6.1f ns/response\n", hot);
	printf("  snprintf  %6.1f ns/response  (ringlet is %.1fx faster)\n",
	       peer, peer / hot);
	printf("chunked head + 1 chunk + end  %6.1f ns\n", chunked);
	printf("400 error response            %6.1f ns\n", error);
	return 0;
}
