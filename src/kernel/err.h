/* err.h — the one error convention of bizosaas.
 *
 * Every fallible function returns int: 0 on success, a negative ERR_* code on
 * failure. The table below is the single source of truth that maps a code to
 * its HTTP status, its stable snake_case API code and a default message; the
 * JSON error envelope {"error":{"code","message","request_id"}} is built from
 * it. Add a row here rather than inventing a local convention. */
#ifndef BZ_ERR_H
#define BZ_ERR_H

/*  X(name, value, http status, api code, default message) */
#define ERR_TABLE(X)                                                                               \
    X(ERR_BAD_REQUEST, -1, 400, "bad_request", "The request is malformed.")                        \
    X(ERR_INVALID_JSON, -2, 400, "invalid_json", "The request body is not valid JSON.")            \
    X(ERR_VALIDATION, -3, 422, "validation_failed", "The request failed validation.")              \
    X(ERR_UNAUTHORIZED, -4, 401, "unauthorized", "Authentication is required.")                    \
    X(ERR_FORBIDDEN, -5, 403, "forbidden", "You do not have permission for this action.")          \
    X(ERR_NOT_FOUND, -6, 404, "not_found", "The resource was not found.")                          \
    X(ERR_METHOD_NOT_ALLOWED, -7, 405, "method_not_allowed", "The method is not allowed here.")    \
    X(ERR_CONFLICT, -8, 409, "conflict", "The request conflicts with the current state.")          \
    X(ERR_TOO_LARGE, -9, 413, "payload_too_large", "The request body is too large.")               \
    X(ERR_URI_TOO_LONG, -10, 414, "uri_too_long", "The request line is too long.")                 \
    X(ERR_HEADERS_TOO_LARGE, -11, 431, "headers_too_large", "The request headers are too large.")  \
    X(ERR_REQUEST_TIMEOUT, -12, 408, "request_timeout", "The request was not received in time.")   \
    X(ERR_RATE_LIMITED, -13, 429, "rate_limited", "Too many requests.")                            \
    X(ERR_UNAVAILABLE, -14, 503, "service_unavailable", "The service is unavailable.")             \
    X(ERR_DB, -15, 500, "database_error", "A database error occurred.")                            \
    X(ERR_DB_UNAVAILABLE, -16, 503, "database_unavailable", "The database is unavailable.")        \
    X(ERR_INTERNAL, -17, 500, "internal_error", "An internal error occurred.")                     \
    X(ERR_IDEMPOTENCY_MISMATCH, -18, 422, "idempotency_key_reused",                                \
      "The Idempotency-Key was used with a different request.")                                    \
    X(ERR_IDEMPOTENCY_IN_PROGRESS, -19, 409, "idempotency_in_progress",                            \
      "A request with this Idempotency-Key is still being processed.")                             \
    X(ERR_UNSUPPORTED_MEDIA, -20, 415, "unsupported_media_type",                                   \
      "The request body must be application/json.")                                                \
    X(ERR_CONFIG, -21, 500, "config_error", "The configuration is invalid.")                       \
    X(ERR_IO, -22, 500, "io_error", "An I/O error occurred.")                                      \
    X(ERR_EXISTS, -23, 409, "already_exists", "The resource already exists.")                      \
    X(ERR_NOT_IMPLEMENTED, -24, 501, "not_implemented", "The method is not implemented.")          \
    X(ERR_OVERLOADED, -25, 503, "overloaded", "The server is overloaded; retry later.")            \
    X(ERR_PRECONDITION, -26, 428, "precondition_required", "A precondition is required.")        \
    X(ERR_BAD_GATEWAY, -27, 502, "bad_gateway", "The upstream service failed.")                    \
    X(ERR_GATEWAY_TIMEOUT, -28, 504, "gateway_timeout", "The upstream service did not answer in time.")

enum err_code {
#define ERR_ENUM(name, value, status, code, msg) name = value,
    ERR_TABLE(ERR_ENUM)
#undef ERR_ENUM
        ERR_OK = 0,
};

/* err_status: the HTTP status for code (500 for an unknown code). */
int err_status(int code);
/* err_api_code: the stable snake_case code string; static storage. */
const char *err_api_code(int code);
/* err_message: the default human message; static storage. */
const char *err_message(int code);

#endif
