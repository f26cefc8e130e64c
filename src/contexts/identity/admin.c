/* admin.c — `bizosaas admin <command>`: operator commands against the
 * configured database (seed-demo, create-tenant, create-user,
 * reset-password, unlock-user). Each runs in one platform-scope
 * transaction; generated passwords are printed once on stdout. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "err.h"
#include "identity.h"
#include "log.h"
#include "migrate.h"
#include "passwords.h"
#include "repo.h"

static void usage(FILE *f)
{
    fputs(
        "Usage: bizosaas admin <command> [options]\n"
        "  seed-demo                                   create/reset the demo tenant; print logins\n"
        "  create-tenant --name N --slug S [--domain D] [--plan P]\n"
        "  create-user --tenant SLUG --email E --role R [--password P] [--name N]\n"
        "  reset-password --tenant SLUG --email E [--password P]\n"
        "  unlock-user --email E\n"
        "A password that is not given is generated and printed once.\n",
        f);
}

/* opt: the value following --name in argv[3..], or NULL. */
static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 3; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return NULL;
}

static int open_db(const config_t *cfg, db_t **db)
{
    char err[512];
    db_options_t o = {.connect_timeout_ms = (int)cfg->db_timeout_ms * 5};
    if (db_open(cfg->database_url, &o, db, err, sizeof err) < 0) {
        fprintf(stderr, "bizosaas admin: cannot open the database: %s\n", err);
        return -1;
    }
    int pending = migrate_pending(*db);
    if (pending > 0 && db_backend(*db) == DB_SQLITE) pending = migrate_apply(*db) < 0 ? -1 : 0;
    if (pending != 0) {
        fprintf(stderr, "bizosaas admin: migrations are pending or unreadable; run `bizosaas "
                        "migrate` first\n");
        db_close(*db);
        return -1;
    }
    return 0;
}

static const actor_t operator_actor = {
    .tenant_id = "", .user_id = "operator", .roles = ROLE_SUPER_ADMIN, .ip = "cli"};

static int create_tenant(db_t *db, arena_t *a, int argc, char **argv)
{
    const char *name = opt(argc, argv, "--name"), *slug = opt(argc, argv, "--slug");
    if (!name || !slug) return ERR_BAD_REQUEST;
    json_t *domains = json_array();
    arena_defer(a, (void (*)(void *))json_decref, domains);
    if (opt(argc, argv, "--domain"))
        json_array_append_new(domains, json_string(opt(argc, argv, "--domain")));
    tenant_input_t in = {
        .name = name, .slug = slug, .plan = opt(argc, argv, "--plan"), .domains = domains};
    tenant_t t;
    const char *why = NULL;
    int rc = idn_tenant_create(db, a, &in, &t, &why);
    if (rc < 0) {
        fprintf(stderr, "bizosaas admin: %s\n", why ? why : err_message(rc));
        return rc;
    }
    printf("created tenant %s (%s)\n", t.slug, t.id);
    return 0;
}

static int user_cmd(db_t *db, arena_t *a, int argc, char **argv, bool create)
{
    const char *slug = opt(argc, argv, "--tenant"), *email_in = opt(argc, argv, "--email");
    const char *role = opt(argc, argv, "--role"), *pw = opt(argc, argv, "--password");
    if (!slug || !email_in || (create && !role)) return ERR_BAD_REQUEST;
    char email[USER_EMAIL_MAX + 1], gen[21] = {0}, tenant[64];
    if (!user_email_normalize(email_in, email, sizeof email)) return ERR_BAD_REQUEST;
    int rc = repo_tenant_find_slug(db, slug, tenant);
    if (rc < 0) {
        fprintf(stderr, "bizosaas admin: no tenant with slug %s\n", slug);
        return rc;
    }
    if (!pw) {
        pw_generate(gen);
        pw = gen;
    }
    const char *why = pw_policy_invalid(pw, email);
    if (why) {
        fprintf(stderr, "bizosaas admin: %s\n", why);
        return ERR_VALIDATION;
    }
    if (create) {
        json_t *roles = json_pack("[s]", role);
        arena_defer(a, (void (*)(void *))json_decref, roles);
        user_input_t in = {.tenant_id = tenant,
                           .email = email,
                           .name = opt(argc, argv, "--name"),
                           .password = pw,
                           .roles = roles,
                           .active = 1};
        user_t u;
        rc = idn_user_create(db, a, &operator_actor, &in, &u, &why);
        if (rc < 0) {
            fprintf(stderr, "bizosaas admin: %s\n", why ? why : err_message(rc));
            return rc;
        }
        printf("created user %s (%s) in %s\n", email, u.id, slug);
    } else {
        user_t u;
        if ((rc = repo_user_get_by_email(db, a, tenant, email, &u)) < 0) {
            fprintf(stderr, "bizosaas admin: no user %s in %s\n", email, slug);
            return rc;
        }
        char hash[PW_HASH_MAX];
        if ((rc = pw_hash(pw, hash)) < 0 ||
            (rc = repo_user_set_password(db, tenant, u.id, hash)) < 0 ||
            (rc = repo_user_revoke_all(db, tenant, u.id, idn__now())) < 0 ||
            (rc = idn__audit(db, tenant, "password.reset", "operator", u.id, "cli", NULL)) < 0)
            return rc;
        printf("password reset for %s in %s\n", email, slug);
    }
    if (gen[0]) printf("password: %s\n", gen);
    sodium_memzero(gen, sizeof gen);
    return 0;
}

static int unlock(db_t *db, int argc, char **argv)
{
    const char *e = opt(argc, argv, "--email");
    char email[USER_EMAIL_MAX + 1], key[300];
    if (!e || !user_email_normalize(e, email, sizeof email)) return ERR_BAD_REQUEST;
    snprintf(key, sizeof key, "email:%s", email);
    int rc = repo_throttle_clear(db, key);
    if (rc == 0) printf("unlocked %s\n", email);
    return rc;
}

int identity_admin_main(int argc, char **argv, const config_t *cfg)
{
    if (argc < 3 || !strcmp(argv[2], "--help") || !strcmp(argv[2], "help")) {
        usage(argc < 3 ? stderr : stdout);
        return argc < 3 ? 2 : 0;
    }
    if (!idn__cfg) idn__cfg = cfg; /* the CLI runs without identity_configure */
    const char *cmd = argv[2];
    bool known = !strcmp(cmd, "seed-demo") || !strcmp(cmd, "create-tenant") ||
                 !strcmp(cmd, "create-user") || !strcmp(cmd, "reset-password") ||
                 !strcmp(cmd, "unlock-user");
    if (!known) {
        fprintf(stderr, "bizosaas admin: unknown command %s\n", cmd);
        usage(stderr);
        return 2;
    }
    db_t *db = NULL;
    if (open_db(cfg, &db) < 0) return 1;
    int rc;
    if (!strcmp(cmd, "seed-demo")) {
        printf("demo tenant \"demo\" (domain localhost); logins:\n");
        rc = idn__seed_demo(db, stdout);
        db_close(db);
        return rc < 0 ? 1 : 0;
    }
    arena_t *a = arena_new();
    rc = db_begin_platform(db, true);
    if (rc == 0) {
        if (!strcmp(cmd, "create-tenant"))
            rc = create_tenant(db, a, argc, argv);
        else if (!strcmp(cmd, "create-user"))
            rc = user_cmd(db, a, argc, argv, true);
        else if (!strcmp(cmd, "reset-password"))
            rc = user_cmd(db, a, argc, argv, false);
        else
            rc = unlock(db, argc, argv);
        if (rc == 0)
            rc = db_commit(db);
        else
            db_rollback(db);
    }
    if (rc == ERR_BAD_REQUEST)
        usage(stderr);
    else if (rc < 0 && rc != ERR_VALIDATION && rc != ERR_NOT_FOUND && rc != ERR_EXISTS)
        fprintf(stderr, "bizosaas admin: %s (%s)\n", err_message(rc), db_errmsg(db));
    arena_free(a);
    db_close(db);
    return rc == ERR_BAD_REQUEST ? 2 : rc < 0 ? 1 : 0;
}
