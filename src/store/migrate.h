/* migrate.h — numbered SQL migrations per backend, embedded in the binary.
 *
 * migrations/{sqlite,postgres}/NNNN_name.sql are compiled into the binary at
 * build time (see cmake/embed_migrations.cmake). Each pending migration runs
 * in its own transaction and is recorded in schema_migrations(version, name,
 * applied_at) in that same transaction. */
#ifndef BZ_MIGRATE_H
#define BZ_MIGRATE_H

#include <stdbool.h>
#include <stdio.h>

#include "db.h"

typedef struct migration {
    int version;
    const char *name; /* e.g. "0001_init" */
    const char *sql;
} migration_t;

/* migrate_list: the embedded migrations for a backend, in version order. */
const migration_t *migrate_list(db_backend_t backend, size_t *count);
/* migrate_pending: number of embedded migrations not yet applied (>= 0), or <0 error. */
int migrate_pending(db_t *db);
/* migrate_apply: applies every pending migration; returns how many were
 * applied (>= 0) or <0 (the failing one is rolled back and named in the log). */
int migrate_apply(db_t *db);
/* migrate_status: prints one line per embedded migration: version, name,
 * applied time or "pending". */
int migrate_status(db_t *db, FILE *out);

#endif
