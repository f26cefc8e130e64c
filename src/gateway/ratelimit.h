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
/* gw_rl_decide: the verdict for one more request given the current and the
 * previous fixed window's counts and the time elapsed in the current one
 * (shared by the in-process table and the Redis script's answer). */
gw_rl_result_t gw_rl_decide(int64_t cur, int64_t prev, int64_t elapsed_ms, int64_t limit,
                            int64_t window_ms);
/* gw_rl_hit: counts one request for key against limit per window_ms. Thread-safe. */
gw_rl_result_t gw_rl_hit(gw_ratelimit_t *rl, const char *key, int64_t limit, int64_t window_ms,
                         int64_t now_ms);

/* --- shared through Redis (ratelimit_redis.c) ---
 * The same two-bucket window kept in Redis by one Lua script (atomic; the
 * clock is Redis's TIME, so processes on different hosts agree), through a
 * small synchronous connection per I/O thread with a short timeout. When
 * Redis cannot answer, the caller falls back to the in-process table (the
 * limit then holds per process: fail-open to local limits) and Redis is
 * not asked again for GW_RL_REDIS_BACKOFF_MS. */
#define GW_RL_REDIS_BACKOFF_MS 1000
/* gw_rl_redis_hit: 0 with *out set, or -1 when Redis is unavailable. */
int gw_rl_redis_hit(const char *url, int64_t timeout_ms, const char *key, int64_t limit,
                    int64_t window_ms, gw_rl_result_t *out);
/* gw_rl_redis_close: drops the calling thread's connection. */
void gw_rl_redis_close(void);
/* gw_rl_redis_failures: times Redis could not answer (all threads). */
uint64_t gw_rl_redis_failures(void);

#endif
