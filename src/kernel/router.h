/* router.h — method + path pattern routing over the contexts' route tables.
 *
 * Patterns are literal segments, "{name}" (one segment) and a final
 * "{name...}" (the remainder, possibly empty). Literal segments win over
 * parameters when both match. The router is built at startup and read-only
 * afterwards, so I/O threads share it without locks. */
#ifndef BZ_ROUTER_H
#define BZ_ROUTER_H

#include <jansson.h>
#include <stddef.h>

#include "http.h"

typedef struct router router_t;

router_t *router_new(void);
void router_free(router_t *r);
/* router_add: registers a static table (borrowed: it must outlive the
 * router). Aborts on an invalid pattern or a duplicate method+pattern —
 * these are programming errors found at the first start. */
void router_add(router_t *r, const route_t *routes, size_t n);

typedef struct router_match {
    const route_t *route;
    int nparams;
    const char *names[HTTP_MAX_PARAMS];
    const char *values[HTTP_MAX_PARAMS]; /* percent-decoded, allocated in the arena */
} router_match_t;

/* router_match: finds the route for method and raw path (no query).
 * HEAD matches GET routes. Returns 0, ERR_NOT_FOUND, or
 * ERR_METHOD_NOT_ALLOWED with the allowed methods ("GET, HEAD, POST")
 * written into allow. */
int router_match(const router_t *r, str_t method, str_t path, arena_t *arena, router_match_t *m,
                 char *allow, size_t allowlen);

size_t router_count(const router_t *r);
const route_t *router_at(const router_t *r, size_t i);
/* router_to_json: [{method, pattern, permission, summary, public}] sorted
 * by pattern then method; caller owns the reference. */
json_t *router_to_json(const router_t *r);

/* url_decode: percent-decodes src[0..n) into a new arena string; '+' is kept
 * as is unless plus_as_space. Returns NULL on a malformed escape or a
 * decoded NUL byte. */
char *url_decode(arena_t *a, const char *src, size_t n, bool plus_as_space);

#endif
