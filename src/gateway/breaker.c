/* breaker.c — closed / open / half-open, as described in breaker.h. */
#include "breaker.h"

void gw_breaker_init(gw_breaker_t *b, int threshold, int64_t cooldown_ms)
{
    *b = (gw_breaker_t){
        .state = GW_CLOSED,
        .threshold = threshold > 0 ? threshold : 5,
        .cooldown_ms = cooldown_ms > 0 ? cooldown_ms : 30000,
    };
}

bool gw_breaker_allow(gw_breaker_t *b, int64_t now)
{
    switch (b->state) {
    case GW_CLOSED:
        return true;
    case GW_OPEN:
        if (now - b->opened_at_ms < b->cooldown_ms) return false;
        b->state = GW_HALF_OPEN;
        b->probe_in_flight = true;
        return true;
    case GW_HALF_OPEN:
        if (b->probe_in_flight) return false;
        b->probe_in_flight = true;
        return true;
    }
    return false;
}

bool gw_breaker_record(gw_breaker_t *b, bool success, int64_t now)
{
    gw_breaker_state_t before = b->state;
    if (success) {
        b->failures = 0;
        b->state = GW_CLOSED;
        b->probe_in_flight = false;
    } else if (b->state == GW_HALF_OPEN) {
        b->state = GW_OPEN;
        b->opened_at_ms = now;
        b->probe_in_flight = false;
        b->activations++;
    } else if (b->state == GW_CLOSED && ++b->failures >= b->threshold) {
        b->state = GW_OPEN;
        b->opened_at_ms = now;
        b->activations++;
    }
    return b->state != before;
}

const char *gw_breaker_name(gw_breaker_state_t s)
{
    switch (s) {
    case GW_CLOSED: return "closed";
    case GW_OPEN: return "open";
    case GW_HALF_OPEN: return "half_open";
    }
    return "unknown";
}
