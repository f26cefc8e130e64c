/* db.h — one storage API over SQLite and PostgreSQL.
 *
 * SQL is written once with $1..$n placeholders; parameters are always bound,
 * never spliced into the text. A db_t is one connection, used by one thread
 * at a time (each worker owns one). Results are read row by row.
 *
 * Tenancy: db_begin() opens a transaction with the tenant context set. On
 * PostgreSQL it runs set_config('app.current_tenant_id', tenant, true), which
 * row-level security policies read; the setting is transaction-local, so a
 * pooled connection never carries a tenant into the next transaction. On
 * SQLite there is no RLS: repositories filter on tenant_id in every
 * statement, and the same cross-tenant API tests run on both backends.
 *
 * Errors follow err.h: 0 ok, negative ERR_*:
 *   ERR_EXISTS          unique/primary-key violation
 *   ERR_DB_UNAVAILABLE  the server cannot be reached / the connection broke
 *   ERR_CONFLICT        serialization failure or SQLITE_BUSY after the timeout
 *   ERR_DB              anything else (db_errmsg() says what; log it, never
 *                       send it to clients)
 */
#ifndef BZ_DB_H
#define BZ_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef struct db db_t;
typedef struct db_res db_res_t;

typedef enum db_backend { DB_SQLITE = 1, DB_POSTGRES = 2 } db_backend_t;

typedef enum db_ptype { DBP_NULL = 0, DBP_TEXT, DBP_INT, DBP_BOOL } db_ptype_t;

typedef struct db_param {
    db_ptype_t type;
    const char *s; /* DBP_TEXT: borrowed, NUL-terminated unless len is set */
    size_t len;    /* DBP_TEXT: 0 means strlen(s) */
    int64_t i;     /* DBP_INT, DBP_BOOL */
} db_param_t;

static inline db_param_t db_text_param(const char *s)
{
    return (db_param_t){.type = s ? DBP_TEXT : DBP_NULL, .s = s};
}
/* DB_TEXT(s): a text parameter; a NULL pointer binds SQL NULL. */
#define DB_TEXT(v) db_text_param(v)
#define DB_TEXTN(v, n) ((db_param_t){.type = DBP_TEXT, .s = (v), .len = (n)})
#define DB_INT(v) ((db_param_t){.type = DBP_INT, .i = (int64_t)(v)})
#define DB_BOOL(v) ((db_param_t){.type = DBP_BOOL, .i = (v) ? 1 : 0})
#define DB_NULL ((db_param_t){.type = DBP_NULL})
/* DB_ARGS(DB_TEXT(a), DB_INT(b)) expands to "count, array" for the calls below. */
#define DB_ARGS(...)                                                                               \
    (sizeof((db_param_t[]){__VA_ARGS__}) / sizeof(db_param_t)), ((db_param_t[]){__VA_ARGS__})
#define DB_NOARGS 0, NULL

typedef struct db_options {
    int connect_timeout_ms; /* PostgreSQL connect timeout; also SQLite busy timeout */
    bool no_wait;           /* SQLite: after opening, a statement that would wait for a
                               lock fails at once (ERR_CONFLICT): for I/O-thread readers */
} db_options_t;

/* db_open: connects to url ("sqlite:PATH", "sqlite::memory:", "postgres://…"
 * or "postgresql://…"). On failure returns an error and writes a message
 * (never containing the password) into errbuf. The caller owns *out. */
int db_open(const char *url, const db_options_t *opt, db_t **out, char *errbuf, size_t errlen);
void db_close(db_t *db);
db_backend_t db_backend(const db_t *db);
/* db_url_backend: the backend a URL names, or 0 when it names none. */
db_backend_t db_url_backend(const char *url);
/* db_errmsg: the last error of this connection (borrowed, valid until the next call). */
const char *db_errmsg(db_t *db);
/* db_ping: checks the connection, reconnecting once if it broke. */
int db_ping(db_t *db);

/* db_begin: starts a transaction. tenant_id may be NULL (no tenant: tenant
 * tables return nothing on PostgreSQL). write=true takes the write lock up
 * front on SQLite (BEGIN IMMEDIATE) so concurrent writers queue on the busy
 * timeout instead of failing on upgrade. */
int db_begin(db_t *db, const char *tenant_id, bool write);
/* db_begin_platform: a transaction in platform scope (app.platform = 'on'),
 * for super_admin and internal jobs that must see every tenant. */
int db_begin_platform(db_t *db, bool write);
int db_commit(db_t *db);
int db_rollback(db_t *db); /* safe to call when no transaction is open */
bool db_in_tx(const db_t *db);

/* db_exec: runs a statement that returns no rows; *affected (optional)
 * receives the number of rows changed. */
int db_exec(db_t *db, int64_t *affected, const char *sql, size_t nparams, const db_param_t *params);
/* db_exec_script: runs several ;-separated statements without parameters
 * (migrations). */
int db_exec_script(db_t *db, const char *sql);

/* db_query: runs a statement and returns its rows; the caller owns *out and
 * frees it with db_res_free (even when there are no rows). */
int db_query(db_t *db, db_res_t **out, const char *sql, size_t nparams, const db_param_t *params);
/* db_res_next: advances to the next row: 1 = a row, 0 = no more, <0 error. */
int db_res_next(db_res_t *r);
int db_res_ncols(const db_res_t *r);
const char *db_res_colname(const db_res_t *r, int col);
/* Column accessors for the current row; text is borrowed until the next
 * db_res_next/db_res_free. NULL text for SQL NULL. */
const char *db_res_text(db_res_t *r, int col);
size_t db_res_len(db_res_t *r, int col);
int64_t db_res_int(db_res_t *r, int col);
bool db_res_isnull(db_res_t *r, int col);
void db_res_free(db_res_t *r);

/* db_query_one_text: convenience: first column of the first row, copied
 * into a heap string owned by the caller (NULL with ERR_NOT_FOUND when no row). */
int db_query_one_text(db_t *db, char **out, const char *sql, size_t nparams, const db_param_t *params);
int db_query_one_int(db_t *db, int64_t *out, const char *sql, size_t nparams, const db_param_t *params);

/* db_res_page: reads a page of a keyset-paginated query that asked for
 * limit + 1 rows: appends up to limit rows, each turned into JSON by row(),
 * to items (row's result is stolen) and sets *more when the extra row came
 * back. Does not free r. Returns 0 or the error of db_res_next. */
int db_res_page(db_res_t *r, int limit, bool *more, json_t *items,
                json_t *(*row)(db_res_t *r, void *arg), void *arg);

/* db_data_version: a fingerprint of the database's committed state, read
 * without a transaction, a lock or a system call: two equal fingerprints
 * mean that no transaction committed in between — on any connection, in
 * any process sharing the database. SQLite in WAL mode only: it is the
 * WAL-index header (https://www.sqlite.org/walformat.html, section 2.1),
 * which every commit rewrites in the shared-memory file all connections
 * map. Returns false when there is none (PostgreSQL, an in-memory database,
 * a connection that has not read yet, a header being rewritten at this very
 * moment): callers must then assume that something changed. */
typedef struct db_version {
    unsigned char b[48];
} db_version_t;
bool db_data_version(db_t *db, db_version_t *out);

/* db_check_role: PostgreSQL only: fails with ERR_CONFIG and a message in
 * errbuf when the connected role is a superuser or has BYPASSRLS (row-level
 * security would not apply). SQLite: always 0. */
int db_check_role(db_t *db, char *errbuf, size_t errlen);

#endif
