/* check.h: how the fuzz targets report a broken invariant: a message on
 * stderr, then abort() so libFuzzer records the input. Define FUZZ_NAME
 * before including. */
#ifndef RG_TESTS_FUZZ_CHECK_H
#define RG_TESTS_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

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

#endif /* RG_TESTS_FUZZ_CHECK_H */
