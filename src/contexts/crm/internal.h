/* internal.h — what the CRM's own files share (the crm__ prefix): the
 * repository (repo.c: SQL, driven by the field tables of domain.h) and the
 * use cases (app.c, import.c). Other contexts use crm.h. */
#ifndef BZ_CRM_INTERNAL_H
#define BZ_CRM_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "arena.h"
#include "db.h"
#include "domain.h"
#include "str.h"

#define CRM_PAGE_DEFAULT 50
#define CRM_PAGE_MAX 200
#define CRM_WHY 256

/* ---- repo.c ---------------------------------------------------------------------- */

/* A list query: WHERE clauses (each with its own placeholders, numbered by
 * crm__q_where), a sort key and an optional keyset position. */
#define CRM_Q_MAX 16
typedef struct crm_query {
    buf_t where;
    db_param_t p[CRM_Q_MAX];
    size_t n;
    const char *sort; /* "id" (creation order), "score" or "name" */
    bool desc;
    bool after; /* continue after (after_int | after_text, after_id) */
    int64_t after_int;
    const char *after_text, *after_id;
    int limit;
} crm_query_t;

void crm__q_init(crm_query_t *q);
void crm__q_cleanup(crm_query_t *q);
/* crm__q_where: adds " AND " + clause, where every "%1$d" in clause
 * becomes the placeholder number of param. */
void crm__q_where(crm_query_t *q, const char *clause, db_param_t param);

/* Row JSON: id, every field that is not hidden, created_at, updated_at. */
int crm__insert(db_t *db, const crm_entity_t *e, const char *tenant, const char *id,
                const json_t *vals, const char *now);
/* crm__update: sets the fields of vals (and updated_at); ERR_NOT_FOUND. */
int crm__update(db_t *db, const crm_entity_t *e, const char *tenant, const char *id,
                const json_t *vals, const char *now);
/* crm__get: *out a new object (caller owns); ERR_NOT_FOUND. lock takes a
 * row lock on PostgreSQL (FOR UPDATE) for read-modify-write. */
int crm__get(db_t *db, const crm_entity_t *e, const char *tenant, const char *id, bool lock,
             json_t **out);
int crm__delete(db_t *db, const crm_entity_t *e, const char *tenant, const char *id);
/* crm__exists: 1 when table has row id in tenant, 0 when not, <0 error. */
int crm__exists(db_t *db, const char *table, const char *tenant, const char *id);
/* crm__list: appends up to q->limit rows to items; *more when there are more. */
int crm__list(db_t *db, const crm_entity_t *e, const char *tenant, crm_query_t *q,
              json_t *items, bool *more);
/* crm__find_id: the oldest row of table in tenant with column = value into
 * out (37 bytes); ERR_NOT_FOUND when none. */
int crm__find_id(db_t *db, const char *table, const char *tenant, const char *column,
                 const char *value, char *out);
/* crm__delete_where: deletes the rows of table in tenant with column = value. */
int crm__delete_where(db_t *db, const char *table, const char *tenant, const char *column,
                      const char *value);
/* crm__count: rows of table in tenant with column = value. */
int crm__count(db_t *db, const char *table, const char *tenant, const char *column,
               const char *value, int64_t *out);

/* crm__lead_duplicates: leads of tenant other than except_id with the same
 * e-mail or normalized phone, as a new array of {id, match}. */
int crm__lead_duplicates(db_t *db, const char *tenant, const char *except_id, const char *email,
                         const char *phone_norm, json_t **out);
/* crm__reassign: sets column = to_id where column = from_id in table. */
int crm__reassign(db_t *db, const char *table, const char *column, const char *tenant,
                  const char *from_id, const char *to_id, int64_t *affected);
/* crm__merge_record: the audit row of a merge (merged: the merged lead's JSON). */
int crm__merge_record(db_t *db, const char *tenant, const char *target_id, const json_t *merged,
                      int64_t activities, const char *actor, const char *now);
int crm__merges_of(db_t *db, const char *tenant, const char *target_id, json_t **out);

/* Pipeline stages: seeded once per tenant (crm_tenants marks it). */
int crm__stages_seed(db_t *db, const char *tenant, const char *now);
int crm__stages_list(db_t *db, const char *tenant, json_t **out);
/* crm__stage_shift: moves stages at position >= from up by one (to make room). */
int crm__stage_shift(db_t *db, const char *tenant, int64_t from, const char *except_id);
/* crm__stage_next_position: max(position) + 1. */
int crm__stage_next_position(db_t *db, const char *tenant, int64_t *out);
/* crm__pipeline: stages with count and value per currency of their deals. */
int crm__pipeline(db_t *db, const char *tenant, json_t **out);

/* ---- app.c ------------------------------------------------------------------------ */

/* Who acts: the caller's tenant and user (user may be "" for service tokens). */
typedef struct crm_actor {
    const char *tenant;
    const char *user;
} crm_actor_t;

/* Every use case returns 0 or an ERR_*; on ERR_VALIDATION/ERR_CONFLICT
 * why (CRM_WHY bytes) says what. *out values are new references. */
void crm__now(char out[32]);
int crm__lead_create(db_t *db, const crm_actor_t *who, const json_t *input, unsigned mode,
                     const char *source, json_t **out, char *why);
int crm__lead_get(db_t *db, const crm_actor_t *who, const char *id, json_t **out);
int crm__lead_update(db_t *db, const crm_actor_t *who, const char *id, const json_t *input,
                     json_t **out, char *why);
int crm__lead_rescore(db_t *db, const crm_actor_t *who, const char *id, json_t **out);
int crm__lead_delete(db_t *db, const crm_actor_t *who, const char *id);
int crm__lead_convert(db_t *db, const crm_actor_t *who, const char *id, const json_t *input,
                      json_t **out, char *why);
int crm__lead_merge(db_t *db, const crm_actor_t *who, const char *id, const char *other_id,
                    json_t **out, char *why);
/* crm__lead_view: decorates a stored lead (score_breakdown, priority, next statuses). */
void crm__lead_view(json_t *lead);

/* Contacts, companies, deals, stages, activities: the generic use cases with
 * each entity's rules (references checked in the tenant, deal defaults and
 * stage events, activity parents, stage positions). */
int crm__create(db_t *db, const crm_actor_t *who, const crm_entity_t *e, const json_t *input,
                json_t **out, char *why);
int crm__update_one(db_t *db, const crm_actor_t *who, const crm_entity_t *e, const char *id,
                    const json_t *input, json_t **out, char *why);
int crm__delete_one(db_t *db, const crm_actor_t *who, const crm_entity_t *e, const char *id,
                    char *why);

/* ---- import.c ---------------------------------------------------------------------- */

/* The CSV columns of the lead export, in order (also accepted by the import). */
extern const char *const crm__csv_columns[];

typedef struct crm_import_report {
    int64_t rows, imported, failed, duplicates;
    json_t *errors; /* [{line, error}] (owned) */
} crm_import_report_t;

typedef void (*crm_progress_fn)(size_t done, size_t total, void *arg);

/* crm__import_csv: imports the leads of data[0..n) for who.tenant within
 * db's open transaction; bad rows are reported and skipped. commit_every >
 * 0 commits and re-opens the transaction every that many rows (the CLI).
 * Returns 0 or a database error (ERR_VALIDATION when the header is bad,
 * with why). */
int crm__import_csv(db_t *db, const crm_actor_t *who, const char *data, size_t n,
                    const char *source, int commit_every, crm_progress_fn progress, void *arg,
                    crm_import_report_t *rep, char *why);
/* crm__tenant_by_slug: the id of the tenant with slug (platform scope; opens
 * and ends its own transaction, so call it with none open). */
int crm__tenant_by_slug(db_t *db, const char *slug, char out[64]);
/* crm__export_csv: every lead of the tenant (filters as q) as CSV into b. */
int crm__export_csv(db_t *db, const char *tenant, buf_t *b);

#endif
