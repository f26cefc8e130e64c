/* seed.c — the demo data and `bizosaas admin …`, the operators' commands.
 *
 * The demo tenant (slug "demo", domain "localhost") gets one user per role
 * with one freshly generated password. On the embedded default's first
 * start the logins are logged once; they are never stored in clear and
 * never logged again (a later `bizosaas admin seed-demo` makes a new
 * password and prints it). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "clock.h"
#include "err.h"
#include "identity.h"
#include "ids.h"
#include "log.h"
#include "migrate.h"
#include "passwords.h"
#include "repo.h"

static const struct demo_user {
    const char *email, *name;
    unsigned role;
} demo_users[] = {
    {"superadmin@demo.bizosaas.local", "Demo Super Admin", ROLE_SUPER_ADMIN},
    {"admin@demo.bizosaas.local", "Demo Tenant Admin", ROLE_TENANT_ADMIN},
    {"manager@demo.bizosaas.local", "Demo Manager", ROLE_MANAGER},
    {"client@demo.bizosaas.local", "Demo Client", ROLE_CLIENT},
};
#define N_DEMO (sizeof demo_users / sizeof demo_users[0])

/* put_user: creates the user in tenant, or sets its password (and roles)
 * when the e-mail exists there. hash may be NULL for "keep". */
static int put_user(db_t *db, arena_t *a, const char *tenant, const char *email, const char *name,
                    unsigned roles, const char *hash, bool *created)
{
    user_t u;
    int rc = repo_user_get_by_email(db, a, tenant, email, &u);
    *created = rc == ERR_NOT_FOUND;
    if (rc == 0) {
        if (hash && (rc = repo_user_set_password(db, tenant, u.id, hash)) < 0) return rc;
        return 0;
    }
    if (rc != ERR_NOT_FOUND) return rc;
    char *id = arena_alloc(a, 40), *now = arena_alloc(a, 32);
    id_uuidv7(id);
    clock_rfc3339(clock_now_ms(), now);
    u = (user_t){.tenant_id = tenant,
                 .id = id,
                 .email = email,
                 .name = name,
                 .roles = roles,
                 .active = true,
                 .verified = true,
                 .created_at = now,
                 .updated_at = now};
    return repo_user_insert(db, &u, hash);
}

int idn__seed_demo(db_t *db, FILE *out)
{
    arena_t *a = arena_new();
    char tenant[64], pw[21], hash[PW_HASH_MAX];
    pw_generate(pw);
    int rc = pw_hash(pw, hash);
    if (rc < 0) goto done;
    if ((rc = db_begin_platform(db, true)) < 0) goto done;
    rc = repo_tenant_find_slug(db, "demo", tenant);
    if (rc == ERR_NOT_FOUND) {
        json_t *domains = json_pack("[s]", "localhost");
        arena_defer(a, (void (*)(void *))json_decref, domains);
        tenant_input_t in = {
            .name = "Demo", .slug = "demo", .plan = "professional", .domains = domains};
        tenant_t t;
        const char *why = NULL;
        rc = idn_tenant_create(db, a, &in, &t, &why);
        if (rc == 0) snprintf(tenant, sizeof tenant, "%s", t.id);
    }
    for (size_t i = 0; rc == 0 && i < N_DEMO; i++) {
        bool created;
        rc = put_user(db, a, tenant, demo_users[i].email, demo_users[i].name, demo_users[i].role,
                      hash, &created);
    }
    if (rc == 0) rc = db_commit(db);
    if (rc < 0) {
        log_error("identity: cannot seed the demo tenant: %s", db_errmsg(db));
        db_rollback(db);
        goto done;
    }
    for (size_t i = 0; out && i < N_DEMO; i++)
        fprintf(out, "%-32s %-13s %s\n", demo_users[i].email, auth_role_name(demo_users[i].role),
                pw);
done:
    sodium_memzero(pw, sizeof pw);
    arena_free(a);
    return rc;
}
