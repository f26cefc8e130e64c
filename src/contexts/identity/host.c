/* host.c — which tenant a host name belongs to (public traffic: the
 * marketing site and the CMS delivery API resolve their tenant from Host). */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "err.h"
#include "identity.h"

int identity_tenant_by_host(db_t *db, const char *host, char out[64])
{
    size_t n = host ? strlen(host) : 0;
    if (n == 0 || n > 253) return ERR_NOT_FOUND;
    for (size_t i = 0; i < n; i++) {
        char c = host[i];
        /* host names are stored lower-case; '%', '_' and '"' never reach LIKE */
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == ':' || c == '[' || c == ']'))
            return ERR_NOT_FOUND;
    }
    char pattern[300];
    snprintf(pattern, sizeof pattern, "%%\"%s\"%%", host);
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT id, domains FROM tenants WHERE status = 'active' AND domains LIKE $1 "
                      "ORDER BY created_at, id",
                      DB_ARGS(DB_TEXT(pattern)));
    if (rc < 0) return rc;
    int found = ERR_NOT_FOUND;
    while (found == ERR_NOT_FOUND && (rc = db_res_next(r)) == 1) {
        json_t *d = json_loads(db_res_text(r, 1) ? db_res_text(r, 1) : "[]", 0, NULL);
        size_t i;
        json_t *v;
        json_array_foreach(d, i, v)
        {
            if (json_is_string(v) && strcmp(json_string_value(v), host) == 0) {
                snprintf(out, 64, "%s", db_res_text(r, 0));
                found = 0;
                break;
            }
        }
        json_decref(d);
    }
    db_res_free(r);
    return rc < 0 ? rc : found;
}
