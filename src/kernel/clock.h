/* clock.h — wall-clock time as the API and the database exchange it. */
#ifndef BZ_CLOCK_H
#define BZ_CLOCK_H

#include <stdint.h>

#include "arena.h"

/* clock_now_ms: Unix time in milliseconds. */
int64_t clock_now_ms(void);
/* clock_rfc3339: "2026-11-25T18:00:00.123Z" into out[32]. */
void clock_rfc3339(int64_t unix_ms, char out[32]);
/* clock_from_db: a time as either backend returns it — SQLite's stored
 * RFC 3339 text or PostgreSQL's "2026-11-25 18:00:00.123+00" (sessions run
 * in UTC) — as RFC 3339 UTC in the arena. NULL stays NULL. */
const char *clock_from_db(arena_t *a, const char *db_text);

#endif
