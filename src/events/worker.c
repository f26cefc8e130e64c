/* worker.c — the dispatcher and relay threads.
 *
 * Each thread owns one database connection (opened here, never shared with
 * the I/O threads or workers) and loops: a pass, then, when the pass found
 * nothing to do or failed, a wait of poll_ms (longer after failures, up to
 * a few seconds) on a condition variable that ev_stop() signals. A broken
 * connection is reopened on the next pass. Nothing here blocks an I/O
 * thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "events_internal.h"
#include "log.h"
#include "metrics.h"

#define MAX_IDLE_BACKOFF_MS 5000

typedef struct ev_thread {
    pthread_t tid;
    bool started;
    bool relay;
} ev_thread_t;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    ev_options_t opt;
    const config_t *cfg;
    ev_thread_t dispatcher, relay;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* wait_ms: sleeps up to ms unless stopped; returns true when stopping. */
static bool wait_ms(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* the condvar's default clock */
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&g.mu);
    while (!g.stop) {
        if (pthread_cond_timedwait(&g.cv, &g.mu, &ts) == ETIMEDOUT) break;
    }
    bool stop = g.stop;
    pthread_mutex_unlock(&g.mu);
    return stop;
}

static bool stopping(void)
{
    pthread_mutex_lock(&g.mu);
    bool s = g.stop;
    pthread_mutex_unlock(&g.mu);
    return s;
}

static void *thread_main(void *arg)
{
    ev_thread_t *t = arg;
    db_t *db = NULL;
    void *redis = NULL;
    int64_t idle = g.opt.poll_ms, next_prune = 0;
    /* retention: a pass every half retention period, at most once a minute */
    int64_t ret_ms = g.cfg->events_retention_s * 1000;
    int64_t prune_every = ret_ms / 2 < 60000 ? (ret_ms / 2 > 200 ? ret_ms / 2 : 200) : 60000;
    while (!stopping()) {
        if (!db) {
            char err[512];
            db_options_t dbo = {.connect_timeout_ms = (int)g.cfg->db_timeout_ms};
            if (db_open(g.cfg->database_url, &dbo, &db, err, sizeof err) < 0) {
                log_warn("events %s: cannot open the database: %s", t->relay ? "relay" : "dispatcher",
                         err);
                db = NULL;
                if (wait_ms(MAX_IDLE_BACKOFF_MS)) break;
                continue;
            }
        }
        int n = t->relay ? ev_relay_pending(db, &g.opt, &redis)
                         : ev_deliver_pending(db, &g.opt, clock_now_ms());
        if (!t->relay && n >= 0 && ret_ms > 0 && clock_now_ms() >= next_prune) {
            int p = ev_prune(db, g.cfg->events_retention_s, g.cfg->redis_url && *g.cfg->redis_url,
                             clock_now_ms());
            if (p < 0) log_warn("events: outbox retention pass failed: %s", db_errmsg(db));
            next_prune = clock_now_ms() + prune_every;
        }
        if (n > 0) {
            idle = g.opt.poll_ms;
            continue;
        }
        if (n < 0) {
            if (n == ERR_DB_UNAVAILABLE) {
                db_close(db);
                db = NULL;
            }
            idle = idle * 2 < MAX_IDLE_BACKOFF_MS ? idle * 2 : MAX_IDLE_BACKOFF_MS;
            if (n == ERR_UNAVAILABLE)
                log_kv(LOG_WARN, "redis relay: Redis unavailable; events wait in the outbox", NULL);
        } else {
            idle = g.opt.poll_ms;
        }
        if (wait_ms(idle)) break;
    }
    ev_relay_close(&redis);
    db_close(db);
    return NULL;
}

static void collect(buf_t *out, void *arg)
{
    (void)arg;
    buf_printf(out,
               "# TYPE bizosaas_events_delivered_total counter\n"
               "bizosaas_events_delivered_total %lld\n"
               "# TYPE bizosaas_events_failed_total counter\n"
               "bizosaas_events_failed_total %lld\n"
               "# TYPE bizosaas_events_dead_lettered_total counter\n"
               "bizosaas_events_dead_lettered_total %lld\n"
               "# TYPE bizosaas_events_relayed_total counter\n"
               "bizosaas_events_relayed_total %lld\n"
               "# TYPE bizosaas_events_relay_errors_total counter\n"
               "bizosaas_events_relay_errors_total %lld\n"
               "# TYPE bizosaas_events_pruned_total counter\n"
               "bizosaas_events_pruned_total %lld\n",
               (long long)atomic_load(&ev__delivered), (long long)atomic_load(&ev__failed),
               (long long)atomic_load(&ev__dead), (long long)atomic_load(&ev__relayed),
               (long long)atomic_load(&ev__relay_errors), (long long)atomic_load(&ev__pruned));
}

static int start_thread(ev_thread_t *t, bool relay)
{
    t->relay = relay;
    if (pthread_create(&t->tid, NULL, thread_main, t) != 0) return ERR_INTERNAL;
    t->started = true;
    return 0;
}

int ev_start(const config_t *cfg)
{
    static bool collector_added;
    g.cfg = cfg;
    g.stop = false;
    ev_options_from_config(cfg, &g.opt);
    if (!collector_added) {
        metrics_add_collector(collect, NULL);
        collector_added = true;
    }
    if ((ev__nsubs > 0 || cfg->events_retention_s > 0) && start_thread(&g.dispatcher, false) < 0)
        return ERR_INTERNAL;
    if (cfg->redis_url && *cfg->redis_url) {
        if (start_thread(&g.relay, true) < 0) {
            ev_stop();
            return ERR_INTERNAL;
        }
        log_info("events: relaying to Redis Streams bizosaas:events:<tenant_id>");
    }
    return 0;
}

void ev_stop(void)
{
    pthread_mutex_lock(&g.mu);
    g.stop = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    ev_thread_t *ts[] = {&g.dispatcher, &g.relay};
    for (int i = 0; i < 2; i++) {
        if (ts[i]->started) pthread_join(ts[i]->tid, NULL);
        ts[i]->started = false;
    }
}
