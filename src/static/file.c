/* file.c: opening a file beneath the static root (openat2 RESOLVE_BENEATH:
 * no "..", absolute path or symbolic link leads out), a directory's index,
 * its precompressed siblings, their validators; and telling whether they
 * changed on disk since. */
#include "static/static.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const suffix[RG__VAR_COUNT] = {"", ".br", ".gz"};
static const char *const etag_suffix[RG__VAR_COUNT] = {"", "-br", "-gz"};

/* A file descriptor beneath the root, or -errno. O_NONBLOCK: opening a
 * FIFO must not wait for a writer (it is refused after fstat). */
static int open_beneath(int root, const char *path)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, root, path, &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}

static int status_of(int err)
{
	switch (err) {
	case -ENOENT:
	case -ENOTDIR:
	case -EXDEV: /* would leave the root */
	case -ELOOP:
	case -ENAMETOOLONG:
	case -ENXIO:
		return 404;
	case -EACCES:
	case -EPERM:
		return 403;
	case -EMFILE:
	case -ENFILE:
	case -ENOMEM:
		return 503;
	default:
		return 500;
	}
}

static void set_variant(struct rg__static_variant *v, int fd,
			const struct stat *st, int kind)
{
	v->fd = fd;
	v->size = (uint64_t)st->st_size;
	v->mtime = (int64_t)st->st_mtim.tv_sec;
	v->mtime_ns = (int64_t)st->st_mtim.tv_nsec;
	v->dev = (uint64_t)st->st_dev;
	v->ino = (uint64_t)st->st_ino;
	/* nginx's form, "<mtime hex>-<size hex>", and the coding: siblings
	 * of the same size and time still differ. */
	int n = snprintf(v->etag, sizeof(v->etag), "\"%llx-%llx%s\"",
			 (unsigned long long)v->mtime,
			 (unsigned long long)v->size, etag_suffix[kind]);
	v->etag_len = (uint8_t)n;
}

/* Whether a sibling with stat `st` may stand for the file: any regular
 * file. Not compared by age: a checkout or a copy writes siblings in any
 * order, and nginx's gzip_static does not compare either. */
static bool sibling_ok(const struct stat *st)
{
	return S_ISREG(st->st_mode);
}

void rg__static_file_close(struct rg__static_file *f)
{
	for (int i = 0; i < RG__VAR_COUNT; i++) {
		if (f->var[i].fd >= 0)
			close(f->var[i].fd);
		f->var[i].fd = -1;
	}
}

/* Opens path[0, len) and checks it is a regular file: 0 with *fd and *st,
 * or a status. */
static int open_regular(int root, const char *path, int *fd, struct stat *st,
			bool *dir)
{
	int r = open_beneath(root, path);
	if (r < 0)
		return status_of(r);
	if (fstat(r, st) < 0) {
		int err = -errno;
		close(r);
		return status_of(err);
	}
	*dir = S_ISDIR(st->st_mode);
	if (!S_ISREG(st->st_mode)) {
		close(r);
		return 404; /* directories are the caller's business */
	}
	*fd = r;
	return 0;
}

int rg__static_open(const struct rg_static *st, char *path, size_t len,
		    struct rg__static_file *f)
{
	for (int i = 0; i < RG__VAR_COUNT; i++)
		f->var[i].fd = -1;
	f->index = false;
	struct stat sb;
	bool dir = false;
	int fd = -1;
	/* An empty path is the root itself. */
	int status =
	    open_regular(st->root_fd, len ? path : ".", &fd, &sb, &dir);
	size_t name_len = len;
	if (status && dir) {
		if (!st->index_len)
			return 404;
		if (len && path[len - 1] != '/')
			return 301; /* "dir" -> "dir/", as nginx does */
		memcpy(path + len, st->index, st->index_len + 1);
		name_len = len + st->index_len;
		status = open_regular(st->root_fd, path, &fd, &sb, &dir);
		f->index = true;
		if (status && dir)
			status = 404;
	}
	if (status) {
		path[len] = '\0';
		return status;
	}
	set_variant(&f->var[RG__VAR_IDENTITY], fd, &sb, RG__VAR_IDENTITY);
	f->type = rg__mime_type(path, name_len);
	for (int i = RG__VAR_BR; st->precompressed && i < RG__VAR_COUNT; i++) {
		memcpy(path + name_len, suffix[i], 4);
		int s = open_beneath(st->root_fd, path);
		if (s < 0)
			continue;
		if (fstat(s, &sb) < 0 || !sibling_ok(&sb)) {
			close(s);
			continue;
		}
		set_variant(&f->var[i], s, &sb, i);
	}
	path[len] = '\0';
	return 0;
}

/* Whether the file at `path` (beneath the root or not: only compared,
 * never served; a change makes the caller open it again through
 * rg__static_open) differs from `v`. */
static bool variant_changed(int root, const char *path,
			    const struct rg__static_variant *v)
{
	struct stat sb;
	bool there = fstatat(root, path, &sb, 0) == 0;
	if (v->fd < 0)
		return there && sibling_ok(&sb);
	return !there || !S_ISREG(sb.st_mode) ||
	       (uint64_t)sb.st_ino != v->ino || (uint64_t)sb.st_dev != v->dev ||
	       (uint64_t)sb.st_size != v->size ||
	       (int64_t)sb.st_mtim.tv_sec != v->mtime ||
	       (int64_t)sb.st_mtim.tv_nsec != v->mtime_ns;
}

bool rg__static_changed(const struct rg_static *st, char *path, size_t len,
			const struct rg__static_file *f)
{
	size_t name_len = len;
	if (f->index) {
		memcpy(path + len, st->index, st->index_len + 1);
		name_len += st->index_len;
	}
	bool changed =
	    variant_changed(st->root_fd, path, &f->var[RG__VAR_IDENTITY]);
	for (int i = RG__VAR_BR;
	     !changed && st->precompressed && i < RG__VAR_COUNT; i++) {
		memcpy(path + name_len, suffix[i], 4);
		changed = variant_changed(st->root_fd, path, &f->var[i]);
	}
	path[len] = '\0';
	return changed;
}
