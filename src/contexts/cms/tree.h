/* tree.h — the page tree's paths (CMS-internal; see tree.c). */
#ifndef BZ_CMS_TREE_H
#define BZ_CMS_TREE_H

#include "arena.h"
#include "db.h"

/* cms__tree_path_for: the path of a page with slug under parent_id (NULL:
 * top level; slug "" there is the home page "/"). self_id (NULL when
 * creating) may not become its own ancestor. 422 with *why otherwise. */
int cms__tree_path_for(db_t *db, const char *tenant, const char *self_id, const char *parent_id,
                       const char *slug, arena_t *a, const char **path, const char **why);
/* cms__tree_claim_path: a page now lives at path: a redirect from it goes. */
int cms__tree_claim_path(db_t *db, const char *tenant, const char *path);
/* cms__tree_moved: after a page moved from old_path to new_path: moves its
 * descendants and leaves a 301 redirect from every old path. */
int cms__tree_moved(db_t *db, const char *tenant, const char *old_path, const char *new_path,
                    arena_t *a, const char **why);

#endif
