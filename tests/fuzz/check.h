/* check.h: what the fuzz targets share: how they report a broken
 * invariant (a message on stderr, then abort() so libFuzzer records the
 * input) and the exactly-sized copy of an input, so that ASan catches any
 * read past its end. Define FUZZ_NAME before including. */
#ifndef RG_TESTS_FUZZ_CHECK_H
#define RG_TESTS_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what)
{
	fprintf(stderr, FUZZ_NAME ": %s\n", what);
	abort();
}

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			fail("check failed: " #cond);                          \
	} while (0)

/* p[0, n) in a buffer of exactly n bytes (one when n is 0); free() it. */
static inline char *dup_exact(const void *p, size_t n)
{
	char *q = malloc(n ? n : 1);
	CHECK(q != NULL);
	if (n)
		memcpy(q, p, n);
	return q;
}

#endif /* RG_TESTS_FUZZ_CHECK_H */
