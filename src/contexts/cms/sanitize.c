/* sanitize.c — allowlist HTML sanitizer for rich text, and HTML escaping.
 *
 * The sanitizer does not try to parse HTML the way a browser does; its
 * safety comes from how the output is built: every byte written is either
 * a tag and attribute from the allowlist that this file composes itself,
 * or text and attribute values that were entity-decoded and then escaped.
 * However a browser would have tokenized the input, it can only see those
 * elements and those attributes in the output. Elements whose content is
 * code or foreign markup (script, style, iframe, svg, …) are skipped up to
 * their end tag. A stack of open allowed elements closes what the input
 * left open and ignores stray end tags, so the output is well-formed and a
 * page's layout cannot be broken by a fragment. */
#include "sanitize.h"

#include <stdint.h>
#include <string.h>

typedef struct tag_rule {
    const char *name;
    bool is_void;
} tag_rule_t;

static const tag_rule_t allowed_tags[] = {
    {"p", false},      {"h2", false},     {"h3", false},   {"h4", false},         {"ul", false},
    {"ol", false},     {"li", false},     {"a", false},    {"strong", false},     {"em", false},
    {"b", false},      {"i", false},      {"blockquote", false}, {"code", false}, {"pre", false},
    {"br", true},      {"hr", true},      {"img", true},
};

/* Elements dropped together with everything up to their end tag. */
static const char *const drop_content_tags[] = {
    "script", "style",   "iframe", "object",  "embed",    "template", "noscript", "textarea",
    "title",  "xmp",     "noembed", "noframes", "svg",    "math",     "select",   "frameset",
    "applet", "audio",   "video",  "canvas",  "head",     NULL,
};

static bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
static bool is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

void cms_html_escape(buf_t *out, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        case '\0': rep = ""; break;
        default: continue;
        }
        if (i > start) buf_append(out, s + start, i - start);
        buf_append_str(out, rep);
        start = i + 1;
    }
    if (n > start) buf_append(out, s + start, n - start);
}

void cms_html_escape_str(buf_t *out, const char *s)
{
    if (s) cms_html_escape(out, s, strlen(s));
}

/* ---- entities --------------------------------------------------------- */

static const struct named_entity {
    const char *name;
    const char *utf8;
} named_entities[] = {
    {"amp", "&"},      {"lt", "<"},       {"gt", ">"},        {"quot", "\""},   {"apos", "'"},
    {"nbsp", "\xc2\xa0"}, {"colon", ":"}, {"tab", "\t"},      {"newline", "\n"}, {"lpar", "("},
    {"rpar", ")"},     {"sol", "/"},      {"bsol", "\\"},     {"comma", ","},   {"period", "."},
    {"excl", "!"},     {"quest", "?"},    {"num", "#"},       {"semi", ";"},    {"equals", "="},
    {"copy", "\xc2\xa9"}, {"reg", "\xc2\xae"}, {"hellip", "\xe2\x80\xa6"}, {"mdash", "\xe2\x80\x94"},
    {"ndash", "\xe2\x80\x93"}, {"lsquo", "\xe2\x80\x98"}, {"rsquo", "\xe2\x80\x99"},
    {"ldquo", "\xe2\x80\x9c"}, {"rdquo", "\xe2\x80\x9d"},
};

static size_t utf8_encode(uint32_t cp, char out[4])
{
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* decode_entity: s[0] == '&'. Appends the decoded text to out and returns
 * the number of input bytes consumed; an unknown or malformed reference
 * decodes to a literal '&' (1 byte consumed). */
static size_t decode_entity(const char *s, size_t n, buf_t *out)
{
    size_t i = 1;
    if (i < n && s[i] == '#') {
        i++;
        bool hex = i < n && (s[i] == 'x' || s[i] == 'X');
        if (hex) i++;
        size_t start = i;
        uint32_t cp = 0;
        bool over = false;
        while (i < n) {
            unsigned char c = (unsigned char)s[i];
            int d;
            if (is_digit(c))
                d = c - '0';
            else if (hex && c >= 'a' && c <= 'f')
                d = c - 'a' + 10;
            else if (hex && c >= 'A' && c <= 'F')
                d = c - 'A' + 10;
            else
                break;
            if (!over) {
                cp = cp * (hex ? 16u : 10u) + (uint32_t)d;
                if (cp > 0x10FFFF) over = true;
            }
            i++;
        }
        if (i == start) {
            buf_append(out, "&", 1);
            return 1;
        }
        if (i < n && s[i] == ';') i++;
        char u[4];
        size_t k = utf8_encode(over ? 0xFFFD : cp, u);
        buf_append(out, u, k);
        return i;
    }
    size_t start = i;
    while (i < n && i - start < 16 && (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i])))
        i++;
    if (i < n && s[i] == ';' && i > start) {
        for (size_t k = 0; k < sizeof named_entities / sizeof named_entities[0]; k++) {
            const char *nm = named_entities[k].name;
            if (strlen(nm) == i - start && memcmp(nm, s + start, i - start) == 0) {
                buf_append_str(out, named_entities[k].utf8);
                return i + 1;
            }
        }
    }
    buf_append(out, "&", 1);
    return 1;
}

/* decode: the entity-decoded form of s[0..n) into out (reset first). */
static void decode(const char *s, size_t n, buf_t *out)
{
    buf_reset(out);
    size_t i = 0;
    while (i < n) {
        if (s[i] == '&') {
            i += decode_entity(s + i, n - i, out);
            continue;
        }
        size_t j = i;
        while (j < n && s[j] != '&') j++;
        buf_append(out, s + i, j - i);
        i = j;
    }
    if (!out->p) buf_append(out, "", 0);
}

/* ---- URLs --------------------------------------------------------------- */

/* clean_url: removes what browsers ignore in a URL attribute: tab, CR and
 * LF anywhere, C0 controls and spaces at both ends. In place; returns the
 * new length. */
static size_t clean_url(char *u, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (u[i] != '\t' && u[i] != '\n' && u[i] != '\r') u[o++] = u[i];
    size_t a = 0;
    while (a < o && (unsigned char)u[a] <= 0x20) a++;
    while (o > a && (unsigned char)u[o - 1] <= 0x20) o--;
    memmove(u, u + a, o - a);
    u[o - a] = '\0';
    return o - a;
}

bool cms_url_allowed(const char *url, size_t n, bool allow_mailto)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c < 0x20 || c == 0x7f || c == '\\') return false; /* '\' is '/' to browsers */
    }
    size_t colon = n;
    for (size_t i = 0; i < n; i++) {
        if (url[i] == ':') {
            colon = i;
            break;
        }
        if (url[i] == '/' || url[i] == '?' || url[i] == '#') break;
    }
    if (colon == n) return true; /* relative: path, query, fragment or //host */
    char scheme[8];
    if (colon == 0 || colon >= sizeof scheme) return false;
    for (size_t i = 0; i < colon; i++) scheme[i] = lower(url[i]);
    scheme[colon] = '\0';
    if (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) return true;
    return allow_mailto && strcmp(scheme, "mailto") == 0;
}

/* ---- the tokenizer ------------------------------------------------------- */

typedef struct san {
    const char *in;
    size_t n, i;
    buf_t *out;
    int stack[CMS_HTML_MAX_DEPTH]; /* indexes into allowed_tags */
    int depth;
    buf_t tmp; /* scratch for decoded values */
} san_t;

static int find_allowed(const char *name)
{
    for (size_t k = 0; k < sizeof allowed_tags / sizeof allowed_tags[0]; k++)
        if (strcmp(allowed_tags[k].name, name) == 0) return (int)k;
    return -1;
}

static bool is_drop_content(const char *name)
{
    for (const char *const *p = drop_content_tags; *p; p++)
        if (strcmp(*p, name) == 0) return true;
    return false;
}

/* read_name: a tag name (lower-cased, truncated to cap-1) starting at s->i. */
static void read_name(san_t *s, char *name, size_t cap)
{
    size_t k = 0;
    while (s->i < s->n) {
        unsigned char c = (unsigned char)s->in[s->i];
        if (is_space(c) || c == '/' || c == '>') break;
        if (k + 1 < cap) name[k++] = lower((char)c);
        s->i++;
    }
    name[k] = '\0';
}

/* skip_to_gt: past the next '>' (or to the end). */
static void skip_to_gt(san_t *s)
{
    const char *gt = memchr(s->in + s->i, '>', s->n - s->i);
    s->i = gt ? (size_t)(gt - s->in) + 1 : s->n;
}

/* skip_content: for a drop-content element: past its end tag, or to the end. */
static void skip_content(san_t *s, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = s->i; i + 2 + len <= s->n; i++) {
        if (s->in[i] != '<' || s->in[i + 1] != '/') continue;
        size_t k = 0;
        while (k < len && lower(s->in[i + 2 + k]) == name[k]) k++;
        if (k < len) continue;
        size_t after = i + 2 + len;
        if (after < s->n && !is_space((unsigned char)s->in[after]) && s->in[after] != '/' &&
            s->in[after] != '>')
            continue;
        s->i = after;
        skip_to_gt(s);
        return;
    }
    s->i = s->n;
}

typedef struct attr_out {
    bool have;
    buf_t val;
} attr_out_t;

enum { A_HREF, A_SRC, A_ALT, A_TITLE, A_N };
static const char *const attr_names[A_N] = {"href", "src", "alt", "title"};

/* read_attrs: parses attributes up to and including '>'; keeps the first
 * value of each attribute we know. Returns false when the tag never ends
 * (the rest of the input is then dropped). */
static bool read_attrs(san_t *s, attr_out_t *attrs)
{
    while (s->i < s->n) {
        unsigned char c = (unsigned char)s->in[s->i];
        if (is_space(c) || c == '/') {
            s->i++;
            continue;
        }
        if (c == '>') {
            s->i++;
            return true;
        }
        char name[16];
        size_t k = 0;
        /* a name runs to whitespace, '/', '>' or '=' (a leading '=' belongs to it) */
        do {
            if (k + 1 < sizeof name) name[k++] = lower(s->in[s->i]);
            s->i++;
        } while (s->i < s->n && !is_space((unsigned char)s->in[s->i]) && s->in[s->i] != '/' &&
                 s->in[s->i] != '>' && s->in[s->i] != '=');
        name[k] = '\0';
        while (s->i < s->n && is_space((unsigned char)s->in[s->i])) s->i++;
        const char *v = "";
        size_t vn = 0;
        if (s->i < s->n && s->in[s->i] == '=') {
            s->i++;
            while (s->i < s->n && is_space((unsigned char)s->in[s->i])) s->i++;
            if (s->i < s->n && (s->in[s->i] == '"' || s->in[s->i] == '\'')) {
                char q = s->in[s->i++];
                const char *end = memchr(s->in + s->i, q, s->n - s->i);
                if (!end) return false;
                v = s->in + s->i;
                vn = (size_t)(end - v);
                s->i += vn + 1;
            } else {
                v = s->in + s->i;
                while (s->i < s->n && !is_space((unsigned char)s->in[s->i]) && s->in[s->i] != '>')
                    s->i++;
                vn = (size_t)(s->in + s->i - v);
            }
        }
        for (int a = 0; a < A_N; a++) {
            if (strcmp(name, attr_names[a]) != 0 || attrs[a].have) continue;
            attrs[a].have = true;
            decode(v, vn, &attrs[a].val);
        }
    }
    return false;
}

static void emit_attr(san_t *s, const char *name, const char *v, size_t n)
{
    buf_append(s->out, " ", 1);
    buf_append_str(s->out, name);
    buf_append(s->out, "=\"", 2);
    cms_html_escape(s->out, v, n);
    buf_append(s->out, "\"", 1);
}

/* url_attr: the cleaned URL when allowed, else NULL. */
static const char *url_attr(attr_out_t *a, bool mailto, size_t *len)
{
    if (!a->have) return NULL;
    size_t n = clean_url(a->val.p, a->val.n);
    a->val.n = n;
    if (!cms_url_allowed(a->val.p, n, mailto)) return NULL;
    *len = n;
    return a->val.p;
}

static void start_tag(san_t *s)
{
    char name[16];
    read_name(s, name, sizeof name);
    attr_out_t attrs[A_N];
    for (int a = 0; a < A_N; a++) {
        attrs[a].have = false;
        buf_init(&attrs[a].val);
    }
    bool closed = read_attrs(s, attrs);
    int k = closed ? find_allowed(name) : -1;
    if (closed && k < 0 && is_drop_content(name)) {
        skip_content(s, name);
    } else if (!closed) {
        s->i = s->n;
    } else if (k >= 0 && (allowed_tags[k].is_void || s->depth < CMS_HTML_MAX_DEPTH)) {
        size_t ulen = 0;
        const char *url = NULL;
        if (strcmp(name, "img") == 0 && !(url = url_attr(&attrs[A_SRC], false, &ulen))) goto done;
        buf_append(s->out, "<", 1);
        buf_append_str(s->out, name);
        if (strcmp(name, "a") == 0 && (url = url_attr(&attrs[A_HREF], true, &ulen))) {
            emit_attr(s, "href", url, ulen);
            buf_append_str(s->out, " rel=\"nofollow noopener\"");
        }
        if (strcmp(name, "img") == 0) {
            emit_attr(s, "src", url, ulen);
            if (attrs[A_ALT].have) emit_attr(s, "alt", attrs[A_ALT].val.p, attrs[A_ALT].val.n);
        }
        if ((strcmp(name, "a") == 0 || strcmp(name, "img") == 0) && attrs[A_TITLE].have)
            emit_attr(s, "title", attrs[A_TITLE].val.p, attrs[A_TITLE].val.n);
        buf_append(s->out, ">", 1);
        if (!allowed_tags[k].is_void) s->stack[s->depth++] = k;
    }
done:
    for (int a = 0; a < A_N; a++) buf_cleanup(&attrs[a].val);
}

static void close_to(san_t *s, int level)
{
    while (s->depth > level) {
        s->depth--;
        buf_append(s->out, "</", 2);
        buf_append_str(s->out, allowed_tags[s->stack[s->depth]].name);
        buf_append(s->out, ">", 1);
    }
}

static void end_tag(san_t *s)
{
    char name[16];
    read_name(s, name, sizeof name);
    skip_to_gt(s);
    int k = find_allowed(name);
    if (k < 0) return;
    for (int d = s->depth - 1; d >= 0; d--) {
        if (s->stack[d] == k) {
            close_to(s, d);
            return;
        }
    }
}

static bool starts(const san_t *s, const char *lit)
{
    size_t n = strlen(lit);
    return s->n - s->i >= n && memcmp(s->in + s->i, lit, n) == 0;
}

void cms_html_sanitize(const char *in, size_t n, buf_t *out)
{
    san_t s = {.in = in, .n = n, .i = 0, .out = out, .depth = 0};
    buf_init(&s.tmp);
    while (s.i < s.n) {
        unsigned char c = (unsigned char)in[s.i];
        if (c == '<') {
            unsigned char c1 = s.i + 1 < n ? (unsigned char)in[s.i + 1] : 0;
            unsigned char c2 = s.i + 2 < n ? (unsigned char)in[s.i + 2] : 0;
            if (starts(&s, "<!--")) {
                const char *end = memmem(in + s.i + 4, n - s.i - 4, "-->", 3);
                s.i = end ? (size_t)(end - in) + 3 : n;
            } else if (c1 == '!' || c1 == '?') {
                skip_to_gt(&s);
            } else if (c1 == '/' && is_alpha(c2)) {
                s.i += 2;
                end_tag(&s);
            } else if (is_alpha(c1)) {
                s.i += 1;
                start_tag(&s);
            } else {
                buf_append_str(out, "&lt;");
                s.i++;
            }
            continue;
        }
        size_t j = s.i;
        while (j < n && in[j] != '<') j++;
        decode(in + s.i, j - s.i, &s.tmp);
        cms_html_escape(out, s.tmp.p, s.tmp.n);
        s.i = j;
    }
    close_to(&s, 0);
    buf_cleanup(&s.tmp);
    if (!out->p) buf_append(out, "", 0);
}
