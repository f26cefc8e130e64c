/* db.c — the backend-neutral half of the storage API (see db.h).
 *
 * db_open() picks the backend from the URL scheme and hands over to its
 * db_ops_t table (db_internal.h); every other call dispatches through that
 * table. What lives here is what both engines must do identically:
 *
 *  - A statement that fails inside a transaction dooms the transaction.
 *    PostgreSQL enforces this itself; SQLite would happily commit the other
 *    statements, so the rule is applied here for both: later statements fail
 *    with ERR_DB and db_commit() rolls back and fails. Code tested on SQLite
 *    therefore cannot rely on "try the insert, ignore the conflict, commit".
 *  - Messages never contain a password: URLs are masked before they are
 *    quoted, and backend messages are scrubbed of the password text.
 *  - db_query_one_*: the first column of the first row; no row and an SQL
 *    NULL both give ERR_NOT_FOUND (there is no value to hand back).
 */
#include "db.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "db_internal.h"
#include "err.h"
#include "str.h"

static const db_ops_t *ops_for(db_backend_t b)
{
    switch (b) {
    case DB_SQLITE:
        return &db__sqlite_ops;
    case DB_POSTGRES:
        return &db__postgres_ops;
    }
    return NULL;
}

db_backend_t db_url_backend(const char *url)
{
    if (!url) return 0;
    if (strncmp(url, "sqlite:", 7) == 0) return DB_SQLITE;
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
        return DB_POSTGRES;
    return 0;
}

/* ---- messages ---------------------------------------------------------- */

static void vformat(char *out, size_t cap, const char *fmt, va_list ap)
{
    if (cap == 0) return;
    int n = vsnprintf(out, cap, fmt, ap);
    if (n < 0) {
        out[0] = '\0';
    } else if ((size_t)n >= cap && cap > 4) {
        /* A truncated message says so rather than silently ending early. */
        memcpy(out + cap - 4, "...", 4);
    }
}

void db__errf(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(errbuf, errlen, fmt, ap);
    va_end(ap);
}

void db__set_err(db_t *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(db->errmsg, sizeof db->errmsg, fmt, ap);
    va_end(ap);
}

/* A span [start, end) of url that holds a secret. */
typedef struct span {
    size_t start, end;
} span_t;

/* secret_spans: finds the password in the userinfo (scheme://user:PW@host)
 * and in every password=PW query parameter. Returns the number of spans. */
static size_t secret_spans(const char *url, span_t *spans, size_t max)
{
    size_t n = 0;
    const char *auth = strstr(url, "://");
    if (!auth) return 0;
    auth += 3;
    const char *query = strchr(auth, '?');
    size_t auth_len = query ? (size_t)(query - auth) : strlen(auth);
    /* The last '@' before the query ends the userinfo; a password holding an
     * unencoded '/' or '@' is then still masked whole. */
    const char *at = NULL;
    for (const char *p = auth; p < auth + auth_len; p++)
        if (*p == '@') at = p;
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        if (colon && n < max) spans[n++] = (span_t){(size_t)(colon + 1 - url), (size_t)(at - url)};
    }
    for (const char *p = query; p && *p && n < max; p++) {
        if ((*p == '?' || *p == '&') && strncmp(p + 1, "password=", 9) == 0) {
            const char *v = p + 10;
            const char *e = strchr(v, '&');
            if (!e) e = v + strlen(v);
            spans[n++] = (span_t){(size_t)(v - url), (size_t)(e - url)};
            p = e - 1;
        }
    }
    return n;
}

void db__mask_url(const char *url, char *out, size_t outlen)
{
    if (outlen == 0) return;
    buf_t b;
    buf_init(&b);
    span_t spans[8];
    size_t ns = secret_spans(url, spans, 8);
    size_t pos = 0;
    for (size_t i = 0; i < ns; i++) {
        buf_append(&b, url + pos, spans[i].start - pos);
        buf_append_str(&b, "***");
        pos = spans[i].end;
    }
    buf_append_str(&b, url + pos);
    db__errf(out, outlen, "%s", b.p);
    buf_cleanup(&b);
}

void db__scrub(char *msg, const char *secret)
{
    size_t sl = secret ? strlen(secret) : 0;
    if (sl < 3) return;
    char *p;
    while ((p = strstr(msg, secret)) != NULL) {
        memcpy(p, "***", 3);
        memmove(p + 3, p + sl, strlen(p + sl) + 1);
    }
}

int64_t db__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- connections -------------------------------------------------------- */

int db_open(const char *url, const db_options_t *opt, db_t **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    if (errlen) errbuf[0] = '\0';
    const db_ops_t *ops = ops_for(db_url_backend(url));
    if (!ops) {
        char masked[512];
        db__mask_url(url ? url : "", masked, sizeof masked);
        db__errf(errbuf, errlen,
                 "unsupported database URL \"%s\" (expected sqlite:PATH, sqlite::memory: or "
                 "postgres://USER:PASSWORD@HOST:PORT/DB)",
                 masked);
        return ERR_CONFIG;
    }
    int timeout =
        opt && opt->connect_timeout_ms > 0 ? opt->connect_timeout_ms : DB__DEFAULT_TIMEOUT_MS;
    int rc = ops->open(url, timeout, opt && opt->no_wait, out, errbuf, errlen);
    if (rc == 0) (*out)->ops = ops;
    return rc;
}

void db_close(db_t *db)
{
    if (db) db->ops->close(db);
}

db_backend_t db_backend(const db_t *db)
{
    return db->ops->backend;
}
const char *db_errmsg(db_t *db)
{
    return db->errmsg;
}
int db_ping(db_t *db)
{
    return db->ops->ping(db);
}
bool db_data_version(db_t *db, db_version_t *out)
{
    return db->ops->data_version && db->ops->data_version(db, out);
}

bool db_in_tx(const db_t *db)
{
    return db->ops->in_tx(db);
}

/* note: records that a statement failed inside the open transaction. */
static int note(db_t *db, int rc)
{
    if (rc < 0 && db->ops->in_tx(db)) db->tx_failed = true;
    return rc;
}

/* doomed: true (with the message set) when the open transaction already failed. */
static bool doomed(db_t *db)
{
    if (!db->tx_failed) return false;
    if (!db->ops->in_tx(db)) {
        db->tx_failed = false;
        return false;
    }
    db__set_err(db, "current transaction is aborted by an earlier error; roll it back");
    return true;
}

static int begin(db_t *db, const char *tenant, bool platform, bool write)
{
    if (db->ops->in_tx(db)) {
        db__set_err(db, "a transaction is already open on this connection");
        return ERR_DB;
    }
    db->tx_failed = false;
    return db->ops->begin(db, tenant, platform, write);
}

int db_begin(db_t *db, const char *tenant_id, bool write)
{
    return begin(db, tenant_id, false, write);
}
int db_begin_platform(db_t *db, bool write)
{
    return begin(db, NULL, true, write);
}

int db_commit(db_t *db)
{
    if (db->tx_failed && db->ops->in_tx(db)) {
        db->ops->rollback(db);
        db->tx_failed = false;
        db__set_err(db, "transaction aborted by an earlier error; it was rolled back");
        return ERR_DB;
    }
    db->tx_failed = false;
    return db->ops->commit(db);
}

int db_rollback(db_t *db)
{
    db->tx_failed = false;
    if (!db->ops->in_tx(db)) return 0;
    return db->ops->rollback(db);
}

/* ---- statements --------------------------------------------------------- */

int db_exec(db_t *db, int64_t *affected, const char *sql, size_t nparams, const db_param_t *params)
{
    assert(sql && (nparams == 0 || params));
    if (affected) *affected = 0;
    if (doomed(db)) return ERR_DB;
    return note(db, db->ops->exec(db, affected, sql, nparams, params));
}

int db_exec_script(db_t *db, const char *sql)
{
    assert(sql);
    if (doomed(db)) return ERR_DB;
    return note(db, db->ops->exec_script(db, sql));
}

int db_query(db_t *db, db_res_t **out, const char *sql, size_t nparams, const db_param_t *params)
{
    assert(sql && out && (nparams == 0 || params));
    *out = NULL;
    if (doomed(db)) return ERR_DB;
    int rc = note(db, db->ops->query(db, out, sql, nparams, params));
    if (rc == 0) (*out)->db = db;
    return rc;
}

int db_res_next(db_res_t *r)
{
    return note(r->db, r->db->ops->res_next(r));
}
int db_res_ncols(const db_res_t *r)
{
    return r->db->ops->res_ncols(r);
}

const char *db_res_colname(const db_res_t *r, int col)
{
    assert(col >= 0 && col < db_res_ncols(r));
    return r->db->ops->res_colname(r, col);
}

const char *db_res_text(db_res_t *r, int col)
{
    assert(col >= 0 && col < db_res_ncols(r));
    return r->db->ops->res_text(r, col);
}

size_t db_res_len(db_res_t *r, int col)
{
    assert(col >= 0 && col < db_res_ncols(r));
    return r->db->ops->res_len(r, col);
}

int64_t db_res_int(db_res_t *r, int col)
{
    assert(col >= 0 && col < db_res_ncols(r));
    return r->db->ops->res_int(r, col);
}

bool db_res_isnull(db_res_t *r, int col)
{
    assert(col >= 0 && col < db_res_ncols(r));
    return r->db->ops->res_isnull(r, col);
}

void db_res_free(db_res_t *r)
{
    if (r) r->db->ops->res_free(r);
}

/* first_value: runs the query and positions on the first row's first
 * column; ERR_NOT_FOUND when there is no row or the value is NULL. */
static int first_value(db_t *db, db_res_t **r, const char *sql, size_t n, const db_param_t *p)
{
    int rc = db_query(db, r, sql, n, p);
    if (rc < 0) return rc;
    rc = db_res_next(*r);
    if (rc == 1 && db_res_ncols(*r) > 0 && !db_res_isnull(*r, 0)) return 0;
    db_res_free(*r);
    *r = NULL;
    if (rc < 0) return rc;
    db__set_err(db, "query returned no value");
    return ERR_NOT_FOUND;
}

int db_query_one_text(db_t *db, char **out, const char *sql, size_t nparams,
                      const db_param_t *params)
{
    *out = NULL;
    db_res_t *r;
    int rc = first_value(db, &r, sql, nparams, params);
    if (rc < 0) return rc;
    *out = xstrndup(db_res_text(r, 0), db_res_len(r, 0));
    db_res_free(r);
    return 0;
}

int db_query_one_int(db_t *db, int64_t *out, const char *sql, size_t nparams,
                     const db_param_t *params)
{
    *out = 0;
    db_res_t *r;
    int rc = first_value(db, &r, sql, nparams, params);
    if (rc < 0) return rc;
    *out = db_res_int(r, 0);
    db_res_free(r);
    return 0;
}

int db_check_role(db_t *db, char *errbuf, size_t errlen)
{
    if (errlen) errbuf[0] = '\0';
    return db->ops->check_role(db, errbuf, errlen);
}

int db_res_page(db_res_t *r, int limit, bool *more, json_t *items,
                json_t *(*row)(db_res_t *r, void *arg), void *arg)
{
    int rc, n = 0;
    *more = false;
    while ((rc = db_res_next(r)) == 1) {
        if (n == limit) {
            *more = true;
            break;
        }
        json_array_append_new(items, row(r, arg));
        n++;
    }
    return rc < 0 ? rc : 0;
}
