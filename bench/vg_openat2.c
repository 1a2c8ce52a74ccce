/* bench/vg_openat2.c: lets ringlet's demo start under valgrind 3.19
 * (Debian 12's), which does not know openat2(2) (syscall 437, added to
 * valgrind in 3.20) and fails it with ENOSYS: the demo refuses to start
 * rather than serve its static root without RESOLVE_BENEATH
 * (src/static/static.c). LD_PRELOADed by bench/instructions.sh into the
 * server it runs under callgrind, it answers syscall(SYS_openat2, ...)
 * with openat(2) and the same flags and mode, RESOLVE_* ignored; every
 * other syscall(2) goes to libc's.
 *
 * Only for that measurement: without RESOLVE_BENEATH a request for
 * /static/../x would escape the root. bench/instructions.sh sends
 * nothing but GET /plaintext, on loopback, to a server it started. The
 * request path never calls syscall(2), so the shim costs the figures
 * nothing per request (and its start-up cost cancels in the difference). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

long syscall(long number, ...)
{
	static long (*next)(long, ...);
	va_list ap;
	long a[6];
	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (number == SYS_openat2) {
		const struct open_how *how = (const struct open_how *)a[2];
		if (!how || (size_t)a[3] < sizeof(*how)) {
			errno = how ? EINVAL : EFAULT;
			return -1;
		}
		return openat((int)a[0], (const char *)a[1], (int)how->flags,
			      (mode_t)how->mode);
	}
	if (!next &&
	    !(next = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall"))) {
		errno = ENOSYS;
		return -1;
	}
	return next(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
