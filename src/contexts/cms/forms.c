/* forms.c — forms with a field schema, validated submissions.
 *
 * A form's fields are an ordered JSON array:
 *   {"name":"email","label":"E-mail","type":"email","required":true,"max_length":254}
 *   {"name":"services","label":"Services","type":"select","multiple":true,"choices":["seo",…]}
 * types: text, email, tel, number, select, textarea. A submission is
 * checked field by field (every message kept, so a form can show each next
 * to its field), normalized (trimmed text, numbers as numbers, a multiple
 * select as an array) and stored with the submitter's address. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cms.h"
#include "err.h"
#include "events/events.h"
#include "ids.h"
#include "internal.h"

#define FORM_FIELDS_MAX 50
#define FORM_CHOICES_MAX 50

static const char *const field_types[] = {"text", "email", "tel", "number", "select", "textarea", NULL};

static bool name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return false;
    return true;
}

/* schema_check: a field schema from the API → a normalized copy. */
static int schema_check(json_t *fields, arena_t *a, json_t **out, const char **why)
{
    if (!json_is_array(fields) || json_array_size(fields) == 0 ||
        json_array_size(fields) > FORM_FIELDS_MAX) {
        *why = "field 'fields' must be an array of 1 to 50 field definitions";
        return ERR_VALIDATION;
    }
    json_t *res = cms__own(a, json_array());
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        static const char *const keys[] = {"name", "label", "type", "required", "max_length",
                                           "choices", "multiple", "placeholder", NULL};
        const char *k;
        json_t *v;
        if (!json_is_object(f)) return *why = arena_printf(a, "fields[%zu] must be an object", i), ERR_VALIDATION;
        json_object_foreach(f, k, v)
        {
            bool ok = false;
            for (const char *const *p = keys; *p; p++) ok |= !strcmp(*p, k);
            if (!ok) return *why = arena_printf(a, "fields[%zu]: unknown field '%s'", i, k), ERR_VALIDATION;
        }
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *type = json_string_value(json_object_get(f, "type"));
        const char *label = json_string_value(json_object_get(f, "label"));
        const char *ph = json_string_value(json_object_get(f, "placeholder"));
        if (!name || !name_ok(name, 40) || name[0] == '_')
            return *why = arena_printf(a, "fields[%zu]: 'name' must be 1-40 of a-z 0-9 _ - (not starting with _)", i), ERR_VALIDATION;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(json_string_value(json_object_get(json_array_get(res, j), "name")), name))
                return *why = arena_printf(a, "fields[%zu]: duplicate name '%s'", i, name), ERR_VALIDATION;
        bool tok = false;
        for (const char *const *p = field_types; type && *p; p++) tok |= !strcmp(*p, type);
        if (!tok)
            return *why = arena_printf(a, "fields[%zu]: 'type' must be text, email, tel, number, select or textarea", i), ERR_VALIDATION;
        json_t *req = json_object_get(f, "required"), *ml = json_object_get(f, "max_length"),
               *mul = json_object_get(f, "multiple"), *ch = json_object_get(f, "choices");
        if ((req && !json_is_boolean(req)) || (mul && !json_is_boolean(mul)))
            return *why = arena_printf(a, "fields[%zu]: 'required' and 'multiple' are booleans", i), ERR_VALIDATION;
        int64_t dflt = !strcmp(type, "textarea") ? 5000 : !strcmp(type, "email") ? 254 : 200;
        if (ml && (!json_is_integer(ml) || json_integer_value(ml) < 1 || json_integer_value(ml) > 20000))
            return *why = arena_printf(a, "fields[%zu]: 'max_length' must be an integer 1..20000", i), ERR_VALIDATION;
        if (label && strlen(label) > 120) return *why = arena_printf(a, "fields[%zu]: 'label' is too long", i), ERR_VALIDATION;
        json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:I}", "name", name, "label", label ? label : name,
                              "type", type, "required", json_is_true(req), "max_length",
                              (json_int_t)(ml ? json_integer_value(ml) : dflt));
        if (ph) json_object_set_new(o, "placeholder", json_string(ph));
        json_array_append_new(res, o);
        if (!strcmp(type, "select")) {
            if (!json_is_array(ch) || json_array_size(ch) == 0 || json_array_size(ch) > FORM_CHOICES_MAX)
                return *why = arena_printf(a, "fields[%zu]: a select needs 'choices' (1 to 50 strings)", i), ERR_VALIDATION;
            size_t c;
            json_t *cv;
            json_array_foreach(ch, c, cv) if (!json_is_string(cv) || json_string_length(cv) == 0 ||
                                              json_string_length(cv) > 120) return *why = arena_printf(a, "fields[%zu]: choices must be non-empty strings", i),
                                                                              ERR_VALIDATION;
            json_object_set(o, "choices", ch);
            json_object_set_new(o, "multiple", json_boolean(json_is_true(mul)));
        } else if (ch || mul) {
            return *why = arena_printf(a, "fields[%zu]: only a select has choices", i), ERR_VALIDATION;
        }
    }
    *out = res;
    return 0;
}

#define FORM_COLS "id, slug, title, fields, success_message, created_at, updated_at"

static json_t *form_row(db_res_t *r)
{
    json_t *f = json_loads(db_res_text(r, 3), 0, NULL);
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:s}", "id", db_res_text(r, 0), "slug",
                     db_res_text(r, 1), "title", db_res_text(r, 2), "fields", f ? f : json_array(),
                     "success_message", db_res_text(r, 4), "created_at", db_res_text(r, 5),
                     "updated_at", db_res_text(r, 6));
}

int cms__form_get(db_t *db, const char *tenant, const char *slug, arena_t *a, json_t **out)
{
    db_res_t *r;
    int rc = db_query(db, &r, "SELECT " FORM_COLS " FROM cms_forms WHERE tenant_id = $1 AND slug = $2",
                      DB_ARGS(DB_TEXT(tenant), DB_TEXT(slug)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc == 1) *out = cms__own(a, form_row(r));
    db_res_free(r);
    return rc == 1 ? 0 : rc == 0 ? ERR_NOT_FOUND : rc;
}

int cms__form_list(db_t *db, const char *tenant, arena_t *a, json_t **items)
{
    db_res_t *r;
    int rc = db_query(db, &r, "SELECT " FORM_COLS " FROM cms_forms WHERE tenant_id = $1 ORDER BY slug",
                      DB_ARGS(DB_TEXT(tenant)));
    if (rc < 0) return rc;
    *items = cms__own(a, json_array());
    while ((rc = db_res_next(r)) == 1) json_array_append_new(*items, form_row(r));
    db_res_free(r);
    return rc < 0 ? rc : 0;
}

int cms__form_put(db_t *db, const char *tenant, const char *slug, json_t *body, bool create,
                  arena_t *a, json_t **out, const char **why)
{
    static const char *const keys[] = {"slug", "title", "fields", "success_message", NULL};
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        bool ok = false;
        for (const char *const *p = keys; *p; p++) ok |= !strcmp(*p, k);
        if (!ok) return *why = arena_printf(a, "unknown field '%s'", k), ERR_VALIDATION;
    }
    if (create) slug = json_string_value(json_object_get(body, "slug"));
    if (!slug || !name_ok(slug, 80)) return *why = "field 'slug' must be 1-80 of a-z 0-9 _ -", ERR_VALIDATION;
    const char *title = json_string_value(json_object_get(body, "title"));
    const char *msg = json_string_value(json_object_get(body, "success_message"));
    json_t *fields = json_object_get(body, "fields");
    if ((json_object_get(body, "title") && (!title || !*title || strlen(title) > CMS_TITLE_MAX)) ||
        (create && !title))
        return *why = "field 'title' is required (at most 200 bytes)", ERR_VALIDATION;
    if (json_object_get(body, "success_message") && (!msg || strlen(msg) > 2000))
        return *why = "field 'success_message' must be a string of at most 2000 bytes", ERR_VALIDATION;
    json_t *norm = NULL;
    if (fields || create) {
        int rc = schema_check(fields, a, &norm, why);
        if (rc < 0) return rc;
    }
    char *ftext = norm ? json_dumps(norm, JSON_COMPACT) : NULL;
    const char *now = cms__now(a);
    int rc;
    if (create) {
        char *id = arena_alloc(a, 40);
        id_uuidv7(id);
        rc = db_exec(db, NULL,
                     "INSERT INTO cms_forms (tenant_id, id, slug, title, fields, success_message, "
                     "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(id), DB_TEXT(slug), DB_TEXT(title), DB_TEXT(ftext),
                             DB_TEXT(msg ? msg : "Thank you! We will be in touch soon."), DB_TEXT(now)));
        if (rc == ERR_EXISTS) *why = "a form with this slug exists";
    } else {
        int64_t n = 0;
        rc = db_exec(db, &n,
                     "UPDATE cms_forms SET title = COALESCE($3, title), fields = COALESCE($4, fields), "
                     "success_message = COALESCE($5, success_message), updated_at = $6 "
                     "WHERE tenant_id = $1 AND slug = $2",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(slug), DB_TEXT(title), DB_TEXT(ftext), DB_TEXT(msg),
                             DB_TEXT(now)));
        if (rc == 0 && n == 0) rc = ERR_NOT_FOUND;
    }
    free(ftext);
    if (rc < 0) return rc;
    if ((rc = cms__site_bump(db, tenant)) < 0) return rc;
    return cms__form_get(db, tenant, slug, a, out);
}

/* ---- submissions ---- */

static bool email_ok(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@') || strlen(s) > 254) return false;
    const char *dot = strchr(at + 1, '.');
    if (!dot || dot == at + 1 || dot[1] == '\0' || s[strlen(s) - 1] == '.') return false;
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == '<' || *c == '>' || *c == '"' || *c == ',' || *c == ';')
            return false;
    return true;
}

static bool tel_ok(const char *s)
{
    int digits = 0;
    for (const char *c = s; *c; c++) {
        if (isdigit((unsigned char)*c))
            digits++;
        else if (!strchr(" +-().", *c))
            return false;
    }
    return digits >= 5 && digits <= 20;
}

static bool in_choices(json_t *choices, const char *v)
{
    size_t i;
    json_t *c;
    json_array_foreach(choices, i, c) if (!strcmp(json_string_value(c), v)) return true;
    return false;
}

/* trimmed: an arena copy of s without surrounding whitespace. */
static const char *trimmed(arena_t *a, const char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) n--;
    return arena_strndup(a, s, n);
}

/* check_field: one field's value → its normalized JSON (new reference), or
 * NULL with *msg set; *absent when there is nothing to store. */
static json_t *check_field(json_t *f, json_t *v, arena_t *a, const char **msg, bool *absent)
{
    const char *type = json_string_value(json_object_get(f, "type"));
    bool required = json_is_true(json_object_get(f, "required"));
    size_t max = (size_t)json_integer_value(json_object_get(f, "max_length"));
    *absent = false;
    if (!strcmp(type, "select") && json_is_true(json_object_get(f, "multiple"))) {
        json_t *arr = json_array();
        if (json_is_string(v) && *trimmed(a, json_string_value(v)))
            json_array_append_new(arr, json_string(trimmed(a, json_string_value(v))));
        else if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
            {
                if (!json_is_string(e)) {
                    json_decref(arr);
                    return *msg = "must be a list of choices", NULL;
                }
                json_array_append_new(arr, json_string(json_string_value(e)));
            }
        } else if (v && !json_is_null(v) && !json_is_string(v)) {
            json_decref(arr);
            return *msg = "must be a list of choices", NULL;
        }
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e) if (!in_choices(json_object_get(f, "choices"), json_string_value(e)))
        {
            json_decref(arr);
            return *msg = "is not one of the choices", NULL;
        }
        if (json_array_size(arr) == 0) {
            json_decref(arr);
            *absent = true;
            return required ? (*msg = "is required", NULL) : NULL;
        }
        return arr;
    }
    const char *s = NULL;
    if (json_is_string(v))
        s = trimmed(a, json_string_value(v));
    else if (json_is_number(v) && !strcmp(type, "number"))
        s = arena_printf(a, "%.17g", json_number_value(v));
    else if (v && !json_is_null(v))
        return *msg = "must be a string", NULL;
    if (!s || !*s) {
        *absent = true;
        return required ? (*msg = "is required", NULL) : NULL;
    }
    if (strlen(s) > max) return *msg = arena_printf(a, "is longer than %zu characters", max), NULL;
    if (!strcmp(type, "email") && !email_ok(s)) return *msg = "must be an e-mail address", NULL;
    if (!strcmp(type, "tel") && !tel_ok(s)) return *msg = "must be a telephone number", NULL;
    if (!strcmp(type, "select") && !in_choices(json_object_get(f, "choices"), s))
        return *msg = "is not one of the choices", NULL;
    if (!strcmp(type, "number")) {
        char *end;
        double d = strtod(s, &end);
        if (*end || !isfinite(d)) return *msg = "must be a number", NULL;
        if (d == (double)(int64_t)d && fabs(d) < 9e15) return json_integer((json_int_t)d);
        return json_real(d);
    }
    if (strchr(s, '\0') != s + strlen(s)) return *msg = "must be text", NULL;
    return json_string(s);
}

int cms_form_submit(db_t *db, const char *tenant_id, const char *form_slug, const json_t *fields,
                    const char *remote_addr, arena_t *a, json_t **submission_out)
{
    json_t *form;
    *submission_out = NULL;
    int rc = cms__form_get(db, tenant_id, form_slug, a, &form);
    if (rc < 0) return rc;
    json_t *schema = json_object_get(form, "fields");
    json_t *errors = cms__own(a, json_object());
    json_t *data = cms__own(a, json_object());
    const char *first = NULL;
    if (!json_is_object(fields)) {
        *submission_out = cms__own(a, json_pack("{s:s, s:{}}", "message", "the submission must be an object", "errors"));
        return ERR_VALIDATION;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)fields, k, v)
    {
        bool known = false;
        size_t i;
        json_t *f;
        json_array_foreach(schema, i, f) known |= !strcmp(json_string_value(json_object_get(f, "name")), k);
        if (!known) {
            json_object_set_new(errors, k, json_string("is not a field of this form"));
            if (!first) first = arena_printf(a, "field '%.40s' is not a field of this form", k);
        }
    }
    size_t i;
    json_t *f;
    json_array_foreach(schema, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *msg = NULL;
        bool absent;
        json_t *val = check_field(f, json_object_get(fields, name), a, &msg, &absent);
        if (msg) {
            json_object_set_new(errors, name, json_string(msg));
            if (!first) first = arena_printf(a, "field '%s' %s", name, msg);
        } else if (val) {
            json_object_set_new(data, name, val);
        }
    }
    if (first) {
        *submission_out = cms__own(a, json_pack("{s:s, s:O}", "message", first, "errors", errors));
        return ERR_VALIDATION;
    }
    char *id = arena_alloc(a, 40);
    id_uuidv7(id);
    const char *now = cms__now(a);
    char *text = json_dumps(data, JSON_COMPACT);
    rc = db_exec(db, NULL,
                 "INSERT INTO cms_submissions (tenant_id, id, form_id, data, remote_addr, created_at) "
                 "VALUES ($1, $2, $3, $4, $5, $6)",
                 DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(id), DB_TEXT(json_string_value(json_object_get(form, "id"))),
                         DB_TEXT(text), DB_TEXT(remote_addr ? remote_addr : ""), DB_TEXT(now)));
    free(text);
    if (rc < 0) return rc;
    /* in the same transaction: a consumer (the contact flow's lead) gets it
     * iff the submission committed, and is retried until it succeeds */
    rc = ev_raise_db(db, tenant_id, "form_submission", id, "FormSubmitted",
                     json_pack("{s:s, s:s, s:O, s:s, s:s}", "submission_id", id, "form", form_slug,
                               "data", data, "remote_addr", remote_addr ? remote_addr : "",
                               "created_at", now),
                     NULL);
    if (rc < 0) return rc;
    *submission_out = cms__own(a, json_pack("{s:s, s:s, s:O, s:s}", "id", id, "form", form_slug,
                                            "data", data, "created_at", now));
    return 0;
}

static json_t *submission_row(db_res_t *r, void *slug)
{
    json_t *d = json_loads(db_res_text(r, 1), 0, NULL);
    return json_pack("{s:s, s:s, s:o, s:s, s:s}", "id", db_res_text(r, 0), "form", (const char *)slug,
                     "data", d ? d : json_object(), "remote_addr", db_res_text(r, 2), "created_at",
                     db_res_text(r, 3));
}

int cms__submission_list(db_t *db, const char *tenant, const char *form_slug, const char *after,
                         int limit, arena_t *a, json_t *items, bool *more)
{
    json_t *form;
    int rc = cms__form_get(db, tenant, form_slug, a, &form);
    if (rc < 0) return rc;
    db_res_t *r;
    rc = db_query(db, &r,
                  "SELECT id, data, remote_addr, created_at FROM cms_submissions "
                  "WHERE tenant_id = $1 AND form_id = $2 AND ($3 = '' OR id < $3) "
                  "ORDER BY id DESC LIMIT $4",
                  DB_ARGS(DB_TEXT(tenant), DB_TEXT(json_string_value(json_object_get(form, "id"))),
                          DB_TEXT(after ? after : ""), DB_INT(limit + 1)));
    if (rc < 0) return rc;
    rc = db_res_page(r, limit, more, items, submission_row, (void *)form_slug);
    db_res_free(r);
    return rc;
}

/* ---- form handlers (cms_set_form_handler) ---- */

static struct {
    char slug[64];
    cms_form_handler_fn fn;
} form_handlers[CMS_FORM_HANDLERS];

void cms_set_form_handler(const char *slug, cms_form_handler_fn fn)
{
    for (size_t i = 0; i < CMS_FORM_HANDLERS; i++) {
        if (form_handlers[i].fn && strcmp(form_handlers[i].slug, slug) != 0) continue;
        snprintf(form_handlers[i].slug, sizeof form_handlers[i].slug, "%s", slug);
        form_handlers[i].fn = fn;
        return;
    }
    abort(); /* a programming error: more handlers than CMS_FORM_HANDLERS */
}

cms_form_handler_fn cms__form_handler(const char *slug)
{
    for (size_t i = 0; i < CMS_FORM_HANDLERS; i++)
        if (form_handlers[i].fn && !strcmp(form_handlers[i].slug, slug)) return form_handlers[i].fn;
    return NULL;
}
