/* context.c — the CMS's start and stop: the demo site and the
 * scheduled-publishing timer. */
#include <stdio.h>

#include "clock.h"
#include "cms.h"
#include "err.h"
#include "contexts/identity/identity.h"
#include "internal.h"
#include "log.h"
#include "site.h"

/* seed_demo_site: when the demo tenant (domain "localhost") exists and its
 * site was never seeded. Failures are logged, never fatal: two processes
 * starting at once on one PostgreSQL may race here, and one of them wins. */
static void seed_demo_site(db_t *db)
{
    char tenant[64];
    if (db_begin_platform(db, false) < 0) return;
    int rc = identity_tenant_by_host(db, "localhost", tenant);
    db_commit(db);
    if (rc < 0) return;
    if (db_begin(db, tenant, true) < 0) return;
    int64_t seeded = 0;
    rc = db_query_one_int(db, &seeded, "SELECT count(*) FROM cms_sites WHERE tenant_id = $1 AND seeded",
                          DB_ARGS(DB_TEXT(tenant)));
    if (rc < 0 || seeded) {
        db_rollback(db);
        return;
    }
    arena_t *a = arena_new();
    rc = cms__seed_demo(db, tenant, a);
    if (rc == 0) rc = db_commit(db);
    if (rc < 0) {
        log_kv(LOG_WARN, "cms: the demo site was not seeded", "error", db_errmsg(db), NULL);
        db_rollback(db);
    } else {
        log_kv(LOG_INFO, "cms: demo site seeded", "tenant_id", tenant, NULL);
    }
    arena_free(a);
}

int cms_start(db_t *db)
{
    seed_demo_site(db);
    return cms__sched_start();
}

void cms_stop(void)
{
    cms__sched_stop();
    cms__site_stop();
}

int cms_publish_due(db_t *db, int64_t now_ms, int *published)
{
    char now[32];
    clock_rfc3339(now_ms, now);
    if (published) *published = 0;
    int rc = db_begin_platform(db, true);
    if (rc < 0) return rc;
    db_res_t *r;
    rc = db_query(db, &r,
                  "SELECT tenant_id, id FROM cms_pages WHERE publish_at IS NOT NULL AND publish_at <= $1 "
                  "ORDER BY publish_at LIMIT 200",
                  DB_ARGS(DB_TEXT(now)));
    if (rc < 0) {
        db_rollback(db);
        return rc;
    }
    arena_t *a = arena_new();
    int n = 0;
    const char *due[200][2];
    while ((rc = db_res_next(r)) == 1 && n < 200) {
        due[n][0] = arena_strdup(a, db_res_text(r, 0));
        due[n][1] = arena_strdup(a, db_res_text(r, 1));
        n++;
    }
    db_res_free(r);
    for (int i = 0; rc >= 0 && i < n; i++) {
        json_t *out;
        const char *why = NULL;
        rc = cms__page_publish(db, due[i][0], due[i][1], NULL, a, &out, &why);
        if (rc == 0)
            log_kv(LOG_INFO, "cms: scheduled page published", "tenant_id", due[i][0], "page_id", due[i][1], NULL);
    }
    if (rc >= 0) rc = db_commit(db);
    if (rc < 0)
        db_rollback(db);
    else if (published)
        *published = n;
    arena_free(a);
    return rc < 0 ? rc : 0;
}
