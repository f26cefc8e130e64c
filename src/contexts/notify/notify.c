/* notify.c — storage of notifications and the /api/v1/notifications routes.
 *
 *   GET  /api/v1/notifications               the caller's notifications, newest first
 *   POST /api/v1/notifications/{id}/read     mark one read (for the caller)
 *   POST /api/v1/notifications/read-all      mark every visible one read
 *   GET  /api/v1/notifications/stream        new ones, live (stream.c)
 *
 * Visibility: a row is the caller's when its roles mask shares a bit with
 * the caller's roles or its user_id is the caller's; always within the
 * request's tenant (RLS on PostgreSQL, an explicit filter on both). A
 * notification that is not the caller's answers 404 like any other
 * tenant's object. Pagination: `cursor` is the seq of the last row of the
 * previous page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "err.h"
#include "http.h"
#include "ids.h"
#include "notify.h"
#include "notify_internal.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200

static bool bad_text(const char *s, size_t max)
{
    return !s || !*s || strlen(s) > max;
}

int notify_send(db_t *db, const char *tenant_id, unsigned roles, const char *user_id,
                const char *kind, const char *title, const char *body, json_t *data,
                char *id_out)
{
    int rc = ERR_VALIDATION;
    if (!tenant_id || !*tenant_id || (roles == 0 && (!user_id || !*user_id)) ||
        bad_text(kind, NOTIFY_MAX_KIND) || bad_text(title, NOTIFY_MAX_TITLE) ||
        (body && strlen(body) > NOTIFY_MAX_BODY) || (data && !json_is_object(data)))
        goto out;
    char id[ID_UUID_LEN + 1];
    id_uuidv7(id);
    char *text = data ? json_dumps(data, JSON_COMPACT) : strdup("{}");
    if (!text) {
        rc = ERR_INTERNAL;
        goto out;
    }
    char ms[32];
    clock_rfc3339(clock_now_ms(), ms);
    /* SQLite has no sequences; writers are serialized there, so max+1 is
     * unique. PostgreSQL numbers rows from a sequence (column default). */
    if (db_backend(db) == DB_SQLITE)
        rc = db_exec(db, NULL,
                     "INSERT INTO notifications (tenant_id, id, seq, roles, user_id, kind, title, "
                     "body, data, created_at) VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 "
                     "FROM notifications), $3, $4, $5, $6, $7, $8, $9)",
                     DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(id), DB_INT(roles), DB_TEXT(user_id),
                             DB_TEXT(kind), DB_TEXT(title), DB_TEXT(body ? body : ""),
                             DB_TEXT(text), DB_TEXT(ms)));
    else
        rc = db_exec(db, NULL,
                     "INSERT INTO notifications (tenant_id, id, roles, user_id, kind, title, body, "
                     "data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                     DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(id), DB_INT(roles), DB_TEXT(user_id),
                             DB_TEXT(kind), DB_TEXT(title), DB_TEXT(body ? body : ""),
                             DB_TEXT(text)));
    free(text);
    if (rc == 0 && id_out) memcpy(id_out, id, sizeof id);
out:
    json_decref(data);
    return rc;
}

/* The visibility condition of the caller's rows; $1 tenant, $2 roles, $3 user. */
#define MINE "tenant_id = $1 AND ((roles & $2) <> 0 OR user_id = $3)"

json_t *ntf__row_json(db_res_t *r, void *arg)
{
    arena_t *a = arg;
    json_t *data = json_loads(db_res_text(r, 5), 0, NULL);
    return json_pack("{s:s, s:I, s:s, s:s, s:s, s:o, s:s, s:b}", "id", db_res_text(r, 0), "seq",
                     (json_int_t)db_res_int(r, 1), "kind", db_res_text(r, 2), "title",
                     db_res_text(r, 3), "body", db_res_text(r, 4), "data",
                     data ? data : json_object(), "created_at",
                     clock_from_db(a, db_res_text(r, 6)), "read", !db_res_isnull(r, 7));
}

/* list_page: one page of the caller's rows, newest first, below cursor
 * (0 = from the newest). */
static int list_page(http_req_t *req, int64_t cursor, int64_t limit, bool unread, json_t *items,
                     bool *more)
{
    char sql[640];
    snprintf(sql, sizeof sql,
             "SELECT n.id, n.seq, n.kind, n.title, n.body, n.data, n.created_at, r.read_at "
             "FROM notifications n LEFT JOIN notification_reads r ON r.tenant_id = n.tenant_id "
             "AND r.notification_id = n.id AND r.user_id = $3 "
             "WHERE n.tenant_id = $1 AND ((n.roles & $2) <> 0 OR n.user_id = $3)%s%s "
             "ORDER BY n.seq DESC LIMIT $4",
             cursor ? " AND n.seq < $5" : "", unread ? " AND r.read_at IS NULL" : "");
    db_param_t p[] = {DB_TEXT(req->auth.tenant_id), DB_INT(req->auth.roles),
                      DB_TEXT(req->auth.user_id), DB_INT(limit + 1), DB_INT(cursor)};
    db_res_t *r = NULL;
    int rc = db_query(req->db, &r, sql, cursor ? 5 : 4, p);
    if (rc == 0) rc = db_res_page(r, (int)limit, more, items, ntf__row_json, req->arena);
    db_res_free(r);
    return rc;
}

int ntf__unread(db_t *db, const char *tenant, unsigned roles, const char *user, int64_t *n)
{
    return db_query_one_int(
        db, n,
        "SELECT COUNT(*) FROM notifications n WHERE n.tenant_id = $1 AND ((n.roles & $2) <> 0 "
        "OR n.user_id = $3) AND NOT EXISTS (SELECT 1 FROM notification_reads r WHERE "
        "r.tenant_id = n.tenant_id AND r.notification_id = n.id AND r.user_id = $3)",
        DB_ARGS(DB_TEXT(tenant), DB_INT(roles), DB_TEXT(user)));
}

static int unread_count(http_req_t *req, int64_t *n)
{
    return ntf__unread(req->db, req->auth.tenant_id, req->auth.roles, req->auth.user_id, n);
}

static int list(http_req_t *req, http_res_t *res)
{
    int64_t limit = PAGE_DEFAULT, cursor = 0;
    int rc;
    if ((rc = http_query_int(req, res, "limit", 1, PAGE_MAX, &limit)) < 0) return rc;
    if ((rc = http_query_int(req, res, "cursor", 1, INT64_MAX, &cursor)) < 0) return rc;
    const char *u = http_query(req, "unread");
    if (u && strcmp(u, "true") && strcmp(u, "false"))
        return http_error(res, ERR_VALIDATION, "query parameter 'unread' must be true or false");
    json_t *items = json_array();
    bool more = false;
    int64_t unread = 0;
    if (req->auth.tenant_id[0]) {
        rc = list_page(req, cursor, limit, u && !strcmp(u, "true"), items, &more);
        if (rc == 0) rc = unread_count(req, &unread);
        if (rc < 0) {
            json_decref(items);
            return http_error(res, rc, NULL);
        }
    }
    json_t *last = json_array_size(items) ? json_array_get(items, json_array_size(items) - 1) : NULL;
    return http_json(res, 200,
                     json_pack("{s:o, s:I, s:o}", "items", items, "unread", (json_int_t)unread,
                               "next_cursor",
                               more && last ? json_copy(json_object_get(last, "seq")) : json_null()));
}

static int mark_read(http_req_t *req, http_res_t *res)
{
    const char *id = http_param(req, "id");
    int64_t n = 0;
    int rc = db_query_one_int(req->db, &n, "SELECT COUNT(*) FROM notifications WHERE " MINE
                              " AND id = $4",
                              DB_ARGS(DB_TEXT(req->auth.tenant_id), DB_INT(req->auth.roles),
                                      DB_TEXT(req->auth.user_id), DB_TEXT(id)));
    if (rc < 0) return http_error(res, rc, NULL);
    if (n == 0) return http_error(res, ERR_NOT_FOUND, "notification not found");
    rc = db_exec(req->db, NULL,
                 "INSERT INTO notification_reads (tenant_id, notification_id, user_id) VALUES "
                 "($1, $2, $3) ON CONFLICT DO NOTHING",
                 DB_ARGS(DB_TEXT(req->auth.tenant_id), DB_TEXT(id), DB_TEXT(req->auth.user_id)));
    if (rc < 0) return http_error(res, rc, NULL);
    return http_json(res, 200, json_pack("{s:s, s:b}", "id", id, "read", 1));
}

static int mark_all_read(http_req_t *req, http_res_t *res)
{
    int64_t n = 0;
    int rc = db_exec(req->db, &n,
                     "INSERT INTO notification_reads (tenant_id, notification_id, user_id) "
                     "SELECT tenant_id, id, $3 FROM notifications WHERE " MINE
                     " ON CONFLICT DO NOTHING",
                     DB_ARGS(DB_TEXT(req->auth.tenant_id), DB_INT(req->auth.roles),
                             DB_TEXT(req->auth.user_id)));
    if (rc < 0) return http_error(res, rc, NULL);
    return http_json(res, 200, json_pack("{s:I}", "marked", (json_int_t)n));
}

/* Tenant-less callers (super_admin without X-Tenant-ID) have no
 * notifications: the list is empty and marking answers 404. */
static int require_tenant(http_req_t *req, http_res_t *res)
{
    if (!req->auth.tenant_id[0]) return http_error(res, ERR_NOT_FOUND, "notification not found");
    return 0;
}

static int mark_read_route(http_req_t *req, http_res_t *res)
{
    int rc = require_tenant(req, res);
    return rc < 0 ? rc : mark_read(req, res);
}

static int mark_all_route(http_req_t *req, http_res_t *res)
{
    if (!req->auth.tenant_id[0]) return http_json(res, 200, json_pack("{s:i}", "marked", 0));
    return mark_all_read(req, res);
}

static const route_t routes[] = {
    {"GET", "/api/v1/notifications", "notifications.view",
     "The caller's notifications, newest first (filters: unread, limit, cursor)", list, 0},
    {"POST", "/api/v1/notifications/read-all", "notifications.view",
     "Mark every notification of the caller read", mark_all_route, 0},
    {"POST", "/api/v1/notifications/{id}/read", "notifications.view",
     "Mark one notification read for the caller", mark_read_route, 0},
    {"GET", "/api/v1/notifications/stream", "notifications.view",
     "The caller's new notifications, live (Server-Sent Events; resumes after Last-Event-ID)",
     ntf__stream, RT_NO_TX | RT_STREAM},
};

void notify_register(router_t *r, const config_t *cfg)
{
    ntf__stream_configure(cfg->notify_sse_max);
    router_add(r, routes, sizeof routes / sizeof routes[0]);
    /* every staff role reads its own notifications; clients get none */
    auth_grant(ROLE_TENANT_ADMIN | ROLE_MANAGER, "notifications.view");
}
