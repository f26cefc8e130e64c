/* pool.c — fixed worker threads over one mutex-protected FIFO. */
#include "pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "err.h"
#include "log.h"
#include "metrics.h"

typedef struct worker {
    pool_t *pool;
    pthread_t thread;
    db_t *db;
    int64_t next_connect_ms; /* do not retry opening before this */
} worker_t;

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pool_job_t *head, *tail;
    size_t queued, queue_max;
    bool stopping;
    char *db_url;
    db_options_t opt;
    worker_t *workers;
    size_t n;
    worker_t *readers; /* one per I/O thread, SQLite only (pool_reader) */
    size_t nreaders;
    bool sqlite;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ensure_db: the worker's connection, opened on first use. A failed open is
 * not retried for 250 ms so that a database outage costs each request at
 * most one fast failure instead of a connect timeout. */
static db_t *open_db(worker_t *w, const db_options_t *opt)
{
    if (w->db) return w->db;
    int64_t now = now_ms();
    if (now < w->next_connect_ms) return NULL;
    char err[256];
    if (db_open(w->pool->db_url, opt, &w->db, err, sizeof err) < 0) {
        w->db = NULL;
        w->next_connect_ms = now + 250;
        log_warn("worker cannot open the database: %s", err);
        return NULL;
    }
    return w->db;
}

static db_t *ensure_db(worker_t *w) { return open_db(w, &w->pool->opt); }

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    pool_t *p = w->pool;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->head && !p->stopping) pthread_cond_wait(&p->cv, &p->mu);
        if (!p->head && p->stopping) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        pool_job_t *j = p->head;
        p->head = j->next;
        if (!p->head) p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->mu);
        metrics_queue_delta(-1);
        metrics_pool_delta(1);
        j->run(j, ensure_db(w));
        metrics_pool_delta(-1);
        j->complete(j);
    }
    return NULL;
}

pool_t *pool_new(int n, const char *db_url, const db_options_t *opt, size_t queue_max)
{
    pool_t *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->queue_max = queue_max;
    p->db_url = xstrdup(db_url);
    p->opt = *opt;
    /* an in-memory database is private to each connection: no readers */
    p->sqlite = db_url_backend(db_url) == DB_SQLITE && !strstr(db_url, ":memory:");
    p->n = (size_t)n;
    p->workers = xcalloc(p->n, sizeof *p->workers);
    for (size_t i = 0; i < p->n; i++) {
        p->workers[i].pool = p;
        if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]) != 0) {
            log_error("cannot start worker thread");
            abort();
        }
    }
    return p;
}

int pool_submit(pool_t *p, pool_job_t *job)
{
    job->next = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->queued >= p->queue_max || p->stopping) {
        pthread_mutex_unlock(&p->mu);
        return ERR_OVERLOADED;
    }
    if (p->tail)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    p->queued++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    metrics_queue_delta(1);
    return 0;
}

void pool_set_readers(pool_t *p, int nreaders)
{
    if (!p->sqlite || nreaders <= 0) return;
    p->nreaders = (size_t)nreaders;
    p->readers = xcalloc(p->nreaders, sizeof *p->readers);
    for (size_t i = 0; i < p->nreaders; i++)
        p->readers[i].pool = p;
}

db_t *pool_reader(pool_t *p, int slot)
{
    if (slot < 0 || (size_t)slot >= p->nreaders) return NULL;
    /* busy timeout 0: never wait for a lock on an I/O thread */
    db_options_t opt = p->opt;
    opt.no_wait = true;
    return open_db(&p->readers[slot], &opt);
}

void pool_free(pool_t *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->n; i++) {
        pthread_join(p->workers[i].thread, NULL);
        db_close(p->workers[i].db);
    }
    for (size_t i = 0; i < p->nreaders; i++)
        db_close(p->readers[i].db);
    free(p->readers);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->workers);
    free(p->db_url);
    free(p);
}

size_t pool_size(const pool_t *p) { return p->n; }
