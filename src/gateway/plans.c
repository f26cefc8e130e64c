/* plans.c — the tenant -> plan table and the per-tenant request counts
 * (plans.h).
 *
 * Both are open-addressing hash tables (linear probing, grown at half load,
 * no deletions: a tenant that disappears keeps its few bytes until the
 * process ends, which the caps bound). The plan table has one rwlock: it is
 * written only by the monitor thread, and only when a tenant changed, so
 * the I/O threads' read locks almost never wait. The counts are written on
 * every request, so they are split into GW_DIST_STRIPES tables each with its
 * own mutex, picked by the tenant's hash; a read sums them. */
#include "plans.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "err.h"
#include "log.h"
#include "str.h"

static const char *const plan_names[GW_NPLANS] = {"free", "starter", "professional", "enterprise"};

gw_plan_t gw_plan_parse(const char *name)
{
    for (int i = 0; name && i < GW_NPLANS; i++)
        if (strcmp(plan_names[i], name) == 0) return (gw_plan_t)i;
    return GW_PLAN_UNKNOWN;
}

const char *gw_plan_name(gw_plan_t p)
{
    return p >= 0 && p < GW_NPLANS ? plan_names[p] : NULL;
}

int64_t gw_plan_limit(const int64_t plan_limits[GW_NPLANS], gw_plan_t p, int64_t service_limit)
{
    if (p >= 0 && p < GW_NPLANS && plan_limits[p] > 0) return plan_limits[p];
    return service_limit;
}

/* --- the hash table both use --- */

typedef struct slot {
    uint64_t hash;
    char *key; /* owned; NULL = empty */
    uint64_t val;
} slot_t;

typedef struct htab {
    slot_t *slots;
    size_t cap, n; /* cap: a power of two, or 0 before the first insert */
} htab_t;

static slot_t *ht_find(const htab_t *h, const char *key, uint64_t hash)
{
    if (!h->cap) return NULL;
    for (size_t i = hash & (h->cap - 1);; i = (i + 1) & (h->cap - 1)) {
        slot_t *s = &h->slots[i];
        if (!s->key) return NULL;
        if (s->hash == hash && strcmp(s->key, key) == 0) return s;
    }
}

static void ht_grow(htab_t *h)
{
    size_t cap = h->cap ? h->cap * 2 : 16;
    slot_t *slots = xcalloc(cap, sizeof *slots);
    for (size_t i = 0; i < h->cap; i++) {
        slot_t *o = &h->slots[i];
        if (!o->key) continue;
        size_t j = o->hash & (cap - 1);
        while (slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j] = *o;
    }
    free(h->slots);
    h->slots = slots;
    h->cap = cap;
}

/* ht_add: a new slot for key, which must not be in h yet (val 0). */
static slot_t *ht_add(htab_t *h, const char *key, uint64_t hash)
{
    if ((h->n + 1) * 2 > h->cap) ht_grow(h);
    size_t i = hash & (h->cap - 1);
    while (h->slots[i].key)
        i = (i + 1) & (h->cap - 1);
    slot_t *s = &h->slots[i];
    s->hash = hash;
    s->key = xstrdup(key);
    s->val = 0;
    h->n++;
    return s;
}

static void ht_cleanup(htab_t *h)
{
    for (size_t i = 0; i < h->cap; i++)
        free(h->slots[i].key);
    free(h->slots);
    *h = (htab_t){0};
}

/* --- tenant -> plan --- */

struct gw_plan_table {
    pthread_rwlock_t lock;
    htab_t h; /* val: plan + 1, so that GW_PLAN_UNKNOWN is storable */
    size_t max;
    bool warned;
};

gw_plan_table_t *gw_plan_table_new(size_t max)
{
    gw_plan_table_t *t = xcalloc(1, sizeof *t);
    pthread_rwlock_init(&t->lock, NULL);
    t->max = max;
    return t;
}

void gw_plan_table_free(gw_plan_table_t *t)
{
    if (!t) return;
    ht_cleanup(&t->h);
    pthread_rwlock_destroy(&t->lock);
    free(t);
}

int gw_plan_table_set(gw_plan_table_t *t, const char *tenant, gw_plan_t plan)
{
    uint64_t hash = str_hash_cstr(tenant);
    int rc = 0;
    pthread_rwlock_wrlock(&t->lock);
    slot_t *s = ht_find(&t->h, tenant, hash);
    if (!s && t->h.n < t->max) s = ht_add(&t->h, tenant, hash);
    if (s) {
        s->val = (uint64_t)(plan + 1);
    } else {
        rc = -1;
        if (!t->warned)
            log_warn("gateway: more than %zu tenants; further tenants get their services' "
                     "own rate limits, not their plan's",
                     t->max);
        t->warned = true;
    }
    pthread_rwlock_unlock(&t->lock);
    return rc;
}

gw_plan_t gw_plan_table_get(gw_plan_table_t *t, const char *tenant)
{
    uint64_t hash = str_hash_cstr(tenant);
    pthread_rwlock_rdlock(&t->lock);
    const slot_t *s = ht_find(&t->h, tenant, hash);
    gw_plan_t p = s ? (gw_plan_t)((int)s->val - 1) : GW_PLAN_UNKNOWN;
    pthread_rwlock_unlock(&t->lock);
    return p;
}

size_t gw_plan_table_count(gw_plan_table_t *t)
{
    pthread_rwlock_rdlock(&t->lock);
    size_t n = t->h.n;
    pthread_rwlock_unlock(&t->lock);
    return n;
}

int gw_plan_table_load(gw_plan_table_t *t, db_t *db, const char *since)
{
    db_res_t *r;
    int rc;
    if (!since)
        rc = db_query(db, &r, "SELECT id, plan FROM tenants", DB_NOARGS);
    else if (db_backend(db) == DB_POSTGRES)
        rc = db_query(db, &r,
                      "SELECT id, plan FROM tenants WHERE updated_at >= CAST($1 AS timestamptz)",
                      DB_ARGS(DB_TEXT(since)));
    else /* SQLite: RFC 3339 texts of one format compare like the times */
        rc = db_query(db, &r, "SELECT id, plan FROM tenants WHERE updated_at >= $1",
                      DB_ARGS(DB_TEXT(since)));
    if (rc < 0) return rc;
    int n = 0;
    while ((rc = db_res_next(r)) == 1) {
        gw_plan_table_set(t, db_res_text(r, 0), gw_plan_parse(db_res_text(r, 1)));
        n++;
    }
    db_res_free(r);
    return rc < 0 ? rc : n;
}

/* --- requests per tenant --- */

#define GW_DIST_STRIPES 64

typedef struct dist_stripe {
    pthread_mutex_t mu;
    htab_t h; /* val: requests */
} dist_stripe_t;

struct gw_dist {
    dist_stripe_t stripes[GW_DIST_STRIPES];
    size_t max;
    atomic_size_t tenants; /* distinct tenants across the stripes */
    atomic_uint_fast64_t anonymous, other;
};

gw_dist_t *gw_dist_new(size_t max_tenants)
{
    gw_dist_t *d = xcalloc(1, sizeof *d);
    for (int i = 0; i < GW_DIST_STRIPES; i++)
        pthread_mutex_init(&d->stripes[i].mu, NULL);
    d->max = max_tenants;
    atomic_init(&d->tenants, 0);
    atomic_init(&d->anonymous, 0);
    atomic_init(&d->other, 0);
    return d;
}

void gw_dist_free(gw_dist_t *d)
{
    if (!d) return;
    for (int i = 0; i < GW_DIST_STRIPES; i++) {
        ht_cleanup(&d->stripes[i].h);
        pthread_mutex_destroy(&d->stripes[i].mu);
    }
    free(d);
}

void gw_dist_count(gw_dist_t *d, const char *tenant)
{
    if (!tenant) {
        atomic_fetch_add_explicit(&d->anonymous, 1, memory_order_relaxed);
        return;
    }
    uint64_t hash = str_hash_cstr(tenant);
    /* the stripe from the high bits: the low ones pick the slot within it */
    dist_stripe_t *st = &d->stripes[(hash >> 58) % GW_DIST_STRIPES];
    pthread_mutex_lock(&st->mu);
    slot_t *s = ht_find(&st->h, tenant, hash);
    if (!s && atomic_fetch_add(&d->tenants, 1) < d->max) {
        s = ht_add(&st->h, tenant, hash);
    } else if (!s) {
        atomic_fetch_sub(&d->tenants, 1);
    }
    if (s) s->val++;
    pthread_mutex_unlock(&st->mu);
    if (!s) atomic_fetch_add_explicit(&d->other, 1, memory_order_relaxed);
}

typedef struct dist_row {
    char *key; /* owned */
    uint64_t n;
} dist_row_t;

static int by_count(const void *a, const void *b)
{
    const dist_row_t *x = a, *y = b;
    if (x->n != y->n) return x->n > y->n ? -1 : 1;
    return strcmp(x->key, y->key);
}

json_t *gw_dist_json(gw_dist_t *d, size_t top)
{
    size_t n = 0, cap = 0;
    dist_row_t *rows = NULL;
    /* copy under each stripe's lock, sort without any */
    for (int i = 0; i < GW_DIST_STRIPES; i++) {
        pthread_mutex_lock(&d->stripes[i].mu);
        const htab_t *h = &d->stripes[i].h;
        if (n + h->n > cap) {
            cap = (n + h->n) * 2;
            rows = xrealloc(rows, cap * sizeof *rows);
        }
        for (size_t k = 0; k < h->cap; k++)
            if (h->slots[k].key)
                rows[n++] = (dist_row_t){xstrdup(h->slots[k].key), h->slots[k].val};
        pthread_mutex_unlock(&d->stripes[i].mu);
    }
    if (n) qsort(rows, n, sizeof *rows, by_count);
    json_t *out = json_object();
    uint64_t other = atomic_load(&d->other);
    for (size_t i = 0; i < n; i++) {
        if (i < top)
            json_object_set_new(out, rows[i].key, json_integer((json_int_t)rows[i].n));
        else
            other += rows[i].n;
        free(rows[i].key);
    }
    free(rows);
    uint64_t anon = atomic_load(&d->anonymous);
    if (anon) json_object_set_new(out, "anonymous", json_integer((json_int_t)anon));
    if (other) json_object_set_new(out, "other", json_integer((json_int_t)other));
    return out;
}
