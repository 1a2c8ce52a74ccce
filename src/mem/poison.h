/* poison.h: debug poisoning of freed memory (pattern fill + ASan shadow). */
#ifndef RG_MEM_POISON_H
#define RG_MEM_POISON_H

#include <stddef.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define RG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RG_ASAN 1
#endif
#endif

#ifdef RG_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* The byte freed memory is filled with in debug builds: a pointer made of it
 * (0xa5a5a5a5a5a5a5a5) is non-canonical on x86-64 and aarch64, so a stale
 * pointer read from freed memory faults at once. */
#define RG_POISON_BYTE 0xa5

#if defined(RG_DEBUG) || defined(RG_ASAN)
#define RG_POISONING 1
#endif

/* Marks [p, p+n) as freed: filled with the pattern, and unaddressable under
 * ASan so that a use after reset or put is reported. */
static inline void rg__poison(void *p, size_t n)
{
#ifdef RG_ASAN
	/* Parts may be poisoned already (alignment padding): ASan checks the
	 * memset below. */
	ASAN_UNPOISON_MEMORY_REGION(p, n);
#endif
#ifdef RG_POISONING
	memset(p, RG_POISON_BYTE, n);
#endif
#ifdef RG_ASAN
	ASAN_POISON_MEMORY_REGION(p, n);
#endif
	(void)p;
	(void)n;
}

/* Marks [p, p+n) unaddressable under ASan without touching its bytes. */
static inline void rg__shadow_poison(void *p, size_t n)
{
#ifdef RG_ASAN
	ASAN_POISON_MEMORY_REGION(p, n);
#endif
	(void)p;
	(void)n;
}

/* Makes [p, p+n) addressable again before it is handed out. */
static inline void rg__unpoison(void *p, size_t n)
{
#ifdef RG_ASAN
	ASAN_UNPOISON_MEMORY_REGION(p, n);
#endif
	(void)p;
	(void)n;
}

#endif /* RG_MEM_POISON_H */
