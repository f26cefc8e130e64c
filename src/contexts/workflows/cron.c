/* cron.c — the cron parser and next-fire computation (cron.h).
 *
 * Local time comes from the C library: the process's TZ is switched to the
 * schedule's zone (setenv + tzset) under a mutex, localtime_r/mktime do the
 * conversions, and TZ is restored. Nothing else in bizosaas reads local
 * time (logs and the API are UTC), so the switch is invisible to it. */
#include "cron.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "err.h"

typedef struct field_spec {
    const char *what;
    int min, max;
    const char *const *names; /* names[i] = value min + i, or NULL */
} field_spec_t;

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", NULL};
static const char *const dow_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL};

static const field_spec_t fields[5] = {
    {"minute", 0, 59, NULL},       {"hour", 0, 23, NULL},          {"day of month", 1, 31, NULL},
    {"month", 1, 12, month_names}, {"day of week", 0, 7, dow_names},
};

/* parse_value: a number or a name at *p; advances *p. */
static int parse_value(const char **p, const field_spec_t *f, int *out)
{
    const char *s = *p;
    if (isdigit((unsigned char)*s)) {
        long v = 0;
        int n = 0;
        while (isdigit((unsigned char)*s) && n < 4) v = v * 10 + (*s++ - '0'), n++;
        if (isdigit((unsigned char)*s) || v < f->min || v > f->max) return -1;
        *out = (int)v;
        *p = s;
        return 0;
    }
    if (f->names && isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1]) &&
        isalpha((unsigned char)s[2]) && !isalpha((unsigned char)s[3])) {
        for (int i = 0; f->names[i]; i++) {
            if (strncasecmp(s, f->names[i], 3) == 0) {
                *out = f->min == 0 ? i : i + 1; /* months start at 1, weekdays at 0 */
                *p = s + 3;
                return 0;
            }
        }
    }
    return -1;
}

/* parse_field: one comma list into bits (bit n = value n). */
static int parse_field(const char *s, const field_spec_t *f, uint64_t *bits, bool *star, char *err,
                       size_t errlen)
{
    *bits = 0;
    *star = false;
    const char *p = s;
    for (;;) {
        int lo, hi, step = 1;
        bool item_star = false;
        if (*p == '*') {
            lo = f->min;
            hi = f->max;
            item_star = true;
            p++;
        } else {
            if (parse_value(&p, f, &lo) < 0) goto bad;
            hi = lo;
            if (*p == '-') {
                p++;
                if (parse_value(&p, f, &hi) < 0 || hi < lo) goto bad;
            }
        }
        if (*p == '/') {
            p++;
            if (!isdigit((unsigned char)*p)) goto bad;
            long v = 0;
            int n = 0;
            while (isdigit((unsigned char)*p) && n < 3) v = v * 10 + (*p++ - '0'), n++;
            if (v < 1 || v > f->max || isdigit((unsigned char)*p)) goto bad;
            step = (int)v;
            if (!item_star && hi == lo) hi = f->max; /* "5/15" = 5-max/15 */
        }
        if (item_star && step == 1) *star = true;
        for (int v = lo; v <= hi; v += step) *bits |= UINT64_C(1) << v;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '\0') return 0;
    bad:
        snprintf(err, errlen, "cron %s field '%s' is invalid (allowed %d-%d%s)", f->what, s, f->min,
                 f->max, f->names ? " or names" : "");
        return ERR_VALIDATION;
    }
}

int wf_cron_parse(const char *expr, wf_cron_t *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    char buf[256];
    if (!expr || strlen(expr) >= sizeof buf) {
        snprintf(err, errlen, "cron expression missing or too long");
        return ERR_VALIDATION;
    }
    snprintf(buf, sizeof buf, "%s", expr);
    char *tok[6], *save = NULL;
    int n = 0;
    for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (n == 6) break;
        tok[n++] = t;
    }
    if (n != 5) {
        snprintf(err, errlen, "a cron expression has 5 fields (minute hour day month weekday), not %d",
                 n);
        return ERR_VALIDATION;
    }
    uint64_t bits[5];
    bool star[5];
    for (int i = 0; i < 5; i++)
        if (parse_field(tok[i], &fields[i], &bits[i], &star[i], err, errlen) < 0) return ERR_VALIDATION;
    c->minute = bits[0];
    c->hour = (uint32_t)bits[1];
    c->dom = (uint32_t)bits[2];
    c->month = (uint16_t)bits[3];
    c->dow = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f); /* 7 = Sunday = 0 */
    c->dom_star = star[2];
    c->dow_star = star[4];
    return 0;
}

bool wf_tz_valid(const char *tz)
{
    if (!tz || !*tz || strlen(tz) > 64) return false;
    if (!strcmp(tz, "UTC")) return true;
    if (tz[0] == '/' || strstr(tz, "..")) return false;
    for (const char *p = tz; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p)) return false;
    char path[128];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool day_matches(const wf_cron_t *c, const struct tm *t)
{
    bool dom = (c->dom >> t->tm_mday) & 1, dow = (c->dow >> t->tm_wday) & 1;
    if (c->dom_star || c->dow_star) return dom && dow;
    return dom || dow;
}

static pthread_mutex_t tz_mu = PTHREAD_MUTEX_INITIALIZER;

int64_t wf_cron_next(const wf_cron_t *c, const char *tz, int64_t after_ms)
{
    pthread_mutex_lock(&tz_mu);
    char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    char zone[80];
    snprintf(zone, sizeof zone, ":%s", tz && *tz ? tz : "UTC");
    setenv("TZ", zone, 1);
    tzset();
    /* the next whole minute after after_ms */
    time_t t = (time_t)(after_ms / 1000 / 60 + 1) * 60;
    time_t limit = t + (time_t)5 * 366 * 86400;
    int64_t out = -1;
    while (t < limit) {
        struct tm lt;
        localtime_r(&t, &lt);
        time_t next;
        if (!((c->month >> (lt.tm_mon + 1)) & 1)) {
            lt.tm_mon++, lt.tm_mday = 1, lt.tm_hour = 0, lt.tm_min = 0;
        } else if (!day_matches(c, &lt)) {
            lt.tm_mday++, lt.tm_hour = 0, lt.tm_min = 0;
        } else if (!((c->hour >> lt.tm_hour) & 1)) {
            /* to the start of the next local hour, in absolute time */
            t += (time_t)(60 - lt.tm_min) * 60;
            continue;
        } else if (!((c->minute >> lt.tm_min) & 1)) {
            t += 60;
            continue;
        } else {
            out = (int64_t)t * 1000;
            break;
        }
        lt.tm_sec = 0;
        lt.tm_isdst = -1;
        next = mktime(&lt);
        /* mktime may land in a DST gap or behind us; always move forward */
        t = next > t ? next : t + 60;
    }
    if (old) {
        setenv("TZ", old, 1);
        free(old);
    } else {
        unsetenv("TZ");
    }
    tzset();
    pthread_mutex_unlock(&tz_mu);
    return out;
}
