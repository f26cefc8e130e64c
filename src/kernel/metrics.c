/* metrics.c — sharded request counters, latency histograms and gauges. */
#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

static const double bucket_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                   0.05,   0.1,   0.25,   0.5,   1.0,  2.5, 10.0};
#define NBUCKETS (sizeof bucket_le / sizeof bucket_le[0])

typedef struct series {
    const char *route; /* static */
    char method[12];
    int status;
    uint64_t count;
    uint64_t buckets[NBUCKETS]; /* non-cumulative */
    double sum;
} series_t;

struct metrics_shard {
    pthread_mutex_t mu;
    series_t *v;
    size_t n, cap;
};

typedef struct collector {
    void (*fn)(buf_t *, void *);
    void *arg;
} collector_t;

static metrics_shard_t *g_shards;
static int g_nshards;
static _Atomic int64_t g_conn, g_queue, g_pool;
static collector_t g_collectors[16];
static int g_ncollectors;

void metrics_init(int nshards)
{
    g_nshards = nshards;
    g_shards = xcalloc((size_t)nshards, sizeof *g_shards);
    for (int i = 0; i < nshards; i++) pthread_mutex_init(&g_shards[i].mu, NULL);
}

void metrics_shutdown(void)
{
    for (int i = 0; i < g_nshards; i++) {
        pthread_mutex_destroy(&g_shards[i].mu);
        free(g_shards[i].v);
    }
    free(g_shards);
    g_shards = NULL;
    g_nshards = 0;
    g_ncollectors = 0;
}

metrics_shard_t *metrics_shard(int i) { return &g_shards[i]; }

void metrics_observe(metrics_shard_t *s, const char *route, str_t method, int status,
                     uint64_t micros)
{
    if (!s) return;
    char m[12];
    size_t ml = method.n < sizeof m - 1 ? method.n : sizeof m - 1;
    memcpy(m, method.p, ml);
    m[ml] = '\0';
    double secs = (double)micros / 1e6;
    pthread_mutex_lock(&s->mu);
    series_t *se = NULL;
    for (size_t i = 0; i < s->n; i++) {
        series_t *x = &s->v[i];
        if (x->route == route && x->status == status && strcmp(x->method, m) == 0) {
            se = x;
            break;
        }
    }
    if (!se) {
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 32;
            s->v = xrealloc(s->v, s->cap * sizeof *s->v);
        }
        se = &s->v[s->n++];
        memset(se, 0, sizeof *se);
        se->route = route;
        memcpy(se->method, m, ml + 1);
        se->status = status;
    }
    se->count++;
    se->sum += secs;
    for (size_t b = 0; b < NBUCKETS; b++) {
        if (secs <= bucket_le[b]) {
            se->buckets[b]++;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

void metrics_conn_delta(int d) { atomic_fetch_add(&g_conn, d); }
int64_t metrics_conn_open(void) { return atomic_load(&g_conn); }
void metrics_queue_delta(int d) { atomic_fetch_add(&g_queue, d); }
void metrics_pool_delta(int d) { atomic_fetch_add(&g_pool, d); }

void metrics_add_collector(void (*fn)(buf_t *, void *), void *arg)
{
    if (g_ncollectors < (int)(sizeof g_collectors / sizeof g_collectors[0]))
        g_collectors[g_ncollectors++] = (collector_t){fn, arg};
}

/* merge: all shards' series folded into one array (route/method/status unique). */
static series_t *merge(size_t *n_out)
{
    series_t *all = NULL;
    size_t n = 0, cap = 0;
    for (int i = 0; i < g_nshards; i++) {
        metrics_shard_t *s = &g_shards[i];
        pthread_mutex_lock(&s->mu);
        for (size_t k = 0; k < s->n; k++) {
            series_t *x = &s->v[k], *t = NULL;
            for (size_t j = 0; j < n; j++) {
                if (all[j].route == x->route && all[j].status == x->status &&
                    strcmp(all[j].method, x->method) == 0) {
                    t = &all[j];
                    break;
                }
            }
            if (!t) {
                if (n == cap) {
                    cap = cap ? cap * 2 : 32;
                    all = xrealloc(all, cap * sizeof *all);
                }
                t = &all[n++];
                *t = *x;
                continue;
            }
            t->count += x->count;
            t->sum += x->sum;
            for (size_t b = 0; b < NBUCKETS; b++) t->buckets[b] += x->buckets[b];
        }
        pthread_mutex_unlock(&s->mu);
    }
    *n_out = n;
    return all;
}

void metrics_render(buf_t *out)
{
    size_t n;
    series_t *all = merge(&n);
    buf_append_str(out, "# HELP http_requests_total HTTP requests by route, method and status.\n"
                        "# TYPE http_requests_total counter\n");
    for (size_t i = 0; i < n; i++)
        buf_printf(out, "http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                   all[i].route, all[i].method, all[i].status, (unsigned long long)all[i].count);
    buf_append_str(out, "# HELP http_request_duration_seconds Time from complete request to "
                        "response written to the socket buffer.\n"
                        "# TYPE http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < n; i++) {
        uint64_t cum = 0;
        for (size_t b = 0; b < NBUCKETS; b++) {
            cum += all[i].buckets[b];
            buf_printf(out,
                       "http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",status=\"%d\","
                       "le=\"%g\"} %llu\n",
                       all[i].route, all[i].method, all[i].status, bucket_le[b],
                       (unsigned long long)cum);
        }
        buf_printf(out,
                   "http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",status=\"%d\","
                   "le=\"+Inf\"} %llu\n",
                   all[i].route, all[i].method, all[i].status, (unsigned long long)all[i].count);
        buf_printf(out,
                   "http_request_duration_seconds_sum{route=\"%s\",method=\"%s\",status=\"%d\"} %.6f\n",
                   all[i].route, all[i].method, all[i].status, all[i].sum);
        buf_printf(out,
                   "http_request_duration_seconds_count{route=\"%s\",method=\"%s\",status=\"%d\"} "
                   "%llu\n",
                   all[i].route, all[i].method, all[i].status, (unsigned long long)all[i].count);
    }
    free(all);
    buf_printf(out,
               "# HELP http_open_connections Open client connections.\n"
               "# TYPE http_open_connections gauge\nhttp_open_connections %lld\n"
               "# HELP worker_queue_depth Requests waiting for a worker.\n"
               "# TYPE worker_queue_depth gauge\nworker_queue_depth %lld\n"
               "# HELP db_pool_in_use Worker database connections busy with a request.\n"
               "# TYPE db_pool_in_use gauge\ndb_pool_in_use %lld\n",
               (long long)atomic_load(&g_conn), (long long)atomic_load(&g_queue),
               (long long)atomic_load(&g_pool));
    for (int i = 0; i < g_ncollectors; i++) g_collectors[i].fn(out, g_collectors[i].arg);
}
