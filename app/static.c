/* static.c: GET /static/{file}: one regular file directly under --root,
 * read from disk on every request (no cache) and streamed in 16 KiB pieces,
 * with a Content-Type chosen by extension. */
#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATIC_PIECE (16 * 1024)

static const struct {
	const char *ext;
	const char *type;
} types[] = {
    {"html", "text/html"},
    {"css", "text/css"},
    {"js", "application/javascript"},
    {"json", "application/json"},
    {"svg", "image/svg+xml"},
    {"webp", "image/webp"},
    {"woff2", "font/woff2"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"ico", "image/x-icon"},
    {"txt", "text/plain"},
    {"wasm", "application/wasm"},
    {"webmanifest", "application/manifest+json"},
    {"xml", "application/xml"},
};

static const char *content_type(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (dot)
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcasecmp(dot + 1, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

/* The raw (not percent-decoded) segment must name a plain entry of the
 * root: no dot files (so no "." or ".."), no escapes, no separators. */
static int name_ok(struct rg_str s)
{
	if (s.len == 0 || s.ptr[0] == '.')
		return 0;
	for (size_t i = 0; i < s.len; i++)
		if (s.ptr[i] == '%' || s.ptr[i] == '\\' || s.ptr[i] == '/' ||
		    s.ptr[i] == '\0')
			return 0;
	return 1;
}

/* Streams fd's st_size bytes. Past rg_stream_begin nothing can be
 * answered any more: a read that falls short (the file shrank) ends the
 * body early, which makes the server close the connection. */
static void send_file(struct rg_request *req, int fd, const char *type,
		      off_t size)
{
	if (rg_stream_begin(req, 200, type, (int64_t)size) < 0)
		return;
	char piece[STATIC_PIECE];
	off_t off = 0;
	while (off < size) {
		size_t want = size - off < STATIC_PIECE ? (size_t)(size - off)
							: STATIC_PIECE;
		ssize_t n = pread(fd, piece, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if (rg_stream_write(req, piece, (size_t)n) < 0)
			return;
		off += n;
	}
	rg_stream_end(req);
}

void app_static(struct rg_request *req, void *data)
{
	const struct app *app = data;
	struct rg_str file = rg_param(req, "file");
	if (!name_ok(file)) {
		app_reply(req, 400, "bad file name\n");
		return;
	}
	char name[NAME_MAX + 1];
	if (app->root_fd < 0 || file.len > NAME_MAX) {
		app_reply(req, 404, "not found\n");
		return;
	}
	memcpy(name, file.ptr, file.len);
	name[file.len] = '\0';

	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	int fd = openat(app->root_fd, name,
			O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == EACCES)
			app_reply(req, 403, "forbidden\n");
		else if (errno == ENOENT || errno == ENOTDIR ||
			 errno == ELOOP || errno == ENAMETOOLONG)
			app_reply(req, 404, "not found\n");
		else
			app_reply(req, 500, "cannot open the file\n");
		return;
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		app_reply(req, 500, "cannot stat the file\n");
	else if (!S_ISREG(st.st_mode))
		app_reply(req, 404, "not found\n");
	else
		send_file(req, fd, content_type(name), st.st_size);
	close(fd);
}
