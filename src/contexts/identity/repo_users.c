/* repo_users.c — SQL for users: CRUD, login candidates, two-factor state.
 *
 * Every statement names the tenant (or runs in platform scope on purpose:
 * login candidates and the global e-mail check), so SQLite is as strict as
 * PostgreSQL's row-level security. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "repo.h"

#define USER_COLS                                                                                  \
    "tenant_id, id, email, name, roles, active, verified, totp_enabled, created_at, updated_at, "  \
    "last_login_at"

static void row_to_user(db_res_t *r, arena_t *a, user_t *u)
{
    u->tenant_id = arena_strdup(a, db_res_text(r, 0));
    u->id = arena_strdup(a, db_res_text(r, 1));
    u->email = arena_strdup(a, db_res_text(r, 2));
    u->name = arena_strdup(a, db_res_text(r, 3) ? db_res_text(r, 3) : "");
    u->roles = user_roles_from_text(db_res_text(r, 4));
    u->active = db_res_int(r, 5) != 0;
    u->verified = db_res_int(r, 6) != 0;
    u->totp_enabled = db_res_int(r, 7) != 0;
    u->created_at = clock_from_db(a, db_res_text(r, 8));
    u->updated_at = clock_from_db(a, db_res_text(r, 9));
    u->last_login_at = clock_from_db(a, db_res_text(r, 10));
}

static char *roles_text(unsigned roles)
{
    json_t *j = user_roles_json(roles);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

int repo_user_insert(db_t *db, const user_t *u, const char *pw_hash)
{
    char *roles = roles_text(u->roles);
    int rc = db_exec(db, NULL,
                     "INSERT INTO users (tenant_id, id, email, name, password_hash, roles, active, "
                     "verified, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                     "$9, $9)",
                     DB_ARGS(DB_TEXT(u->tenant_id), DB_TEXT(u->id), DB_TEXT(u->email),
                             DB_TEXT(u->name ? u->name : ""), DB_TEXT(pw_hash), DB_TEXT(roles),
                             DB_BOOL(u->active), DB_BOOL(u->verified), DB_TEXT(u->created_at)));
    free(roles);
    return rc;
}

static int get_one(db_t *db, arena_t *a, user_t *out, const char *sql, size_t n,
                   const db_param_t *p)
{
    db_res_t *r;
    int rc = db_query(db, &r, sql, n, p);
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc == 1) row_to_user(r, a, out);
    db_res_free(r);
    return rc == 1 ? 0 : rc == 0 ? ERR_NOT_FOUND : rc;
}

int repo_user_get(db_t *db, arena_t *a, const char *scope, const char *id, user_t *out)
{
    return get_one(db, a, out,
                   "SELECT " USER_COLS " FROM users WHERE id = $1 AND ($2 = '' OR tenant_id = $2)",
                   DB_ARGS(DB_TEXT(id), DB_TEXT(scope ? scope : "")));
}

int repo_user_get_by_email(db_t *db, arena_t *a, const char *tenant_id, const char *email,
                           user_t *out)
{
    return get_one(db, a, out,
                   "SELECT " USER_COLS " FROM users WHERE tenant_id = $1 AND email = $2",
                   DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(email)));
}

static json_t *user_row_json(db_res_t *r, void *arena)
{
    user_t u;
    row_to_user(r, arena, &u);
    return user_to_json(&u);
}

int repo_user_list(db_t *db, arena_t *a, const char *scope, const char *after, int limit,
                   json_t *items, bool *more)
{
    db_res_t *r;
    int rc = db_query(
        db, &r,
        "SELECT " USER_COLS " FROM users WHERE id > $1 AND ($2 = '' OR tenant_id = $2) "
        "ORDER BY id LIMIT $3",
        DB_ARGS(DB_TEXT(after ? after : ""), DB_TEXT(scope ? scope : ""), DB_INT(limit + 1)));
    if (rc < 0) return rc;
    rc = db_res_page(r, limit, more, items, user_row_json, a);
    db_res_free(r);
    return rc;
}

int repo_user_update(db_t *db, const user_t *u)
{
    char *roles = roles_text(u->roles);
    int64_t n = 0;
    int rc =
        db_exec(db, &n,
                "UPDATE users SET name = $3, roles = $4, active = $5, verified = $6, "
                "updated_at = $7 WHERE tenant_id = $1 AND id = $2",
                DB_ARGS(DB_TEXT(u->tenant_id), DB_TEXT(u->id), DB_TEXT(u->name), DB_TEXT(roles),
                        DB_BOOL(u->active), DB_BOOL(u->verified), DB_TEXT(u->updated_at)));
    free(roles);
    return rc == 0 && n == 0 ? ERR_NOT_FOUND : rc;
}

static int exec_one(db_t *db, const char *sql, size_t np, const db_param_t *p)
{
    int64_t n = 0;
    int rc = db_exec(db, &n, sql, np, p);
    return rc == 0 && n == 0 ? ERR_NOT_FOUND : rc;
}

int repo_user_set_password(db_t *db, const char *tenant_id, const char *id, const char *hash)
{
    return exec_one(db, "UPDATE users SET password_hash = $3 WHERE tenant_id = $1 AND id = $2",
                    DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(id), DB_TEXT(hash)));
}

int repo_user_set_verified(db_t *db, const char *tenant_id, const char *id)
{
    return exec_one(db, "UPDATE users SET verified = $3 WHERE tenant_id = $1 AND id = $2",
                    DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(id), DB_BOOL(true)));
}

int repo_user_touch_login(db_t *db, const char *tenant_id, const char *id, const char *at)
{
    return exec_one(db, "UPDATE users SET last_login_at = $3 WHERE tenant_id = $1 AND id = $2",
                    DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(id), DB_TEXT(at)));
}

int repo_user_email_taken(db_t *db, const char *email, bool *taken)
{
    int64_t n = 0;
    int rc = db_query_one_int(db, &n, "SELECT count(*) FROM users WHERE email = $1",
                              DB_ARGS(DB_TEXT(email)));
    *taken = n > 0;
    return rc;
}

int repo_user_set_totp(db_t *db, const char *tenant_id, const char *id, const char *secret,
                       bool enabled)
{
    return exec_one(db,
                    "UPDATE users SET totp_secret = $3, totp_enabled = $4 "
                    "WHERE tenant_id = $1 AND id = $2",
                    DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(id), DB_TEXT(secret), DB_BOOL(enabled)));
}

int repo_user_totp(db_t *db, arena_t *a, const char *tenant_id, const char *id, const char **secret,
                   bool *enabled)
{
    db_res_t *r;
    int rc = db_query(
        db, &r, "SELECT totp_secret, totp_enabled FROM users WHERE tenant_id = $1 AND id = $2",
        DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(id)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc == 1) {
        *secret = db_res_text(r, 0) ? arena_strdup(a, db_res_text(r, 0)) : NULL;
        *enabled = db_res_int(r, 1) != 0;
    }
    db_res_free(r);
    return rc == 1 ? 0 : rc == 0 ? ERR_NOT_FOUND : rc;
}

int repo_login_cands(db_t *db, const char *email, const char *tenant_slug, login_cand_t *out,
                     int *n)
{
    *n = 0;
    db_res_t *r;
    int rc = db_query(
        db, &r,
        "SELECT u.tenant_id, u.id, u.password_hash, u.roles, u.active, "
        "u.totp_enabled, u.totp_secret, t.status, t.require_mfa "
        "FROM users u JOIN tenants t ON t.id = u.tenant_id "
        "WHERE u.email = $1 AND ($2 = '' OR t.slug = $2) ORDER BY u.id LIMIT $3",
        DB_ARGS(DB_TEXT(email), DB_TEXT(tenant_slug ? tenant_slug : ""), DB_INT(LOGIN_CANDS_MAX)));
    if (rc < 0) return rc;
    while ((rc = db_res_next(r)) == 1 && *n < LOGIN_CANDS_MAX) {
        login_cand_t *c = &out[(*n)++];
        memset(c, 0, sizeof *c);
        snprintf(c->tenant_id, sizeof c->tenant_id, "%s", db_res_text(r, 0));
        snprintf(c->id, sizeof c->id, "%s", db_res_text(r, 1));
        c->pw_hash = db_res_text(r, 2) ? strdup(db_res_text(r, 2)) : NULL;
        c->roles = user_roles_from_text(db_res_text(r, 3));
        c->active = db_res_int(r, 4) != 0;
        c->totp_enabled = db_res_int(r, 5) != 0;
        c->totp_secret = db_res_text(r, 6) ? strdup(db_res_text(r, 6)) : NULL;
        c->tenant_active = db_res_text(r, 7) && strcmp(db_res_text(r, 7), "active") == 0;
        c->require_mfa = db_res_int(r, 8) != 0;
    }
    db_res_free(r);
    return rc < 0 ? rc : 0;
}

void repo_login_cands_free(login_cand_t *c, int n)
{
    for (int i = 0; i < n; i++) {
        free(c[i].pw_hash);
        free(c[i].totp_secret);
        c[i].pw_hash = c[i].totp_secret = NULL;
    }
}
