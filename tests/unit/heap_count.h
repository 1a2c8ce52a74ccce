/* heap_count.h: a unit test program's count of allocator calls: its
 * malloc family replaces the process's and counts the calls made on a
 * thread while `counting` is set, so that a test can assert that a path
 * makes none. Include it in one file of the program; under ASan
 * (NO_HEAP_COUNT, its reason) nothing is replaced and such tests skip. */
#ifndef RG_TESTS_UNIT_HEAP_COUNT_H
#define RG_TESTS_UNIT_HEAP_COUNT_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define NO_HEAP_COUNT "ASan owns malloc: its calls cannot be counted here"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_HEAP_COUNT "ASan owns malloc: its calls cannot be counted here"
#endif
#endif

/* volatile: the compiler takes malloc and free for calls that read no
 * variable of this program, and would drop a store made around them. */
static _Thread_local volatile bool counting;
static atomic_ulong heap_calls;

#ifndef NO_HEAP_COUNT
/* glibc's own entry points: this program's malloc family replaces the
 * process's (the library's calls and glibc's internal ones alike) and
 * forwards to them. */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

static inline void count_call(void)
{
	if (counting)
		atomic_fetch_add(&heap_calls, 1);
}

void *malloc(size_t n)
{
	count_call();
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	count_call();
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	count_call();
	return __libc_realloc(p, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	count_call();
	return __libc_memalign(align, n);
}

int posix_memalign(void **p, size_t align, size_t n)
{
	count_call();
	*p = __libc_memalign(align, n);
	return *p ? 0 : ENOMEM;
}

void free(void *p)
{
	if (p)
		count_call();
	__libc_free(p);
}
#endif

#endif
