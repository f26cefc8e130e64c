/* site.h — the marketing site's routes and the public-traffic helpers the
 * delivery API shares (CMS-internal). */
#ifndef BZ_CMS_SITE_H
#define BZ_CMS_SITE_H

#include <stdbool.h>

#include "http.h"
#include "router.h"

/* cms__site_register: "/", "/{path...}" (RT_FALLBACK), /sitemap.xml,
 * /robots.txt, /contact, /media/{tenant}/{file}. */
void cms__site_register(router_t *r);

/* cms__public_begin: for RT_PUBLIC | RT_NO_TX handlers: finds the tenant
 * of the Host header and opens a transaction in its scope on req->db.
 * On failure writes the JSON error (404 unknown host, 503 database) and
 * returns it; on success the caller must end with cms__public_end. */
int cms__public_begin(http_req_t *req, http_res_t *res, bool write, char tenant[64]);
/* cms__public_end: commits when rc is 0 and the response is not an error,
 * else rolls back. Returns 0 (the value RT_NO_TX handlers return). */
int cms__public_end(http_req_t *req, http_res_t *res, int rc);

/* cms__form_rate_check: counts a public form submission against the
 * client IP's BIZOSAAS_CMS_FORM_RATE_PER_MIN; over it writes 429 with
 * Retry-After and returns ERR_RATE_LIMITED. */
int cms__form_rate_check(http_req_t *req, http_res_t *res);
/* cms__site_stop: frees the rate limiter and the page cache. */
void cms__site_stop(void);

/* cms__rfc3339_ok: "YYYY-MM-DDTHH:MM:SS(.fff)Z" (the form times are stored
 * in, so they compare as text). */
bool cms__rfc3339_ok(const char *s);

#endif
