/* app.c — the CRM's use cases: each one validates with domain.c, reads and
 * writes through repo.c and raises its domain events, all inside the
 * caller's transaction (the request's, or the one crm_lead_create's caller
 * opened), so a change and its events commit together or not at all.
 *
 * Conventions: functions return 0 or an ERR_*; on ERR_VALIDATION and
 * ERR_CONFLICT the message is in why; JSON results are new references the
 * caller owns. References between CRM rows are checked here, inside the
 * tenant: an id of another tenant is indistinguishable from one that does
 * not exist. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crm.h"
#include "err.h"
#include "events/events.h"
#include "ids.h"
#include "internal.h"

void crm__now(char out[32]) { clock_rfc3339(clock_now_ms(), out); }

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int64_t int_of(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static int raise(db_t *db, const char *tenant, const char *agg, const char *id, const char *type,
                 json_t *payload)
{
    return ev_raise_db(db, tenant, agg, id, type, payload, NULL);
}

/* refs_check: every id field of vals with a reference names a row of the tenant. */
static int refs_check(db_t *db, const char *tenant, const crm_entity_t *e, const json_t *vals,
                      char *why)
{
    for (size_t i = 0; i < e->nfields; i++) {
        const crm_field_t *f = &e->fields[i];
        const char *id = f->type == CF_ID && f->ref ? jstr(vals, f->name) : NULL;
        if (!id) continue;
        int rc = crm__exists(db, f->ref, tenant, id);
        if (rc < 0) return rc;
        if (rc == 0) {
            snprintf(why, CRM_WHY, "field '%s' names no existing record", f->name);
            return ERR_VALIDATION;
        }
    }
    return 0;
}

/* ---- leads --------------------------------------------------------------------------- */

void crm__lead_view(json_t *lead)
{
    crm_score_t s = crm_score_lead(lead);
    json_object_set_new(lead, "score_breakdown", crm_score_json(&s));
    json_object_set_new(lead, "priority", json_string(crm_priority(s.total)));
    const char *st = jstr(lead, "status");
    json_object_set_new(lead, "next_statuses", crm_status_next(st ? st : ""));
}

/* set_phone_norm: the hidden duplicate key follows the phone. */
static void set_phone_norm(json_t *vals)
{
    json_t *phone = json_object_get(vals, "phone");
    if (!phone) return;
    char norm[48];
    if (json_is_string(phone) && crm_phone_norm(json_string_value(phone), norm, sizeof norm))
        json_object_set_new(vals, "phone_norm", json_string(norm));
    else
        json_object_set_new(vals, "phone_norm", json_null());
}

static int lead_dups(db_t *db, const char *tenant, const json_t *lead, json_t **out)
{
    char norm[48] = "";
    const char *phone = jstr(lead, "phone");
    if (phone) crm_phone_norm(phone, norm, sizeof norm);
    return crm__lead_duplicates(db, tenant, jstr(lead, "id"), jstr(lead, "email"), norm, out);
}

static int scored_event(db_t *db, const char *tenant, const char *id, const crm_score_t *s,
                        json_t *previous)
{
    return raise(db, tenant, "lead", id, "LeadScored",
                 json_pack("{s:s, s:i, s:o, s:o, s:s}", "lead_id", id, "score", s->total,
                           "previous_score", previous, "breakdown", crm_score_json(s),
                           "priority", crm_priority(s->total)));
}

int crm__lead_create(db_t *db, const crm_actor_t *who, const json_t *input, unsigned mode,
                     const char *source, json_t **out, char *why)
{
    *out = NULL;
    json_t *vals;
    int rc = crm_validate(&crm_lead_entity, input, CRM_V_CREATE | mode, &vals, why, CRM_WHY);
    if (rc < 0) return rc;
    const char *status = jstr(vals, "status");
    if (!status) json_object_set_new(vals, "status", json_string("new"));
    if (status && !strcmp(status, "converted")) {
        json_decref(vals);
        snprintf(why, CRM_WHY, "a lead becomes converted only through POST /leads/{id}/convert");
        return ERR_VALIDATION;
    }
    if (!jstr(vals, "source"))
        json_object_set_new(vals, "source", json_string(source && *source ? source : "api"));
    if (!json_is_array(json_object_get(vals, "services")))
        json_object_set_new(vals, "services", json_array());
    set_phone_norm(vals);
    if ((rc = refs_check(db, who->tenant, &crm_lead_entity, vals, why)) < 0) goto out;
    crm_score_t s = crm_score_lead(vals);
    json_object_set_new(vals, "score", json_integer(s.total));
    char id[ID_UUID_LEN + 1], now[32];
    id_uuidv7(id);
    crm__now(now);
    if ((rc = crm__insert(db, &crm_lead_entity, who->tenant, id, vals, now)) < 0) goto out;
    json_t *lead = NULL, *dups = NULL;
    if ((rc = crm__get(db, &crm_lead_entity, who->tenant, id, false, &lead)) < 0) goto out;
    if ((rc = lead_dups(db, who->tenant, lead, &dups)) < 0) {
        json_decref(lead);
        goto out;
    }
    rc = raise(db, who->tenant, "lead", id, "LeadCreated",
               json_pack("{s:s, s:s, s:s, s:i, s:I}", "lead_id", id, "source",
                         jstr(lead, "source"), "status", jstr(lead, "status"), "score",
                         s.total, "duplicates", (json_int_t)json_array_size(dups)));
    if (rc == 0) rc = scored_event(db, who->tenant, id, &s, json_null());
    crm__lead_view(lead);
    json_object_set_new(lead, "duplicates", dups);
    if (rc < 0)
        json_decref(lead);
    else
        *out = lead;
out:
    json_decref(vals);
    return rc;
}

int crm__lead_get(db_t *db, const crm_actor_t *who, const char *id, json_t **out)
{
    json_t *lead, *dups, *merges;
    int rc = crm__get(db, &crm_lead_entity, who->tenant, id, false, &lead);
    if (rc < 0) return rc;
    if ((rc = lead_dups(db, who->tenant, lead, &dups)) < 0 ||
        (rc = crm__merges_of(db, who->tenant, id, &merges)) < 0) {
        json_decref(lead);
        return rc;
    }
    crm__lead_view(lead);
    json_object_set_new(lead, "duplicates", dups);
    json_object_set_new(lead, "merges", merges);
    *out = lead;
    return 0;
}

/* apply: writes vals over lead, rescoring; raises LeadStatusChanged and
 * LeadScored as they happen. vals is modified (score added). */
static int lead_apply(db_t *db, const crm_actor_t *who, json_t *lead, json_t *vals)
{
    const char *id = jstr(lead, "id");
    const char *from = jstr(lead, "status");
    const char *to = jstr(vals, "status");
    char from_buf[16];
    snprintf(from_buf, sizeof from_buf, "%s", from ? from : "");
    int64_t before = int_of(lead, "score");
    set_phone_norm(vals);
    json_t *next = json_deep_copy(lead);
    json_object_update(next, vals);
    crm_score_t s = crm_score_lead(next);
    json_decref(next);
    if (s.total != before) json_object_set_new(vals, "score", json_integer(s.total));
    char now[32];
    crm__now(now);
    int rc = crm__update(db, &crm_lead_entity, who->tenant, id, vals, now);
    if (rc == 0 && to && strcmp(from_buf, to))
        rc = raise(db, who->tenant, "lead", id, "LeadStatusChanged",
                   json_pack("{s:s, s:s, s:s}", "lead_id", id, "from", from_buf, "to", to));
    if (rc == 0 && s.total != before)
        rc = scored_event(db, who->tenant, id, &s, json_integer(before));
    return rc;
}

int crm__lead_update(db_t *db, const crm_actor_t *who, const char *id, const json_t *input,
                     json_t **out, char *why)
{
    *out = NULL;
    json_t *vals, *lead;
    int rc = crm_validate(&crm_lead_entity, input, 0, &vals, why, CRM_WHY);
    if (rc < 0) return rc;
    if ((rc = crm__get(db, &crm_lead_entity, who->tenant, id, true, &lead)) < 0) {
        json_decref(vals);
        return rc;
    }
    const char *from = jstr(lead, "status"), *to = jstr(vals, "status");
    if (json_is_null(json_object_get(vals, "status"))) {
        snprintf(why, CRM_WHY, "field 'status' cannot be null");
        rc = ERR_VALIDATION;
    } else if (to && strcmp(from, to) && !strcmp(to, "converted")) {
        snprintf(why, CRM_WHY, "a lead becomes converted only through POST /leads/{id}/convert");
        rc = ERR_VALIDATION;
    } else if (to && !crm_status_can_move(from, to)) {
        json_t *next = crm_status_next(from);
        char *list = json_dumps(next, JSON_COMPACT);
        snprintf(why, CRM_WHY, "a %s lead cannot become %s (allowed: %s)", from, to, list);
        free(list);
        json_decref(next);
        rc = ERR_VALIDATION;
    }
    if (rc == 0 && json_is_null(json_object_get(vals, "services")))
        json_object_set_new(vals, "services", json_array());
    if (rc == 0 && json_is_null(json_object_get(vals, "source"))) {
        snprintf(why, CRM_WHY, "field 'source' cannot be null");
        rc = ERR_VALIDATION;
    }
    if (rc == 0) rc = refs_check(db, who->tenant, &crm_lead_entity, vals, why);
    if (rc == 0) rc = lead_apply(db, who, lead, vals);
    json_decref(vals);
    json_decref(lead);
    return rc < 0 ? rc : crm__lead_get(db, who, id, out);
}

int crm__lead_rescore(db_t *db, const crm_actor_t *who, const char *id, json_t **out)
{
    json_t *lead;
    int rc = crm__get(db, &crm_lead_entity, who->tenant, id, true, &lead);
    if (rc < 0) return rc;
    int64_t before = int_of(lead, "score");
    crm_score_t s = crm_score_lead(lead);
    if (s.total != before) {
        char now[32];
        crm__now(now);
        json_t *vals = json_pack("{s:i}", "score", s.total);
        rc = crm__update(db, &crm_lead_entity, who->tenant, id, vals, now);
        json_decref(vals);
    }
    /* an explicit recompute always reports, changed or not */
    if (rc == 0) rc = scored_event(db, who->tenant, id, &s, json_integer(before));
    json_decref(lead);
    if (rc < 0) return rc;
    json_t *v = json_pack("{s:s, s:i, s:I, s:b, s:o, s:s}", "lead_id", id, "score", s.total,
                          "previous_score", (json_int_t)before, "changed", s.total != before,
                          "breakdown", crm_score_json(&s), "priority", crm_priority(s.total));
    *out = v;
    return 0;
}

int crm__lead_delete(db_t *db, const crm_actor_t *who, const char *id)
{
    int rc = crm__delete(db, &crm_lead_entity, who->tenant, id);
    if (rc == 0) rc = crm__delete_where(db, "crm_activities", who->tenant, "lead_id", id);
    if (rc == 0) rc = crm__reassign(db, "crm_contacts", "lead_id", who->tenant, id, NULL, NULL);
    if (rc == 0) rc = crm__reassign(db, "crm_deals", "lead_id", who->tenant, id, NULL, NULL);
    return rc;
}

/* note: an activity of kind note written by the system on a lead. */
static int note(db_t *db, const crm_actor_t *who, const char *lead_id, const char *subject)
{
    char id[ID_UUID_LEN + 1], now[32];
    id_uuidv7(id);
    crm__now(now);
    json_t *vals = json_pack("{s:s, s:s, s:s, s:b}", "kind", "note", "subject", subject,
                             "lead_id", lead_id, "done", 1);
    if (who->user && id_is_uuid(who->user, strlen(who->user)))
        json_object_set_new(vals, "owner_id", json_string(who->user));
    int rc = crm__insert(db, &crm_activity_entity, who->tenant, id, vals, now);
    json_decref(vals);
    return rc;
}

/* first_stage: the first open stage by position (after seeding). */
static int first_stage(db_t *db, const char *tenant, json_t **stage, char *why)
{
    json_t *stages;
    char now[32];
    crm__now(now);
    int rc = crm__stages_seed(db, tenant, now);
    if (rc == 0) rc = crm__stages_list(db, tenant, &stages);
    if (rc < 0) return rc;
    *stage = NULL;
    size_t i;
    json_t *s;
    json_array_foreach(stages, i, s) {
        if (!*stage && !strcmp(jstr(s, "kind"), "open")) *stage = json_incref(s);
    }
    json_decref(stages);
    if (!*stage) {
        snprintf(why, CRM_WHY, "the pipeline has no open stage; add one first");
        return ERR_VALIDATION;
    }
    return 0;
}

static int create_row(db_t *db, const crm_actor_t *who, const crm_entity_t *e, json_t *vals,
                      json_t **out)
{
    char id[ID_UUID_LEN + 1], now[32];
    id_uuidv7(id);
    crm__now(now);
    int rc = crm__insert(db, e, who->tenant, id, vals, now);
    return rc < 0 ? rc : crm__get(db, e, who->tenant, id, false, out);
}

static int deal_entered(db_t *db, const char *tenant, const json_t *deal, const char *from,
                        const char *to)
{
    const char *id = jstr(deal, "id");
    return raise(db, tenant, "deal", id, "DealStageChanged",
                 json_pack("{s:s, s:s?, s:s, s:I, s:s}", "deal_id", id, "from_stage_id", from,
                           "to_stage_id", to, "value_minor",
                           (json_int_t)int_of(deal, "value_minor"), "currency",
                           jstr(deal, "currency")));
}

int crm__lead_convert(db_t *db, const crm_actor_t *who, const char *id, const json_t *input,
                      json_t **out, char *why)
{
    *out = NULL;
    json_t *in, *lead = NULL, *stage = NULL, *company = NULL, *contact = NULL, *deal = NULL;
    json_t *none = json_object();
    int rc = crm_validate(&crm_convert_input, input ? input : none, CRM_V_CREATE, &in, why,
                          CRM_WHY);
    json_decref(none);
    if (rc < 0) return rc;
    if ((rc = crm__get(db, &crm_lead_entity, who->tenant, id, true, &lead)) < 0) goto out;
    const char *status = jstr(lead, "status");
    if (!crm_status_can_move(status, "converted") || !strcmp(status, "converted")) {
        snprintf(why, CRM_WHY, "only a qualified lead can be converted (this one is %s)", status);
        rc = ERR_VALIDATION;
        goto out;
    }
    if ((rc = refs_check(db, who->tenant, &crm_convert_input, in, why)) < 0) goto out;
    if (jstr(in, "stage_id"))
        rc = crm__get(db, &crm_stage_entity, who->tenant, jstr(in, "stage_id"), false, &stage);
    else
        rc = first_stage(db, who->tenant, &stage, why);
    if (rc < 0) goto out;
    const char *cname = jstr(lead, "company");
    char company_id[ID_UUID_LEN + 1] = "";
    if (cname) {
        rc = crm__find_id(db, "crm_companies", who->tenant, "name", cname, company_id);
        if (rc == ERR_NOT_FOUND) {
            json_t *v = json_pack("{s:s, s:O}", "name", cname, "website",
                                  json_object_get(lead, "website"));
            rc = create_row(db, who, &crm_company_entity, v, &company);
            json_decref(v);
            if (rc == 0) snprintf(company_id, sizeof company_id, "%s", jstr(company, "id"));
        } else if (rc == 0) {
            rc = crm__get(db, &crm_company_entity, who->tenant, company_id, false, &company);
        }
        if (rc < 0) goto out;
    }
    const char *owner = jstr(in, "owner_id") ? jstr(in, "owner_id") : jstr(lead, "owner_id");
    if (!owner && who->user && id_is_uuid(who->user, strlen(who->user))) owner = who->user;
    json_t *cv = json_pack("{s:O, s:O, s:O, s:s, s:s?, s:s?}", "name", json_object_get(lead, "name"),
                           "email", json_object_get(lead, "email"), "phone",
                           json_object_get(lead, "phone"), "lead_id", id, "company_id",
                           company_id[0] ? company_id : NULL, "owner_id", owner);
    rc = create_row(db, who, &crm_contact_entity, cv, &contact);
    json_decref(cv);
    if (rc < 0) goto out;
    int64_t budget = int_of(lead, "budget");
    json_int_t value = json_object_get(in, "value_minor")
                           ? json_integer_value(json_object_get(in, "value_minor"))
                           : (json_int_t)(budget * 100);
    const char *dname = jstr(in, "deal_name");
    char dbuf[256];
    if (!dname) {
        snprintf(dbuf, sizeof dbuf, "%s", cname ? cname : jstr(lead, "name"));
        dname = dbuf;
    }
    json_t *dv = json_pack(
        "{s:s, s:I, s:s, s:s, s:I, s:O?, s:s?, s:s, s:s?, s:s}", "name", dname, "value_minor",
        value, "currency", jstr(in, "currency") ? jstr(in, "currency") : "USD", "stage_id",
        jstr(stage, "id"), "probability", (json_int_t)int_of(stage, "probability"),
        "expected_close", json_object_get(in, "expected_close"), "owner_id", owner, "contact_id",
        jstr(contact, "id"), "company_id", company_id[0] ? company_id : NULL, "lead_id", id);
    rc = create_row(db, who, &crm_deal_entity, dv, &deal);
    json_decref(dv);
    if (rc == 0) rc = deal_entered(db, who->tenant, deal, NULL, jstr(stage, "id"));
    if (rc < 0) goto out;
    json_t *lv = json_pack("{s:s, s:s, s:s}", "status", "converted", "converted_contact_id",
                           jstr(contact, "id"), "converted_deal_id", jstr(deal, "id"));
    rc = lead_apply(db, who, lead, lv);
    json_decref(lv);
    char subject[200];
    snprintf(subject, sizeof subject, "Converted into contact %s and deal %s",
             jstr(contact, "id"), jstr(deal, "id"));
    if (rc == 0) rc = note(db, who, id, subject);
    json_t *view = NULL;
    if (rc == 0) rc = crm__lead_get(db, who, id, &view);
    if (rc == 0)
        *out = json_pack("{s:o, s:O, s:O, s:O?}", "lead", view, "contact", contact, "deal", deal,
                         "company", company);
out:
    json_decref(in);
    json_decref(lead);
    json_decref(stage);
    json_decref(company);
    json_decref(contact);
    json_decref(deal);
    return rc;
}

/* The fields a merge fills in on the surviving lead when it has none. */
static const char *const mergeable[] = {"email", "phone", "company", "website", "company_size",
                                        "budget", "message", "owner_id", NULL};

int crm__lead_merge(db_t *db, const crm_actor_t *who, const char *id, const char *other_id,
                    json_t **out, char *why)
{
    *out = NULL;
    json_t *lead, *other;
    int rc = crm__get(db, &crm_lead_entity, who->tenant, id, true, &lead);
    if (rc < 0) return rc;
    if (!strcmp(id, other_id)) {
        json_decref(lead);
        snprintf(why, CRM_WHY, "a lead cannot be merged into itself");
        return ERR_VALIDATION;
    }
    rc = crm__get(db, &crm_lead_entity, who->tenant, other_id, true, &other);
    if (rc == ERR_NOT_FOUND) {
        json_decref(lead);
        snprintf(why, CRM_WHY, "field 'other_id' names no existing lead");
        return ERR_VALIDATION;
    }
    if (rc < 0) {
        json_decref(lead);
        return rc;
    }
    if (!strcmp(jstr(other, "status"), "converted")) {
        snprintf(why, CRM_WHY, "lead %s is converted; merge the other way round", other_id);
        rc = ERR_CONFLICT;
        goto out;
    }
    json_t *vals = json_object();
    for (const char *const *k = mergeable; *k; k++) {
        json_t *mine = json_object_get(lead, *k), *theirs = json_object_get(other, *k);
        if ((!mine || json_is_null(mine)) && theirs && !json_is_null(theirs))
            json_object_set(vals, *k, theirs);
    }
    json_t *services = json_deep_copy(json_object_get(lead, "services"));
    if (!json_is_array(services)) {
        json_decref(services);
        services = json_array();
    }
    size_t i;
    json_t *sv;
    json_array_foreach(json_object_get(other, "services"), i, sv) {
        bool have = false;
        for (size_t k = 0; k < json_array_size(services); k++)
            if (json_equal(json_array_get(services, k), sv)) have = true;
        if (!have && json_array_size(services) < 20) json_array_append(services, sv);
    }
    if (json_array_size(services) != json_array_size(json_object_get(lead, "services")))
        json_object_set(vals, "services", services);
    json_decref(services);
    int64_t moved = 0;
    char now[32], subject[200];
    crm__now(now);
    rc = crm__reassign(db, "crm_activities", "lead_id", who->tenant, other_id, id, &moved);
    if (rc == 0) rc = crm__reassign(db, "crm_contacts", "lead_id", who->tenant, other_id, id, NULL);
    if (rc == 0) rc = crm__reassign(db, "crm_deals", "lead_id", who->tenant, other_id, id, NULL);
    if (rc == 0) rc = crm__merge_record(db, who->tenant, id, other, moved, who->user, now);
    if (rc == 0) rc = crm__delete(db, &crm_lead_entity, who->tenant, other_id);
    if (rc == 0 && json_object_size(vals)) rc = lead_apply(db, who, lead, vals);
    json_decref(vals);
    snprintf(subject, sizeof subject, "Merged lead %s into this lead", other_id);
    if (rc == 0) rc = note(db, who, id, subject);
    if (rc == 0)
        rc = raise(db, who->tenant, "lead", id, "LeadMerged",
                   json_pack("{s:s, s:s, s:I}", "lead_id", id, "merged_id", other_id,
                             "activities_moved", (json_int_t)moved));
    json_t *view = NULL;
    if (rc == 0) rc = crm__lead_get(db, who, id, &view);
    if (rc == 0)
        *out = json_pack("{s:o, s:s, s:I}", "lead", view, "merged_id", other_id,
                         "activities_moved", (json_int_t)moved);
out:
    json_decref(lead);
    json_decref(other);
    return rc;
}

/* ---- contacts, companies, deals, stages, activities -------------------------------- */

static const char *const parents[] = {"lead_id", "contact_id", "deal_id", NULL};

/* activity_parent_ok: exactly one of lead_id, contact_id, deal_id is set in row. */
static int activity_parent_ok(const json_t *row, char *why)
{
    int n = 0;
    for (const char *const *p = parents; *p; p++)
        if (jstr(row, *p)) n++;
    if (n == 1) return 0;
    snprintf(why, CRM_WHY, "an activity belongs to exactly one of lead_id, contact_id, deal_id");
    return ERR_VALIDATION;
}

int crm__create(db_t *db, const crm_actor_t *who, const crm_entity_t *e, const json_t *input,
                json_t **out, char *why)
{
    *out = NULL;
    json_t *vals, *stage = NULL;
    int rc = crm_validate(e, input, CRM_V_CREATE, &vals, why, CRM_WHY);
    if (rc < 0) return rc;
    char now[32];
    crm__now(now);
    if (e == &crm_deal_entity || e == &crm_stage_entity) rc = crm__stages_seed(db, who->tenant, now);
    if (rc == 0) rc = refs_check(db, who->tenant, e, vals, why);
    if (rc < 0) goto out;
    if (e == &crm_deal_entity) {
        if (jstr(vals, "stage_id"))
            rc = crm__get(db, &crm_stage_entity, who->tenant, jstr(vals, "stage_id"), false,
                          &stage);
        else
            rc = first_stage(db, who->tenant, &stage, why);
        if (rc < 0) goto out;
        json_object_set_new(vals, "stage_id", json_string(jstr(stage, "id")));
        if (!json_is_integer(json_object_get(vals, "probability")))
            json_object_set_new(vals, "probability",
                                json_integer(int_of(stage, "probability")));
        if (!jstr(vals, "currency")) json_object_set_new(vals, "currency", json_string("USD"));
        if (!json_is_integer(json_object_get(vals, "value_minor")))
            json_object_set_new(vals, "value_minor", json_integer(0));
    } else if (e == &crm_activity_entity) {
        if ((rc = activity_parent_ok(vals, why)) < 0) goto out;
        if (!json_is_boolean(json_object_get(vals, "done")))
            json_object_set_new(vals, "done", json_false());
    } else if (e == &crm_stage_entity) {
        int64_t pos = 0;
        if ((rc = crm__stage_next_position(db, who->tenant, &pos)) < 0) goto out;
        json_t *given = json_object_get(vals, "position");
        if (json_is_integer(given) && json_integer_value(given) < pos)
            rc = crm__stage_shift(db, who->tenant, json_integer_value(given), NULL);
        else
            json_object_set_new(vals, "position", json_integer(pos));
        if (!json_is_integer(json_object_get(vals, "probability")))
            json_object_set_new(vals, "probability", json_integer(0));
        if (!jstr(vals, "kind")) json_object_set_new(vals, "kind", json_string("open"));
        if (rc < 0) goto out;
    }
    if (e != &crm_stage_entity && crm_field_find(e, "owner_id") && !jstr(vals, "owner_id") &&
        who->user && id_is_uuid(who->user, strlen(who->user)))
        json_object_set_new(vals, "owner_id", json_string(who->user));
    rc = create_row(db, who, e, vals, out);
    if (rc == 0 && e == &crm_deal_entity)
        rc = deal_entered(db, who->tenant, *out, NULL, jstr(*out, "stage_id"));
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
    }
out:
    json_decref(vals);
    json_decref(stage);
    return rc;
}

/* Fields that always hold a value once a row exists. */
static const char *const never_null[] = {"kind", "done", "currency", "stage_id", "value_minor",
                                         "probability", "position", NULL};

int crm__update_one(db_t *db, const crm_actor_t *who, const crm_entity_t *e, const char *id,
                    const json_t *input, json_t **out, char *why)
{
    *out = NULL;
    json_t *vals, *cur = NULL, *stage = NULL;
    int rc = crm_validate(e, input, 0, &vals, why, CRM_WHY);
    if (rc < 0) return rc;
    if ((rc = crm__get(db, e, who->tenant, id, true, &cur)) < 0) goto out;
    if ((rc = refs_check(db, who->tenant, e, vals, why)) < 0) goto out;
    for (const char *const *k = never_null; *k; k++) {
        if (json_is_null(json_object_get(vals, *k))) {
            snprintf(why, CRM_WHY, "field '%s' cannot be null", *k);
            rc = ERR_VALIDATION;
            goto out;
        }
    }
    const char *from_stage = jstr(cur, "stage_id"), *to_stage = jstr(vals, "stage_id");
    bool moved = e == &crm_deal_entity && to_stage && strcmp(from_stage, to_stage);
    if (moved && !json_object_get(vals, "probability")) {
        if ((rc = crm__get(db, &crm_stage_entity, who->tenant, to_stage, false, &stage)) < 0)
            goto out;
        json_object_set_new(vals, "probability", json_integer(int_of(stage, "probability")));
    }
    if (e == &crm_activity_entity) {
        json_t *next = json_deep_copy(cur);
        json_object_update(next, vals);
        rc = activity_parent_ok(next, why);
        json_decref(next);
        if (rc < 0) goto out;
    }
    if (e == &crm_stage_entity && json_is_integer(json_object_get(vals, "position")))
        rc = crm__stage_shift(db, who->tenant, int_of(vals, "position"), id);
    char now[32];
    crm__now(now);
    if (rc == 0) rc = crm__update(db, e, who->tenant, id, vals, now);
    if (rc == 0) rc = crm__get(db, e, who->tenant, id, false, out);
    if (rc == 0 && moved) rc = deal_entered(db, who->tenant, *out, from_stage, to_stage);
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
    }
out:
    json_decref(vals);
    json_decref(cur);
    json_decref(stage);
    return rc;
}

int crm__delete_one(db_t *db, const crm_actor_t *who, const crm_entity_t *e, const char *id,
                    char *why)
{
    if (!id_is_uuid(id, strlen(id))) return ERR_NOT_FOUND;
    int rc = 0;
    if (e == &crm_stage_entity) {
        int64_t n = 0;
        if ((rc = crm__count(db, "crm_deals", who->tenant, "stage_id", id, &n)) < 0) return rc;
        if (n > 0) {
            if ((rc = crm__exists(db, "crm_stages", who->tenant, id)) <= 0)
                return rc < 0 ? rc : ERR_NOT_FOUND;
            snprintf(why, CRM_WHY, "the stage has %lld deal(s); move them to another stage first",
                     (long long)n);
            return ERR_CONFLICT;
        }
    }
    if (e == &crm_lead_entity) return crm__lead_delete(db, who, id);
    if ((rc = crm__delete(db, e, who->tenant, id)) < 0) return rc;
    if (e == &crm_company_entity) {
        rc = crm__reassign(db, "crm_contacts", "company_id", who->tenant, id, NULL, NULL);
        if (rc == 0) rc = crm__reassign(db, "crm_deals", "company_id", who->tenant, id, NULL, NULL);
    } else if (e == &crm_contact_entity) {
        rc = crm__reassign(db, "crm_deals", "contact_id", who->tenant, id, NULL, NULL);
        if (rc == 0) rc = crm__delete_where(db, "crm_activities", who->tenant, "contact_id", id);
    } else if (e == &crm_deal_entity) {
        rc = crm__delete_where(db, "crm_activities", who->tenant, "deal_id", id);
    }
    return rc;
}

/* ---- the public use case ------------------------------------------------------------------ */

int crm_lead_create(db_t *db, const char *tenant_id, const json_t *fields, const char *source,
                    arena_t *a, json_t **lead_out)
{
    (void)a;
    char why[CRM_WHY] = "";
    crm_actor_t who = {.tenant = tenant_id, .user = ""};
    int rc = crm__lead_create(db, &who, fields, 0, source, lead_out, why);
    if (rc == ERR_VALIDATION) *lead_out = json_pack("{s:s}", "error", why);
    return rc;
}
