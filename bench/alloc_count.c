/* bench/alloc_count.c: counts a process's calls to the allocator (malloc,
 * calloc, realloc, free, the aligned family) and to mmap/munmap, for the
 * benchmark harness (bench/server.sh), which divides the calls made during
 * a window by the requests served in it.
 *
 * One source, two builds:
 *   cc -shared -fPIC -o alloc_count.so alloc_count.c -ldl   the LD_PRELOAD shim
 *   cc -DALLOC_COUNT_READER -o alloc_count alloc_count.c    the reader
 *
 * The counters live in a file shared by every process that loads the shim
 * (env ALLOC_COUNT_FILE; created if absent), mapped MAP_SHARED: each
 * process claims one slot of it keyed by its pid, and bumps the slot's
 * counters with relaxed atomics, so the threads of one process (h2o) add
 * up in one slot. `alloc_count FILE [PID...]` prints the slots at any
 * moment; run it before and after a window and subtract. No signal, no
 * thread and no timer is involved, so the shim cannot collide with a
 * server's own use of SIGUSR1/SIGUSR2 (nginx's master upgrades its binary
 * on SIGUSR2) and a reading is exact at the moment it is taken.
 *
 * A child made by fork() claims a fresh slot (pthread_atfork), so nginx's
 * worker counts apart from its master; a program run by exec claims one
 * when the shim loads again. Slots of processes that exited stay; when a
 * pid holds several slots (fork then exec), the last one is current.
 * Without ALLOC_COUNT_FILE the shim counts into a private slot nobody
 * reads, at the same cost.
 *
 * What is seen: calls made through the dynamic symbol table, which is
 * every call from the program and its libraries, glibc's own (strdup,
 * fopen, ...) included. Not seen: glibc malloc's internal mmap/munmap of
 * large blocks (it calls the syscall directly), and free(NULL), which does
 * nothing and is not counted. Calls made while dlsym resolves the real
 * functions are served from a static buffer and not counted. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define AC_MAGIC 0x31746e636f6c6c61ULL /* "allocnt1" */
#define AC_SLOTS 255

enum ac_counter {
	AC_MALLOC,
	AC_CALLOC,
	AC_REALLOC, /* realloc, reallocarray */
	AC_FREE,
	AC_MEMALIGN, /* posix_memalign, aligned_alloc, memalign, valloc, pvalloc
		      */
	AC_MMAP,     /* mmap, mmap64 */
	AC_MUNMAP,
	AC_BYTES, /* bytes asked of malloc, calloc, realloc and the aligned */
	AC_NCOUNTERS
};

/* One process's counters, on their own cache lines. */
struct ac_slot {
	_Atomic int32_t pid; /* 0 = free */
	int32_t ppid;
	_Atomic uint64_t count[AC_NCOUNTERS];
	char pad[128 - 8 - 8 * AC_NCOUNTERS];
};

struct ac_file {
	_Atomic uint64_t magic; /* AC_MAGIC once the layout is initialised */
	uint32_t nslots;
	uint32_t slot_size;
	char pad[128 - 16];
	struct ac_slot slot[AC_SLOTS];
};

_Static_assert(sizeof(struct ac_slot) == 128, "one slot, two cache lines");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2,
	       "counters shared between processes must be lock-free");

#ifndef ALLOC_COUNT_READER
/* ---------------------------------------------------------------------- *
 * The shim                                                               *
 * ---------------------------------------------------------------------- */
#include <errno.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define AC_EXPORT __attribute__((visibility("default")))

static struct ac_slot private_slot;
static struct ac_slot *self = &private_slot; /* set while single-threaded */
static struct ac_file *shared;

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void *(*real_reallocarray)(void *, size_t, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static void *(*real_mmap64)(void *, size_t, int, int, int, off64_t);
static int (*real_munmap)(void *, size_t);

static inline void count(enum ac_counter c, size_t bytes)
{
	struct ac_slot *s = self;
	atomic_fetch_add_explicit(&s->count[c], 1, memory_order_relaxed);
	if (bytes)
		atomic_fetch_add_explicit(&s->count[AC_BYTES], bytes,
					  memory_order_relaxed);
}

/* --- bootstrap: dlsym may call malloc or calloc before they resolve ---- */

static _Alignas(16) unsigned char boot_buf[16384];
static size_t boot_used;

/* Each block is preceded by 16 bytes holding its size, for realloc. */
static void *boot_alloc(size_t n)
{
	size_t need = 16 + ((n + 15) & ~(size_t)15);
	if (n > sizeof(boot_buf) || need > sizeof(boot_buf) - boot_used)
		return NULL;
	unsigned char *p = boot_buf + boot_used;
	boot_used += need;
	memcpy(p, &n, sizeof(n));
	return p + 16;
}

static int is_boot(const void *p)
{
	return (const unsigned char *)p >= boot_buf &&
	       (const unsigned char *)p < boot_buf + sizeof(boot_buf);
}

static size_t boot_size(const void *p)
{
	size_t n;
	memcpy(&n, (const unsigned char *)p - 16, sizeof(n));
	return n;
}

/* ISO C forbids converting void * to a function pointer; POSIX requires
 * dlsym's result to convert. A memcpy says so without a warning. */
#define RESOLVE(var, name)                                                     \
	do {                                                                   \
		void *sym_ = dlsym(RTLD_NEXT, name);                           \
		memcpy(&(var), &sym_, sizeof(var));                            \
	} while (0)

/* Called first from the constructor, or from the first intercepted call
 * if another library's constructor allocates before ours runs: in either
 * case before any thread exists. */
static void resolve(void)
{
	static int state; /* 0 unresolved, 1 resolving, 2 done */
	if (state)
		return;
	state = 1;
	RESOLVE(real_malloc, "malloc");
	RESOLVE(real_calloc, "calloc");
	RESOLVE(real_realloc, "realloc");
	RESOLVE(real_reallocarray, "reallocarray");
	RESOLVE(real_free, "free");
	RESOLVE(real_posix_memalign, "posix_memalign");
	RESOLVE(real_aligned_alloc, "aligned_alloc");
	RESOLVE(real_memalign, "memalign");
	RESOLVE(real_valloc, "valloc");
	RESOLVE(real_pvalloc, "pvalloc");
	RESOLVE(real_mmap, "mmap");
	RESOLVE(real_mmap64, "mmap64");
	RESOLVE(real_munmap, "munmap");
	state = 2;
}

/* --- the shared file ---------------------------------------------------- */

static void say(const char *msg)
{
	ssize_t rc = write(STDERR_FILENO, msg, strlen(msg));
	(void)rc;
}

/* Maps the counters file, creating and sizing it if needed. The mapping
 * goes through the syscall so that it is neither counted nor dependent on
 * resolve(). */
static struct ac_file *map_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) < 0 || (st.st_size < (off_t)sizeof(struct ac_file) &&
				   ftruncate(fd, sizeof(struct ac_file)) < 0)) {
		close(fd);
		return NULL;
	}
	long p = syscall(SYS_mmap, NULL, sizeof(struct ac_file),
			 PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == -1)
		return NULL;
	struct ac_file *f = (struct ac_file *)p;
	uint64_t zero = 0;
	if (atomic_compare_exchange_strong(&f->magic, &zero, AC_MAGIC)) {
		f->nslots = AC_SLOTS;
		f->slot_size = sizeof(struct ac_slot);
	} else if (zero != AC_MAGIC) {
		syscall(SYS_munmap, f, sizeof(struct ac_file));
		return NULL;
	}
	return f;
}

/* Points `self` at a fresh slot for this process (a free one in the shared
 * file, else the private one). Runs while the process has one thread. */
static void claim_slot(void)
{
	struct ac_slot *s = &private_slot;
	if (shared) {
		int32_t pid = (int32_t)getpid();
		size_t i;
		for (i = 0; i < AC_SLOTS; i++) {
			int32_t free_pid = 0;
			if (atomic_compare_exchange_strong(&shared->slot[i].pid,
							   &free_pid, pid))
				break;
		}
		if (i < AC_SLOTS) {
			s = &shared->slot[i];
			s->ppid = (int32_t)getppid();
		} else {
			say("alloc_count: all slots taken; this process "
			    "is not counted\n");
		}
	}
	for (size_t c = 0; c < AC_NCOUNTERS; c++)
		atomic_store_explicit(&s->count[c], 0, memory_order_relaxed);
	self = s;
}

static void after_fork(void)
{
	claim_slot();
}

__attribute__((constructor)) static void alloc_count_init(void)
{
	resolve();
	const char *path = getenv("ALLOC_COUNT_FILE");
	if (path && *path) {
		shared = map_file(path);
		if (!shared)
			say("alloc_count: cannot map ALLOC_COUNT_FILE; "
			    "counting privately\n");
	}
	claim_slot();
	pthread_atfork(NULL, NULL, after_fork);
}

/* --- the intercepted functions ---------------------------------------- */

AC_EXPORT void *malloc(size_t n)
{
	if (!real_malloc) {
		resolve();
		if (!real_malloc)
			return boot_alloc(n);
	}
	count(AC_MALLOC, n);
	return real_malloc(n);
}

AC_EXPORT void *calloc(size_t n, size_t size)
{
	if (!real_calloc) {
		resolve();
		if (!real_calloc) {
			size_t total;
			if (__builtin_mul_overflow(n, size, &total))
				return NULL;
			return boot_alloc(total); /* static: already zero */
		}
	}
	count(AC_CALLOC, n * size);
	return real_calloc(n, size);
}

AC_EXPORT void *realloc(void *p, size_t n)
{
	if (!real_realloc)
		resolve();
	/* A block from the bootstrap buffer moves to the real heap (or, while
	 * dlsym is still running, to another bootstrap block). */
	if (is_boot(p) || !real_realloc) {
		void *q = malloc(n);
		if (q && p) {
			size_t old = boot_size(p);
			memcpy(q, p, old < n ? old : n);
		}
		return q;
	}
	count(AC_REALLOC, n);
	return real_realloc(p, n);
}

AC_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if (is_boot(p))
		return realloc(p, total);
	if (!real_reallocarray)
		resolve();
	count(AC_REALLOC, total);
	return real_reallocarray(p, n, size);
}

AC_EXPORT void free(void *p)
{
	if (!p || is_boot(p))
		return;
	if (!real_free)
		resolve();
	count(AC_FREE, 0);
	real_free(p);
}

AC_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	if (!real_posix_memalign)
		resolve();
	count(AC_MEMALIGN, n);
	return real_posix_memalign(out, align, n);
}

AC_EXPORT void *aligned_alloc(size_t align, size_t n)
{
	if (!real_aligned_alloc)
		resolve();
	count(AC_MEMALIGN, n);
	return real_aligned_alloc(align, n);
}

AC_EXPORT void *memalign(size_t align, size_t n)
{
	if (!real_memalign)
		resolve();
	count(AC_MEMALIGN, n);
	return real_memalign(align, n);
}

AC_EXPORT void *valloc(size_t n)
{
	if (!real_valloc)
		resolve();
	count(AC_MEMALIGN, n);
	return real_valloc(n);
}

AC_EXPORT void *pvalloc(size_t n)
{
	if (!real_pvalloc)
		resolve();
	count(AC_MEMALIGN, n);
	return real_pvalloc(n);
}

AC_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		     off_t off)
{
	if (!real_mmap)
		resolve();
	count(AC_MMAP, 0);
	return real_mmap(addr, len, prot, flags, fd, off);
}

/* Programs built with _FILE_OFFSET_BITS=64 (nginx) call mmap64. */
AC_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
		       off64_t off)
{
	if (!real_mmap64)
		resolve();
	count(AC_MMAP, 0);
	return real_mmap64(addr, len, prot, flags, fd, off);
}

AC_EXPORT int munmap(void *addr, size_t len)
{
	if (!real_munmap)
		resolve();
	count(AC_MUNMAP, 0);
	return real_munmap(addr, len);
}

#else /* ALLOC_COUNT_READER */
/* ---------------------------------------------------------------------- *
 * The reader                                                             *
 * ---------------------------------------------------------------------- */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const ac_names[AC_NCOUNTERS] = {
    "malloc",	"calloc", "realloc", "free",
    "memalign", "mmap",	  "munmap",  "bytes",
};

static const char usage[] =
    "usage: alloc_count FILE [PID...]\n"
    "Prints the counters that processes run with LD_PRELOAD=alloc_count.so\n"
    "and ALLOC_COUNT_FILE=FILE have kept so far: a header line, then one\n"
    "line per process (every slot, or the current slot of each PID given,\n"
    "failing if one has none).\n";

static void print_slot(const struct ac_slot *s)
{
	printf("%d %d", (int)atomic_load(&s->pid), (int)s->ppid);
	for (size_t c = 0; c < AC_NCOUNTERS; c++)
		printf(" %llu", (unsigned long long)atomic_load_explicit(
				    &s->count[c], memory_order_relaxed));
	putchar('\n');
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "alloc_count: %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	if (st.st_size < (off_t)sizeof(struct ac_file)) {
		fprintf(stderr, "alloc_count: %s: not a counters file\n",
			argv[1]);
		return 1;
	}
	struct ac_file *f =
	    mmap(NULL, sizeof(*f), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (f == MAP_FAILED || atomic_load(&f->magic) != AC_MAGIC ||
	    f->nslots != AC_SLOTS || f->slot_size != sizeof(struct ac_slot)) {
		fprintf(stderr, "alloc_count: %s: not a counters file\n",
			argv[1]);
		return 1;
	}
	printf("pid ppid");
	for (size_t c = 0; c < AC_NCOUNTERS; c++)
		printf(" %s", ac_names[c]);
	putchar('\n');
	if (argc == 2) {
		for (size_t i = 0; i < AC_SLOTS; i++)
			if (atomic_load(&f->slot[i].pid))
				print_slot(&f->slot[i]);
		return 0;
	}
	int status = 0;
	for (int a = 2; a < argc; a++) {
		char *end;
		long pid = strtol(argv[a], &end, 10);
		const struct ac_slot *found = NULL;
		for (size_t i = 0; i < AC_SLOTS && *end == '\0'; i++)
			if (atomic_load(&f->slot[i].pid) == pid)
				found = &f->slot[i]; /* the last is current */
		if (found) {
			print_slot(found);
		} else {
			fprintf(stderr, "alloc_count: no counters for pid %s\n",
				argv[a]);
			status = 1;
		}
	}
	return status;
}
#endif
