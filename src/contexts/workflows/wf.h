/* wf.h — durable workflows (the Temporal role), mounted at /api/v1/workflows.
 *
 * A definition is a name and an ordered list of steps, registered in C at
 * startup with wf_define(). Steps run one group at a time: a step with
 * .parallel = true joins the group of the step before it, so
 *     {a}, {b}, {c, .parallel = true}, {d}
 * runs a, then b and c concurrently (possibly on different workers or
 * processes), then d. A step is either a function or a wait for a named
 * signal (human approval) with an optional deadline.
 *
 * Runs, steps and attempts live in the database (wf_runs, wf_steps,
 * wf_attempts). Worker threads (embedded in `bizosaas serve`, or a
 * `bizosaas worker` process) claim one due step at a time with a lease,
 * fairly between tenants, run it outside any transaction and record the
 * result; a lease that is not renewed (the process died) expires and the
 * step is retried by another worker. Every step is therefore executed at
 * least once; a step function must be idempotent (use wf_ctx_run_id and
 * the step name as a dedupe key for outside effects).
 */
#ifndef BZ_WF_H
#define BZ_WF_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "router.h"

/* Longest definition, step or signal name (bytes). */
#define WF_MAX_NAME 64
/* Most steps in one definition. */
#define WF_MAX_STEPS 32
/* Step timeout when a step sets none. */
#define WF_DEFAULT_TIMEOUT_MS 60000

typedef struct wf_ctx wf_ctx_t;

/* What a step function returns when it stops early because the worker is
 * shutting down (wf_ctx_stopping): the attempt is given back — not counted
 * against max_attempts — and the step runs again at once, elsewhere or
 * after the restart. */
#define WF_STEP_INTERRUPTED 1

/* A step function. input is the run's input object, prev an object mapping
 * the name of every completed step of earlier groups to its output (both
 * borrowed). On success it returns 0 and stores a new reference in *output
 * (any JSON value; NULL means null); on failure a negative ERR_* after
 * wf_ctx_error() says why — the step is retried per its policy — or
 * WF_STEP_INTERRUPTED (see above). It runs on a
 * worker thread without a transaction; wf_ctx_db() gives a read-only view. */
typedef int (*wf_step_fn)(const json_t *input, const json_t *prev, wf_ctx_t *ctx, json_t **output);

typedef struct wf_retry {
    int max_attempts;       /* total attempts (0 = 3) */
    int64_t backoff_ms;     /* first delay (0 = 1000); doubles per attempt */
    int64_t backoff_max_ms; /* cap (0 = 60000); each delay is drawn in [d/2, d] (jitter) */
} wf_retry_t;

typedef struct wf_step_def {
    const char *name;
    wf_step_fn fn;          /* NULL for a signal step */
    bool parallel;          /* run together with the previous step */
    int64_t timeout_ms;     /* 0 = WF_DEFAULT_TIMEOUT_MS; an attempt that exceeds it fails */
    wf_retry_t retry;
    const char *signal;     /* signal step: the signal it waits for */
    int64_t signal_deadline_ms; /* signal step: fail after this long (0 = wait forever) */
} wf_step_def_t;

typedef struct wf_def {
    const char *name;
    const char *description;
    const wf_step_def_t *steps;
    int nsteps;
} wf_def_t;

/* wf_define: registers def (borrowed for the process lifetime: use static
 * data). Call at startup before wf_start. A duplicate name, a bad name or
 * an invalid step list aborts (programming error). */
void wf_define(const wf_def_t *def);
/* wf_find: the definition called name, or NULL. */
const wf_def_t *wf_find(const char *name);

/* --- inside a step --- */
const char *wf_ctx_tenant(const wf_ctx_t *ctx);
const char *wf_ctx_run_id(const wf_ctx_t *ctx);
int wf_ctx_attempt(const wf_ctx_t *ctx);
/* wf_ctx_deadline_ms: when this attempt times out (Unix ms); long steps
 * should stop by then (the result of a late attempt is discarded). */
int64_t wf_ctx_deadline_ms(const wf_ctx_t *ctx);
/* wf_ctx_db: the worker's connection inside an open read-only transaction
 * scoped to the run's tenant (rolled back after the step); NULL when the
 * database is unavailable. */
db_t *wf_ctx_db(wf_ctx_t *ctx);
/* wf_ctx_stopping: true once this process's workers are stopping; long
 * steps should check it and return WF_STEP_INTERRUPTED. */
bool wf_ctx_stopping(const wf_ctx_t *ctx);
/* wf_ctx_error: why the step failed (stored with the attempt). */
void wf_ctx_error(wf_ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* wf_run_start: starts a run of definition name for tenant_id in the
 * caller's open write transaction on db (tenant or platform scope). input is
 * borrowed (NULL = {}). With idem_key, a run of the same definition with the
 * same key is returned instead (*existed = true). Writes the run id to
 * id_out. ERR_NOT_FOUND for an unknown definition. */
int wf_run_start(db_t *db, const char *tenant_id, const char *name, const json_t *input,
                 const char *idem_key, const char *schedule_id, char id_out[37], bool *existed);

/* wf_register: the routes, permission grants and built-in definitions. */
void wf_register(router_t *r, const config_t *cfg);
/* wf_start: starts cfg->workflow_workers worker threads (0: none) and the
 * lease keeper; each thread opens its own connection. */
int wf_start(const config_t *cfg);
/* wf_stop: stops and joins them (a step in progress finishes first). */
void wf_stop(void);
/* wf_worker_main: `bizosaas worker` after the database is checked: workers
 * only, until SIGTERM/SIGINT. Returns the process exit code. */
int wf_worker_main(const config_t *cfg);

#endif
