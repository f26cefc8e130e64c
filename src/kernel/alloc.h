/* alloc.h — allocation that succeeds or aborts.
 *
 * Out-of-memory is not a recoverable condition for a server that must stay
 * consistent, so every allocation in bizosaas goes through these wrappers
 * (redis' zmalloc, h2o's "allocates or dies"). Error paths are then only for
 * real failures: bad input, a database that is down, a timeout. */
#ifndef BZ_ALLOC_H
#define BZ_ALLOC_H

#include <stddef.h>

/* Each returns memory owned by the caller (free with free()); never NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* xasprintf: formats into a new heap string owned by the caller. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
