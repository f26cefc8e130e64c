/* relay.c — publishes outbox events to Redis Streams (see docs/EVENTS.md).
 *
 * The relay is a subscriber named "redis-relay" whose handler is Redis: a
 * pass locks its ev_subscriptions row (as deliver.c does), reads up to a
 * batch of events past its offset, pipelines one XADD per event to
 * "bizosaas:events:<tenant_id>" with MAXLEN ~ N, waits for every reply, and
 * only then commits the new offset. If Redis is down or refuses a command,
 * nothing is committed and the same events are sent again later; if the
 * process dies after XADD but before the commit, they are sent twice. The
 * stream is therefore at-least-once; consumers dedupe on the "id" field.
 */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "events_internal.h"
#include "log.h"
#include "redisc.h"

/* Connect/command timeout: a hung Redis must not hold the offset row long. */
#define RELAY_TIMEOUT_MS 2000

static bool reply_ok(redisReply *r)
{
    return r && r->type != REDIS_REPLY_ERROR;
}

static redisContext *connect_redis(const char *url)
{
    const char *why = NULL;
    redisContext *c = redisc_connect(url, RELAY_TIMEOUT_MS, &why);
    if (!c && strcmp(why, "malformed URL") == 0)
        log_error("BIZOSAAS_REDIS_URL is malformed (expected redis://[:password@]host:port[/db])");
    else if (!c && strcmp(why, "AUTH refused") == 0)
        log_warn("redis relay: AUTH was refused");
    return c;
}

void ev_relay_close(void **conn)
{
    if (*conn) redisFree(*conn);
    *conn = NULL;
}

/* append_xadd: queues one XADD for row on c. */
static void append_xadd(redisContext *c, const ev__row_t *e, int64_t maxlen)
{
    char stream[64 + EV_MAX_NAME], seq[24], ml[24];
    snprintf(stream, sizeof stream, "bizosaas:events:%s", e->tenant_id);
    snprintf(seq, sizeof seq, "%lld", (long long)e->seq);
    snprintf(ml, sizeof ml, "%lld", (long long)maxlen);
    const char *argv[] = {"XADD",           stream,          "MAXLEN",        "~",
                          ml,               "*",             "id",            e->id,
                          "seq",            seq,             "tenant_id",     e->tenant_id,
                          "aggregate_type", e->aggregate_type, "aggregate_id", e->aggregate_id,
                          "event_type",     e->event_type,   "payload",       e->payload,
                          "created_at",     e->created_at};
    int argc = (int)(sizeof argv / sizeof argv[0]);
    redisAppendCommandArgv(c, argc, argv, NULL);
}

int ev_relay_pending(db_t *db, const ev_options_t *o, void **conn)
{
    int64_t last_seq, next_ms;
    int attempts;
    int rc = db_begin_platform(db, true);
    if (rc < 0) return rc;
    rc = ev__lock_sub(db, EV_RELAY_NAME, &last_seq, &attempts, &next_ms);
    if (rc <= 0) {
        db_rollback(db);
        return rc;
    }
    db_res_t *r;
    int batch = o->batch > 0 ? o->batch * 4 : 256;
    rc = db_query(db, &r, "SELECT " EV__COLS " FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2",
                  DB_ARGS(DB_INT(last_seq), DB_INT(batch)));
    if (rc < 0) {
        db_rollback(db);
        return rc;
    }
    ev__row_t *rows;
    int n;
    rc = ev__rows_load(r, &rows, &n);
    db_res_free(r);
    if (rc < 0 || n == 0) {
        db_rollback(db);
        return rc;
    }
    if (!*conn) *conn = connect_redis(o->redis_url);
    redisContext *c = *conn;
    if (!c) {
        rc = ERR_UNAVAILABLE;
        goto fail;
    }
    for (int i = 0; i < n; i++) append_xadd(c, &rows[i], o->stream_maxlen);
    for (int i = 0; i < n; i++) {
        void *reply = NULL;
        if (redisGetReply(c, &reply) != REDIS_OK || !reply_ok(reply)) {
            if (reply) {
                log_kv(LOG_WARN, "redis relay: XADD refused", "error", ((redisReply *)reply)->str,
                       NULL);
                freeReplyObject(reply);
            }
            ev_relay_close(conn); /* the pipeline state is unknown: start afresh */
            rc = ERR_UNAVAILABLE;
            goto fail;
        }
        freeReplyObject(reply);
    }
    rc = db_exec(db, NULL,
                 "UPDATE ev_subscriptions SET last_seq = $2, delivered = delivered + $3, "
                 "last_error = NULL WHERE name = $1",
                 DB_ARGS(DB_TEXT(EV_RELAY_NAME), DB_INT(rows[n - 1].seq), DB_INT(n)));
    if (rc == 0) rc = db_commit(db);
    if (rc < 0) goto fail;
    atomic_fetch_add_explicit(&ev__relayed, n, memory_order_relaxed);
    ev__rows_free(rows, n);
    return n;
fail:
    db_rollback(db);
    ev__rows_free(rows, n);
    if (rc == ERR_UNAVAILABLE) atomic_fetch_add_explicit(&ev__relay_errors, 1, memory_order_relaxed);
    return rc;
}
