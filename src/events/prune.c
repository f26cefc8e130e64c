/* prune.c — outbox retention (ev_prune, see events.h and docs/EVENTS.md).
 *
 * An event may be deleted once it is older than the retention period AND
 * every current consumer of it has processed it: every registered
 * subscriber of its type (or of "*") and, with Redis configured, the relay. Their offset rows are created first (at
 * offset 0, which is what their first delivery pass would do), so a
 * subscriber that has not run yet holds pruning back instead of losing
 * events. Rows of subscribers no longer registered do not hold it back.
 * Deletion goes in batches so one pass never holds locks for long. */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "str.h"
#include "err.h"
#include "events_internal.h"

#define PRUNE_BATCH 5000

atomic_llong ev__pruned;

int ev_prune(db_t *db, int64_t retention_s, bool relay, int64_t now_ms)
{
    if (retention_s <= 0) return 0;
    int rc = db_begin_platform(db, true);
    if (rc < 0) return rc;
    /* Bounds. A "*" subscriber and the relay see every event, so their
     * offsets bound every event; a subscriber of one event type advances its
     * offset only on events of that type (deliver.c selects by type), so it
     * bounds only those. */
    int64_t bound_all = INT64_MAX;
    struct typed {
        const char *type;
        int64_t bound;
    } typed[EV_MAX_SUBSCRIBERS];
    int nt = 0;
    for (int i = 0; rc == 0 && i < ev__nsubs + (relay ? 1 : 0); i++) {
        const char *name = i < ev__nsubs ? ev__subs[i].name : EV_RELAY_NAME;
        const char *type = i < ev__nsubs ? ev__subs[i].event_type : "*";
        rc = db_exec(db, NULL, "INSERT INTO ev_subscriptions (name) VALUES ($1) ON CONFLICT DO NOTHING",
                     DB_ARGS(DB_TEXT(name)));
        int64_t last = 0;
        if (rc == 0)
            rc = db_query_one_int(db, &last, "SELECT last_seq FROM ev_subscriptions WHERE name = $1",
                                  DB_ARGS(DB_TEXT(name)));
        if (rc < 0) break;
        if (strcmp(type, "*") == 0) {
            if (last < bound_all) bound_all = last;
            continue;
        }
        int k = 0;
        while (k < nt && strcmp(typed[k].type, type) != 0) k++;
        if (k == nt) typed[nt++] = (struct typed){type, INT64_MAX};
        if (last < typed[k].bound) typed[k].bound = last;
    }
    char cutoff[32];
    clock_rfc3339(now_ms - retention_s * 1000, cutoff);
    int64_t deleted = 0;
    if (rc == 0) {
        buf_t sql;
        buf_init(&sql);
        buf_append_str(&sql, "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE seq <= $1 "
                             "AND created_at < ");
        buf_append_str(&sql, db_backend(db) == DB_POSTGRES ? "CAST($2 AS timestamptz)" : "$2");
        db_param_t p[3 + 2 * EV_MAX_SUBSCRIBERS];
        size_t np = 0;
        p[np++] = DB_INT(bound_all);
        p[np++] = DB_TEXT(cutoff);
        p[np++] = DB_INT(PRUNE_BATCH);
        for (int k = 0; k < nt; k++) {
            char cond[96];
            snprintf(cond, sizeof cond, " AND NOT (event_type = $%zu AND seq > $%zu)", np + 1, np + 2);
            buf_append_str(&sql, cond);
            p[np++] = DB_TEXT(typed[k].type);
            p[np++] = DB_INT(typed[k].bound);
        }
        buf_append_str(&sql, " ORDER BY seq LIMIT $3)");
        rc = db_exec(db, &deleted, sql.p, np, p);
        buf_cleanup(&sql);
    }
    if (rc == 0) rc = db_commit(db);
    if (rc < 0) {
        db_rollback(db);
        return rc;
    }
    if (deleted > 0) atomic_fetch_add(&ev__pruned, deleted);
    return (int)deleted;
}
