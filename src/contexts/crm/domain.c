/* domain.c — the CRM's rules (see domain.h): the field tables of every
 * entity, validation against them, the lead score, the status machine and
 * the normal forms. No I/O, no database, no globals that change. */
#include "domain.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "ids.h"

/* ---- the field tables ---------------------------------------------------------- */

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define TEXT(n, max, fl) {n, CF_TEXT, fl, 0, max, NULL, NULL}
#define INT(n, lo, hi, fl) {n, CF_INT, fl, lo, hi, NULL, NULL}
#define ID(n, ref, fl) {n, CF_ID, fl, 0, 0, NULL, ref}
#define SERVER(n, t) {n, t, CFF_SERVER, 0, 0, NULL, NULL}

static const char *const lead_statuses[] = {"new", "contacted", "qualified", "converted", "lost",
                                            NULL};
static const char *const stage_kinds[] = {"open", "won", "lost", NULL};
static const char *const activity_kinds[] = {"call", "email", "meeting", "note", "task", NULL};

/* Company sizes and budgets beyond these are not plausible form input;
 * the bounds also keep arithmetic far from overflow. */
#define COMPANY_SIZE_MAX 10000000
#define BUDGET_MAX 1000000000000LL
#define SERVICES_MAX 20

static const crm_field_t lead_fields[] = {
    TEXT("name", 200, CFF_REQUIRED),
    {"email", CF_EMAIL, 0, 0, 254, NULL, NULL},
    {"phone", CF_PHONE, 0, 0, 40, NULL, NULL},
    {"phone_norm", CF_TEXT, CFF_HIDDEN, 0, 0, NULL, NULL},
    TEXT("company", 200, 0),
    {"website", CF_URL, 0, 0, 2048, NULL, NULL},
    INT("company_size", 0, COMPANY_SIZE_MAX, 0),
    INT("budget", 0, BUDGET_MAX, 0),
    {"services", CF_LIST, 0, 0, SERVICES_MAX, NULL, NULL},
    TEXT("message", 10000, 0),
    TEXT("source", 50, 0),
    {"status", CF_ENUM, 0, 0, 0, lead_statuses, NULL},
    SERVER("score", CF_INT),
    ID("owner_id", NULL, 0),
    SERVER("converted_contact_id", CF_ID),
    SERVER("converted_deal_id", CF_ID),
};
const crm_entity_t crm_lead_entity = {"lead", "crm_leads", lead_fields, N(lead_fields)};

static const crm_field_t company_fields[] = {
    TEXT("name", 200, CFF_REQUIRED),
    {"website", CF_URL, 0, 0, 2048, NULL, NULL},
    TEXT("industry", 100, 0),
    INT("size", 0, COMPANY_SIZE_MAX, 0),
};
const crm_entity_t crm_company_entity = {"company", "crm_companies", company_fields,
                                         N(company_fields)};

static const crm_field_t contact_fields[] = {
    TEXT("name", 200, CFF_REQUIRED),
    {"email", CF_EMAIL, 0, 0, 254, NULL, NULL},
    {"phone", CF_PHONE, 0, 0, 40, NULL, NULL},
    TEXT("title", 100, 0),
    ID("company_id", "crm_companies", 0),
    ID("lead_id", "crm_leads", 0),
    ID("owner_id", NULL, 0),
};
const crm_entity_t crm_contact_entity = {"contact", "crm_contacts", contact_fields,
                                         N(contact_fields)};

static const crm_field_t stage_fields[] = {
    TEXT("name", 100, CFF_REQUIRED),
    INT("position", 1, 1000, 0),
    INT("probability", 0, 100, 0),
    {"kind", CF_ENUM, 0, 0, 0, stage_kinds, NULL},
};
const crm_entity_t crm_stage_entity = {"stage", "crm_stages", stage_fields, N(stage_fields)};

static const crm_field_t deal_fields[] = {
    TEXT("name", 200, CFF_REQUIRED),
    INT("value_minor", 0, 1000000000000000LL, 0),
    {"currency", CF_CURRENCY, 0, 0, 0, NULL, NULL},
    ID("stage_id", "crm_stages", 0),
    INT("probability", 0, 100, 0),
    {"expected_close", CF_DATE, 0, 0, 0, NULL, NULL},
    ID("owner_id", NULL, 0),
    ID("contact_id", "crm_contacts", 0),
    ID("company_id", "crm_companies", 0),
    ID("lead_id", "crm_leads", 0),
};
const crm_entity_t crm_deal_entity = {"deal", "crm_deals", deal_fields, N(deal_fields)};

static const crm_field_t activity_fields[] = {
    {"kind", CF_ENUM, CFF_REQUIRED, 0, 0, activity_kinds, NULL},
    TEXT("subject", 200, CFF_REQUIRED),
    TEXT("body", 10000, 0),
    {"due_at", CF_TIME, 0, 0, 0, NULL, NULL},
    {"done", CF_BOOL, 0, 0, 0, NULL, NULL},
    ID("lead_id", "crm_leads", 0),
    ID("contact_id", "crm_contacts", 0),
    ID("deal_id", "crm_deals", 0),
    ID("owner_id", NULL, 0),
};
const crm_entity_t crm_activity_entity = {"activity", "crm_activities", activity_fields,
                                          N(activity_fields)};

/* The input of a lead conversion (not stored as such: it shapes the deal). */
static const crm_field_t convert_fields[] = {
    TEXT("deal_name", 200, 0),
    INT("value_minor", 0, 1000000000000000LL, 0),
    {"currency", CF_CURRENCY, 0, 0, 0, NULL, NULL},
    ID("stage_id", "crm_stages", 0),
    {"expected_close", CF_DATE, 0, 0, 0, NULL, NULL},
    ID("owner_id", NULL, 0),
};
const crm_entity_t crm_convert_input = {"conversion", NULL, convert_fields, N(convert_fields)};

/* The input of a merge. */
static const crm_field_t merge_fields[] = {
    ID("other_id", "crm_leads", CFF_REQUIRED),
};
const crm_entity_t crm_merge_input = {"merge", NULL, merge_fields, N(merge_fields)};

const crm_field_t *crm_field_find(const crm_entity_t *e, const char *name)
{
    for (size_t i = 0; i < e->nfields; i++)
        if (strcmp(e->fields[i].name, name) == 0) return &e->fields[i];
    return NULL;
}

/* ---- validation -------------------------------------------------------------------- */

static bool blank(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* trimmed: s without surrounding blanks, as a new JSON string. */
static json_t *trimmed(const char *s)
{
    while (blank((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && blank((unsigned char)s[n - 1]))
        n--;
    return json_stringn(s, n);
}

static bool has_control(const char *s, bool allow_newlines)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (allow_newlines && (c == '\n' || c == '\r' || c == '\t')) continue;
        if (c < 0x20 || c == 0x7f) return true;
    }
    return false;
}

static const char *email_invalid(const char *e)
{
    size_t n = strlen(e);
    if (n < 3 || n > 254) return "must be 3 to 254 characters";
    const char *at = strchr(e, '@');
    if (!at || strchr(at + 1, '@')) return "must contain exactly one '@'";
    if (at == e || at - e > 64) return "must have 1 to 64 characters before '@'";
    const char *dom = at + 1;
    size_t dn = strlen(dom);
    if (dn < 3 || !strchr(dom, '.') || dom[0] == '.' || dom[dn - 1] == '.' || strstr(dom, ".."))
        return "must have a domain such as example.com";
    for (const char *p = e; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c == 0x7f || strchr(",;<>\"\\()[]", c)) return "contains a character that is not allowed";
    }
    return NULL;
}

bool crm_phone_norm(const char *phone, char *out, size_t cap)
{
    size_t n = 0, digits = 0;
    const char *p = phone;
    while (blank((unsigned char)*p))
        p++;
    if (*p == '+' && cap > 1) out[n++] = '+';
    for (; *p; p++) {
        if (*p < '0' || *p > '9') continue;
        if (n + 1 >= cap) {
            out[0] = '\0';
            return false;
        }
        out[n++] = *p;
        digits++;
    }
    out[n] = '\0';
    if (digits < 7) {
        out[0] = '\0';
        return false;
    }
    return true;
}

static const char *phone_invalid(const char *s)
{
    size_t digits = 0;
    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (!strchr("+-(). /", *p) || (*p == '+' && p != s))
            return "may contain only digits, a leading '+', spaces and - ( ) . /";
    }
    if (digits < 7 || digits > 15) return "must have 7 to 15 digits";
    return NULL;
}

static const char *url_invalid(const char *s)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) return "must not contain blanks";
    const char *colon = strstr(s, "://");
    if (colon) {
        size_t n = (size_t)(colon - s);
        if (!((n == 4 && !strncasecmp(s, "http", 4)) || (n == 5 && !strncasecmp(s, "https", 5))))
            return "must be an http:// or https:// address";
        if (!colon[3]) return "must name a host";
    } else if (strchr(s, ':') && !strchr(s, '.')) {
        return "must be an http:// or https:// address";
    } else if (!strchr(s, '.')) {
        return "must be a web address such as example.com";
    }
    if (!strncasecmp(s, "javascript:", 11) || !strncasecmp(s, "data:", 5))
        return "must be an http:// or https:// address";
    return NULL;
}

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* digits_at: n decimal digits at s as a number, or -1. */
static int digits_at(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool date_ok(const char *s, int *y, int *m, int *d)
{
    if (strlen(s) < 10 || s[4] != '-' || s[7] != '-') return false;
    *y = digits_at(s, 4);
    *m = digits_at(s + 5, 2);
    *d = digits_at(s + 8, 2);
    return *y >= 1900 && *y <= 9999 && *m >= 1 && *m <= 12 && *d >= 1 && *d <= days_in(*y, *m);
}

/* time_norm: an RFC 3339 time (Z or ±HH:MM offset, optional fraction) as
 * UTC with milliseconds into out[32]. */
static bool time_norm(const char *s, char out[32])
{
    int y, mo, d;
    if (!date_ok(s, &y, &mo, &d) || (s[10] != 'T' && s[10] != 't')) return false;
    int h = digits_at(s + 11, 2), mi = digits_at(s + 14, 2), se = digits_at(s + 17, 2);
    if (s[13] != ':' || s[16] != ':' || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
        return false;
    const char *p = s + 19;
    int ms = 0, scale = 100;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return false;
        for (; *p >= '0' && *p <= '9'; p++) {
            ms += (*p - '0') * scale;
            scale /= 10;
        }
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = digits_at(p + 1, 2), om = digits_at(p + 4, 2);
        if (oh < 0 || oh > 23 || p[3] != ':' || om < 0 || om > 59) return false;
        off = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p) return false;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                    .tm_min = mi, .tm_sec = se > 59 ? 59 : se};
    int64_t t = (int64_t)timegm(&tm) - (int64_t)off * 60;
    clock_rfc3339(t * 1000 + ms, out);
    return true;
}

/* text_to_json: a CSV cell as the JSON value the field type expects, or
 * NULL when it does not parse (the caller reports it). "" is null. */
static json_t *text_to_json(const crm_field_t *f, const char *s)
{
    while (blank((unsigned char)*s))
        s++;
    if (!*s) return json_null();
    switch (f->type) {
    case CF_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        while (blank((unsigned char)*end))
            end++;
        if (errno || *end) return NULL;
        return json_integer(v);
    }
    case CF_BOOL:
        if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcmp(s, "1")) return json_true();
        if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcmp(s, "0")) return json_false();
        return NULL;
    case CF_LIST: {
        json_t *a = json_array();
        const char *p = s;
        for (;;) {
            const char *semi = strchr(p, ';');
            size_t n = semi ? (size_t)(semi - p) : strlen(p);
            char *item = strndup(p, n);
            json_t *t = trimmed(item);
            free(item);
            if (json_string_length(t))
                json_array_append_new(a, t);
            else
                json_decref(t);
            if (!semi) break;
            p = semi + 1;
        }
        return a;
    }
    default:
        return json_string(s);
    }
}

static int fail(char *why, size_t whylen, const char *field, const char *msg)
{
    snprintf(why, whylen, "field '%s' %s", field, msg);
    return ERR_VALIDATION;
}

/* check: validates one value v (not null) of field f; *norm is the normal
 * form to store (a new reference). Returns NULL or the problem. */
static const char *check(const crm_field_t *f, json_t *v, json_t **norm, char *buf, size_t cap)
{
    *norm = NULL;
    switch (f->type) {
    case CF_INT:
        if (!json_is_integer(v)) return "must be an integer";
        if (json_integer_value(v) < f->min || json_integer_value(v) > f->max) {
            snprintf(buf, cap, "must be between %lld and %lld", (long long)f->min,
                     (long long)f->max);
            return buf;
        }
        *norm = json_incref(v);
        return NULL;
    case CF_BOOL:
        if (!json_is_boolean(v)) return "must be true or false";
        *norm = json_incref(v);
        return NULL;
    case CF_LIST: {
        if (!json_is_array(v)) return "must be an array of strings";
        if ((int64_t)json_array_size(v) > f->max) {
            snprintf(buf, cap, "must have at most %lld items", (long long)f->max);
            return buf;
        }
        json_t *out = json_array();
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            if (!json_is_string(item) || strlen(json_string_value(item)) != json_string_length(item)) {
                json_decref(out);
                return "must be an array of strings";
            }
            json_t *t = trimmed(json_string_value(item));
            const char *s = json_string_value(t);
            bool dup = false;
            for (size_t k = 0; k < json_array_size(out); k++)
                if (!strcmp(json_string_value(json_array_get(out, k)), s)) dup = true;
            if (!*s || json_string_length(t) > 100 || has_control(s, false) || dup) {
                json_decref(t);
                json_decref(out);
                return "must hold distinct non-empty strings of at most 100 bytes";
            }
            json_array_append_new(out, t);
        }
        *norm = out;
        return NULL;
    }
    default:
        break;
    }
    if (!json_is_string(v)) return "must be a string";
    if (strlen(json_string_value(v)) != json_string_length(v)) return "must not contain NUL";
    json_t *t = trimmed(json_string_value(v));
    const char *s = json_string_value(t);
    const char *bad = NULL;
    char tbuf[32];
    int y, m, d;
    switch (f->type) {
    case CF_TEXT:
        if (f->max && json_string_length(t) > (size_t)f->max) {
            snprintf(buf, cap, "must be at most %lld bytes", (long long)f->max);
            bad = buf;
        } else if (has_control(s, true)) {
            bad = "must not contain control characters";
        }
        break;
    case CF_EMAIL: {
        char *low = strdup(s);
        for (char *p = low; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        json_decref(t);
        t = json_string(low);
        free(low);
        s = json_string_value(t);
        bad = email_invalid(s);
        break;
    }
    case CF_PHONE:
        bad = phone_invalid(s);
        break;
    case CF_URL:
        bad = json_string_length(t) > (size_t)f->max ? "is too long" : url_invalid(s);
        break;
    case CF_DATE:
        if (strlen(s) != 10 || !date_ok(s, &y, &m, &d)) bad = "must be a date YYYY-MM-DD";
        break;
    case CF_TIME:
        if (!time_norm(s, tbuf)) {
            bad = "must be an RFC 3339 time such as 2026-01-31T09:00:00Z";
        } else {
            json_decref(t);
            t = json_string(tbuf);
        }
        break;
    case CF_ID:
        if (!id_is_uuid(s, strlen(s))) bad = "must be a lower-case UUID";
        break;
    case CF_CURRENCY:
        if (strlen(s) != 3 || !isupper((unsigned char)s[0]) || !isupper((unsigned char)s[1]) ||
            !isupper((unsigned char)s[2]))
            bad = "must be an ISO 4217 code such as USD";
        break;
    case CF_ENUM: {
        bad = "has a value that is not allowed";
        for (const char *const *c = f->choices; *c; c++)
            if (!strcmp(*c, s)) bad = NULL;
        if (bad) {
            size_t n = (size_t)snprintf(buf, cap, "must be one of");
            for (const char *const *c = f->choices; *c && n < cap; c++)
                n += (size_t)snprintf(buf + n, cap - n, "%s %s", c == f->choices ? "" : ",", *c);
            bad = buf;
        }
        break;
    }
    default:
        break;
    }
    if (bad) {
        json_decref(t);
        return bad;
    }
    *norm = t;
    return NULL;
}

int crm_validate(const crm_entity_t *e, const json_t *input, unsigned mode, json_t **out,
                 char *why, size_t whylen)
{
    *out = NULL;
    if (!json_is_object(input)) {
        snprintf(why, whylen, "the %s must be a JSON object", e->name);
        return ERR_VALIDATION;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)input, key, v) {
        const crm_field_t *f = crm_field_find(e, key);
        if (!f || (f->flags & CFF_HIDDEN)) return fail(why, whylen, key, "is not a known field");
        if (f->flags & CFF_SERVER) return fail(why, whylen, key, "is set by the server");
    }
    json_t *o = json_object();
    char buf[200];
    for (size_t i = 0; i < e->nfields; i++) {
        const crm_field_t *f = &e->fields[i];
        json_t *given = json_object_get(input, f->name);
        json_t *val = NULL;
        if (given && (mode & CRM_V_TEXT) && json_is_string(given)) {
            val = text_to_json(f, json_string_value(given));
            if (!val) {
                json_decref(o);
                return fail(why, whylen, f->name,
                            f->type == CF_INT ? "must be an integer" : "must be true or false");
            }
        } else if (given) {
            val = json_incref(given);
        }
        /* "" on an optional text field means "no value" (forms send empty inputs) */
        if (val && json_is_string(val) && !(f->flags & CFF_REQUIRED)) {
            json_t *t = trimmed(json_string_value(val));
            if (json_string_length(t) == 0) {
                json_decref(val);
                val = json_null();
            }
            json_decref(t);
        }
        if (!val) {
            if ((mode & CRM_V_CREATE) && (f->flags & CFF_REQUIRED)) {
                json_decref(o);
                return fail(why, whylen, f->name, "is required");
            }
            continue;
        }
        if (json_is_null(val)) {
            json_decref(val);
            if (f->flags & CFF_REQUIRED) {
                json_decref(o);
                return fail(why, whylen, f->name, "is required");
            }
            json_object_set_new(o, f->name, json_null());
            continue;
        }
        json_t *norm;
        const char *bad = check(f, val, &norm, buf, sizeof buf);
        json_decref(val);
        if (!bad && (f->flags & CFF_REQUIRED) && json_is_string(norm) && !json_string_length(norm)) {
            json_decref(norm);
            bad = "must not be empty";
        }
        if (bad) {
            int rc = fail(why, whylen, f->name, bad);
            json_decref(o);
            return rc;
        }
        json_object_set_new(o, f->name, norm);
    }
    if (!(mode & CRM_V_CREATE) && json_object_size(o) == 0) {
        json_decref(o);
        snprintf(why, whylen, "nothing to update");
        return ERR_VALIDATION;
    }
    *out = o;
    return 0;
}

/* ---- the lead score ------------------------------------------------------------- */

static int64_t int_of(const json_t *lead, const char *k)
{
    json_t *v = json_object_get(lead, k);
    return json_is_integer(v) && json_integer_value(v) > 0 ? json_integer_value(v) : 0;
}

static bool present(const json_t *lead, const char *k)
{
    json_t *v = json_object_get(lead, k);
    return json_is_string(v) && json_string_length(v) > 0;
}

size_t crm_utf8_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80) n++;
    return n;
}

crm_score_t crm_score_lead(const json_t *lead)
{
    crm_score_t s = {0};
    int64_t size = int_of(lead, "company_size");
    s.company_size = size / 50 > 20 ? 20 : (int)(size / 50);
    int64_t budget = int_of(lead, "budget");
    s.budget = budget >= 10000 ? 25 : budget >= 5000 ? 20 : budget >= 1000 ? 15 : 0;
    json_t *services = json_object_get(lead, "services");
    size_t ns = json_is_array(services) ? json_array_size(services) : 0;
    s.services = ns * 5 > 20 ? 20 : (int)ns * 5;
    s.phone = present(lead, "phone") ? 10 : 0;
    s.website = present(lead, "website") ? 10 : 0;
    json_t *msg = json_object_get(lead, "message");
    s.message = json_is_string(msg) && crm_utf8_chars(json_string_value(msg)) > 100 ? 15 : 0;
    int sum = s.company_size + s.budget + s.services + s.phone + s.website + s.message;
    s.total = sum > CRM_SCORE_MAX ? CRM_SCORE_MAX : sum;
    return s;
}

json_t *crm_score_json(const crm_score_t *s)
{
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "company_size", s->company_size,
                     "budget", s->budget, "services", s->services, "phone", s->phone, "website",
                     s->website, "message", s->message, "total", s->total);
}

const char *crm_priority(int score)
{
    return score > 80 ? "high" : score >= 50 ? "medium" : "low";
}

/* ---- the status machine ------------------------------------------------------------ */

static const struct move {
    const char *from, *to;
} moves[] = {
    {"new", "contacted"},       {"new", "lost"},  {"contacted", "qualified"},
    {"contacted", "lost"},      {"qualified", "converted"}, {"qualified", "lost"},
    {"lost", "new"},
};

bool crm_status_valid(const char *s)
{
    for (const char *const *c = lead_statuses; *c; c++)
        if (!strcmp(*c, s)) return true;
    return false;
}

bool crm_status_can_move(const char *from, const char *to)
{
    if (!crm_status_valid(from) || !crm_status_valid(to)) return false;
    if (!strcmp(from, to)) return true;
    for (size_t i = 0; i < N(moves); i++)
        if (!strcmp(moves[i].from, from) && !strcmp(moves[i].to, to)) return true;
    return false;
}

json_t *crm_status_next(const char *from)
{
    json_t *a = json_array();
    for (size_t i = 0; i < N(moves); i++)
        if (!strcmp(moves[i].from, from)) json_array_append_new(a, json_string(moves[i].to));
    return a;
}
