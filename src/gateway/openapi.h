/* openapi.h — GET /openapi.json, generated from the route table. */
#ifndef BZ_OPENAPI_H
#define BZ_OPENAPI_H

#include <jansson.h>

#include "router.h"

/* openapi_document: an OpenAPI 3.1 document describing every route of r;
 * caller owns the reference. */
json_t *openapi_document(const router_t *r, const char *version);
/* openapi_register: adds GET /openapi.json serving the document of r
 * (borrowed; r must be complete before the first request). */
void openapi_register(router_t *r);

#endif
