/* sse.c — GET /api/v1/workflows/runs/{id}/events: a run's live progress
 * as Server-Sent Events.
 *
 * The handler runs on a worker without a request transaction (RT_NO_TX)
 * and streams through the kernel's RT_STREAM API: it polls the run and
 * its steps every POLL_MS in a short read transaction and writes an event
 * for every change:
 *   event: run    {"id","status","output","error"}  (first, and on change)
 *   event: step   the step as in GET /runs/{id} (on a status/attempt change)
 *   event: end    the final run, then the stream closes
 * plus a ": keepalive" comment every KEEPALIVE_MS. Each stream holds one
 * worker thread, so their number is capped (BIZOSAAS_WORKFLOW_SSE_MAX; 503
 * beyond) and a stream ends after MAX_STREAM_MS (clients reconnect, as
 * EventSource does by itself). Bearer tokens only: API keys are resolved
 * in the request transaction this route does not have.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "ids.h"
#include "wf_internal.h"

#define POLL_MS 200
#define KEEPALIVE_MS 15000
#define MAX_STREAM_MS 600000
#define WRITE_TIMEOUT_MS 5000

static _Atomic int64_t g_streams;
static int64_t g_max = 4;

void wf__sse_configure(int64_t max_streams) { g_max = max_streams; }

static int send_event(http_req_t *req, const char *type, json_t *data)
{
    char *s = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    if (!s) return ERR_INTERNAL;
    buf_t b;
    buf_init(&b);
    buf_printf(&b, "event: %s\ndata: %s\n\n", type, s);
    free(s);
    int rc = http_stream_write(req, b.p, b.n, WRITE_TIMEOUT_MS);
    buf_cleanup(&b);
    return rc;
}

static json_t *load(http_req_t *req, const char *tenant, const char *id)
{
    if (db_begin(req->db, tenant, false) < 0) return NULL;
    json_t *j = wf__run_json(req->db, req->arena, tenant, id, true);
    db_rollback(req->db);
    return j;
}

static json_t *run_summary(json_t *run)
{
    return json_pack("{s:O, s:O, s:O, s:O}", "id", json_object_get(run, "id"), "status",
                     json_object_get(run, "status"), "output", json_object_get(run, "output"),
                     "error", json_object_get(run, "error"));
}

static int stream(http_req_t *req, const char *tenant, const char *id, json_t *run)
{
    char last_run[16] = "";
    char last_step[WF_MAX_STEPS][24];
    memset(last_step, 0, sizeof last_step);
    int64_t start = clock_now_ms(), last_write = start;
    if (http_stream_write(req, "retry: 1000\n\n", 13, WRITE_TIMEOUT_MS) < 0) goto gone;
    for (;;) {
        if (run) {
            const char *st = json_string_value(json_object_get(run, "status"));
            json_t *steps = json_object_get(run, "steps");
            size_t i;
            json_t *s;
            if (strcmp(st, last_run) != 0) {
                snprintf(last_run, sizeof last_run, "%s", st);
                if (send_event(req, "run", run_summary(run)) < 0) goto gone;
                last_write = clock_now_ms();
            }
            json_array_foreach(steps, i, s)
            {
                if (i >= WF_MAX_STEPS) break;
                char key[24];
                snprintf(key, sizeof key, "%.12s:%lld", json_string_value(json_object_get(s, "status")),
                         (long long)json_integer_value(json_object_get(s, "attempts")));
                if (strcmp(key, last_step[i]) != 0) {
                    memcpy(last_step[i], key, sizeof key);
                    if (send_event(req, "step", json_incref(s)) < 0) goto gone;
                    last_write = clock_now_ms();
                }
            }
            if (wf__terminal(st)) {
                send_event(req, "end", run_summary(run));
                json_decref(run);
                return 0;
            }
            json_decref(run);
            run = NULL;
        }
        int64_t now = clock_now_ms();
        if (http_stream_closing(req)) {
            http_stream_write(req, ": server shutting down; reconnect\n\n", 35, WRITE_TIMEOUT_MS);
            return 0;
        }
        if (now - start > MAX_STREAM_MS) {
            http_stream_write(req, ": stream time limit reached; reconnect\n\n", 40, WRITE_TIMEOUT_MS);
            return 0;
        }
        if (now - last_write >= KEEPALIVE_MS) {
            if (http_stream_write(req, ": keepalive\n\n", 13, WRITE_TIMEOUT_MS) < 0) return ERR_IO;
            last_write = now;
        }
        usleep(POLL_MS * 1000);
        run = load(req, tenant, id); /* NULL while the database is away: try again */
    }
gone:
    json_decref(run);
    return ERR_IO;
}

int wf__run_events(http_req_t *req, http_res_t *res)
{
    if (!req->authenticated)
        return http_error(res, ERR_UNAUTHORIZED, "use a bearer token for the event stream");
    if (!req->db) return http_error(res, ERR_DB_UNAVAILABLE, "the database is unavailable; retry later");
    const char *tenant = req->auth.tenant_id;
    if (!tenant[0])
        return http_error(res, ERR_VALIDATION,
                          "workflows belong to a tenant: platform callers name one with X-Tenant-ID");
    const char *id = http_param(req, "id");
    if (!id_is_uuid(id, strlen(id))) return http_error(res, ERR_NOT_FOUND, "run %s not found", id);
    json_t *run = load(req, tenant, id);
    if (!run) return http_error(res, ERR_NOT_FOUND, "run %s not found", id);
    if (atomic_fetch_add(&g_streams, 1) >= g_max) {
        atomic_fetch_sub(&g_streams, 1);
        json_decref(run);
        http_set_header(res, "Retry-After", "5");
        return http_error(res, ERR_OVERLOADED, "too many open event streams; retry later");
    }
    http_set_header(res, "X-Accel-Buffering", "no");
    if (http_stream_begin(req, res, "text/event-stream") == 0)
        stream(req, tenant, id, run);
    else
        json_decref(run);
    atomic_fetch_sub(&g_streams, 1);
    return 0;
}
