/* router.c — route tables compiled into segment lists, matched linearly.
 *
 * A linear scan over pre-split patterns is fast enough for a few hundred
 * routes (each comparison is a length check plus memcmp) and keeps the
 * matching rules obvious. Patterns are compiled once at startup. */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "err.h"

#define MAX_SEGS 24

typedef struct seg {
    str_t lit;     /* literal text, or the parameter name */
    bool param;    /* {name} */
    bool rest;     /* {name...} */
} seg_t;

typedef struct entry {
    const route_t *route;
    seg_t segs[MAX_SEGS];
    int nsegs;
    int nlit; /* literal segment count: more literals = more specific */
} entry_t;

struct router {
    entry_t *v;
    size_t n, cap;
};

router_t *router_new(void) { return xcalloc(1, sizeof(router_t)); }

void router_free(router_t *r)
{
    if (!r) return;
    free(r->v);
    free(r);
}

static void compile(entry_t *e, const route_t *rt)
{
    const char *p = rt->pattern;
    if (p[0] != '/') {
        fprintf(stderr, "route pattern must start with '/': %s\n", p);
        abort();
    }
    e->route = rt;
    e->nsegs = 0;
    e->nlit = 0;
    p++;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (e->nsegs == MAX_SEGS) abort();
        seg_t *s = &e->segs[e->nsegs++];
        *s = (seg_t){0};
        if (n >= 2 && p[0] == '{' && p[n - 1] == '}') {
            s->param = true;
            s->lit = (str_t){p + 1, n - 2};
            if (s->lit.n > 3 && memcmp(s->lit.p + s->lit.n - 3, "...", 3) == 0) {
                s->rest = true;
                s->lit.n -= 3;
                if (end) {
                    fprintf(stderr, "{rest...} must be last: %s\n", rt->pattern);
                    abort();
                }
            }
        } else {
            s->lit = (str_t){p, n};
            e->nlit++;
        }
        if (!end) break;
        p = end + 1;
        if (!*p) { /* trailing slash: an empty literal segment */
            if (e->nsegs == MAX_SEGS) abort();
            e->segs[e->nsegs++] = (seg_t){.lit = {p, 0}};
            e->nlit++;
        }
    }
}

void router_add(router_t *r, const route_t *routes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < r->n; j++) {
            if (strcmp(r->v[j].route->method, routes[i].method) == 0 &&
                strcmp(r->v[j].route->pattern, routes[i].pattern) == 0) {
                fprintf(stderr, "duplicate route %s %s\n", routes[i].method, routes[i].pattern);
                abort();
            }
        }
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 32;
            r->v = xrealloc(r->v, r->cap * sizeof *r->v);
        }
        compile(&r->v[r->n++], &routes[i]);
    }
}

size_t router_count(const router_t *r) { return r->n; }
const route_t *router_at(const router_t *r, size_t i) { return r->v[i].route; }

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *url_decode(arena_t *a, const char *src, size_t n, bool plus_as_space)
{
    char *out = arena_alloc(a, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        if (c == '%') {
            if (i + 2 >= n) return NULL;
            int h = hexval(src[i + 1]), l = hexval(src[i + 2]);
            if (h < 0 || l < 0) return NULL;
            c = (char)(h * 16 + l);
            if (c == '\0') return NULL;
            i += 2;
        } else if (c == '+' && plus_as_space) {
            c = ' ';
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

/* split: path "/a/b/c" -> segments; returns count or -1 when too many. */
static int split(str_t path, str_t *segs)
{
    int n = 0;
    size_t i = 1; /* skip leading '/' */
    size_t start = 1;
    if (path.n == 0 || path.p[0] != '/') return -1;
    if (path.n == 1) return 0;
    for (i = 1; i <= path.n; i++) {
        if (i == path.n || path.p[i] == '/') {
            if (n == MAX_SEGS) return -1;
            segs[n++] = (str_t){path.p + start, i - start};
            start = i + 1;
        }
    }
    return n;
}

static bool entry_matches(const entry_t *e, const str_t *segs, int nsegs, router_match_t *m,
                          arena_t *arena, bool capture)
{
    /* without a final {rest...} the segment counts must be equal: most
     * entries are refused here, before any comparison */
    if (e->nsegs != nsegs && !(e->nsegs > 0 && e->segs[e->nsegs - 1].rest)) return false;
    int np = 0;
    for (int i = 0; i < e->nsegs; i++) {
        const seg_t *s = &e->segs[i];
        if (s->rest) {
            if (capture) {
                size_t len = 0;
                const char *start = i < nsegs ? segs[i].p : "";
                if (i < nsegs) len = (size_t)(segs[nsegs - 1].p + segs[nsegs - 1].n - start);
                m->names[np] = arena_strndup(arena, s->lit.p, s->lit.n);
                m->values[np] = arena_strndup(arena, start, len); /* raw: proxies forward it */
            }
            np++;
            if (capture) m->nparams = np;
            return true;
        }
        if (i >= nsegs) return false;
        if (s->param) {
            if (segs[i].n == 0) return false;
            if (capture) {
                char *v = url_decode(arena, segs[i].p, segs[i].n, false);
                if (!v) return false;
                m->names[np] = arena_strndup(arena, s->lit.p, s->lit.n);
                m->values[np] = v;
            }
            np++;
        } else if (!str_eq(s->lit, segs[i])) {
            return false;
        }
    }
    if (e->nsegs != nsegs) return false;
    if (capture) m->nparams = np;
    return true;
}

static bool method_matches(const route_t *rt, str_t method)
{
    if (str_eq_cstr(method, rt->method)) return true;
    return str_eq_cstr(method, "HEAD") && strcmp(rt->method, "GET") == 0;
}

int router_match(const router_t *r, str_t method, str_t path, arena_t *arena, router_match_t *m,
                 char *allow, size_t allowlen)
{
    str_t segs[MAX_SEGS];
    int nsegs = split(path, segs);
    *m = (router_match_t){0};
    if (nsegs < 0) return ERR_NOT_FOUND;
    const entry_t *best = NULL;
    bool any_path = false;
    unsigned allowed = 0; /* bit per method in the list below */
    static const char *methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    const entry_t *fallback = NULL;
    for (size_t i = 0; i < r->n; i++) {
        const entry_t *e = &r->v[i];
        if (!entry_matches(e, segs, nsegs, m, arena, false)) continue;
        if (e->route->flags & RT_FALLBACK) {
            if (method_matches(e->route, method) && (!fallback || e->nsegs > fallback->nsegs))
                fallback = e;
            continue;
        }
        any_path = true;
        for (unsigned k = 0; k < 7; k++)
            if (strcmp(e->route->method, methods[k]) == 0) allowed |= 1u << k;
        if (!method_matches(e->route, method)) continue;
        if (!best || e->nlit > best->nlit ||
            (e->nlit == best->nlit && e->nsegs > best->nsegs))
            best = e;
    }
    if (!best && !any_path) best = fallback;
    if (best) {
        /* Capturing can still fail: a malformed %-escape in a parameter. */
        if (!entry_matches(best, segs, nsegs, m, arena, true)) return ERR_BAD_REQUEST;
        m->route = best->route;
        return 0;
    }
    if (!any_path) return ERR_NOT_FOUND;
    if (allowed & 1u) allowed |= 2u; /* GET implies HEAD */
    size_t o = 0;
    if (allowlen) allow[0] = '\0';
    for (unsigned k = 0; k < 7; k++) {
        if (!(allowed & (1u << k))) continue;
        int w = snprintf(allow + o, allowlen - o, "%s%s", o ? ", " : "", methods[k]);
        if (w < 0 || (size_t)w >= allowlen - o) break;
        o += (size_t)w;
    }
    return ERR_METHOD_NOT_ALLOWED;
}

static int cmp_routes(const void *a, const void *b)
{
    const route_t *x = *(const route_t *const *)a, *y = *(const route_t *const *)b;
    int c = strcmp(x->pattern, y->pattern);
    return c ? c : strcmp(x->method, y->method);
}

json_t *router_to_json(const router_t *r)
{
    const route_t **sorted = xmalloc((r->n ? r->n : 1) * sizeof *sorted);
    for (size_t i = 0; i < r->n; i++) sorted[i] = r->v[i].route;
    qsort(sorted, r->n, sizeof *sorted, cmp_routes);
    json_t *arr = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const route_t *rt = sorted[i];
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:o, s:s, s:b}", "method", rt->method, "pattern", rt->pattern,
                           "permission", rt->permission ? json_string(rt->permission) : json_null(),
                           "summary", rt->summary ? rt->summary : "", "public",
                           (rt->flags & RT_PUBLIC) != 0));
    }
    free(sorted);
    return arr;
}
