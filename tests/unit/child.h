/* child.h: death tests for the unit tests: run a function in a forked
 * child and collect how it ended and what it printed on stderr. Include
 * after <cmocka.h>. */
#ifndef RG_TESTS_CHILD_H
#define RG_TESTS_CHILD_H

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs fn(arg) in a child with its stderr sent to `err` (NUL-terminated);
 * returns the child's wait status. */
static inline int run_child(void (*fn)(void *), void *arg, char *err, size_t len)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		signal(SIGSEGV, SIG_DFL); /* not cmocka's or ASan's handler */
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	size_t n = 0;
	ssize_t r;
	char sink[4096];
	while ((r = read(fds[0], n < len - 1 ? err + n : sink,
			 n < len - 1 ? len - 1 - n : sizeof(sink))) > 0)
		if (n < len - 1)
			n += (size_t)r;
	err[n] = '\0';
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* A child body for use-after-free death tests: reads one byte at `p`. */
static inline void read_byte(void *p)
{
	volatile char *v = p;
	(void)v[0];
}

#endif /* RG_TESTS_CHILD_H */
