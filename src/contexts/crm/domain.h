/* domain.h — the CRM's rules, with no I/O: the entities described as
 * field tables (what a lead, contact, company, deal, stage or activity
 * holds and what each field accepts), input validation against those
 * tables, the lead score, the lead status machine, and the normal forms
 * used for duplicate detection.
 *
 * Everything here is a pure function of its arguments, so it is unit-tested
 * directly (tests/unit/test_crm_domain.c) and shared by every way data comes
 * in: the HTTP API, the CSV import and other contexts through crm.h. */
#ifndef BZ_CRM_DOMAIN_H
#define BZ_CRM_DOMAIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- field tables ----------------------------------------------------------- */

typedef enum crm_ftype {
    CF_TEXT,     /* a string of at most max bytes, trimmed; "" on an optional field = null */
    CF_EMAIL,    /* an e-mail address, stored lower case */
    CF_PHONE,    /* digits with + - ( ) . / and spaces; 7..15 digits */
    CF_URL,      /* a web address: http(s)://… or a bare host; no blanks, no other scheme */
    CF_INT,      /* an integer in [min, max] */
    CF_BOOL,     /* true / false */
    CF_DATE,     /* YYYY-MM-DD, a real calendar date */
    CF_TIME,     /* RFC 3339, normalized to UTC "YYYY-MM-DDTHH:MM:SS.mmmZ" */
    CF_ID,       /* a lower-case UUID; ref names the table it must exist in (NULL: none) */
    CF_CURRENCY, /* an ISO 4217 code: three upper-case letters */
    CF_LIST,     /* an array of at most max distinct non-empty strings of <= 100 bytes */
    CF_ENUM,     /* one of choices */
} crm_ftype_t;

enum crm_fflags {
    CFF_REQUIRED = 1u << 0, /* must be present (and non-empty) on create */
    CFF_SERVER = 1u << 1,   /* set by the server only: refused in input, shown in output */
    CFF_HIDDEN = 1u << 2,   /* stored only (a normal form): neither input nor output */
};

typedef struct crm_field {
    const char *name; /* the JSON key and the column */
    crm_ftype_t type;
    unsigned flags;
    int64_t min, max;            /* CF_INT bounds; CF_TEXT/CF_URL max bytes; CF_LIST max items */
    const char *const *choices;  /* CF_ENUM: NULL-terminated */
    const char *ref;             /* CF_ID: the CRM table the id must exist in, or NULL */
} crm_field_t;

typedef struct crm_entity {
    const char *name;  /* "lead": messages, events' aggregate type */
    const char *table; /* "crm_leads" */
    const crm_field_t *fields;
    size_t nfields;
} crm_entity_t;

extern const crm_entity_t crm_lead_entity, crm_contact_entity, crm_company_entity,
    crm_deal_entity, crm_stage_entity, crm_activity_entity;
/* Inputs that are not stored as entities: POST /leads/{id}/convert
 * (deal_name, value_minor, currency, stage_id, expected_close, owner_id)
 * and POST /leads/{id}/merge (other_id). */
extern const crm_entity_t crm_convert_input, crm_merge_input;

/* crm_field_find: the field of e named name, or NULL. */
const crm_field_t *crm_field_find(const crm_entity_t *e, const char *name);

enum crm_vmode {
    CRM_V_CREATE = 1u << 0, /* required fields must be present */
    CRM_V_TEXT = 1u << 1,   /* values come as text (CSV): "42" is an integer, "a;b" a list,
                               "true"/"false"/"yes"/"no"/"1"/"0" a boolean, "" absent */
};

/* crm_validate: checks input (a JSON object) against e and returns in *out
 * a new object (caller owns it) holding only the fields given, normalized:
 * strings trimmed, e-mail lower-cased, times in UTC, "" on an optional field
 * as null. Unknown, server-set and hidden fields are refused, as are
 * missing required fields on create and an empty update. Returns 0, or
 * ERR_VALIDATION with a message naming the field in why (*out NULL). */
int crm_validate(const crm_entity_t *e, const json_t *input, unsigned mode, json_t **out,
                 char *why, size_t whylen);

/* ---- lead score ------------------------------------------------------------------ */

/* The original's rule, as REQUIREMENTS states it:
 *   company size   size / 50 (integer division), at most 20
 *   budget         >= 10000: 25, >= 5000: 20, >= 1000: 15, else 0
 *   services       5 per service interested in, at most 20
 *   phone          10 when present
 *   website        10 when present
 *   message        15 when longer than 100 characters (Unicode code points)
 *   total          capped at 100
 * The parts' maxima add up to exactly 100, so the final cap never changes a
 * score today; it is kept because it is the rule. */
#define CRM_SCORE_MAX 100

typedef struct crm_score {
    int company_size, budget, services, phone, website, message;
    int total; /* the capped sum, 0..100 */
} crm_score_t;

/* crm_score_lead: the score of a lead given as its JSON representation
 * (fields company_size, budget, services, phone, website, message; absent
 * or null counts as nothing). */
crm_score_t crm_score_lead(const json_t *lead);
/* crm_score_json: the breakdown as a new JSON object (caller owns it). */
json_t *crm_score_json(const crm_score_t *s);
/* crm_priority: "high" above 80, "medium" from 50, "low" below (static). */
const char *crm_priority(int score);

/* ---- lead status ---------------------------------------------------------------- */

/* The status machine:
 *   new -> contacted | lost
 *   contacted -> qualified | lost
 *   qualified -> converted | lost
 *   lost -> new            (reopened)
 *   converted              final
 * Staying in the same status is always allowed (a no-op). */
bool crm_status_valid(const char *s);
bool crm_status_can_move(const char *from, const char *to);
/* crm_status_next: the statuses reachable from from, as a new JSON array. */
json_t *crm_status_next(const char *from);

/* ---- normal forms -------------------------------------------------------------- */

/* crm_phone_norm: phone reduced to its digits, with a leading '+' kept when
 * the number starts with one, into out (cap bytes). Returns false (and
 * out = "") when it has fewer than 7 digits or does not fit: such numbers
 * never match as duplicates. */
bool crm_phone_norm(const char *phone, char *out, size_t cap);

/* crm_utf8_chars: the number of code points in a UTF-8 string (invalid bytes
 * count one each). */
size_t crm_utf8_chars(const char *s);

#endif
