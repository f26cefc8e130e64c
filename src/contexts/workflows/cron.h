/* cron.h — 5-field cron expressions and their next firing in a time zone.
 *
 * Fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12 or
 * JAN-DEC), day of week (0-7, 0 and 7 = Sunday, or SUN-SAT). Each field is
 * a comma list of `*`, `N`, `N-M`, with an optional `/STEP` (`*`/5, 1-30/2,
 * 5/15 = 5-max/15). Names are case-insensitive. As in Vixie cron, when both
 * day fields are restricted a day matches if either matches.
 *
 * Time zones are IANA names from the system TZ database
 * (/usr/share/zoneinfo). DST: a wall-clock time that does not exist (the
 * hour skipped when clocks go forward) never fires that day; a wall-clock
 * time that happens twice (the hour repeated when clocks go back) fires
 * at both occurrences. See docs/ARCHITECTURE.md, "Workflows". */
#ifndef BZ_WF_CRON_H
#define BZ_WF_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wf_cron {
    uint64_t minute;    /* bit n = minute n */
    uint32_t hour;      /* bit n = hour n */
    uint32_t dom;       /* bit n = day n (1..31) */
    uint16_t month;     /* bit n = month n (1..12) */
    uint8_t dow;        /* bit n = weekday n (0 = Sunday .. 6) */
    bool dom_star, dow_star;
} wf_cron_t;

/* wf_cron_parse: parses expr into c. Returns 0, or ERR_VALIDATION with a
 * reason in err. */
int wf_cron_parse(const char *expr, wf_cron_t *c, char *err, size_t errlen);

/* wf_tz_valid: true when tz names a zone file of the TZ database (or is "UTC"). */
bool wf_tz_valid(const char *tz);

/* wf_cron_next: the first firing strictly after after_ms (Unix ms) in time
 * zone tz, as Unix ms at a whole minute; -1 when there is none within about
 * five years (e.g. "0 0 30 2 *"). Thread-safe (the TZ switch is serialized
 * by a mutex: nothing else in bizosaas uses local time). */
int64_t wf_cron_next(const wf_cron_t *c, const char *tz, int64_t after_ms);

#endif
