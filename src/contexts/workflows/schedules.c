/* schedules.c — cron schedules: the API and the firing pass.
 *
 * A schedule starts a run of a workflow at each firing of a 5-field cron
 * expression in an IANA time zone (cron.h for syntax and DST). Worker 0 of
 * every process runs the firing pass about once a second: due schedules are
 * locked (FOR UPDATE SKIP LOCKED on PostgreSQL, so two processes never fire
 * the same one) and each run is created with the idempotency key
 * "schedule:<id>:<slot>", so a slot can never start two runs.
 *
 * Overlap policy, when the previous run of the schedule is still active:
 *   skip   this firing is dropped (next_fire moves on)
 *   queue  the firing waits and starts as soon as the previous run ends
 *          (at most one is kept, like Temporal's BUFFER_ONE)
 *   allow  a new run starts anyway
 * Missed firings (the platform was down): at start the schedule is due, so
 * it fires once for all the slots it missed, then continues from now.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cron.h"
#include "err.h"
#include "ids.h"
#include "log.h"
#include "wf_internal.h"

#define SCHED_COLS                                                                                 \
    "id, workflow, cron, timezone, input, overlap, next_fire_ms, last_fire_ms, last_run_id, "      \
    "created_ms"
#define PAGE_MAX 500

static json_t *tm_json(db_res_t *r, int i)
{
    if (db_res_isnull(r, i)) return json_null();
    char t[32];
    clock_rfc3339(db_res_int(r, i), t);
    return json_string(t);
}

static json_t *sched_row_json(db_res_t *r, void *arg)
{
    (void)arg;
    json_t *in = json_loads(db_res_text(r, 4), 0, NULL);
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:s?, s:o}", "id", db_res_text(r, 0),
                     "workflow", db_res_text(r, 1), "cron", db_res_text(r, 2), "timezone",
                     db_res_text(r, 3), "input", in ? in : json_object(), "overlap",
                     db_res_text(r, 5), "next_fire_at", tm_json(r, 6), "last_fire_at",
                     tm_json(r, 7), "last_run_id", db_res_text(r, 8), "created_at", tm_json(r, 9));
}

static int sched_create(http_req_t *req, http_res_t *res)
{
    int rc;
    const char *tenant = req->auth.tenant_id;
    if (!tenant[0])
        return http_error(res, ERR_VALIDATION,
                          "schedules belong to a tenant: platform callers name one with X-Tenant-ID");
    json_t *body = http_body_json(req, res, &rc);
    if (!body) return rc;
    static const char *const allowed[] = {"workflow", "cron", "timezone", "input", "overlap", NULL};
    if ((rc = json_reject_unknown(res, body, allowed)) < 0) return rc;
    const char *wf, *cron, *tz, *overlap;
    if ((rc = json_field_str(res, body, "workflow", true, WF_MAX_NAME, &wf)) < 0 ||
        (rc = json_field_str(res, body, "cron", true, 200, &cron)) < 0 ||
        (rc = json_field_str(res, body, "timezone", false, 64, &tz)) < 0 ||
        (rc = json_field_str(res, body, "overlap", false, 16, &overlap)) < 0)
        return rc;
    if (!tz) tz = "UTC";
    if (!overlap) overlap = "skip";
    if (!wf_find(wf)) return http_error(res, ERR_VALIDATION, "field 'workflow': no definition %s", wf);
    wf_cron_t c;
    char err[200];
    if (wf_cron_parse(cron, &c, err, sizeof err) < 0)
        return http_error(res, ERR_VALIDATION, "field 'cron': %s", err);
    if (!wf_tz_valid(tz))
        return http_error(res, ERR_VALIDATION, "field 'timezone': %s is not an IANA time zone", tz);
    if (strcmp(overlap, "skip") && strcmp(overlap, "queue") && strcmp(overlap, "allow"))
        return http_error(res, ERR_VALIDATION, "field 'overlap' must be skip, queue or allow");
    json_t *input = json_object_get(body, "input");
    if (input && !json_is_object(input))
        return http_error(res, ERR_VALIDATION, "field 'input' must be an object");
    int64_t now = clock_now_ms(), next = wf_cron_next(&c, tz, now);
    if (next < 0)
        return http_error(res, ERR_VALIDATION, "field 'cron': %s never fires", cron);
    char id[ID_UUID_LEN + 1];
    id_uuidv7(id);
    char *in = input ? json_dumps(input, JSON_COMPACT) : strdup("{}");
    rc = db_exec(req->db, NULL,
                 "INSERT INTO wf_schedules (tenant_id, id, workflow, cron, timezone, input, overlap, "
                 "next_fire_ms, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                 DB_ARGS(DB_TEXT(tenant), DB_TEXT(id), DB_TEXT(wf), DB_TEXT(cron), DB_TEXT(tz),
                         DB_TEXT(in), DB_TEXT(overlap), DB_INT(next), DB_INT(now)));
    free(in);
    if (rc < 0) return http_error(res, rc, NULL);
    db_res_t *r;
    rc = db_query(req->db, &r, "SELECT " SCHED_COLS " FROM wf_schedules WHERE tenant_id = $1 AND id = $2",
                  DB_ARGS(DB_TEXT(tenant), DB_TEXT(id)));
    if (rc < 0) return http_error(res, rc, NULL);
    json_t *j = db_res_next(r) == 1 ? sched_row_json(r, NULL) : NULL;
    db_res_free(r);
    if (!j) return http_error(res, ERR_DB, NULL);
    return http_json(res, 201, j);
}

static int sched_list(http_req_t *req, http_res_t *res)
{
    const char *cursor = http_query(req, "cursor");
    if (cursor && !id_is_uuid(cursor, strlen(cursor)))
        return http_error(res, ERR_VALIDATION, "query parameter 'cursor' is malformed");
    db_res_t *r;
    int rc = db_query(req->db, &r,
                      "SELECT " SCHED_COLS " FROM wf_schedules WHERE tenant_id = $1 AND id > $2 "
                      "ORDER BY id LIMIT $3",
                      DB_ARGS(DB_TEXT(req->auth.tenant_id), DB_TEXT(cursor ? cursor : ""),
                              DB_INT(PAGE_MAX + 1)));
    if (rc < 0) return http_error(res, rc, NULL);
    json_t *items = json_array();
    bool more = false;
    rc = db_res_page(r, PAGE_MAX, &more, items, sched_row_json, NULL);
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

static int sched_delete(http_req_t *req, http_res_t *res)
{
    const char *id = http_param(req, "id");
    int64_t n = 0;
    int rc = db_exec(req->db, &n, "DELETE FROM wf_schedules WHERE tenant_id = $1 AND id = $2",
                     DB_ARGS(DB_TEXT(req->auth.tenant_id), DB_TEXT(id)));
    if (rc < 0) return http_error(res, rc, NULL);
    if (n == 0) return http_error(res, ERR_NOT_FOUND, "schedule %s not found", id);
    return http_text(res, 204, "text/plain", "", 0);
}

const route_t wf__schedule_routes[] = {
    {"POST", "/api/v1/workflows/schedules", "workflows.manage", "Create a cron schedule", sched_create, 0},
    {"GET", "/api/v1/workflows/schedules", "workflows.view", "List cron schedules", sched_list, 0},
    {"DELETE", "/api/v1/workflows/schedules/{id}", "workflows.manage", "Delete a cron schedule",
     sched_delete, 0},
};
const int wf__nschedule_routes = 3;

typedef struct due {
    char tenant[128], id[40], wf[WF_MAX_NAME + 1], tz[80], overlap[8], last_run[40];
    char *cron, *input;
    int64_t next;
} due_t;

/* fire_one: one due schedule, in the pass's transaction. */
static int fire_one(db_t *db, due_t *d, int64_t now)
{
    wf_cron_t c;
    char err[200];
    int64_t next = -1;
    if (wf_cron_parse(d->cron, &c, err, sizeof err) == 0) next = wf_cron_next(&c, d->tz, now);
    if (next < 0) next = INT64_MAX / 2; /* never again (cannot happen for a stored schedule) */
    bool busy = false;
    if (d->last_run[0]) {
        char *st = NULL;
        if (db_query_one_text(db, &st, "SELECT status FROM wf_runs WHERE tenant_id = $1 AND id = $2",
                              DB_ARGS(DB_TEXT(d->tenant), DB_TEXT(d->last_run))) == 0) {
            busy = !wf__terminal(st);
            free(st);
        }
    }
    if (busy && !strcmp(d->overlap, "queue")) return 0; /* stays due until the run ends */
    if (busy && !strcmp(d->overlap, "skip")) {
        log_kv(LOG_INFO, "schedule firing skipped: previous run still active", "schedule_id", d->id,
               "tenant_id", d->tenant, NULL);
        return db_exec(db, NULL,
                       "UPDATE wf_schedules SET next_fire_ms = $3 WHERE tenant_id = $1 AND id = $2",
                       DB_ARGS(DB_TEXT(d->tenant), DB_TEXT(d->id), DB_INT(next)));
    }
    json_t *input = json_loads(d->input, 0, NULL);
    char key[96], run[ID_UUID_LEN + 1];
    snprintf(key, sizeof key, "schedule:%s:%lld", d->id, (long long)d->next);
    bool existed;
    int rc = wf_run_start(db, d->tenant, d->wf, input, key, d->id, run, &existed);
    json_decref(input);
    if (rc == ERR_NOT_FOUND) { /* the definition left the build: keep the schedule, skip */
        log_kv(LOG_WARN, "schedule names an unknown workflow", "schedule_id", d->id, "workflow", d->wf, NULL);
        run[0] = '\0';
        rc = 0;
    }
    if (rc < 0) return rc;
    return db_exec(db, NULL,
                   "UPDATE wf_schedules SET next_fire_ms = $3, last_fire_ms = $4, last_run_id = "
                   "COALESCE($5, last_run_id) WHERE tenant_id = $1 AND id = $2",
                   DB_ARGS(DB_TEXT(d->tenant), DB_TEXT(d->id), DB_INT(next), DB_INT(now),
                           DB_TEXT(run[0] ? run : NULL)));
}

int wf__schedule_pass(db_t *db, int64_t now)
{
    int rc = db_begin_platform(db, true);
    if (rc < 0) return rc;
    db_res_t *r;
    rc = db_query(db, &r,
                  db_backend(db) == DB_POSTGRES
                      ? "SELECT tenant_id, id, workflow, cron, timezone, input, overlap, "
                        "next_fire_ms, last_run_id FROM wf_schedules WHERE next_fire_ms <= $1 "
                        "ORDER BY next_fire_ms LIMIT 20 FOR UPDATE SKIP LOCKED"
                      : "SELECT tenant_id, id, workflow, cron, timezone, input, overlap, "
                        "next_fire_ms, last_run_id FROM wf_schedules WHERE next_fire_ms <= $1 "
                        "ORDER BY next_fire_ms LIMIT 20",
                  DB_ARGS(DB_INT(now)));
    if (rc < 0) {
        db_rollback(db);
        return rc;
    }
    due_t ds[20];
    int n = 0;
    while (n < 20 && (rc = db_res_next(r)) == 1) {
        due_t *d = &ds[n++];
        memset(d, 0, sizeof *d);
        snprintf(d->tenant, sizeof d->tenant, "%s", db_res_text(r, 0));
        snprintf(d->id, sizeof d->id, "%s", db_res_text(r, 1));
        snprintf(d->wf, sizeof d->wf, "%s", db_res_text(r, 2));
        d->cron = strdup(db_res_text(r, 3));
        snprintf(d->tz, sizeof d->tz, "%s", db_res_text(r, 4));
        d->input = strdup(db_res_text(r, 5));
        snprintf(d->overlap, sizeof d->overlap, "%s", db_res_text(r, 6));
        d->next = db_res_int(r, 7);
        snprintf(d->last_run, sizeof d->last_run, "%s", db_res_isnull(r, 8) ? "" : db_res_text(r, 8));
    }
    db_res_free(r);
    for (int i = 0; rc >= 0 && i < n; i++) rc = fire_one(db, &ds[i], now);
    for (int i = 0; i < n; i++) {
        free(ds[i].cron);
        free(ds[i].input);
    }
    if (rc >= 0) rc = db_commit(db);
    if (rc < 0) db_rollback(db);
    return rc;
}
