/* cache.h — the gateway's response cache for HTTP-upstream services.
 *
 * Opt-in per service (cache_ttl_s > 0). A complete 200 answer to a GET
 * (body at most GW_CACHE_ENTRY_MAX, never a streamed one) is kept in this
 * process's memory and answers the same GET or HEAD again — for the same
 * service, tenant, user, path, query, Accept and Accept-Encoding only: an
 * upstream may answer per user, so one user's answer is never served to
 * another, nor across tenants.
 *
 * What the upstream says wins over cache_ttl_s: Cache-Control no-store or
 * no-cache, Pragma: no-cache, Set-Cookie, a Vary on any request header
 * besides Accept and Accept-Encoding, or an Expires without max-age keep an
 * answer out; max-age=N / s-maxage=N (less the upstream's Age) shortens its
 * life. "private" is stored: the key is per user, so the entry is only ever
 * served to the user it was made for.
 *
 * Memory: at most max_bytes of entries (each counted with its key, headers
 * and bookkeeping; only the hash tables, a few KiB per stripe, come on top),
 * split over lock stripes (the key's hash picks one), each with its own
 * least-recently-used list, so I/O threads rarely contend. An expired entry
 * is never served; its memory goes when it is looked up, evicted or
 * invalidated. Invalidation drops every entry under a key prefix (a
 * service, or a service and tenant) and bumps a generation counter, so an
 * answer that was already on its way from the upstream when the write
 * happened is not stored afterwards. */
#ifndef BZ_GW_CACHE_H
#define BZ_GW_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "http_parse.h"
#include "str.h"

#define GW_CACHE_ENTRY_MAX (256u << 10) /* body bytes of one entry, at most */
#define GW_CACHE_TTL_MAX 86400          /* cache_ttl_s, at most (seconds) */

typedef struct gw_cache gw_cache_t;

/* Per-service counters. Owned by the service (lives until gw_stop); entries
 * point at their service's to count evictions. Updated from every thread. */
typedef struct gw_cache_stats {
    _Atomic uint64_t hits, misses, stores, evictions;
} gw_cache_stats_t;

/* What one proxied request means to the cache, built by gw_cache_prepare. */
typedef struct gw_cache_ctx {
    gw_cache_t *cache;         /* NULL: the request has nothing to do with the cache */
    const char *key;           /* borrowed from the request arena */
    size_t key_len, scope_len; /* scope: the service + tenant prefix of key */
    size_t service_len;        /* the service prefix of key */
    int64_t ttl_s;             /* the service's cache_ttl_s */
    uint64_t gen;              /* generation at lookup (see gw_cache_generation) */
    bool store;                /* offer the answer (gw_cache_offer) */
    bool invalidate;           /* a write: drop the scope once it completed */
    gw_cache_stats_t *stats;   /* the service's; borrowed */
} gw_cache_ctx_t;

/* gw_cache_new: an empty cache of at most max_bytes, split over stripes
 * locks (0 = chosen from max_bytes: up to 16, each large enough for a few
 * full-size entries). Free it with gw_cache_free once no thread uses it. */
gw_cache_t *gw_cache_new(size_t max_bytes, unsigned stripes);
/* gw_cache_free: frees every entry and the cache; NULL is ignored. */
void gw_cache_free(gw_cache_t *c);

/* gw_cache_key: the key for one request into the arena (*len bytes, NUL
 * bytes inside): service, tenant, user, path, query, Accept and
 * Accept-Encoding, each ended by a NUL byte. *scope_len is the length of
 * the service + tenant prefix, *service_len that of the service prefix.
 * accept and accept_enc may be NULL. */
const char *gw_cache_key(arena_t *a, const char *service, const char *tenant, const char *user,
                         const char *path, const char *query, const char *accept,
                         const char *accept_enc, size_t *len, size_t *scope_len,
                         size_t *service_len);

/* gw_cache_generation: a token that changes whenever a prefix of key (the
 * service, or the service and tenant) is invalidated. Taken before asking
 * the upstream and handed to gw_cache_put: a changed token refuses the put. */
uint64_t gw_cache_generation(gw_cache_t *c, const char *key, size_t scope_len, size_t service_len);

/* gw_cache_get: on a live entry for key appends its header lines ("Name:
 * value\r\n") to headers and its body to body, copies its content type
 * into ctype (NUL-terminated, cut to ctype_cap - 1), sets *age_s and
 * returns true (the entry becomes the most recently used). An expired one
 * is dropped; false then, and for no entry. */
bool gw_cache_get(gw_cache_t *c, const char *key, size_t key_len, int64_t now_ms, buf_t *headers,
                  buf_t *body, char *ctype, size_t ctype_cap, int64_t *age_s);

/* gw_cache_put: stores a copy of an answer under key for ttl_ms (replacing
 * an older one), evicting least recently used entries of its stripe to make
 * room. age_s is the answer's age when it came. Returns false (nothing
 * stored) when gen is no longer current, the body is over
 * GW_CACHE_ENTRY_MAX or the entry cannot fit in its stripe. stats (may be
 * NULL) is borrowed for as long as the entry lives. */
bool gw_cache_put(gw_cache_t *c, const char *key, size_t key_len, size_t scope_len,
                  size_t service_len, uint64_t gen, int64_t now_ms, int64_t ttl_ms, int64_t age_s,
                  str_t headers, const char *ctype, str_t body, gw_cache_stats_t *stats);

/* gw_cache_invalidate: drops every entry whose key starts with the prefix
 * (a service's or a scope's: key[0..service_len) or key[0..scope_len)) and
 * invalidates the generation of that prefix. Returns how many went. It
 * scans every entry (one stripe locked at a time): a write to a caching
 * service costs time in proportion to the entries held, not to its own. */
size_t gw_cache_invalidate(gw_cache_t *c, const char *prefix, size_t n);

/* gw_cache_bytes / gw_cache_count: memory held and entries, for tests and
 * metrics. */
size_t gw_cache_bytes(gw_cache_t *c);
size_t gw_cache_count(gw_cache_t *c);

/* gw_cache_offer: the upstream's complete answer to a request prepared
 * with ctx->store: stored when the status, size and the upstream's own
 * caching headers (see the top of this file) allow. hs are the upstream's
 * headers as received; lines are the ones passed to the client ("Name:
 * value\r\n", hop-by-hop ones dropped). Counts a store in ctx->stats. */
void gw_cache_offer(const gw_cache_ctx_t *ctx, int status, const hp_header_t *hs, size_t nh,
                    str_t lines, const char *ctype, str_t body);

/* gw_cache_request_directives: the client's Cache-Control / Pragma: *no_cache
 * (answer from the upstream, refresh the entry), *no_store (answer from the
 * upstream, store nothing). */
void gw_cache_request_directives(const hp_header_t *hs, size_t nh, bool *no_cache, bool *no_store);

#endif
