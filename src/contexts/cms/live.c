/* live.c — the published side: what the public site and the delivery API
 * may read. Only rows with a live snapshot are ever returned; the draft
 * columns are never read here. */
#include <string.h>

#include "err.h"
#include "internal.h"

/* live_json: columns id, path, parent_id, live → the snapshot with the
 * tree fields added (a new reference). */
static json_t *live_json(db_res_t *r)
{
    json_t *l = json_loads(db_res_text(r, 3) ? db_res_text(r, 3) : "{}", 0, NULL);
    if (!json_is_object(l)) {
        json_decref(l);
        l = json_object();
    }
    json_object_set_new(l, "id", json_string(db_res_text(r, 0)));
    json_object_set_new(l, "path", json_string(db_res_text(r, 1)));
    json_object_set_new(l, "url", json_string(db_res_text(r, 1)));
    json_object_set_new(l, "parent_id",
                        db_res_isnull(r, 2) ? json_null() : json_string(db_res_text(r, 2)));
    json_object_del(l, "revision");
    return l;
}

static int one(db_t *db, const char *sql, const char *tenant, const char *key, arena_t *a,
               json_t **out)
{
    db_res_t *r;
    int rc = db_query(db, &r, sql, DB_ARGS(DB_TEXT(tenant), DB_TEXT(key)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc == 1) *out = cms__own(a, live_json(r));
    db_res_free(r);
    return rc == 1 ? 0 : rc == 0 ? ERR_NOT_FOUND : rc;
}

int cms__live_by_path(db_t *db, const char *tenant, const char *path, arena_t *a, json_t **out)
{
    return one(db,
               "SELECT id, path, parent_id, live FROM cms_pages "
               "WHERE tenant_id = $1 AND path = $2 AND live IS NOT NULL",
               tenant, path, a, out);
}

int cms__live_by_id(db_t *db, const char *tenant, const char *id, arena_t *a, json_t **out)
{
    return one(db,
               "SELECT id, path, parent_id, live FROM cms_pages "
               "WHERE tenant_id = $1 AND id = $2 AND live IS NOT NULL",
               tenant, id, a, out);
}

int cms__live_list(db_t *db, const char *tenant, const char *type, const char *parent_id,
                   int limit, int offset, arena_t *a, json_t *items, int64_t *total)
{
    (void)a;
    const char *where = "WHERE tenant_id = $1 AND live IS NOT NULL AND ($2 = '' OR type = $2) "
                        "AND ($3 = '' OR parent_id = $3) ";
    int rc = db_query_one_int(db, total, arena_printf(a, "SELECT count(*) FROM cms_pages %s", where),
                              DB_ARGS(DB_TEXT(tenant), DB_TEXT(type ? type : ""),
                                      DB_TEXT(parent_id ? parent_id : "")));
    if (rc < 0) return rc;
    bool posts = type && !strcmp(type, "blog_post");
    db_res_t *r;
    rc = db_query(db, &r,
                  arena_printf(a,
                               "SELECT id, path, parent_id, live FROM cms_pages %s ORDER BY %s "
                               "LIMIT $4 OFFSET $5",
                               where, posts ? "first_published_at DESC, id DESC" : "path"),
                  DB_ARGS(DB_TEXT(tenant), DB_TEXT(type ? type : ""),
                          DB_TEXT(parent_id ? parent_id : ""), DB_INT(limit), DB_INT(offset)));
    if (rc < 0) return rc;
    while ((rc = db_res_next(r)) == 1) {
        json_t *l = live_json(r);
        json_object_del(l, "body"); /* a listing carries summaries only */
        json_array_append_new(items, l);
    }
    db_res_free(r);
    return rc < 0 ? rc : 0;
}
