/* sched.c — scheduled publishing: a thread with its own database
 * connection calls cms_publish_due every BIZOSAAS_CMS_SCHEDULE_INTERVAL_MS.
 * A stand-in until the workflow scheduler can own this timer: it is one
 * function call to move (cms_publish_due). With several processes each
 * runs its timer; publishing a due page twice is harmless (the second run
 * finds no publish_at). */
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "clock.h"
#include "cms.h"
#include "internal.h"
#include "log.h"

static pthread_t g_thread;
static bool g_running, g_stop;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;

static void *sched_main(void *arg)
{
    (void)arg;
    db_t *db = NULL;
    for (;;) {
        pthread_mutex_lock(&g_mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ms = cms__cfg->cms_schedule_interval_ms;
        until.tv_sec += ms / 1000;
        until.tv_nsec += (ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
        while (!g_stop && pthread_cond_timedwait(&g_cv, &g_mu, &until) == 0) {}
        bool stop = g_stop;
        pthread_mutex_unlock(&g_mu);
        if (stop) break;
        if (!db) {
            char err[256];
            db_options_t o = {.connect_timeout_ms = (int)cms__cfg->db_timeout_ms};
            if (db_open(cms__cfg->database_url, &o, &db, err, sizeof err) < 0) {
                db = NULL;
                continue;
            }
        }
        int n = 0;
        if (cms_publish_due(db, clock_now_ms(), &n) < 0) {
            log_kv(LOG_WARN, "cms: scheduled publishing failed", "error", db_errmsg(db), NULL);
            db_close(db);
            db = NULL;
        }
    }
    if (db) db_close(db);
    return NULL;
}

int cms__sched_start(void)
{
    g_stop = false;
    if (pthread_create(&g_thread, NULL, sched_main, NULL) != 0) {
        log_error("cms: cannot start the scheduled-publishing thread");
        return -1;
    }
    g_running = true;
    return 0;
}

void cms__sched_stop(void)
{
    if (!g_running) return;
    pthread_mutex_lock(&g_mu);
    g_stop = true;
    pthread_cond_signal(&g_cv);
    pthread_mutex_unlock(&g_mu);
    pthread_join(g_thread, NULL);
    g_running = false;
}
