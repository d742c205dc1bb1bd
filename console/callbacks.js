/**
 * Staff console: the Call-backs tab.
 *
 * Lists the call-back requests not yet called (`GET api/callbacks`) with their contact details,
 * when they were requested and the visitor's preferred time (no ticking timer: nobody is waiting
 * in a chat), a link to the conversation's transcript (the Conversations tab), and lets a
 * coordinator mark one as called with an optional note. After marking, the item leaves the list
 * and focus moves to the next item (or the heading when none is left).
 */
import { Alerts } from './alerts.js';
import { Api, errorText } from './api.js';
import {
  LABELS, byId, detail, emailLink, field, formatDateTime, isUrgent, phoneLink, showText, transcriptLink,
} from './dom.js';
import { h } from './element.js';

export class CallbacksView {
  /** @param {(conversationId: string) => void} onTranscript open a conversation's transcript */
  constructor(onTranscript) {
    this.onTranscript = onTranscript;
    this.list = byId('callbacks-list');
    this.empty = byId('callbacks-empty');
    this.error = byId('callbacks-error');
    this.count = byId('callbacks-count');
    this.heading = byId('callbacks-heading');
    this.loading = null;
    byId('callbacks-refresh').addEventListener('click', () => this.load());
  }

  /** Fetch and draw the list (one request at a time). */
  load() {
    if (!this.loading) this.loading = this.fetch().finally(() => { this.loading = null; });
    return this.loading;
  }

  clear() {
    this.list.replaceChildren();
    this.count.textContent = '';
  }

  /** @private */
  async fetch() {
    try {
      const data = await Api.callbacks();
      showText(this.error, '');
      this.render(Array.isArray(data.tickets) ? data.tickets : []);
    } catch (error) {
      showText(this.error, errorText(error, 'The call-back list could not be loaded. Try Refresh.'));
    }
  }

  /** @private */
  render(tickets) {
    this.list.replaceChildren(...tickets.map((t) => this.renderItem(t)));
    this.empty.hidden = tickets.length > 0;
    this.count.textContent = tickets.length ? '(' + tickets.length + ')' : '';
  }

  /** @private */
  renderItem(ticket) {
    const id = String(ticket.id);
    const noteId = 'callback-note-' + id;
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const note = h('textarea', { class: 'field', id: noteId, rows: '2', maxlength: '2000' });
    const button = h('button', { type: 'submit', class: 'button button--primary', 'data-testid': 'mark-called',
      text: 'Mark called' });
    const item = h('li', { class: isUrgent(ticket) ? 'callback callback--urgent' : 'callback',
      'data-testid': 'callback-item', 'data-ticket-id': id }, [
      h('h3', { class: 'callback__name', text: LABELS.visitor(ticket) }),
      h('dl', { class: 'contact' }, [
        detail('Phone', field(ticket, 'phone') ? phoneLink(field(ticket, 'phone')) : 'Not given'),
        detail('Email', field(ticket, 'email') ? emailLink(field(ticket, 'email')) : 'Not given'),
        detail('Preferred time', field(ticket, 'best_time') || 'Not given'),
        detail('Requested', h('span', { 'data-testid': 'callback-requested',
          text: formatDateTime(ticket.created_at) || 'Unknown' })),
        detail('Reason', field(ticket, 'reason') || 'Not given'),
        detail('Priority', LABELS.priority(ticket)),
      ]),
      transcriptLink(field(ticket, 'conversation_id'), this.onTranscript, 'callback-transcript'),
      h('form', { class: 'callback__form', novalidate: true, onsubmit: (event) => {
        event.preventDefault();
        this.markCalled(item, ticket, note, button, error);
      } }, [
        h('label', { class: 'field__label', for: noteId, text: 'Note (optional)' }), note, error, button,
      ]),
    ]);
    return item;
  }

  /** @private */
  async markCalled(item, ticket, note, button, error) {
    button.disabled = true;
    showText(error, '');
    try {
      await Api.markCalled(ticket.id, note.value.trim());
      const next = item.nextElementSibling || item.previousElementSibling;
      item.remove();
      this.empty.hidden = this.list.children.length > 0;
      this.count.textContent = this.list.children.length ? '(' + this.list.children.length + ')' : '';
      Alerts.announce('Marked ' + LABELS.visitor(ticket) + ' as called.');
      (next ? next.querySelector('textarea') : this.heading).focus();
    } catch (caught) {
      showText(error, errorText(caught, 'This call-back could not be marked. Please try again.'));
      button.disabled = false;
    }
  }
}
