// pages.js — CMS pages: the list (draft side: status, unpublished
// changes), a new-page form, and the editor (title, slug, SEO fields, the
// body's blocks — rich text, image, call to action, form — added, edited,
// reordered and removed), a preview of the saved draft, publish, and the
// revisions (view one, revert to it). Loaded when first opened.

import { api, qs } from '../../shared/api.js';
import { confirmAction, dataTable, dialog, errorState, fmtTime, form, h, loading, mount, pageHead, toast } from '../../shared/ui.js';

const TYPES = ['generic', 'landing', 'blog_post'];
const BLOCKS = { rich_text: 'Rich text', image: 'Image', cta: 'Call to action', form: 'Form' };

function newPage(navigate) {
  let dlg;
  const f = form({
    fields: [
      { name: 'title', label: 'Title', required: true },
      { name: 'slug', label: 'Slug', required: true, pattern: '[a-z0-9-]+', hint: 'Lower-case letters, digits and dashes; the page lives at /<slug> under the home page.' },
      { name: 'type', label: 'Type', type: 'select', options: TYPES.map((t) => ({ value: t, label: t.replace('_', ' ') })) },
    ],
    submitLabel: 'Create page',
    onCancel: () => dlg.close(),
    onSubmit: async (v) => {
      const p = await api('POST', '/api/v1/cms/pages', v);
      dlg.close();
      navigate(`/pages/${p.id}`);
    },
  });
  dlg = dialog('New page', f.el);
}

function listScreen(ctx) {
  const table = dataTable({
    caption: 'Pages',
    emptyTitle: 'No pages yet.',
    rowLabel: (r) => r.id,
    columns: [
      { key: 'title', label: 'Title', sortable: true, render: (r) => h('a', { href: `/portal/pages/${r.id}` }, r.title) },
      { key: 'path', label: 'Path', sortable: true },
      { key: 'type', label: 'Type', sortable: true },
      { key: 'status', label: 'Status', sortable: true, render: (r) => h('span', null, h('span', { class: `badge ${r.status === 'published' ? 'ok' : 'neutral'}` }, r.status), r.has_unpublished_changes ? h('span', { class: 'badge warn' }, ' unpublished changes') : null) },
      { key: 'updated_at', label: 'Updated', sortable: true, render: (r) => fmtTime(r.updated_at) },
    ],
    load: ({ cursor }) => api('GET', `/api/v1/cms/pages${qs({ limit: 50, cursor })}`),
  });
  return h('section', null, pageHead('Pages', h('button', { type: 'button', class: 'primary', onclick: () => newPage(ctx.navigate) }, 'New page')), table.el);
}

// ---- blocks -----------------------------------------------------------------

let seq = 0;
function field(label, control, hint) {
  const id = `blk-${++seq}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), hint ? h('div', { class: 'hint' }, hint) : null, control);
}

/** blockEditor: a fieldset for one block; get() returns the block's JSON. */
function blockEditor(b, forms, media, actions) {
  const c = {};
  let body;
  if (b.type === 'rich_text') {
    c.html = h('textarea', { rows: 6, 'data-block-field': 'html' }, b.html || '');
    body = [field('Text (HTML)', c.html, 'Paragraphs, headings h2–h4, lists, bold, italics, quotes, code and links are kept; anything else is removed when saved.')];
  } else if (b.type === 'image') {
    c.media_id = h('select', null, h('option', { value: '' }, 'Choose an image'), media.map((m) => h('option', { value: m.id, selected: m.id === b.media_id }, m.filename || m.id)));
    c.alt = h('input', { value: b.alt || '' });
    c.caption = h('input', { value: b.caption || '' });
    body = [field('Image', c.media_id, media.length ? null : 'Upload images through the media API first.'), field('Alternative text', c.alt), field('Caption', c.caption)];
  } else if (b.type === 'cta') {
    c.text = h('input', { value: b.text || '', required: true });
    c.url = h('input', { value: b.url || '', required: true });
    c.description = h('input', { value: b.description || '' });
    body = [field('Button text', c.text), field('Link', c.url, 'A path on this site, an http(s) or mailto: URL.'), field('Description', c.description)];
  } else if (b.type === 'form') {
    c.form = h('select', null, forms.map((f) => h('option', { value: f.slug, selected: f.slug === b.form }, f.title || f.slug)));
    body = [field('Form', c.form, forms.length ? null : 'Create a form through the forms API first.')];
  } else {
    body = [h('p', { class: 'muted' }, `A ${b.type} block (kept as it is).`)];
  }
  const el = h('fieldset', { class: 'block card', 'data-type': b.type }, h('legend', null, BLOCKS[b.type] || b.type), body, h('div', { class: 'row' }, actions));
  const get = () => {
    const out = { ...b };
    for (const [k, ctl] of Object.entries(c)) out[k] = ctl.value;
    if (out.type === 'image') {
      delete out.url;
      if (!out.caption) delete out.caption;
    }
    if (out.type === 'cta' && !out.description) delete out.description;
    return out;
  };
  return { el, get };
}

// ---- preview: the saved draft, drawn here -----------------------------------------

const ALLOWED = new Set(['P', 'H2', 'H3', 'H4', 'UL', 'OL', 'LI', 'STRONG', 'EM', 'B', 'I', 'BLOCKQUOTE', 'CODE', 'PRE', 'BR', 'HR', 'A', 'IMG']);
/** richText: the server sanitized this on save; it is parsed inertly
 * (DOMParser runs nothing) and filtered again to the same allowlist. */
function richText(html) {
  const doc = new DOMParser().parseFromString(`<div>${html}</div>`, 'text/html');
  const clean = (node) => {
    for (const el of [...node.children]) {
      if (!ALLOWED.has(el.tagName)) {
        el.remove();
        continue;
      }
      for (const a of [...el.attributes]) {
        const ok = (el.tagName === 'A' && (a.name === 'href' || a.name === 'title')) || (el.tagName === 'IMG' && ['src', 'alt', 'title'].includes(a.name));
        if (!ok || /^\s*javascript:/i.test(a.value)) el.removeAttribute(a.name);
      }
      clean(el);
    }
  };
  const root = doc.body.firstChild;
  clean(root);
  return document.importNode(root, true);
}

function preview(page) {
  const blocks = (page.body || []).map((b) => {
    if (b.type === 'rich_text') return richText(b.html || '');
    if (b.type === 'image') return h('figure', null, h('img', { src: b.url || '', alt: b.alt || '' }), b.caption ? h('figcaption', null, b.caption) : null);
    if (b.type === 'cta') return h('p', null, h('a', { class: 'button primary', href: b.url }, b.text), b.description ? h('span', { class: 'muted' }, ` ${b.description}`) : null);
    if (b.type === 'form') return h('p', { class: 'muted' }, `[the "${b.form}" form]`);
    return null;
  });
  dialog(`Preview — ${page.title}`, h('div', { class: 'preview' }, h('article', null, h('h1', null, page.title), blocks), h('p', { class: 'muted' }, `Draft revision ${page.revision}. `, page.status === 'published' ? h('a', { href: page.url, target: '_blank' }, 'Open the live page') : 'Not published yet.')));
}

// ---- revisions ----------------------------------------------------------------------

async function revisions(page, reload) {
  const box = h('div', null, loading());
  const dlg = dialog(`Revisions — ${page.title}`, box);
  try {
    const r = await api('GET', `/api/v1/cms/pages/${page.id}/revisions`);
    mount(
      box,
      h('table', null, h('caption', { class: 'visually-hidden' }, 'Revisions'),
        h('thead', null, h('tr', null, ['Revision', 'Author', 'Note', 'Saved', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, r.items.map((rev) => h('tr', null,
          h('th', { scope: 'row' }, String(rev.number), rev.number === page.live_revision ? h('span', { class: 'badge ok' }, ' live') : null),
          h('td', null, rev.author || '—'), h('td', null, rev.note || '—'), h('td', null, fmtTime(rev.created_at)),
          h('td', { class: 'actions' },
            h('button', { type: 'button', class: 'small', 'aria-label': `View revision ${rev.number}`, onclick: async () => {
              const full = await api('GET', `/api/v1/cms/pages/${page.id}/revisions/${rev.number}`);
              preview({ ...page, ...(full.content || full), revision: rev.number });
            } }, 'View'),
            rev.number === page.revision ? null : h('button', { type: 'button', class: 'small', 'aria-label': `Revert to revision ${rev.number}`, onclick: async () => {
              if (!(await confirmAction('Revert', `Make revision ${rev.number}'s content the draft (saved as a new revision)?`, 'Revert'))) return;
              try {
                await api('POST', `/api/v1/cms/pages/${page.id}/revisions/${rev.number}/revert`, {});
                dlg.close();
                toast(`Reverted to revision ${rev.number}`, 'success');
                reload();
              } catch (e) {
                toast(e.message, 'error');
              }
            } }, 'Revert'),
          ))))),
      h('div', { class: 'form-actions' }, h('button', { type: 'button', onclick: () => dlg.close() }, 'Close')),
    );
  } catch (e) {
    mount(box, errorState(e));
  }
}

// ---- the editor ------------------------------------------------------------------------

async function editorScreen(ctx) {
  let page;
  let forms = [];
  let media = [];
  try {
    [page, forms, media] = await Promise.all([
      api('GET', `/api/v1/cms/pages/${encodeURIComponent(ctx.params.id)}`),
      api('GET', '/api/v1/cms/forms').then((r) => r.items).catch(() => []),
      api('GET', '/api/v1/cms/media?limit=100').then((r) => r.items).catch(() => []),
    ]);
  } catch (e) {
    return h('section', null, pageHead('Edit page'), errorState(e));
  }
  const reload = () => ctx.navigate(`/pages/${page.id}`, { replace: true });
  let editors = [];
  const list = h('div', { class: 'blocks' });
  function draw() {
    const current = editors.map((e) => e.get());
    editors = current.map((b, i) =>
      blockEditor(b, forms, media, [
        h('button', { type: 'button', class: 'small', disabled: i === 0, 'aria-label': `Move block ${i + 1} up`, onclick: () => swap(i, i - 1) }, 'Up'),
        h('button', { type: 'button', class: 'small', disabled: i === current.length - 1, 'aria-label': `Move block ${i + 1} down`, onclick: () => swap(i, i + 1) }, 'Down'),
        h('button', { type: 'button', class: 'small danger', 'aria-label': `Remove block ${i + 1}`, onclick: () => remove(i) }, 'Remove'),
      ]),
    );
    mount(list, editors.length ? editors.map((e) => e.el) : h('p', { class: 'muted' }, 'No blocks yet: add one below.'));
  }
  function swap(i, j) {
    const v = editors.map((e) => e.get());
    [v[i], v[j]] = [v[j], v[i]];
    editors = v.map((b) => ({ get: () => b }));
    draw();
  }
  function remove(i) {
    const v = editors.map((e) => e.get());
    v.splice(i, 1);
    editors = v.map((b) => ({ get: () => b }));
    draw();
  }
  function add(type) {
    const v = editors.map((e) => e.get());
    v.push(type === 'form' ? { type, form: forms[0]?.slug || '' } : { type });
    editors = v.map((b) => ({ get: () => b }));
    draw();
    list.lastElementChild?.querySelector('textarea, input, select')?.focus();
  }
  editors = (page.body || []).map((b) => ({ get: () => b }));
  draw();

  const meta = form({
    fields: [
      { name: 'title', label: 'Title', required: true, value: page.title },
      page.path === '/' ? null : { name: 'slug', label: 'Slug', required: true, value: page.slug, pattern: '[a-z0-9-]+' },
      { name: 'seo_title', label: 'SEO title', value: page.seo_title || '' },
      { name: 'meta_description', label: 'Meta description', type: 'textarea', value: page.meta_description || '' },
    ].filter(Boolean),
    submitLabel: 'Save draft',
    onSubmit: async (v) => {
      const body = { ...v, body: editors.map((e) => e.get()) };
      for (const k of ['seo_title', 'meta_description']) if (body[k] === undefined) body[k] = '';
      page = await api('PATCH', `/api/v1/cms/pages/${page.id}`, body);
      toast(`Saved — revision ${page.revision}`, 'success');
      reload();
    },
  });
  // the blocks sit inside the page form, above its buttons
  meta.el.insertBefore(h('div', null, h('h2', null, 'Body'), list, h('div', { class: 'row add-block' }, Object.entries(BLOCKS).map(([t, l]) => h('button', { type: 'button', class: 'small', onclick: () => add(t) }, `Add ${l.toLowerCase()}`)))), meta.el.querySelector('.form-error'));

  const publish = h('button', { type: 'button', class: 'primary', onclick: async () => {
    try {
      const r = await api('POST', `/api/v1/cms/pages/${page.id}/publish`, {});
      toast(`Published revision ${r.live_revision ?? page.revision} at ${r.url || page.url}`, 'success');
      reload();
    } catch (e) {
      toast(e.message, 'error');
    }
  } }, 'Publish');
  return h(
    'section',
    null,
    pageHead(page.title, h('a', { href: '/portal/pages' }, 'All pages')),
    h('p', { class: 'row' }, h('span', { class: `badge ${page.status === 'published' ? 'ok' : 'neutral'}` }, page.status), page.has_unpublished_changes ? h('span', { class: 'badge warn' }, 'unpublished changes') : null,
      h('span', { class: 'muted' }, ` ${page.path} · draft revision ${page.revision}${page.live_revision ? ` · live revision ${page.live_revision}` : ''}`),
      page.status === 'published' ? h('a', { href: page.url, target: '_blank', rel: 'noopener' }, 'View live page') : null),
    h('div', { class: 'row' }, publish, h('button', { type: 'button', onclick: () => preview(page) }, 'Preview draft'), h('button', { type: 'button', onclick: () => revisions(page, reload) }, 'Revisions')),
    h('div', { class: 'card' }, meta.el),
  );
}

export const pagesList = { render: listScreen };
export default { render: editorScreen };
