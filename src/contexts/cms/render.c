/* render.c — the marketing site's HTML, written from C.
 *
 * One layout (head with SEO and Open Graph tags, header with the menu,
 * main, footer) around a page's blocks, a blog listing, a form or an
 * error. Every value that came from a user goes through cms_html_escape;
 * rich text, already sanitized on save, is sanitized again here so a
 * tampered row cannot inject markup either. URLs in attributes are checked
 * with cms_url_allowed before they are written. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "sanitize.h"

#define E(s) cms_html_escape_str(out, (s))
#define A(s) buf_append_str(out, (s))

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static const char css[] =
    "body{margin:0;font:16px/1.6 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2937}"
    "header,main,footer{max-width:60rem;margin:0 auto;padding:1rem 1.25rem}"
    "header{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between}"
    ".brand{font-weight:700;font-size:1.25rem;color:#4f46e5;text-decoration:none}"
    "nav ul{list-style:none;display:flex;gap:1rem;margin:0;padding:0}nav li ul{display:none}"
    "nav a{color:#374151;text-decoration:none}nav a[aria-current]{font-weight:600;color:#4f46e5}"
    "h1{font-size:2.2rem;line-height:1.2}.meta{color:#6b7280}"
    ".cta{background:#eef2ff;border-radius:.5rem;padding:1rem 1.25rem;margin:1.5rem 0}"
    ".button,button{display:inline-block;background:#4f46e5;color:#fff;border:0;border-radius:.375rem;"
    "padding:.6rem 1.1rem;text-decoration:none;font-size:1rem;cursor:pointer}"
    "figure{margin:1.5rem 0}img{max-width:100%;height:auto}"
    ".posts article{border-bottom:1px solid #e5e7eb;padding:.5rem 0}"
    ".pagination{display:flex;gap:1rem;margin:1.5rem 0}"
    ".field{margin:.75rem 0}.field label{display:block;font-weight:600}"
    "input,select,textarea{width:100%;max-width:32rem;padding:.5rem;border:1px solid #d1d5db;"
    "border-radius:.375rem;font:inherit}fieldset label{font-weight:400}"
    "fieldset input{width:auto}.error{color:#b91c1c;display:block}"
    ".thanks{background:#ecfdf5;border-radius:.5rem;padding:1rem 1.25rem}"
    "footer{color:#6b7280;border-top:1px solid #e5e7eb;margin-top:2rem}";

/* Progressive enhancement: with JavaScript the form posts JSON and shows
 * the answer in place; without it the browser posts the form and gets a
 * page back. Server text is only ever set with textContent. */
static const char form_js[] =
    "document.querySelectorAll('form[data-cms-form]').forEach(function(f){"
    "f.addEventListener('submit',function(e){if(!window.fetch)return;e.preventDefault();var d={};"
    "new FormData(f).forEach(function(v,k){if(k in d){if(!Array.isArray(d[k]))d[k]=[d[k]];"
    "d[k].push(v)}else d[k]=v});f.querySelectorAll('[data-multiple]').forEach(function(s){"
    "var k=s.getAttribute('data-multiple');if(k in d&&!Array.isArray(d[k]))d[k]=[d[k]]});"
    "f.querySelectorAll('.error').forEach(function(n){n.textContent=''});"
    "fetch(f.action,{method:'POST',headers:{'Content-Type':'application/json',"
    "'Accept':'application/json'},body:JSON.stringify(d)}).then(function(r){return r.json()"
    ".then(function(j){return[r.status,j]})}).then(function(x){var j=x[1];if(x[0]<300){"
    "var t=document.createElement('div');t.className='thanks';t.setAttribute('role','status');"
    "t.textContent=j.message||'Thank you!';f.replaceWith(t);return}var fs=j.error&&j.error.fields||{};"
    "for(var k in fs){var n=f.querySelector('[data-error-for=\"'+k+'\"]');if(n)n.textContent=fs[k]}"
    "}).catch(function(){f.submit()})})})";

static char g_csp[256];
static pthread_once_t g_csp_once = PTHREAD_ONCE_INIT;

/* make_csp: the page's only script is form_js, allowed by its hash; images
 * may come from anywhere over http(s) (rich text links them), styles are
 * the inline sheet. */
static void make_csp(void)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)form_js, sizeof form_js - 1);
    char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, h, sizeof h, sodium_base64_VARIANT_ORIGINAL);
    snprintf(g_csp, sizeof g_csp,
             "default-src 'self'; img-src 'self' http: https:; style-src 'unsafe-inline'; "
             "script-src 'sha256-%s'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'",
             b64);
}

const char *cms__render_csp(void)
{
    pthread_once(&g_csp_once, make_csp);
    return g_csp;
}

static void head(buf_t *out, const cms_site_ctx_t *s, const char *title, const char *desc,
                 const char *path_and_query, const char *og_type, const char *og_image,
                 bool noindex)
{
    A("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    E(title);
    if (*s->site_name && strcmp(title, s->site_name)) {
        A(" | ");
        E(s->site_name);
    }
    A("</title>\n");
    if (desc && *desc) {
        A("<meta name=\"description\" content=\"");
        E(desc);
        A("\">\n");
    }
    if (noindex) A("<meta name=\"robots\" content=\"noindex\">\n");
    if (path_and_query) {
        A("<link rel=\"canonical\" href=\"");
        E(s->base_url);
        E(path_and_query);
        A("\">\n<meta property=\"og:url\" content=\"");
        E(s->base_url);
        E(path_and_query);
        A("\">\n");
    }
    A("<meta property=\"og:type\" content=\"");
    A(og_type);
    A("\">\n<meta property=\"og:title\" content=\"");
    E(title);
    A("\">\n");
    if (desc && *desc) {
        A("<meta property=\"og:description\" content=\"");
        E(desc);
        A("\">\n");
    }
    if (*s->site_name) {
        A("<meta property=\"og:site_name\" content=\"");
        E(s->site_name);
        A("\">\n");
    }
    if (og_image && *og_image) {
        A("<meta property=\"og:image\" content=\"");
        E(s->base_url);
        E(og_image);
        A("\">\n<meta name=\"twitter:card\" content=\"summary_large_image\">\n");
    } else {
        A("<meta name=\"twitter:card\" content=\"summary\">\n");
    }
    A("<style>");
    A(css);
    A("</style></head>\n<body>\n<header><a class=\"brand\" href=\"/\">");
    E(*s->site_name ? s->site_name : "Home");
    A("</a>");
}

static void menu_items(buf_t *out, json_t *items, const char *current)
{
    A("<ul>");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const char *url = str(it, "url");
        A("<li><a href=\"");
        if (cms_url_allowed(url, strlen(url), true)) E(url);
        A("\"");
        if (current && !strcmp(url, current)) A(" aria-current=\"page\"");
        A(">");
        E(str(it, "label"));
        A("</a>");
        json_t *kids = json_object_get(it, "children");
        if (json_array_size(kids)) menu_items(out, kids, current);
        A("</li>");
    }
    A("</ul>");
}

static void nav_and_main(buf_t *out, const cms_site_ctx_t *s, const char *current)
{
    if (s->menu && json_array_size(s->menu)) {
        A("<nav aria-label=\"Main\">");
        menu_items(out, s->menu, current);
        A("</nav>");
    }
    A("</header>\n<main>\n");
}

static void foot(buf_t *out, const cms_site_ctx_t *s, bool with_js)
{
    A("</main>\n<footer><p>&copy; ");
    E(*s->site_name ? s->site_name : "");
    A(" &middot; <a href=\"/sitemap.xml\">Sitemap</a></p></footer>\n");
    if (with_js) {
        A("<script>");
        A(form_js);
        A("</script>\n");
    }
    A("</body></html>\n");
}

static void choice_label(buf_t *out, const char *c)
{
    buf_t t;
    buf_init(&t);
    buf_append_str(&t, c);
    for (size_t i = 0; i < t.n; i++)
        if (t.p[i] == '_') t.p[i] = ' ';
    if (t.n && t.p[0] >= 'a' && t.p[0] <= 'z') t.p[0] = (char)(t.p[0] - 32);
    cms_html_escape(out, t.p, t.n);
    buf_cleanup(&t);
}

static bool value_has(json_t *v, const char *c)
{
    if (json_is_string(v)) return !strcmp(json_string_value(v), c);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) if (json_is_string(e) && !strcmp(json_string_value(e), c)) return true;
    return false;
}

void cms__render_form(buf_t *out, json_t *form, json_t *values, json_t *errors)
{
    A("<form class=\"cms-form\" method=\"post\" action=\"/contact\" data-cms-form>\n"
      "<input type=\"hidden\" name=\"_form\" value=\"");
    E(str(form, "slug"));
    A("\">\n");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(form, "fields"), i, f)
    {
        const char *name = str(f, "name"), *type = str(f, "type");
        bool req = json_is_true(json_object_get(f, "required"));
        json_t *v = json_object_get(values, name);
        char ml[32];
        snprintf(ml, sizeof ml, "%lld", (long long)json_integer_value(json_object_get(f, "max_length")));
        A("<div class=\"field\">");
        if (!strcmp(type, "select") && json_is_true(json_object_get(f, "multiple"))) {
            A("<fieldset data-multiple=\"");
            E(name);
            A("\"><legend>");
            E(str(f, "label"));
            A("</legend>");
            size_t c;
            json_t *cv;
            json_array_foreach(json_object_get(f, "choices"), c, cv)
            {
                A("<label><input type=\"checkbox\" name=\"");
                E(name);
                A("\" value=\"");
                E(json_string_value(cv));
                A("\"");
                if (value_has(v, json_string_value(cv))) A(" checked");
                A("> ");
                choice_label(out, json_string_value(cv));
                A("</label> ");
            }
            A("</fieldset>");
        } else {
            A("<label for=\"f-");
            E(name);
            A("\">");
            E(str(f, "label"));
            if (req) A(" *");
            A("</label>");
            const char *val = json_is_string(v) ? json_string_value(v) : "";
            char num[64] = "";
            if (json_is_number(v)) snprintf(num, sizeof num, "%g", json_number_value(v)), val = num;
            if (!strcmp(type, "textarea")) {
                A("<textarea id=\"f-");
                E(name);
                A("\" name=\"");
                E(name);
                A("\" rows=\"6\" maxlength=\"");
                A(ml);
                A("\"");
                if (req) A(" required");
                A(">");
                E(val);
                A("</textarea>");
            } else if (!strcmp(type, "select")) {
                A("<select id=\"f-");
                E(name);
                A("\" name=\"");
                E(name);
                A("\"");
                if (req) A(" required");
                A("><option value=\"\">&mdash;</option>");
                size_t c;
                json_t *cv;
                json_array_foreach(json_object_get(f, "choices"), c, cv)
                {
                    A("<option value=\"");
                    E(json_string_value(cv));
                    A("\"");
                    if (value_has(v, json_string_value(cv))) A(" selected");
                    A(">");
                    choice_label(out, json_string_value(cv));
                    A("</option>");
                }
                A("</select>");
            } else {
                A("<input id=\"f-");
                E(name);
                A("\" name=\"");
                E(name);
                A("\" type=\"");
                A(!strcmp(type, "email") ? "email" : !strcmp(type, "tel") ? "tel"
                                                   : !strcmp(type, "number") ? "number" : "text");
                A("\"");
                if (strcmp(type, "number")) {
                    A(" maxlength=\"");
                    A(ml);
                    A("\"");
                } else {
                    A(" step=\"any\"");
                }
                if (req) A(" required");
                const char *ph = str(f, "placeholder");
                if (*ph) {
                    A(" placeholder=\"");
                    E(ph);
                    A("\"");
                }
                A(" value=\"");
                E(val);
                A("\">");
            }
        }
        A("<span class=\"error\" data-error-for=\"");
        E(name);
        A("\">");
        E(json_string_value(json_object_get(errors, name)));
        A("</span></div>\n");
    }
    A("<button type=\"submit\">Send</button>\n</form>\n");
}

static void blocks(buf_t *out, const cms_site_ctx_t *s, json_t *body, bool *has_form)
{
    size_t i;
    json_t *b;
    json_array_foreach(body, i, b)
    {
        const char *type = str(b, "type");
        if (!strcmp(type, "rich_text")) {
            const char *h = str(b, "html");
            A("<section class=\"rich-text\">");
            cms_html_sanitize(h, strlen(h), out);
            A("</section>\n");
        } else if (!strcmp(type, "image")) {
            const char *url = str(b, "url");
            if (!cms_url_allowed(url, strlen(url), false)) continue;
            A("<figure><img src=\"");
            E(url);
            A("\" alt=\"");
            E(str(b, "alt"));
            A("\" loading=\"lazy\">");
            if (*str(b, "caption")) {
                A("<figcaption>");
                E(str(b, "caption"));
                A("</figcaption>");
            }
            A("</figure>\n");
        } else if (!strcmp(type, "cta")) {
            const char *url = str(b, "url");
            A("<div class=\"cta\">");
            if (*str(b, "description")) {
                A("<p>");
                E(str(b, "description"));
                A("</p>");
            }
            A("<a class=\"button\" href=\"");
            if (cms_url_allowed(url, strlen(url), true)) E(url);
            A("\">");
            E(str(b, "text"));
            A("</a></div>\n");
        } else if (!strcmp(type, "form")) {
            json_t *form;
            if (cms__form_get(s->db, s->tenant, str(b, "form"), s->a, &form) < 0) continue;
            cms__render_form(out, form, NULL, NULL);
            *has_form = true;
        }
    }
}

void cms__render_page(buf_t *out, const cms_site_ctx_t *s, json_t *live, json_t *posts, int page,
                      int pages)
{
    const char *path = str(live, "path");
    const char *title = *str(live, "seo_title") ? str(live, "seo_title") : str(live, "title");
    bool post = !strcmp(str(live, "type"), "blog_post");
    char canon[600];
    snprintf(canon, sizeof canon, page > 1 ? "%s?page=%d" : "%s", path, page);
    head(out, s, title, str(live, "meta_description"), canon, post ? "article" : "website",
         str(live, "og_image_url"), false);
    nav_and_main(out, s, path);
    A("<article>\n<h1>");
    E(str(live, "title"));
    A("</h1>\n");
    if (post) {
        A("<p class=\"meta\">Published <time datetime=\"");
        E(str(live, "first_published_at"));
        A("\">");
        cms_html_escape(out, str(live, "first_published_at"), strnlen(str(live, "first_published_at"), 10));
        A("</time></p>\n");
    }
    bool has_form = false;
    blocks(out, s, json_object_get(live, "body"), &has_form);
    A("</article>\n");
    if (posts) {
        A("<section class=\"posts\" aria-label=\"Posts\">\n");
        size_t i;
        json_t *p;
        json_array_foreach(posts, i, p)
        {
            A("<article><h2><a href=\"");
            E(str(p, "path"));
            A("\">");
            E(str(p, "title"));
            A("</a></h2><p class=\"meta\">");
            cms_html_escape(out, str(p, "first_published_at"), strnlen(str(p, "first_published_at"), 10));
            A("</p><p>");
            E(str(p, "meta_description"));
            A("</p></article>\n");
        }
        A("</section>\n<nav class=\"pagination\" aria-label=\"Pages\">");
        char href[600];
        if (page > 1) {
            snprintf(href, sizeof href, page > 2 ? "%s?page=%d" : "%s", path, page - 1);
            A("<a rel=\"prev\" href=\"");
            E(href);
            A("\">&larr; Newer posts</a>");
        }
        if (page < pages) {
            snprintf(href, sizeof href, "%s?page=%d", path, page + 1);
            A("<a rel=\"next\" href=\"");
            E(href);
            A("\">Older posts &rarr;</a>");
        }
        A("</nav>\n");
    }
    foot(out, s, has_form);
}

void cms__render_not_found(buf_t *out, const cms_site_ctx_t *s)
{
    head(out, s, "Page not found", NULL, NULL, "website", NULL, true);
    nav_and_main(out, s, NULL);
    A("<h1>Page not found</h1>\n<p>There is no page at this address. "
      "<a href=\"/\">Go to the home page</a>.</p>\n");
    foot(out, s, false);
}

void cms__render_form_result(buf_t *out, const cms_site_ctx_t *s, json_t *form, json_t *values,
                             json_t *errors)
{
    head(out, s, errors ? str(form, "title") : "Thank you", NULL, NULL, "website", NULL, true);
    nav_and_main(out, s, NULL);
    A("<h1>");
    E(errors ? str(form, "title") : "Thank you");
    A("</h1>\n");
    if (errors) {
        A("<p class=\"error\" role=\"alert\">Please correct the fields marked below.</p>\n");
        cms__render_form(out, form, values, errors);
    } else {
        A("<div class=\"thanks\" role=\"status\"><p>");
        E(str(form, "success_message"));
        A("</p></div>\n<p><a href=\"/\">Back to the home page</a></p>\n");
    }
    foot(out, s, errors != NULL);
}
