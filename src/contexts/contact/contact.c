/* contact.c — the contact flow (see contact.h): the use case, the lead
 * creation shared by the request and the retry subscriber, and the
 * high-value alert subscriber. The HTTP route is in http.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "contact.h"
#include "contact_internal.h"
#include "contexts/cms/cms.h"
#include "contexts/crm/crm.h"
#include "contexts/identity/identity.h"
#include "contexts/notify/notify.h"
#include "err.h"
#include "events/events.h"
#include "fault.h"
#include "log.h"

/* copy_text: data[key] when it is a non-empty string. */
static void copy_text(json_t *to, const json_t *data, const char *key)
{
    const char *v = json_string_value(json_object_get(data, key));
    if (v && *v) json_object_set_new(to, key, json_string(v));
}

/* copy_int: data[key] as an integer; HTML forms send numbers as text. A
 * value that is not a whole number is left out (the CRM scores it as 0)
 * rather than refusing a lead whose submission is already stored. */
static void copy_int(json_t *to, const json_t *data, const char *key)
{
    json_t *v = json_object_get(data, key);
    if (json_is_integer(v)) {
        json_object_set(to, key, v);
    } else if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < 1e15) {
        json_object_set_new(to, key, json_integer((json_int_t)json_real_value(v)));
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        long long x = strtoll(s, &end, 10);
        if (*s && !*end && x >= 0) json_object_set_new(to, key, json_integer(x));
    }
}

json_t *contact__lead_fields(const json_t *data)
{
    json_t *f = json_object();
    copy_text(f, data, "name");
    copy_text(f, data, "email");
    copy_text(f, data, "phone");
    copy_text(f, data, "company");
    copy_text(f, data, "message");
    const char *web = json_string_value(json_object_get(data, "website"));
    if (web && *web) {
        /* visitors type "example.com"; the CRM stores absolute URLs */
        if (strstr(web, "://")) {
            json_object_set_new(f, "website", json_string(web));
        } else {
            size_t n = strlen(web) + 9;
            char *u = malloc(n);
            if (u) {
                snprintf(u, n, "https://%s", web);
                json_object_set_new(f, "website", json_string(u));
                free(u);
            }
        }
    }
    copy_int(f, data, "company_size");
    copy_int(f, data, "budget");
    json_t *svc = json_object_get(data, "services");
    if (json_is_array(svc) && json_array_size(svc))
        json_object_set(f, "services", svc);
    else if (json_is_string(svc) && *json_string_value(svc))
        json_object_set_new(f, "services", json_pack("[O]", svc));
    return f;
}

int contact__create_lead(db_t *db, const char *tenant_id, const char *submission_id,
                         const json_t *data, arena_t *a, json_t **lead_out)
{
    *lead_out = NULL;
    json_t *fields = contact__lead_fields(data);
    json_t *lead = NULL;
    int rc = crm_lead_create(db, tenant_id, fields, "website", a, &lead);
    json_decref(fields);
    if (rc < 0) {
        const char *why = json_string_value(json_object_get(lead, "error"));
        ev_set_error("crm_lead_create: %s", why ? why : err_api_code(rc));
        json_decref(lead);
        return rc;
    }
    const char *lead_id = json_string_value(json_object_get(lead, "id"));
    json_int_t score = json_integer_value(json_object_get(lead, "score"));
    rc = db_exec(db, NULL,
                 "INSERT INTO contact_leads (tenant_id, submission_id, lead_id) VALUES ($1, $2, $3)",
                 DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(submission_id), DB_TEXT(lead_id)));
    if (rc == 0 && score > CONTACT_HIGH_VALUE_SCORE) {
        json_t *p = json_pack("{s:s, s:s, s:I, s:s?, s:s?, s:s?}", "lead_id", lead_id,
                              "submission_id", submission_id, "score", score, "name",
                              json_string_value(json_object_get(lead, "name")), "company",
                              json_string_value(json_object_get(lead, "company")), "priority",
                              json_string_value(json_object_get(lead, "priority")));
        rc = ev_raise_db(db, tenant_id, "Lead", lead_id, "HighValueLeadDetected", p, NULL);
    }
    if (rc < 0) {
        json_decref(lead);
        return rc;
    }
    *lead_out = lead;
    return 0;
}

int contact_submit(db_t *db, const char *tenant_id, const json_t *fields, const char *remote_addr,
                   arena_t *a, json_t **out)
{
    *out = NULL;
    json_t *sub = NULL;
    int rc = cms_form_submit(db, tenant_id, CONTACT_FORM_SLUG, fields, remote_addr, a, &sub);
    if (rc < 0) {
        if (rc == ERR_VALIDATION) *out = sub; /* {message, errors}, owned by the arena */
        return rc;
    }
    const char *sid = json_string_value(json_object_get(sub, "id"));
    json_t *data = json_object_get(sub, "data");
    if (!sid || !json_is_object(data)) return ERR_INTERNAL;
    /* The event commits with the submission: if the lead below fails, its
     * subscriber creates the lead later (contact.h). */
    rc = ev_raise_db(db, tenant_id, "ContactSubmission", sid, "ContactFormSubmitted",
                     json_pack("{s:s, s:O}", "submission_id", sid, "data", data), NULL);
    if (rc < 0) return rc;

    json_t *lead = NULL;
    if ((rc = db_exec(db, NULL, "SAVEPOINT contact_lead", DB_NOARGS)) < 0) return rc;
    /* test seam: the request's lead creation fails after the submission is
     * stored. Only the request's: the retry subscriber may first meet an
     * older submission (another process on the same PostgreSQL), and a
     * fault spent there would leave this request unharmed. */
    int lrc = fault_hit("contact.lead_create")
                  ? ERR_UNAVAILABLE
                  : contact__create_lead(db, tenant_id, sid, data, a, &lead);
    if (lrc < 0) {
        if (lrc == ERR_DB_UNAVAILABLE) return lrc; /* the whole transaction is gone */
        log_kv(LOG_WARN, "contact: lead creation failed; the event retry will create it",
               "tenant_id", tenant_id, "submission_id", sid, "error", err_api_code(lrc), NULL);
        if ((rc = db_exec(db, NULL, "ROLLBACK TO SAVEPOINT contact_lead", DB_NOARGS)) < 0)
            return rc;
    }
    if ((rc = db_exec(db, NULL, "RELEASE SAVEPOINT contact_lead", DB_NOARGS)) < 0) {
        json_decref(lead);
        return rc;
    }
    if (!lead) {
        *out = json_pack("{s:b, s:s, s:n, s:n, s:n, s:b}", "success", 1, "submission_id", sid,
                         "lead_id", "score", "priority", "lead_pending", 1);
        arena_defer(a, (void (*)(void *))json_decref, *out);
        return 0;
    }
    *out = json_pack("{s:b, s:s, s:O, s:O, s:O, s:b}", "success", 1, "submission_id", sid,
                     "lead_id", json_object_get(lead, "id"), "score",
                     json_object_get(lead, "score"), "priority",
                     json_object_get(lead, "priority"), "lead_pending", 0);
    arena_defer(a, (void (*)(void *))json_decref, *out);
    json_decref(lead);
    return 0;
}

/* ---- subscribers ----------------------------------------------------------- */

/* on_submitted: creates the lead of a submission whose request could not
 * (contact_leads says whether one exists). Runs in the dispatcher's
 * platform-scope transaction: the lead, the mapping and the offset commit
 * together. */
static int on_submitted(db_t *db, const ev_event_t *e, void *arg)
{
    (void)arg;
    json_t *p = json_loads(e->payload, 0, NULL);
    const char *sid = json_string_value(json_object_get(p, "submission_id"));
    json_t *data = json_object_get(p, "data");
    int rc = 0;
    if (!sid || !json_is_object(data)) {
        ev_set_error("ContactFormSubmitted without submission_id/data");
        rc = ERR_VALIDATION;
        goto out;
    }
    int64_t n = 0;
    rc = db_query_one_int(db, &n,
                          "SELECT COUNT(*) FROM contact_leads WHERE tenant_id = $1 AND "
                          "submission_id = $2",
                          DB_ARGS(DB_TEXT(e->tenant_id), DB_TEXT(sid)));
    if (rc < 0 || n > 0) goto out;
    arena_t *a = arena_new();
    json_t *lead = NULL;
    rc = contact__create_lead(db, e->tenant_id, sid, data, a, &lead);
    if (rc == 0)
        log_kv(LOG_INFO, "contact: lead created by the event retry", "tenant_id", e->tenant_id,
               "submission_id", sid, "lead_id", json_string_value(json_object_get(lead, "id")),
               NULL);
    json_decref(lead);
    arena_free(a);
out:
    json_decref(p);
    return rc;
}

/* on_high_value: the portal notification for managers and tenant admins and
 * a mail to the managers, both written in the delivery transaction (so
 * exactly once unless the handler fails). */
static int on_high_value(db_t *db, const ev_event_t *e, void *arg)
{
    (void)arg;
    json_t *p = json_loads(e->payload, 0, NULL);
    const char *lead_id = json_string_value(json_object_get(p, "lead_id"));
    const char *name = json_string_value(json_object_get(p, "name"));
    const char *company = json_string_value(json_object_get(p, "company"));
    json_int_t score = json_integer_value(json_object_get(p, "score"));
    int rc = ERR_VALIDATION;
    if (!lead_id) {
        ev_set_error("HighValueLeadDetected without lead_id");
        goto out;
    }
    char title[NOTIFY_MAX_TITLE + 1], body[512];
    snprintf(title, sizeof title, "High-value lead: %.80s%s%.60s (score %lld)",
             name ? name : "unnamed", company ? " — " : "", company ? company : "",
             (long long)score);
    snprintf(body, sizeof body,
             "A contact-form submission scored %lld (above %d). Open the lead in the client "
             "portal: /portal/leads/%s",
             (long long)score, CONTACT_HIGH_VALUE_SCORE, lead_id);
    rc = notify_send(db, e->tenant_id, ROLE_MANAGER | ROLE_TENANT_ADMIN, NULL, "high_value_lead",
                     title, body,
                     json_pack("{s:s, s:I}", "lead_id", lead_id, "score", score), NULL);
    if (rc == 0) {
        int n = identity_mail_staff(db, e->tenant_id, ROLE_MANAGER, title, body);
        rc = n < 0 ? n : 0;
    }
    if (rc < 0) ev_set_error("high-value alert: %s", err_api_code(rc));
out:
    json_decref(p);
    return rc;
}

void contact__subscribe(void)
{
    /* the site's own form post (no JavaScript) takes the same path */
    cms_set_form_handler(CONTACT_FORM_SLUG, contact_submit);
    ev_subscribe("contact.lead-retry", "ContactFormSubmitted", on_submitted, NULL);
    ev_subscribe("contact.high-value-alert", "HighValueLeadDetected", on_high_value, NULL);
}
