/* ratelimit.h — sliding-window rate limits, in process.
 *
 * The window is the classic two-bucket approximation of a sliding log
 * (Cloudflare's): the count of the previous fixed window is weighted by how
 * much of it still overlaps the sliding window, plus the current window's
 * count. It never admits more than the limit within any window-length
 * interval by more than the rounding of that weight, needs two counters per
 * key, and cannot be gamed at window boundaries like a fixed window. Keys
 * are "service|tenant" (or "service|ip:<addr>" for public routes). */
#ifndef BZ_GW_RATELIMIT_H
#define BZ_GW_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct gw_ratelimit gw_ratelimit_t;

typedef struct gw_rl_result {
    bool allowed;
    int64_t limit, remaining;
    int64_t reset_s;       /* seconds until the current window ends */
    int64_t retry_after_s; /* when refused: seconds until a request would pass */
} gw_rl_result_t;

gw_ratelimit_t *gw_rl_new(void);
void gw_rl_free(gw_ratelimit_t *rl);
/* gw_rl_hit: counts one request for key against limit per window_ms. Thread-safe. */
gw_rl_result_t gw_rl_hit(gw_ratelimit_t *rl, const char *key, int64_t limit, int64_t window_ms,
                         int64_t now_ms);

#endif
