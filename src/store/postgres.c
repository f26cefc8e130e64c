/* postgres.c — the PostgreSQL backend of db.h (libpq).
 *
 * Statements go through PQexecParams with text-format parameters, so values
 * are never spliced into SQL. Integers are sent as decimal text typed int8,
 * booleans as 't'/'f' typed bool, and text as type "unknown" so the server
 * infers the column's type (uuid, timestamptz, text, ...) exactly as it does
 * for a literal.
 *
 * Results are read whole (PQexecParams) and then iterated. Two values are
 * reshaped so repositories read rows identically on both backends:
 * timestamptz comes back as RFC 3339 UTC text ("2026-01-02T03:04:05.678Z",
 * the format the SQLite schema stores), and db_res_int() reads a boolean's
 * "t"/"f" as 1/0 (SQLite stores booleans as integers).
 *
 * Tenancy: a transaction starts with set_config('app.current_tenant_id', …,
 * true) and set_config('app.platform', …, true); both are transaction-local,
 * so a connection never carries one request's tenant into the next, and the
 * row-level security policies of every tenant table read them.
 *
 * Outages: libpq notices a dead connection only when it next talks to the
 * server. The first statement of a transaction (BEGIN) and db_ping() are
 * safe to retry, so when they find the connection broken they reconnect once
 * and retry. A reconnect that fails starts a PG_RECONNECT_BACKOFF_MS window
 * during which every call fails at once with ERR_DB_UNAVAILABLE instead of
 * paying a connect attempt; after it, the next call tries again. A database
 * that goes away thus makes requests fail fast, and the server heals without
 * a restart when it comes back.
 */
#include <assert.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "db_internal.h"
#include "err.h"
#include "log.h"

/* PG_RECONNECT_BACKOFF_MS: after a failed reconnect, calls fail fast for this long. */
#define PG_RECONNECT_BACKOFF_MS 250
/* PG_MAX_PARAMS: the wire protocol's limit on bind parameters. */
#define PG_MAX_PARAMS 65535

#define OID_BOOL 16
#define OID_INT8 20
#define OID_TIMESTAMPTZ 1184
/* PG_TIME_LEN: strlen("YYYY-MM-DDTHH:MM:SS.mmmZ"), the RFC 3339 form times take on both backends.
 */
#define PG_TIME_LEN 24

typedef struct pg_db {
    struct db base;
    PGconn *conn;
    int64_t retry_after_ms; /* no reconnect attempt before this (monotonic) */
} pg_db_t;

typedef struct pg_res {
    struct db_res base;
    PGresult *res;
    int row, nrows;
    char (*times)[PG_TIME_LEN + 1]; /* per column: the current row's time, rewritten; lazy */
} pg_res_t;

static pg_db_t *pg(db_t *db)
{
    return (pg_db_t *)db;
}
static const pg_db_t *pg_c(const db_t *db)
{
    return (const pg_db_t *)db;
}

/* set_msg: stores "what: msg" on one line (libpq's messages span several,
 * with tabs) and without the password. */
static void set_msg(pg_db_t *p, const char *what, const char *msg)
{
    db__set_err(&p->base, "postgres %s: %s", what, msg && *msg ? msg : "unknown error");
    char *w = p->base.errmsg;
    for (const char *r = p->base.errmsg; *r; r++) {
        bool space = *r == '\n' || *r == '\t' || *r == ' ';
        if (space && (w == p->base.errmsg || w[-1] == ' ')) continue;
        *w++ = space ? ' ' : *r;
    }
    while (w > p->base.errmsg && w[-1] == ' ')
        w--;
    *w = '\0';
    db__scrub(p->base.errmsg, PQpass(p->conn));
}

static bool conn_bad(const pg_db_t *p)
{
    return PQstatus(p->conn) != CONNECTION_OK;
}

/* fail: records the error of res (may be NULL), clears it and maps it. */
static int fail(pg_db_t *p, PGresult *res, const char *what)
{
    const char *msg = res ? PQresultErrorMessage(res) : "";
    set_msg(p, what, *msg ? msg : PQerrorMessage(p->conn));
    /* The SQLSTATE lives in res: copy it before clearing. */
    const char *field = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char state[6] = "";
    if (field) snprintf(state, sizeof state, "%s", field);
    PQclear(res);
    if (conn_bad(p)) return ERR_DB_UNAVAILABLE;
    if (!*state) return ERR_DB;
    if (strcmp(state, "23505") == 0) return ERR_EXISTS;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) return ERR_CONFLICT;
    if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
        strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0)
        return ERR_DB_UNAVAILABLE;
    return ERR_DB;
}

static bool ok(const PGresult *res)
{
    if (!res) return false;
    ExecStatusType st = PQresultStatus(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* ---- connecting ---------------------------------------------------------- */

static void on_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("postgres notice: %s", message);
}

/* session_setup: per-connection settings, re-applied after every reconnect. */
static int session_setup(pg_db_t *p)
{
    PQsetNoticeProcessor(p->conn, on_notice, NULL);
    /* Timestamps come back in UTC, in ISO form, whatever the server's
     * defaults are (pg_res_text rewrites them to RFC 3339). */
    PGresult *res = PQexec(p->conn, "SET TIME ZONE 'UTC'; SET DateStyle TO 'ISO, YMD'");
    if (!ok(res)) return fail(p, res, "session setup");
    PQclear(res);
    return 0;
}

static int pg_open(const char *url, int timeout_ms, bool no_wait, db_t **out, char *errbuf,
                   size_t errlen)
{
    (void)no_wait; /* a network connection always waits; readers are SQLite only */
    char masked[512];
    db__mask_url(url, masked, sizeof masked);
    char *perr = NULL;
    PQconninfoOption *parsed = PQconninfoParse(url, &perr);
    if (!parsed) {
        /* libpq's parse message may quote the offending token; keep it out. */
        PQfreemem(perr);
        db__errf(errbuf, errlen, "invalid PostgreSQL URL \"%s\"", masked);
        return ERR_CONFIG;
    }
    PQconninfoFree(parsed);

    /* libpq's connect_timeout has one-second granularity; at least 1 s. */
    char tmo[16];
    snprintf(tmo, sizeof tmo, "%d", timeout_ms < 1000 ? 1 : (timeout_ms + 999) / 1000);
    /* Keepalives notice a silently dead peer; the URL may override them
     * (it is expanded where "dbname" stands, after them). The connect
     * timeout comes last because the reconnect logic relies on it. */
    const char *keys[] = {"keepalives",
                          "keepalives_idle",
                          "keepalives_interval",
                          "keepalives_count",
                          "fallback_application_name",
                          "dbname",
                          "connect_timeout",
                          NULL};
    const char *vals[] = {"1", "30", "10", "3", "bizosaas", url, tmo, NULL};
    pg_db_t *p = xcalloc(1, sizeof *p);
    p->conn = PQconnectdbParams(keys, vals, 1);
    if (!p->conn) abort(); /* libpq returns NULL only when out of memory */
    if (conn_bad(p)) {
        set_msg(p, "connect", PQerrorMessage(p->conn));
        db__errf(errbuf, errlen, "cannot connect to %s: %s", masked, p->base.errmsg);
        PQfinish(p->conn);
        free(p);
        return ERR_DB_UNAVAILABLE;
    }
    int rc = session_setup(p);
    if (rc < 0) {
        db__errf(errbuf, errlen, "%s", p->base.errmsg);
        PQfinish(p->conn);
        free(p);
        return rc;
    }
    *out = &p->base;
    return 0;
}

static void pg_close(db_t *db)
{
    PQfinish(pg(db)->conn);
    free(db);
}

/* reconnect: one PQreset attempt, unless the last one failed too recently. */
static int reconnect(pg_db_t *p)
{
    int64_t now = db__now_ms();
    if (now < p->retry_after_ms) {
        db__set_err(&p->base,
                    "postgres: the database is unavailable (next reconnect attempt in %lld ms)",
                    (long long)(p->retry_after_ms - now));
        return ERR_DB_UNAVAILABLE;
    }
    PQreset(p->conn);
    if (conn_bad(p)) {
        p->retry_after_ms = db__now_ms() + PG_RECONNECT_BACKOFF_MS;
        set_msg(p, "reconnect", PQerrorMessage(p->conn));
        return ERR_DB_UNAVAILABLE;
    }
    p->retry_after_ms = 0;
    log_info("postgres connection re-established");
    return session_setup(p);
}

static int ensure_conn(pg_db_t *p)
{
    return conn_bad(p) ? reconnect(p) : 0;
}

/* ---- statements ---------------------------------------------------------- */

/* run: PQexecParams with db_param_t values in text format. */
static PGresult *run(pg_db_t *p, const char *sql, size_t n, const db_param_t *prm)
{
    if (n == 0) return PQexecParams(p->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
    /* One block: value pointers, owned copies, type OIDs, number text. */
    enum { NUM = 24 };
    char *block = xcalloc(n, 2 * sizeof(char *) + sizeof(Oid) + NUM);
    const char **vals = (const char **)(void *)block;
    char **owned = (char **)(void *)(block + n * sizeof(char *));
    Oid *types = (Oid *)(void *)(block + 2 * n * sizeof(char *));
    char *nums = block + n * (2 * sizeof(char *) + sizeof(Oid));
    for (size_t i = 0; i < n; i++) {
        switch (prm[i].type) {
        case DBP_NULL:
            break;
        case DBP_TEXT:
            /* Text-format values are NUL-terminated; a length-bounded view
             * may not be, so it is copied. */
            vals[i] = prm[i].len ? (owned[i] = xstrndup(prm[i].s, prm[i].len)) : prm[i].s;
            break;
        case DBP_INT:
            snprintf(nums + i * NUM, NUM, "%lld", (long long)prm[i].i);
            vals[i] = nums + i * NUM;
            types[i] = OID_INT8;
            break;
        case DBP_BOOL:
            vals[i] = prm[i].i ? "t" : "f";
            types[i] = OID_BOOL;
            break;
        }
    }
    PGresult *res = PQexecParams(p->conn, sql, (int)n, types, vals, NULL, NULL, 0);
    for (size_t i = 0; i < n; i++)
        free(owned[i]);
    free(block);
    return res;
}

static int check_nparams(pg_db_t *p, size_t n)
{
    if (n <= PG_MAX_PARAMS) return 0;
    db__set_err(&p->base, "postgres: %zu parameters exceed the limit of %d", n, PG_MAX_PARAMS);
    return ERR_DB;
}

static int pg_exec(db_t *db, int64_t *affected, const char *sql, size_t n, const db_param_t *prm)
{
    pg_db_t *p = pg(db);
    int rc = check_nparams(p, n);
    if (rc == 0) rc = ensure_conn(p);
    if (rc < 0) return rc;
    PGresult *res = run(p, sql, n, prm);
    if (!ok(res)) return fail(p, res, "exec");
    if (affected) *affected = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return 0;
}

static int pg_query(db_t *db, db_res_t **out, const char *sql, size_t n, const db_param_t *prm)
{
    pg_db_t *p = pg(db);
    int rc = check_nparams(p, n);
    if (rc == 0) rc = ensure_conn(p);
    if (rc < 0) return rc;
    PGresult *res = run(p, sql, n, prm);
    if (!ok(res)) return fail(p, res, "query");
    pg_res_t *r = xcalloc(1, sizeof *r);
    r->base.db = db;
    r->res = res;
    r->row = -1;
    r->nrows = PQntuples(res);
    *out = &r->base;
    return 0;
}

static int pg_exec_script(db_t *db, const char *sql)
{
    pg_db_t *p = pg(db);
    int rc = ensure_conn(p);
    if (rc < 0) return rc;
    /* PQexec runs every statement and returns the last result, or the
     * first failure (which stops the rest). */
    PGresult *res = PQexec(p->conn, sql);
    if (!ok(res)) return fail(p, res, "script");
    PQclear(res);
    return 0;
}

/* run_retry: runs a statement that is safe to repeat (nothing of the
 * transaction has happened yet); if the connection turns out to be broken,
 * reconnects once and runs it again. Consumes res on failure. */
static int run_retry(pg_db_t *p, const char *sql, size_t n, const db_param_t *prm, const char *what,
                     PGresult **out)
{
    int rc = ensure_conn(p);
    if (rc < 0) return rc;
    bool reconnected = false;
    for (;;) {
        PGresult *res = run(p, sql, n, prm);
        if (ok(res)) {
            *out = res;
            return 0;
        }
        rc = fail(p, res, what);
        if (rc != ERR_DB_UNAVAILABLE || !conn_bad(p) || reconnected) return rc;
        reconnected = true;
        rc = reconnect(p);
        if (rc < 0) return rc;
    }
}

/* ---- transactions --------------------------------------------------------- */

static bool pg_in_tx(const db_t *db)
{
    PGTransactionStatusType st = PQtransactionStatus(pg_c(db)->conn);
    return st == PQTRANS_INTRANS || st == PQTRANS_INERROR || st == PQTRANS_ACTIVE;
}

/* begin_sql: "BEGIN; SELECT set_config(...)" with the tenant as an escaped
 * literal (heap string, caller frees; NULL when it cannot be escaped). */
static char *begin_sql(pg_db_t *p, const char *tenant, bool platform)
{
    char *lit = PQescapeLiteral(p->conn, tenant, strlen(tenant));
    if (!lit) return NULL;
    static const char fmt[] = "BEGIN; SELECT set_config('app.current_tenant_id', %s, true), "
                              "set_config('app.platform', '%s', true)";
    size_t n = sizeof fmt + strlen(lit) + 2;
    char *sql = xmalloc(n);
    snprintf(sql, n, fmt, lit, platform ? "on" : "");
    PQfreemem(lit);
    return sql;
}

/* pg_begin: BEGIN and the tenant settings in one round trip — a simple
 * query of two statements with the tenant as a literal escaped by libpq
 * (PQescapeLiteral knows the connection's encoding and quoting rules);
 * parameters would need a second round trip, and a request that reads
 * one row paid as much for these two statements as for its work. Both
 * settings every time: an unset custom setting reads as '' once it was set
 * in the session, and the RLS policies never match ''. */
static int pg_begin(db_t *db, const char *tenant, bool platform, bool write)
{
    (void)write; /* PostgreSQL locks rows as it writes; no up-front write lock */
    pg_db_t *p = pg(db);
    int rc = ensure_conn(p);
    if (rc < 0) return rc;
    for (bool reconnected = false;;) {
        char *sql = begin_sql(p, tenant ? tenant : "", platform);
        if (!sql) {
            db__set_err(db, "postgres begin: cannot quote the tenant: %s", PQerrorMessage(p->conn));
            return conn_bad(p) ? ERR_DB_UNAVAILABLE : ERR_DB;
        }
        PGresult *res = PQexec(p->conn, sql);
        free(sql);
        if (ok(res)) {
            PQclear(res);
            return 0;
        }
        rc = fail(p, res, "begin");
        if (!conn_bad(p)) { /* BEGIN may have worked and the settings not */
            if (pg_in_tx(db)) PQclear(PQexec(p->conn, "ROLLBACK"));
            return rc;
        }
        if (rc != ERR_DB_UNAVAILABLE || reconnected) return rc;
        reconnected = true;
        if ((rc = reconnect(p)) < 0) return rc;
    }
}

static int pg_commit(db_t *db)
{
    pg_db_t *p = pg(db);
    if (conn_bad(p)) {
        db__set_err(db,
                    "postgres commit: the connection was lost; the transaction was rolled back");
        return ERR_DB_UNAVAILABLE;
    }
    if (!pg_in_tx(db)) {
        db__set_err(db, "postgres commit: no transaction is open");
        return ERR_DB;
    }
    PGresult *res = PQexec(p->conn, "COMMIT");
    if (!ok(res)) return fail(p, res, "commit");
    /* COMMIT of a transaction that hit an error succeeds as "ROLLBACK". */
    bool rolled_back = strcmp(PQcmdStatus(res), "ROLLBACK") == 0;
    PQclear(res);
    if (rolled_back) {
        db__set_err(db, "postgres commit: the transaction had failed and was rolled back");
        return ERR_DB;
    }
    return 0;
}

static int pg_rollback(db_t *db)
{
    pg_db_t *p = pg(db);
    if (conn_bad(p) || !pg_in_tx(db)) return 0;
    PGresult *res = PQexec(p->conn, "ROLLBACK");
    if (ok(res)) {
        PQclear(res);
        return 0;
    }
    int rc = fail(p, res, "rollback");
    /* A connection that broke took its transaction with it. */
    return conn_bad(p) ? 0 : rc;
}

static int pg_ping(db_t *db)
{
    PGresult *res = NULL;
    int rc = run_retry(pg(db), "SELECT 1", 0, NULL, "ping", &res);
    PQclear(res);
    return rc;
}

static int pg_check_role(db_t *db, char *errbuf, size_t errlen)
{
    pg_db_t *p = pg(db);
    int rc = ensure_conn(p);
    PGresult *res = NULL;
    if (rc == 0) {
        res = PQexec(p->conn,
                     "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user");
        if (!ok(res)) rc = fail(p, res, "role check");
    }
    if (rc < 0) {
        db__errf(errbuf, errlen, "%s", p->base.errmsg);
        return rc;
    }
    bool super = PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "f") != 0;
    bool bypass = PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 1), "f") != 0;
    PQclear(res);
    if (!super && !bypass) return 0;
    const char *user = PQuser(p->conn);
    const char *dbname = PQdb(p->conn);
    db__errf(errbuf, errlen,
             "the PostgreSQL role \"%s\" is %s, so row-level security would not isolate tenants; "
             "connect as an ordinary role instead, e.g. (as a superuser): CREATE ROLE bizosaas_app "
             "LOGIN PASSWORD '<password>' NOSUPERUSER NOBYPASSRLS NOCREATEDB; ALTER DATABASE %s "
             "OWNER TO bizosaas_app;",
             user ? user : "?",
             super && bypass ? "a superuser with BYPASSRLS"
             : super         ? "a superuser"
                             : "BYPASSRLS",
             dbname ? dbname : "<database>");
    db__set_err(db, "%s", errbuf);
    return ERR_CONFIG;
}

/* ---- results ------------------------------------------------------------- */

static pg_res_t *res_of(db_res_t *r)
{
    return (pg_res_t *)r;
}
static const pg_res_t *res_c(const db_res_t *r)
{
    return (const pg_res_t *)r;
}

static int pg_res_next(db_res_t *rr)
{
    pg_res_t *r = res_of(rr);
    if (r->row < r->nrows) r->row++;
    return r->row < r->nrows ? 1 : 0;
}

static int pg_res_ncols(const db_res_t *r)
{
    return PQnfields(res_c(r)->res);
}
static const char *pg_res_colname(const db_res_t *r, int col)
{
    return PQfname(res_c(r)->res, col);
}

/* rfc3339: rewrites the ISO output of a UTC timestamptz
 * ("2026-01-02 03:04:05.678901+00") into the form SQLite rows hold
 * ("2026-01-02T03:04:05.678Z"), so repositories read times the same way on
 * both backends. False for any other shape (infinity, BC, a non-UTC zone). */
static bool rfc3339(const char *v, char out[PG_TIME_LEN + 1])
{
    size_t n = strlen(v);
    if (n < 22 || v[4] != '-' || v[7] != '-' || v[10] != ' ' || v[13] != ':' || v[16] != ':' ||
        strcmp(v + n - 3, "+00") != 0)
        return false;
    char ms[3] = {'0', '0', '0'};
    if (v[19] == '.') {
        for (int i = 0; i < 3 && v[20 + i] >= '0' && v[20 + i] <= '9'; i++)
            ms[i] = v[20 + i];
    } else if (v[19] != '+') {
        return false;
    }
    memcpy(out, v, 10);
    out[10] = 'T';
    memcpy(out + 11, v + 11, 8);
    out[19] = '.';
    memcpy(out + 20, ms, 3);
    out[23] = 'Z';
    out[24] = '\0';
    return true;
}

static const char *pg_res_text(db_res_t *rr, int col)
{
    pg_res_t *r = res_of(rr);
    assert(r->row >= 0 && r->row < r->nrows);
    if (PQgetisnull(r->res, r->row, col)) return NULL;
    const char *v = PQgetvalue(r->res, r->row, col);
    if (PQftype(r->res, col) != OID_TIMESTAMPTZ) return v;
    if (!r->times) r->times = xcalloc((size_t)PQnfields(r->res), sizeof *r->times);
    return rfc3339(v, r->times[col]) ? r->times[col] : v;
}

static size_t pg_res_len(db_res_t *rr, int col)
{
    pg_res_t *r = res_of(rr);
    assert(r->row >= 0 && r->row < r->nrows);
    if (PQftype(r->res, col) == OID_TIMESTAMPTZ && !PQgetisnull(r->res, r->row, col))
        return strlen(pg_res_text(rr, col));
    return (size_t)PQgetlength(r->res, r->row, col);
}

/* Booleans arrive as "t"/"f"; reading them as 1/0 matches SQLite, where
 * they are stored as integers. */
static int64_t pg_res_int(db_res_t *rr, int col)
{
    const char *v = pg_res_text(rr, col);
    if (!v) return 0;
    if (v[0] == 't' && v[1] == '\0') return 1;
    if (v[0] == 'f' && v[1] == '\0') return 0;
    return strtoll(v, NULL, 10);
}

static bool pg_res_isnull(db_res_t *rr, int col)
{
    pg_res_t *r = res_of(rr);
    assert(r->row >= 0 && r->row < r->nrows);
    return PQgetisnull(r->res, r->row, col) != 0;
}

static void pg_res_free(db_res_t *rr)
{
    pg_res_t *r = res_of(rr);
    PQclear(r->res);
    free(r->times);
    free(r);
}

const db_ops_t db__postgres_ops = {
    .backend = DB_POSTGRES,
    .open = pg_open,
    .close = pg_close,
    .ping = pg_ping,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .in_tx = pg_in_tx,
    .exec = pg_exec,
    .exec_script = pg_exec_script,
    .query = pg_query,
    .check_role = pg_check_role,
    .res_next = pg_res_next,
    .res_ncols = pg_res_ncols,
    .res_colname = pg_res_colname,
    .res_text = pg_res_text,
    .res_len = pg_res_len,
    .res_int = pg_res_int,
    .res_isnull = pg_res_isnull,
    .res_free = pg_res_free,
};
