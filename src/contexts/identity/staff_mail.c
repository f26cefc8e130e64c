/* staff_mail.c — identity_mail_staff: mail to every active user of a tenant
 * holding one of some roles (other contexts' alerts, e.g. a high-value lead
 * for the managers), queued in mail_outbox inside the caller's transaction
 * so it goes out iff the change that caused it committed. */
#include <string.h>

#include "domain.h"
#include "err.h"
#include "identity.h"
#include "internal.h"

int identity_mail_staff(db_t *db, const char *tenant_id, unsigned roles, const char *subject,
                        const char *body)
{
    if (!tenant_id || !*tenant_id || !roles || !subject || !*subject || !body)
        return ERR_VALIDATION;
    db_res_t *r = NULL;
    int rc = db_query(db, &r,
                      "SELECT email, roles FROM users WHERE tenant_id = $1 AND active "
                      "ORDER BY email",
                      DB_ARGS(DB_TEXT(tenant_id)));
    int queued = 0;
    while (rc == 0) {
        int more = db_res_next(r);
        if (more <= 0) {
            rc = more;
            break;
        }
        if (!(user_roles_from_text(db_res_text(r, 1)) & roles)) continue;
        /* copy: the row's text is only valid until the next statement */
        char to[320];
        const char *email = db_res_text(r, 0);
        if (!email || strlen(email) >= sizeof to) continue;
        memcpy(to, email, strlen(email) + 1);
        rc = idn__mail(db, tenant_id, to, subject, body);
        if (rc == 0) queued++;
    }
    db_res_free(r);
    return rc < 0 ? rc : queued;
}
