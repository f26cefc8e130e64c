/* prune.c — outbox retention (ev_prune, see events.h and docs/EVENTS.md).
 *
 * An event may be deleted once it is older than the retention period AND
 * every current consumer has processed it: every registered subscriber and,
 * with Redis configured, the relay. Their offset rows are created first (at
 * offset 0, which is what their first delivery pass would do), so a
 * subscriber that has not run yet holds pruning back instead of losing
 * events. Rows of subscribers no longer registered do not hold it back.
 * Deletion goes in batches so one pass never holds locks for long. */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "events_internal.h"

#define PRUNE_BATCH 5000

atomic_llong ev__pruned;

int ev_prune(db_t *db, int64_t retention_s, bool relay, int64_t now_ms)
{
    if (retention_s <= 0) return 0;
    int rc = db_begin_platform(db, true);
    if (rc < 0) return rc;
    const char *names[EV_MAX_SUBSCRIBERS + 1];
    int n = 0;
    for (int i = 0; i < ev__nsubs; i++) names[n++] = ev__subs[i].name;
    if (relay) names[n++] = EV_RELAY_NAME;
    int64_t bound = INT64_MAX;
    for (int i = 0; rc == 0 && i < n; i++) {
        rc = db_exec(db, NULL, "INSERT INTO ev_subscriptions (name) VALUES ($1) ON CONFLICT DO NOTHING",
                     DB_ARGS(DB_TEXT(names[i])));
        int64_t last = 0;
        if (rc == 0)
            rc = db_query_one_int(db, &last, "SELECT last_seq FROM ev_subscriptions WHERE name = $1",
                                  DB_ARGS(DB_TEXT(names[i])));
        if (rc == 0 && last < bound) bound = last;
    }
    char cutoff[32];
    clock_rfc3339(now_ms - retention_s * 1000, cutoff);
    int64_t deleted = 0;
    if (rc == 0)
        rc = db_exec(db, &deleted,
                     db_backend(db) == DB_POSTGRES
                         ? "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE seq <= $1 "
                           "AND created_at < CAST($2 AS timestamptz) ORDER BY seq LIMIT $3)"
                         : "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE seq <= $1 "
                           "AND created_at < $2 ORDER BY seq LIMIT $3)",
                     DB_ARGS(DB_INT(bound), DB_TEXT(cutoff), DB_INT(PRUNE_BATCH)));
    if (rc == 0) rc = db_commit(db);
    if (rc < 0) {
        db_rollback(db);
        return rc;
    }
    if (deleted > 0) atomic_fetch_add(&ev__pruned, deleted);
    return (int)deleted;
}
