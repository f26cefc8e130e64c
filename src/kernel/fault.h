/* fault.h — named fault injection for black-box tests of recovery paths.
 *
 * Some guarantees can only be shown by making a step fail at the right
 * moment (the contact flow's "the lead is created by the event retry when
 * creating it failed after the submission was stored"). Code marks such a
 * point with fault_hit("name"); BIZOSAAS_FAULTS="name:N[,name2:M]" makes the
 * first N hits of that point fail. Faults are honoured only when
 * BIZOSAAS_ENV=development (app start refuses BIZOSAAS_FAULTS otherwise),
 * and with the setting empty fault_hit is one relaxed atomic load.
 */
#ifndef BZ_FAULT_H
#define BZ_FAULT_H

#include <stdbool.h>

/* Most named points one spec may arm. */
#define FAULT_MAX 8
/* Longest point name (bytes). */
#define FAULT_MAX_NAME 48

/* fault_configure: arms the points of spec ("" or NULL disarms all).
 * Returns 0, or ERR_CONFIG for a malformed spec. Call before threads start. */
int fault_configure(const char *spec);

/* fault_hit: true when the point is armed and still has failures left (each
 * true consumes one). Thread-safe. */
bool fault_hit(const char *name);

#endif
