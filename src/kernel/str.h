/* str.h — borrowed string views and a growable byte buffer.
 *
 * str_t is a {pointer, length} pair that never owns its bytes (h2o's iovec):
 * lengths are never recomputed or lost. buf_t owns its bytes. */
#ifndef BZ_STR_H
#define BZ_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct str {
    const char *p;
    size_t n;
} str_t;

#define STR_LIT(s) ((str_t){(s), sizeof(s) - 1})
#define STR_NULL ((str_t){NULL, 0})

static inline str_t str_of(const char *s) { return (str_t){s, s ? strlen(s) : 0}; }
static inline bool str_eq(str_t a, str_t b) { return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0); }
static inline bool str_eq_cstr(str_t a, const char *b) { return str_eq(a, str_of(b)); }
/* str_ieq: ASCII case-insensitive equality (header names, tokens). */
bool str_ieq(str_t a, str_t b);
bool str_ieq_cstr(str_t a, const char *b);
/* str_hash: FNV-1a (64 bits) of n bytes / of a C string — for hash tables
 * keyed by short strings; not for anything an attacker must not predict. */
uint64_t str_hash(const void *p, size_t n);
uint64_t str_hash_cstr(const char *s);

/* buf_t: a growable byte buffer that owns its storage; always NUL-terminated
 * after any append so .p can be read as a C string when it holds text. */
typedef struct buf {
    char *p;
    size_t n, cap;
} buf_t;

void buf_init(buf_t *b);
void buf_cleanup(buf_t *b);
void buf_reserve(buf_t *b, size_t extra);
void buf_append(buf_t *b, const void *data, size_t n);
void buf_append_str(buf_t *b, const char *s);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* buf_consume: drops the first n bytes (n <= b->n). */
void buf_consume(buf_t *b, size_t n);
void buf_reset(buf_t *b);
/* buf_release: hands the storage to the caller (free with free()); b is reset. */
char *buf_release(buf_t *b, size_t *len);

#endif
