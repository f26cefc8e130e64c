/* cms.h — the CMS context (service wagtail-cms, /api/v1/cms; public
 * delivery /api/v2) and the server-rendered marketing site ("/", "/{path}").
 *
 * Pages form a tree per tenant (unique slug paths), carry SEO fields and a
 * body of ordered blocks (rich text sanitized on save, image, call to
 * action, form embed), are edited as drafts with revisions and published,
 * unpublished or scheduled. Media (images sniffed from their bytes) live
 * under DATA_DIR/media/<tenant>/. Menus, forms with a field schema and
 * their submissions, redirects kept with the tree. Public traffic finds its
 * tenant from the Host header (identity_tenant_by_host; 127.0.0.1 and ::1
 * count as "localhost", the demo tenant's domain). This header is what the
 * rest of the binary may call. */
#ifndef BZ_CMS_H
#define BZ_CMS_H

#include <jansson.h>
#include <stdint.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "router.h"

/* cms_register: the routes (API, delivery, site) and the role grants
 * (tenant_admin and manager cms.*, client cms.view). cfg is borrowed and
 * must outlive the server. Call once at startup. */
void cms_register(router_t *r, const config_t *cfg);

/* cms_start: seeds the demo tenant's site (idempotent: once per tenant,
 * remembered in cms_sites.seeded) when the demo tenant exists, and starts
 * the scheduled-publishing timer thread. db: no transaction open; used
 * during the call only. Returns 0 or -1 (logged). */
int cms_start(db_t *db);
/* cms_stop: stops the timer thread (safe when never started). */
void cms_stop(void);

/* cms_publish_due: publishes every page whose publish_at is at or before
 * now_ms, in every tenant. db: no transaction open (the call runs its own,
 * in platform scope). *published (may be NULL) gets the count. The timer
 * thread calls this every BIZOSAAS_CMS_SCHEDULE_INTERVAL_MS; the workflow
 * scheduler may call it instead once it exists. */
int cms_publish_due(db_t *db, int64_t now_ms, int *published);

/* cms_form_submit: validates fields (a JSON object of strings or numbers)
 * against the field schema of tenant_id's form form_slug and stores the
 * submission, in the caller's open write transaction (tenant scope of
 * tenant_id, or platform scope). On success *submission_out (owned by the
 * arena a) is the stored submission {id, form, data, created_at}. Errors:
 * ERR_NOT_FOUND (no such form); ERR_VALIDATION when a field is missing,
 * unknown, too long, of the wrong type or not one of its choices — then
 * *submission_out is {"message": first message, "errors": {field: message}}
 * so a caller can show each message next to its field. */
int cms_form_submit(db_t *db, const char *tenant_id, const char *form_slug, const json_t *fields,
                    const char *remote_addr, arena_t *a, json_t **submission_out);

/* cms_host_tenant: the tenant of a Host header value (port removed,
 * lower-cased; 127.0.0.1 and [::1] read as localhost), cached for a few
 * seconds. Runs its own platform-scope read transaction on db (none may be
 * open). ERR_NOT_FOUND when no tenant has that domain. */
int cms_host_tenant(db_t *db, const char *host, char out[64]);

/* A form handler replaces the plain store of one form's submissions on the
 * site's POST /contact: the contact flow registers one for "contact", so a
 * post without JavaScript also creates the lead. Same contract as
 * cms_form_submit (the caller's write transaction; *out owned by the arena
 * a; ERR_VALIDATION with {message, errors}); on success *out carries
 * "submission_id". */
typedef int (*cms_form_handler_fn)(db_t *db, const char *tenant_id, const json_t *fields,
                                   const char *remote_addr, arena_t *a, json_t **out);
/* cms_set_form_handler: installs fn for the form slug (copied; one handler
 * per slug, at most CMS_FORM_HANDLERS). Call at startup, before threads. */
#define CMS_FORM_HANDLERS 4
void cms_set_form_handler(const char *slug, cms_form_handler_fn fn);

#endif
