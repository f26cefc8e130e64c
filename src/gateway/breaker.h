/* breaker.h — a circuit breaker per service (pure state machine, no I/O).
 *
 * closed --N consecutive failures--> open --cool-down--> half-open
 * half-open: exactly one probe request is let through; success -> closed,
 * failure -> open again (a new cool-down). While open every request is
 * refused at once without touching the upstream. Callers serialize access
 * (the registry holds a mutex per service). */
#ifndef BZ_GW_BREAKER_H
#define BZ_GW_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

typedef enum gw_breaker_state { GW_CLOSED = 0, GW_OPEN = 1, GW_HALF_OPEN = 2 } gw_breaker_state_t;

typedef struct gw_breaker {
    gw_breaker_state_t state;
    int failures;          /* consecutive, while closed */
    int threshold;         /* failures that open it (default 5) */
    int64_t cooldown_ms;   /* open -> half-open after this (default 30000) */
    int64_t opened_at_ms;
    bool probe_in_flight;  /* half-open: the one request let through */
    uint64_t activations;  /* times it opened */
} gw_breaker_t;

void gw_breaker_init(gw_breaker_t *b, int threshold, int64_t cooldown_ms);
/* gw_breaker_allow: may a request go to the upstream now? Moves open ->
 * half-open when the cool-down has passed and admits one probe. */
bool gw_breaker_allow(gw_breaker_t *b, int64_t now_ms);
/* gw_breaker_record: the outcome of an admitted request. Returns true when
 * the state changed (the caller raises ServiceHealthChanged). */
bool gw_breaker_record(gw_breaker_t *b, bool success, int64_t now_ms);
const char *gw_breaker_name(gw_breaker_state_t s);

#endif
