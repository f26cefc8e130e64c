/* app.c — wires the kernel and the bounded contexts together. */
#include "app.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "contexts/identity/identity.h"
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
    kernel_routes_register(a->router);
    identity_register(a->router);
    /* contexts: register here (one line each) */
    return a;
}

int app_start(app_t *app, db_t *db)
{
    (void)app;
    (void)db;
    /* contexts: startup work needing the database here (one call each, return on error) */
    return 0;
}

const router_t *app_router(const app_t *app) { return app->router; }
const auth_config_t *app_auth(const app_t *app) { return &app->auth; }

void app_free(app_t *app)
{
    if (!app) return;
    router_free(app->router);
    free(app);
}
