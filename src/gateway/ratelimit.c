/* ratelimit.c — two-bucket sliding windows in a hash table whose buckets
 * are guarded by striped mutexes (I/O threads seldom wait on each other). */
#include "ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "str.h"

#define RL_BUCKETS 4096
#define RL_STRIPES 64 /* bucket b is guarded by mu[b % RL_STRIPES] */

typedef struct rl_entry {
    struct rl_entry *next;
    int64_t window_start; /* start of the current fixed window */
    int64_t cur, prev;    /* counts of the current and the previous window */
    char key[];
} rl_entry_t;

struct gw_ratelimit {
    pthread_mutex_t mu[RL_STRIPES];
    rl_entry_t *buckets[RL_BUCKETS];
};

gw_ratelimit_t *gw_rl_new(void)
{
    gw_ratelimit_t *rl = xcalloc(1, sizeof *rl);
    for (int i = 0; i < RL_STRIPES; i++) pthread_mutex_init(&rl->mu[i], NULL);
    return rl;
}

void gw_rl_free(gw_ratelimit_t *rl)
{
    if (!rl) return;
    for (int i = 0; i < RL_BUCKETS; i++) {
        rl_entry_t *e = rl->buckets[i];
        while (e) {
            rl_entry_t *n = e->next;
            free(e);
            e = n;
        }
    }
    for (int i = 0; i < RL_STRIPES; i++) pthread_mutex_destroy(&rl->mu[i]);
    free(rl);
}

gw_rl_result_t gw_rl_decide(int64_t cur, int64_t prev, int64_t elapsed, int64_t limit,
                            int64_t window_ms)
{
    gw_rl_result_t r = {.limit = limit};
    /* weight of the previous window still inside the sliding window */
    double weight = (double)(window_ms - elapsed) / (double)window_ms;
    double used = (double)prev * weight + (double)cur;
    r.reset_s = (window_ms - elapsed + 999) / 1000;
    if (used + 1 > (double)limit) {
        r.allowed = false;
        r.remaining = 0;
        /* time until the previous window's weight has decayed enough */
        int64_t wait_ms = window_ms - elapsed;
        if (prev > 0 && (double)cur + 1 <= (double)limit) {
            double need = ((double)limit - 1 - (double)cur) / (double)prev; /* weight to reach */
            int64_t at = (int64_t)((1.0 - need) * (double)window_ms);        /* elapsed at which */
            if (at > elapsed) wait_ms = at - elapsed;
        }
        r.retry_after_s = (wait_ms + 999) / 1000;
        if (r.retry_after_s < 1) r.retry_after_s = 1;
    } else {
        r.allowed = true;
        double left = (double)limit - used - 1;
        r.remaining = left > 0 ? (int64_t)left : 0;
    }
    return r;
}

gw_rl_result_t gw_rl_hit(gw_ratelimit_t *rl, const char *key, int64_t limit, int64_t window_ms,
                         int64_t now)
{
    gw_rl_result_t r;
    unsigned b = (unsigned)(str_hash_cstr(key) % RL_BUCKETS);
    pthread_mutex_t *mu = &rl->mu[b % RL_STRIPES];
    pthread_mutex_lock(mu);
    int64_t ws = now - now % window_ms;
    /* Find the key; on the way drop entries idle for two windows, so keys
     * (client IPs) cannot grow the table without bound. */
    rl_entry_t *e = NULL, **pp = &rl->buckets[b];
    while (*pp) {
        rl_entry_t *x = *pp;
        if (strcmp(x->key, key) == 0) {
            e = x;
            pp = &x->next;
        } else if (x->window_start < ws - window_ms) {
            *pp = x->next;
            free(x);
        } else {
            pp = &x->next;
        }
    }
    if (!e) {
        size_t n = strlen(key);
        e = xcalloc(1, sizeof *e + n + 1);
        memcpy(e->key, key, n + 1);
        e->window_start = ws;
        e->next = rl->buckets[b];
        rl->buckets[b] = e;
    }
    if (ws != e->window_start) {
        /* one window later the current count becomes the previous one;
         * more than one later both are stale */
        e->prev = ws - e->window_start == window_ms ? e->cur : 0;
        e->cur = 0;
        e->window_start = ws;
    }
    r = gw_rl_decide(e->cur, e->prev, now - ws, limit, window_ms);
    if (r.allowed) e->cur++;
    pthread_mutex_unlock(mu);
    return r;
}
