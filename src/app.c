/* app.c — wires the kernel and the bounded contexts together. */
#include "app.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "contexts/identity/identity.h"
#include "contexts/vault/vault.h"
#include "contexts/workflows/wf.h"
#include "events/events.h"
#include "gateway/gateway.h"
#include "gateway/openapi.h"
#include "kernel_routes.h"

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
    wf_register(a->router, cfg);
    identity_configure(cfg, &a->auth);
    /* contexts: register here (one line each) */
    gw_register(a->router, cfg);
    openapi_register(a->router); /* built at the first request, from the whole table */
    return a;
}

int app_start(app_t *app, db_t *db)
{
    (void)app;
    (void)db;
    if (vault_start(app->cfg, db) < 0) return -1;
    if (ev_start(app->cfg) < 0) return -1;
    if (identity_start(db) < 0) return -1;
    if (wf_start(app->cfg) < 0) return -1;
    /* contexts: startup work needing the database here (one call each, return on error) */
    if (gw_start(db) < 0) return -1; /* after the contexts: it registers those that exist */
    return 0;
}

const router_t *app_router(const app_t *app) { return app->router; }
const auth_config_t *app_auth(const app_t *app) { return &app->auth; }

void app_free(app_t *app)
{
    if (!app) return;
    wf_stop();
    ev_stop();
    gw_stop();
    vault_stop();
    router_free(app->router);
    free(app);
}
