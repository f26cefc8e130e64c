/* events_http.c — the events API under /api/v1/events.
 *
 *   GET  /api/v1/events                          recent events, newest first
 *   POST /api/v1/events                          publish an event (service/super_admin)
 *   GET  /api/v1/events/subscribers              offsets, retry state and lag
 *   GET  /api/v1/events/dead-letters             the dead-letter list
 *   POST /api/v1/events/dead-letters/{id}/replay ask the dispatcher to deliver again
 *
 * super_admin (and service) callers run in platform scope and see every
 * tenant; a tenant_admin's transaction is scoped to its tenant by the kernel
 * (row-level security on PostgreSQL) and every query also filters on the
 * tenant, so SQLite gives the same answer. Pagination: `cursor` is the seq
 * of the last event of the previous page; the response carries next_cursor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "events_internal.h"
#include "ids.h"
#include "log.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 500
#define MAX_FILTERS 8

static bool is_platform(const http_req_t *req)
{
    return (req->auth.roles & (ROLE_SUPER_ADMIN | ROLE_SERVICE)) != 0;
}

/* parse_since: an RFC 3339 UTC time ("2026-11-25T18:00:00Z", fractions
 * optional) normalized to the stored format. */
static int parse_since(const char *v, char out[32])
{
    struct tm tm = {0};
    const char *p = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p) return ERR_VALIDATION;
    int ms = 0;
    if (*p == '.') {
        p++;
        int d = 0;
        while (*p >= '0' && *p <= '9') {
            if (d < 3) ms = ms * 10 + (*p - '0');
            d++;
            p++;
        }
        for (; d < 3; d++) ms *= 10;
    }
    if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0) return ERR_VALIDATION;
    clock_rfc3339((int64_t)timegm(&tm) * 1000 + ms, out);
    return 0;
}

typedef struct filter {
    buf_t sql;
    db_param_t p[MAX_FILTERS + 2];
    size_t n;
} filter_t;

static void add_filter(filter_t *f, const char *cond, db_param_t v)
{
    f->p[f->n++] = v;
    buf_printf(&f->sql, " AND %s $%zu", cond, f->n);
}

static json_t *row_json(arena_t *a, db_res_t *r)
{
    json_error_t e;
    json_t *payload = json_loads(db_res_text(r, 6), 0, &e);
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "seq", (json_int_t)db_res_int(r, 0),
                     "id", db_res_text(r, 1), "tenant_id", db_res_text(r, 2), "aggregate_type",
                     db_res_text(r, 3), "aggregate_id", db_res_text(r, 4), "event_type",
                     db_res_text(r, 5), "payload", payload ? payload : json_object(),
                     "created_at", clock_from_db(a, db_res_text(r, 7)));
}

static int events_list(http_req_t *req, http_res_t *res)
{
    int64_t limit = PAGE_DEFAULT, cursor = 0;
    int rc;
    if ((rc = http_query_int(req, res, "limit", 1, PAGE_MAX, &limit)) < 0) return rc;
    if ((rc = http_query_int(req, res, "cursor", 1, INT64_MAX, &cursor)) < 0) return rc;
    filter_t f = {.n = 0};
    buf_init(&f.sql);
    buf_append_str(&f.sql, "SELECT " EV__COLS " FROM outbox WHERE 1 = 1");
    const char *tenant = is_platform(req) ? http_query(req, "tenant_id") : req->auth.tenant_id;
    if (tenant) add_filter(&f, "tenant_id =", DB_TEXT(tenant));
    const char *type = http_query(req, "type");
    if (type) add_filter(&f, "event_type =", DB_TEXT(type));
    const char *agg_type = http_query(req, "aggregate_type");
    if (agg_type) add_filter(&f, "aggregate_type =", DB_TEXT(agg_type));
    const char *agg = http_query(req, "aggregate_id");
    if (agg) add_filter(&f, "aggregate_id =", DB_TEXT(agg));
    char since[32];
    const char *s = http_query(req, "since");
    if (s) {
        if (parse_since(s, since) < 0) {
            buf_cleanup(&f.sql);
            return http_error(res, ERR_VALIDATION,
                              "query parameter 'since' must be an RFC 3339 UTC time");
        }
        add_filter(&f, db_backend(req->db) == DB_POSTGRES ? "created_at >= CAST(" : "created_at >=",
                   DB_TEXT(since));
        if (db_backend(req->db) == DB_POSTGRES) buf_append_str(&f.sql, " AS timestamptz)");
    }
    if (cursor) add_filter(&f, "seq <", DB_INT(cursor));
    f.p[f.n++] = DB_INT(limit);
    buf_printf(&f.sql, " ORDER BY seq DESC LIMIT $%zu", f.n);
    db_res_t *r;
    rc = db_query(req->db, &r, f.sql.p, f.n, f.p);
    buf_cleanup(&f.sql);
    if (rc < 0) return http_error(res, rc, NULL);
    json_t *items = json_array();
    int64_t last = 0;
    int count = 0;
    while ((rc = db_res_next(r)) == 1) {
        json_array_append_new(items, row_json(req->arena, r));
        last = db_res_int(r, 0);
        count++;
    }
    db_res_free(r);
    if (rc < 0) {
        json_decref(items);
        return http_error(res, rc, NULL);
    }
    json_t *out = json_pack("{s:o}", "items", items);
    json_object_set_new(out, "next_cursor",
                        count == limit ? json_integer((json_int_t)last) : json_null());
    return http_json(res, 200, out);
}

static int events_publish(http_req_t *req, http_res_t *res)
{
    int rc;
    json_t *body = http_body_json(req, res, &rc);
    if (!body) return rc;
    static const char *const allowed[] = {"tenant_id", "aggregate_type", "aggregate_id",
                                          "event_type", "payload", NULL};
    if ((rc = json_reject_unknown(res, body, allowed)) < 0) return rc;
    const char *tenant, *at, *aid, *et;
    if ((rc = json_field_str(res, body, "tenant_id", !req->auth.tenant_id[0], EV_MAX_NAME, &tenant)) < 0 ||
        (rc = json_field_str(res, body, "aggregate_type", true, EV_MAX_NAME, &at)) < 0 ||
        (rc = json_field_str(res, body, "aggregate_id", true, EV_MAX_NAME, &aid)) < 0 ||
        (rc = json_field_str(res, body, "event_type", true, EV_MAX_NAME, &et)) < 0)
        return rc;
    if (!tenant) tenant = req->auth.tenant_id;
    json_t *payload = json_object_get(body, "payload");
    if (payload && !json_is_object(payload))
        return http_error(res, ERR_VALIDATION, "field 'payload' must be an object");
    char id[ID_UUID_LEN + 1];
    rc = ev_raise_db(req->db, tenant, at, aid, et, payload ? json_incref(payload) : NULL, id);
    if (rc < 0) return http_error(res, rc, NULL);
    return http_json(res, 201, json_pack("{s:s, s:s}", "id", id, "tenant_id", tenant));
}

static int subscribers_list(http_req_t *req, http_res_t *res)
{
    int64_t max_seq = 0;
    db_query_one_int(req->db, &max_seq, "SELECT COALESCE(max(seq), 0) FROM outbox", DB_NOARGS);
    db_res_t *r;
    int rc = db_query(req->db, &r,
                      "SELECT name, last_seq, attempts, next_attempt_ms, last_error, delivered "
                      "FROM ev_subscriptions ORDER BY name",
                      DB_NOARGS);
    if (rc < 0) return http_error(res, rc, NULL);
    json_t *items = json_array();
    while ((rc = db_res_next(r)) == 1) {
        int64_t last = db_res_int(r, 1);
        json_array_append_new(
            items, json_pack("{s:s, s:I, s:I, s:I, s:s?, s:I, s:I}", "name", db_res_text(r, 0),
                             "last_seq", (json_int_t)last, "attempts", (json_int_t)db_res_int(r, 2),
                             "next_attempt_ms", (json_int_t)db_res_int(r, 3), "last_error",
                             db_res_text(r, 4), "delivered", (json_int_t)db_res_int(r, 5), "lag",
                             (json_int_t)(max_seq > last ? max_seq - last : 0)));
    }
    db_res_free(r);
    if (rc < 0) {
        json_decref(items);
        return http_error(res, rc, NULL);
    }
    return http_json(res, 200, json_pack("{s:o}", "items", items));
}

static int dead_letters_list(http_req_t *req, http_res_t *res)
{
    int64_t limit = PAGE_DEFAULT;
    int rc;
    if ((rc = http_query_int(req, res, "limit", 1, PAGE_MAX, &limit)) < 0) return rc;
    filter_t f = {.n = 0};
    buf_init(&f.sql);
    buf_append_str(&f.sql, "SELECT id, tenant_id, subscriber, event_id, seq, aggregate_type, "
                           "aggregate_id, event_type, payload, attempts, error, status, created_at, "
                           "replayed_at FROM ev_dead_letters WHERE 1 = 1");
    const char *v;
    if ((v = http_query(req, "subscriber"))) add_filter(&f, "subscriber =", DB_TEXT(v));
    if ((v = http_query(req, "status"))) add_filter(&f, "status =", DB_TEXT(v));
    if ((v = http_query(req, "tenant_id"))) add_filter(&f, "tenant_id =", DB_TEXT(v));
    f.p[f.n++] = DB_INT(limit);
    buf_printf(&f.sql, " ORDER BY seq DESC, id LIMIT $%zu", f.n);
    db_res_t *r;
    rc = db_query(req->db, &r, f.sql.p, f.n, f.p);
    buf_cleanup(&f.sql);
    if (rc < 0) return http_error(res, rc, NULL);
    json_t *items = json_array();
    while ((rc = db_res_next(r)) == 1) {
        json_t *payload = json_loads(db_res_text(r, 8), 0, NULL);
        json_array_append_new(
            items,
            json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:o, s:I, s:s?, s:s, s:s, s:s?}",
                      "id", db_res_text(r, 0), "tenant_id", db_res_text(r, 1), "subscriber",
                      db_res_text(r, 2), "event_id", db_res_text(r, 3), "seq",
                      (json_int_t)db_res_int(r, 4), "aggregate_type", db_res_text(r, 5),
                      "aggregate_id", db_res_text(r, 6), "event_type", db_res_text(r, 7),
                      "payload", payload ? payload : json_object(), "attempts",
                      (json_int_t)db_res_int(r, 9), "error", db_res_text(r, 10), "status",
                      db_res_text(r, 11), "created_at", clock_from_db(req->arena, db_res_text(r, 12)),
                      "replayed_at", clock_from_db(req->arena, db_res_text(r, 13))));
    }
    db_res_free(r);
    if (rc < 0) {
        json_decref(items);
        return http_error(res, rc, NULL);
    }
    return http_json(res, 200, json_pack("{s:o}", "items", items));
}

static int dead_letter_replay(http_req_t *req, http_res_t *res)
{
    const char *id = http_param(req, "id");
    char *status = NULL;
    int rc = db_query_one_text(req->db, &status, "SELECT status FROM ev_dead_letters WHERE id = $1",
                               DB_ARGS(DB_TEXT(id)));
    if (rc == ERR_NOT_FOUND) return http_error(res, rc, "dead letter %s not found", id);
    if (rc < 0) return http_error(res, rc, NULL);
    bool dead = strcmp(status, "dead") == 0;
    free(status);
    if (!dead)
        return http_error(res, ERR_CONFLICT, "dead letter %s is already being or has been replayed",
                          id);
    rc = db_exec(req->db, NULL,
                 "UPDATE ev_dead_letters SET status = 'replay' WHERE id = $1 AND status = 'dead'",
                 DB_ARGS(DB_TEXT(id)));
    if (rc < 0) return http_error(res, rc, NULL);
    return http_json(res, 202, json_pack("{s:s, s:s}", "id", id, "status", "replay"));
}

static const route_t routes[] = {
    {"GET", "/api/v1/events", "events.view", "List recent domain events (filters: type, "
     "aggregate_type, aggregate_id, since, tenant_id, limit, cursor)", events_list, RT_PLATFORM},
    {"POST", "/api/v1/events", "events.publish", "Publish a domain event into the outbox",
     events_publish, RT_PLATFORM},
    {"GET", "/api/v1/events/subscribers", "events.admin",
     "Subscribers with their offsets, retry state and lag", subscribers_list, RT_PLATFORM},
    {"GET", "/api/v1/events/dead-letters", "events.admin",
     "List dead-lettered deliveries (filters: subscriber, status, tenant_id, limit)",
     dead_letters_list, RT_PLATFORM},
    {"POST", "/api/v1/events/dead-letters/{id}/replay", "events.admin",
     "Deliver a dead-lettered event to its subscriber again", dead_letter_replay, RT_PLATFORM},
};

void ev_register(router_t *r, const config_t *cfg)
{
    router_add(r, routes, sizeof routes / sizeof routes[0]);
    auth_grant(ROLE_TENANT_ADMIN, "events.view");
    if (cfg && cfg->events_test_dir && *cfg->events_test_dir) {
        if (config_is_dev(cfg))
            ev__test_subscribers(cfg->events_test_dir);
        else
            log_warn("BIZOSAAS_EVENTS_TEST_DIR is ignored in production");
    }
}
