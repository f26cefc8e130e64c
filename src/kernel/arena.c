/* arena.c — bump allocator in chained blocks plus a cleanup stack. */
#include "arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define ARENA_BLOCK 16384 /* holds a parsed request head (~8 KiB) plus small allocations */

struct block {
    struct block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

struct defer {
    struct defer *next;
    void (*fn)(void *);
    void *arg;
};

struct arena {
    struct block *head;
    struct defer *defers;
};

static struct block *block_new(size_t cap)
{
    struct block *b = xmalloc(sizeof *b + cap);
    b->next = NULL;
    b->used = 0;
    b->cap = cap;
    return b;
}

arena_t *arena_new(void)
{
    arena_t *a = xcalloc(1, sizeof *a);
    a->head = block_new(ARENA_BLOCK);
    return a;
}

static void run_defers(arena_t *a)
{
    while (a->defers) {
        struct defer *d = a->defers;
        a->defers = d->next;
        d->fn(d->arg);
    }
}

void arena_reset(arena_t *a)
{
    run_defers(a);
    struct block *b = a->head;
    while (b->next) {
        struct block *n = b->next;
        b->next = n->next;
        free(n);
    }
    b->used = 0;
}

void arena_free(arena_t *a)
{
    if (!a) return;
    arena_reset(a);
    free(a->head);
    free(a);
}

void *arena_alloc(arena_t *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct block *b = a->head;
    if (b->cap - b->used < n) {
        if (n > ARENA_BLOCK / 2) {
            /* A large allocation gets its own block behind the head, so the
             * head keeps serving small ones. */
            struct block *nb = block_new(n);
            nb->next = b->next;
            b->next = nb;
            nb->used = n;
            memset(nb->data, 0, n);
            return nb->data;
        }
        b = block_new(ARENA_BLOCK);
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(arena_t *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena_t *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

char *arena_printf(arena_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return arena_strdup(a, "");
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void arena_defer(arena_t *a, void (*fn)(void *), void *arg)
{
    struct defer *d = arena_alloc(a, sizeof *d);
    d->fn = fn;
    d->arg = arg;
    d->next = a->defers;
    a->defers = d;
}
