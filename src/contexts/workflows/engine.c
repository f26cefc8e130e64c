/* engine.c — the run state machine on the database (see wf.h).
 *
 * Every function here runs in the caller's open write transaction. All
 * writes to one run are serialized by the run's row: on PostgreSQL each
 * path locks wf_runs (FOR UPDATE, SKIP LOCKED when claiming) before it
 * touches the run's steps, so two workers finishing the two halves of a
 * parallel group cannot both miss that the group is complete, and lock
 * order is always run, then steps (no deadlocks). On SQLite the write
 * transaction (BEGIN IMMEDIATE) serializes everything already.
 *
 * Step states: pending (a later group) -> ready (due at due_ms) -> running
 * (leased until due_ms) -> completed | ready again (retry after a backoff)
 * | failed. A signal step goes ready -> waiting (until the signal arrives,
 * or its deadline = due_ms) -> completed | failed. Canceled when the run is
 * canceled or fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "events/events.h"
#include "ids.h"
#include "log.h"
#include "wf_internal.h"

#define MAX_CANDIDATES 16
#define FAIR_UNIT 1000

bool wf__terminal(const char *s)
{
    return s && (!strcmp(s, "completed") || !strcmp(s, "failed") || !strcmp(s, "canceled"));
}

static bool is_pg(db_t *db) { return db_backend(db) == DB_POSTGRES; }

static char *dumps(const json_t *j)
{
    return j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("null");
}

int wf_run_start(db_t *db, const char *tenant, const char *name, const json_t *input,
                 const char *idem_key, const char *schedule_id, char id_out[37], bool *existed)
{
    const wf_def_t *d = wf_find(name);
    if (!d) return ERR_NOT_FOUND;
    *existed = false;
    if (idem_key) {
        char *id = NULL;
        int rc = db_query_one_text(db, &id,
                                   "SELECT id FROM wf_runs WHERE tenant_id = $1 AND name = $2 AND "
                                   "idem_key = $3",
                                   DB_ARGS(DB_TEXT(tenant), DB_TEXT(name), DB_TEXT(idem_key)));
        if (rc == 0) {
            snprintf(id_out, 37, "%s", id);
            free(id);
            *existed = true;
            return 0;
        }
        if (rc != ERR_NOT_FOUND) return rc;
    }
    id_uuidv7(id_out);
    int64_t now = clock_now_ms();
    char *in = input ? json_dumps(input, JSON_COMPACT) : strdup("{}");
    int rc = db_exec(db, NULL,
                     "INSERT INTO wf_runs (tenant_id, id, name, status, input, idem_key, "
                     "schedule_id, created_ms, updated_ms) VALUES ($1, $2, $3, 'queued', $4, $5, "
                     "$6, $7, $7)",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(id_out), DB_TEXT(name), DB_TEXT(in),
                             DB_TEXT(idem_key), DB_TEXT(schedule_id), DB_INT(now)));
    free(in);
    for (int i = 0; rc == 0 && i < d->nsteps; i++) {
        const wf_step_def_t *s = &d->steps[i];
        int g = wf__group_of(d, i);
        rc = db_exec(db, NULL,
                     "INSERT INTO wf_steps (tenant_id, run_id, idx, name, grp, signal, status, "
                     "max_attempts, due_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(id_out), DB_INT(i), DB_TEXT(s->name),
                             DB_INT(g), DB_TEXT(s->signal), DB_TEXT(g == 0 ? "ready" : "pending"),
                             DB_INT(s->signal ? 1 : wf__max_attempts(s)),
                             g == 0 ? DB_INT(now) : DB_NULL));
    }
    return rc;
}

/* run_event: raises a WorkflowRun* event with the run's name. */
static int run_event(db_t *db, const char *tenant, const char *run, const char *type,
                     json_t *extra)
{
    char *name = NULL;
    int rc = db_query_one_text(db, &name, "SELECT name FROM wf_runs WHERE tenant_id = $1 AND id = $2",
                               DB_ARGS(DB_TEXT(tenant), DB_TEXT(run)));
    if (rc < 0) {
        json_decref(extra);
        return rc;
    }
    json_t *p = extra ? extra : json_object();
    json_object_set_new(p, "run_id", json_string(run));
    json_object_set_new(p, "workflow", json_string(name));
    free(name);
    return ev_raise_db(db, tenant, "workflow_run", run, type, p, NULL);
}

/* lock_run: the run's status (and, when name is not NULL, its definition
 * name), with its row locked (PostgreSQL). skip: SKIP LOCKED (returns
 * ERR_CONFLICT when another transaction holds it). */
static int lock_run_ex(db_t *db, const char *tenant, const char *run, bool skip, char status[16],
                       char name[WF_MAX_NAME + 1])
{
    const char *sql = !is_pg(db) ? "SELECT status, name FROM wf_runs WHERE tenant_id = $1 AND id = $2"
                      : skip     ? "SELECT status, name FROM wf_runs WHERE tenant_id = $1 AND id = $2 "
                                   "FOR UPDATE SKIP LOCKED"
                                 : "SELECT status, name FROM wf_runs WHERE tenant_id = $1 AND id = $2 "
                                   "FOR UPDATE";
    db_res_t *r;
    int rc = db_query(db, &r, sql, DB_ARGS(DB_TEXT(tenant), DB_TEXT(run)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc == 1) {
        snprintf(status, 16, "%s", db_res_text(r, 0));
        if (name) snprintf(name, WF_MAX_NAME + 1, "%s", db_res_text(r, 1));
    }
    db_res_free(r);
    if (rc < 0) return rc;
    if (rc == 0) {
        if (!skip) return ERR_NOT_FOUND;
        /* absent, or locked by someone else: tell which */
        int64_t n = 0;
        rc = db_query_one_int(db, &n, "SELECT count(*) FROM wf_runs WHERE tenant_id = $1 AND id = $2",
                              DB_ARGS(DB_TEXT(tenant), DB_TEXT(run)));
        if (rc < 0) return rc;
        return n ? ERR_CONFLICT : ERR_NOT_FOUND;
    }
    return 0;
}

static int lock_run(db_t *db, const char *tenant, const char *run, bool skip, char status[16])
{
    return lock_run_ex(db, tenant, run, skip, status, NULL);
}

static int set_run_status(db_t *db, const char *tenant, const char *run, const char *status,
                          int64_t now)
{
    return db_exec(db, NULL,
                   "UPDATE wf_runs SET status = $3, updated_ms = $4 WHERE tenant_id = $1 AND id = $2",
                   DB_ARGS(DB_TEXT(tenant), DB_TEXT(run), DB_TEXT(status), DB_INT(now)));
}

/* fail_run: step idx failed for good: the run fails, its other steps stop. */
static int fail_run(db_t *db, const char *tenant, const char *run, int idx, const char *step,
                    const char *error, int64_t now)
{
    int rc = db_exec(db, NULL,
                     "UPDATE wf_steps SET status = 'failed', error = $4, due_ms = NULL, "
                     "lease_owner = NULL, finished_ms = $5 WHERE tenant_id = $1 AND run_id = $2 "
                     "AND idx = $3",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(run), DB_INT(idx), DB_TEXT(error), DB_INT(now)));
    if (rc == 0)
        rc = db_exec(db, NULL,
                     "UPDATE wf_steps SET status = 'canceled', due_ms = NULL, lease_owner = NULL "
                     "WHERE tenant_id = $1 AND run_id = $2 AND status IN ('pending', 'ready', "
                     "'running', 'waiting')",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(run)));
    char msg[700];
    snprintf(msg, sizeof msg, "step %s: %s", step, error);
    if (rc == 0)
        rc = db_exec(db, NULL,
                     "UPDATE wf_runs SET status = 'failed', error = $3, finished_ms = $4, "
                     "updated_ms = $4 WHERE tenant_id = $1 AND id = $2",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(run), DB_TEXT(msg), DB_INT(now)));
    if (rc == 0)
        rc = run_event(db, tenant, run, "WorkflowRunFailed",
                       json_pack("{s:s, s:s}", "step", step, "error", error));
    return rc;
}

/* last_group_output: the run's output: the last group's single output, or
 * an object of its outputs by step name. */
static json_t *last_group_output(db_t *db, const char *tenant, const char *run, int grp)
{
    db_res_t *r;
    if (db_query(db, &r,
                 "SELECT name, output FROM wf_steps WHERE tenant_id = $1 AND run_id = $2 AND "
                 "grp = $3 ORDER BY idx",
                 DB_ARGS(DB_TEXT(tenant), DB_TEXT(run), DB_INT(grp))) < 0)
        return NULL;
    json_t *obj = json_object(), *single = NULL;
    int n = 0;
    while (db_res_next(r) == 1) {
        const char *t = db_res_text(r, 1);
        json_t *v = t ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;
        if (!v) v = json_null();
        json_object_set_new(obj, db_res_text(r, 0), v);
        single = v;
        n++;
    }
    db_res_free(r);
    if (n == 1) {
        json_incref(single);
        json_decref(obj);
        return single;
    }
    return obj;
}

/* advance: step of group grp completed; start the next group when the
 * whole group is done, or complete the run after the last one. */
static int advance(db_t *db, const char *tenant, const char *run, int grp, int64_t now)
{
    int64_t open = 0;
    int rc = db_query_one_int(db, &open,
                              "SELECT count(*) FROM wf_steps WHERE tenant_id = $1 AND run_id = $2 "
                              "AND grp = $3 AND status <> 'completed'",
                              DB_ARGS(DB_TEXT(tenant), DB_TEXT(run), DB_INT(grp)));
    if (rc < 0) return rc;
    if (open > 0) {
        int64_t waiting = 0;
        rc = db_query_one_int(db, &waiting,
                              "SELECT count(*) FROM wf_steps WHERE tenant_id = $1 AND run_id = $2 "
                              "AND status IN ('ready', 'running')",
                              DB_ARGS(DB_TEXT(tenant), DB_TEXT(run)));
        if (rc < 0) return rc;
        return set_run_status(db, tenant, run, waiting ? "running" : "waiting", now);
    }
    int64_t started = 0;
    rc = db_exec(db, &started,
                 "UPDATE wf_steps SET status = 'ready', due_ms = $4 WHERE tenant_id = $1 AND "
                 "run_id = $2 AND grp = (SELECT min(grp) FROM wf_steps WHERE tenant_id = $1 AND "
                 "run_id = $2 AND grp > $3)",
                 DB_ARGS(DB_TEXT(tenant), DB_TEXT(run), DB_INT(grp), DB_INT(now)));
    if (rc < 0) return rc;
    if (started > 0) return set_run_status(db, tenant, run, "running", now);
    json_t *out = last_group_output(db, tenant, run, grp);
    char *text = dumps(out);
    json_decref(out);
    rc = db_exec(db, NULL,
                 "UPDATE wf_runs SET status = 'completed', output = $3, finished_ms = $4, "
                 "updated_ms = $4 WHERE tenant_id = $1 AND id = $2",
                 DB_ARGS(DB_TEXT(tenant), DB_TEXT(run), DB_TEXT(text), DB_INT(now)));
    free(text);
    if (rc == 0) rc = run_event(db, tenant, run, "WorkflowRunCompleted", NULL);
    return rc;
}

static int complete_step(db_t *db, const char *tenant, const char *run, int idx, int grp,
                         const char *output, int64_t now)
{
    int rc = db_exec(db, NULL,
                     "UPDATE wf_steps SET status = 'completed', output = $4, error = NULL, "
                     "due_ms = NULL, lease_owner = NULL, finished_ms = $5 WHERE tenant_id = $1 "
                     "AND run_id = $2 AND idx = $3",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(run), DB_INT(idx), DB_TEXT(output),
                             DB_INT(now)));
    return rc < 0 ? rc : advance(db, tenant, run, grp, now);
}

typedef struct cand {
    char tenant[128];
    int64_t vtime, weight;
} cand_t;

/* fair_advance: moves the chosen tenant's virtual time past this claim
 * (stride scheduling: 1000 / weight per claim, so a tenant of weight 3 gets
 * three claims for every one of a tenant of weight 1). A tenant that was
 * idle has fallen behind; it is first lifted to one largest stride below
 * the lowest other candidate, so it goes first but cannot monopolize the
 * workers with a burst (a busy tenant of high weight is never that far
 * behind, so its weight is kept). */
static int fair_advance(db_t *db, const cand_t *cs, int n, int chosen)
{
    int64_t stride = FAIR_UNIT / (cs[chosen].weight > 0 ? cs[chosen].weight : 1);
    int64_t floor = INT64_MIN, stride_max = stride;
    for (int i = 0; i < n; i++) {
        int64_t st = FAIR_UNIT / (cs[i].weight > 0 ? cs[i].weight : 1);
        if (st > stride_max) stride_max = st;
        if (i != chosen && (floor == INT64_MIN || cs[i].vtime < floor)) floor = cs[i].vtime;
    }
    int64_t v = cs[chosen].vtime;
    if (floor != INT64_MIN && v < floor - stride_max) v = floor - stride_max;
    v += stride;
    return db_exec(db, NULL,
                   "INSERT INTO wf_fair (tenant_id, vtime) VALUES ($1, $2) ON CONFLICT (tenant_id) "
                   "DO UPDATE SET vtime = $2",
                   DB_ARGS(DB_TEXT(cs[chosen].tenant), DB_INT(v)));
}

void wf__claim_free(wf_claim_t *c)
{
    free(c->input);
    free(c->prev);
    c->input = c->prev = NULL;
}

/* load_inputs: the run's input and the outputs of earlier groups. */
static int load_inputs(db_t *db, wf_claim_t *c)
{
    int rc = db_query_one_text(db, &c->input,
                               "SELECT input FROM wf_runs WHERE tenant_id = $1 AND id = $2",
                               DB_ARGS(DB_TEXT(c->tenant_id), DB_TEXT(c->run_id)));
    if (rc < 0) return rc;
    db_res_t *r;
    rc = db_query(db, &r,
                  "SELECT name, output FROM wf_steps WHERE tenant_id = $1 AND run_id = $2 AND "
                  "grp < $3 AND status = 'completed' ORDER BY idx",
                  DB_ARGS(DB_TEXT(c->tenant_id), DB_TEXT(c->run_id), DB_INT(c->grp)));
    if (rc < 0) return rc;
    json_t *prev = json_object();
    while ((rc = db_res_next(r)) == 1) {
        const char *t = db_res_text(r, 1);
        json_t *v = t ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;
        json_object_set_new(prev, db_res_text(r, 0), v ? v : json_null());
    }
    db_res_free(r);
    c->prev = json_dumps(prev, JSON_COMPACT);
    json_decref(prev);
    return rc < 0 ? rc : 0;
}

/* pick: the due step to take: tenants by virtual time, then their oldest
 * due step whose run is not locked by another worker. */
static int pick(db_t *db, int64_t now, wf_claim_t *c, char status[16], char **signal,
                int *attempts, int *max_attempts)
{
    cand_t cs[MAX_CANDIDATES];
    int n = 0;
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT s.tenant_id, COALESCE(f.vtime, 0), COALESCE(f.weight, 1) FROM "
                      "(SELECT DISTINCT tenant_id FROM wf_steps WHERE due_ms <= $1) s LEFT JOIN "
                      "wf_fair f ON f.tenant_id = s.tenant_id ORDER BY 2, 1 LIMIT 16",
                      DB_ARGS(DB_INT(now)));
    if (rc < 0) return rc;
    while (n < MAX_CANDIDATES && (rc = db_res_next(r)) == 1) {
        snprintf(cs[n].tenant, sizeof cs[n].tenant, "%s", db_res_text(r, 0));
        cs[n].vtime = db_res_int(r, 1);
        cs[n].weight = db_res_int(r, 2);
        n++;
    }
    db_res_free(r);
    if (rc < 0) return rc;
    for (int i = 0; i < n; i++) {
        rc = db_query(db, &r,
                      "SELECT run_id, idx, status, attempts, max_attempts, grp, signal FROM "
                      "wf_steps WHERE tenant_id = $1 AND due_ms <= $2 ORDER BY due_ms, run_id, idx "
                      "LIMIT 8",
                      DB_ARGS(DB_TEXT(cs[i].tenant), DB_INT(now)));
        if (rc < 0) return rc;
        typedef struct {
            char run[40], status[16], signal[WF_MAX_NAME + 1];
            int idx, attempts, max, grp;
            bool has_signal;
        } row_t;
        row_t rows[8];
        int nr = 0;
        while (nr < 8 && (rc = db_res_next(r)) == 1) {
            row_t *w = &rows[nr++];
            snprintf(w->run, sizeof w->run, "%s", db_res_text(r, 0));
            w->idx = (int)db_res_int(r, 1);
            snprintf(w->status, sizeof w->status, "%s", db_res_text(r, 2));
            w->attempts = (int)db_res_int(r, 3);
            w->max = (int)db_res_int(r, 4);
            w->grp = (int)db_res_int(r, 5);
            w->has_signal = !db_res_isnull(r, 6);
            snprintf(w->signal, sizeof w->signal, "%s", w->has_signal ? db_res_text(r, 6) : "");
        }
        db_res_free(r);
        if (rc < 0) return rc;
        for (int k = 0; k < nr; k++) {
            rc = lock_run_ex(db, cs[i].tenant, rows[k].run, true, c->run_status, c->def_name);
            if (rc == ERR_CONFLICT || rc == ERR_NOT_FOUND) continue;
            if (rc < 0) return rc;
            /* still due now that we hold the run? */
            int64_t due = 0;
            rc = db_query_one_int(db, &due,
                                  "SELECT count(*) FROM wf_steps WHERE tenant_id = $1 AND "
                                  "run_id = $2 AND idx = $3 AND due_ms <= $4",
                                  DB_ARGS(DB_TEXT(cs[i].tenant), DB_TEXT(rows[k].run),
                                          DB_INT(rows[k].idx), DB_INT(now)));
            if (rc < 0) return rc;
            if (!due) continue;
            memcpy(c->tenant_id, cs[i].tenant, sizeof c->tenant_id);
            memcpy(c->run_id, rows[k].run, sizeof c->run_id);
            c->idx = rows[k].idx;
            c->grp = rows[k].grp;
            snprintf(status, 16, "%s", rows[k].status);
            *signal = rows[k].has_signal ? strdup(rows[k].signal) : NULL;
            *attempts = rows[k].attempts;
            *max_attempts = rows[k].max;
            /* alone, there is nobody to be fair to: leave the clock (and
             * its row lock, which would serialize this tenant's claims) */
            rc = n > 1 ? fair_advance(db, cs, n, i) : 0;
            return rc < 0 ? rc : 1;
        }
    }
    return 0;
}

/* signal_step: a due signal step: completes it when its signal is there,
 * fails it after its deadline, else parks it until the signal arrives. */
static int signal_step(db_t *db, wf_claim_t *c, const char *status, const char *signal, int64_t now)
{
    char *payload = NULL;
    int rc = db_query_one_text(db, &payload,
                               "SELECT payload FROM wf_signals WHERE tenant_id = $1 AND run_id = $2 "
                               "AND name = $3",
                               DB_ARGS(DB_TEXT(c->tenant_id), DB_TEXT(c->run_id), DB_TEXT(signal)));
    if (rc == 0) {
        rc = complete_step(db, c->tenant_id, c->run_id, c->idx, c->grp, payload, now);
        free(payload);
        return rc;
    }
    if (rc != ERR_NOT_FOUND) return rc;
    char name[WF_MAX_NAME + 1] = "";
    char *n = NULL;
    if (db_query_one_text(db, &n, "SELECT name FROM wf_steps WHERE tenant_id = $1 AND run_id = $2 AND idx = $3",
                          DB_ARGS(DB_TEXT(c->tenant_id), DB_TEXT(c->run_id), DB_INT(c->idx))) == 0) {
        snprintf(name, sizeof name, "%s", n);
        free(n);
    }
    if (!strcmp(status, "waiting")) { /* due while waiting: the deadline passed */
        char err[160];
        snprintf(err, sizeof err, "signal %s was not received before the deadline", signal);
        return fail_run(db, c->tenant_id, c->run_id, c->idx, name, err, now);
    }
    const wf_def_t *d = c->def;
    int64_t dl = d && c->idx < d->nsteps ? d->steps[c->idx].signal_deadline_ms : 0;
    rc = db_exec(db, NULL,
                 "UPDATE wf_steps SET status = 'waiting', due_ms = $4, started_ms = $5 WHERE "
                 "tenant_id = $1 AND run_id = $2 AND idx = $3",
                 DB_ARGS(DB_TEXT(c->tenant_id), DB_TEXT(c->run_id), DB_INT(c->idx),
                         dl > 0 ? DB_INT(now + dl) : DB_NULL, DB_INT(now)));
    if (rc < 0) return rc;
    int64_t active = 0;
    rc = db_query_one_int(db, &active,
                          "SELECT count(*) FROM wf_steps WHERE tenant_id = $1 AND run_id = $2 AND "
                          "status IN ('ready', 'running')",
                          DB_ARGS(DB_TEXT(c->tenant_id), DB_TEXT(c->run_id)));
    if (rc < 0) return rc;
    return active ? 0 : set_run_status(db, c->tenant_id, c->run_id, "waiting", now);
}

int wf__claim(db_t *db, const char *owner, int64_t lease_ms, int64_t now, wf_claim_t *c)
{
    memset(c, 0, sizeof *c);
    char status[16], *signal = NULL;
    int attempts = 0, max = 0;
    int rc = pick(db, now, c, status, &signal, &attempts, &max);
    if (rc <= 0) return rc;
    c->def = wf_find(c->def_name);
    if (!c->def || c->idx >= c->def->nsteps) {
        rc = fail_run(db, c->tenant_id, c->run_id, c->idx, "?",
                      "the workflow definition is not in this build", now);
        rc = rc < 0 ? rc : 2;
        goto out;
    }
    c->step = &c->def->steps[c->idx];
    if (signal) {
        rc = signal_step(db, c, status, signal, now);
        rc = rc < 0 ? rc : 2;
        goto out;
    }
    if (!strcmp(status, "running")) { /* the lease expired: its worker is gone or stuck */
        rc = db_exec(db, NULL,
                     "UPDATE wf_attempts SET status = 'lost', error = 'lease expired (the worker "
                     "died or the step overran its timeout)', finished_ms = $5 WHERE tenant_id = "
                     "$1 AND run_id = $2 AND step_idx = $3 AND attempt = $4 AND status = 'running'",
                     DB_ARGS(DB_TEXT(c->tenant_id), DB_TEXT(c->run_id), DB_INT(c->idx),
                             DB_INT(attempts), DB_INT(now)));
        if (rc < 0) goto out;
        if (attempts >= max) {
            rc = fail_run(db, c->tenant_id, c->run_id, c->idx, c->step->name,
                          "lease expired on the last attempt", now);
            rc = rc < 0 ? rc : 2;
            goto out;
        }
    }
    c->attempt = attempts + 1;
    c->started_ms = now;
    rc = db_exec(db, NULL,
                 "UPDATE wf_steps SET status = 'running', attempts = $4, lease_owner = $5, "
                 "due_ms = $6, started_ms = COALESCE(started_ms, $7) WHERE tenant_id = $1 AND "
                 "run_id = $2 AND idx = $3",
                 DB_ARGS(DB_TEXT(c->tenant_id), DB_TEXT(c->run_id), DB_INT(c->idx),
                         DB_INT(c->attempt), DB_TEXT(owner), DB_INT(now + lease_ms), DB_INT(now)));
    if (rc == 0)
        rc = db_exec(db, NULL,
                     "INSERT INTO wf_attempts (tenant_id, run_id, step_idx, attempt, worker, "
                     "status, started_ms) VALUES ($1, $2, $3, $4, $5, 'running', $6)",
                     DB_ARGS(DB_TEXT(c->tenant_id), DB_TEXT(c->run_id), DB_INT(c->idx),
                             DB_INT(c->attempt), DB_TEXT(owner), DB_INT(now)));
    if (rc < 0) goto out;
    const char *rs = c->run_status;
    if (!strcmp(rs, "queued")) {
        rc = db_exec(db, NULL,
                     "UPDATE wf_runs SET status = 'running', started_ms = $3, updated_ms = $3 "
                     "WHERE tenant_id = $1 AND id = $2",
                     DB_ARGS(DB_TEXT(c->tenant_id), DB_TEXT(c->run_id), DB_INT(now)));
        if (rc == 0) rc = run_event(db, c->tenant_id, c->run_id, "WorkflowRunStarted", NULL);
    } else if (!strcmp(rs, "waiting")) {
        rc = set_run_status(db, c->tenant_id, c->run_id, "running", now);
    }
    if (rc == 0) rc = load_inputs(db, c);
    if (rc == 0) rc = 1;
out:
    free(signal);
    if (rc != 1) wf__claim_free(c);
    return rc;
}

int wf__finish(db_t *db, const wf_claim_t *c, const char *owner, json_t *output, const char *error,
               int64_t now)
{
    char rs[16];
    int rc = lock_run(db, c->tenant_id, c->run_id, false, rs);
    if (rc < 0) {
        json_decref(output);
        return rc == ERR_NOT_FOUND ? 1 : rc;
    }
    db_res_t *r;
    rc = db_query(db, &r,
                  "SELECT status, attempts, lease_owner, max_attempts FROM wf_steps WHERE "
                  "tenant_id = $1 AND run_id = $2 AND idx = $3",
                  DB_ARGS(DB_TEXT(c->tenant_id), DB_TEXT(c->run_id), DB_INT(c->idx)));
    if (rc < 0) {
        json_decref(output);
        return rc;
    }
    bool mine = false;
    int max_attempts = 1;
    if ((rc = db_res_next(r)) == 1) {
        mine = !strcmp(db_res_text(r, 0), "running") && db_res_int(r, 1) == c->attempt &&
               db_res_text(r, 2) && !strcmp(db_res_text(r, 2), owner);
        max_attempts = (int)db_res_int(r, 3);
    }
    db_res_free(r);
    if (rc < 0 || !mine || wf__terminal(rs)) {
        json_decref(output);
        if (rc >= 0 && wf__terminal(rs))
            db_exec(db, NULL,
                    "UPDATE wf_attempts SET status = 'canceled', finished_ms = $5 WHERE tenant_id "
                    "= $1 AND run_id = $2 AND step_idx = $3 AND attempt = $4 AND status = 'running'",
                    DB_ARGS(DB_TEXT(c->tenant_id), DB_TEXT(c->run_id), DB_INT(c->idx),
                            DB_INT(c->attempt), DB_INT(now)));
        return rc < 0 ? rc : 1;
    }
    rc = db_exec(db, NULL,
                 "UPDATE wf_attempts SET status = $5, error = $6, finished_ms = $7 WHERE "
                 "tenant_id = $1 AND run_id = $2 AND step_idx = $3 AND attempt = $4",
                 DB_ARGS(DB_TEXT(c->tenant_id), DB_TEXT(c->run_id), DB_INT(c->idx),
                         DB_INT(c->attempt), DB_TEXT(error ? "failed" : "completed"),
                         DB_TEXT(error), DB_INT(now)));
    if (rc < 0) {
        json_decref(output);
        return rc;
    }
    if (!error) {
        char *text = dumps(output);
        json_decref(output);
        rc = complete_step(db, c->tenant_id, c->run_id, c->idx, c->grp, text, now);
        free(text);
        return rc;
    }
    json_decref(output);
    if (c->attempt < max_attempts) {
        int64_t delay = wf__backoff_ms(c->step, c->attempt);
        return db_exec(db, NULL,
                       "UPDATE wf_steps SET status = 'ready', due_ms = $4, lease_owner = NULL, "
                       "error = $5 WHERE tenant_id = $1 AND run_id = $2 AND idx = $3",
                       DB_ARGS(DB_TEXT(c->tenant_id), DB_TEXT(c->run_id), DB_INT(c->idx),
                               DB_INT(now + delay), DB_TEXT(error)));
    }
    return fail_run(db, c->tenant_id, c->run_id, c->idx, c->step->name, error, now);
}

int wf__renew(db_t *db, const char *tenant, const char *run, int idx, int attempt,
              const char *owner, int64_t until)
{
    return db_exec(db, NULL,
                   "UPDATE wf_steps SET due_ms = $6 WHERE tenant_id = $1 AND run_id = $2 AND "
                   "idx = $3 AND attempts = $4 AND lease_owner = $5 AND status = 'running'",
                   DB_ARGS(DB_TEXT(tenant), DB_TEXT(run), DB_INT(idx), DB_INT(attempt),
                           DB_TEXT(owner), DB_INT(until)));
}

int wf__cancel(db_t *db, const char *tenant, const char *run, int64_t now)
{
    char rs[16];
    int rc = lock_run(db, tenant, run, false, rs);
    if (rc < 0) return rc;
    if (wf__terminal(rs)) return ERR_CONFLICT;
    rc = db_exec(db, NULL,
                 "UPDATE wf_steps SET status = 'canceled', due_ms = NULL, lease_owner = NULL "
                 "WHERE tenant_id = $1 AND run_id = $2 AND status IN ('pending', 'ready', "
                 "'running', 'waiting')",
                 DB_ARGS(DB_TEXT(tenant), DB_TEXT(run)));
    if (rc == 0)
        rc = db_exec(db, NULL,
                     "UPDATE wf_attempts SET status = 'canceled', finished_ms = $3 WHERE tenant_id "
                     "= $1 AND run_id = $2 AND status = 'running'",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(run), DB_INT(now)));
    if (rc == 0)
        rc = db_exec(db, NULL,
                     "UPDATE wf_runs SET status = 'canceled', finished_ms = $3, updated_ms = $3 "
                     "WHERE tenant_id = $1 AND id = $2",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(run), DB_INT(now)));
    if (rc == 0) rc = run_event(db, tenant, run, "WorkflowRunCanceled", NULL);
    return rc;
}

int wf__signal(db_t *db, const char *tenant, const char *run, const char *name,
               const json_t *payload, int64_t now)
{
    char rs[16];
    int rc = lock_run(db, tenant, run, false, rs);
    if (rc < 0) return rc;
    if (wf__terminal(rs)) return ERR_CONFLICT;
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : strdup("{}");
    rc = db_exec(db, NULL,
                 "INSERT INTO wf_signals (tenant_id, run_id, name, payload, created_ms) VALUES "
                 "($1, $2, $3, $4, $5)",
                 DB_ARGS(DB_TEXT(tenant), DB_TEXT(run), DB_TEXT(name), DB_TEXT(text), DB_INT(now)));
    free(text);
    if (rc == ERR_EXISTS) return ERR_CONFLICT;
    if (rc < 0) return rc;
    /* a step parked on it becomes due now; a worker completes it */
    return db_exec(db, NULL,
                   "UPDATE wf_steps SET status = 'ready', due_ms = $4 WHERE tenant_id = $1 AND "
                   "run_id = $2 AND signal = $3 AND status = 'waiting'",
                   DB_ARGS(DB_TEXT(tenant), DB_TEXT(run), DB_TEXT(name), DB_INT(now)));
}

int wf__release(db_t *db, const wf_claim_t *c, const char *owner, int64_t now)
{
    char rs[16];
    int rc = lock_run(db, c->tenant_id, c->run_id, false, rs);
    if (rc < 0) return rc == ERR_NOT_FOUND ? 1 : rc;
    int64_t n = 0;
    /* attempt numbers stay unique (wf_attempts' key), so the given-back
     * attempt is compensated by one more allowed attempt */
    rc = db_exec(db, &n,
                 "UPDATE wf_steps SET status = 'ready', due_ms = $6, lease_owner = NULL, "
                 "max_attempts = max_attempts + 1 WHERE tenant_id = $1 AND run_id = $2 AND idx = $3 "
                 "AND attempts = $4 AND lease_owner = $5 AND status = 'running'",
                 DB_ARGS(DB_TEXT(c->tenant_id), DB_TEXT(c->run_id), DB_INT(c->idx),
                         DB_INT(c->attempt), DB_TEXT(owner), DB_INT(now)));
    if (rc < 0) return rc;
    if (n == 0) return 1;
    return db_exec(db, NULL,
                   "UPDATE wf_attempts SET status = 'interrupted', error = 'the worker stopped; the "
                   "attempt was given back', finished_ms = $5 WHERE tenant_id = $1 AND run_id = $2 "
                   "AND step_idx = $3 AND attempt = $4",
                   DB_ARGS(DB_TEXT(c->tenant_id), DB_TEXT(c->run_id), DB_INT(c->idx),
                           DB_INT(c->attempt), DB_INT(now)));
}

int wf__set_weight(db_t *db, const char *tenant, int weight)
{
    return db_exec(db, NULL,
                   "INSERT INTO wf_fair (tenant_id, weight) VALUES ($1, $2) ON CONFLICT (tenant_id) "
                   "DO UPDATE SET weight = $2",
                   DB_ARGS(DB_TEXT(tenant), DB_INT(weight)));
}
