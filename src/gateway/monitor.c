/* monitor.c — the gateway's background thread: active health checks of HTTP
 * upstreams (every BIZOSAAS_HEALTH_INTERVAL_MS, feeding the same breakers as
 * live traffic), ServiceHealthChanged events for every breaker change, and
 * the tenants' plans for per-plan rate limits (plans.h).
 *
 * Breakers change on I/O threads, which never touch the database; they queue
 * the change and this thread writes it to the outbox in a platform-scope
 * transaction with its own connection. A change is dropped from the queue
 * only after its transaction committed, so a database outage delays events
 * but loses none (while the process lives). Health checks block this thread
 * only (libcurl), never an I/O thread.
 *
 * Plans: every BIZOSAAS_GATEWAY_PLAN_REFRESH_MS the tenants whose updated_at
 * is at or after the start of the previous read minus PLAN_OVERLAP_MS are
 * read again (platform scope: tenants is under row-level security). The
 * overlap covers a transaction that stamped updated_at before our previous
 * read but committed after it, and clocks of other processes that run a
 * little behind ours; re-reading a minute of changes is cheap. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "db.h"
#include "err.h"
#include "events/events.h"
#include "gateway_internal.h"
#include "log.h"

#define TICK_MS 100
#define MAX_BATCH 64
#define PLAN_OVERLAP_MS 60000

static pthread_t g_thread;
static bool g_running;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static bool g_stop;
static char *g_url;
static int64_t g_interval_ms;
static int64_t g_plan_refresh_ms;
static int64_t g_plans_since_ms; /* the start of the last successful read */
static int64_t g_plans_next_ms;

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static void check_one(const gw__check_t *c)
{
    char url[700];
    snprintf(url, sizeof url, "http://%s%s%s:%d%s%s", strchr(c->up.host, ':') ? "[" : "",
             c->up.host, strchr(c->up.host, ':') ? "]" : "", c->up.port, c->up.base,
             c->health_path);
    CURL *h = curl_easy_init();
    if (!h) return;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
    long total = (long)(c->response_timeout_ms < g_interval_ms ? c->response_timeout_ms : g_interval_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "bizosaas-gateway-health/" BZ_VERSION);
    int64_t t0 = clock_now_ms();
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    bool ok = rc == CURLE_OK && status >= 200 && status < 400;
    gw__health_result(c->svc, ok, (double)(clock_now_ms() - t0), (int)status);
}

/* open_db: the thread's connection, opened on first use; false while the
 * database cannot be reached (the caller retries on a later tick). */
static bool open_db(db_t **db)
{
    if (*db) return true;
    char err[256];
    db_options_t o = {.connect_timeout_ms = 1000};
    if (db_open(g_url, &o, db, err, sizeof err) < 0) {
        *db = NULL;
        return false;
    }
    return true;
}

/* refresh_plans: the tenants changed lately into the plan table. */
static void refresh_plans(db_t **db)
{
    int64_t now = clock_now_ms();
    if (now < g_plans_next_ms) return;
    g_plans_next_ms = now + g_plan_refresh_ms;
    if (!open_db(db) || db_begin_platform(*db, false) < 0) return;
    char since[32];
    clock_rfc3339(g_plans_since_ms - PLAN_OVERLAP_MS, since);
    int n = gw_plan_table_load(gw__plans(), *db, since);
    db_rollback(*db); /* read only */
    if (n < 0) {
        log_warn("gateway: cannot read the tenants' plans: %s", db_errmsg(*db));
        return; /* the same interval again next time: nothing is skipped */
    }
    g_plans_since_ms = now;
}

/* write_changes: the queued breaker changes as events, in one transaction. */
static void write_changes(db_t **db)
{
    gw__change_t ch[MAX_BATCH];
    size_t n = gw__peek_changes(ch, MAX_BATCH);
    if (n == 0) return;
    if (!open_db(db)) return; /* retried on the next tick; nothing is dropped */
    if (db_begin_platform(*db, true) < 0) return;
    for (size_t i = 0; i < n; i++) {
        char at[32];
        clock_rfc3339(ch[i].at_ms, at);
        json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s}", "service", ch[i].name, "from",
                              ch[i].from, "to", ch[i].to, "at", at, "reason", ch[i].reason);
        if (ev_raise_db(*db, EV_PLATFORM_TENANT, "gateway_service", ch[i].name,
                        "ServiceHealthChanged", p, NULL) < 0) {
            db_rollback(*db);
            return;
        }
    }
    if (db_commit(*db) == 0) gw__drop_changes(n);
}

static void *monitor_main(void *arg)
{
    (void)arg;
    db_t *db = NULL;
    pthread_mutex_lock(&g_mu);
    while (!g_stop) {
        pthread_mutex_unlock(&g_mu);
        write_changes(&db);
        refresh_plans(&db);
        gw__check_t due[16];
        size_t n = gw__due_checks(due, 16, clock_now_ms(), g_interval_ms);
        for (size_t i = 0; i < n; i++) check_one(&due[i]);
        if (n) write_changes(&db); /* changes the checks caused, at once */
        pthread_mutex_lock(&g_mu);
        if (g_stop) break;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g_cv, &g_mu, &until);
    }
    pthread_mutex_unlock(&g_mu);
    write_changes(&db); /* the last ones, if the database allows */
    db_close(db);
    return NULL;
}

int gw__monitor_start(const char *db_url, int64_t interval_ms, int64_t plan_refresh_ms,
                      int64_t plans_loaded_ms)
{
    if (g_running) return 0;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_url = strdup(db_url);
    g_interval_ms = interval_ms > 0 ? interval_ms : 30000;
    g_plan_refresh_ms = plan_refresh_ms > 0 ? plan_refresh_ms : 5000;
    g_plans_since_ms = plans_loaded_ms;
    g_plans_next_ms = clock_now_ms() + g_plan_refresh_ms;
    g_stop = false;
    if (pthread_create(&g_thread, NULL, monitor_main, NULL) != 0) {
        free(g_url);
        g_url = NULL;
        return ERR_INTERNAL;
    }
    g_running = true;
    return 0;
}

void gw__monitor_stop(void)
{
    if (!g_running) return;
    pthread_mutex_lock(&g_mu);
    g_stop = true;
    pthread_cond_signal(&g_cv);
    pthread_mutex_unlock(&g_mu);
    pthread_join(g_thread, NULL);
    g_running = false;
    free(g_url);
    g_url = NULL;
    curl_global_cleanup();
}
