/* app.c — wires the kernel and the bounded contexts together. */
#include "app.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "contexts/crm/crm.h"
#include "fault.h"
#include "log.h"
#include "contexts/cms/cms.h"
#include "contexts/contact/contact.h"
#include "contexts/identity/identity.h"
#include "contexts/notify/notify.h"
#include "contexts/vault/vault.h"
#include "contexts/workflows/wf.h"
#include "events/events.h"
#include "gateway/gateway.h"
#include "gateway/openapi.h"
#include "kernel_routes.h"
#include "web/web.h"

struct app {
    const config_t *cfg;
    router_t *router;
    auth_config_t auth;
};

app_t *app_new(const config_t *cfg, const char *jwt_secret)
{
    app_t *a = xcalloc(1, sizeof *a);
    a->cfg = cfg;
    a->router = router_new();
    a->auth = (auth_config_t){
        .secret = (const unsigned char *)jwt_secret,
        .secret_len = strlen(jwt_secret),
        .issuer = cfg->jwt_issuer,
        .audience = cfg->jwt_audience,
        .leeway_s = 30,
    };
    kernel_routes_register(a->router, cfg);
    identity_register(a->router);
    ev_register(a->router, cfg);
    vault_register(a->router);
    notify_register(a->router, cfg);
    wf_register(a->router, cfg);
    identity_configure(cfg, &a->auth);
    /* contexts: register here (one line each) */
    crm_register(a->router);
    cms_register(a->router, cfg);
    contact_register(a->router, cfg);
    web_register(a->router, cfg);
    gw_register(a->router, cfg);
    identity_on_plan_change(gw_tenant_plan); /* per-plan limits follow at once */
    openapi_register(a->router); /* built at the first request, from the whole table */
    return a;
}

int app_start(app_t *app, db_t *db)
{
    if (app->cfg->faults && *app->cfg->faults) {
        /* a test seam: never armed in production, never silently ignored */
        if (!config_is_dev(app->cfg)) {
            log_error("BIZOSAAS_FAULTS is a test setting: refused outside development");
            return -1;
        }
        if (fault_configure(app->cfg->faults) < 0) {
            log_error("BIZOSAAS_FAULTS: expected \"point:N[,point:N...]\" (N >= 1), got \"%s\"",
                      app->cfg->faults);
            return -1;
        }
        log_warn("fault injection armed: %s", app->cfg->faults);
    }
    if (vault_start(app->cfg, db) < 0) return -1;
    if (ev_start(app->cfg) < 0) return -1;
    if (identity_start(db) < 0) return -1;
    if (wf_start(app->cfg) < 0) return -1;
    /* contexts: startup work needing the database here (one call each, return on error) */
    if (crm_start(app->cfg, db) < 0) return -1;
    if (cms_start(db) < 0) return -1;
    if (web_start() < 0) return -1;
    if (gw_start(db) < 0) return -1; /* after the contexts: it registers those that exist */
    return 0;
}

const router_t *app_router(const app_t *app) { return app->router; }
const auth_config_t *app_auth(const app_t *app) { return &app->auth; }

void app_free(app_t *app)
{
    if (!app) return;
    cms_stop();
    contact_stop();
    wf_stop();
    ev_stop();
    gw_stop();
    vault_stop();
    web_stop();
    router_free(app->router);
    free(app);
}
