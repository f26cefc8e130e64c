/* testdb.h — a private database for one unit-test case, on either backend.
 *
 * SQLite: a file in a new temporary directory. PostgreSQL: a new schema in
 * the database of BIZOSAAS_TEST_PG_URL, reached through a URL whose
 * search_path is that schema, so cases never see each other's tables. The
 * temporary directory is made on both backends (tests put other files
 * there: keys, data dirs). Header-only: every test_*.c is its own program. */
#ifndef BZ_TESTDB_H
#define BZ_TESTDB_H

#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"

/* Connect timeout of test connections: generous, because SCRAM
 * authentication under valgrind on a loaded machine can take seconds (the
 * server's own default is tuned to fail fast instead). */
#define TESTDB_CONNECT_TIMEOUT_MS 30000

/* testdb_options: the options every test connection to PostgreSQL uses. */
static inline const db_options_t *testdb_options(void)
{
    static const db_options_t o = {.connect_timeout_ms = TESTDB_CONNECT_TIMEOUT_MS};
    return &o;
}

typedef struct testdb {
    bool pg;
    char dir[64];
    char schema[64];
    char url[1024];
} testdb_t;

/* testdb_prepare: fills t for backend pg/sqlite; tag names the schema and
 * directory; sqlite_file is relative to the directory. Returns false when
 * PostgreSQL is asked for but BIZOSAAS_TEST_PG_URL is unset (skip the case). */
static inline bool testdb_prepare(testdb_t *t, bool pg, const char *tag, const char *sqlite_file)
{
    static int ncase;
    memset(t, 0, sizeof *t);
    t->pg = pg;
    snprintf(t->dir, sizeof t->dir, "/tmp/bz-test-%s-XXXXXX", tag);
    assert_non_null(mkdtemp(t->dir));
    if (!pg) {
        int n = snprintf(t->url, sizeof t->url, "sqlite:%s/%s", t->dir, sqlite_file);
        assert_true(n > 0 && (size_t)n < sizeof t->url);
        return true;
    }
    const char *base = getenv("BIZOSAAS_TEST_PG_URL");
    if (!base || !*base) return false;
    snprintf(t->schema, sizeof t->schema, "bz_test_%s_%d_%d", tag, (int)getpid(), ++ncase);
    char err[512], sql[160];
    db_t *db;
    if (db_open(base, testdb_options(), &db, err, sizeof err) != 0) fail_msg("db_open: %s", err);
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", t->schema);
    assert_int_equal(db_exec(db, NULL, sql, DB_NOARGS), 0);
    db_close(db);
    int n = snprintf(t->url, sizeof t->url, "%s%coptions=-csearch_path%%3D%s", base,
                     strchr(base, '?') ? '&' : '?', t->schema);
    assert_true(n > 0 && (size_t)n < sizeof t->url);
    return true;
}

/* testdb_open: a connection to t->url (the case fails when it cannot). */
static inline db_t *testdb_open(const testdb_t *t)
{
    char err[512];
    db_t *db = NULL;
    if (db_open(t->url, testdb_options(), &db, err, sizeof err) != 0) fail_msg("db_open: %s", err);
    return db;
}

static inline int testdb__rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* testdb_cleanup: drops the schema through db (which is then closed; NULL
 * when the case never opened one) and removes the directory. */
static inline void testdb_cleanup(testdb_t *t, db_t *db)
{
    if (db) {
        db_rollback(db);
        if (t->pg && t->schema[0]) {
            char sql[160];
            snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", t->schema);
            assert_int_equal(db_exec(db, NULL, sql, DB_NOARGS), 0);
        }
        db_close(db);
    }
    if (t->dir[0]) nftw(t->dir, testdb__rm, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
