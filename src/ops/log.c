/* log.c: the error log (rg_log_*): where it goes (a file opened O_APPEND,
 * or standard error), the level filter, the nginx-style line and its one
 * write(2), reopening after rotation. State is per process: the master's
 * is inherited by the workers it forks. */
#include "ops/ops.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_OPEN_FLAGS (O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC)
/* A line, newline included, is at most this long: under PIPE_BUF, so one
 * write to a pipe (standard error under a supervisor) is atomic too. */
#define LOG_LINE_MAX 2048

static int log_fd = STDERR_FILENO;
static char *log_path; /* NULL: standard error */
static enum rg_log_level log_level = RG_LOG_INFO;
static volatile sig_atomic_t reopen_requested;

static const char *const level_names[] = {
    [RG_LOG_ERROR] = "error",
    [RG_LOG_WARN] = "warn",
    [RG_LOG_INFO] = "info",
    [RG_LOG_DEBUG] = "debug",
};

int rg_log_open(const char *path, enum rg_log_level level)
{
	int fd = STDERR_FILENO;
	char *copy = NULL;
	if (path) {
		copy = strdup(path);
		if (!copy)
			return -ENOMEM;
		fd = open(path, LOG_OPEN_FLAGS, 0644);
		if (fd < 0) {
			int err = errno;
			free(copy);
			errno = err;
			return -err;
		}
	}
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	free(log_path);
	log_fd = fd;
	log_path = copy;
	log_level = level > RG_LOG_DEBUG ? RG_LOG_DEBUG : level;
	return 0;
}

int rg_log_reopen(void)
{
	reopen_requested = 0;
	if (!log_path)
		return 0;
	int fd = open(log_path, LOG_OPEN_FLAGS, 0644);
	if (fd < 0) {
		int err = errno;
		rg_log(RG_LOG_ERROR,
		       "cannot reopen the error log %s: %s; still writing "
		       "to the file open before",
		       log_path, strerror(err));
		errno = err;
		return -err;
	}
	close(log_fd);
	log_fd = fd;
	return 0;
}

void rg__log_reopen_later(void)
{
	reopen_requested = 1;
}

void rg_log_close(void)
{
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
	free(log_path);
	log_path = NULL;
}

/* "2026/12/01 03:10:00 " in local time, as nginx's error log. */
static size_t put_time(char *p, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;
	if (!localtime_r(&now, &tm))
		return 0;
	size_t n = strftime(p, cap, "%Y/%m/%d %H:%M:%S ", &tm);
	return n;
}

/* Copies msg into p[0, cap) with control characters as \xHH; returns the
 * bytes written (cut at a whole character or escape). */
static size_t put_message(char *p, size_t cap, const char *msg)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *msg; msg++) {
		unsigned char ch = (unsigned char)*msg;
		if ((ch >= 0x20 && ch != 0x7f) || ch == '\t') {
			if (o + 1 > cap)
				break;
			p[o++] = (char)ch;
		} else {
			if (o + 4 > cap)
				break;
			p[o++] = '\\';
			p[o++] = 'x';
			p[o++] = hex[ch >> 4];
			p[o++] = hex[ch & 15];
		}
	}
	return o;
}

static void write_line(const char *line, size_t n)
{
	while (n) {
		ssize_t k = write(log_fd, line, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return; /* nowhere left to say so */
		line += k;
		n -= (size_t)k;
	}
}

void rg_log(enum rg_log_level level, const char *fmt, ...)
{
	int saved_errno = errno;
	if (reopen_requested)
		rg_log_reopen();
	if (level > log_level) {
		errno = saved_errno;
		return;
	}
	char msg[LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int mn = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (mn < 0)
		msg[0] = '\0';

	char line[LOG_LINE_MAX];
	size_t n = put_time(line, sizeof(line));
	unsigned lv = level <= RG_LOG_DEBUG ? (unsigned)level : RG_LOG_DEBUG;
	int k = snprintf(line + n, sizeof(line) - n,
			 "[%s] %ld#0: ", level_names[lv], (long)getpid());
	if (k > 0)
		n += (size_t)k;
	n += put_message(line + n, sizeof(line) - n - 1, msg);
	line[n++] = '\n';
	write_line(line, n);
	errno = saved_errno;
}

void rg_log_server(void *arg, int level, const char *msg)
{
	(void)arg;
	if (level < RG_LOG_ERROR)
		level = RG_LOG_ERROR;
	rg_log((enum rg_log_level)level, "%s", msg);
}
