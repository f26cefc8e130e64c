/* err.c — lookups over the ERR_TABLE in err.h. */
#include "err.h"

#include <stddef.h>

struct err_row {
    int value, status;
    const char *code, *msg;
};

static const struct err_row rows[] = {
#define ERR_ROW(name, value, status, code, msg) {value, status, code, msg},
    ERR_TABLE(ERR_ROW)
#undef ERR_ROW
};

static const struct err_row *find(int code)
{
    for (unsigned i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].value == code) return &rows[i];
    return NULL;
}

int err_status(int code)
{
    const struct err_row *r = find(code);
    return r ? r->status : 500;
}

const char *err_api_code(int code)
{
    const struct err_row *r = find(code);
    return r ? r->code : "internal_error";
}

const char *err_message(int code)
{
    const struct err_row *r = find(code);
    return r ? r->msg : "An internal error occurred.";
}
