/* crm.h — the CRM context (service django-crm, mounted at /api/v1/crm):
 * leads scored with the original rule, duplicate detection and merging,
 * contacts, companies, deals in a per-tenant pipeline, activities, CSV
 * import and export. This header is all the rest of the binary may call;
 * the context's layers are domain.c (rules, no I/O), app.c (use cases),
 * repo.c (SQL) and http.c (routes) — see docs/ARCHITECTURE.md, "CRM". */
#ifndef BZ_CRM_H
#define BZ_CRM_H

#include <jansson.h>
#include <stdio.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "router.h"

/* crm_register: adds the routes under /api/v1/crm and the CRM permissions
 * of the role map (tenant_admin and manager manage, client views). */
void crm_register(router_t *r);

/* crm_start: startup work: in development on the embedded default, seeds
 * a few demo leads, companies, contacts and deals into the demo tenant
 * (slug "demo") when it has no leads yet. Idempotent. Returns 0 or -1
 * (logged). Call after identity_start (which creates the demo tenant). */
int crm_start(const config_t *cfg, db_t *db);

/* crm_lead_create: the "new lead" use case for other contexts (the contact
 * flow) and the CSV import. Inside the caller's open transaction on db
 * (with tenant_id's tenant context, or platform scope):
 *   - validates fields (a JSON object of lead fields: name required; email,
 *     phone, company, website, company_size, budget, services, message,
 *     status, owner_id optional; unknown fields refused);
 *   - scores the lead with the original rule;
 *   - stores it with status "new" (unless fields say otherwise) and the
 *     source named in fields, else the source argument, else "api";
 *   - raises LeadCreated and LeadScored in the same transaction (so they
 *     exist iff the lead does).
 * A lead with the same e-mail or the same normalized phone as an existing
 * lead of the tenant is still created: duplicates are flagged, never
 * refused, so a form submission is never lost; *lead_out then has a
 * "duplicates" array of {id, match: "email"|"phone"}.
 * On success returns 0 and *lead_out is the new lead's JSON (id, fields,
 * score, score_breakdown, priority, duplicates), owned by the caller
 * (json_decref); a may be NULL or an arena used for scratch memory.
 * Errors: ERR_VALIDATION (*lead_out is then {"error": message}, also owned
 * by the caller), or a database error — the caller's transaction should
 * then be rolled back. */
int crm_lead_create(db_t *db, const char *tenant_id, const json_t *fields, const char *source,
                    arena_t *a, json_t **lead_out);

/* crm_import_main: `bizosaas import leads FILE --tenant SLUG` (argv as main
 * received it, argv[1] == "import"). Imports the CSV file's good rows,
 * reports each bad row with its line number on stderr, draws a progress bar
 * when stderr is a terminal, prints a summary. Returns the exit code (0 all
 * rows imported, 1 some rows bad or a failure, 2 usage). */
int crm_import_main(int argc, char **argv, const config_t *cfg);

#endif
