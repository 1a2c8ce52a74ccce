/* guard.h: a buffer for unit tests that ends just before a PROT_NONE page,
 * so that touching one byte past what a function was given crashes the
 * test instead of passing it (picohttpparser's trick). Use guard_setup and
 * guard_teardown as the group's setup and teardown; define GUARD_SPAN
 * before including to change the span (default 128 KiB). */
#ifndef RG_TESTS_UNIT_GUARD_H
#define RG_TESTS_UNIT_GUARD_H

#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef GUARD_SPAN
#define GUARD_SPAN (128 * 1024)
#endif

static char *guard_base; /* GUARD_SPAN writable bytes, then the guard page */

static int guard_setup(void **state)
{
	(void)state;
	long page = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, GUARD_SPAN + (size_t)page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	if (mprotect(m + GUARD_SPAN, (size_t)page, PROT_NONE))
		return -1;
	guard_base = m;
	return 0;
}

static int guard_teardown(void **state)
{
	(void)state;
	munmap(guard_base, GUARD_SPAN + (size_t)sysconf(_SC_PAGESIZE));
	return 0;
}

/* The last `cap` bytes before the guard page (cap <= GUARD_SPAN). */
static inline char *guard_tail(size_t cap)
{
	return guard_base + GUARD_SPAN - cap;
}

#endif
