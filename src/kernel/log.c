/* log.c — JSON lines on stderr/stdout, one write(2) per line. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "str.h"

static _Atomic int g_level = LOG_INFO;
static _Atomic bool g_access = true;

void log_set_level(enum log_level level) { atomic_store(&g_level, (int)level); }
enum log_level log_get_level(void) { return (enum log_level)atomic_load(&g_level); }
void log_set_access(bool on) { atomic_store(&g_access, on); }

int log_parse_level(const char *s)
{
    static const char *names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

static const char *level_name(enum log_level l)
{
    switch (l) {
    case LOG_DEBUG: return "debug";
    case LOG_INFO: return "info";
    case LOG_WARN: return "warn";
    case LOG_ERROR: return "error";
    default: return "off";
    }
}

static void escape_into(buf_t *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            buf_append(b, e, 2);
        } else if (c < 0x20 || c == 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_append(b, e, 6);
        } else {
            buf_append(b, p, 1);
        }
    }
}

size_t log_json_escape(char *out, size_t cap, const char *s)
{
    buf_t b;
    buf_init(&b);
    escape_into(&b, s);
    size_t n = b.n < cap ? b.n : (cap ? cap - 1 : 0);
    if (cap) {
        memcpy(out, b.p, n);
        out[n] = '\0';
    }
    buf_cleanup(&b);
    return n;
}

static void begin_line(buf_t *b, enum log_level level)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char t[40];
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
    buf_printf(b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\"", t, ts.tv_nsec / 1000000, level_name(level));
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if ((int)level < atomic_load(&g_level)) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap); /* truncation of a log line is acceptable */
    va_end(ap);
    buf_t b;
    buf_init(&b);
    begin_line(&b, level);
    buf_append_str(&b, ",\"msg\":\"");
    escape_into(&b, msg);
    buf_append_str(&b, "\"}\n");
    write_all(2, b.p, b.n);
    buf_cleanup(&b);
}

void log_kv(enum log_level level, const char *msg, ...)
{
    if ((int)level < atomic_load(&g_level)) return;
    buf_t b;
    buf_init(&b);
    begin_line(&b, level);
    buf_append_str(&b, ",\"msg\":\"");
    escape_into(&b, msg);
    buf_append_str(&b, "\"");
    va_list ap;
    va_start(ap, msg);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        buf_append_str(&b, ",\"");
        escape_into(&b, k);
        if (v) {
            buf_append_str(&b, "\":\"");
            escape_into(&b, v);
            buf_append_str(&b, "\"");
        } else {
            buf_append_str(&b, "\":null");
        }
    }
    va_end(ap);
    buf_append_str(&b, "}\n");
    write_all(2, b.p, b.n);
    buf_cleanup(&b);
}

void log_access(const log_access_rec_t *r)
{
    if (!atomic_load(&g_access) || atomic_load(&g_level) >= LOG_OFF) return;
    buf_t b;
    buf_init(&b);
    begin_line(&b, LOG_INFO);
    buf_append_str(&b, ",\"msg\":\"access\",\"method\":\"");
    escape_into(&b, r->method ? r->method : "");
    buf_append_str(&b, "\",\"path\":\"");
    escape_into(&b, r->path ? r->path : "");
    buf_printf(&b, "\",\"status\":%d,\"bytes\":%llu,\"us\":%llu,\"request_id\":\"", r->status,
               (unsigned long long)r->bytes, (unsigned long long)r->micros);
    escape_into(&b, r->request_id ? r->request_id : "");
    buf_append_str(&b, "\",\"tenant_id\":");
    if (r->tenant_id && *r->tenant_id) {
        buf_append_str(&b, "\"");
        escape_into(&b, r->tenant_id);
        buf_append_str(&b, "\"");
    } else {
        buf_append_str(&b, "null");
    }
    if (r->remote) {
        buf_append_str(&b, ",\"remote\":\"");
        escape_into(&b, r->remote);
        buf_append_str(&b, "\"");
    }
    buf_append_str(&b, "}\n");
    write_all(1, b.p, b.n);
    buf_cleanup(&b);
}

void log_flush(void)
{
    fflush(stdout);
    fflush(stderr);
}
