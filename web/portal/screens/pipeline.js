// pipeline.js — the deals board: one column per pipeline stage with its
// deal count and value (from GET /crm/pipeline), deals as cards. A card is
// dragged to another column to move the deal (PATCH stage_id); the keyboard
// alternative is each card's "Move to" select. Loaded when first opened.

import { api, qs } from '../../shared/api.js';
import { errorState, h, loading, mount, pageHead, toast } from '../../shared/ui.js';

/** money: minor units per currency as "USD 50,000.00 + EUR …". */
export function money(byCurrency) {
  const parts = Object.entries(byCurrency || {}).map(([cur, minor]) => {
    try {
      return new Intl.NumberFormat(undefined, { style: 'currency', currency: cur }).format(minor / 100);
    } catch {
      return `${cur} ${(minor / 100).toFixed(2)}`;
    }
  });
  return parts.length ? parts.join(' + ') : '0';
}

async function allDeals() {
  const out = [];
  let cursor = null;
  do {
    const r = await api('GET', `/api/v1/crm/deals${qs({ limit: 200, cursor })}`);
    out.push(...r.items);
    cursor = r.next_cursor;
  } while (cursor && out.length < 2000);
  return out;
}

export default {
  async render() {
    const board = h('div', { class: 'board', 'aria-busy': 'true' }, loading());
    const live = h('div', { class: 'visually-hidden', 'aria-live': 'polite' });
    let canMove = true;

    async function move(deal, stage) {
      if (deal.stage_id === stage.id) return;
      try {
        await api('PATCH', `/api/v1/crm/deals/${deal.id}`, { stage_id: stage.id });
        live.textContent = `${deal.name} moved to ${stage.name}`;
        toast(`${deal.name} → ${stage.name}`, 'success');
      } catch (e) {
        toast(e.message, 'error');
      }
      await load(deal.id);
    }

    function card(deal, stages) {
      const selId = `move-${deal.id}`;
      const c = h(
        'li',
        { class: 'deal', draggable: canMove ? 'true' : null, 'data-id': deal.id },
        h('div', { class: 'deal-name' }, deal.name),
        h('div', { class: 'muted' }, money({ [deal.currency]: deal.value_minor }), ` · ${deal.probability}%`),
        canMove
          ? h('div', { class: 'field' }, h('label', { for: selId, class: 'small-text' }, 'Move to'), h('select', { id: selId, onchange: (e) => move(deal, stages.find((s) => s.id === e.target.value)) }, stages.map((s) => h('option', { value: s.id, selected: s.id === deal.stage_id }, s.name))))
          : null,
      );
      c.addEventListener('dragstart', (e) => {
        e.dataTransfer.setData('text/plain', deal.id);
        e.dataTransfer.effectAllowed = 'move';
      });
      return c;
    }

    async function load(focusId) {
      try {
        const [p, deals] = await Promise.all([api('GET', '/api/v1/crm/pipeline'), allDeals()]);
        const cols = p.stages.map((s) => {
          const mine = deals.filter((d) => d.stage_id === s.id);
          const col = h(
            'section',
            { class: `stage ${s.kind}`, 'data-stage': s.name, 'aria-label': `${s.name} stage` },
            h('h2', null, s.name),
            h('p', { class: 'stage-total' }, h('span', { class: 'count' }, `${s.count} deal${s.count === 1 ? '' : 's'}`), ' · ', h('span', { class: 'value' }, money(s.value_minor))),
            h('ul', { class: 'deals' }, mine.map((d) => card(d, p.stages))),
          );
          col.addEventListener('dragover', (e) => {
            e.preventDefault();
            col.classList.add('drop');
          });
          col.addEventListener('dragleave', () => col.classList.remove('drop'));
          col.addEventListener('drop', (e) => {
            e.preventDefault();
            col.classList.remove('drop');
            const deal = deals.find((d) => d.id === e.dataTransfer.getData('text/plain'));
            if (deal) move(deal, s);
          });
          return col;
        });
        mount(board, cols);
        board.removeAttribute('aria-busy');
        if (focusId) board.querySelector(`[data-id="${focusId}"] select`)?.focus();
      } catch (e) {
        mount(board, errorState(e, () => load()));
      }
    }
    load();
    return h('section', null, pageHead('Pipeline'), h('p', { class: 'muted' }, 'Drag a deal to another stage, or use its "Move to" list.'), board, live);
  },
};
