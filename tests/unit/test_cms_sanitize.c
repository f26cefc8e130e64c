/* test_cms_sanitize.c — the CMS's allowlist HTML sanitizer against XSS
 * vectors (OWASP XSS filter evasion cheat sheet and friends), exact
 * outputs for the allowed markup, idempotence, and the escaping helper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "contexts/cms/sanitize.h"

static char *san(const char *in)
{
    buf_t b;
    buf_init(&b);
    cms_html_sanitize(in, strlen(in), &b);
    return buf_release(&b, NULL);
}

/* output_is_safe: every tag in html is an allowed element with only
 * allowed attributes, quoted, and no URL with a dangerous scheme. */
static int output_is_safe(const char *html, char *why, size_t whylen)
{
    static const char *const tags[] = {"p",  "h2",         "h3",   "h4",  "ul", "ol", "li",
                                       "a",  "strong",     "em",   "b",   "i",  "blockquote",
                                       "code", "pre",      "br",   "hr",  "img", NULL};
    static const char *const attrs[] = {"href", "src", "alt", "title", "rel", NULL};
    const char *p = html;
    while ((p = strchr(p, '<'))) {
        p++;
        if (*p == '/') p++;
        size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789");
        bool ok = false;
        for (int i = 0; tags[i]; i++) ok |= strlen(tags[i]) == n && !strncmp(tags[i], p, n);
        if (!ok) {
            snprintf(why, whylen, "tag not allowed at: %.40s", p);
            return 0;
        }
        p += n;
        while (*p == ' ') {
            p++;
            size_t an = strcspn(p, "=");
            bool aok = false;
            for (int i = 0; attrs[i]; i++) aok |= strlen(attrs[i]) == an && !strncmp(attrs[i], p, an);
            if (!aok || p[an] != '=' || p[an + 1] != '"') {
                snprintf(why, whylen, "attribute not allowed at: %.40s", p);
                return 0;
            }
            const char *v = p + an + 2;
            const char *e = strchr(v, '"');
            if (!e) {
                snprintf(why, whylen, "unterminated attribute");
                return 0;
            }
            if (!strncmp(p, "href", 4) || !strncmp(p, "src", 3)) {
                char val[512];
                snprintf(val, sizeof val, "%.*s", (int)(e - v), v);
                for (char *c = val; *c; c++) *c = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
                if (strstr(val, "script:") || strstr(val, "data:")) {
                    snprintf(why, whylen, "dangerous URL: %.100s", val);
                    return 0;
                }
            }
            p = e + 1;
        }
        if (*p != '>') {
            snprintf(why, whylen, "tag not closed at: %.40s", p);
            return 0;
        }
    }
    return 1;
}

/* The XSS filter evasion cheat sheet's vectors (and a few more). */
static const char *const vectors[] = {
    "<SCRIPT SRC=https://cdn.jsdelivr.net/gh/Moksh45/host-xss.rocks/index.js></SCRIPT>",
    "javascript:/*--></title></style></textarea></script></xmp><svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert(42);//'>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<a onmouseover=\"alert(document.cookie)\">xxs link</a>",
    "<a onmouseover=alert(document.cookie)>xxs link</a>",
    "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\"\\>",
    "<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>",
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    "<IMG SRC= onmouseover=\"alert('xxs')\">",
    "<IMG onmouseover=\"alert('xxs')\">",
    "<IMG SRC=/ onerror=\"alert(String.fromCharCode(88,83,83))\"></img>",
    "<img src=x onerror=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041\">",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0D;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    "<a href=\"javascript&colon;alert(1)\">x</a>",
    "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
    "<a href=\"  JAVASCRIPT:alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<a href=\"java\x01script:alert(1)\">x</a>",
    "<a href=\"\\\\evil.example/x\">x</a>",
    "<SCRIPT/XSS SRC=\"http://xss.rocks/xss.js\"></SCRIPT>",
    "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>",
    "<SCRIPT/SRC=\"http://xss.rocks/xss.js\"></SCRIPT>",
    "<<SCRIPT>alert(\"XSS\");//\\<</SCRIPT>",
    "<SCRIPT SRC=http://xss.rocks/xss.js?< B >",
    "<SCRIPT SRC=//xss.rocks/.j>",
    "<IMG SRC=\"`<javascript:alert>`('XSS')\"",
    "<iframe src=http://xss.rocks/scriptlet.html <",
    "\\\";alert('XSS');//",
    "</TITLE><SCRIPT>alert(\"XSS\");</SCRIPT>",
    "<INPUT TYPE=\"IMAGE\" SRC=\"javascript:alert('XSS');\">",
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<IMG DYNSRC=\"javascript:alert('XSS')\">",
    "<IMG LOWSRC=\"javascript:alert('XSS')\">",
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    "<IMG SRC='vbscript:msgbox(\"XSS\")'>",
    "<svg/onload=alert('XSS')>",
    "<BODY ONLOAD=alert('XSS')>",
    "<BGSOUND SRC=\"javascript:alert('XSS');\">",
    "<LINK REL=\"stylesheet\" HREF=\"javascript:alert('XSS');\">",
    "<STYLE>@import'http://xss.rocks/xss.css';</STYLE>",
    "<META HTTP-EQUIV=\"Link\" Content=\"<http://xss.rocks/xss.css>; REL=stylesheet\">",
    "<STYLE>BODY{-moz-binding:url(\"http://xss.rocks/xssmoz.xml#xss\")}</STYLE>",
    "<IMG STYLE=\"xss:expr/*XSS*/ession(alert('XSS'))\">",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">",
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    "<FRAMESET><FRAME SRC=\"javascript:alert('XSS');\"></FRAMESET>",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
    "<BASE HREF=\"javascript:alert('XSS');//\">",
    "<OBJECT TYPE=\"text/x-scriptlet\" DATA=\"http://xss.rocks/scriptlet.html\"></OBJECT>",
    "<EMBED SRC=\"data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcv MjAwMC9zdmciIHhtbG5zOnhsaW5rPSJodHRwOi8vd3d3LnczLm9yZy8xOTk5L3hs aW5rIiB2ZXJzaW9uPSIxLjAiIHg9IjAiIHk9IjAiIHdpZHRoPSIxOTQiIGhlaWdodD0iMjAw IiBpZD0ieHNzIj48c2NyaXB0IHR5cGU9InRleHQvZWNtYXNjcmlwdCI+YWxlcnQoIlh TUyIpOzwvc2NyaXB0Pjwvc3ZnPg==\" type=\"image/svg+xml\" AllowScriptAccess=\"always\"></EMBED>",
    "<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->",
    "<? echo('<SCR)';echo('IPT>alert(\"XSS\")</SCRIPT>'); ?>",
    "<SCRIPT a=\">\" SRC=\"httx://xss.rocks/xss.js\"></SCRIPT>",
    "<SCRIPT =\">\" SRC=\"httx://xss.rocks/xss.js\"></SCRIPT>",
    "<SCRIPT \"a='>'\" SRC=\"httx://xss.rocks/xss.js\"></SCRIPT>",
    "<A HREF=\"http://0x42.0x0000066.0x7.0x93/\">XSS</A>",
    "<A HREF=\"//google\">XSS</A>",
    "<p title=\"\"><img src=x onerror=alert(1)>\"></p>",
    "<p title='</p><script>alert(1)</script>'>x</p>",
    "<a href=x title=\"a\" title='<script>'>t</a>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mtext></math>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<textarea><script>alert(1)</script></textarea>",
    "<a href=\"https://ok.example/\" onclick=\"alert(1)\" style=\"x\">ok</a>",
    "<img src=\"data:image/png;base64,AAAA\">",
    "<img src=\"https://ok.example/a.png\" onerror=\"alert(1)\" alt=\"a\">",
    "<div><p>unclosed <strong>bold <em>both",
    "</p></p><li></ul>text",
    "<details open ontoggle=alert(1)>",
    "<a href=\"mailto:x@example.com\">mail</a><img src=\"mailto:x@example.com\">",
    "<plaintext><script>alert(1)</script>",
    "<xmp><script>alert(1)</script></xmp>",
    "<svg><script>alert(1)</script></svg><p>after</p>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<a href=\"&#106&#97&#118&#97&#115&#99&#114&#105&#112&#116&#58alert(1)\">x</a>",
    "<a href=\"&#x0000006A;avascript:alert(1)\">x</a>",
    "<a href=\"&#99999999999999;javascript:alert(1)\">x</a>",
    NULL,
};

static void test_vectors_are_neutralized(void **state)
{
    (void)state;
    for (int i = 0; vectors[i]; i++) {
        char *out = san(vectors[i]);
        char why[160] = "";
        if (!output_is_safe(out, why, sizeof why))
            fail_msg("vector %d: %s\n  in:  %s\n  out: %s", i, why, vectors[i], out);
        char *again = san(out);
        if (strcmp(out, again) != 0)
            fail_msg("vector %d not idempotent:\n  1: %s\n  2: %s", i, out, again);
        free(again);
        free(out);
    }
}

static void expect(const char *in, const char *want)
{
    char *out = san(in);
    if (strcmp(out, want) != 0) fail_msg("in:   %s\nwant: %s\ngot:  %s", in, want, out);
    free(out);
}

static void test_exact_outputs(void **state)
{
    (void)state;
    expect("<p>Hello <strong>world</strong></p>", "<p>Hello <strong>world</strong></p>");
    expect("<H2 class=x>Title</H2>", "<h2>Title</h2>");
    expect("<script>alert(1)</script><p>x</p>", "<p>x</p>");
    expect("<style>p{}</style>text", "text");
    expect("<img src=x onerror=alert(1)>", "<img src=\"x\">");
    expect("<img onerror=alert(1)>", "");
    expect("<a href=\"javascript:alert(1)\">x</a>", "<a>x</a>");
    expect("<a href=\"JaVa&#x09;Script:alert(1)\">x</a>", "<a>x</a>");
    expect("<a href='/about?x=1&amp;y=2'>a</a>",
           "<a href=\"/about?x=1&amp;y=2\" rel=\"nofollow noopener\">a</a>");
    expect("<a href=\"https://example.com/\" onclick=\"x()\">e</a>",
           "<a href=\"https://example.com/\" rel=\"nofollow noopener\">e</a>");
    expect("<a href=\"mailto:hi@example.com\">m</a>",
           "<a href=\"mailto:hi@example.com\" rel=\"nofollow noopener\">m</a>");
    expect("<img src=\"mailto:x\">", "");
    expect("<ul><li>a<li>b</ul>", "<ul><li>a<li>b</li></li></ul>");
    expect("<p>open <em>em", "<p>open <em>em</em></p>");
    expect("</p>stray</em>", "stray");
    expect("a < b && c > d", "a &lt; b &amp;&amp; c &gt; d");
    expect("&lt;b&gt; &amp;amp; &#60; &#x3c; &unknown; &", "&lt;b&gt; &amp;amp; &lt; &lt; &amp;unknown; &amp;");
    expect("it's \"quoted\"", "it&#39;s &quot;quoted&quot;");
    expect("<!-- comment --><p>x</p><!-- open", "<p>x</p>");
    expect("<div><span>kept text</span></div>", "kept text");
    expect("<br/><hr><br>", "<br><hr><br>");
    expect("<img src=\"/media/a.png\" alt=\"A &amp; B\" title=t>",
           "<img src=\"/media/a.png\" alt=\"A &amp; B\" title=\"t\">");
    expect("<p", "");
    expect("<a href=\"x", "");
    expect("&#0;&#xD800;", "\xef\xbf\xbd\xef\xbf\xbd");
    expect("<blockquote><pre><code>x = 1;</code></pre></blockquote>",
           "<blockquote><pre><code>x = 1;</code></pre></blockquote>");
}

static void test_depth_is_bounded(void **state)
{
    (void)state;
    buf_t in;
    buf_init(&in);
    for (int i = 0; i < 100; i++) buf_append_str(&in, "<em>");
    buf_append_str(&in, "deep");
    char *out = san(in.p);
    size_t opens = 0;
    for (const char *p = out; (p = strstr(p, "<em>")); p++) opens++;
    assert_int_equal(opens, CMS_HTML_MAX_DEPTH);
    assert_non_null(strstr(out, "deep"));
    char *again = san(out);
    assert_string_equal(out, again);
    free(again);
    free(out);
    buf_cleanup(&in);
}

static void test_escape_and_urls(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    cms_html_escape_str(&b, "<a href=\"x\">'&'</a>");
    assert_string_equal(b.p, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    buf_cleanup(&b);
    assert_true(cms_url_allowed("/a/b", 4, false));
    assert_true(cms_url_allowed("https://x", 9, false));
    assert_true(cms_url_allowed("HTTP://x", 8, false));
    assert_true(cms_url_allowed("?q=a:b", 6, false));
    assert_true(cms_url_allowed("page#a:b", 8, false));
    assert_false(cms_url_allowed("javascript:x", 12, true));
    assert_false(cms_url_allowed("data:x", 6, true));
    assert_false(cms_url_allowed("mailto:x", 8, false));
    assert_true(cms_url_allowed("mailto:x", 8, true));
    assert_false(cms_url_allowed(":x", 2, true));
    assert_false(cms_url_allowed("a\x01:b", 4, true));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_are_neutralized),
        cmocka_unit_test(test_exact_outputs),
        cmocka_unit_test(test_depth_is_bounded),
        cmocka_unit_test(test_escape_and_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
