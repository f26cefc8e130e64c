/* sanitize.h — the CMS's allowlist HTML sanitizer and the escaping helpers
 * every template uses. Pure functions (no I/O, no globals): fuzzed on their
 * own (tests/fuzz/fuzz_cms_sanitize.c). */
#ifndef BZ_CMS_SANITIZE_H
#define BZ_CMS_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"

/* Deepest nesting of allowed elements kept; deeper tags are dropped (their
 * text is kept). */
#define CMS_HTML_MAX_DEPTH 32

/* cms_html_sanitize: appends to out a well-formed rendering of the HTML
 * fragment in[0..n) that keeps only the allowlist:
 *   p h2 h3 h4 ul ol li strong em b i blockquote code pre br hr
 *   a[href title]  (href: http, https, mailto or relative)
 *   img[src alt title]  (src: http, https or relative)
 * Every other element is dropped with its tags but its text is kept, except
 * script, style and the other raw-text or foreign elements (iframe, object,
 * svg, math, template, …), whose content is dropped too. Comments,
 * doctypes and processing instructions are dropped. Attributes other than
 * those listed (every on* handler, style, …) are dropped. URLs are checked
 * after entity decoding and after removing the whitespace and control
 * characters browsers ignore, so "jav&#x09;ascript:" is refused like
 * "javascript:". Text and attribute values are re-escaped; open elements
 * are closed; stray end tags are dropped. The function is idempotent:
 * sanitizing its output again yields the same bytes. */
void cms_html_sanitize(const char *in, size_t n, buf_t *out);

/* cms_html_escape: appends s[0..n) with & < > " ' escaped (text and quoted
 * attribute values). */
void cms_html_escape(buf_t *out, const char *s, size_t n);
/* cms_html_escape_str: the same for a C string (NULL appends nothing). */
void cms_html_escape_str(buf_t *out, const char *s);

/* cms_url_allowed: true when url (already entity-decoded) is safe as a link
 * target: relative, or with scheme http, https, or (allow_mailto) mailto. */
bool cms_url_allowed(const char *url, size_t n, bool allow_mailto);

#endif
