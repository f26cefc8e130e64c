/* http.c — POST /api/brain/contact/submit: public, the tenant from the
 * Host header, rate-limited per client IP; a JSON body, a JSON answer: 201
 * with the lead, 202 when the lead waits for the event retry, 422 with the
 * per-field messages. (The marketing site's own form posts to the CMS's
 * POST /contact, which runs the same use case through its form handler.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "contact.h"
#include "contact_internal.h"
#include "contexts/cms/cms.h"
#include "err.h"
#include "gateway/ratelimit.h"
#include "http.h"
#include "log.h"
#include "str.h"

#define RATE_WINDOW_MS 60000

static const config_t *g_cfg;
static gw_ratelimit_t *g_rl;

static int submit(http_req_t *req, http_res_t *res)
{
    /* per client IP: public traffic has no tenant to key on */
    char key[128];
    snprintf(key, sizeof key, "contact|ip:%s", req->remote_addr ? req->remote_addr : "?");
    gw_rl_result_t lim =
        gw_rl_hit(g_rl, key, g_cfg->contact_rate_per_min, RATE_WINDOW_MS, clock_now_ms());
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)lim.limit);
    http_set_header(res, "RateLimit-Limit", num);
    snprintf(num, sizeof num, "%lld", (long long)lim.remaining);
    http_set_header(res, "RateLimit-Remaining", num);
    snprintf(num, sizeof num, "%lld", (long long)lim.reset_s);
    http_set_header(res, "RateLimit-Reset", num);
    if (!lim.allowed) {
        snprintf(num, sizeof num, "%lld", (long long)lim.retry_after_s);
        http_set_header(res, "Retry-After", num);
        return http_error(res, ERR_RATE_LIMITED, "too many contact submissions from this address");
    }
    if (!req->db) return http_error(res, ERR_DB_UNAVAILABLE, NULL);

    int rc = 0;
    json_t *fields = http_body_json(req, res, &rc);
    if (!fields) return rc;

    char tenant[64];
    rc = cms_host_tenant(req->db, http_header(req, "host"), tenant); /* the site's own lookup */
    if (rc == ERR_NOT_FOUND) return http_error(res, rc, "no site is served at this host");
    if (rc < 0) return http_error(res, rc, NULL);

    if ((rc = db_begin(req->db, tenant, true)) < 0) return http_error(res, rc, NULL);
    json_t *out = NULL;
    rc = contact_submit(req->db, tenant, fields, req->remote_addr, req->arena, &out);
    if (rc == 0) rc = db_commit(req->db);
    if (rc < 0) {
        db_rollback(req->db);
        if (rc == ERR_VALIDATION && out) {
            /* the CMS's per-field messages go along, so a form can show
             * each next to its input */
            const char *msg = json_string_value(json_object_get(out, "message"));
            json_t *env = json_pack("{s:{s:s, s:s, s:s?, s:O?}}", "error", "code",
                                    err_api_code(ERR_VALIDATION), "message",
                                    msg ? msg : "the submission is invalid", "request_id",
                                    res->request_id, "fields", json_object_get(out, "errors"));
            if (!env) return http_error(res, ERR_VALIDATION, "the submission is invalid");
            http_json(res, 422, env);
            res->err = ERR_VALIDATION;
            return ERR_VALIDATION;
        }
        if (rc == ERR_NOT_FOUND) return http_error(res, rc, "this site has no contact form");
        return http_error(res, rc, NULL);
    }
    bool pending = json_is_true(json_object_get(out, "lead_pending"));
    return http_json(res, pending ? 202 : 201, json_incref(out));
}

static const route_t routes[] = {
    {"POST", "/api/brain/contact/submit", NULL,
     "Contact form: store the submission (CMS), create the scored lead (CRM), alert on "
     "high-value leads; public, tenant by Host, rate-limited per IP",
     submit, RT_PUBLIC | RT_NO_TX},
};

void contact_register(router_t *r, const config_t *cfg)
{
    g_cfg = cfg;
    if (!g_rl) g_rl = gw_rl_new();
    router_add(r, routes, sizeof routes / sizeof routes[0]);
    contact__subscribe();
}

void contact_stop(void)
{
    gw_rl_free(g_rl);
    g_rl = NULL;
}
