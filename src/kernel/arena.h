/* arena.h — a per-request memory arena with deferred cleanups.
 *
 * Every request owns one arena (h2o's per-request pool, lwan's coro defer):
 * handlers allocate from it and register cleanups for foreign objects
 * (json_t, database results) so that nothing a handler touches needs an
 * explicit free. Everything is released at once by arena_free/arena_reset.
 * An arena is used by one thread at a time. */
#ifndef BZ_ARENA_H
#define BZ_ARENA_H

#include <stddef.h>

typedef struct arena arena_t;

arena_t *arena_new(void);
/* arena_reset: runs the cleanups (last registered first) and frees all
 * blocks but the first, so the arena can serve the next request. */
void arena_reset(arena_t *a);
void arena_free(arena_t *a);

/* Memory returned below lives until the next arena_reset/arena_free. */
void *arena_alloc(arena_t *a, size_t n); /* 16-byte aligned, zeroed */
char *arena_strndup(arena_t *a, const char *s, size_t n);
char *arena_strdup(arena_t *a, const char *s);
char *arena_printf(arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* arena_defer: fn(arg) runs when the arena is reset or freed. */
void arena_defer(arena_t *a, void (*fn)(void *), void *arg);

#endif
