/* log.h — structured JSON logging.
 *
 * One JSON object per line on stderr (diagnostics) and, for the access log,
 * on stdout. Lines are built in a local buffer and written with one write(2)
 * so concurrent threads never interleave within a line. Values passed as
 * key/value strings are JSON-escaped; never pass a secret. */
#ifndef BZ_LOG_H
#define BZ_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3, LOG_OFF = 4 };

/* log_set_level: lines below level are dropped. Thread-safe (atomic). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* log_parse_level: "debug|info|warn|error|off" -> level; -1 when unknown. */
int log_parse_level(const char *s);

/* log_msg: writes {"ts","level","msg":<formatted>} to stderr. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* log_kv: writes {"ts","level","msg", k1:v1, ...}; kv is a NULL-terminated
 * list of alternating key and value C strings (values may be NULL -> null). */
void log_kv(enum log_level level, const char *msg, ...) __attribute__((sentinel));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* log_access: one access-log line on stdout for a finished request. */
typedef struct log_access_rec {
    const char *method, *path, *request_id, *tenant_id, *remote;
    int status;
    uint64_t bytes, micros;
} log_access_rec_t;
void log_access(const log_access_rec_t *rec);
void log_set_access(bool on);

/* log_json_escape: appends s JSON-escaped (without quotes) into out;
 * returns bytes written (truncates safely at cap-1, always NUL-terminates). */
size_t log_json_escape(char *out, size_t cap, const char *s);

/* log_flush: flushes stdio buffers (called at shutdown). */
void log_flush(void);

#endif
