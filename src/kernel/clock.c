/* clock.c — RFC 3339 formatting and normalization of database times. */
#include "clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_rfc3339(int64_t ms, char out[32])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", base, (int)(ms % 1000));
}

const char *clock_from_db(arena_t *a, const char *t)
{
    if (!t) return NULL;
    size_t n = strlen(t);
    if (n < 19) return arena_strdup(a, t);
    /* date and time part: "YYYY-MM-DD?HH:MM:SS" */
    char out[40];
    memcpy(out, t, 19);
    out[10] = 'T';
    size_t o = 19, i = 19;
    if (i < n && t[i] == '.') { /* keep milliseconds only */
        out[o++] = '.';
        i++;
        int d = 0;
        while (i < n && t[i] >= '0' && t[i] <= '9') {
            if (d < 3) out[o++] = t[i];
            d++;
            i++;
        }
        while (d++ < 3) out[o++] = '0';
    } else {
        memcpy(out + o, ".000", 4);
        o += 4;
    }
    out[o++] = 'Z';
    out[o] = '\0';
    return arena_strdup(a, out);
}
