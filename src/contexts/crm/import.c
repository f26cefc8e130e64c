/* import.c — leads in and out as CSV: the import use case shared by
 * `POST /leads/import` and `bizosaas import leads FILE --tenant SLUG`, the
 * export, and the command itself (progress bar, per-line report, summary).
 *
 * The first record is the header: column names (any case) among
 * crm__csv_columns; the export's read-only columns (id, score, priority,
 * created_at, updated_at, converted_*) are accepted and ignored, so an
 * export can be imported again; any other column refuses the whole file.
 * Each later record is one lead, validated exactly like the JSON API (with
 * text values: "42" is a number, "seo;ppc" a list of services). A bad
 * record is reported with its line number and skipped; good records are
 * imported. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "crm.h"
#include "csv.h"
#include "err.h"
#include "internal.h"
#include "log.h"
#include "migrate.h"

const char *const crm__csv_columns[] = {"id", "name", "email", "phone", "company", "website",
                                        "company_size", "budget", "services", "message",
                                        "source", "status", "score", "owner_id", "created_at",
                                        NULL};

static const char *const ignored[] = {"id", "score", "priority", "created_at", "updated_at",
                                      "converted_contact_id", "converted_deal_id", NULL};

static bool in(const char *const *set, const char *s)
{
    for (; *set; set++)
        if (!strcmp(*set, s)) return true;
    return false;
}

static void report(crm_import_report_t *rep, size_t line, const char *msg)
{
    rep->failed++;
    json_array_append_new(rep->errors, json_pack("{s:I, s:s}", "line", (json_int_t)line, "error", msg));
}

/* cell_json: a CSV cell as a JSON string (NULL when it is not UTF-8), with
 * the apostrophe the export puts before formula-like text removed. */
static json_t *cell_json(const char *s, size_t n)
{
    if (n >= 2 && s[0] == '\'' && strchr("=@+-\t\r", s[1])) {
        s++;
        n--;
    }
    return json_stringn(s, n);
}

int crm__import_csv(db_t *db, const crm_actor_t *who, const char *data, size_t n,
                    const char *source, int commit_every, crm_progress_fn progress, void *arg,
                    crm_import_report_t *rep, char *why)
{
    memset(rep, 0, sizeof *rep);
    rep->errors = json_array();
    csv_reader_t r;
    csv_init(&r, data, n);
    int rc = csv_next(&r);
    if (rc <= 0) {
        snprintf(why, CRM_WHY, rc == 0 ? "the CSV is empty: a header line is required"
                                       : "the header line is not valid CSV: %s", r.why);
        csv_cleanup(&r);
        return ERR_VALIDATION;
    }
    size_t ncols = r.nfields;
    char *cols[CSV_FIELDS_MAX];
    bool skip[CSV_FIELDS_MAX];
    for (size_t i = 0; i < ncols; i++) {
        const char *h = csv_field(&r, i, NULL);
        while (*h == ' ')
            h++;
        cols[i] = strdup(h);
        for (char *p = cols[i]; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        size_t len = strlen(cols[i]);
        while (len && cols[i][len - 1] == ' ')
            cols[i][--len] = '\0';
        if (!strcmp(cols[i], "services_interested")) cols[i][8] = '\0';
        skip[i] = in(ignored, cols[i]);
        const crm_field_t *f = crm_field_find(&crm_lead_entity, cols[i]);
        if (!skip[i] && (!f || (f->flags & (CFF_SERVER | CFF_HIDDEN)))) {
            snprintf(why, CRM_WHY, "unknown column '%s' in the header (known: name, email, phone, "
                     "company, website, company_size, budget, services, message, source, status, "
                     "owner_id)", cols[i]);
            rc = ERR_VALIDATION;
        }
        for (size_t k = 0; k < i && rc >= 0; k++)
            if (!strcmp(cols[k], cols[i])) {
                snprintf(why, CRM_WHY, "column '%s' appears twice in the header", cols[i]);
                rc = ERR_VALIDATION;
            }
        if (rc < 0) {
            for (size_t k = 0; k <= i; k++)
                free(cols[k]);
            csv_cleanup(&r);
            return rc;
        }
    }
    rc = 0;
    int since_commit = 0;
    for (;;) {
        int got = csv_next(&r);
        if (got == 0) break;
        rep->rows++;
        if (progress) progress((size_t)(r.p - data), n, arg);
        if (got < 0) {
            report(rep, r.record_line, r.why);
            continue;
        }
        if (r.nfields != ncols) {
            char msg[96];
            snprintf(msg, sizeof msg, "the record has %zu fields; the header has %zu", r.nfields,
                     ncols);
            report(rep, r.record_line, msg);
            continue;
        }
        json_t *row = json_object();
        bool utf8 = true;
        for (size_t i = 0; i < ncols; i++) {
            if (skip[i]) continue;
            size_t len;
            const char *cell = csv_field(&r, i, &len);
            json_t *v = cell_json(cell, len);
            if (!v) utf8 = false;
            else json_object_set_new(row, cols[i], v);
        }
        if (!utf8) {
            json_decref(row);
            report(rep, r.record_line, "the record is not valid UTF-8");
            continue;
        }
        json_t *lead = NULL;
        char rwhy[CRM_WHY] = "";
        rc = crm__lead_create(db, who, row, CRM_V_TEXT, source, &lead, rwhy);
        json_decref(row);
        if (rc == ERR_VALIDATION) {
            report(rep, r.record_line, rwhy);
            rc = 0;
            continue;
        }
        if (rc < 0) break;
        rep->imported++;
        if (json_array_size(json_object_get(lead, "duplicates"))) rep->duplicates++;
        json_decref(lead);
        if (commit_every > 0 && ++since_commit >= commit_every) {
            since_commit = 0;
            if ((rc = db_commit(db)) < 0 || (rc = db_begin(db, who->tenant, true)) < 0) break;
        }
    }
    for (size_t i = 0; i < ncols; i++)
        free(cols[i]);
    csv_cleanup(&r);
    return rc;
}

static void write_lead(buf_t *b, const json_t *l)
{
    for (const char *const *c = crm__csv_columns; *c; c++) {
        if (c != crm__csv_columns) buf_append(b, ",", 1);
        json_t *v = json_object_get(l, *c);
        if (json_is_integer(v)) {
            char num[32];
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            csv_write_field(b, num);
        } else if (json_is_array(v)) {
            buf_t list;
            buf_init(&list);
            size_t k;
            json_t *s;
            json_array_foreach(v, k, s) {
                if (k) buf_append(&list, ";", 1);
                buf_append_str(&list, json_string_value(s));
            }
            csv_write_field(b, list.p);
            buf_cleanup(&list);
        } else {
            csv_write_field(b, json_string_value(v));
        }
    }
    buf_append(b, "\r\n", 2);
}

int crm__export_csv(db_t *db, const char *tenant, buf_t *b)
{
    for (const char *const *c = crm__csv_columns; *c; c++) {
        if (c != crm__csv_columns) buf_append(b, ",", 1);
        buf_append_str(b, *c);
    }
    buf_append(b, "\r\n", 2);
    char after[40] = "";
    for (bool more = true; more;) {
        crm_query_t q;
        crm__q_init(&q);
        q.limit = 500;
        q.desc = false;
        if (after[0]) {
            q.after = true;
            q.after_id = after;
        }
        json_t *items = json_array();
        int rc = crm__list(db, &crm_lead_entity, tenant, &q, items, &more);
        crm__q_cleanup(&q);
        size_t i;
        json_t *l;
        json_array_foreach(items, i, l) {
            write_lead(b, l);
            snprintf(after, sizeof after, "%s", json_string_value(json_object_get(l, "id")));
        }
        json_decref(items);
        if (rc < 0) return rc;
    }
    return 0;
}

/* ---- `bizosaas import leads FILE --tenant SLUG` ----------------------------------------- */

/* The rows of one transaction in the command: bounds the work lost to a
 * failure and keeps a huge file from holding one long write lock. */
#define IMPORT_BATCH 500

static void progress_bar(size_t done, size_t total, void *arg)
{
    int *last = arg;
    int pct = total ? (int)(done * 100 / total) : 100;
    if (pct == *last) return;
    *last = pct;
    char bar[41];
    int fill = pct * 40 / 100;
    for (int i = 0; i < 40; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[40] = '\0';
    fprintf(stderr, "\r[%s] %3d%%", bar, pct);
    fflush(stderr);
}

static int read_file(const char *path, char **data, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    buf_t b;
    buf_init(&b);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, got);
    int err = ferror(f);
    fclose(f);
    if (err) {
        buf_cleanup(&b);
        return -1;
    }
    *data = buf_release(&b, n);
    if (!*data) *data = calloc(1, 1);
    return 0;
}

/* tenant_by_slug: the tenant's id. identity.h has no lookup by slug yet,
 * so this reads identity's tenants table in platform scope — the one place
 * the CRM touches another context's table; move it behind identity.h when
 * that gains the call. */
int crm__tenant_by_slug(db_t *db, const char *slug, char out[64])
{
    int rc = db_begin_platform(db, false);
    if (rc < 0) return rc;
    char *id = NULL;
    rc = db_query_one_text(db, &id, "SELECT id FROM tenants WHERE slug = $1",
                           DB_ARGS(DB_TEXT(slug)));
    db_rollback(db);
    if (rc == 0) {
        snprintf(out, 64, "%s", id);
        free(id);
    }
    return rc;
}

int crm_import_main(int argc, char **argv, const config_t *cfg)
{
    const char *file = NULL, *slug = NULL, *source = "import";
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--tenant") && i + 1 < argc)
            slug = argv[++i];
        else if (!strcmp(argv[i], "--source") && i + 1 < argc)
            source = argv[++i];
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else
            file = NULL, slug = NULL, i = argc;
    }
    if (argc < 3 || strcmp(argv[2], "leads") || !file || !slug) {
        fprintf(stderr, "usage: bizosaas import leads FILE --tenant SLUG [--source NAME]\n");
        return 2;
    }
    char *data;
    size_t n;
    if (read_file(file, &data, &n) < 0) {
        fprintf(stderr, "bizosaas: cannot read %s: %s\n", file, strerror(errno));
        return 1;
    }
    char err[512], tenant[64];
    db_t *db = NULL;
    int code = 1;
    db_options_t dbo = {.connect_timeout_ms = (int)cfg->db_timeout_ms * 5};
    if (db_open(cfg->database_url, &dbo, &db, err, sizeof err) < 0) {
        fprintf(stderr, "bizosaas: cannot open the database: %s\n", err);
        goto out;
    }
    int pending = migrate_pending(db);
    if (pending > 0 && db_backend(db) == DB_SQLITE) pending = migrate_apply(db) < 0 ? -1 : 0;
    if (pending != 0) {
        fprintf(stderr, "bizosaas: the database schema is not current; run `bizosaas migrate`\n");
        goto out;
    }
    int rc = crm__tenant_by_slug(db, slug, tenant);
    if (rc < 0) {
        fprintf(stderr, "bizosaas: %s\n", rc == ERR_NOT_FOUND ? "no tenant with that slug"
                                                              : db_errmsg(db));
        goto out;
    }
    crm_actor_t who = {.tenant = tenant, .user = ""};
    crm_import_report_t rep;
    char why[CRM_WHY] = "";
    int last = -1;
    bool tty = isatty(STDERR_FILENO);
    if ((rc = db_begin(db, tenant, true)) == 0)
        rc = crm__import_csv(db, &who, data, n, source, IMPORT_BATCH, tty ? progress_bar : NULL,
                             &last, &rep, why);
    if (rc == 0) rc = db_commit(db);
    if (tty && last >= 0) fputc('\n', stderr);
    if (rc < 0) {
        db_rollback(db);
        if (rc == ERR_VALIDATION)
            fprintf(stderr, "bizosaas: %s: %s\n", file, why);
        else
            fprintf(stderr, "bizosaas: the import stopped: %s (rows before the last %d were "
                    "kept)\n", db_errmsg(db), IMPORT_BATCH);
        json_decref(rep.errors);
        goto out;
    }
    size_t i;
    json_t *e;
    json_array_foreach(rep.errors, i, e) {
        fprintf(stderr, "%s:%lld: %s\n", file, (long long)json_integer_value(json_object_get(e, "line")),
                json_string_value(json_object_get(e, "error")));
    }
    printf("imported %lld of %lld rows into tenant %s: %lld bad row(s) skipped, %lld flagged as "
           "possible duplicates\n",
           (long long)rep.imported, (long long)rep.rows, slug, (long long)rep.failed,
           (long long)rep.duplicates);
    code = rep.failed ? 1 : 0;
    json_decref(rep.errors);
out:
    db_close(db);
    free(data);
    return code;
}
