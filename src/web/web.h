/* web.h — the web portals' static files: /login, /portal, /admin, /assets.
 *
 * At start the whole web root (BIZOSAAS_WEB_ROOT, default ./web or web/
 * next to the binary's build directory) is read into memory once: every
 * regular file under it, each with its content type, a content hash (the
 * ETag and the `?v=` version of its URL), its Last-Modified time and, for
 * text, a gzip copy when that is smaller. HTML files are rewritten once so
 * every "/assets/…" URL they name carries `?v=<hash>`, and an import map
 * (inserted at `<!--bz:importmap-->`) maps every JavaScript module to its
 * versioned URL — so a versioned URL can be cached for a year (immutable)
 * and HTML is revalidated on every load (ETag / 304).
 *
 * Requests never touch the file system: a path resolves only to a file
 * that was found under the root at start (no traversal, no symlink out of
 * the root — a symlink whose target leaves the root is skipped). Editing
 * files under web/ needs a restart. The routes are RT_INLINE (answered on
 * the I/O thread) and public: the pages hold no data; the API they call
 * enforces every permission.
 *
 *   GET /login                 login/index.html
 *   GET /portal/{path...}      portal/index.html (client-side routes)
 *   GET /admin/{path...}       admin/index.html
 *   GET /assets/{path...}      any file under the root
 */
#ifndef BZ_WEB_H
#define BZ_WEB_H

#include "config.h"
#include "router.h"

/* web_register: adds the four routes. cfg is borrowed for the life of the
 * process (read again by web_start). */
void web_register(router_t *r, const config_t *cfg);

/* web_start: finds the web root and loads it. A root given in the
 * configuration that cannot be read, or a tree larger than
 * BIZOSAAS_WEB_CACHE_MAX_BYTES, is an error (logged; returns ERR_CONFIG):
 * the server must not start. With no root configured and none found the
 * portals answer 404 and 0 is returned. Call before the server starts. */
int web_start(void);

/* web_stop: releases the loaded files. Call after the server stopped. */
void web_stop(void);

#endif
