/**
 * Staff console: the admins' Audit log tab (`GET api/audit`), newest first.
 *
 * A table of who did what to which conversation, narrowed by action; "Older entries" continues
 * from the server's `next_before`. Details are ids and filters (never message text), shown as text.
 */
import { errorText } from './api.js';
import { byId, formatDateTime, showText } from './dom.js';
import { h } from './element.js';
import { ReviewApi } from './review-api.js';

const PAGE_SIZE = 100;

/** "filter: {"fallback": true} · rows: 3" */
function detailText(detail) {
  return Object.keys(detail || {}).map((key) => {
    const value = detail[key];
    return key + ': ' + (typeof value === 'object' ? JSON.stringify(value) : String(value));
  }).join(' \u00b7 ');
}

export class AuditView {
  constructor() {
    this.rows = byId('audit-rows');
    this.error = byId('audit-error');
    this.status = byId('audit-status');
    this.more = byId('audit-more');
    this.action = byId('audit-action');
    this.nextBefore = null;
    byId('audit-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.load(false);
    });
    this.more.addEventListener('click', () => this.load(true));
  }

  /** The tab was shown: the newest entries. */
  show() {
    return this.load(false);
  }

  clear() {
    this.rows.replaceChildren();
    this.nextBefore = null;
  }

  /** @private append = true continues with older entries. */
  async load(append) {
    const params = { limit: PAGE_SIZE, action: this.action.value, before: append ? this.nextBefore : null };
    try {
      const data = await ReviewApi.audit(params);
      const entries = Array.isArray(data.entries) ? data.entries : [];
      showText(this.error, '');
      const rows = entries.map((entry) => this.renderRow(entry));
      if (append) this.rows.append(...rows);
      else this.rows.replaceChildren(...rows);
      this.nextBefore = data.next_before || null;
      this.more.hidden = !this.nextBefore;
      const shown = this.rows.children.length;
      this.status.textContent = shown
        ? shown + (shown === 1 ? ' entry shown.' : ' entries shown.') : 'No entries match.';
    } catch (error) {
      showText(this.error, errorText(error, 'The audit log could not be loaded. Please try again.'));
    }
  }

  /** @private */
  renderRow(entry) {
    return h('tr', { 'data-testid': 'audit-item', 'data-action': entry.action || '' }, [
      h('td', { text: formatDateTime(entry.at) }),
      h('td', { text: entry.staff_name || (entry.staff_id ? 'Staff #' + entry.staff_id : 'System') }),
      h('td', { text: entry.action || '' }),
      h('td', { class: 'audit__target', text: entry.target || '' }),
      h('td', { class: 'audit__detail', text: detailText(entry.detail) }),
    ]);
  }
}
