/* ratelimit_redis.c — the sliding-window rate limit shared by every process
 * through Redis (see ratelimit.h).
 *
 * Why synchronous: the limit is decided in gw_admit, inline in the I/O
 * thread's dispatch, before a request goes anywhere; making it asynchronous
 * would split dispatch in two for one round trip that costs ~0.1 ms to a
 * Redis on the same host or LAN. So each I/O thread keeps one blocking
 * connection with a short timeout (BIZOSAAS_RATELIMIT_REDIS_TIMEOUT_MS,
 * default 50 ms), and after any failure stops asking Redis for
 * GW_RL_REDIS_BACKOFF_MS: an outage costs each thread at most one timeout
 * per back-off period, never one per request. */
#include <hiredis/hiredis.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "ratelimit.h"
#include "redisc.h"

/* KEYS[1] = the limit's key; ARGV = limit, window (ms). Returns {allowed,
 * current count before this request, previous window's count, ms elapsed
 * in the current window}. Counts live in "<key>:<window start>", expiring
 * after two windows. The clock is Redis's, the same for every process. */
static const char SCRIPT[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local limit = tonumber(ARGV[1])\n"
    "local win = tonumber(ARGV[2])\n"
    "local ws = now - (now % win)\n"
    "local elapsed = now - ws\n"
    "local ck = KEYS[1] .. ':' .. string.format('%d', ws)\n"
    "local cur = tonumber(redis.call('GET', ck) or '0')\n"
    "local prev = tonumber(redis.call('GET', KEYS[1] .. ':' .. string.format('%d', ws - win)) "
    "or '0')\n"
    "local allowed = 0\n"
    "if prev * (win - elapsed) / win + cur + 1 <= limit then\n"
    "  redis.call('INCR', ck)\n"
    "  redis.call('PEXPIRE', ck, win * 2 + 1000)\n"
    "  allowed = 1\n"
    "end\n"
    "return {allowed, cur, prev, elapsed}\n";

static _Thread_local redisContext *tl_rc;
static _Thread_local char tl_sha[48];
static _Thread_local int64_t tl_backoff_until;
static _Atomic uint64_t g_failures;

uint64_t gw_rl_redis_failures(void) { return atomic_load(&g_failures); }

void gw_rl_redis_close(void)
{
    if (tl_rc) redisFree(tl_rc);
    tl_rc = NULL;
}

static redisReply *command(const char *fmt, const char *a)
{
    return redisCommand(tl_rc, fmt, a);
}

static bool connect_redis(const char *url, int64_t timeout_ms)
{
    const char *why;
    tl_rc = redisc_connect(url, timeout_ms, &why);
    if (!tl_rc) return false;
    redisReply *r = command("SCRIPT LOAD %s", SCRIPT);
    bool ok = r && r->type == REDIS_REPLY_STRING && r->len < (int)sizeof tl_sha;
    if (ok) snprintf(tl_sha, sizeof tl_sha, "%s", r->str);
    freeReplyObject(r);
    if (!ok) gw_rl_redis_close();
    return ok;
}

static void failed(const char *why)
{
    atomic_fetch_add(&g_failures, 1);
    tl_backoff_until = clock_now_ms() + GW_RL_REDIS_BACKOFF_MS;
    log_kv(LOG_WARN, "rate limit: Redis unavailable; limits are per process for now", "error",
           why, NULL);
    gw_rl_redis_close();
}

int gw_rl_redis_hit(const char *url, int64_t timeout_ms, const char *key, int64_t limit,
                    int64_t window_ms, gw_rl_result_t *out)
{
    if (tl_backoff_until && clock_now_ms() < tl_backoff_until) return -1;
    tl_backoff_until = 0;
    if (!tl_rc && !connect_redis(url, timeout_ms)) {
        failed("cannot connect");
        return -1;
    }
    char k[300], lim[24], win[24];
    snprintf(k, sizeof k, "bz:rl:%s", key);
    snprintf(lim, sizeof lim, "%lld", (long long)limit);
    snprintf(win, sizeof win, "%lld", (long long)window_ms);
    redisReply *r = redisCommand(tl_rc, "EVALSHA %s 1 %s %s %s", tl_sha, k, lim, win);
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(r); /* the script cache was flushed: send the script itself */
        r = redisCommand(tl_rc, "EVAL %s 1 %s %s %s", SCRIPT, k, lim, win);
    }
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 4) {
        failed(!r ? (tl_rc && tl_rc->errstr[0] ? tl_rc->errstr : "no reply")
                  : r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        if (r) freeReplyObject(r);
        return -1;
    }
    int64_t v[4];
    for (int i = 0; i < 4; i++) v[i] = r->element[i]->integer;
    freeReplyObject(r);
    *out = gw_rl_decide(v[1], v[2], v[3], limit, window_ms);
    /* the script's verdict is the one that counted; the rest is for headers */
    out->allowed = v[0] == 1;
    if (!out->allowed) {
        out->remaining = 0;
        if (out->retry_after_s < 1) out->retry_after_s = 1;
    }
    return 0;
}
