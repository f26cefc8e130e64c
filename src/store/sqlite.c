/* sqlite.c — the SQLite backend of db.h (the embedded default).
 *
 * A connection is one sqlite3 handle opened in WAL mode (readers never block
 * the writer), with foreign keys on and a busy timeout so concurrent writers
 * queue instead of failing at once.
 *
 * SQL arrives with PostgreSQL's $1..$n placeholders. SQLite reads "$1" as a
 * *named* parameter numbered by order of first appearance, so "$2 ... $1"
 * would bind backwards; each $N outside string literals, quoted identifiers
 * and comments is rewritten to ?N (same length), which SQLite numbers
 * literally.
 *
 * Prepared statements are cached per connection, keyed by the SQL text as
 * the caller wrote it (so a hit costs a hash and a strcmp, no rewrite), up to
 * SQ_CACHE_MAX entries with least-recently-used eviction. A statement held by
 * an open result is "busy"; running the same SQL again meanwhile (nested
 * loops) prepares a private copy that is finalized after use.
 *
 * db_query() steps the first row eagerly, so errors such as a unique
 * violation on INSERT ... RETURNING surface from db_query() as on
 * PostgreSQL, not from the first db_res_next().
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "db_internal.h"
#include "err.h"
#include "str.h"

#define SQ_CACHE_MAX 64

typedef struct stmt_slot {
    uint64_t hash;
    char *sql; /* the caller's text ($N form); owned */
    sqlite3_stmt *stmt;
    uint64_t last_used;
    bool busy; /* held by an open result */
} stmt_slot_t;

typedef struct sq_db {
    struct db base;
    sqlite3 *h;
    stmt_slot_t cache[SQ_CACHE_MAX];
    size_t ncache;
    uint64_t tick;
} sq_db_t;

typedef struct sq_res {
    struct db_res base;
    sqlite3_stmt *stmt;
    stmt_slot_t *slot; /* NULL: stmt is private and finalized on free */
    bool pending;      /* the first row was stepped by db_query, not yet seen */
    bool on_row;
    bool done;
} sq_res_t;

static sq_db_t *sq(db_t *db)
{
    return (sq_db_t *)db;
}
static const sq_db_t *sq_c(const db_t *db)
{
    return (const sq_db_t *)db;
}

/* fail: records the handle's last error and maps it to an ERR_* code. */
static int fail(sq_db_t *s, const char *what)
{
    int ext = sqlite3_extended_errcode(s->h);
    db__set_err(&s->base, "sqlite %s: %s (code %d)", what, sqlite3_errmsg(s->h), ext);
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) return ERR_EXISTS;
    int prim = ext & 0xff;
    if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) return ERR_CONFLICT;
    return ERR_DB;
}

/* ---- opening ------------------------------------------------------------ */

/* make_parents: mkdir -p of the directory part of path, mode 0700 (the data
 * directory holds secrets as well as the database). */
static int make_parents(const char *path, char *errbuf, size_t errlen)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1;; p++) {
            if (*p != '/' && *p != '\0') continue;
            char saved = *p;
            *p = '\0';
            if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                db__errf(errbuf, errlen, "cannot create directory %s: %s", dir, strerror(errno));
                rc = ERR_IO;
                break;
            }
            *p = saved;
            if (saved == '\0') break;
        }
    }
    free(dir);
    return rc;
}

static int sq_open(const char *url, int timeout_ms, bool no_wait, db_t **out, char *errbuf,
                   size_t errlen)
{
    const char *path = url + strlen("sqlite:");
    if (*path == '\0') {
        db__errf(errbuf, errlen,
                 "database URL \"sqlite:\" names no file (use sqlite:PATH or sqlite::memory:)");
        return ERR_CONFIG;
    }
    bool memory = strcmp(path, ":memory:") == 0;
    if (!memory) {
        int rc = make_parents(path, errbuf, errlen);
        if (rc < 0) return rc;
    }
    sqlite3 *h = NULL;
    /* NOMUTEX: a connection is used by one thread at a time (db.h). */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &h, flags, NULL);
    if (rc != SQLITE_OK) {
        db__errf(errbuf, errlen, "cannot open sqlite database %s: %s", path,
                 h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
        sqlite3_close(h);
        return ERR_DB_UNAVAILABLE;
    }
    sqlite3_extended_result_codes(h, 1);
    sqlite3_busy_timeout(h, timeout_ms);
    /* synchronous=NORMAL is durable against process crashes in WAL mode
     * (only an OS crash can lose the last commits) and avoids an fsync per
     * commit. */
    static const char setup[] = "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; "
                                "PRAGMA synchronous=NORMAL;";
    char *msg = NULL;
    if (sqlite3_exec(h, setup, NULL, NULL, &msg) != SQLITE_OK) {
        db__errf(errbuf, errlen, "cannot configure sqlite database %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(h);
        return ERR_DB_UNAVAILABLE;
    }
    /* The setup above may wait; from now on an I/O-thread reader must not. */
    if (no_wait) sqlite3_busy_timeout(h, 0);
    sq_db_t *s = xcalloc(1, sizeof *s);
    s->h = h;
    *out = &s->base;
    return 0;
}

static void sq_close(db_t *db)
{
    sq_db_t *s = sq(db);
    for (size_t i = 0; i < s->ncache; i++) {
        sqlite3_finalize(s->cache[i].stmt);
        free(s->cache[i].sql);
    }
    /* close_v2 defers the close if a caller leaked a private statement. */
    sqlite3_close_v2(s->h);
    free(s);
}

/* ---- statements ---------------------------------------------------------- */

/* rewrite_params: copies sql with every $N placeholder turned into ?N,
 * leaving string literals, quoted identifiers and comments alone. */
static char *rewrite_params(const char *sql)
{
    char *out = xstrdup(sql);
    for (char *p = out; *p; p++) {
        char c = *p;
        if (c == '\'' || c == '"' || c == '`' || c == '[') {
            char close = c == '[' ? ']' : c;
            /* A doubled quote inside a literal is an escaped quote: the scan
             * leaves and re-enters the literal, which is equivalent. */
            p++;
            while (*p && *p != close)
                p++;
            if (!*p) break;
        } else if (c == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
            if (!*p) break;
        } else if (c == '/' && p[1] == '*') {
            p += 2;
            while (*p && !(p[0] == '*' && p[1] == '/'))
                p++;
            if (!*p) break;
            p++;
        } else if (c == '$' && p[1] >= '0' && p[1] <= '9') {
            *p = '?';
        }
    }
    return out;
}

static int prepare(sq_db_t *s, const char *sql, bool persistent, sqlite3_stmt **out)
{
    char *text = rewrite_params(sql);
    const char *tail = NULL;
    int rc =
        sqlite3_prepare_v3(s->h, text, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0, out, &tail);
    if (rc != SQLITE_OK) {
        free(text);
        return fail(s, "prepare");
    }
    while (tail &&
           (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == '\r' || *tail == ';'))
        tail++;
    bool extra = tail && *tail;
    free(text);
    if (*out == NULL || extra) {
        sqlite3_finalize(*out);
        *out = NULL;
        db__set_err(&s->base, "sqlite prepare: %s",
                    extra ? "more than one statement (use db_exec_script)" : "empty statement");
        return ERR_DB;
    }
    return 0;
}

/* acquire: a ready statement for sql, from the cache when possible. *slot
 * is NULL when the statement is private to this use. */
static int acquire(sq_db_t *s, const char *sql, sqlite3_stmt **stmt, stmt_slot_t **slot)
{
    uint64_t h = str_hash_cstr(sql);
    *slot = NULL;
    bool taken = false;
    for (size_t i = 0; i < s->ncache; i++) {
        stmt_slot_t *e = &s->cache[i];
        if (e->hash != h || strcmp(e->sql, sql) != 0) continue;
        if (e->busy) {
            taken = true;
            break;
        }
        e->busy = true;
        e->last_used = ++s->tick;
        *stmt = e->stmt;
        *slot = e;
        return 0;
    }
    int rc = prepare(s, sql, !taken, stmt);
    if (rc < 0 || taken) return rc;

    stmt_slot_t *e = NULL;
    if (s->ncache < SQ_CACHE_MAX) {
        e = &s->cache[s->ncache++];
    } else {
        for (size_t i = 0; i < SQ_CACHE_MAX; i++) {
            stmt_slot_t *c = &s->cache[i];
            if (!c->busy && (!e || c->last_used < e->last_used)) e = c;
        }
        if (!e) return 0; /* every slot is in use: stay private */
        sqlite3_finalize(e->stmt);
        free(e->sql);
    }
    *e = (stmt_slot_t){
        .hash = h, .sql = xstrdup(sql), .stmt = *stmt, .last_used = ++s->tick, .busy = true};
    *slot = e;
    return 0;
}

static void release(sqlite3_stmt *stmt, stmt_slot_t *slot)
{
    if (!slot) {
        sqlite3_finalize(stmt);
        return;
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    slot->busy = false;
}

/* bind: binds params 1..n. copy=true makes SQLite copy text, needed when the
 * statement outlives the call (lazily stepped query results). */
static int bind(sq_db_t *s, sqlite3_stmt *stmt, size_t n, const db_param_t *p, bool copy)
{
    int want = sqlite3_bind_parameter_count(stmt);
    if ((size_t)want != n) {
        db__set_err(&s->base, "sqlite bind: the statement uses %d parameter(s) but %zu were given",
                    want, n);
        return ERR_DB;
    }
    for (size_t i = 0; i < n; i++) {
        int idx = (int)i + 1, rc = SQLITE_OK;
        switch (p[i].type) {
        case DBP_NULL:
            rc = sqlite3_bind_null(stmt, idx);
            break;
        case DBP_TEXT: {
            size_t len = p[i].len ? p[i].len : strlen(p[i].s);
            rc = sqlite3_bind_text64(stmt, idx, p[i].s, len,
                                     copy ? SQLITE_TRANSIENT : SQLITE_STATIC, SQLITE_UTF8);
            break;
        }
        case DBP_INT:
        case DBP_BOOL:
            rc = sqlite3_bind_int64(stmt, idx, p[i].i);
            break;
        }
        if (rc != SQLITE_OK) return fail(s, "bind");
    }
    return 0;
}

static int sq_exec(db_t *db, int64_t *affected, const char *sql, size_t n, const db_param_t *p)
{
    sq_db_t *s = sq(db);
    sqlite3_stmt *stmt;
    stmt_slot_t *slot;
    int rc = acquire(s, sql, &stmt, &slot);
    if (rc < 0) return rc;
    rc = bind(s, stmt, n, p, false);
    if (rc == 0) {
        sqlite3_int64 before = sqlite3_total_changes64(s->h);
        int st;
        while ((st = sqlite3_step(stmt)) == SQLITE_ROW) {
        }
        if (st != SQLITE_DONE) {
            rc = fail(s, "step");
        } else if (affected) {
            /* changes64() keeps the count of the last INSERT/UPDATE/DELETE,
             * so DDL and SELECTs would report a stale number. */
            bool changed = !sqlite3_stmt_readonly(stmt) && sqlite3_total_changes64(s->h) != before;
            *affected = changed ? sqlite3_changes64(s->h) : 0;
        }
    }
    release(stmt, slot);
    return rc;
}

static int sq_query(db_t *db, db_res_t **out, const char *sql, size_t n, const db_param_t *p)
{
    sq_db_t *s = sq(db);
    sqlite3_stmt *stmt;
    stmt_slot_t *slot;
    int rc = acquire(s, sql, &stmt, &slot);
    if (rc < 0) return rc;
    rc = bind(s, stmt, n, p, true);
    if (rc < 0) {
        release(stmt, slot);
        return rc;
    }
    int st = sqlite3_step(stmt);
    if (st != SQLITE_ROW && st != SQLITE_DONE) {
        rc = fail(s, "step");
        release(stmt, slot);
        return rc;
    }
    sq_res_t *r = xcalloc(1, sizeof *r);
    r->base.db = db;
    r->stmt = stmt;
    r->slot = slot;
    r->pending = st == SQLITE_ROW;
    r->done = st == SQLITE_DONE;
    if (r->done) sqlite3_reset(stmt); /* release read locks early */
    *out = &r->base;
    return 0;
}

static int sq_exec_script(db_t *db, const char *sql)
{
    sq_db_t *s = sq(db);
    char *msg = NULL;
    if (sqlite3_exec(s->h, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
    sqlite3_free(msg); /* the same text is still available from sqlite3_errmsg */
    return fail(s, "script");
}

/* ---- transactions --------------------------------------------------------- */

static bool sq_in_tx(const db_t *db)
{
    return sqlite3_get_autocommit(sq_c(db)->h) == 0;
}

/* run: a transaction-control statement, prepared once and kept in the
 * statement cache like any other (sqlite3_exec would parse it every time,
 * which showed in profiles of short read requests). */
static int run(sq_db_t *s, const char *sql, const char *what)
{
    sqlite3_stmt *stmt;
    stmt_slot_t *slot;
    int rc = acquire(s, sql, &stmt, &slot);
    if (rc < 0) return rc;
    int st = sqlite3_step(stmt);
    rc = st == SQLITE_DONE || st == SQLITE_ROW ? 0 : fail(s, what);
    release(stmt, slot);
    return rc;
}

static int sq_begin(db_t *db, const char *tenant, bool platform, bool write)
{
    (void)tenant; /* no RLS on SQLite: repositories filter by tenant_id */
    (void)platform;
    return run(sq(db), write ? "BEGIN IMMEDIATE" : "BEGIN", "begin");
}

static int sq_commit(db_t *db)
{
    sq_db_t *s = sq(db);
    if (!sq_in_tx(db)) {
        db__set_err(db, "sqlite commit: no transaction is open");
        return ERR_DB;
    }
    int rc = run(s, "COMMIT", "commit");
    /* A failed COMMIT (e.g. SQLITE_BUSY) leaves the transaction open; roll it
     * back so the connection is clean, as on PostgreSQL. */
    if (rc < 0 && sq_in_tx(db)) sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int sq_rollback(db_t *db)
{
    if (!sq_in_tx(db)) return 0;
    return run(sq(db), "ROLLBACK", "rollback");
}

static int sq_ping(db_t *db)
{
    return run(sq(db), "SELECT 1", "ping");
}

/* sq_data_version: copies the WAL-index header out of the shared memory
 * every connection to this database maps (region 0 of the -shm file, through
 * the VFS's own mapping: opening the file ourselves and closing it would
 * drop SQLite's POSIX locks). A commit writes the header's second copy,
 * then the first; reading the first, then the second, and requiring them
 * equal gives a consistent header or a refusal, as SQLite's own readers do.
 * The header holds a change counter, the last valid frame and the salts,
 * so any commit — and any WAL reset after a checkpoint — changes it. */
#define SQ_WALINDEX_PGSZ 32768 /* wal.c's WALINDEX_PGSZ */
#define SQ_WALINDEX_VERSION 3007000u
static bool sq_data_version(db_t *db, db_version_t *out)
{
    sq_db_t *s = sq(db);
    sqlite3_file *f = NULL;
    if (sqlite3_file_control(s->h, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || !f ||
        !f->pMethods || f->pMethods->iVersion < 2 || !f->pMethods->xShmMap)
        return false;
    volatile void *map = NULL;
    if (f->pMethods->xShmMap(f, 0, SQ_WALINDEX_PGSZ, 0, &map) != SQLITE_OK || !map) return false;
    const volatile unsigned char *hdr = map;
    unsigned char second[sizeof out->b];
    for (size_t i = 0; i < sizeof out->b; i++)
        out->b[i] = hdr[i];
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    for (size_t i = 0; i < sizeof second; i++)
        second[i] = hdr[sizeof out->b + i];
    uint32_t version;
    memcpy(&version, out->b, sizeof version);
    bool is_init = out->b[12] == 1;
    return version == SQ_WALINDEX_VERSION && is_init && memcmp(out->b, second, sizeof second) == 0;
}

static int sq_check_role(db_t *db, char *errbuf, size_t errlen)
{
    (void)db;
    (void)errbuf;
    (void)errlen;
    return 0;
}

/* ---- results ------------------------------------------------------------- */

static sq_res_t *res(db_res_t *r)
{
    return (sq_res_t *)r;
}
static const sq_res_t *res_c(const db_res_t *r)
{
    return (const sq_res_t *)r;
}

static int sq_res_next(db_res_t *rr)
{
    sq_res_t *r = res(rr);
    if (r->pending) {
        r->pending = false;
        r->on_row = true;
        return 1;
    }
    r->on_row = false;
    if (r->done) return 0;
    int st = sqlite3_step(r->stmt);
    if (st == SQLITE_ROW) {
        r->on_row = true;
        return 1;
    }
    r->done = true;
    int rc = st == SQLITE_DONE ? 0 : fail(sq(rr->db), "step");
    sqlite3_reset(r->stmt);
    return rc;
}

static int sq_res_ncols(const db_res_t *r)
{
    return sqlite3_column_count(res_c(r)->stmt);
}
static const char *sq_res_colname(const db_res_t *r, int col)
{
    return sqlite3_column_name(res_c(r)->stmt, col);
}

static const char *sq_res_text(db_res_t *r, int col)
{
    assert(res(r)->on_row);
    return (const char *)sqlite3_column_text(res(r)->stmt, col);
}

static size_t sq_res_len(db_res_t *r, int col)
{
    assert(res(r)->on_row);
    /* Converting to text first makes the byte count that of the text form. */
    sqlite3_column_text(res(r)->stmt, col);
    return (size_t)sqlite3_column_bytes(res(r)->stmt, col);
}

static int64_t sq_res_int(db_res_t *r, int col)
{
    assert(res(r)->on_row);
    return sqlite3_column_int64(res(r)->stmt, col);
}

static bool sq_res_isnull(db_res_t *r, int col)
{
    assert(res(r)->on_row);
    return sqlite3_column_type(res(r)->stmt, col) == SQLITE_NULL;
}

static void sq_res_free(db_res_t *rr)
{
    sq_res_t *r = res(rr);
    release(r->stmt, r->slot);
    free(r);
}

const db_ops_t db__sqlite_ops = {
    .backend = DB_SQLITE,
    .open = sq_open,
    .close = sq_close,
    .ping = sq_ping,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .in_tx = sq_in_tx,
    .exec = sq_exec,
    .exec_script = sq_exec_script,
    .query = sq_query,
    .check_role = sq_check_role,
    .data_version = sq_data_version,
    .res_next = sq_res_next,
    .res_ncols = sq_res_ncols,
    .res_colname = sq_res_colname,
    .res_text = sq_res_text,
    .res_len = sq_res_len,
    .res_int = sq_res_int,
    .res_isnull = sq_res_isnull,
    .res_free = sq_res_free,
};
