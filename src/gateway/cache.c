/* cache.c — the gateway's response cache (see cache.h).
 *
 * Layout: the key's 64-bit FNV-1a hash picks a stripe; a stripe is a mutex,
 * a chained hash table and a doubly linked LRU list (most recent first),
 * holding at most max_bytes / stripes. An entry is one allocation: the
 * bookkeeping followed by key, header lines, content type and body. A hit
 * copies the entry out under the stripe's lock (bodies are small: at most
 * GW_CACHE_ENTRY_MAX), so no entry is ever referenced outside a lock and
 * freeing needs no reference counts.
 *
 * Generations: GEN_SLOTS counters, one picked by the hash of a prefix (a
 * service's, or a service's and tenant's). A lookup takes the sum of its
 * two slots; an invalidation bumps its prefix's slot before it drops the
 * entries, and a put compares the sum under the stripe lock. A put that
 * raced an invalidation thus either sees the bump (and stores nothing) or
 * finished under the lock before the invalidation scanned that stripe (and
 * is dropped by the scan). Two prefixes sharing a slot only cost a few
 * refused puts. */
#include "cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "clock.h"
#include "str.h"

#define GEN_SLOTS 1024
#define STRIPES_MAX 16
#define CTYPE_MAX 95

typedef struct entry entry_t;
struct entry {
    entry_t *hnext;       /* hash chain */
    entry_t *prev, *next; /* LRU list */
    uint64_t hash;
    int64_t stored_ms, expires_ms, age_s;
    gw_cache_stats_t *stats; /* the service's, borrowed */
    size_t size;             /* bytes counted against the cap */
    size_t key_len, hdr_len, ctype_len, body_len;
    char data[]; /* key, header lines, content type, body */
};

typedef struct stripe {
    pthread_mutex_t mu;
    entry_t **buckets;
    size_t nbuckets;      /* a power of two */
    entry_t *head, *tail; /* most / least recently used */
    size_t bytes, cap, count;
} stripe_t;

struct gw_cache {
    stripe_t *stripes;
    unsigned nstripes;
    _Atomic uint64_t gen[GEN_SLOTS];
};

gw_cache_t *gw_cache_new(size_t max_bytes, unsigned stripes)
{
    gw_cache_t *c = xcalloc(1, sizeof *c);
    if (stripes == 0) {
        /* a stripe should hold a few full-size entries */
        size_t n = max_bytes / (4 * (size_t)GW_CACHE_ENTRY_MAX);
        stripes = n < 1 ? 1 : n > STRIPES_MAX ? STRIPES_MAX : (unsigned)n;
    }
    c->nstripes = stripes;
    c->stripes = xcalloc(stripes, sizeof *c->stripes);
    size_t cap = max_bytes / stripes;
    /* about one bucket per 4 KiB of room: short chains for typical answers */
    size_t nb = 64;
    while (nb < cap / 4096 && nb < (1u << 20))
        nb <<= 1;
    for (unsigned i = 0; i < stripes; i++) {
        stripe_t *s = &c->stripes[i];
        pthread_mutex_init(&s->mu, NULL);
        s->cap = cap;
        s->nbuckets = nb;
        s->buckets = xcalloc(nb, sizeof *s->buckets);
    }
    for (size_t i = 0; i < GEN_SLOTS; i++)
        atomic_init(&c->gen[i], 0);
    return c;
}

void gw_cache_free(gw_cache_t *c)
{
    if (!c) return;
    for (unsigned i = 0; i < c->nstripes; i++) {
        stripe_t *s = &c->stripes[i];
        for (entry_t *e = s->head, *next; e; e = next) {
            next = e->next;
            free(e);
        }
        free(s->buckets);
        pthread_mutex_destroy(&s->mu);
    }
    free(c->stripes);
    free(c);
}

const char *gw_cache_key(arena_t *a, const char *service, const char *tenant, const char *user,
                         const char *path, const char *query, const char *accept,
                         const char *accept_enc, size_t *len, size_t *scope_len,
                         size_t *service_len)
{
    const char *parts[] = {service, tenant, user, path, query, accept, accept_enc};
    size_t n = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        n += (parts[i] ? strlen(parts[i]) : 0) + 1;
    char *k = arena_alloc(a, n);
    size_t off = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t l = parts[i] ? strlen(parts[i]) : 0;
        if (l) memcpy(k + off, parts[i], l);
        off += l;
        k[off++] = '\0'; /* a NUL cannot occur inside any part: the parts stay apart */
        if (i == 0) *service_len = off;
        if (i == 1) *scope_len = off;
    }
    *len = n;
    return k;
}

static _Atomic uint64_t *gen_slot(gw_cache_t *c, const char *p, size_t n)
{
    return &c->gen[str_hash(p, n) % GEN_SLOTS];
}

uint64_t gw_cache_generation(gw_cache_t *c, const char *key, size_t scope_len, size_t service_len)
{
    /* both only grow, so the sum changes when either does */
    return atomic_load(gen_slot(c, key, scope_len)) + atomic_load(gen_slot(c, key, service_len));
}

/* --- one stripe (its lock held) --- */

/* the high half picks the stripe, the low half the bucket: independent bits */
static stripe_t *stripe_of(gw_cache_t *c, uint64_t h)
{
    return &c->stripes[(h >> 32) % c->nstripes];
}

static void lru_unlink(stripe_t *s, entry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        s->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        s->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(stripe_t *s, entry_t *e)
{
    e->prev = NULL;
    e->next = s->head;
    if (s->head)
        s->head->prev = e;
    else
        s->tail = e;
    s->head = e;
}

/* drop: unlinks e from its stripe and frees it. */
static void drop(stripe_t *s, entry_t *e)
{
    entry_t **pp = &s->buckets[e->hash & (s->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(s, e);
    s->bytes -= e->size;
    s->count--;
    free(e);
}

static entry_t *find(stripe_t *s, uint64_t h, const char *key, size_t n)
{
    for (entry_t *e = s->buckets[h & (s->nbuckets - 1)]; e; e = e->hnext)
        if (e->hash == h && e->key_len == n && memcmp(e->data, key, n) == 0) return e;
    return NULL;
}

bool gw_cache_get(gw_cache_t *c, const char *key, size_t key_len, int64_t now_ms, buf_t *headers,
                  buf_t *body, char *ctype, size_t ctype_cap, int64_t *age_s)
{
    uint64_t h = str_hash(key, key_len);
    stripe_t *s = stripe_of(c, h);
    pthread_mutex_lock(&s->mu);
    entry_t *e = find(s, h, key, key_len);
    if (e && now_ms >= e->expires_ms) {
        drop(s, e);
        e = NULL;
    }
    if (e) {
        lru_unlink(s, e);
        lru_push_front(s, e);
        const char *p = e->data + e->key_len;
        buf_append(headers, p, e->hdr_len);
        p += e->hdr_len;
        size_t cn = e->ctype_len < ctype_cap - 1 ? e->ctype_len : ctype_cap - 1;
        memcpy(ctype, p, cn);
        ctype[cn] = '\0';
        p += e->ctype_len;
        buf_append(body, p, e->body_len);
        int64_t held = now_ms > e->stored_ms ? (now_ms - e->stored_ms) / 1000 : 0;
        *age_s = e->age_s + held;
    }
    pthread_mutex_unlock(&s->mu);
    return e != NULL;
}

bool gw_cache_put(gw_cache_t *c, const char *key, size_t key_len, size_t scope_len,
                  size_t service_len, uint64_t gen, int64_t now_ms, int64_t ttl_ms, int64_t age_s,
                  str_t headers, const char *ctype, str_t body, gw_cache_stats_t *stats)
{
    if (body.n > GW_CACHE_ENTRY_MAX || ttl_ms <= 0) return false;
    size_t cl = ctype ? strlen(ctype) : 0;
    if (cl > CTYPE_MAX) cl = CTYPE_MAX;
    size_t size = sizeof(entry_t) + key_len + headers.n + cl + body.n;
    uint64_t h = str_hash(key, key_len);
    stripe_t *s = stripe_of(c, h);
    if (size > s->cap) return false;
    /* built before the lock: the copy is the expensive part */
    entry_t *e = xmalloc(size);
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->stored_ms = now_ms;
    e->expires_ms = now_ms + ttl_ms;
    e->age_s = age_s;
    e->stats = stats;
    e->size = size;
    e->key_len = key_len;
    e->hdr_len = headers.n;
    e->ctype_len = cl;
    e->body_len = body.n;
    char *p = e->data;
    memcpy(p, key, key_len);
    p += key_len;
    if (headers.n) memcpy(p, headers.p, headers.n);
    p += headers.n;
    if (cl) memcpy(p, ctype, cl);
    p += cl;
    if (body.n) memcpy(p, body.p, body.n);

    pthread_mutex_lock(&s->mu);
    if (gw_cache_generation(c, key, scope_len, service_len) != gen) {
        pthread_mutex_unlock(&s->mu);
        free(e);
        return false;
    }
    entry_t *old = find(s, h, key, key_len);
    if (old) drop(s, old);
    while (s->bytes + size > s->cap && s->tail) {
        entry_t *victim = s->tail;
        /* an expired entry is not an eviction: it had ended anyway */
        if (victim->stats && now_ms < victim->expires_ms)
            atomic_fetch_add(&victim->stats->evictions, 1);
        drop(s, victim);
    }
    entry_t **b = &s->buckets[h & (s->nbuckets - 1)];
    e->hnext = *b;
    *b = e;
    lru_push_front(s, e);
    s->bytes += size;
    s->count++;
    pthread_mutex_unlock(&s->mu);
    return true;
}

size_t gw_cache_invalidate(gw_cache_t *c, const char *prefix, size_t n)
{
    /* first the generation, then the scan: see the top of the file */
    atomic_fetch_add(gen_slot(c, prefix, n), 1);
    size_t dropped = 0;
    for (unsigned i = 0; i < c->nstripes; i++) {
        stripe_t *s = &c->stripes[i];
        pthread_mutex_lock(&s->mu);
        for (entry_t *e = s->head, *next; e; e = next) {
            next = e->next;
            if (e->key_len >= n && memcmp(e->data, prefix, n) == 0) {
                drop(s, e);
                dropped++;
            }
        }
        pthread_mutex_unlock(&s->mu);
    }
    return dropped;
}

/* usage: bytes held and entries, summed over the stripes. */
static void usage(gw_cache_t *c, size_t *bytes, size_t *count)
{
    *bytes = *count = 0;
    for (unsigned i = 0; i < c->nstripes; i++) {
        pthread_mutex_lock(&c->stripes[i].mu);
        *bytes += c->stripes[i].bytes;
        *count += c->stripes[i].count;
        pthread_mutex_unlock(&c->stripes[i].mu);
    }
}

size_t gw_cache_bytes(gw_cache_t *c)
{
    size_t b, n;
    usage(c, &b, &n);
    return b;
}

size_t gw_cache_count(gw_cache_t *c)
{
    size_t b, n;
    usage(c, &b, &n);
    return n;
}

/* --- HTTP caching rules --- */

/* directive: the next comma-separated Cache-Control directive of v from
 * *pos: its name, and its argument (quotes removed; STR_NULL when none). */
static bool directive(str_t v, size_t *pos, str_t *name, str_t *arg)
{
    size_t i = *pos;
    while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
        i++;
    if (i >= v.n) return false;
    size_t s = i;
    while (i < v.n && v.p[i] != '=' && v.p[i] != ',' && v.p[i] != ' ' && v.p[i] != '\t')
        i++;
    *name = (str_t){v.p + s, i - s};
    *arg = STR_NULL;
    while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t'))
        i++;
    if (i < v.n && v.p[i] == '=') {
        i++;
        if (i < v.n && v.p[i] == '"') {
            size_t a = ++i;
            while (i < v.n && v.p[i] != '"')
                i++;
            *arg = (str_t){v.p + a, i - a};
            if (i < v.n) i++;
        } else {
            size_t a = i;
            while (i < v.n && v.p[i] != ',' && v.p[i] != ' ' && v.p[i] != '\t')
                i++;
            *arg = (str_t){v.p + a, i - a};
        }
    }
    while (i < v.n && v.p[i] != ',')
        i++; /* anything else up to the next comma */
    *pos = i;
    return true;
}

/* seconds: a delta-seconds value; -1 when malformed (then: not cacheable). */
static int64_t seconds(str_t a)
{
    if (a.n == 0 || a.n > 12) return -1;
    int64_t v = 0;
    for (size_t i = 0; i < a.n; i++) {
        if (a.p[i] < '0' || a.p[i] > '9') return -1;
        v = v * 10 + (a.p[i] - '0');
    }
    return v;
}

void gw_cache_request_directives(const hp_header_t *hs, size_t nh, bool *no_cache, bool *no_store)
{
    *no_cache = *no_store = false;
    for (size_t i = 0; i < nh; i++) {
        bool cc = str_ieq_cstr(hs[i].name, "Cache-Control");
        if (!cc && !str_ieq_cstr(hs[i].name, "Pragma")) continue;
        size_t pos = 0;
        str_t name, arg;
        while (directive(hs[i].value, &pos, &name, &arg)) {
            if (str_ieq_cstr(name, "no-cache")) *no_cache = true;
            /* max-age=0 from a client is how browsers say "reload" */
            if (cc && str_ieq_cstr(name, "max-age") && seconds(arg) == 0) *no_cache = true;
            if (cc && str_ieq_cstr(name, "no-store")) *no_store = true;
        }
    }
}

/* vary_ok: a Vary value naming only headers that are part of the key. */
static bool vary_ok(str_t v)
{
    size_t pos = 0;
    str_t name, arg;
    while (directive(v, &pos, &name, &arg))
        if (!str_ieq_cstr(name, "Accept") && !str_ieq_cstr(name, "Accept-Encoding")) return false;
    return true;
}

/* freshness: how long the upstream lets the answer be reused (ms), capped
 * by the service's ttl; 0 = not at all. *age_s: the upstream's Age. */
static int64_t freshness(const hp_header_t *hs, size_t nh, int64_t ttl_s, int64_t *age_s)
{
    int64_t max_age = -1, s_maxage = -1;
    bool expires = false;
    *age_s = 0;
    for (size_t i = 0; i < nh; i++) {
        str_t n = hs[i].name, v = hs[i].value;
        if (str_ieq_cstr(n, "Set-Cookie")) return 0; /* a session being set: never replay it */
        if (str_ieq_cstr(n, "Vary") && !vary_ok(v)) return 0;
        if (str_ieq_cstr(n, "Expires")) expires = true;
        if (str_ieq_cstr(n, "Age")) {
            int64_t a = seconds(v);
            if (a < 0) return 0;
            *age_s = a;
        }
        bool cc = str_ieq_cstr(n, "Cache-Control");
        if (!cc && !str_ieq_cstr(n, "Pragma")) continue;
        size_t pos = 0;
        str_t name, arg;
        while (directive(v, &pos, &name, &arg)) {
            if (str_ieq_cstr(name, "no-cache")) return 0; /* we never revalidate */
            if (!cc) continue;
            if (str_ieq_cstr(name, "no-store")) return 0;
            if (str_ieq_cstr(name, "max-age") && (max_age = seconds(arg)) < 0) return 0;
            if (str_ieq_cstr(name, "s-maxage") && (s_maxage = seconds(arg)) < 0) return 0;
        }
    }
    /* a shared cache's own limit wins over the general one (RFC 9111 §5.2.2.10) */
    int64_t limit = s_maxage >= 0 ? s_maxage : max_age;
    if (limit < 0 && expires) return 0; /* Expires is not parsed: do not guess */
    /* served while its age (the upstream's Age and then ours) stays below
     * the shorter of the two lifetimes */
    int64_t ttl = (limit >= 0 && limit < ttl_s ? limit : ttl_s) - *age_s;
    return ttl > 0 ? ttl * 1000 : 0;
}

/* strip_own: the header lines without Age and X-Cache (a hit gets its
 * own). */
static str_t strip_own(str_t lines, buf_t *tmp)
{
    size_t i = 0;
    bool any = false;
    while (i < lines.n) {
        const char *e = memchr(lines.p + i, '\n', lines.n - i);
        size_t len = e ? (size_t)(e - (lines.p + i)) + 1 : lines.n - i;
        if ((len >= 4 && strncasecmp(lines.p + i, "Age:", 4) == 0) ||
            (len >= 8 && strncasecmp(lines.p + i, "X-Cache:", 8) == 0))
            any = true;
        else
            buf_append(tmp, lines.p + i, len);
        i += len;
    }
    return any ? (str_t){tmp->p, tmp->n} : lines;
}

void gw_cache_offer(const gw_cache_ctx_t *ctx, int status, const hp_header_t *hs, size_t nh,
                    str_t lines, const char *ctype, str_t body)
{
    if (!ctx->cache || !ctx->store || status != 200 || body.n > GW_CACHE_ENTRY_MAX) return;
    int64_t age_s;
    int64_t ttl_ms = freshness(hs, nh, ctx->ttl_s, &age_s);
    if (ttl_ms <= 0) return;
    buf_t tmp;
    buf_init(&tmp);
    str_t kept = strip_own(lines, &tmp);
    if (gw_cache_put(ctx->cache, ctx->key, ctx->key_len, ctx->scope_len, ctx->service_len, ctx->gen,
                     clock_now_ms(), ttl_ms, age_s, kept, ctype, body, ctx->stats) &&
        ctx->stats)
        atomic_fetch_add(&ctx->stats->stores, 1);
    buf_cleanup(&tmp);
}
