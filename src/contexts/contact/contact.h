/* contact.h — the contact flow, the original platform's flagship request:
 * POST /api/brain/contact/submit (public; the tenant comes from the Host
 * header) stores the form submission in the CMS, creates a scored lead in
 * the CRM and, when the score is above CONTACT_HIGH_VALUE_SCORE, raises
 * HighValueLeadDetected, which notifies the tenant's managers in the portal
 * and by mail.
 *
 * Failure of one side never loses the other: the submission and a
 * ContactFormSubmitted event commit together; the lead is created in the
 * same request inside a savepoint, and when that fails the request still
 * succeeds (202, lead pending) and the event's subscriber creates the lead
 * later, retried by the dispatcher until it succeeds or is dead-lettered
 * (replayable). contact_leads maps each submission to its lead, so the lead
 * is created exactly once whichever path wins.
 */
#ifndef BZ_CONTACT_H
#define BZ_CONTACT_H

#include <jansson.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "router.h"

/* A lead scoring above this is high-value (the original's rule). */
#define CONTACT_HIGH_VALUE_SCORE 80
/* The CMS form the flow stores submissions in. */
#define CONTACT_FORM_SLUG "contact"

/* contact_register: the route, the event subscribers and the per-IP rate
 * limit (cfg->contact_rate_per_min per minute; cfg borrowed, must outlive
 * the server). Call once at startup, before ev_start. */
void contact_register(router_t *r, const config_t *cfg);

/* contact_submit: the flow's use case, inside the caller's open write
 * transaction on db in tenant_id's scope: stores the submission, raises
 * ContactFormSubmitted, tries to create the lead (savepoint). It is also the
 * CMS's form handler for the "contact" form (cms_set_form_handler), so the
 * site's no-JavaScript post takes the same path. *out (owned by the arena
 * a, which is required) is {success, submission_id, lead_id, score, priority}
 * (lead_id null and "lead_pending": true when the lead waits for the
 * retry). Errors: ERR_VALIDATION (*out is then the CMS's
 * {message, errors{field: message}}), ERR_NOT_FOUND (the tenant has no
 * contact form), database errors (roll back). */
int contact_submit(db_t *db, const char *tenant_id, const json_t *fields, const char *remote_addr,
                   arena_t *a, json_t **out);

void contact_stop(void);

#endif
