/* repo.c — the CRM's SQL. Statements for the six entities are built from
 * their field tables (domain.c), so a new field is one table row plus a
 * migration column; the few queries with a shape of their own (duplicates,
 * merges, stages, the pipeline view) are written out below.
 *
 * Every statement filters on tenant_id, so SQLite is as strict as
 * PostgreSQL's row-level security. Column names come only from the static
 * field tables, never from input; values are always bound parameters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ids.h"
#include "internal.h"

#define MAX_PARAMS 48

void crm__q_init(crm_query_t *q)
{
    memset(q, 0, sizeof *q);
    buf_init(&q->where);
    buf_append_str(&q->where, "tenant_id = $1");
    q->n = 1; /* $1 is the tenant, bound by crm__list */
    q->sort = "id";
    q->limit = CRM_PAGE_DEFAULT;
}

void crm__q_cleanup(crm_query_t *q) { buf_cleanup(&q->where); }

void crm__q_where(crm_query_t *q, const char *clause, db_param_t param)
{
    if (q->n >= CRM_Q_MAX - 4) abort(); /* programming error: the filters are a fixed set */
    q->p[q->n++] = param;
    buf_append_str(&q->where, " AND ");
    buf_printf(&q->where, clause, (int)q->n);
}

/* cols: "id, f1, f2, …, created_at, updated_at" (hidden fields left out). */
static void cols(buf_t *b, const crm_entity_t *e)
{
    buf_append_str(b, "id");
    for (size_t i = 0; i < e->nfields; i++)
        if (!(e->fields[i].flags & CFF_HIDDEN)) buf_printf(b, ", %s", e->fields[i].name);
    buf_append_str(b, ", created_at, updated_at");
}

static json_t *row_json(db_res_t *r, void *arg)
{
    const crm_entity_t *e = arg;
    json_t *o = json_object();
    int c = 0;
    json_object_set_new(o, "id", json_string(db_res_text(r, c++)));
    for (size_t i = 0; i < e->nfields; i++) {
        const crm_field_t *f = &e->fields[i];
        if (f->flags & CFF_HIDDEN) continue;
        int col = c++;
        json_t *v;
        if (db_res_isnull(r, col))
            v = json_null();
        else if (f->type == CF_INT)
            v = json_integer(db_res_int(r, col));
        else if (f->type == CF_BOOL)
            v = json_boolean(db_res_int(r, col) != 0);
        else if (f->type == CF_LIST)
            v = json_loads(db_res_text(r, col), 0, NULL);
        else
            v = json_string(db_res_text(r, col));
        json_object_set_new(o, f->name, v ? v : json_null());
    }
    json_object_set_new(o, "created_at", json_string(db_res_text(r, c++)));
    json_object_set_new(o, "updated_at", json_string(db_res_text(r, c++)));
    return o;
}

/* param_of: a JSON value as a parameter; list values are dumped into
 * *owned (freed by the caller). */
static db_param_t param_of(const json_t *v, char **owned)
{
    *owned = NULL;
    if (!v || json_is_null(v)) return DB_NULL;
    if (json_is_integer(v)) return DB_INT(json_integer_value(v));
    if (json_is_boolean(v)) return DB_BOOL(json_is_true(v));
    if (json_is_string(v)) return DB_TEXT(json_string_value(v));
    *owned = json_dumps(v, JSON_COMPACT);
    return DB_TEXT(*owned);
}

static void free_all(char **owned, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(owned[i]);
}

int crm__insert(db_t *db, const crm_entity_t *e, const char *tenant, const char *id,
                const json_t *vals, const char *now)
{
    db_param_t p[MAX_PARAMS];
    char *owned[MAX_PARAMS] = {0};
    size_t n = 0;
    buf_t sql, values;
    buf_init(&sql);
    buf_init(&values);
    buf_append_str(&sql, "INSERT INTO ");
    buf_append_str(&sql, e->table);
    buf_append_str(&sql, " (tenant_id, id, created_at, updated_at");
    buf_append_str(&values, "$1, $2, $3, $3");
    p[n++] = DB_TEXT(tenant);
    p[n++] = DB_TEXT(id);
    p[n++] = DB_TEXT(now);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)vals, k, v) {
        if (!crm_field_find(e, k) || n >= MAX_PARAMS) continue;
        p[n] = param_of(v, &owned[n]);
        n++;
        buf_printf(&sql, ", %s", crm_field_find(e, k)->name);
        buf_printf(&values, ", $%zu", n);
    }
    buf_printf(&sql, ") VALUES (%s)", values.p);
    int rc = db_exec(db, NULL, sql.p, n, p);
    free_all(owned, n);
    buf_cleanup(&sql);
    buf_cleanup(&values);
    return rc;
}

int crm__update(db_t *db, const crm_entity_t *e, const char *tenant, const char *id,
                const json_t *vals, const char *now)
{
    db_param_t p[MAX_PARAMS];
    char *owned[MAX_PARAMS] = {0};
    size_t n = 0;
    buf_t sql;
    buf_init(&sql);
    buf_printf(&sql, "UPDATE %s SET updated_at = $3", e->table);
    p[n++] = DB_TEXT(tenant);
    p[n++] = DB_TEXT(id);
    p[n++] = DB_TEXT(now);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)vals, k, v) {
        if (!crm_field_find(e, k) || n >= MAX_PARAMS) continue;
        p[n] = param_of(v, &owned[n]);
        n++;
        buf_printf(&sql, ", %s = $%zu", crm_field_find(e, k)->name, n);
    }
    buf_append_str(&sql, " WHERE tenant_id = $1 AND id = $2");
    int64_t changed = 0;
    int rc = db_exec(db, &changed, sql.p, n, p);
    free_all(owned, n);
    buf_cleanup(&sql);
    return rc == 0 && changed == 0 ? ERR_NOT_FOUND : rc;
}

int crm__get(db_t *db, const crm_entity_t *e, const char *tenant, const char *id, bool lock,
             json_t **out)
{
    *out = NULL;
    if (!id_is_uuid(id, strlen(id))) return ERR_NOT_FOUND;
    buf_t sql;
    buf_init(&sql);
    buf_append_str(&sql, "SELECT ");
    cols(&sql, e);
    buf_printf(&sql, " FROM %s WHERE tenant_id = $1 AND id = $2", e->table);
    if (lock && db_backend(db) == DB_POSTGRES) buf_append_str(&sql, " FOR UPDATE");
    db_res_t *r;
    int rc = db_query(db, &r, sql.p, DB_ARGS(DB_TEXT(tenant), DB_TEXT(id)));
    buf_cleanup(&sql);
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc == 1) *out = row_json(r, (void *)e);
    db_res_free(r);
    return rc == 1 ? 0 : rc == 0 ? ERR_NOT_FOUND : rc;
}

int crm__delete(db_t *db, const crm_entity_t *e, const char *tenant, const char *id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE tenant_id = $1 AND id = $2", e->table);
    int64_t n = 0;
    int rc = db_exec(db, &n, sql, DB_ARGS(DB_TEXT(tenant), DB_TEXT(id)));
    return rc == 0 && n == 0 ? ERR_NOT_FOUND : rc;
}

int crm__exists(db_t *db, const char *table, const char *tenant, const char *id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s WHERE tenant_id = $1 AND id = $2", table);
    int64_t n = 0;
    int rc = db_query_one_int(db, &n, sql, DB_ARGS(DB_TEXT(tenant), DB_TEXT(id)));
    return rc < 0 ? rc : n > 0;
}

int crm__find_id(db_t *db, const char *table, const char *tenant, const char *column,
                 const char *value, char *out)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT id FROM %s WHERE tenant_id = $1 AND %s = $2 ORDER BY id LIMIT 1", table,
             column);
    char *id = NULL;
    int rc = db_query_one_text(db, &id, sql, DB_ARGS(DB_TEXT(tenant), DB_TEXT(value)));
    if (rc == 0) {
        snprintf(out, ID_UUID_LEN + 1, "%s", id);
        free(id);
    }
    return rc;
}

int crm__delete_where(db_t *db, const char *table, const char *tenant, const char *column,
                      const char *value)
{
    char sql[160];
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE tenant_id = $1 AND %s = $2", table, column);
    return db_exec(db, NULL, sql, DB_ARGS(DB_TEXT(tenant), DB_TEXT(value)));
}

int crm__count(db_t *db, const char *table, const char *tenant, const char *column,
               const char *value, int64_t *out)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s WHERE tenant_id = $1 AND %s = $2", table,
             column);
    return db_query_one_int(db, out, sql, DB_ARGS(DB_TEXT(tenant), DB_TEXT(value)));
}

int crm__list(db_t *db, const crm_entity_t *e, const char *tenant, crm_query_t *q,
              json_t *items, bool *more)
{
    q->p[0] = DB_TEXT(tenant);
    const char *dir = q->desc ? "DESC" : "ASC", *cmp = q->desc ? "<" : ">";
    if (q->after) {
        if (!strcmp(q->sort, "id")) {
            q->p[q->n++] = DB_TEXT(q->after_id);
            buf_printf(&q->where, " AND id %s $%zu", cmp, q->n);
        } else {
            q->p[q->n++] = strcmp(q->sort, "score") ? DB_TEXT(q->after_text) : DB_INT(q->after_int);
            q->p[q->n++] = DB_TEXT(q->after_id);
            buf_printf(&q->where, " AND (%s %s $%zu OR (%s = $%zu AND id %s $%zu))", q->sort, cmp,
                       q->n - 1, q->sort, q->n - 1, cmp, q->n);
        }
    }
    q->p[q->n++] = DB_INT(q->limit + 1);
    buf_t sql;
    buf_init(&sql);
    buf_append_str(&sql, "SELECT ");
    cols(&sql, e);
    buf_printf(&sql, " FROM %s WHERE %s ORDER BY ", e->table, q->where.p);
    if (strcmp(q->sort, "id")) buf_printf(&sql, "%s %s, ", q->sort, dir);
    buf_printf(&sql, "id %s LIMIT $%zu", dir, q->n);
    db_res_t *r;
    int rc = db_query(db, &r, sql.p, q->n, q->p);
    buf_cleanup(&sql);
    if (rc < 0) return rc;
    rc = db_res_page(r, q->limit, more, items, row_json, (void *)e);
    db_res_free(r);
    return rc;
}

/* ---- leads ----------------------------------------------------------------------------- */

int crm__lead_duplicates(db_t *db, const char *tenant, const char *except_id, const char *email,
                         const char *phone_norm, json_t **out)
{
    *out = json_array();
    if ((!email || !*email) && (!phone_norm || !*phone_norm)) return 0;
    db_res_t *r;
    /* two lookups, one per index: with "email = $3 OR phone_norm = $4"
     * SQLite scans every lead of the tenant (one OR term per index is not
     * planned as a union), which makes an import quadratic; no ORDER BY
     * either, or the primary key is chosen for the order. E-mail matches
     * come first. */
    int rc = db_query(db, &r,
                      "SELECT id, 'email' FROM crm_leads WHERE tenant_id = $1 AND email = $3 "
                      "AND id <> $2 "
                      "UNION ALL "
                      "SELECT id, 'phone' FROM crm_leads WHERE tenant_id = $1 AND "
                      "phone_norm = $4 AND id <> $2 AND (email IS NULL OR email <> $3) "
                      "LIMIT 20",
                      DB_ARGS(DB_TEXT(tenant), DB_TEXT(except_id ? except_id : ""),
                              DB_TEXT(email && *email ? email : "\x01"),
                              DB_TEXT(phone_norm && *phone_norm ? phone_norm : "\x01")));
    if (rc < 0) return rc;
    while ((rc = db_res_next(r)) == 1)
        json_array_append_new(*out, json_pack("{s:s, s:s}", "id", db_res_text(r, 0), "match",
                                              db_res_text(r, 1)));
    db_res_free(r);
    return rc;
}

int crm__reassign(db_t *db, const char *table, const char *column, const char *tenant,
                  const char *from_id, const char *to_id, int64_t *affected)
{
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE %s SET %s = $3 WHERE tenant_id = $1 AND %s = $2", table,
             column, column);
    return db_exec(db, affected, sql, DB_ARGS(DB_TEXT(tenant), DB_TEXT(from_id), DB_TEXT(to_id)));
}

int crm__merge_record(db_t *db, const char *tenant, const char *target_id, const json_t *merged,
                      int64_t activities, const char *actor, const char *now)
{
    char id[ID_UUID_LEN + 1];
    id_uuidv7(id);
    char *text = json_dumps(merged, JSON_COMPACT);
    int rc = db_exec(db, NULL,
                     "INSERT INTO crm_lead_merges (tenant_id, id, target_id, merged_id, merged, "
                     "activities, actor_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(id), DB_TEXT(target_id),
                             DB_TEXT(json_string_value(json_object_get(merged, "id"))),
                             DB_TEXT(text), DB_INT(activities),
                             DB_TEXT(actor && *actor ? actor : NULL), DB_TEXT(now)));
    free(text);
    return rc;
}

int crm__merges_of(db_t *db, const char *tenant, const char *target_id, json_t **out)
{
    *out = json_array();
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT id, merged_id, merged, activities, actor_id, created_at FROM "
                      "crm_lead_merges WHERE tenant_id = $1 AND target_id = $2 ORDER BY id",
                      DB_ARGS(DB_TEXT(tenant), DB_TEXT(target_id)));
    if (rc < 0) return rc;
    while ((rc = db_res_next(r)) == 1) {
        json_t *merged = json_loads(db_res_text(r, 2), 0, NULL);
        json_array_append_new(
            *out, json_pack("{s:s, s:s, s:o, s:I, s:s?, s:s}", "id", db_res_text(r, 0),
                            "merged_id", db_res_text(r, 1), "merged", merged ? merged : json_null(),
                            "activities_moved", (json_int_t)db_res_int(r, 3), "actor_id",
                            db_res_text(r, 4), "created_at", db_res_text(r, 5)));
    }
    db_res_free(r);
    return rc;
}

/* ---- pipeline stages -------------------------------------------------------------------- */

static const struct default_stage {
    const char *name, *kind;
    int probability;
} default_stages[] = {
    {"Prospecting", "open", 10}, {"Qualification", "open", 25}, {"Proposal", "open", 50},
    {"Negotiation", "open", 75}, {"Closed Won", "won", 100},    {"Closed Lost", "lost", 0},
};

int crm__stages_seed(db_t *db, const char *tenant, const char *now)
{
    /* the marker row makes seeding happen once per tenant, also when two
     * requests race (the second waits on the first's insert, then sees it) */
    int64_t n = 0;
    int rc = db_exec(db, &n,
                     "INSERT INTO crm_tenants (tenant_id, stages_seeded) VALUES ($1, $2) "
                     "ON CONFLICT (tenant_id) DO NOTHING",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(now)));
    if (rc < 0 || n == 0) return rc;
    for (size_t i = 0; i < sizeof default_stages / sizeof default_stages[0]; i++) {
        char id[ID_UUID_LEN + 1];
        id_uuidv7(id);
        rc = db_exec(db, NULL,
                     "INSERT INTO crm_stages (tenant_id, id, name, position, probability, kind, "
                     "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(id), DB_TEXT(default_stages[i].name),
                             DB_INT(i + 1), DB_INT(default_stages[i].probability),
                             DB_TEXT(default_stages[i].kind), DB_TEXT(now)));
        if (rc < 0) return rc;
    }
    return 0;
}

int crm__stages_list(db_t *db, const char *tenant, json_t **out)
{
    *out = json_array();
    crm_query_t q;
    crm__q_init(&q);
    q.limit = 1000;
    bool more;
    /* by position: a small table, sorted here rather than a sort key more */
    int rc = crm__list(db, &crm_stage_entity, tenant, &q, *out, &more);
    crm__q_cleanup(&q);
    if (rc < 0) return rc;
    size_t n = json_array_size(*out);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0; j--) {
            json_t *a = json_array_get(*out, j - 1), *b = json_array_get(*out, j);
            if (json_integer_value(json_object_get(a, "position")) <=
                json_integer_value(json_object_get(b, "position")))
                break;
            json_incref(a);
            json_array_set(*out, j - 1, b);
            json_array_set_new(*out, j, a);
        }
    return 0;
}

int crm__stage_shift(db_t *db, const char *tenant, int64_t from, const char *except_id)
{
    return db_exec(db, NULL,
                   "UPDATE crm_stages SET position = position + 1 WHERE tenant_id = $1 AND "
                   "position >= $2 AND id <> $3",
                   DB_ARGS(DB_TEXT(tenant), DB_INT(from), DB_TEXT(except_id ? except_id : "")));
}

int crm__stage_next_position(db_t *db, const char *tenant, int64_t *out)
{
    return db_query_one_int(db, out,
                            "SELECT COALESCE(MAX(position), 0) + 1 FROM crm_stages WHERE "
                            "tenant_id = $1",
                            DB_ARGS(DB_TEXT(tenant)));
}

int crm__pipeline(db_t *db, const char *tenant, json_t **out)
{
    int rc = crm__stages_list(db, tenant, out);
    if (rc < 0) return rc;
    size_t i;
    json_t *s;
    json_array_foreach(*out, i, s) {
        json_object_set_new(s, "count", json_integer(0));
        json_object_set_new(s, "value_minor", json_object());
    }
    db_res_t *r;
    rc = db_query(db, &r,
                  "SELECT stage_id, currency, COUNT(*), SUM(value_minor) FROM crm_deals WHERE "
                  "tenant_id = $1 GROUP BY stage_id, currency ORDER BY stage_id, currency",
                  DB_ARGS(DB_TEXT(tenant)));
    if (rc < 0) return rc;
    while ((rc = db_res_next(r)) == 1) {
        json_array_foreach(*out, i, s) {
            if (strcmp(json_string_value(json_object_get(s, "id")), db_res_text(r, 0))) continue;
            json_int_t c = json_integer_value(json_object_get(s, "count"));
            json_object_set_new(s, "count", json_integer(c + db_res_int(r, 2)));
            json_object_set_new(json_object_get(s, "value_minor"), db_res_text(r, 1),
                                json_integer(db_res_int(r, 3)));
        }
    }
    db_res_free(r);
    return rc;
}
