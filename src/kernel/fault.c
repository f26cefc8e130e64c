/* fault.c — the armed fault points (see fault.h). */
#include "fault.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static struct point {
    char name[FAULT_MAX_NAME + 1];
    atomic_int left;
} g_points[FAULT_MAX];
static atomic_int g_n;

int fault_configure(const char *spec)
{
    atomic_store(&g_n, 0);
    if (!spec || !*spec) return 0;
    if (spec[strlen(spec) - 1] == ',') return ERR_CONFIG;
    int n = 0;
    const char *p = spec;
    while (*p) {
        const char *colon = strchr(p, ':');
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        if (!colon || colon > end || colon == p || (size_t)(colon - p) > FAULT_MAX_NAME ||
            n == FAULT_MAX)
            return ERR_CONFIG;
        char *num_end;
        long v = strtol(colon + 1, &num_end, 10);
        if (num_end != end || colon + 1 == end || v < 1 || v > 1000000) return ERR_CONFIG;
        memcpy(g_points[n].name, p, (size_t)(colon - p));
        g_points[n].name[colon - p] = '\0';
        atomic_store(&g_points[n].left, (int)v);
        n++;
        p = *end ? end + 1 : end;
    }
    atomic_store(&g_n, n);
    return 0;
}

bool fault_hit(const char *name)
{
    int n = atomic_load_explicit(&g_n, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        if (strcmp(g_points[i].name, name) != 0) continue;
        int left = atomic_load(&g_points[i].left);
        while (left > 0)
            if (atomic_compare_exchange_weak(&g_points[i].left, &left, left - 1)) return true;
        return false;
    }
    return false;
}
