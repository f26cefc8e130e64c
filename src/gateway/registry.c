/* registry.c — the service registry: in memory for the request path (read
 * under a rwlock by the I/O threads), persisted in gateway_services, managed
 * by the admin API (super_admin).
 *
 * Entries are never freed while the process runs (a deleted one is only
 * unlinked), so an I/O thread may keep a pointer for the length of a request
 * without reference counting; the handful of bytes a deletion leaves behind
 * are released by gw_stop. */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "breaker.h"
#include "cache.h"
#include "clock.h"
#include "err.h"
#include "events/events.h"
#include "gateway.h"
#include "gateway_internal.h"
#include "kernel_routes.h"
#include "log.h"
#include "metrics.h"
#include "plans.h"
#include "proxy.h"
#include "ratelimit.h"

#define NAME_MAX_LEN 63
#define TARGET_MAX_LEN 255
#define RL_WINDOW_MS 60000

struct gw_service {
    gw_service_t *next;
    bool removed;
    char name[NAME_MAX_LEN + 1];
    char target[TARGET_MAX_LEN + 1];
    char mount[64]; /* builtin: the context's mount */
    gw_upstream_t up; /* http target: where to */
    bool enabled;
    int64_t connect_timeout_ms, response_timeout_ms, rate_limit_per_min;
    int64_t plan_limits[GW_NPLANS]; /* per tenant plan; 0 = rate_limit_per_min (under mu) */
    char health_path[128];
    pthread_mutex_t mu; /* breaker, counters and plan_limits */
    gw_breaker_t breaker;
    uint64_t requests, ok, client_errors, server_errors, rejected_breaker, rejected_rate;
    uint64_t micros_total;
    gw_upstream_stats_t upstream; /* pool use and the retry budget (HTTP targets) */
    int64_t cache_ttl_s;          /* response cache (cache.h): 0 = off */
    gw_cache_stats_t cache;
    /* active health checks (HTTP upstreams) */
    int64_t next_check_ms;
    bool checked, last_check_ok;
    int last_check_status;
    double last_check_ms;
};

/* Breaker changes waiting for the monitor to write them as events. */
#define CHANGES_MAX 256
static pthread_mutex_t g_changes_mu = PTHREAD_MUTEX_INITIALIZER;
static gw__change_t g_changes[CHANGES_MAX];
static size_t g_nchanges;

static void queue_change(const gw_service_t *s, gw_breaker_state_t from, gw_breaker_state_t to,
                         const char *reason)
{
    pthread_mutex_lock(&g_changes_mu);
    if (g_nchanges == CHANGES_MAX) { /* the database has been away long: keep the newest */
        memmove(g_changes, g_changes + 1, (CHANGES_MAX - 1) * sizeof g_changes[0]);
        g_nchanges--;
        log_warn("gateway: too many unwritten health changes; dropped the oldest");
    }
    gw__change_t *c = &g_changes[g_nchanges++];
    snprintf(c->name, sizeof c->name, "%s", s->name);
    c->from = gw_breaker_name(from);
    c->to = gw_breaker_name(to);
    c->at_ms = clock_now_ms();
    snprintf(c->reason, sizeof c->reason, "%s", reason);
    pthread_mutex_unlock(&g_changes_mu);
}

size_t gw__peek_changes(gw__change_t *out, size_t max)
{
    pthread_mutex_lock(&g_changes_mu);
    size_t n = g_nchanges < max ? g_nchanges : max;
    memcpy(out, g_changes, n * sizeof *out);
    pthread_mutex_unlock(&g_changes_mu);
    return n;
}

void gw__drop_changes(size_t n)
{
    pthread_mutex_lock(&g_changes_mu);
    if (n > g_nchanges) n = g_nchanges;
    memmove(g_changes, g_changes + n, (g_nchanges - n) * sizeof g_changes[0]);
    g_nchanges -= n;
    pthread_mutex_unlock(&g_changes_mu);
}

/* The registry's builtin contexts: the REQUIREMENTS table's targets. One
 * exists in this binary iff some route lives under its mount. */
static const struct builtin {
    const char *context, *mount, *service;
} builtins[] = {
    {"identity", "/api/v1/auth", "auth-service"},
    {"crm", "/api/v1/crm", "django-crm"},
    {"cms", "/api/v1/cms", "wagtail-cms"},
    {"commerce", "/api/v1/commerce", "saleor-backend"},
    {"coreldove", "/api/v1/coreldove", "coreldove-backend"},
    {"sourcing", "/api/v1/amazon", "amazon-sourcing"},
    {"directory", "/api/v1/directory", "business-directory"},
    {"agents", "/api/v1/agents", "ai-agents"},
    {"trading", "/api/v1/trading", "quanttrade-backend"},
    {"gaming", "/api/v1/gaming", "thrillring-gaming"},
    {"marketing", "/api/v1/campaigns", "marketing"},
    {"vault", "/v1", "vault"},
    {"workflows", "/api/v1/workflows", "temporal"},
    {"analytics", "/api/v1/analytics", "superset"},
};
#define NBUILTINS (sizeof builtins / sizeof builtins[0])

static pthread_rwlock_t g_lock = PTHREAD_RWLOCK_INITIALIZER;
static gw_service_t *g_services; /* live entries first, removed ones kept */
static const router_t *g_router;
static const config_t *g_cfg;
static gw_ratelimit_t *g_rl;
static gw_cache_t *g_cache; /* NULL when BIZOSAAS_GATEWAY_CACHE_MB is 0 */
static gw_plan_table_t *g_plans; /* tenant -> plan, filled by the monitor thread */
static gw_dist_t *g_dist;        /* requests per tenant, for /api/brain/metrics */

gw_plan_table_t *gw__plans(void) { return g_plans; }

static bool context_exists(const struct builtin *b)
{
    size_t n = strlen(b->mount);
    for (size_t i = 0; i < router_count(g_router); i++) {
        const char *p = router_at(g_router, i)->pattern;
        if (strncmp(p, b->mount, n) == 0 && (p[n] == '/' || p[n] == '\0')) return true;
    }
    return false;
}

static const struct builtin *builtin_of(const char *target)
{
    if (strncmp(target, "builtin:", 8) != 0) return NULL;
    for (size_t i = 0; i < NBUILTINS; i++)
        if (strcmp(builtins[i].context, target + 8) == 0) return &builtins[i];
    return NULL;
}

static gw_service_t *find_locked(const char *name)
{
    for (gw_service_t *s = g_services; s; s = s->next)
        if (!s->removed && strcmp(s->name, name) == 0) return s;
    return NULL;
}

/* --- the request path --- */

int gw_resolve(const char *service, const char *rest, arena_t *a, const char **path,
               gw_service_t **svc)
{
    pthread_rwlock_rdlock(&g_lock);
    gw_service_t *s = find_locked(service);
    int rc = 0;
    if (!s)
        rc = ERR_NOT_FOUND;
    else if (!s->enabled)
        rc = ERR_UNAVAILABLE;
    else {
        *svc = s;
        if (s->mount[0]) {
            *path = arena_printf(a, "%s/%s", s->mount, rest);
        } else {
            *path = NULL;
            rc = 1; /* an HTTP upstream: proxied */
        }
    }
    pthread_rwlock_unlock(&g_lock);
    return rc;
}

int gw_admit(gw_service_t *s, const char *key, http_res_t *res)
{
    int64_t now = clock_now_ms();
    /* a client IP (public route) has no plan: the service limit */
    bool anonymous = strncmp(key, "ip:", 3) == 0;
    gw_plan_t plan = anonymous || !g_plans ? GW_PLAN_UNKNOWN : gw_plan_table_get(g_plans, key);
    pthread_mutex_lock(&s->mu);
    gw_breaker_state_t before = s->breaker.state;
    bool allowed = gw_breaker_allow(&s->breaker, now);
    gw_breaker_state_t after = s->breaker.state;
    if (!allowed) s->rejected_breaker++;
    int64_t limit = gw_plan_limit(s->plan_limits, plan, s->rate_limit_per_min);
    pthread_mutex_unlock(&s->mu);
    if (before != after) queue_change(s, before, after, "cool-down over: probing");
    if (!allowed) {
        http_set_header(res, "Retry-After", "1");
        return http_error(res, ERR_UNAVAILABLE, "service %s is failing; its circuit breaker is open",
                          s->name);
    }
    /* the key does not name the plan: a plan change keeps the tenant's
     * window, and processes that learn of the change at different moments
     * still count in the same one */
    char rlkey[256];
    snprintf(rlkey, sizeof rlkey, "%s|%s", s->name, key);
    gw_rl_result_t r;
    /* shared by every process through Redis when configured; while Redis
     * cannot answer, this process's own window (fail-open to local limits) */
    if (!g_cfg || !g_cfg->redis_url || !*g_cfg->redis_url ||
        gw_rl_redis_hit(g_cfg->redis_url, g_cfg->ratelimit_redis_timeout_ms, rlkey, limit,
                        RL_WINDOW_MS, &r) < 0)
        r = gw_rl_hit(g_rl, rlkey, limit, RL_WINDOW_MS, now);
    char v[32];
    snprintf(v, sizeof v, "%lld", (long long)r.limit);
    http_set_header(res, "RateLimit-Limit", v);
    snprintf(v, sizeof v, "%lld", (long long)r.remaining);
    http_set_header(res, "RateLimit-Remaining", v);
    snprintf(v, sizeof v, "%lld", (long long)r.reset_s);
    http_set_header(res, "RateLimit-Reset", v);
    if (!r.allowed) {
        pthread_mutex_lock(&s->mu);
        s->rejected_rate++;
        /* the probe slot a half-open breaker gave us was not used */
        if (s->breaker.state == GW_HALF_OPEN) s->breaker.probe_in_flight = false;
        pthread_mutex_unlock(&s->mu);
        snprintf(v, sizeof v, "%lld", (long long)r.retry_after_s);
        http_set_header(res, "Retry-After", v);
        return http_error(res, ERR_RATE_LIMITED, "rate limit of %lld requests per minute reached",
                          (long long)r.limit);
    }
    if (g_dist) gw_dist_count(g_dist, anonymous ? NULL : key);
    return 0;
}

void gw_tenant_plan(const char *tenant_id, const char *plan)
{
    if (g_plans) gw_plan_table_set(g_plans, tenant_id, gw_plan_parse(plan));
}

void gw_record(gw_service_t *s, int status, uint64_t micros)
{
    int64_t now = clock_now_ms();
    pthread_mutex_lock(&s->mu);
    s->requests++;
    s->micros_total += micros;
    if (status >= 500)
        s->server_errors++;
    else if (status >= 400)
        s->client_errors++;
    else
        s->ok++;
    gw_breaker_state_t before = s->breaker.state;
    bool changed = gw_breaker_record(&s->breaker, status < 500, now);
    gw_breaker_state_t after = s->breaker.state;
    pthread_mutex_unlock(&s->mu);
    if (changed) {
        log_kv(LOG_WARN, "circuit breaker changed", "service", s->name, "from",
               gw_breaker_name(before), "to", gw_breaker_name(after), NULL);
        queue_change(s, before, after, status < 500 ? "request succeeded" : "request failed");
    }
}

size_t gw__due_checks(gw__check_t *out, size_t max, int64_t now, int64_t interval_ms)
{
    size_t n = 0;
    pthread_rwlock_rdlock(&g_lock);
    for (gw_service_t *s = g_services; s && n < max; s = s->next) {
        if (s->removed || !s->enabled || s->mount[0]) continue;
        pthread_mutex_lock(&s->mu);
        bool due = now >= s->next_check_ms;
        if (due) s->next_check_ms = now + interval_ms;
        pthread_mutex_unlock(&s->mu);
        if (!due) continue;
        gw__check_t *c = &out[n++];
        c->svc = s;
        snprintf(c->name, sizeof c->name, "%s", s->name);
        c->up = s->up;
        snprintf(c->health_path, sizeof c->health_path, "%s", s->health_path);
        c->connect_timeout_ms = s->connect_timeout_ms;
        c->response_timeout_ms = s->response_timeout_ms;
    }
    pthread_rwlock_unlock(&g_lock);
    return n;
}

void gw__health_result(gw_service_t *s, bool ok, double ms, int status)
{
    int64_t now = clock_now_ms();
    pthread_mutex_lock(&s->mu);
    s->checked = true;
    s->last_check_ok = ok;
    s->last_check_ms = ms;
    s->last_check_status = status;
    gw_breaker_state_t before = s->breaker.state;
    bool changed = gw_breaker_record(&s->breaker, ok, now);
    gw_breaker_state_t after = s->breaker.state;
    pthread_mutex_unlock(&s->mu);
    if (changed) {
        log_kv(LOG_WARN, "circuit breaker changed", "service", s->name, "from",
               gw_breaker_name(before), "to", gw_breaker_name(after), "by", "health check", NULL);
        queue_change(s, before, after, ok ? "health check passed" : "health check failed");
    }
}

/* --- validation and persistence --- */

typedef struct svc_input {
    const char *name, *target, *health_path;
    int64_t enabled, connect_timeout_ms, response_timeout_ms, breaker_failures,
        breaker_cooldown_ms, rate_limit_per_min, cache_ttl_s;
    int64_t plan_limits[GW_NPLANS]; /* 0 = not set */
} svc_input_t;

#define PLAN_LIMIT_MAX 1000000

/* plan_limits_json: {"<plan>": n, ...} of the plans that have a limit, in
 * plan order. The caller owns the result. */
static json_t *plan_limits_json(const int64_t limits[GW_NPLANS])
{
    json_t *o = json_object();
    for (int p = 0; p < GW_NPLANS; p++)
        if (limits[p] > 0)
            json_object_set_new(o, gw_plan_name((gw_plan_t)p), json_integer((json_int_t)limits[p]));
    return o;
}

/* plan_limits_parse: the object o into limits (all zero first). Returns
 * NULL, or why o is not valid (static, or written into buf). */
static const char *plan_limits_parse(json_t *o, int64_t limits[GW_NPLANS], char *buf, size_t len)
{
    memset(limits, 0, GW_NPLANS * sizeof limits[0]);
    if (!json_is_object(o)) return "must be an object of requests per minute by plan";
    const char *plan;
    json_t *v;
    json_object_foreach(o, plan, v) {
        gw_plan_t p = gw_plan_parse(plan);
        if (p == GW_PLAN_UNKNOWN) {
            snprintf(buf, len,
                     "unknown plan \"%.32s\"; plans are free, starter, professional, enterprise",
                     plan);
            return buf;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > PLAN_LIMIT_MAX) {
            snprintf(buf, len, "%s must be an integer between 1 and %d", plan, PLAN_LIMIT_MAX);
            return buf;
        }
        limits[p] = json_integer_value(v);
    }
    return NULL;
}

static const char *name_invalid(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > NAME_MAX_LEN) return "name must be 1 to 63 characters";
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return "name may contain only a-z, 0-9 and '-'";
    }
    if (!strcmp(n, "services") || !strcmp(n, "metrics")) return "name is reserved";
    return NULL;
}

static const char *target_invalid(const char *t, const struct builtin **b)
{
    *b = NULL;
    if (strlen(t) > TARGET_MAX_LEN) return "target is too long";
    if (!strncmp(t, "builtin:", 8)) {
        *b = builtin_of(t);
        if (!*b) return "unknown builtin context";
        if (!context_exists(*b)) return "that builtin context does not exist in this build yet";
        return NULL;
    }
    if (!strncmp(t, "https://", 8)) return "https upstreams are not supported yet; use http://";
    if (!strncmp(t, "http://", 7)) {
        gw_upstream_t up;
        return gw_upstream_parse(t, &up);
    }
    return "target must be builtin:<context> or http://host:port/base";
}

/* cache_invalid: the response cache is for HTTP upstreams only (a builtin
 * context's answers come from the database, which the gateway cannot see
 * change). */
static const char *cache_invalid(const svc_input_t *in, const struct builtin *b)
{
    return b && in->cache_ttl_s ? "cache_ttl_s applies to http:// targets only" : NULL;
}

static void fill(gw_service_t *s, const svc_input_t *in, const struct builtin *b)
{
    snprintf(s->name, sizeof s->name, "%s", in->name);
    snprintf(s->target, sizeof s->target, "%s", in->target);
    snprintf(s->mount, sizeof s->mount, "%s", b ? b->mount : "");
    if (!b) gw_upstream_parse(in->target, &s->up); /* validated by target_invalid */
    snprintf(s->health_path, sizeof s->health_path, "%s", in->health_path);
    s->enabled = in->enabled != 0;
    s->connect_timeout_ms = in->connect_timeout_ms;
    s->response_timeout_ms = in->response_timeout_ms;
    s->rate_limit_per_min = in->rate_limit_per_min;
    s->cache_ttl_s = in->cache_ttl_s;
    memcpy(s->plan_limits, in->plan_limits, sizeof s->plan_limits);
    /* a changed breaker setting starts a fresh breaker */
    if (s->breaker.threshold != (int)in->breaker_failures ||
        s->breaker.cooldown_ms != in->breaker_cooldown_ms)
        gw_breaker_init(&s->breaker, (int)in->breaker_failures, in->breaker_cooldown_ms);
}

static gw_service_t *add_locked(const svc_input_t *in, const struct builtin *b)
{
    gw_service_t *s = xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    gw_upstream_stats_init(&s->upstream);
    fill(s, in, b);
    /* the first active check comes one interval after registration, so a
     * check never races the first requests of a new service */
    s->next_check_ms = clock_now_ms() + (g_cfg ? g_cfg->health_interval_ms : 30000);
    s->next = g_services;
    g_services = s;
    return s;
}

static json_t *service_json(gw_service_t *s)
{
    pthread_mutex_lock(&s->mu);
    double avg = s->requests ? (double)s->micros_total / (double)s->requests / 1000.0 : 0.0;
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:s, s:{s:I, s:I, s:s, s:I}, s:{s:I, s:I, s:I, s:I, "
        "s:I, s:I, s:f}}",
        "name", s->name, "target", s->target, "kind", s->mount[0] ? "builtin" : "http", "enabled",
        s->enabled, "connect_timeout_ms", (json_int_t)s->connect_timeout_ms,
        "response_timeout_ms", (json_int_t)s->response_timeout_ms, "rate_limit_per_min",
        (json_int_t)s->rate_limit_per_min, "health_path", s->health_path, "breaker", "failures",
        (json_int_t)s->breaker.threshold, "cooldown_ms", (json_int_t)s->breaker.cooldown_ms,
        "state", gw_breaker_name(s->breaker.state), "activations",
        (json_int_t)s->breaker.activations, "stats", "requests", (json_int_t)s->requests, "ok",
        (json_int_t)s->ok, "client_errors", (json_int_t)s->client_errors, "server_errors",
        (json_int_t)s->server_errors, "rejected_breaker", (json_int_t)s->rejected_breaker,
        "rejected_rate_limit", (json_int_t)s->rejected_rate, "avg_ms", avg);
    json_object_set_new(j, "plan_limits", plan_limits_json(s->plan_limits));
    pthread_mutex_unlock(&s->mu);
    json_object_set_new(j, "cache_ttl_s", json_integer(s->cache_ttl_s));
    json_object_set_new(
        j, "cache",
        json_pack("{s:I, s:I, s:I, s:I}", "hits", (json_int_t)atomic_load(&s->cache.hits),
                  "misses", (json_int_t)atomic_load(&s->cache.misses), "stores",
                  (json_int_t)atomic_load(&s->cache.stores), "evictions",
                  (json_int_t)atomic_load(&s->cache.evictions)));
    return j;
}

#define COLS                                                                                       \
    "name, target, enabled, connect_timeout_ms, response_timeout_ms, breaker_failures, "          \
    "breaker_cooldown_ms, rate_limit_per_min, health_path, cache_ttl_s, plan_limits"

static int db_upsert(db_t *db, const svc_input_t *in, bool insert)
{
    char now[32];
    clock_rfc3339(clock_now_ms(), now);
    json_t *pl = plan_limits_json(in->plan_limits);
    char *limits = json_dumps(pl, JSON_COMPACT);
    json_decref(pl);
    int64_t n = 0;
    int rc;
    if (insert)
        rc = db_exec(db, NULL,
                     "INSERT INTO gateway_services (" COLS ", created_at, updated_at) VALUES "
                     "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
                     DB_ARGS(DB_TEXT(in->name), DB_TEXT(in->target), DB_BOOL(in->enabled),
                             DB_INT(in->connect_timeout_ms), DB_INT(in->response_timeout_ms),
                             DB_INT(in->breaker_failures), DB_INT(in->breaker_cooldown_ms),
                             DB_INT(in->rate_limit_per_min), DB_TEXT(in->health_path),
                             DB_INT(in->cache_ttl_s), DB_TEXT(limits), DB_TEXT(now)));
    else
        rc = db_exec(db, &n,
                     "UPDATE gateway_services SET target = $2, enabled = $3, connect_timeout_ms = $4, "
                     "response_timeout_ms = $5, breaker_failures = $6, breaker_cooldown_ms = $7, "
                     "rate_limit_per_min = $8, health_path = $9, cache_ttl_s = $10, "
                     "plan_limits = $11, updated_at = $12 WHERE name = $1",
                     DB_ARGS(DB_TEXT(in->name), DB_TEXT(in->target), DB_BOOL(in->enabled),
                             DB_INT(in->connect_timeout_ms), DB_INT(in->response_timeout_ms),
                             DB_INT(in->breaker_failures), DB_INT(in->breaker_cooldown_ms),
                             DB_INT(in->rate_limit_per_min), DB_TEXT(in->health_path),
                             DB_INT(in->cache_ttl_s), DB_TEXT(limits), DB_TEXT(now)));
    free(limits);
    return rc == 0 && !insert && n == 0 ? ERR_NOT_FOUND : rc;
}

static void defaults(svc_input_t *in)
{
    *in = (svc_input_t){.enabled = 1,
                        .connect_timeout_ms = 2000,
                        .response_timeout_ms = 30000,
                        .breaker_failures = 5,
                        .breaker_cooldown_ms = 30000,
                        .rate_limit_per_min = 100,
                        .health_path = "/health"};
}

/* from_config: a [service.NAME] section as a registry input. Values are
 * checked like the admin API checks them; err names the section and key. */
static int from_config(const config_service_t *cs, svc_input_t *in, char *err, size_t errlen)
{
    defaults(in);
    in->name = cs->name;
    in->target = NULL;
    const char *why = name_invalid(cs->name);
    if (why) {
        snprintf(err, errlen, "%s: [service.%s]: %s", cs->src, cs->name, why);
        return ERR_CONFIG;
    }
    static const struct {
        const char *key;
        int64_t min, max;
        size_t off;
    } ints[] = {
        {"connect_timeout_ms", 1, 60000, offsetof(svc_input_t, connect_timeout_ms)},
        {"response_timeout_ms", 1, 600000, offsetof(svc_input_t, response_timeout_ms)},
        {"breaker_failures", 1, 1000, offsetof(svc_input_t, breaker_failures)},
        {"breaker_cooldown_ms", 100, 3600000, offsetof(svc_input_t, breaker_cooldown_ms)},
        {"rate_limit_per_min", 1, 1000000, offsetof(svc_input_t, rate_limit_per_min)},
        {"cache_ttl_s", 0, GW_CACHE_TTL_MAX, offsetof(svc_input_t, cache_ttl_s)},
        /* the names config.c allows; the plans of plans.h */
        {"rate_limit_per_min.free", 1, PLAN_LIMIT_MAX,
         offsetof(svc_input_t, plan_limits) + GW_PLAN_FREE * sizeof(int64_t)},
        {"rate_limit_per_min.starter", 1, PLAN_LIMIT_MAX,
         offsetof(svc_input_t, plan_limits) + GW_PLAN_STARTER * sizeof(int64_t)},
        {"rate_limit_per_min.professional", 1, PLAN_LIMIT_MAX,
         offsetof(svc_input_t, plan_limits) + GW_PLAN_PROFESSIONAL * sizeof(int64_t)},
        {"rate_limit_per_min.enterprise", 1, PLAN_LIMIT_MAX,
         offsetof(svc_input_t, plan_limits) + GW_PLAN_ENTERPRISE * sizeof(int64_t)},
    };
    for (int k = 0; k < cs->n; k++) {
        const char *key = cs->keys[k], *v = cs->values[k];
        if (!strcmp(key, "target")) {
            in->target = v;
        } else if (!strcmp(key, "health_path")) {
            if (v[0] != '/' || strlen(v) > 127) goto bad;
            in->health_path = v;
        } else if (!strcmp(key, "enabled")) {
            if (!strcmp(v, "true"))
                in->enabled = 1;
            else if (!strcmp(v, "false"))
                in->enabled = 0;
            else
                goto bad;
        } else {
            bool done = false;
            for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
                if (strcmp(ints[i].key, key) != 0) continue;
                char *end;
                long long x = strtoll(v, &end, 10);
                if (!*v || *end || x < ints[i].min || x > ints[i].max) goto bad;
                *(int64_t *)((char *)in + ints[i].off) = x;
                done = true;
            }
            if (!done) goto bad;
        }
        continue;
    bad:
        snprintf(err, errlen, "%s: [service.%s] %s has a malformed value \"%s\"", cs->src,
                 cs->name, key, v);
        return ERR_CONFIG;
    }
    if (!in->target) {
        snprintf(err, errlen, "%s: [service.%s] needs a target", cs->src, cs->name);
        return ERR_CONFIG;
    }
    return 0;
}

/* bootstrap_config: every [service.NAME] of the configuration is written to
 * the registry (the configuration wins over what an earlier run stored). */
static int bootstrap_config(db_t *db)
{
    for (size_t i = 0; g_cfg && i < g_cfg->nservices; i++) {
        svc_input_t in;
        char err[512];
        const config_service_t *cs = &g_cfg->services[i];
        int rc = from_config(cs, &in, err, sizeof err);
        const struct builtin *b = NULL;
        const char *why = rc == 0 ? target_invalid(in.target, &b) : NULL;
        if (why) {
            snprintf(err, sizeof err, "%s: [service.%s] target: %s", cs->src, cs->name, why);
            rc = ERR_CONFIG;
        } else if (rc == 0 && (why = cache_invalid(&in, b))) {
            snprintf(err, sizeof err, "%s: [service.%s] %s", cs->src, cs->name, why);
            rc = ERR_CONFIG;
        }
        if (rc < 0) {
            log_error("gateway: %s", err);
            return rc;
        }
        gw_service_t *s = find_locked(in.name);
        rc = db_upsert(db, &in, s == NULL);
        if (rc == ERR_NOT_FOUND) rc = db_upsert(db, &in, true);
        if (rc < 0) return rc;
        if (s)
            fill(s, &in, b);
        else
            add_locked(&in, b);
        log_info("gateway: %s -> %s (from %s)", in.name, in.target, cs->src);
    }
    return 0;
}

/* cache_open: the process's response cache, when configured. */
static void cache_open(void)
{
    if (!g_cache && g_cfg && g_cfg->gateway_cache_mb > 0)
        g_cache = gw_cache_new((size_t)g_cfg->gateway_cache_mb << 20, 0);
}

int gw_start(db_t *db)
{
    if (!g_rl) g_rl = gw_rl_new();
    cache_open();
    if (!g_plans) g_plans = gw_plan_table_new(GW_PLAN_TABLE_MAX);
    if (!g_dist) g_dist = gw_dist_new(GW_DIST_MAX_TENANTS);
    int rc = db_begin_platform(db, true);
    if (rc < 0) return rc;
    db_res_t *r;
    rc = db_query(db, &r, "SELECT " COLS " FROM gateway_services ORDER BY name", DB_NOARGS);
    if (rc < 0) goto fail;
    pthread_rwlock_wrlock(&g_lock);
    while ((rc = db_res_next(r)) == 1) {
        svc_input_t in = {
            .name = db_res_text(r, 0),
            .target = db_res_text(r, 1),
            .enabled = db_res_int(r, 2),
            .connect_timeout_ms = db_res_int(r, 3),
            .response_timeout_ms = db_res_int(r, 4),
            .breaker_failures = db_res_int(r, 5),
            .breaker_cooldown_ms = db_res_int(r, 6),
            .rate_limit_per_min = db_res_int(r, 7),
            .health_path = db_res_text(r, 8),
            .cache_ttl_s = db_res_int(r, 9),
        };
        json_t *pl = json_loads(db_res_text(r, 10), 0, NULL);
        char why[128];
        if (plan_limits_parse(pl, in.plan_limits, why, sizeof why))
            log_warn("gateway: service %s has malformed plan_limits; ignored", in.name);
        json_decref(pl);
        const struct builtin *b = NULL;
        if (target_invalid(in.target, &b)) {
            log_warn("gateway: service %s has target %s, which this build cannot serve; skipped",
                     in.name, in.target);
            continue;
        }
        add_locked(&in, b);
    }
    db_res_free(r);
    if (rc == 0) rc = bootstrap_config(db);
    /* every builtin context of this build gets its registry entry */
    for (size_t i = 0; rc == 0 && i < NBUILTINS; i++) {
        if (!context_exists(&builtins[i]) || find_locked(builtins[i].service)) continue;
        svc_input_t in;
        defaults(&in);
        in.name = builtins[i].service;
        char target[80];
        snprintf(target, sizeof target, "builtin:%s", builtins[i].context);
        in.target = target;
        rc = db_upsert(db, &in, true);
        if (rc == 0) {
            add_locked(&in, &builtins[i]);
            log_info("gateway: registered %s -> %s", in.name, in.target);
        }
    }
    pthread_rwlock_unlock(&g_lock);
    /* every tenant's plan before the first request; the monitor then reads
     * the changes (monitor.c) */
    int64_t loaded_at = clock_now_ms();
    if (rc == 0) {
        int n = gw_plan_table_load(g_plans, db, NULL);
        rc = n < 0 ? n : 0;
    }
    if (rc < 0) goto fail;
    rc = db_commit(db);
    if (rc == 0 && g_cfg)
        rc = gw__monitor_start(g_cfg->database_url, g_cfg->health_interval_ms,
                               g_cfg->gateway_plan_refresh_ms, loaded_at);
    return rc;
fail:
    log_error("gateway: cannot load the service registry: %s", db_errmsg(db));
    db_rollback(db);
    return rc;
}

void gw_stop(void)
{
    gw__monitor_stop();
    pthread_rwlock_wrlock(&g_lock);
    while (g_services) {
        gw_service_t *s = g_services;
        g_services = s->next;
        pthread_mutex_destroy(&s->mu);
        gw_upstream_stats_destroy(&s->upstream);
        free(s);
    }
    pthread_rwlock_unlock(&g_lock);
    gw_rl_free(g_rl);
    g_rl = NULL;
    gw_cache_free(g_cache); /* no I/O thread runs any more */
    g_cache = NULL;
    gw_plan_table_free(g_plans);
    g_plans = NULL;
    gw_dist_free(g_dist);
    g_dist = NULL;
}

/* --- admin API --- */

/* drop_cached: every cached answer of the service (see cache.h). */
static void drop_cached(const char *name)
{
    if (g_cache) gw_cache_invalidate(g_cache, name, strlen(name) + 1); /* with its NUL */
}

static int read_input(http_req_t *req, http_res_t *res, svc_input_t *in, const char *name)
{
    int rc;
    json_t *body = http_body_json(req, res, &rc);
    if (!body) return rc;
    static const char *const allowed[] = {"name", "target", "enabled", "connect_timeout_ms",
                                          "response_timeout_ms", "breaker_failures",
                                          "breaker_cooldown_ms", "rate_limit_per_min",
                                          "health_path", "cache_ttl_s", "plan_limits", NULL};
    if ((rc = json_reject_unknown(res, body, allowed)) < 0) return rc;
    defaults(in);
    if (name) {
        in->name = name;
    } else if ((rc = json_field_str(res, body, "name", true, NAME_MAX_LEN, &in->name)) < 0) {
        return rc;
    }
    if ((rc = json_field_str(res, body, "target", true, TARGET_MAX_LEN, &in->target)) < 0) return rc;
    const char *hp = NULL;
    if ((rc = json_field_str(res, body, "health_path", false, 127, &hp)) < 0) return rc;
    if (hp) {
        if (hp[0] != '/') return http_error(res, ERR_VALIDATION, "field 'health_path' must start with /");
        in->health_path = hp;
    }
    json_t *en = json_object_get(body, "enabled");
    if (en && !json_is_boolean(en))
        return http_error(res, ERR_VALIDATION, "field 'enabled' must be a boolean");
    if (en) in->enabled = json_is_true(en);
    if ((rc = json_field_int(res, body, "connect_timeout_ms", false, 1, 60000,
                             &in->connect_timeout_ms)) < 0 ||
        (rc = json_field_int(res, body, "response_timeout_ms", false, 1, 600000,
                             &in->response_timeout_ms)) < 0 ||
        (rc = json_field_int(res, body, "breaker_failures", false, 1, 1000,
                             &in->breaker_failures)) < 0 ||
        (rc = json_field_int(res, body, "breaker_cooldown_ms", false, 100, 3600000,
                             &in->breaker_cooldown_ms)) < 0 ||
        (rc = json_field_int(res, body, "rate_limit_per_min", false, 1, 1000000,
                             &in->rate_limit_per_min)) < 0 ||
        (rc = json_field_int(res, body, "cache_ttl_s", false, 0, GW_CACHE_TTL_MAX,
                             &in->cache_ttl_s)) < 0)
        return rc;
    json_t *pl = json_object_get(body, "plan_limits");
    char buf[160];
    const char *bad = NULL;
    if (pl && !json_is_null(pl)) bad = plan_limits_parse(pl, in->plan_limits, buf, sizeof buf);
    if (bad) return http_error(res, ERR_VALIDATION, "field 'plan_limits': %s", bad);
    const char *why = name_invalid(in->name);
    if (why) return http_error(res, ERR_VALIDATION, "field 'name': %s", why);
    return 0;
}

static int raise_registered(http_req_t *req, const svc_input_t *in, const char *type)
{
    return ev_raise(req, "gateway_service", in->name, type,
                    json_pack("{s:s, s:s, s:b}", "name", in->name, "target", in->target,
                              "enabled", in->enabled != 0));
}

static int svc_create(http_req_t *req, http_res_t *res)
{
    svc_input_t in;
    int rc = read_input(req, res, &in, NULL);
    if (rc < 0) return rc;
    const struct builtin *b;
    const char *why = target_invalid(in.target, &b);
    if (why) return http_error(res, ERR_VALIDATION, "field 'target': %s", why);
    if ((why = cache_invalid(&in, b))) return http_error(res, ERR_VALIDATION, "field %s", why);
    rc = db_upsert(req->db, &in, true);
    if (rc == ERR_EXISTS) return http_error(res, rc, "service %s already exists", in.name);
    if (rc < 0) return http_error(res, rc, NULL);
    if ((rc = raise_registered(req, &in, "RouteRegistered")) < 0) return http_error(res, rc, NULL);
    pthread_rwlock_wrlock(&g_lock);
    gw_service_t *s = find_locked(in.name) ? NULL : add_locked(&in, b);
    pthread_rwlock_unlock(&g_lock);
    if (!s) return http_error(res, ERR_EXISTS, "service %s already exists", in.name);
    return http_json(res, 201, service_json(s));
}

static int svc_update(http_req_t *req, http_res_t *res)
{
    svc_input_t in;
    const char *name = http_param(req, "name");
    int rc = read_input(req, res, &in, name);
    if (rc < 0) return rc;
    const struct builtin *b;
    const char *why = target_invalid(in.target, &b);
    if (why) return http_error(res, ERR_VALIDATION, "field 'target': %s", why);
    if ((why = cache_invalid(&in, b))) return http_error(res, ERR_VALIDATION, "field %s", why);
    rc = db_upsert(req->db, &in, false);
    if (rc == ERR_NOT_FOUND) return http_error(res, rc, "service %s not found", name);
    if (rc < 0) return http_error(res, rc, NULL);
    if ((rc = raise_registered(req, &in, "RouteRegistered")) < 0) return http_error(res, rc, NULL);
    pthread_rwlock_wrlock(&g_lock);
    gw_service_t *s = find_locked(name);
    if (s) {
        pthread_mutex_lock(&s->mu);
        fill(s, &in, b);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_rwlock_unlock(&g_lock);
    drop_cached(name); /* the target or the ttl may have changed */
    if (!s) return http_error(res, ERR_NOT_FOUND, "service %s not found", name);
    return http_json(res, 200, service_json(s));
}

static int svc_delete(http_req_t *req, http_res_t *res)
{
    const char *name = http_param(req, "name");
    int64_t n = 0;
    int rc = db_exec(req->db, &n, "DELETE FROM gateway_services WHERE name = $1",
                     DB_ARGS(DB_TEXT(name)));
    if (rc < 0) return http_error(res, rc, NULL);
    if (n == 0) return http_error(res, ERR_NOT_FOUND, "service %s not found", name);
    rc = ev_raise(req, "gateway_service", name, "RouteRemoved", json_pack("{s:s}", "name", name));
    if (rc < 0) return http_error(res, rc, NULL);
    pthread_rwlock_wrlock(&g_lock);
    gw_service_t *s = find_locked(name);
    if (s) s->removed = true;
    pthread_rwlock_unlock(&g_lock);
    drop_cached(name);
    res->status = 204;
    return 0;
}

static int svc_get(http_req_t *req, http_res_t *res)
{
    const char *name = http_param(req, "name");
    pthread_rwlock_rdlock(&g_lock);
    gw_service_t *s = find_locked(name);
    json_t *j = s ? service_json(s) : NULL;
    pthread_rwlock_unlock(&g_lock);
    if (!j) return http_error(res, ERR_NOT_FOUND, "service %s not found", name);
    return http_json(res, 200, j);
}

static int svc_list(http_req_t *req, http_res_t *res)
{
    (void)req;
    json_t *items = json_array();
    pthread_rwlock_rdlock(&g_lock);
    for (gw_service_t *s = g_services; s; s = s->next)
        if (!s->removed) json_array_append_new(items, service_json(s));
    pthread_rwlock_unlock(&g_lock);
    return http_json(res, 200, json_pack("{s:o}", "items", items));
}

static int brain_metrics(http_req_t *req, http_res_t *res)
{
    int64_t top = GW_DIST_TOP_DEFAULT;
    int rc = http_query_int(req, res, "top", 0, GW_DIST_MAX_TENANTS, &top);
    if (rc < 0) return rc;
    json_t *per = json_object();
    json_int_t total = 0, activations = 0, cache_hits = 0;
    pthread_rwlock_rdlock(&g_lock);
    for (gw_service_t *s = g_services; s; s = s->next) {
        if (s->removed) continue;
        json_t *j = service_json(s);
        total += json_integer_value(json_object_get(json_object_get(j, "stats"), "requests"));
        activations +=
            json_integer_value(json_object_get(json_object_get(j, "breaker"), "activations"));
        cache_hits += json_integer_value(json_object_get(json_object_get(j, "cache"), "hits"));
        json_object_set_new(per, s->name, j);
    }
    pthread_rwlock_unlock(&g_lock);
    /* one field per line: the summary grows */
    json_t *out = json_object();
    json_object_set_new(out, "total_requests", json_integer(total));
    json_object_set_new(out, "breaker_activations", json_integer(activations));
    json_object_set_new(out, "services", per);
    json_object_set_new(out, "cache_hits", json_integer(cache_hits));
    json_object_set_new(out, "tenant_distribution", gw_dist_json(g_dist, (size_t)top));
    return http_json(res, 200, out);
}

/* The proxy routes: real handling happens in dispatch (RT_GATEWAY), which
 * re-routes to the resolved path before any handler runs. */
static int brain_unreachable(http_req_t *req, http_res_t *res)
{
    (void)req;
    return http_error(res, ERR_INTERNAL, "gateway route reached without resolution");
}

static const route_t routes[] = {
    {"GET", "/api/brain/services", "platform.services", "List the service registry", svc_list, RT_PLATFORM},
    {"POST", "/api/brain/services", "platform.services", "Register a service", svc_create, RT_PLATFORM},
    {"GET", "/api/brain/services/{name}", "platform.services", "Get one service", svc_get, RT_PLATFORM},
    {"PUT", "/api/brain/services/{name}", "platform.services", "Update or disable a service",
     svc_update, RT_PLATFORM},
    {"DELETE", "/api/brain/services/{name}", "platform.services", "Remove a service", svc_delete,
     RT_PLATFORM},
    {"GET", "/api/brain/metrics", "platform.services",
     "Gateway summary: requests per service, breaker activations, tenant distribution",
     brain_metrics, RT_INLINE},
    {"GET", "/api/brain/{service}/{path...}", NULL, "Route to a registry service", brain_unreachable,
     RT_GATEWAY | RT_PUBLIC},
    {"POST", "/api/brain/{service}/{path...}", NULL, "Route to a registry service",
     brain_unreachable, RT_GATEWAY | RT_PUBLIC},
    {"PUT", "/api/brain/{service}/{path...}", NULL, "Route to a registry service",
     brain_unreachable, RT_GATEWAY | RT_PUBLIC},
    {"PATCH", "/api/brain/{service}/{path...}", NULL, "Route to a registry service",
     brain_unreachable, RT_GATEWAY | RT_PUBLIC},
    {"DELETE", "/api/brain/{service}/{path...}", NULL, "Route to a registry service",
     brain_unreachable, RT_GATEWAY | RT_PUBLIC},
};

static int ops_resolve(const char *service, const char *rest, arena_t *a, const char **path,
                       void **svc)
{
    gw_service_t *s = NULL;
    int rc = gw_resolve(service, rest, a, path, &s);
    *svc = s;
    return rc;
}
static int ops_admit(void *svc, const char *key, http_res_t *res) { return gw_admit(svc, key, res); }
static void ops_record(void *svc, int status, uint64_t micros) { gw_record(svc, status, micros); }

/* cache_prepare: what the response cache makes of a request to an HTTP
 * upstream (cache.h) — nothing when the service does not cache; a GET or
 * HEAD is looked up (true: a hit, answered in res) and a GET's answer will
 * be offered; any other method drops the tenant's answers once done. */
static bool cache_prepare(gw_service_t *s, http_req_t *req, http_res_t *res, const char *rest,
                          gw_cache_ctx_t *cc)
{
    memset(cc, 0, sizeof *cc);
    int64_t ttl = s->cache_ttl_s;
    if (!g_cache || ttl <= 0) return false;
    bool get = str_eq_cstr(req->method, "GET"), head = str_eq_cstr(req->method, "HEAD");
    /* a GET with a body is unusual enough not to guess about */
    if ((get || head) && (req->body_len || req->body_streamed)) return false;
    cc->cache = g_cache;
    cc->ttl_s = ttl;
    cc->stats = &s->cache;
    cc->key = gw_cache_key(req->arena, s->name, req->auth.tenant_id, req->auth.user_id, rest,
                           req->query, http_header(req, "Accept"),
                           http_header(req, "Accept-Encoding"), &cc->key_len, &cc->scope_len,
                           &cc->service_len);
    if (!get && !head) {
        cc->invalidate = true;
        return false;
    }
    bool no_cache, no_store;
    gw_cache_request_directives(req->headers, req->nheaders, &no_cache, &no_store);
    /* taken before the lookup: a write after it keeps this answer out */
    cc->gen = gw_cache_generation(g_cache, cc->key, cc->scope_len, cc->service_len);
    cc->store = get && !no_store; /* a HEAD answer has no body to keep */
    int64_t age;
    if (!no_cache && !no_store &&
        gw_cache_get(g_cache, cc->key, cc->key_len, clock_now_ms(), &res->headers, &res->body,
                     res->ctype_buf, sizeof res->ctype_buf, &age)) {
        atomic_fetch_add(&s->cache.hits, 1);
        res->status = 200;
        res->content_type = res->ctype_buf[0] ? res->ctype_buf : "application/octet-stream";
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)age);
        http_set_header(res, "Age", v);
        http_set_header(res, "X-Cache", "HIT");
        /* counted here, not by gw_record: a hit says nothing about the
         * upstream's health, so it must not feed (or close) the breaker —
         * and it gives back the half-open probe slot admission took */
        pthread_mutex_lock(&s->mu);
        s->requests++;
        s->ok++;
        if (s->breaker.state == GW_HALF_OPEN) s->breaker.probe_in_flight = false;
        pthread_mutex_unlock(&s->mu);
        req->gw = NULL; /* the kernel records nothing more */
        return true;
    }
    atomic_fetch_add(&s->cache.misses, 1);
    http_set_header(res, "X-Cache", "MISS");
    return false;
}

static int ops_proxy(void *svc, void *loop, http_req_t *req, http_res_t *res,
                     const char *rest, const char *client, void (*done)(void *), void *arg)
{
    gw_service_t *s = svc;
    gw_cache_ctx_t cc;
    if (cache_prepare(s, req, res, rest, &cc)) return 1; /* answered from memory */
    gw_proxy_req_t p = {
        .up = &s->up,
        .connect_timeout_ms = s->connect_timeout_ms,
        .response_timeout_ms = s->response_timeout_ms,
        .rest = rest,
        .client_addr = client,
        .stats = &s->upstream,
        .max_idle = g_cfg ? (int)g_cfg->upstream_keepalive : 0,
        .cache = &cc,
    };
    return gw_proxy_start(loop, &p, req, res, done, arg);
}

static void ops_loop_closing(void *loop)
{
    (void)loop;
    gw_proxy_loop_closing();
    gw_rl_redis_close();
}

static const http_gateway_ops_t ops = {ops_resolve, ops_admit, ops_record, ops_proxy,
                                       ops_loop_closing};

/* prometheus: per-service series for GET /metrics. */
static void prometheus(buf_t *out, void *arg)
{
    (void)arg;
    buf_append_str(out, "# HELP gateway_requests_total Requests through /api/brain by service and outcome.\n"
                        "# TYPE gateway_requests_total counter\n");
    pthread_rwlock_rdlock(&g_lock);
    for (gw_service_t *s = g_services; s; s = s->next) {
        if (s->removed) continue;
        pthread_mutex_lock(&s->mu);
        buf_printf(out,
                   "gateway_requests_total{service=\"%s\",outcome=\"ok\"} %llu\n"
                   "gateway_requests_total{service=\"%s\",outcome=\"client_error\"} %llu\n"
                   "gateway_requests_total{service=\"%s\",outcome=\"server_error\"} %llu\n"
                   "gateway_rejected_total{service=\"%s\",reason=\"breaker_open\"} %llu\n"
                   "gateway_rejected_total{service=\"%s\",reason=\"rate_limited\"} %llu\n"
                   "gateway_response_seconds_sum{service=\"%s\"} %.6f\n"
                   "gateway_breaker_state{service=\"%s\"} %d\n"
                   "gateway_breaker_activations_total{service=\"%s\"} %llu\n",
                   s->name, (unsigned long long)s->ok, s->name,
                   (unsigned long long)s->client_errors, s->name,
                   (unsigned long long)s->server_errors, s->name,
                   (unsigned long long)s->rejected_breaker, s->name,
                   (unsigned long long)s->rejected_rate, s->name, (double)s->micros_total / 1e6,
                   s->name, (int)s->breaker.state, s->name,
                   (unsigned long long)s->breaker.activations);
        pthread_mutex_unlock(&s->mu);
        if (s->mount[0]) continue; /* builtin: no upstream connections */
        gw_upstream_stats_t *u = &s->upstream;
        buf_printf(out,
                   "gateway_upstream_connections{service=\"%s\",state=\"open\"} %lld\n"
                   "gateway_upstream_connections{service=\"%s\",state=\"idle\"} %lld\n"
                   "gateway_upstream_connects_total{service=\"%s\"} %llu\n"
                   "gateway_upstream_reused_total{service=\"%s\"} %llu\n"
                   "gateway_upstream_retries_total{service=\"%s\"} %llu\n"
                   "gateway_upstream_retry_budget_exhausted_total{service=\"%s\"} %llu\n",
                   s->name, (long long)atomic_load(&u->open), s->name,
                   (long long)atomic_load(&u->idle), s->name,
                   (unsigned long long)atomic_load(&u->connects), s->name,
                   (unsigned long long)atomic_load(&u->reused), s->name,
                   (unsigned long long)atomic_load(&u->retries), s->name,
                   (unsigned long long)atomic_load(&u->budget_exhausted));
        gw_cache_stats_t *cs = &s->cache;
        buf_printf(out,
                   "gateway_cache_hits_total{service=\"%s\"} %llu\n"
                   "gateway_cache_misses_total{service=\"%s\"} %llu\n"
                   "gateway_cache_stores_total{service=\"%s\"} %llu\n"
                   "gateway_cache_evictions_total{service=\"%s\"} %llu\n",
                   s->name, (unsigned long long)atomic_load(&cs->hits), s->name,
                   (unsigned long long)atomic_load(&cs->misses), s->name,
                   (unsigned long long)atomic_load(&cs->stores), s->name,
                   (unsigned long long)atomic_load(&cs->evictions));
    }
    pthread_rwlock_unlock(&g_lock);
    buf_printf(out,
               "# HELP gateway_ratelimit_redis_failures_total Rate-limit checks Redis could not "
               "answer (answered by the process's own window).\n"
               "# TYPE gateway_ratelimit_redis_failures_total counter\n"
               "gateway_ratelimit_redis_failures_total %llu\n",
               (unsigned long long)gw_rl_redis_failures());
    if (g_cache)
        buf_printf(out,
                   "# HELP gateway_cache_bytes Memory held by the gateway response cache.\n"
                   "# TYPE gateway_cache_bytes gauge\n"
                   "gateway_cache_bytes %zu\n"
                   "gateway_cache_entries %zu\n",
                   gw_cache_bytes(g_cache), gw_cache_count(g_cache));
}

/* health_services: each service's status for GET /health: healthy while its
 * breaker is closed, down while open, degraded while probing. */
static void health_services(json_t *out, bool *degraded)
{
    pthread_rwlock_rdlock(&g_lock);
    for (gw_service_t *s = g_services; s; s = s->next) {
        if (s->removed) continue;
        pthread_mutex_lock(&s->mu);
        gw_breaker_state_t st = s->breaker.state;
        double avg = s->requests ? (double)s->micros_total / (double)s->requests / 1000.0 : 0.0;
        pthread_mutex_unlock(&s->mu);
        const char *status = !s->enabled         ? "disabled"
                             : st == GW_CLOSED   ? "healthy"
                             : st == GW_OPEN     ? "down"
                                                 : "degraded";
        if (s->enabled && st != GW_CLOSED) *degraded = true;
        json_t *entry = json_pack("{s:s, s:s, s:f}", "status", status, "breaker",
                                  gw_breaker_name(st), "avg_response_ms", avg);
        pthread_mutex_lock(&s->mu);
        if (s->checked)
            json_object_set_new(entry, "last_check",
                                json_pack("{s:b, s:i, s:f}", "ok", s->last_check_ok, "status",
                                          s->last_check_status, "response_ms", s->last_check_ms));
        pthread_mutex_unlock(&s->mu);
        json_object_set_new(out, s->name, entry);
    }
    pthread_rwlock_unlock(&g_lock);
}

void gw_register(router_t *r, const config_t *cfg)
{
    g_cfg = cfg;
    g_router = r;
    if (!g_rl) g_rl = gw_rl_new();
    cache_open();
    if (!g_plans) g_plans = gw_plan_table_new(GW_PLAN_TABLE_MAX);
    if (!g_dist) g_dist = gw_dist_new(GW_DIST_MAX_TENANTS);
    router_add(r, routes, sizeof routes / sizeof routes[0]);
    http_set_gateway(&ops);
    kernel_set_health_services(health_services);
    metrics_add_collector(prometheus, NULL);
}
