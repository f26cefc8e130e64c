/* migrate.c — applies the embedded, numbered SQL migrations (see migrate.h).
 *
 * The build turns migrations/<backend>/NNNN_name.sql into a table returned
 * by migrate__embedded(). Each pending migration runs in its own transaction
 * together with the INSERT that records it in schema_migrations, so a
 * migration is either fully applied and recorded or not at all.
 *
 * PostgreSQL: migrations run in platform scope (row-level security must not
 * hide rows a data migration touches) and each transaction first takes a
 * transaction-scoped advisory lock, then re-checks whether its migration is
 * still pending: two processes starting at once serialize, and the second
 * one skips what the first applied. SQLite needs no lock: BEGIN IMMEDIATE
 * already admits one writer at a time.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "db_internal.h"
#include "err.h"
#include "log.h"
#include "migrate.h"

/* MIGRATE_LOCK_KEY: the advisory lock id ("bizosaas" in ASCII). */
#define MIGRATE_LOCK_KEY INT64_C(0x62697a6f73616173)

typedef struct applied {
    int version;
    char *name;
    char *at;
} applied_t;

const migration_t *migrate_list(db_backend_t backend, size_t *count)
{
    return migrate__embedded(backend, count);
}

static int table_exists(db_t *db, bool *exists)
{
    const char *sql =
        db_backend(db) == DB_POSTGRES
            ? "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 ELSE 1 END"
            : "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
              "'schema_migrations'";
    int64_t n = 0;
    int rc = db_query_one_int(db, &n, sql, DB_NOARGS);
    *exists = n > 0;
    return rc;
}

static void free_applied(applied_t *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].name);
        free(a[i].at);
    }
    free(a);
}

/* load_applied: the recorded migrations in version order (none when the
 * table does not exist yet). The caller frees *out with free_applied. */
static int load_applied(db_t *db, applied_t **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    bool exists;
    int rc = table_exists(db, &exists);
    if (rc < 0 || !exists) return rc;
    db_res_t *r;
    rc =
        db_query(db, &r, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version",
                 DB_NOARGS);
    if (rc < 0) return rc;
    size_t n = 0, cap = 0;
    applied_t *a = NULL;
    while ((rc = db_res_next(r)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            a = xrealloc(a, cap * sizeof *a);
        }
        a[n++] = (applied_t){(int)db_res_int(r, 0), xstrdup(db_res_text(r, 1)),
                             xstrdup(db_res_text(r, 2))};
    }
    db_res_free(r);
    if (rc < 0) {
        free_applied(a, n);
        return rc;
    }
    *out = a;
    *count = n;
    return 0;
}

static const applied_t *find_applied(const applied_t *a, size_t n, int version)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].version == version) return &a[i];
    return NULL;
}

/* lock: serializes migrating processes (PostgreSQL; a no-op on SQLite). */
static int lock(db_t *db)
{
    if (db_backend(db) != DB_POSTGRES) return 0;
    return db_exec(db, NULL, "SELECT pg_advisory_xact_lock($1)", DB_ARGS(DB_INT(MIGRATE_LOCK_KEY)));
}

static int ensure_table(db_t *db)
{
    int rc = db_begin_platform(db, true);
    if (rc < 0) return rc;
    rc = lock(db);
    if (rc == 0)
        rc = db_exec(db, NULL,
                     "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                     "name TEXT NOT NULL, applied_at TEXT NOT NULL)",
                     DB_NOARGS);
    if (rc == 0) return db_commit(db);
    db_rollback(db);
    return rc;
}

/* apply_one: 1 when applied, 0 when another process applied it first, <0. */
static int apply_one(db_t *db, const migration_t *m)
{
    int rc = db_begin_platform(db, true);
    if (rc < 0) return rc;
    int64_t done = 0;
    rc = lock(db);
    if (rc == 0)
        rc =
            db_query_one_int(db, &done, "SELECT count(*) FROM schema_migrations WHERE version = $1",
                             DB_ARGS(DB_INT(m->version)));
    if (rc == 0 && done) {
        db_rollback(db);
        return 0;
    }
    if (rc == 0) rc = db_exec_script(db, m->sql);
    if (rc == 0) {
        char buf[32];
        const char *at = buf; /* a pointer: DB_TEXT() of an array trips -Waddress */
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        rc =
            db_exec(db, NULL,
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    DB_ARGS(DB_INT(m->version), DB_TEXT(m->name), DB_TEXT(at)));
    }
    if (rc == 0) rc = db_commit(db);
    if (rc < 0) {
        log_error("migration %s failed and was rolled back: %s", m->name, db_errmsg(db));
        db_rollback(db);
        return rc;
    }
    log_info("migration %s applied", m->name);
    return 1;
}

int migrate__apply_list(db_t *db, const migration_t *list, size_t count)
{
    int rc = ensure_table(db);
    if (rc < 0) {
        log_error("cannot create schema_migrations: %s", db_errmsg(db));
        return rc;
    }
    applied_t *a;
    size_t na;
    rc = load_applied(db, &a, &na);
    if (rc < 0) return rc;
    int applied = 0;
    for (size_t i = 0; i < count && rc >= 0; i++) {
        if (find_applied(a, na, list[i].version)) continue;
        rc = apply_one(db, &list[i]);
        if (rc > 0) applied++;
    }
    free_applied(a, na);
    return rc < 0 ? rc : applied;
}

int migrate_apply(db_t *db)
{
    size_t n;
    const migration_t *list = migrate_list(db_backend(db), &n);
    return migrate__apply_list(db, list, n);
}

int migrate_pending(db_t *db)
{
    size_t n;
    const migration_t *list = migrate_list(db_backend(db), &n);
    applied_t *a;
    size_t na;
    int rc = load_applied(db, &a, &na);
    if (rc < 0) return rc;
    int pending = 0;
    for (size_t i = 0; i < n; i++)
        if (!find_applied(a, na, list[i].version)) pending++;
    free_applied(a, na);
    return pending;
}

int migrate_status(db_t *db, FILE *out)
{
    size_t n;
    const migration_t *list = migrate_list(db_backend(db), &n);
    applied_t *a;
    size_t na;
    int rc = load_applied(db, &a, &na);
    if (rc < 0) return rc;
    for (size_t i = 0; i < n; i++) {
        const applied_t *ap = find_applied(a, na, list[i].version);
        if (ap)
            fprintf(out, "%04d %s applied %s\n", list[i].version, list[i].name, ap->at);
        else
            fprintf(out, "%04d %s pending\n", list[i].version, list[i].name);
    }
    /* A newer build may have applied migrations this one does not know. */
    for (size_t i = 0; i < na; i++) {
        bool known = false;
        for (size_t j = 0; j < n && !known; j++)
            known = list[j].version == a[i].version;
        if (!known)
            fprintf(out, "%04d %s applied %s (unknown to this build)\n", a[i].version, a[i].name,
                    a[i].at);
    }
    free_applied(a, na);
    return 0;
}
