/* contact_internal.h — shared between the contact context's files. */
#ifndef BZ_CONTACT_INTERNAL_H
#define BZ_CONTACT_INTERNAL_H

#include <jansson.h>

#include "arena.h"
#include "db.h"

/* contact__lead_fields: the CRM lead fields of a submission's data (new
 * reference). */
json_t *contact__lead_fields(const json_t *data);

/* contact__create_lead: creates the lead of one submission, records the
 * mapping in contact_leads and raises HighValueLeadDetected when the score
 * is above CONTACT_HIGH_VALUE_SCORE, in the caller's open transaction.
 * *lead_out (caller owns) is the CRM's lead. */
int contact__create_lead(db_t *db, const char *tenant_id, const char *submission_id,
                         const json_t *data, arena_t *a, json_t **lead_out);

/* contact__subscribe: registers the two event subscribers. */
void contact__subscribe(void);

#endif
