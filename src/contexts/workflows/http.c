/* http.c — the workflows API under /api/v1/workflows.
 *
 * Every route runs in the caller's tenant transaction (row-level security
 * on PostgreSQL; every statement also filters on tenant_id, so SQLite
 * answers the same): another tenant's run is a 404. Platform callers act in
 * a tenant with X-Tenant-ID. Runs are listed newest first with keyset
 * pagination on the (time-ordered) run id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "ids.h"
#include "log.h"
#include "wf_internal.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200
#define MAX_INPUT_BYTES 65536

static const char *tenant_of(http_req_t *req, http_res_t *res, int *rc)
{
    if (req->auth.tenant_id[0]) return req->auth.tenant_id;
    *rc = http_error(res, ERR_VALIDATION,
                     "workflows belong to a tenant: platform callers name one with X-Tenant-ID");
    return NULL;
}

static json_t *time_or_null(int64_t ms, bool null)
{
    if (null) return json_null();
    char t[32];
    clock_rfc3339(ms, t);
    return json_string(t);
}

static json_t *parse_or_null(const char *text)
{
    if (!text) return json_null();
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    return v ? v : json_null();
}

#define TIME_COL(r, i) time_or_null(db_res_int(r, i), db_res_isnull(r, i))

#define RUN_COLS                                                                                   \
    "id, name, status, input, output, error, idem_key, schedule_id, created_ms, started_ms, "      \
    "finished_ms, updated_ms"

static json_t *run_row_json(db_res_t *r, void *arg)
{
    (void)arg;
    json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s?, s:s?, s:s?, s:o, s:o, s:o, s:o}", "id",
                          db_res_text(r, 0), "workflow", db_res_text(r, 1), "status",
                          db_res_text(r, 2), "input", parse_or_null(db_res_text(r, 3)), "output",
                          parse_or_null(db_res_text(r, 4)), "error", db_res_text(r, 5),
                          "idempotency_key", db_res_text(r, 6), "schedule_id", db_res_text(r, 7),
                          "created_at", TIME_COL(r, 8), "started_at", TIME_COL(r, 9),
                          "finished_at", TIME_COL(r, 10), "updated_at", TIME_COL(r, 11));
    if (!db_res_isnull(r, 9) && !db_res_isnull(r, 10))
        json_object_set_new(j, "duration_ms", json_integer(db_res_int(r, 10) - db_res_int(r, 9)));
    return j;
}

/* steps_json: the run's steps with their attempt history. */
static json_t *steps_json(db_t *db, const char *tenant, const char *run)
{
    db_res_t *r;
    json_t *steps = json_array();
    if (db_query(db, &r,
                 "SELECT idx, name, grp, signal, status, attempts, max_attempts, due_ms, output, "
                 "error, started_ms, finished_ms FROM wf_steps WHERE tenant_id = $1 AND run_id = "
                 "$2 ORDER BY idx",
                 DB_ARGS(DB_TEXT(tenant), DB_TEXT(run))) < 0)
        return steps;
    while (db_res_next(r) == 1) {
        const char *st = db_res_text(r, 4);
        json_t *s = json_pack("{s:i, s:s, s:i, s:s, s:s?, s:s, s:i, s:i, s:o, s:s?, s:o, s:o, s:o}",
                              "index", (int)db_res_int(r, 0), "name", db_res_text(r, 1), "group",
                              (int)db_res_int(r, 2), "kind", db_res_isnull(r, 3) ? "task" : "signal",
                              "signal", db_res_text(r, 3), "status", st, "attempts",
                              (int)db_res_int(r, 5), "max_attempts", (int)db_res_int(r, 6),
                              "output", parse_or_null(db_res_text(r, 8)), "error",
                              db_res_text(r, 9), "started_at", TIME_COL(r, 10), "finished_at",
                              TIME_COL(r, 11), "history", json_array());
        if (!db_res_isnull(r, 7)) {
            const char *k = !strcmp(st, "running")   ? "lease_expires_at"
                            : !strcmp(st, "waiting") ? "deadline_at"
                                                     : "next_attempt_at";
            json_object_set_new(s, k, TIME_COL(r, 7));
        }
        json_array_append_new(steps, s);
    }
    db_res_free(r);
    if (db_query(db, &r,
                 "SELECT step_idx, attempt, worker, status, error, started_ms, finished_ms FROM "
                 "wf_attempts WHERE tenant_id = $1 AND run_id = $2 ORDER BY step_idx, attempt",
                 DB_ARGS(DB_TEXT(tenant), DB_TEXT(run))) < 0)
        return steps;
    while (db_res_next(r) == 1) {
        json_t *s = json_array_get(steps, (size_t)db_res_int(r, 0));
        if (!s) continue;
        json_t *a = json_pack("{s:i, s:s, s:s, s:s?, s:o, s:o}", "attempt", (int)db_res_int(r, 1),
                              "worker", db_res_text(r, 2), "status", db_res_text(r, 3), "error",
                              db_res_text(r, 4), "started_at", TIME_COL(r, 5), "finished_at",
                              TIME_COL(r, 6));
        if (!db_res_isnull(r, 6))
            json_object_set_new(a, "duration_ms", json_integer(db_res_int(r, 6) - db_res_int(r, 5)));
        json_array_append_new(json_object_get(s, "history"), a);
    }
    db_res_free(r);
    return steps;
}

json_t *wf__run_json(db_t *db, arena_t *a, const char *tenant, const char *run, bool steps)
{
    (void)a;
    db_res_t *r;
    if (db_query(db, &r, "SELECT " RUN_COLS " FROM wf_runs WHERE tenant_id = $1 AND id = $2",
                 DB_ARGS(DB_TEXT(tenant), DB_TEXT(run))) < 0)
        return NULL;
    json_t *j = db_res_next(r) == 1 ? run_row_json(r, NULL) : NULL;
    db_res_free(r);
    if (j && steps) json_object_set_new(j, "steps", steps_json(db, tenant, run));
    return j;
}

static int runs_create(http_req_t *req, http_res_t *res)
{
    int rc = 0;
    const char *tenant = tenant_of(req, res, &rc);
    if (!tenant) return rc;
    const char *name = http_param(req, "name");
    if (!wf_find(name)) return http_error(res, ERR_NOT_FOUND, "no workflow definition %s", name);
    json_t *body = http_body_json(req, res, &rc);
    if (!body) return rc;
    static const char *const allowed[] = {"input", "idempotency_key", NULL};
    if ((rc = json_reject_unknown(res, body, allowed)) < 0) return rc;
    const char *key = NULL;
    if ((rc = json_field_str(res, body, "idempotency_key", false, 255, &key)) < 0) return rc;
    json_t *input = json_object_get(body, "input");
    if (input && !json_is_object(input))
        return http_error(res, ERR_VALIDATION, "field 'input' must be an object");
    char *text = input ? json_dumps(input, JSON_COMPACT) : NULL;
    size_t len = text ? strlen(text) : 0;
    free(text);
    if (len > MAX_INPUT_BYTES)
        return http_error(res, ERR_VALIDATION, "field 'input' is larger than %d bytes", MAX_INPUT_BYTES);
    char id[ID_UUID_LEN + 1];
    bool existed = false;
    rc = wf_run_start(req->db, tenant, name, input, key, NULL, id, &existed);
    if (rc == ERR_EXISTS) /* a concurrent request with the same key won */
        return http_error(res, ERR_CONFLICT, "a run with this idempotency key is being created; retry");
    if (rc < 0) return http_error(res, rc, NULL);
    json_t *j = wf__run_json(req->db, req->arena, tenant, id, true);
    if (!j) return http_error(res, ERR_DB, NULL);
    if (existed) http_set_header(res, "Idempotent-Replayed", "true");
    http_set_header(res, "Location", arena_printf(req->arena, "/api/v1/workflows/runs/%s", id));
    return http_json(res, existed ? 200 : 201, j);
}

static int runs_get(http_req_t *req, http_res_t *res)
{
    int rc = 0;
    const char *tenant = tenant_of(req, res, &rc);
    if (!tenant) return rc;
    const char *id = http_param(req, "id");
    if (!id_is_uuid(id, strlen(id))) return http_error(res, ERR_NOT_FOUND, "run %s not found", id);
    json_t *j = wf__run_json(req->db, req->arena, tenant, id, true);
    if (!j) return http_error(res, ERR_NOT_FOUND, "run %s not found", id);
    return http_json(res, 200, j);
}

/* parse_time: an RFC 3339 UTC time as Unix ms. */
static int parse_time(const char *v, int64_t *out)
{
    struct tm tm = {0};
    const char *p = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p) return ERR_VALIDATION;
    int ms = 0, d = 0;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, d++)
            if (d < 3) ms = ms * 10 + (*p - '0');
    for (int k = d; k < 3 && d > 0; k++) ms *= 10;
    if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0) return ERR_VALIDATION;
    *out = (int64_t)timegm(&tm) * 1000 + ms;
    return 0;
}

static bool valid_status(const char *s)
{
    static const char *const all[] = {"queued", "running", "waiting", "completed", "failed", "canceled", NULL};
    for (const char *const *p = all; *p; p++)
        if (!strcmp(*p, s)) return true;
    return false;
}

static int runs_list(http_req_t *req, http_res_t *res)
{
    int rc = 0;
    const char *tenant = tenant_of(req, res, &rc);
    if (!tenant) return rc;
    int64_t limit = PAGE_DEFAULT, after = 0, before = INT64_MAX;
    const char *v = http_query(req, "limit");
    if (v) {
        char *end;
        limit = strtoll(v, &end, 10);
        if (!*v || *end || limit < 1 || limit > PAGE_MAX)
            return http_error(res, ERR_VALIDATION, "query parameter 'limit' must be 1..%d", PAGE_MAX);
    }
    const char *name = http_query(req, "name"), *status = http_query(req, "status");
    if (status && !valid_status(status))
        return http_error(res, ERR_VALIDATION,
                          "query parameter 'status' must be queued, running, waiting, completed, "
                          "failed or canceled");
    if ((v = http_query(req, "created_after")) && parse_time(v, &after) < 0)
        return http_error(res, ERR_VALIDATION, "query parameter 'created_after' must be an RFC 3339 UTC time");
    if ((v = http_query(req, "created_before")) && parse_time(v, &before) < 0)
        return http_error(res, ERR_VALIDATION, "query parameter 'created_before' must be an RFC 3339 UTC time");
    const char *cursor = http_query(req, "cursor");
    if (cursor && !id_is_uuid(cursor, strlen(cursor)))
        return http_error(res, ERR_VALIDATION, "query parameter 'cursor' is malformed");
    db_res_t *r;
    rc = db_query(req->db, &r,
                  "SELECT " RUN_COLS " FROM wf_runs WHERE tenant_id = $1 AND ($2 = '' OR name = $2) "
                  "AND ($3 = '' OR status = $3) AND created_ms >= $4 AND created_ms < $5 AND "
                  "($6 = '' OR id < $6) ORDER BY id DESC LIMIT $7",
                  DB_ARGS(DB_TEXT(tenant), DB_TEXT(name ? name : ""), DB_TEXT(status ? status : ""),
                          DB_INT(after), DB_INT(before), DB_TEXT(cursor ? cursor : ""),
                          DB_INT(limit + 1)));
    if (rc < 0) return http_error(res, rc, NULL);
    json_t *items = json_array();
    bool more = false;
    rc = db_res_page(r, (int)limit, &more, items, run_row_json, NULL);
    db_res_free(r);
    if (rc < 0) {
        json_decref(items);
        return http_error(res, rc, NULL);
    }
    json_t *last = json_array_get(items, json_array_size(items) - 1);
    json_t *out = json_pack("{s:o}", "items", items);
    json_object_set_new(out, "next_cursor",
                        more && last ? json_incref(json_object_get(last, "id")) : json_null());
    return http_json(res, 200, out);
}

static int runs_cancel(http_req_t *req, http_res_t *res)
{
    int rc = 0;
    const char *tenant = tenant_of(req, res, &rc);
    if (!tenant) return rc;
    const char *id = http_param(req, "id");
    if (!id_is_uuid(id, strlen(id))) return http_error(res, ERR_NOT_FOUND, "run %s not found", id);
    rc = wf__cancel(req->db, tenant, id, clock_now_ms());
    if (rc == ERR_NOT_FOUND) return http_error(res, rc, "run %s not found", id);
    if (rc == ERR_CONFLICT) return http_error(res, rc, "run %s has already finished", id);
    if (rc < 0) return http_error(res, rc, NULL);
    return http_json(res, 200, wf__run_json(req->db, req->arena, tenant, id, true));
}

static int runs_signal(http_req_t *req, http_res_t *res)
{
    int rc = 0;
    const char *tenant = tenant_of(req, res, &rc);
    if (!tenant) return rc;
    const char *id = http_param(req, "id"), *sig = http_param(req, "signal");
    if (!id_is_uuid(id, strlen(id))) return http_error(res, ERR_NOT_FOUND, "run %s not found", id);
    size_t n = strlen(sig);
    bool ok = n > 0 && n <= WF_MAX_NAME;
    for (size_t i = 0; ok && i < n; i++)
        ok = (sig[i] >= 'a' && sig[i] <= 'z') || (sig[i] >= '0' && sig[i] <= '9') || sig[i] == '_' ||
             sig[i] == '-' || sig[i] == '.';
    if (!ok) return http_error(res, ERR_VALIDATION, "signal names are 1..%d of [a-z0-9_.-]", WF_MAX_NAME);
    json_t *payload = NULL;
    if (req->body_len > 0) {
        json_t *body = http_body_json(req, res, &rc);
        if (!body) return rc;
        static const char *const allowed[] = {"payload", NULL};
        if ((rc = json_reject_unknown(res, body, allowed)) < 0) return rc;
        payload = json_object_get(body, "payload");
        if (payload && !json_is_object(payload))
            return http_error(res, ERR_VALIDATION, "field 'payload' must be an object");
    }
    rc = wf__signal(req->db, tenant, id, sig, payload, clock_now_ms());
    if (rc == ERR_NOT_FOUND) return http_error(res, rc, "run %s not found", id);
    if (rc == ERR_CONFLICT)
        return http_error(res, rc, "run %s has finished or already received signal %s", id, sig);
    if (rc < 0) return http_error(res, rc, NULL);
    return http_json(res, 202, json_pack("{s:s, s:s, s:b}", "run_id", id, "signal", sig, "accepted", 1));
}

static int defs_list(http_req_t *req, http_res_t *res)
{
    (void)req;
    json_t *items = json_array();
    for (int i = 0; i < wf__ndefs(); i++) {
        const wf_def_t *d = wf__def_at(i);
        json_t *steps = json_array();
        for (int k = 0; k < d->nsteps; k++) {
            const wf_step_def_t *s = &d->steps[k];
            json_array_append_new(
                steps, json_pack("{s:s, s:i, s:s, s:s?, s:I, s:i}", "name", s->name, "group",
                                 wf__group_of(d, k), "kind", s->signal ? "signal" : "task",
                                 "signal", s->signal, "timeout_ms",
                                 (json_int_t)(s->signal ? s->signal_deadline_ms : wf__step_timeout(s)),
                                 "max_attempts", s->signal ? 1 : wf__max_attempts(s)));
        }
        json_array_append_new(items, json_pack("{s:s, s:s?, s:o}", "name", d->name, "description",
                                               d->description, "steps", steps));
    }
    return http_json(res, 200, json_pack("{s:o}", "items", items));
}

/* PUT /api/v1/workflows/tenants/{tenant_id}/weight {weight}: super_admin
 * sets a tenant's share of the workers (default 1). */
static int weight_put(http_req_t *req, http_res_t *res)
{
    int rc;
    const char *tenant = http_param(req, "tenant_id");
    if (!tenant[0] || strlen(tenant) > 127)
        return http_error(res, ERR_VALIDATION, "tenant_id must be 1..127 characters");
    json_t *body = http_body_json(req, res, &rc);
    if (!body) return rc;
    static const char *const allowed[] = {"weight", NULL};
    if ((rc = json_reject_unknown(res, body, allowed)) < 0) return rc;
    int64_t w;
    if ((rc = json_field_int(res, body, "weight", true, 1, 1000, &w)) < 0) return rc;
    rc = wf__set_weight(req->db, tenant, (int)w);
    if (rc < 0) return http_error(res, rc, NULL);
    return http_json(res, 200, json_pack("{s:s, s:I}", "tenant_id", tenant, "weight", (json_int_t)w));
}

static const route_t routes[] = {
    {"GET", "/api/v1/workflows/definitions", "workflows.view", "List workflow definitions", defs_list, 0},
    {"POST", "/api/v1/workflows/{name}/runs", "workflows.manage", "Start a run of a workflow", runs_create, 0},
    {"GET", "/api/v1/workflows/runs", "workflows.view", "List runs (filters, keyset pages)", runs_list, 0},
    {"GET", "/api/v1/workflows/runs/{id}", "workflows.view", "Get a run with its step history", runs_get, 0},
    {"GET", "/api/v1/workflows/runs/{id}/events", "workflows.view",
     "Live progress of a run (Server-Sent Events)", wf__run_events, RT_NO_TX | RT_STREAM},
    {"POST", "/api/v1/workflows/runs/{id}/cancel", "workflows.manage", "Cancel a run", runs_cancel, 0},
    {"POST", "/api/v1/workflows/runs/{id}/signals/{signal}", "workflows.manage",
     "Send a signal to a run", runs_signal, 0},
    {"PUT", "/api/v1/workflows/tenants/{tenant_id}/weight", "platform.workflows",
     "Set a tenant's weight for fair claiming", weight_put, RT_PLATFORM},
};

void wf_register(router_t *r, const config_t *cfg)
{
    wf__builtin_register();
    if (cfg->workflow_test_defs) wf__test_defs_register();
    wf__sse_configure(cfg->workflow_sse_max);
    auth_grant(ROLE_TENANT_ADMIN | ROLE_MANAGER, "workflows.*");
    router_add(r, routes, sizeof routes / sizeof routes[0]);
    router_add(r, wf__schedule_routes, (size_t)wf__nschedule_routes);
}
