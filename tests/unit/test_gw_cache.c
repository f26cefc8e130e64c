/* test_gw_cache.c — the gateway response cache (src/gateway/cache.c):
 * least-recently-used eviction under the byte cap, TTL expiry, invalidation
 * by prefix (with the generation that keeps a late answer out), key
 * isolation between users, tenants and services, and the upstream's
 * caching headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "clock.h"
#include "gateway/cache.h"

typedef struct key {
    const char *p;
    size_t n, scope, service;
} tkey_t;

static tkey_t mk(arena_t *a, const char *svc, const char *tenant, const char *user,
                 const char *path)
{
    tkey_t k;
    k.p = gw_cache_key(a, svc, tenant, user, path, "", NULL, NULL, &k.n, &k.scope, &k.service);
    return k;
}

static bool put(gw_cache_t *c, tkey_t k, int64_t now, int64_t ttl_ms, const char *body,
                gw_cache_stats_t *st)
{
    uint64_t gen = gw_cache_generation(c, k.p, k.scope, k.service);
    return gw_cache_put(c, k.p, k.n, k.scope, k.service, gen, now, ttl_ms, 0, STR_LIT("X-A: 1\r\n"),
                        "text/plain", str_of(body), st);
}

/* get: the body of a live entry ("" when there is none; the caller frees). */
static char *get(gw_cache_t *c, tkey_t k, int64_t now, int64_t *age)
{
    buf_t h, b;
    buf_init(&h);
    buf_init(&b);
    char ctype[96];
    int64_t a = -1;
    bool hit = gw_cache_get(c, k.p, k.n, now, &h, &b, ctype, sizeof ctype, &a);
    if (hit) {
        assert_string_equal(ctype, "text/plain");
        assert_int_equal(h.n, 8);
        assert_memory_equal(h.p, "X-A: 1\r\n", 8);
    }
    if (age) *age = a;
    buf_cleanup(&h);
    char *out = hit ? strndup(b.p ? b.p : "", b.n) : strdup("");
    buf_cleanup(&b);
    return out;
}

static void expect_body(gw_cache_t *c, tkey_t k, int64_t now, const char *want)
{
    char *got = get(c, k, now, NULL);
    assert_string_equal(got, want);
    free(got);
}

static void test_lru_eviction_under_cap(void **state)
{
    (void)state;
    arena_t *a = arena_new();
    char body[1000];
    memset(body, 'x', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    /* one stripe of 8 KiB: about seven 1 KB entries fit */
    gw_cache_t *c = gw_cache_new(8192, 1);
    gw_cache_stats_t st = {0};
    tkey_t k[10];
    for (int i = 0; i < 10; i++) {
        char path[16];
        snprintf(path, sizeof path, "p%d", i);
        k[i] = mk(a, "svc", "t1", "u1", path);
    }
    for (int i = 0; i < 6; i++)
        assert_true(put(c, k[i], 0, 60000, body, &st));
    assert_true(gw_cache_bytes(c) <= 8192);
    /* touching k0 makes k1 the least recently used */
    expect_body(c, k[0], 1, body);
    for (int i = 6; i < 10; i++)
        assert_true(put(c, k[i], 2, 60000, body, &st));
    assert_true(gw_cache_bytes(c) <= 8192);
    assert_true(atomic_load(&st.evictions) >= 1);
    assert_int_equal(gw_cache_count(c) + atomic_load(&st.evictions), 10);
    expect_body(c, k[0], 3, body); /* recently used: kept */
    expect_body(c, k[1], 3, "");   /* the oldest untouched one went first */
    expect_body(c, k[9], 3, body);
    /* an entry over the per-entry cap, or larger than the stripe, is refused */
    char *big = malloc(GW_CACHE_ENTRY_MAX + 2);
    memset(big, 'y', GW_CACHE_ENTRY_MAX + 1);
    big[GW_CACHE_ENTRY_MAX + 1] = '\0';
    gw_cache_t *c2 = gw_cache_new(64u << 20, 0);
    assert_false(put(c2, k[0], 0, 60000, big, NULL));
    big[GW_CACHE_ENTRY_MAX] = '\0';
    assert_true(put(c2, k[0], 0, 60000, big, NULL));
    assert_false(put(c, k[0], 0, 60000, big, NULL)); /* does not fit 8 KiB */
    expect_body(c, k[0], 3, body);                   /* and changed nothing */
    free(big);
    gw_cache_free(c2);
    gw_cache_free(c);
    arena_free(a);
}

static void test_ttl_expiry(void **state)
{
    (void)state;
    arena_t *a = arena_new();
    gw_cache_t *c = gw_cache_new(1 << 20, 0);
    tkey_t k = mk(a, "svc", "t1", "u1", "x");
    assert_true(put(c, k, 1000, 5000, "v1", NULL));
    int64_t age = -1;
    char *b = get(c, k, 3500, &age);
    assert_string_equal(b, "v1");
    assert_int_equal(age, 2);
    free(b);
    expect_body(c, k, 5999, "v1");
    expect_body(c, k, 6000, ""); /* exactly at expiry: gone */
    assert_int_equal(gw_cache_count(c), 0);
    assert_false(put(c, k, 0, 0, "v", NULL)); /* no lifetime, no entry */
    /* a newer answer replaces the old one */
    assert_true(put(c, k, 0, 1000, "old", NULL));
    assert_true(put(c, k, 0, 1000, "new", NULL));
    assert_int_equal(gw_cache_count(c), 1);
    expect_body(c, k, 10, "new");
    gw_cache_free(c);
    arena_free(a);
}

static void test_invalidation_by_prefix(void **state)
{
    (void)state;
    arena_t *a = arena_new();
    gw_cache_t *c = gw_cache_new(1 << 20, 4);
    tkey_t a1 = mk(a, "svc", "t1", "u1", "x"), a2 = mk(a, "svc", "t1", "u2", "y");
    tkey_t b1 = mk(a, "svc", "t2", "u1", "x"), o1 = mk(a, "svc2", "t1", "u1", "x");
    tkey_t p1 = mk(a, "sv", "ct1", "u1", "x"); /* "sv"+"c..." must not match "svc" */
    assert_true(put(c, a1, 0, 60000, "a1", NULL));
    assert_true(put(c, a2, 0, 60000, "a2", NULL));
    assert_true(put(c, b1, 0, 60000, "b1", NULL));
    assert_true(put(c, o1, 0, 60000, "o1", NULL));
    assert_true(put(c, p1, 0, 60000, "p1", NULL));
    /* a write of tenant t1 to svc: both its users' entries go, nothing else */
    assert_int_equal(gw_cache_invalidate(c, a1.p, a1.scope), 2);
    expect_body(c, a1, 1, "");
    expect_body(c, a2, 1, "");
    expect_body(c, b1, 1, "b1");
    expect_body(c, o1, 1, "o1");
    expect_body(c, p1, 1, "p1");
    /* the service as a whole */
    assert_int_equal(gw_cache_invalidate(c, "svc", 4), 1);
    expect_body(c, b1, 1, "");
    expect_body(c, o1, 1, "o1");

    /* an answer requested before an invalidation is not stored after it */
    uint64_t gen = gw_cache_generation(c, a1.p, a1.scope, a1.service);
    gw_cache_invalidate(c, a1.p, a1.scope);
    assert_false(gw_cache_put(c, a1.p, a1.n, a1.scope, a1.service, gen, 2, 60000, 0, STR_LIT(""),
                              "text/plain", STR_LIT("late"), NULL));
    gen = gw_cache_generation(c, o1.p, o1.scope, o1.service);
    gw_cache_invalidate(c, "svc2", 5); /* the whole service: also a tenant's token */
    assert_false(gw_cache_put(c, o1.p, o1.n, o1.scope, o1.service, gen, 2, 60000, 0, STR_LIT(""),
                              "text/plain", STR_LIT("late"), NULL));
    assert_true(put(c, a1, 2, 60000, "a1'", NULL)); /* a fresh request is stored again */
    expect_body(c, a1, 3, "a1'");
    gw_cache_free(c);
    arena_free(a);
}

static void test_key_isolation(void **state)
{
    (void)state;
    arena_t *a = arena_new();
    gw_cache_t *c = gw_cache_new(1 << 20, 0);
    tkey_t k = mk(a, "svc", "t1", "u1", "orders");
    assert_true(put(c, k, 0, 60000, "mine", NULL));
    /* every part of the key keeps answers apart, also when the parts'
     * concatenation is the same */
    const tkey_t others[] = {
        mk(a, "svc", "t1", "u2", "orders"),  mk(a, "svc", "t2", "u1", "orders"),
        mk(a, "svc2", "t1", "u1", "orders"), mk(a, "svc", "t1", "u1", "orders2"),
        mk(a, "svc", "t1u1", "", "orders"),  mk(a, "svc", "t", "1u1", "orders"),
        mk(a, "svc", "", "t1", "u1orders"),
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        expect_body(c, others[i], 1, "");
    tkey_t q;
    q.p =
        gw_cache_key(a, "svc", "t1", "u1", "orders", "a=1", NULL, NULL, &q.n, &q.scope, &q.service);
    expect_body(c, q, 1, "");
    q.p = gw_cache_key(a, "svc", "t1", "u1", "orders", "", "text/html", NULL, &q.n, &q.scope,
                       &q.service);
    expect_body(c, q, 1, "");
    q.p =
        gw_cache_key(a, "svc", "t1", "u1", "orders", "", NULL, "gzip", &q.n, &q.scope, &q.service);
    expect_body(c, q, 1, "");
    expect_body(c, mk(a, "svc", "t1", "u1", "orders"), 1, "mine");
    gw_cache_free(c);
    arena_free(a);
}

/* offer: what gw_cache_offer keeps of an answer with these headers. */
static bool offered(gw_cache_t *c, tkey_t k, const char *name, const char *value, int status)
{
    gw_cache_stats_t st = {0};
    gw_cache_ctx_t ctx = {.cache = c,
                          .key = k.p,
                          .key_len = k.n,
                          .scope_len = k.scope,
                          .service_len = k.service,
                          .ttl_s = 30,
                          .store = true,
                          .stats = &st};
    ctx.gen = gw_cache_generation(c, k.p, k.scope, k.service);
    hp_header_t h[1] = {{str_of(name), str_of(value)}};
    gw_cache_offer(&ctx, status, h, name ? 1 : 0, STR_LIT("X-A: 1\r\nAge: 7\r\nx-cache: MISS\r\n"),
                   "text/plain", STR_LIT("body"));
    return atomic_load(&st.stores) == 1;
}

static void test_upstream_directives(void **state)
{
    (void)state;
    arena_t *a = arena_new();
    gw_cache_t *c = gw_cache_new(1 << 20, 0);
    tkey_t k = mk(a, "svc", "t", "u", "p");
    assert_true(offered(c, k, NULL, NULL, 200));
    int64_t age = -1;
    char *b = get(c, k, clock_now_ms(), &age); /* the upstream's Age line is not kept */
    assert_string_equal(b, "body");
    free(b);
    assert_false(offered(c, k, NULL, NULL, 404));
    assert_false(offered(c, k, "Cache-Control", "no-store", 200));
    assert_false(offered(c, k, "Cache-Control", "public, no-cache", 200));
    assert_false(offered(c, k, "Cache-Control", "max-age=0", 200));
    assert_false(offered(c, k, "Cache-Control", "max-age=x", 200));
    assert_false(offered(c, k, "Pragma", "no-cache", 200));
    assert_false(offered(c, k, "Set-Cookie", "a=b", 200));
    assert_false(offered(c, k, "Vary", "Accept, Cookie", 200));
    assert_false(offered(c, k, "Vary", "*", 200));
    assert_false(offered(c, k, "Expires", "Thu, 01 Jan 1970 00:00:00 GMT", 200));
    assert_false(offered(c, k, "Age", "30", 200)); /* as old as cache_ttl_s already */
    assert_true(offered(c, k, "Cache-Control", "private, max-age=10", 200));
    assert_true(offered(c, k, "Cache-Control", "s-maxage=\"5\", max-age=0", 200));
    assert_true(offered(c, k, "Vary", "accept-encoding, Accept", 200));
    assert_true(offered(c, k, "Age", "3", 200));

    bool nc, ns;
    hp_header_t r1[] = {{STR_LIT("Cache-Control"), STR_LIT("no-cache")}};
    gw_cache_request_directives(r1, 1, &nc, &ns);
    assert_true(nc && !ns);
    hp_header_t r2[] = {{STR_LIT("cache-control"), STR_LIT("max-age=0, no-store")}};
    gw_cache_request_directives(r2, 1, &nc, &ns);
    assert_true(nc && ns);
    hp_header_t r3[] = {{STR_LIT("Pragma"), STR_LIT("no-cache")},
                        {STR_LIT("Accept"), STR_LIT("*/*")}};
    gw_cache_request_directives(r3, 2, &nc, &ns);
    assert_true(nc && !ns);
    gw_cache_request_directives(r3 + 1, 1, &nc, &ns);
    assert_true(!nc && !ns);
    gw_cache_free(c);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru_eviction_under_cap), cmocka_unit_test(test_ttl_expiry),
        cmocka_unit_test(test_invalidation_by_prefix), cmocka_unit_test(test_key_isolation),
        cmocka_unit_test(test_upstream_directives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
