// ui.js — the shared components: an element builder (text is always set
// as text, never parsed as HTML), toasts, badges, loading/empty/error
// states, a data table (sorting, pagination, states) and forms with inline
// validation errors from the API's error envelope.

let uid = 0;
/** nextId: a unique element id for label/aria wiring. */
export const nextId = (p = 'bz') => `${p}-${++uid}`;

/** h: builds an element. attrs: on* are listeners, class/for/aria-* and
 * the rest are attributes (false/null skip them); children: nodes, strings
 * (as text), arrays, null. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled') el[k] = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, kids) {
  for (const c of kids) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** clear: empties el and appends children. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// ---- toasts ------------------------------------------------------------------

let toastBox;
/** toast: a transient message in a polite live region (errors: assertive). */
export function toast(message, kind = 'info', ms = 5000) {
  if (!toastBox) {
    toastBox = h('div', { class: 'toasts', role: 'region', 'aria-label': 'Notifications' });
    document.body.append(toastBox);
  }
  const t = h(
    'div',
    { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('div', null, message),
    h('button', { type: 'button', 'aria-label': 'Dismiss', onclick: () => t.remove() }, '×'),
  );
  toastBox.append(t);
  setTimeout(() => t.remove(), ms);
  return t;
}

// ---- small pieces --------------------------------------------------------------

const BADGE = {
  active: 'ok', healthy: 'ok', closed: 'ok', yes: 'ok', replayed: 'ok', delivered: 'ok',
  suspended: 'bad', down: 'bad', open: 'bad', no: 'bad', dead: 'bad', disabled: 'neutral',
  degraded: 'warn', half_open: 'warn', replay: 'warn', locked: 'bad', revoked: 'bad',
};
/** badge: a status word with a colour class (the word carries the meaning). */
export function badge(word) {
  return h('span', { class: `badge ${BADGE[word] || 'neutral'}` }, String(word).replace('_', '-'));
}

/** fmtTime: an RFC 3339 time as a short local date and time. */
export function fmtTime(s) {
  if (!s) return '—';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function loading(text = 'Loading…') {
  return h('div', { class: 'state loading', role: 'status' }, text);
}

export function empty(title, hint) {
  return h('div', { class: 'state' }, h('div', { class: 'title' }, title), hint ? h('div', null, hint) : null);
}

export function errorState(err, retry) {
  return h(
    'div',
    { class: 'state', role: 'alert' },
    h('div', { class: 'title' }, 'Could not load this.'),
    h('div', null, err.message || String(err)),
    retry ? h('p', null, h('button', { type: 'button', onclick: retry }, 'Try again')) : null,
  );
}

/** pageHead: the screen's h1 with optional actions on the right. */
export function pageHead(title, ...actions) {
  return h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, title), h('div', { class: 'row' }, actions));
}

// ---- dialogs -------------------------------------------------------------------

/** dialog: a modal <dialog> (focus is trapped by the browser) holding
 * content; returns {el, close}. Closed with Escape or close(). */
export function dialog(title, content) {
  const id = nextId('dlg');
  const d = h('dialog', { 'aria-labelledby': id }, h('h2', { id }, title), content);
  d.addEventListener('close', () => d.remove());
  document.body.append(d);
  d.showModal();
  return { el: d, close: () => d.close() };
}

/** confirmAction: a yes/no dialog; resolves true when confirmed. */
export function confirmAction(title, text, yes = 'Confirm') {
  return new Promise((resolve) => {
    let answered = false;
    const done = (v) => {
      answered = true;
      resolve(v);
      dlg.close();
    };
    const dlg = dialog(
      title,
      h(
        'div',
        null,
        h('p', null, text),
        h(
          'div',
          { class: 'form-actions' },
          h('button', { type: 'button', class: 'primary', onclick: () => done(true) }, yes),
          h('button', { type: 'button', onclick: () => done(false) }, 'Cancel'),
        ),
      ),
    );
    dlg.el.addEventListener('close', () => answered || resolve(false));
  });
}

// ---- forms ---------------------------------------------------------------------

/**
 * form: a labelled form. fields: [{name, label, type ('text', 'email',
 * 'password', 'number', 'select', 'checkbox', 'textarea'), required,
 * options [{value,label}], hint, autocomplete, value, min, max,
 * pattern}]. onSubmit(values) may throw an ApiError: its field (from
 * "field 'x' …") puts the message under that control, otherwise the
 * message shows above the buttons. Returns {el, setError, values}.
 */
export function form({ fields, submitLabel = 'Save', onSubmit, onCancel, labelledBy }) {
  const controls = {};
  const errors = {};
  const formError = h('div', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const rows = fields.map((f) => {
    const id = nextId(f.name);
    const errId = `${id}-err`;
    const hintId = f.hint ? `${id}-hint` : null;
    let input;
    const common = {
      id, name: f.name, required: f.required || null, autocomplete: f.autocomplete || null,
      'aria-describedby': [hintId, errId].filter(Boolean).join(' '),
    };
    if (f.type === 'select') {
      input = h('select', common, (f.options || []).map((o) => h('option', { value: o.value, selected: o.value === f.value }, o.label)));
    } else if (f.type === 'textarea') {
      input = h('textarea', { ...common, rows: f.rows || 3 }, f.value || '');
    } else if (f.type === 'checkbox') {
      input = h('input', { ...common, type: 'checkbox', checked: !!f.value });
    } else {
      input = h('input', {
        ...common, type: f.type || 'text', value: f.value ?? '', min: f.min ?? null, max: f.max ?? null,
        pattern: f.pattern || null, inputmode: f.inputmode || null, placeholder: f.placeholder || null,
      });
    }
    controls[f.name] = input;
    errors[f.name] = h('div', { class: 'field-error', id: errId, hidden: true });
    if (f.type === 'checkbox') {
      return h('div', { class: 'field' }, h('label', { class: 'check', for: id }, input, f.label), errors[f.name]);
    }
    return h(
      'div',
      { class: 'field' },
      h('label', { for: id }, f.label, f.required ? h('span', { 'aria-hidden': 'true' }, ' *') : null),
      f.hint ? h('div', { class: 'hint', id: hintId }, f.hint) : null,
      input,
      errors[f.name],
    );
  });

  function clearErrors() {
    formError.hidden = true;
    for (const [k, c] of Object.entries(controls)) {
      c.removeAttribute('aria-invalid');
      errors[k].hidden = true;
      errors[k].textContent = '';
    }
  }
  // details, when the API sends them: {field: message} or [{field, message}]
  function detailErrors(err) {
    const d = err && err.details;
    if (!d || typeof d !== 'object') return [];
    const list = Array.isArray(d) ? d : Object.entries(d).map(([field, message]) => ({ field, message }));
    return list.filter((x) => x && controls[x.field] && typeof x.message === 'string');
  }
  function setError(err) {
    const details = detailErrors(err);
    if (details.length) {
      for (const x of details.reverse()) setError({ field: x.field, message: x.message });
      return;
    }
    const field = err && err.field && controls[err.field] ? err.field : null;
    if (field) {
      controls[field].setAttribute('aria-invalid', 'true');
      errors[field].textContent = err.message;
      errors[field].hidden = false;
      controls[field].focus();
    } else {
      let msg = (err && err.message) || String(err);
      if (err && err.retryAfter) msg += ` (try again in ${fmtWait(err.retryAfter)})`;
      formError.textContent = msg;
      formError.hidden = false;
      formError.focus?.();
    }
  }
  function values() {
    const v = {};
    for (const f of fields) {
      const c = controls[f.name];
      if (f.type === 'checkbox') v[f.name] = c.checked;
      else if (f.type === 'number') v[f.name] = c.value === '' ? undefined : Number(c.value);
      else v[f.name] = c.value.trim() === '' ? undefined : c.value.trim();
    }
    return v;
  }

  const el = h(
    'form',
    { class: 'form', novalidate: true, 'aria-labelledby': labelledBy || null },
    rows,
    formError,
    h('div', { class: 'form-actions' }, submit, onCancel ? h('button', { type: 'button', onclick: onCancel }, 'Cancel') : null),
  );
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors();
    // the browser's constraints, shown inline in our own words
    for (const f of fields) {
      const c = controls[f.name];
      if (f.type !== 'checkbox' && !c.checkValidity()) {
        setError({ field: f.name, message: c.validity.valueMissing ? `${f.label} is required` : c.validationMessage });
        return;
      }
    }
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    try {
      await onSubmit(values(), { setError });
    } catch (e) {
      setError(e);
    } finally {
      submit.disabled = false;
      submit.removeAttribute('aria-busy');
    }
  });
  return { el, setError, values, controls };
}

/** fmtWait: seconds as "N minutes" / "N seconds". */
export function fmtWait(s) {
  if (s >= 120) return `${Math.ceil(s / 60)} minutes`;
  return `${s} seconds`;
}

// ---- data table ------------------------------------------------------------------

/**
 * dataTable: a sortable, paginated table with loading, empty and error
 * states. columns: [{key, label, sortable, render(row) -> node|string,
 * value(row) -> sort value}]. load({cursor}) -> {items, next_cursor}: a
 * server-paginated list when next_cursor is a key of the answer, else the
 * items are paginated here (pageSize). Sorting orders the rows shown.
 * Returns {el, reload}.
 */
export function dataTable({ caption, columns, load, pageSize = 25, emptyTitle = 'Nothing here yet.', emptyHint, rowLabel }) {
  const wrap = h('div', { class: 'table-wrap' });
  const state = { items: [], sortKey: null, dir: 1, cursors: [null], page: 0, next: null, server: false };
  const live = h('div', { class: 'visually-hidden', 'aria-live': 'polite' });

  function sorted() {
    if (!state.sortKey) return state.items;
    const col = columns.find((c) => c.key === state.sortKey);
    const val = col.value || ((r) => r[col.key]);
    return [...state.items].sort((a, b) => {
      const x = val(a);
      const y = val(b);
      if (x === y) return 0;
      if (x === undefined || x === null) return 1;
      if (y === undefined || y === null) return -1;
      return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * state.dir;
    });
  }

  function head() {
    return h(
      'thead',
      null,
      h(
        'tr',
        null,
        columns.map((c) => {
          const sort = state.sortKey === c.key ? (state.dir > 0 ? 'ascending' : 'descending') : c.sortable ? 'none' : null;
          return h(
            'th',
            { scope: 'col', 'aria-sort': sort },
            c.sortable
              ? h('button', { type: 'button', class: 'sort', onclick: () => sortBy(c.key) }, c.label)
              : c.label,
          );
        }),
      ),
    );
  }

  function sortBy(key) {
    state.dir = state.sortKey === key ? -state.dir : 1;
    state.sortKey = key;
    render();
    const col = columns.find((c) => c.key === key);
    live.textContent = `Sorted by ${col.label}, ${state.dir > 0 ? 'ascending' : 'descending'}`;
    wrap.querySelector(`th[aria-sort="${state.dir > 0 ? 'ascending' : 'descending'}"] button`)?.focus();
  }

  function pager(total) {
    const serverMore = state.server && state.next;
    const pages = state.server ? null : Math.max(1, Math.ceil(total / pageSize));
    const hasPrev = state.page > 0;
    const hasNext = state.server ? !!serverMore : state.page + 1 < pages;
    if (!hasPrev && !hasNext) return null;
    return h(
      'nav',
      { class: 'pager', 'aria-label': `${caption || 'Table'} pages` },
      h('span', { class: 'muted' }, state.server ? `Page ${state.page + 1}` : `Page ${state.page + 1} of ${pages}`),
      h('button', { type: 'button', class: 'small', disabled: !hasPrev, onclick: () => go(-1) }, 'Previous'),
      h('button', { type: 'button', class: 'small', disabled: !hasNext, onclick: () => go(1) }, 'Next'),
    );
  }

  function render() {
    const rows = sorted();
    const shown = state.server ? rows : rows.slice(state.page * pageSize, (state.page + 1) * pageSize);
    if (!rows.length) {
      mount(wrap, h('table', null, caption ? h('caption', null, caption) : null, head()), empty(emptyTitle, emptyHint), live);
      return;
    }
    mount(
      wrap,
      h(
        'table',
        null,
        caption ? h('caption', null, caption) : null,
        head(),
        h(
          'tbody',
          null,
          shown.map((r) =>
            h(
              'tr',
              { 'data-key': rowLabel ? rowLabel(r) : null },
              columns.map((c, i) => {
                const v = c.render ? c.render(r) : r[c.key] ?? '—';
                return i === 0 ? h('th', { scope: 'row' }, v) : h('td', { class: c.key === 'actions' ? 'actions' : null }, v);
              }),
            ),
          ),
        ),
      ),
      pager(rows.length),
      live,
    );
  }

  async function fetchPage() {
    wrap.setAttribute('aria-busy', 'true');
    mount(wrap, loading());
    try {
      const r = await load({ cursor: state.cursors[state.page] });
      state.items = r.items || [];
      state.server = Object.prototype.hasOwnProperty.call(r, 'next_cursor');
      state.next = r.next_cursor || null;
      render();
    } catch (e) {
      mount(wrap, errorState(e, fetchPage));
    } finally {
      wrap.removeAttribute('aria-busy');
    }
  }

  function go(delta) {
    if (state.server) {
      if (delta > 0) state.cursors[state.page + 1] = state.next;
      state.page += delta;
      fetchPage();
    } else {
      state.page += delta;
      render();
    }
  }

  /** reload: fetches again; quiet keeps the rows on screen meanwhile (polling). */
  async function reload({ quiet = false } = {}) {
    if (!quiet) {
      state.page = 0;
      state.cursors = [null];
      return fetchPage();
    }
    try {
      const r = await load({ cursor: state.cursors[state.page] });
      state.items = r.items || [];
      state.next = r.next_cursor || null;
      // keep the keyboard where it was: the same control in the same row
      const f = document.activeElement && wrap.contains(document.activeElement) ? document.activeElement : null;
      const rowKey = f?.closest('tr')?.dataset.key;
      const label = f?.getAttribute('aria-label') || f?.textContent;
      render();
      if (f && rowKey !== undefined) {
        const row = [...wrap.querySelectorAll('tr')].find((tr) => tr.dataset.key === rowKey);
        const again = row && [...row.querySelectorAll('button, a, input, select')].find(
          (c) => (c.getAttribute('aria-label') || c.textContent) === label);
        (again || wrap).focus?.();
      }
    } catch {
      // a failed poll keeps the last rows
    }
  }

  fetchPage();
  return { el: wrap, reload };
}
