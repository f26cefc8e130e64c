/* builtin.c — definitions that ship with the binary.
 *
 *   lead_scoring   the original CRM's lead score (REQUIREMENTS, CRM): input
 *                  {company_size, budget, services[], phone, website,
 *                  message} -> {score 0..100, priority, breakdown}
 *   daily_report   the tenant's events and workflow runs of the last 24 h
 *                  (meant for a daily schedule)
 *   delay          one step that waits input.ms milliseconds (a timer step
 *                  for compositions; the kill -9 tests use it as a slow step)
 *
 * With BIZOSAAS_WORKFLOW_TEST_DEFS=true (tests only) a few more exercise
 * retries, timeouts, signals and parallel groups: see test_defs below.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "wf_internal.h"

static int64_t num(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (json_is_integer(v)) return (int64_t)json_integer_value(v);
    if (json_is_real(v)) return (int64_t)json_real_value(v);
    if (json_is_string(v)) return strtoll(json_string_value(v), NULL, 10);
    return 0;
}

static bool present(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) && json_string_length(v) > 0;
}

/* wf_lead_score: the original's rule. */
static int lead_score(const json_t *in, json_t **breakdown)
{
    int64_t size = num(in, "company_size"), budget = num(in, "budget");
    int s_size = size > 0 ? (int)(size / 50 > 20 ? 20 : size / 50) : 0;
    int s_budget = budget >= 10000 ? 25 : budget >= 5000 ? 20 : budget >= 1000 ? 15 : 0;
    json_t *sv = json_object_get(in, "services");
    size_t ns = json_is_array(sv) ? json_array_size(sv) : 0;
    int s_services = (int)(ns * 5 > 20 ? 20 : ns * 5);
    int s_phone = present(in, "phone") ? 10 : 0, s_web = present(in, "website") ? 10 : 0;
    json_t *m = json_object_get(in, "message");
    int s_msg = json_is_string(m) && json_string_length(m) > 100 ? 15 : 0;
    int total = s_size + s_budget + s_services + s_phone + s_web + s_msg;
    if (total > 100) total = 100;
    *breakdown = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "company_size", s_size, "budget",
                           s_budget, "services", s_services, "phone", s_phone, "website", s_web,
                           "message", s_msg);
    return total;
}

static int score_step(const json_t *in, const json_t *prev, wf_ctx_t *ctx, json_t **out)
{
    (void)prev;
    json_t *v = json_object_get(in, "services");
    if (v && !json_is_array(v)) {
        wf_ctx_error(ctx, "input.services must be an array");
        return ERR_VALIDATION;
    }
    json_t *bd;
    int score = lead_score(in, &bd);
    const char *priority = score > 80 ? "high" : score >= 50 ? "medium" : "low";
    *out = json_pack("{s:i, s:s, s:o}", "score", score, "priority", priority, "breakdown", bd);
    return 0;
}

static const wf_step_def_t lead_steps[] = {
    {.name = "score", .fn = score_step, .timeout_ms = 5000, .retry = {.max_attempts = 2}},
};

/* count rows of the tenant's outbox and runs since a time (read-only view) */
static int report_step(const json_t *in, const json_t *prev, wf_ctx_t *ctx, json_t **out)
{
    (void)in;
    (void)prev;
    db_t *db = wf_ctx_db(ctx);
    if (!db) {
        wf_ctx_error(ctx, "the database is unavailable");
        return ERR_DB_UNAVAILABLE;
    }
    int64_t until = clock_now_ms(), since = until - 86400000;
    char since_s[32], until_s[32];
    clock_rfc3339(since, since_s);
    clock_rfc3339(until, until_s);
    const char *tenant = wf_ctx_tenant(ctx);
    const char *ev_sql = db_backend(db) == DB_POSTGRES
                             ? "SELECT event_type, count(*) FROM outbox WHERE tenant_id = $1 AND "
                               "created_at >= CAST($2 AS timestamptz) GROUP BY event_type ORDER BY 1"
                             : "SELECT event_type, count(*) FROM outbox WHERE tenant_id = $1 AND "
                               "created_at >= $2 GROUP BY event_type ORDER BY 1";
    db_res_t *r;
    int rc = db_query(db, &r, ev_sql, DB_ARGS(DB_TEXT(tenant), DB_TEXT(since_s)));
    if (rc < 0) {
        wf_ctx_error(ctx, "cannot count events");
        return rc;
    }
    json_t *events = json_object();
    json_int_t total = 0;
    while (db_res_next(r) == 1) {
        json_object_set_new(events, db_res_text(r, 0), json_integer(db_res_int(r, 1)));
        total += db_res_int(r, 1);
    }
    db_res_free(r);
    rc = db_query(db, &r,
                  "SELECT status, count(*) FROM wf_runs WHERE tenant_id = $1 AND created_ms >= $2 "
                  "GROUP BY status ORDER BY 1",
                  DB_ARGS(DB_TEXT(tenant), DB_INT(since)));
    if (rc < 0) {
        json_decref(events);
        wf_ctx_error(ctx, "cannot count runs");
        return rc;
    }
    json_t *runs = json_object();
    while (db_res_next(r) == 1)
        json_object_set_new(runs, db_res_text(r, 0), json_integer(db_res_int(r, 1)));
    db_res_free(r);
    *out = json_pack("{s:s, s:s, s:I, s:o, s:o}", "since", since_s, "until", until_s,
                     "events_total", total, "events", events, "runs", runs);
    return 0;
}

static const wf_step_def_t report_steps[] = {
    {.name = "count", .fn = report_step, .timeout_ms = 30000},
};

/* sleep_ms: waits ms or until the attempt's deadline, in short slices;
 * stops early (returns -1) when the worker is stopping. */
static int64_t sleep_ms(wf_ctx_t *ctx, int64_t ms)
{
    int64_t start = clock_now_ms(), end = start + ms;
    if (end > wf_ctx_deadline_ms(ctx)) end = wf_ctx_deadline_ms(ctx);
    for (int64_t now = start; now < end; now = clock_now_ms()) {
        if (wf_ctx_stopping(ctx)) return -1;
        int64_t left = end - now;
        usleep((useconds_t)(left > 50 ? 50000 : left * 1000));
    }
    return clock_now_ms() - start;
}

static int delay_step(const json_t *in, const json_t *prev, wf_ctx_t *ctx, json_t **out)
{
    (void)prev;
    int64_t ms = json_object_get(in, "ms") ? num(in, "ms") : 1000;
    if (ms < 0 || ms > 600000) {
        wf_ctx_error(ctx, "input.ms must be within 0..600000");
        return ERR_VALIDATION;
    }
    int64_t slept = sleep_ms(ctx, ms);
    if (slept < 0) return WF_STEP_INTERRUPTED;
    *out = json_pack("{s:I, s:I, s:i}", "requested_ms", (json_int_t)ms, "slept_ms",
                     (json_int_t)slept, "attempt", wf_ctx_attempt(ctx));
    return 0;
}

static const wf_step_def_t delay_steps[] = {
    {.name = "sleep", .fn = delay_step, .timeout_ms = 660000, .retry = {.max_attempts = 3, .backoff_ms = 100}},
};

static const wf_def_t builtins[] = {
    {"lead_scoring", "Score a lead with the CRM rule (0-100) and classify its priority", lead_steps, 1},
    {"daily_report", "Count the tenant's events and workflow runs of the last 24 hours", report_steps, 1},
    {"delay", "Wait input.ms milliseconds (0..600000)", delay_steps, 1},
};

/* --- test-only definitions (BIZOSAAS_WORKFLOW_TEST_DEFS=true) --- */

/* fails while attempt <= input.fail_times */
static int flaky_step(const json_t *in, const json_t *prev, wf_ctx_t *ctx, json_t **out)
{
    (void)prev;
    if (wf_ctx_attempt(ctx) <= num(in, "fail_times")) {
        wf_ctx_error(ctx, "planned failure on attempt %d", wf_ctx_attempt(ctx));
        return ERR_UNAVAILABLE;
    }
    *out = json_pack("{s:i, s:I}", "attempt", wf_ctx_attempt(ctx), "at", (json_int_t)clock_now_ms());
    return 0;
}

/* echoes what it saw: the input and the previous outputs */
static int echo_step(const json_t *in, const json_t *prev, wf_ctx_t *ctx, json_t **out)
{
    int64_t ms = num(in, "sleep_ms");
    if (ms > 0 && sleep_ms(ctx, ms) < 0) return WF_STEP_INTERRUPTED;
    *out = json_pack("{s:O, s:I, s:I}", "prev", prev, "done_at", (json_int_t)clock_now_ms(),
                     "attempt", (json_int_t)wf_ctx_attempt(ctx));
    return 0;
}

/* sleeps input.ms, past its 300 ms timeout when asked */
static int slow_step(const json_t *in, const json_t *prev, wf_ctx_t *ctx, json_t **out)
{
    (void)prev;
    (void)ctx;
    int64_t ms = num(in, "ms");
    int64_t start = clock_now_ms();
    while (clock_now_ms() - start < ms) usleep(20000); /* ignores the deadline on purpose */
    *out = json_pack("{s:I}", "slept_ms", (json_int_t)(clock_now_ms() - start));
    return 0;
}

static const wf_step_def_t flaky_steps[] = {
    {.name = "flaky", .fn = flaky_step, .retry = {.max_attempts = 4, .backoff_ms = 200, .backoff_max_ms = 2000}},
};
static const wf_step_def_t parallel_steps[] = {
    {.name = "a", .fn = echo_step},
    {.name = "b", .fn = echo_step},
    {.name = "c", .fn = echo_step, .parallel = true},
    {.name = "d", .fn = echo_step},
};
static const wf_step_def_t approval_steps[] = {
    {.name = "prepare", .fn = echo_step},
    {.name = "approval", .signal = "approve"},
    {.name = "publish", .fn = echo_step},
};
static const wf_step_def_t deadline_steps[] = {
    {.name = "approval", .signal = "approve", .signal_deadline_ms = 1000},
};
static const wf_step_def_t slow_steps[] = {
    {.name = "slow", .fn = slow_step, .timeout_ms = 300, .retry = {.max_attempts = 2, .backoff_ms = 50}},
};

static const wf_def_t test_defs[] = {
    {"test.flaky", "tests: fails input.fail_times times, then succeeds", flaky_steps, 1},
    {"test.parallel", "tests: a, then b and c in parallel, then d", parallel_steps, 4},
    {"test.approval", "tests: prepare, wait for signal approve, publish", approval_steps, 3},
    {"test.deadline", "tests: wait for signal approve for at most 1 s", deadline_steps, 1},
    {"test.slow", "tests: a step with a 300 ms timeout that sleeps input.ms", slow_steps, 1},
};

void wf__builtin_register(void)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (!wf_find(builtins[i].name)) wf_define(&builtins[i]);
}

void wf__test_defs_register(void)
{
    for (size_t i = 0; i < sizeof test_defs / sizeof test_defs[0]; i++)
        if (!wf_find(test_defs[i].name)) wf_define(&test_defs[i]);
}
