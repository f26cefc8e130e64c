/* seed.c — the CRM's startup work: demo data for the demo tenant.
 *
 * On the embedded default in development (the same conditions under which
 * identity seeds the demo tenant), the demo tenant gets a few companies,
 * leads across the statuses and scores, a converted lead with its contact
 * and deal, and a task. Idempotent: crm_tenants marks a tenant whose CRM
 * was ever used, and a marked tenant is never seeded again (so deleting
 * the demo leads does not bring them back). */
#include <stdio.h>
#include <string.h>

#include "crm.h"
#include "err.h"
#include "internal.h"
#include "log.h"

static const char *const demo_leads[] = {
    "{\"name\":\"Priya Raman\",\"email\":\"priya@northwind.example\",\"phone\":\"+1 415 555 0101\","
    "\"company\":\"Northwind Traders\",\"website\":\"https://northwind.example\",\"company_size\":"
    "800,\"budget\":25000,\"services\":[\"seo\",\"ppc\",\"content\",\"social\"],\"message\":"
    "\"We are expanding into three new regions next quarter and need a partner for search, paid "
    "media and content across all of them.\",\"source\":\"website\"}",
    "{\"name\":\"Tom Becker\",\"email\":\"tom@globex.example\",\"phone\":\"+49 30 5550 1234\","
    "\"company\":\"Globex\",\"company_size\":120,\"budget\":6000,\"services\":[\"seo\"],"
    "\"source\":\"referral\",\"status\":\"contacted\"}",
    "{\"name\":\"Ana Souza\",\"email\":\"ana@initech.example\",\"company\":\"Initech\","
    "\"website\":\"initech.example\",\"budget\":1500,\"services\":[\"social\",\"email\"],"
    "\"source\":\"linkedin\",\"status\":\"qualified\"}",
    "{\"name\":\"Li Wei\",\"email\":\"li.wei@example.com\",\"source\":\"website\"}",
    "{\"name\":\"Omar Haddad\",\"email\":\"omar@umbrella.example\",\"phone\":\"+971 4 555 0199\","
    "\"company\":\"Umbrella Group\",\"company_size\":2000,\"budget\":50000,\"services\":"
    "[\"ppc\",\"analytics\"],\"source\":\"event\",\"status\":\"qualified\"}",
};

static int seed(db_t *db, const char *tenant)
{
    crm_actor_t who = {.tenant = tenant, .user = ""};
    char why[CRM_WHY] = "", now[32];
    crm__now(now);
    int64_t seeded = 0;
    int rc = db_query_one_int(db, &seeded, "SELECT COUNT(*) FROM crm_tenants WHERE tenant_id = $1",
                              DB_ARGS(DB_TEXT(tenant)));
    if (rc < 0 || seeded) return rc;
    if ((rc = crm__stages_seed(db, tenant, now)) < 0) return rc;
    const char *last_id = NULL;
    json_t *keep = json_array();
    for (size_t i = 0; rc == 0 && i < sizeof demo_leads / sizeof demo_leads[0]; i++) {
        json_t *in = json_loads(demo_leads[i], 0, NULL), *lead = NULL;
        rc = crm__lead_create(db, &who, in, 0, "demo", &lead, why);
        json_decref(in);
        if (rc == 0) {
            json_array_append_new(keep, lead);
            last_id = json_string_value(json_object_get(lead, "id"));
        }
    }
    json_t *out = NULL;
    /* the last lead (qualified) becomes a customer: contact + deal */
    if (rc == 0 && last_id) rc = crm__lead_convert(db, &who, last_id, NULL, &out, why);
    json_decref(out);
    out = NULL;
    if (rc == 0) {
        json_t *first = json_array_get(keep, 0);
        json_t *task = json_pack("{s:s, s:s, s:s, s:s}", "kind", "task", "subject",
                                 "Send the proposal", "due_at", "2030-01-15T09:00:00Z", "lead_id",
                                 json_string_value(json_object_get(first, "id")));
        rc = crm__create(db, &who, &crm_activity_entity, task, &out, why);
        json_decref(task);
        json_decref(out);
    }
    json_decref(keep);
    if (rc < 0) log_error("crm: demo data: %s", why[0] ? why : db_errmsg(db));
    return rc;
}

int crm_start(const config_t *cfg, db_t *db)
{
    if (!cfg || !cfg->demo_seed || !config_is_dev(cfg) || db_backend(db) != DB_SQLITE) return 0;
    char tenant[64];
    int rc = crm__tenant_by_slug(db, "demo", tenant);
    if (rc == ERR_NOT_FOUND) return 0;
    if (rc == 0 && (rc = db_begin(db, tenant, true)) == 0) {
        rc = seed(db, tenant);
        rc = rc == 0 ? db_commit(db) : (db_rollback(db), rc);
    }
    if (rc < 0) {
        log_error("crm: cannot seed the demo data: %s", db_errmsg(db));
        return -1;
    }
    return 0;
}
