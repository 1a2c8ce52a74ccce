/* mime.c: the Content-Type of a file by its extension, from one table. */
#include "static/static.h"

#include <string.h>
#include <strings.h>

#define UTF8 "; charset=utf-8"

static const struct {
	const char *ext;
	const char *type;
} types[] = {
    {"html", "text/html" UTF8},
    {"htm", "text/html" UTF8},
    {"css", "text/css" UTF8},
    {"js", "text/javascript" UTF8}, /* RFC 9239 */
    {"mjs", "text/javascript" UTF8},
    {"json", "application/json"}, /* UTF-8 by definition (RFC 8259) */
    {"map", "application/json"},
    {"webmanifest", "application/manifest+json"},
    {"xml", "application/xml"},
    {"txt", "text/plain" UTF8},
    {"md", "text/markdown" UTF8},
    {"csv", "text/csv" UTF8},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"woff2", "font/woff2"},
    {"woff", "font/woff"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
};

const char *rg__mime_type(const char *name, size_t len)
{
	size_t i = len;
	while (i > 0 && name[i - 1] != '.' && name[i - 1] != '/')
		i--;
	if (i > 0 && name[i - 1] == '.') {
		const char *ext = name + i;
		size_t n = len - i;
		for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++)
			if (strlen(types[k].ext) == n &&
			    !strncasecmp(ext, types[k].ext, n))
				return types[k].type;
	}
	return "application/octet-stream";
}
