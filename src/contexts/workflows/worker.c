/* worker.c — workflow worker threads and the lease keeper.
 *
 * Each worker thread owns one database connection and loops: claim a due
 * step (one short write transaction, platform scope), run it outside any
 * transaction, record the result (another short transaction). Worker 0
 * also fires due cron schedules about once a second. The lease keeper
 * thread (own connection) renews the lease of every step this process is
 * running, every lease/3, until the step's timeout has passed; a process
 * that dies stops renewing, its leases expire, and other workers (in this
 * process or another) take the steps over.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "err.h"
#include "ids.h"
#include "log.h"
#include "metrics.h"
#include "wf_internal.h"

#define MAX_WORKERS 64
#define MAX_IDLE_BACKOFF_MS 5000
#define FINISH_TRIES 20

typedef struct active {
    wf_claim_t *c;
    struct active *next;
} active_t;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    const config_t *cfg;
    int n;
    pthread_t tids[MAX_WORKERS], keeper;
    bool started[MAX_WORKERS], keeper_started;
    char proc_id[48];
    active_t *active; /* steps running in this process (for the keeper) */
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static _Atomic long long n_steps, n_failed, n_lost;

static bool wait_ms(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&g.mu);
    while (!g.stop)
        if (pthread_cond_timedwait(&g.cv, &g.mu, &ts) == ETIMEDOUT) break;
    bool stop = g.stop;
    pthread_mutex_unlock(&g.mu);
    return stop;
}

bool wf__stopping(void)
{
    pthread_mutex_lock(&g.mu);
    bool s = g.stop;
    pthread_mutex_unlock(&g.mu);
    return s;
}

static bool stopping(void)
{
    pthread_mutex_lock(&g.mu);
    bool s = g.stop;
    pthread_mutex_unlock(&g.mu);
    return s;
}

static db_t *open_db(const char *who)
{
    char err[512];
    db_t *db = NULL;
    db_options_t o = {.connect_timeout_ms = (int)g.cfg->db_timeout_ms};
    if (db_open(g.cfg->database_url, &o, &db, err, sizeof err) < 0) {
        log_warn("workflows %s: cannot open the database: %s", who, err);
        return NULL;
    }
    return db;
}

static void track(wf_claim_t *c, active_t *a, bool add)
{
    pthread_mutex_lock(&g.mu);
    if (add) {
        a->c = c;
        a->next = g.active;
        g.active = a;
    } else {
        for (active_t **p = &g.active; *p; p = &(*p)->next)
            if (*p == a) {
                *p = a->next;
                break;
            }
    }
    pthread_mutex_unlock(&g.mu);
}

/* execute: runs the claimed step's function; returns the output (new
 * reference, may be NULL for null) or sets *err; *interrupted when the
 * function gave the attempt back. */
static json_t *execute(db_t *db, wf_claim_t *c, char *err, size_t errlen, bool *interrupted)
{
    json_error_t je;
    json_t *input = json_loads(c->input ? c->input : "{}", JSON_DECODE_ANY, &je);
    json_t *prev = json_loads(c->prev ? c->prev : "{}", 0, &je);
    wf_ctx_t ctx = {.tenant_id = c->tenant_id,
                    .run_id = c->run_id,
                    .attempt = c->attempt,
                    .deadline_ms = c->started_ms + wf__step_timeout(c->step),
                    .db = db};
    json_t *out = NULL;
    int rc = c->step->fn(input ? input : json_object(), prev ? prev : json_object(), &ctx, &out);
    wf__ctx_close(&ctx);
    json_decref(input);
    json_decref(prev);
    int64_t took = clock_now_ms() - c->started_ms;
    *interrupted = rc == WF_STEP_INTERRUPTED;
    if (*interrupted) {
        json_decref(out);
        snprintf(err, errlen, "interrupted");
        return NULL;
    }
    if (rc == 0 && took > wf__step_timeout(c->step)) {
        json_decref(out);
        snprintf(err, errlen, "timed out: took %lld ms, the limit is %lld ms", (long long)took,
                 (long long)wf__step_timeout(c->step));
        return NULL;
    }
    if (rc < 0) {
        json_decref(out);
        snprintf(err, errlen, "%s", ctx.error[0] ? ctx.error : err_message(rc));
        return NULL;
    }
    err[0] = '\0';
    return out ? out : json_null();
}

/* run_one: one claim; returns >0 when work was done, 0 when idle, <0 on a
 * database error. */
static int run_one(db_t *db, const char *owner, bool busy)
{
    int64_t lease = g.cfg->workflow_lease_ms;
    wf_claim_t c;
    /* idle check in a read transaction first: on SQLite a write
     * transaction takes the database's one write lock, which idle workers
     * polling every few milliseconds should not */
    int64_t due = 1;
    int rc;
    if (!busy) { /* after a claim, more work is likely: go straight on */
        rc = db_begin_platform(db, false);
        if (rc < 0) return rc;
        rc = db_query_one_int(db, &due,
                              "SELECT count(*) FROM (SELECT 1 FROM wf_steps WHERE due_ms <= $1 LIMIT 1) d",
                              DB_ARGS(DB_INT(clock_now_ms())));
        db_rollback(db);
        if (rc < 0) return rc;
        if (!due) return 0;
    }
    rc = db_begin_platform(db, true);
    if (rc < 0) return rc;
    /* A claim lost in a database crash is harmless (the step is simply
     * claimed again), and the result's commit flushes the WAL up to and
     * including it anyway: the claim need not wait for its own flush. */
    if (db_backend(db) == DB_POSTGRES &&
        (rc = db_exec(db, NULL, "SET LOCAL synchronous_commit TO off", DB_NOARGS)) < 0) {
        db_rollback(db);
        return rc;
    }
    rc = wf__claim(db, owner, lease, clock_now_ms(), &c);
    if (rc <= 0) {
        if (rc < 0) log_kv(LOG_WARN, "workflow claim failed", "error", db_errmsg(db), NULL);
        db_rollback(db);
        return rc;
    }
    int crc = db_commit(db);
    if (crc < 0) {
        if (rc == 1) wf__claim_free(&c);
        return crc;
    }
    if (rc == 2) return 1;
    active_t a;
    track(&c, &a, true);
    char err[600];
    bool interrupted = false;
    json_t *out = execute(db, &c, err, sizeof err, &interrupted);
    track(&c, &a, false);
    atomic_fetch_add(&n_steps, 1);
    if (err[0] && !interrupted) atomic_fetch_add(&n_failed, 1);
    /* record the result; SQLite may be busy for a moment, PostgreSQL may
     * pick us as a deadlock victim: retry a little, the lease covers us */
    for (int i = 0; i < FINISH_TRIES; i++) {
        rc = db_begin_platform(db, true);
        if (rc == 0) {
            rc = interrupted ? wf__release(db, &c, owner, clock_now_ms())
                             : wf__finish(db, &c, owner, out ? json_incref(out) : NULL,
                                          err[0] ? err : NULL, clock_now_ms());
            if (rc >= 0) {
                if (rc == 1) atomic_fetch_add(&n_lost, 1);
                rc = db_commit(db);
                if (rc == 0) break;
            }
            db_rollback(db);
        }
        if (rc == ERR_DB_UNAVAILABLE) db_ping(db);
        usleep(50000);
    }
    if (rc < 0)
        log_kv(LOG_WARN, "workflow step result not recorded; the step will be retried",
               "run_id", c.run_id, "error", db_errmsg(db), NULL);
    json_decref(out);
    wf__claim_free(&c);
    return 1;
}

static void *worker_main(void *arg)
{
    int idx = (int)(intptr_t)arg;
    char owner[64];
    snprintf(owner, sizeof owner, "%s/%d", g.proc_id, idx);
    db_t *db = NULL;
    int64_t idle = g.cfg->workflow_poll_ms, next_sched = 0;
    bool busy = false;
    while (!stopping()) {
        if (!db && !(db = open_db("worker"))) {
            if (wait_ms(MAX_IDLE_BACKOFF_MS)) break;
            continue;
        }
        int64_t now = clock_now_ms();
        if (idx == 0 && now >= next_sched) {
            if (wf__schedule_pass(db, now) < 0) db_rollback(db);
            next_sched = now + 1000;
        }
        int rc = run_one(db, owner, busy);
        busy = rc > 0;
        if (rc > 0) {
            idle = g.cfg->workflow_poll_ms;
            continue;
        }
        if (rc < 0) {
            if (rc == ERR_DB_UNAVAILABLE) {
                db_close(db);
                db = NULL;
            }
            idle = idle * 2 < MAX_IDLE_BACKOFF_MS ? idle * 2 : MAX_IDLE_BACKOFF_MS;
        } else {
            idle = g.cfg->workflow_poll_ms;
        }
        if (wait_ms(idle)) break;
    }
    db_close(db);
    return NULL;
}

typedef struct renew_item {
    char tenant[128], run[40];
    int idx, attempt;
    int64_t until_ok; /* renew only before the step's timeout */
} renew_item_t;

static void *keeper_main(void *arg)
{
    (void)arg;
    db_t *db = NULL;
    int64_t lease = g.cfg->workflow_lease_ms, period = lease / 3 > 10 ? lease / 3 : 10;
    char like[64]; /* every worker of this process: "<proc_id>/<n>" */
    snprintf(like, sizeof like, "%s/%%", g.proc_id);
    while (!wait_ms(period)) {
        renew_item_t items[MAX_WORKERS];
        int n = 0;
        pthread_mutex_lock(&g.mu);
        for (active_t *a = g.active; a && n < MAX_WORKERS; a = a->next) {
            renew_item_t *it = &items[n++];
            snprintf(it->tenant, sizeof it->tenant, "%s", a->c->tenant_id);
            snprintf(it->run, sizeof it->run, "%s", a->c->run_id);
            it->idx = a->c->idx;
            it->attempt = a->c->attempt;
            it->until_ok = a->c->started_ms + wf__step_timeout(a->c->step);
        }
        pthread_mutex_unlock(&g.mu);
        if (!n) continue;
        if (!db && !(db = open_db("lease keeper"))) continue;
        int64_t now = clock_now_ms();
        for (int i = 0; i < n; i++) {
            if (now >= items[i].until_ok) continue; /* overran its timeout: let the lease lapse */
            if (db_begin_platform(db, true) < 0) break;
            int64_t until = now + lease;
            if (until > items[i].until_ok + lease) until = items[i].until_ok + lease;
            int rc = db_exec(db, NULL,
                             "UPDATE wf_steps SET due_ms = $5 WHERE tenant_id = $1 AND run_id = $2 "
                             "AND idx = $3 AND attempts = $4 AND status = 'running' AND "
                             "lease_owner LIKE $6",
                             DB_ARGS(DB_TEXT(items[i].tenant), DB_TEXT(items[i].run),
                                     DB_INT(items[i].idx), DB_INT(items[i].attempt), DB_INT(until),
                                     DB_TEXT(like)));
            if (rc == 0)
                db_commit(db);
            else
                db_rollback(db);
        }
    }
    db_close(db);
    return NULL;
}

static void collect(buf_t *out, void *arg)
{
    (void)arg;
    buf_printf(out,
               "# TYPE bizosaas_workflow_steps_total counter\n"
               "bizosaas_workflow_steps_total %lld\n"
               "# TYPE bizosaas_workflow_step_failures_total counter\n"
               "bizosaas_workflow_step_failures_total %lld\n"
               "# TYPE bizosaas_workflow_results_discarded_total counter\n"
               "bizosaas_workflow_results_discarded_total %lld\n",
               (long long)atomic_load(&n_steps), (long long)atomic_load(&n_failed),
               (long long)atomic_load(&n_lost));
}

int wf_start(const config_t *cfg)
{
    static bool collector_added;
    g.cfg = cfg;
    g.stop = false;
    char id[ID_UUID_LEN + 1];
    id_uuidv7(id);
    /* "<pid>-<uuid prefix>": workers are "<proc_id>/<n>" (the keeper matches them with LIKE) */
    snprintf(g.proc_id, sizeof g.proc_id, "%d-%.24s", (int)getpid(), id);
    if (!collector_added) {
        metrics_add_collector(collect, NULL);
        collector_added = true;
    }
    g.n = (int)(cfg->workflow_workers < MAX_WORKERS ? cfg->workflow_workers : MAX_WORKERS);
    for (int i = 0; i < g.n; i++) {
        if (pthread_create(&g.tids[i], NULL, worker_main, (void *)(intptr_t)i) != 0) {
            wf_stop();
            return ERR_INTERNAL;
        }
        g.started[i] = true;
    }
    if (g.n > 0) {
        if (pthread_create(&g.keeper, NULL, keeper_main, NULL) != 0) {
            wf_stop();
            return ERR_INTERNAL;
        }
        g.keeper_started = true;
        log_info("workflows: %d worker thread(s), lease %lld ms", g.n,
                 (long long)cfg->workflow_lease_ms);
    }
    return 0;
}

void wf_stop(void)
{
    pthread_mutex_lock(&g.mu);
    g.stop = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    for (int i = 0; i < MAX_WORKERS; i++) {
        if (g.started[i]) pthread_join(g.tids[i], NULL);
        g.started[i] = false;
    }
    if (g.keeper_started) pthread_join(g.keeper, NULL);
    g.keeper_started = false;
}
