/* defs.c — the definition registry, retry policy and the step context. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "wf_internal.h"

#define MAX_DEFS 64

static const wf_def_t *g_defs[MAX_DEFS];
static int g_ndefs;

static bool name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > WF_MAX_NAME) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-' || s[i] == '.'))
            return false;
    return true;
}

void wf_define(const wf_def_t *d)
{
    if (!name_ok(d->name) || d->nsteps < 1 || d->nsteps > WF_MAX_STEPS || wf_find(d->name) ||
        g_ndefs == MAX_DEFS) {
        log_error("wf_define: invalid or duplicate definition %s", d->name ? d->name : "(null)");
        abort();
    }
    for (int i = 0; i < d->nsteps; i++) {
        const wf_step_def_t *s = &d->steps[i];
        bool ok = name_ok(s->name) && ((s->fn != NULL) != (s->signal != NULL)) &&
                  (!s->signal || name_ok(s->signal)) && !(i == 0 && s->parallel);
        for (int k = 0; ok && k < i; k++) ok = strcmp(d->steps[k].name, s->name) != 0;
        if (!ok) {
            log_error("wf_define: %s: invalid step %d", d->name, i);
            abort();
        }
    }
    g_defs[g_ndefs++] = d;
}

const wf_def_t *wf_find(const char *name)
{
    for (int i = 0; i < g_ndefs && name; i++)
        if (!strcmp(g_defs[i]->name, name)) return g_defs[i];
    return NULL;
}

int wf__ndefs(void) { return g_ndefs; }
const wf_def_t *wf__def_at(int i) { return g_defs[i]; }

int wf__group_of(const wf_def_t *d, int idx)
{
    int g = 0;
    for (int i = 1; i <= idx; i++)
        if (!d->steps[i].parallel) g++;
    return g;
}

int64_t wf__step_timeout(const wf_step_def_t *s)
{
    return s->timeout_ms > 0 ? s->timeout_ms : WF_DEFAULT_TIMEOUT_MS;
}

int wf__max_attempts(const wf_step_def_t *s)
{
    return s->retry.max_attempts > 0 ? s->retry.max_attempts : 3;
}

int64_t wf__backoff_ms(const wf_step_def_t *s, int attempt)
{
    int64_t base = s->retry.backoff_ms > 0 ? s->retry.backoff_ms : 1000;
    int64_t cap = s->retry.backoff_max_ms > 0 ? s->retry.backoff_max_ms : 60000;
    int64_t d = base;
    for (int i = 1; i < attempt && d < cap; i++) d *= 2;
    if (d > cap) d = cap;
    /* "equal jitter": half fixed, half random, so retries of many runs
     * that failed together spread out but never come back sooner than d/2 */
    int64_t half = d / 2;
    return half + (half > 0 ? (int64_t)randombytes_uniform((uint32_t)(half > UINT32_MAX - 1 ? UINT32_MAX - 1 : half) + 1) : 0);
}

const char *wf_ctx_tenant(const wf_ctx_t *ctx) { return ctx->tenant_id; }
const char *wf_ctx_run_id(const wf_ctx_t *ctx) { return ctx->run_id; }
int wf_ctx_attempt(const wf_ctx_t *ctx) { return ctx->attempt; }
int64_t wf_ctx_deadline_ms(const wf_ctx_t *ctx) { return ctx->deadline_ms; }

db_t *wf_ctx_db(wf_ctx_t *ctx)
{
    if (!ctx->db) return NULL;
    if (!ctx->db_open) {
        if (db_begin(ctx->db, ctx->tenant_id, false) < 0) return NULL;
        ctx->db_open = true;
    }
    return ctx->db;
}

bool wf_ctx_stopping(const wf_ctx_t *ctx)
{
    (void)ctx;
    return wf__stopping();
}

void wf__ctx_close(wf_ctx_t *ctx)
{
    if (ctx->db_open) db_rollback(ctx->db);
    ctx->db_open = false;
}

void wf_ctx_error(wf_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
    va_end(ap);
}
