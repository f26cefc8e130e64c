/* repo.c — SQL for identity's tables. */
#include "repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"

#define TENANT_COLS "id, name, slug, status, plan, domains, created_at, updated_at"

static void decref(void *j)
{
    json_decref(j);
}

static void row_to_tenant(db_res_t *r, arena_t *a, tenant_t *t)
{
    t->id = arena_strdup(a, db_res_text(r, 0));
    t->name = arena_strdup(a, db_res_text(r, 1));
    t->slug = arena_strdup(a, db_res_text(r, 2));
    t->status = arena_strdup(a, db_res_text(r, 3));
    t->plan = arena_strdup(a, db_res_text(r, 4));
    json_t *d = json_loads(db_res_text(r, 5) ? db_res_text(r, 5) : "[]", 0, NULL);
    if (!json_is_array(d)) {
        json_decref(d);
        d = json_array();
    }
    arena_defer(a, decref, d);
    t->domains = d;
    t->created_at = clock_from_db(a, db_res_text(r, 6));
    t->updated_at = clock_from_db(a, db_res_text(r, 7));
}

int repo_tenant_insert(db_t *db, const tenant_t *t)
{
    char *domains = json_dumps(t->domains, JSON_COMPACT);
    int rc = db_exec(
        db, NULL, "INSERT INTO tenants (" TENANT_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        DB_ARGS(DB_TEXT(t->id), DB_TEXT(t->name), DB_TEXT(t->slug), DB_TEXT(t->status),
                DB_TEXT(t->plan), DB_TEXT(domains), DB_TEXT(t->created_at),
                DB_TEXT(t->updated_at)));
    free(domains);
    return rc;
}

int repo_tenant_get(db_t *db, arena_t *a, const char *scope, const char *id, tenant_t *out)
{
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT " TENANT_COLS " FROM tenants WHERE id = $1 AND ($2 = '' OR id = $2)",
                      DB_ARGS(DB_TEXT(id), DB_TEXT(scope ? scope : "")));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc == 1) row_to_tenant(r, a, out);
    db_res_free(r);
    return rc == 1 ? 0 : rc == 0 ? ERR_NOT_FOUND : rc;
}

static json_t *tenant_row_json(db_res_t *r, void *arena)
{
    tenant_t t;
    row_to_tenant(r, arena, &t);
    return tenant_to_json(&t);
}

int repo_tenant_list(db_t *db, arena_t *a, const char *scope, const char *after, int limit,
                     json_t *items, bool *more)
{
    db_res_t *r;
    int rc = db_query(
        db, &r,
        "SELECT " TENANT_COLS " FROM tenants WHERE id > $1 AND ($2 = '' OR id = $2) "
        "ORDER BY id LIMIT $3",
        DB_ARGS(DB_TEXT(after ? after : ""), DB_TEXT(scope ? scope : ""), DB_INT(limit + 1)));
    if (rc < 0) return rc;
    rc = db_res_page(r, limit, more, items, tenant_row_json, a);
    db_res_free(r);
    return rc;
}

int repo_tenant_update(db_t *db, const tenant_t *t)
{
    char *domains = json_dumps(t->domains, JSON_COMPACT);
    int64_t n = 0;
    int rc = db_exec(db, &n,
                     "UPDATE tenants SET name = $2, status = $3, plan = $4, domains = $5, "
                     "updated_at = $6 WHERE id = $1",
                     DB_ARGS(DB_TEXT(t->id), DB_TEXT(t->name), DB_TEXT(t->status), DB_TEXT(t->plan),
                             DB_TEXT(domains), DB_TEXT(t->updated_at)));
    free(domains);
    if (rc == 0 && n == 0) return ERR_NOT_FOUND;
    return rc;
}

int repo_tenant_set_require_mfa(db_t *db, const char *tenant_id, bool on)
{
    int64_t n = 0;
    int rc = db_exec(db, &n, "UPDATE tenants SET require_mfa = $2 WHERE id = $1",
                     DB_ARGS(DB_TEXT(tenant_id), DB_BOOL(on)));
    return rc == 0 && n == 0 ? ERR_NOT_FOUND : rc;
}

int repo_tenant_find_slug(db_t *db, const char *slug, char out[64])
{
    char *id = NULL;
    int rc = db_query_one_text(db, &id, "SELECT id FROM tenants WHERE slug = $1",
                               DB_ARGS(DB_TEXT(slug)));
    if (rc < 0) return rc;
    snprintf(out, 64, "%s", id);
    free(id);
    return 0;
}

int64_t repo_tenant_count(db_t *db)
{
    int64_t n = -1;
    if (db_query_one_int(db, &n, "SELECT count(*) FROM tenants", DB_NOARGS) < 0) return -1;
    return n;
}
