/* log.h: the ringlet program's error log: nginx-style lines
 * ("2026/12/01 03:10:00 [error] 1234#0: message") appended to a file or
 * standard error, one write(2) per line, so that the lines of the master
 * and its workers never interleave; reopened after rotation (SIGUSR1). */
#ifndef RG_APP_LOG_H
#define RG_APP_LOG_H

#include "ringlet.h"

/* Sends later lines to `path` (opened O_APPEND, created 0644), or to
 * standard error when NULL, dropping those above `level` (error < warn <
 * info < debug). May be called again to change both. 0, or -errno (errno
 * set too) with the previous destination kept. Until the first call: standard
 * error, level info. */
int app_log_open(const char *path, enum rg_log_level level);

/* Writes one line at `level` (nothing above the configured level).
 * Control characters in the message are written as \xHH: a message is
 * one line whatever it quotes. Lines are cut at about 2 KiB. */
__attribute__((format(printf, 2, 3))) void app_log(enum rg_log_level level,
						   const char *fmt, ...);

/* Opens the path again (after rotation): 0, or -errno with the old file
 * kept (and the failure written to it). Nothing for standard error. */
int app_log_reopen(void);

/* Async-signal-safe: asks for app_log_reopen, done by the next app_log
 * call before it writes (a worker's server reports "reopening logs" from
 * its loop on rg_server_reopen_logs, so it happens at once there). */
void app_log_reopen_later(void);

/* rg_server_config.log: the library's messages into this log. */
void app_log_callback(void *arg, int level, const char *msg);

/* Closes the file (back to standard error) and frees the path. */
void app_log_close(void);

#endif
