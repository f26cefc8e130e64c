/* wf_internal.h — shared by the workflow context's files; not an API. */
#ifndef BZ_WF_INTERNAL_H
#define BZ_WF_INTERNAL_H

#include <stdarg.h>

#include "arena.h"
#include "http.h"
#include "wf.h"

/* what a step function sees through wf_ctx_* */
struct wf_ctx {
    const char *tenant_id, *run_id;
    int attempt;
    int64_t deadline_ms;
    db_t *db;
    bool db_open; /* a read-only transaction is open on db */
    char error[512];
};

/* defs.c */
int wf__group_of(const wf_def_t *d, int idx);
int wf__ndefs(void);
const wf_def_t *wf__def_at(int i);
int64_t wf__step_timeout(const wf_step_def_t *s);
int wf__max_attempts(const wf_step_def_t *s);
int64_t wf__backoff_ms(const wf_step_def_t *s, int attempt); /* with jitter */
void wf__ctx_close(wf_ctx_t *ctx);

/* engine.c: the run state machine. All functions run in the caller's open
 * write transaction on db. */
typedef struct wf_claim {
    char tenant_id[128], run_id[40];
    char run_status[16], def_name[WF_MAX_NAME + 1]; /* as locked by the claim */
    int idx, attempt, grp;
    const wf_def_t *def;
    const wf_step_def_t *step;
    char *input, *prev; /* JSON texts, heap (freed by wf__claim_free) */
    int64_t started_ms;
} wf_claim_t;
/* wf__claim: claims one due step, fairly between tenants, for owner.
 * Returns 1 with *c filled when a function step must be executed by the
 * caller, 2 when a step was handled inside the transaction (a signal step,
 * an expired lease, a deadline), 0 when nothing is due, or an error. */
int wf__claim(db_t *db, const char *owner, int64_t lease_ms, int64_t now, wf_claim_t *c);
void wf__claim_free(wf_claim_t *c);
/* wf__finish: records the result of the attempt c (output stolen, or error
 * when output is NULL). Returns 0, or 1 when the attempt no longer owns the
 * step (lease lost, run canceled): nothing is recorded. */
int wf__finish(db_t *db, const wf_claim_t *c, const char *owner, json_t *output, const char *error,
               int64_t now);
/* wf__release: gives an interrupted attempt back: the step is due again
 * now and the attempt does not count. Returns 0, 1 (not ours any more). */
int wf__release(db_t *db, const wf_claim_t *c, const char *owner, int64_t now);
/* worker.c */
bool wf__stopping(void);
/* wf__renew: extends the lease of a step this owner runs. */
int wf__renew(db_t *db, const char *tenant, const char *run, int idx, int attempt,
              const char *owner, int64_t until);
/* wf__cancel / wf__signal: the API's actions (tenant transaction).
 * ERR_NOT_FOUND, ERR_CONFLICT (already finished / signal already sent). */
int wf__cancel(db_t *db, const char *tenant, const char *run_id, int64_t now);
int wf__signal(db_t *db, const char *tenant, const char *run_id, const char *name,
               const json_t *payload, int64_t now);
bool wf__terminal(const char *status);
/* wf__set_weight: a tenant's claiming weight (1..1000, platform scope). */
int wf__set_weight(db_t *db, const char *tenant, int weight);

/* schedules.c */
int wf__schedule_pass(db_t *db, int64_t now); /* fires due schedules; own transactions */
extern const route_t wf__schedule_routes[];
extern const int wf__nschedule_routes;

/* sse.c */
int wf__run_events(http_req_t *req, http_res_t *res);
void wf__sse_configure(int64_t max_streams);

/* http.c */
json_t *wf__run_json(db_t *db, arena_t *a, const char *tenant, const char *run_id, bool steps);

/* builtin.c */
void wf__builtin_register(void);
void wf__test_defs_register(void);

#endif
