/* bench/alloc.c: ringlet's arena, pool and slab against glibc malloc,
 * jemalloc and mimalloc on one request-shaped workload, 1 and 2 threads.
 *
 * A request makes 20-40 allocations of 16-512 bytes (sizes from a fixed-seed
 * PRNG, precomputed so the PRNG is not timed), writes a byte into each, then
 * frees everything (or resets the arena). jemalloc and mimalloc are loaded
 * with dlopen(RTLD_LOCAL) so glibc's malloc stays the process allocator.
 * Each figure is the best of 5 repetitions; with 2 threads each thread has
 * its own arena/pool/slab and the figure is the mean per-thread time. */
#include "ringlet.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NDISTINCT 1024 /* distinct requests, cycled through */
#define MIN_ALLOCS 20
#define MAX_ALLOCS 40
#define MIN_SIZE 16
#define MAX_SIZE 512
#define REQUESTS 200000 /* per repetition and thread */
#define REPS 5
#define MAX_THREADS 2
#define ARENA_BLOCK 8192

struct request {
	unsigned n;
	uint16_t size[MAX_ALLOCS];
};

static struct request requests[NDISTINCT];
static double allocs_per_request;

/* Per-thread state of one allocator. */
struct worker {
	void *(*malloc_fn)(size_t size);
	void (*free_fn)(void *p);
	struct rg_pool *pool;
	struct rg_arena *arena;
	struct rg_slab *slab;
	void *ptrs[MAX_ALLOCS];
};

struct allocator {
	const char *name;
	const char *skipped; /* why it cannot run, or NULL */
	void *(*malloc_fn)(size_t size);
	void (*free_fn)(void *p);
	int (*init)(struct worker *w, const struct allocator *a);
	void (*run)(struct worker *w, size_t nreq);
	void (*fini)(struct worker *w);
};

/* Keeps `p` (and the byte written through it) alive for the compiler. */
static inline void keep(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static void die(const char *what)
{
	fprintf(stderr, "bench/alloc: %s failed\n", what);
	exit(1);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void make_workload(void)
{
	uint64_t seed = 0x9e3779b97f4a7c15u;
	uint64_t total = 0;
	for (int r = 0; r < NDISTINCT; r++) {
		struct request *q = &requests[r];
		q->n = MIN_ALLOCS + (unsigned)(xorshift(&seed) %
					       (MAX_ALLOCS - MIN_ALLOCS + 1));
		for (unsigned i = 0; i < q->n; i++)
			q->size[i] = (uint16_t)(MIN_SIZE +
						xorshift(&seed) %
						    (MAX_SIZE - MIN_SIZE + 1));
		total += q->n;
	}
	allocs_per_request = (double)total / NDISTINCT;
}

/* --- heap allocators (glibc, jemalloc, mimalloc) ------------------------ */

static int heap_init(struct worker *w, const struct allocator *a)
{
	w->malloc_fn = a->malloc_fn;
	w->free_fn = a->free_fn;
	return 0;
}

static void heap_run(struct worker *w, size_t nreq)
{
	for (size_t r = 0; r < nreq; r++) {
		const struct request *q = &requests[r % NDISTINCT];
		for (unsigned i = 0; i < q->n; i++) {
			char *p = w->malloc_fn(q->size[i]);
			if (!p)
				die("malloc");
			p[0] = 1;
			keep(p);
			w->ptrs[i] = p;
		}
		for (unsigned i = 0; i < q->n; i++)
			w->free_fn(w->ptrs[i]);
	}
}

static void no_fini(struct worker *w)
{
	(void)w;
}

/* --- ringlet arena ------------------------------------------------------ */

static int arena_init(struct worker *w, const struct allocator *a)
{
	(void)a;
	struct rg_pool_config cfg = {.object_size = ARENA_BLOCK,
				     .initial = 16,
				     .grow_by = 16,
				     .max = 1024};
	w->pool = rg_pool_create(&cfg, NULL);
	if (!w->pool)
		return -1;
	w->arena = rg_arena_create(w->pool, NULL);
	return w->arena ? 0 : -1;
}

static void arena_run(struct worker *w, size_t nreq)
{
	for (size_t r = 0; r < nreq; r++) {
		const struct request *q = &requests[r % NDISTINCT];
		for (unsigned i = 0; i < q->n; i++) {
			char *p = rg_arena_alloc(w->arena, q->size[i]);
			if (!p)
				die("rg_arena_alloc");
			p[0] = 1;
			keep(p);
		}
		rg_arena_reset(w->arena);
	}
}

static void arena_fini(struct worker *w)
{
	rg_arena_destroy(w->arena);
	rg_pool_destroy(w->pool);
}

/* --- ringlet pool: every allocation is one 512-byte object -------------- */

static int pool_init(struct worker *w, const struct allocator *a)
{
	(void)a;
	struct rg_pool_config cfg = {.object_size = MAX_SIZE,
				     .initial = MAX_ALLOCS};
	w->pool = rg_pool_create(&cfg, NULL);
	return w->pool ? 0 : -1;
}

static void pool_run(struct worker *w, size_t nreq)
{
	for (size_t r = 0; r < nreq; r++) {
		const struct request *q = &requests[r % NDISTINCT];
		for (unsigned i = 0; i < q->n; i++) {
			char *p = rg_pool_get(w->pool);
			if (!p)
				die("rg_pool_get");
			p[0] = 1;
			keep(p);
			w->ptrs[i] = p;
		}
		for (unsigned i = 0; i < q->n; i++)
			rg_pool_put(w->pool, w->ptrs[i]);
	}
}

static void pool_fini(struct worker *w)
{
	rg_pool_destroy(w->pool);
}

/* --- ringlet slab (default classes 256, 1024, 8192) --------------------- */

static int slab_init(struct worker *w, const struct allocator *a)
{
	(void)a;
	struct rg_slab_config cfg = {.initial = MAX_ALLOCS};
	w->slab = rg_slab_create(&cfg, NULL);
	return w->slab ? 0 : -1;
}

static void slab_run(struct worker *w, size_t nreq)
{
	for (size_t r = 0; r < nreq; r++) {
		const struct request *q = &requests[r % NDISTINCT];
		for (unsigned i = 0; i < q->n; i++) {
			char *p = rg_slab_alloc(w->slab, q->size[i], NULL);
			if (!p)
				die("rg_slab_alloc");
			p[0] = 1;
			keep(p);
			w->ptrs[i] = p;
		}
		for (unsigned i = 0; i < q->n; i++)
			rg_slab_free(w->slab, w->ptrs[i], q->size[i]);
	}
}

static void slab_fini(struct worker *w)
{
	rg_slab_destroy(w->slab);
}

/* --- loading jemalloc and mimalloc -------------------------------------- */

static void load(struct allocator *a, const char *const *libs,
		 const char *malloc_name, const char *free_name)
{
	static char why[2][256];
	static int nwhy;
	void *handle = NULL;
	const char *err = NULL;
	for (; *libs && !handle; libs++) {
		handle = dlopen(*libs, RTLD_NOW | RTLD_LOCAL);
		if (!handle && !err)
			err = dlerror();
	}
	if (!handle) {
		if (!err || strstr(err, "No such file")) {
			a->skipped = "skipped (not installed)";
		} else {
			snprintf(why[nwhy], sizeof(why[nwhy]), "skipped (%s)",
				 err);
			a->skipped = why[nwhy++];
		}
		return;
	}
	a->malloc_fn = (void *(*)(size_t))dlsym(handle, malloc_name);
	a->free_fn = (void (*)(void *))dlsym(handle, free_name);
	/* With RTLD_LOCAL the library's own symbols come first; getting
	 * glibc's back would mean measuring glibc twice. */
	if (!a->malloc_fn || !a->free_fn || a->malloc_fn == malloc)
		a->skipped = "skipped (symbols not found)";
}

/* Debian's libjemalloc uses initial-exec TLS, which dlopen can only place in
 * the surplus static TLS glibc reserves at start-up (too little by default:
 * "cannot allocate memory in static TLS block"). Re-executes once with a
 * larger reserve; the process allocator is unchanged. */
static void reserve_static_tls(char **argv)
{
	static const char tunable[] = "glibc.rtld.optional_static_tls=16384";
	const char *old = getenv("GLIBC_TUNABLES");
	if (old && strstr(old, "glibc.rtld.optional_static_tls"))
		return;
	char value[1024];
	snprintf(value, sizeof(value), "%s%s%s", old ? old : "", old ? ":" : "",
		 tunable);
	if (setenv("GLIBC_TUNABLES", value, 1) == 0)
		execv("/proc/self/exe", argv);
	/* Still here: go on, the jemalloc row will say why it is missing. */
}

/* --- measuring ---------------------------------------------------------- */

struct thread_arg {
	const struct allocator *a;
	pthread_barrier_t *barrier;
	double ns[REPS];
	int failed;
};

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *thread_main(void *p)
{
	struct thread_arg *t = p;
	struct worker w;
	memset(&w, 0, sizeof(w));
	t->failed = t->a->init(&w, t->a) < 0;
	pthread_barrier_wait(t->barrier);
	if (t->failed)
		return NULL;
	t->a->run(&w, NDISTINCT); /* warm-up: caches, lazily mapped pages */
	for (int rep = 0; rep < REPS; rep++) {
		pthread_barrier_wait(t->barrier);
		double start = now_ns();
		t->a->run(&w, REQUESTS);
		t->ns[rep] = now_ns() - start;
	}
	t->a->fini(&w);
	return NULL;
}

/* Nanoseconds per request for one thread: best repetition of the mean over
 * the threads; negative on failure. */
static double measure(const struct allocator *a, int nthreads)
{
	pthread_barrier_t barrier;
	struct thread_arg args[MAX_THREADS];
	pthread_t tids[MAX_THREADS];
	pthread_barrier_init(&barrier, NULL, (unsigned)nthreads);
	for (int i = 0; i < nthreads; i++) {
		args[i] = (struct thread_arg){.a = a, .barrier = &barrier};
		if (pthread_create(&tids[i], NULL, thread_main, &args[i]))
			die("pthread_create");
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	pthread_barrier_destroy(&barrier);

	double best = -1;
	for (int i = 0; i < nthreads; i++)
		if (args[i].failed)
			return -1;
	for (int rep = 0; rep < REPS; rep++) {
		double sum = 0;
		for (int i = 0; i < nthreads; i++)
			sum += args[i].ns[rep];
		double mean = sum / nthreads / REQUESTS;
		if (best < 0 || mean < best)
			best = mean;
	}
	return best;
}

int main(int argc, char **argv)
{
	(void)argc;
	reserve_static_tls(argv);
	static const char *const jemalloc_libs[] = {"libjemalloc.so.2",
						    "libjemalloc.so", NULL};
	static const char *const mimalloc_libs[] = {"libmimalloc.so.2",
						    "libmimalloc.so", NULL};
	struct allocator allocators[] = {
	    {"ringlet arena", NULL, NULL, NULL, arena_init, arena_run,
	     arena_fini},
	    {"ringlet pool", NULL, NULL, NULL, pool_init, pool_run, pool_fini},
	    {"ringlet slab", NULL, NULL, NULL, slab_init, slab_run, slab_fini},
	    {"glibc malloc", NULL, malloc, free, heap_init, heap_run, no_fini},
	    {"jemalloc", NULL, NULL, NULL, heap_init, heap_run, no_fini},
	    {"mimalloc", NULL, NULL, NULL, heap_init, heap_run, no_fini},
	};
	enum { GLIBC = 3, N = sizeof(allocators) / sizeof(allocators[0]) };
	load(&allocators[4], jemalloc_libs, "malloc", "free");
	load(&allocators[5], mimalloc_libs, "mi_malloc", "mi_free");
	make_workload();

	double load[1];
	int have_load = getloadavg(load, 1) == 1;
	double ns[N][MAX_THREADS];
	for (int t = 0; t < MAX_THREADS; t++)
		for (int i = 0; i < N; i++)
			ns[i][t] = allocators[i].skipped
				       ? -1
				       : measure(&allocators[i], t + 1);

	printf("request: %d-%d allocations (mean %.1f) of %d-%d bytes, "
	       "touched, then freed or reset\n",
	       MIN_ALLOCS, MAX_ALLOCS, allocs_per_request, MIN_SIZE, MAX_SIZE);
	printf("best of %d x %d requests per thread; arena blocks %d bytes; "
	       "pool objects %d bytes\n",
	       REPS, REQUESTS, ARENA_BLOCK, MAX_SIZE);
	/* Two threads on a busy machine share cores with other work. */
	if (have_load)
		printf("load average before the run: %.2f on %ld CPUs\n",
		       load[0], sysconf(_SC_NPROCESSORS_ONLN));
	printf("\n");
	printf("%-14s %31s   %31s\n", "", "1 thread", "2 threads (per thread)");
	printf("%-14s", "allocator");
	for (int t = 0; t < MAX_THREADS; t++)
		printf(" %10s %11s %8s  ", "ns/alloc", "ns/request",
		       "vs glibc");
	printf("\n");
	for (int i = 0; i < N; i++) {
		printf("%-14s", allocators[i].name);
		if (allocators[i].skipped) {
			printf(" %s\n", allocators[i].skipped);
			continue;
		}
		for (int t = 0; t < MAX_THREADS; t++) {
			double x = ns[i][t], g = ns[GLIBC][t];
			if (x < 0) {
				printf(" %32s", "failed");
				continue;
			}
			printf(" %10.2f %11.1f %7.2fx  ",
			       x / allocs_per_request, x, g > 0 ? g / x : 0);
		}
		printf("\n");
	}
	return 0;
}
