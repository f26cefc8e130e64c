/* seed.c — the demo tenant's marketing site (the Bizoholic agency): home,
 * services, about, a blog with four posts, a contact page with the contact
 * form, the main menu and an Open Graph image. Created through the same
 * functions as the API (validation and sanitizing included), once per
 * tenant: cms_sites.seeded remembers it, so a restart, or an operator who
 * deleted a page, does not get it back. */
#include <string.h>

#include "err.h"
#include "internal.h"
#include "log.h"

#define AUTHOR "system:seed"

/* A 120×63 solid PNG in the brand colour, for og:image. */
static const unsigned char og_png[] =
    "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x78\x00\x00\x00"
    "\x3f\x08\x02\x00\x00\x00\xa4\x5b\x9b\x51\x00\x00\x00\x6e\x49\x44\x41\x54\x78\xda\xed\xd0\x41"
    "\x09\x00\x00\x08\x04\xb0\x4b\xe7\xd7\xfe\x01\xec\x61\x0b\x41\x18\x2c\xc1\xd2\x35\x1c\x88\x02"
    "\xd1\xa2\x11\x2d\x5a\xb4\x05\xd1\xa2\x11\x2d\x5a\xb4\x05\xd1\xa2\x11\x2d\x5a\x34\xa2\x45\x23"
    "\x5a\xb4\x68\x44\x8b\x46\xb4\x68\xd1\x88\x16\x8d\x68\xd1\xa2\x11\x2d\x1a\xd1\xa2\x45\x23\x5a"
    "\x34\xa2\x45\x8b\x46\xb4\x68\x44\x8b\x16\x8d\x68\xd1\x88\x16\x2d\x1a\xd1\xa2\x11\x2d\x5a\x34"
    "\xa2\x45\x23\x5a\xb4\x68\x44\xbf\xb7\xd0\xe4\x9d\x56\x0a\x31\xf4\x7d\x00\x00\x00\x00\x49\x45"
    "\x4e\x44\xae\x42\x60\x82";

/* The contact form: its fields are the CRM's lead-scoring inputs. */
static const char contact_form[] =
    "{\"slug\":\"contact\",\"title\":\"Tell us about your project\","
    "\"success_message\":\"Thank you! A Bizoholic strategist will contact you within one business day.\","
    "\"fields\":["
    "{\"name\":\"name\",\"label\":\"Your name\",\"type\":\"text\",\"required\":true,\"max_length\":120},"
    "{\"name\":\"email\",\"label\":\"E-mail\",\"type\":\"email\",\"required\":true},"
    "{\"name\":\"phone\",\"label\":\"Phone\",\"type\":\"tel\",\"max_length\":40},"
    "{\"name\":\"company\",\"label\":\"Company\",\"type\":\"text\",\"max_length\":200},"
    "{\"name\":\"website\",\"label\":\"Website\",\"type\":\"text\",\"max_length\":300},"
    "{\"name\":\"company_size\",\"label\":\"Company size (employees)\",\"type\":\"number\",\"max_length\":12},"
    "{\"name\":\"budget\",\"label\":\"Monthly budget (USD)\",\"type\":\"number\",\"max_length\":15},"
    "{\"name\":\"services\",\"label\":\"Services you are interested in\",\"type\":\"select\",\"multiple\":true,"
    "\"choices\":[\"seo\",\"ppc\",\"social_media\",\"content_marketing\",\"email_marketing\","
    "\"web_development\",\"analytics\"]},"
    "{\"name\":\"message\",\"label\":\"How can we help?\",\"type\":\"textarea\",\"max_length\":5000}"
    "]}";

typedef struct demo_page {
    const char *slug, *parent, *type, *title, *seo_title, *description, *html;
    const char *cta_text, *cta_url;
    bool form;
} demo_page_t;

static const demo_page_t demo_pages[] = {
    {"", NULL, "landing", "AI-powered marketing that grows your business",
     "Bizoholic — AI-powered digital marketing agency",
     "Bizoholic combines senior marketers with AI agents to run SEO, paid ads, social and content "
     "campaigns that turn visitors into customers.",
     "<p>Bizoholic is a digital marketing agency where experienced strategists work alongside "
     "<strong>AI agents</strong> that research, write, test and report around the clock.</p>"
     "<h2>What we do</h2><ul><li>Search engine optimization that compounds</li>"
     "<li>Paid campaigns tuned daily, not monthly</li><li>Content and social media with one voice</li>"
     "<li>Analytics you can act on</li></ul>",
     "Get a free marketing audit", "/contact", false},
    {"services", NULL, "landing", "Services", "Marketing services — SEO, PPC, social, content",
     "SEO, pay-per-click, social media, content and e-mail marketing, web development and analytics "
     "from one team.",
     "<h2>Search engine optimization</h2><p>Technical audits, content strategy and links that last.</p>"
     "<h2>Pay-per-click advertising</h2><p>Google and Meta campaigns with budgets moved to what "
     "converts, every day.</p><h2>Social media and content</h2><p>Calendars, copy and creative produced "
     "with AI and reviewed by people.</p><h2>Analytics</h2><p>Dashboards that show pipeline, not just "
     "clicks.</p>",
     "Talk to a strategist", "/contact", false},
    {"about", NULL, "generic", "About Bizoholic", "About us", "A small senior team with a large fleet of "
     "AI agents, serving growing businesses since 2019.",
     "<p>We started Bizoholic to give growing companies the marketing firepower of a large agency "
     "without the overhead.</p><blockquote>Every campaign has an owner you can call.</blockquote>",
     NULL, NULL, false},
    {"blog", NULL, "generic", "Blog", "Marketing blog", "Practical notes on SEO, paid media, content "
     "and marketing automation.",
     "<p>Ideas and experiments from our strategists.</p>", NULL, NULL, false},
    {"seo-checklist-2026", "blog", "blog_post", "The SEO checklist we use for every new client", NULL,
     "Twelve checks that find most of the quick wins in a site audit.",
     "<p>Before any strategy work we run the same audit. It starts with crawlability and ends with "
     "content gaps.</p><ol><li>Index coverage</li><li>Core Web Vitals</li><li>Internal links</li></ol>",
     NULL, NULL, false},
    {"ppc-budget-pacing", "blog", "blog_post", "Pacing a PPC budget without waste", NULL,
     "How daily re-allocation beats monthly reviews for paid campaigns.",
     "<p>Paid media rewards attention. Our agents move budget between ad groups every morning based "
     "on yesterday's cost per lead.</p>",
     NULL, NULL, false},
    {"ai-content-with-a-human-voice", "blog", "blog_post", "AI content with a human voice", NULL,
     "Where AI drafting helps, where editors matter, and how we combine both.",
     "<p>AI drafts are fast; editing is where brand voice lives. Here is the review loop we use.</p>",
     NULL, NULL, false},
    {"lead-scoring-basics", "blog", "blog_post", "Lead scoring basics for small teams", NULL,
     "Score leads on budget, fit and intent so sales calls the right people first.",
     "<p>A simple points model — budget, company size, services wanted, contact details — gets most "
     "of the value of a complex one.</p>",
     NULL, NULL, false},
    {"contact", NULL, "generic", "Contact us", "Contact Bizoholic",
     "Tell us about your project and get a free marketing audit.",
     "<p>Tell us where you want to grow. We answer every message within one business day.</p>", NULL,
     NULL, true},
};

static int seed_page(db_t *db, const char *tenant, const demo_page_t *p, const char *parent_id,
                     const char *og, arena_t *a, const char **id_out)
{
    json_t *body = cms__own(a, json_array());
    json_array_append_new(body, json_pack("{s:s, s:s}", "type", "rich_text", "html", p->html));
    if (p->cta_text)
        json_array_append_new(body, json_pack("{s:s, s:s, s:s}", "type", "cta", "text", p->cta_text,
                                              "url", p->cta_url));
    if (p->form) json_array_append_new(body, json_pack("{s:s, s:s}", "type", "form", "form", "contact"));
    json_t *o = cms__own(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "slug", p->slug, "type",
                                      p->type, "title", p->title, "seo_title",
                                      p->seo_title ? p->seo_title : "", "meta_description",
                                      p->description, "body", body));
    if (parent_id) json_object_set_new(o, "parent_id", json_string(parent_id));
    if (og) json_object_set_new(o, "og_image", json_string(og));
    cms_page_in_t in;
    const char *why = NULL;
    json_t *page, *pub;
    int rc = cms__page_parse(db, tenant, o, true, a, &in, &why);
    if (rc == 0) rc = cms__page_create(db, tenant, &in, AUTHOR, a, &page, &why);
    if (rc == 0) {
        *id_out = json_string_value(json_object_get(page, "id"));
        rc = cms__page_publish(db, tenant, *id_out, NULL, a, &pub, &why);
    }
    if (rc < 0) log_kv(LOG_WARN, "cms: demo page not seeded", "slug", p->slug, "why", why ? why : "", NULL);
    return rc;
}

int cms__seed_demo(db_t *db, const char *tenant, arena_t *a)
{
    json_t *form = cms__own(a, json_loads(contact_form, 0, NULL)), *out;
    const char *why = NULL;
    int rc = cms__form_put(db, tenant, NULL, form, true, a, &out, &why);
    if (rc < 0) return rc;
    json_t *media;
    rc = cms__media_store(db, tenant, "bizoholic-og.png", "image/png", og_png, sizeof og_png - 1,
                          "Bizoholic", a, &media, &why);
    if (rc < 0) return rc;
    const char *og = json_string_value(json_object_get(media, "id"));
    const char *ids[sizeof demo_pages / sizeof demo_pages[0]];
    const char *blog_id = NULL;
    for (size_t i = 0; i < sizeof demo_pages / sizeof demo_pages[0]; i++) {
        const demo_page_t *p = &demo_pages[i];
        if ((rc = seed_page(db, tenant, p, p->parent ? blog_id : NULL, i == 0 ? og : NULL, a, &ids[i])) < 0)
            return rc;
        if (!strcmp(p->slug, "blog")) blog_id = ids[i];
    }
    json_t *menu = cms__own(a, json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}",
                                         "title", "Main menu", "items", "label", "Home", "page_id", ids[0],
                                         "label", "Services", "page_id", ids[1], "label", "About",
                                         "page_id", ids[2], "label", "Blog", "page_id", ids[3], "label",
                                         "Contact", "page_id", ids[8]));
    if ((rc = cms__menu_put(db, tenant, "main", menu, a, &out, &why)) < 0) return rc;
    return db_exec(db, NULL,
                   "INSERT INTO cms_sites (tenant_id, version, site_name, seeded) VALUES ($1, 1, $2, $3) "
                   "ON CONFLICT (tenant_id) DO UPDATE SET site_name = $2, seeded = $3, "
                   "version = cms_sites.version + 1",
                   DB_ARGS(DB_TEXT(tenant), DB_TEXT("Bizoholic"), DB_BOOL(true)));
}
