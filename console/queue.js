/**
 * Staff console: the live queue and the hand-backs to wrap up (left column).
 *
 * Holds every open ticket by id, as the `queue` and `ticket` frames describe them, and draws two
 * lists: the live queue (live chats waiting or being chatted: waiting before claimed, urgent before
 * normal, oldest first; call-backs have their own tab) and "Handed back" (chats a coordinator gave
 * back to the assistant, open until closed with an outcome note). Rows carry data-ticket-id,
 * data-priority and data-status; a row with messages the coordinator has not seen gets a dot.
 * The waiting times tick through tick(), called once a second.
 */
import { LABELS, elapsedSince, field, formatClock, isUrgent, statusText, truncate } from './dom.js';
import { h } from './element.js';

const REASON_CHARS = 70;
const OPEN_STATUSES = ['waiting', 'claimed', 'handed_back'];

/** A live chat waiting for a coordinator or being chatted: the live queue's rows. */
export function isLiveRequest(ticket) {
  return ticket.kind === 'live' && (ticket.status === 'waiting' || ticket.status === 'claimed');
}

/** Sort order: waiting first, then urgent, then the one that has waited longest. */
function compareTickets(a, b) {
  const rank = (t) => (t.status === 'waiting' ? 0 : 2) + (isUrgent(t) ? 0 : 1);
  return rank(a) - rank(b) || String(a.created_at || '').localeCompare(String(b.created_at || ''));
}

export class QueueView {
  /**
   * @param {{list: HTMLElement, empty: HTMLElement, count: HTMLElement, handedBack: HTMLElement,
   *          handedBackSection: HTMLElement}} elements
   * @param {(id: string) => void} onSelect a row was chosen
   */
  constructor(elements, onSelect) {
    this.elements = elements;
    this.onSelect = onSelect;
    /** @type {Map<string, object>} */
    this.tickets = new Map();
    this.unread = new Set();
    this.selectedId = null;
  }

  /**
   * Replace the whole queue (a `queue` frame).
   * @returns {object[]} waiting tickets that were not in the queue before
   */
  replaceAll(tickets) {
    const before = this.tickets;
    this.tickets = new Map();
    tickets.filter((t) => t && t.id !== undefined).forEach((t) => this.tickets.set(String(t.id), t));
    this.render();
    return Array.from(this.tickets.values()).filter((t) => t.status === 'waiting' && !before.has(String(t.id)));
  }

  /**
   * One ticket changed (a `ticket` frame); closed and called tickets leave the lists.
   * @returns {boolean} true when this is a waiting ticket the queue did not have
   */
  update(ticket) {
    const id = String(ticket.id);
    const isNew = !this.tickets.has(id) && ticket.status === 'waiting';
    if (OPEN_STATUSES.includes(ticket.status)) this.tickets.set(id, ticket);
    else this.tickets.delete(id);
    this.render();
    return isNew;
  }

  get(id) {
    return this.tickets.get(String(id)) || null;
  }

  select(id) {
    this.selectedId = id === null ? null : String(id);
    if (id !== null) this.unread.delete(String(id));
    this.render();
  }

  markUnread(id) {
    if (String(id) === this.selectedId) return;
    this.unread.add(String(id));
    this.render();
  }

  /** Update the waiting times in place (no redraw, so focus and screen readers are undisturbed). */
  tick() {
    this.elements.list.querySelectorAll('[data-since]').forEach((node) => {
      node.textContent = elapsedSince(node.getAttribute('data-since'));
    });
  }

  /** @private Redraw all rows, keeping keyboard focus on the row that had it. */
  render() {
    const focusedId = this.focusedRowId();
    const all = Array.from(this.tickets.values()).sort(compareTickets);
    const live = all.filter(isLiveRequest);
    const handedBack = all.filter((t) => t.status === 'handed_back');
    this.elements.list.replaceChildren(...live.map((t) => this.renderRow(t)));
    this.elements.empty.hidden = live.length > 0;
    this.elements.handedBack.replaceChildren(...handedBack.map((t) => this.renderHandedBack(t)));
    this.elements.handedBackSection.hidden = handedBack.length === 0;
    const waiting = live.filter((t) => t.status === 'waiting').length;
    this.elements.count.textContent = waiting ? '(' + waiting + ' waiting)' : '';
    if (focusedId !== null) {
      const selector = '[data-ticket-id="' + CSS.escape(focusedId) + '"] button';
      const button = this.elements.list.querySelector(selector) || this.elements.handedBack.querySelector(selector);
      if (button) button.focus();
    }
  }

  /** @private */
  focusedRowId() {
    const row = document.activeElement && document.activeElement.closest('[data-ticket-id]');
    const inside = row && (this.elements.list.contains(row) || this.elements.handedBack.contains(row));
    return inside ? row.getAttribute('data-ticket-id') : null;
  }

  /** @private A chat handed back to the assistant, waiting for its outcome note. */
  renderHandedBack(ticket) {
    const id = String(ticket.id);
    const selected = id === this.selectedId;
    const when = formatClock(ticket.updated_at);
    return h('li', {
      class: 'row row--handed_back' + (selected ? ' row--selected' : ''), 'data-testid': 'handed-back-item',
      'data-ticket-id': id, 'data-status': 'handed_back',
    }, h('button', {
      type: 'button', class: 'row__button', 'aria-current': selected ? 'true' : null,
      onclick: () => this.onSelect(id),
    }, [
      h('span', { class: 'row__line' }, [
        h('span', { class: 'row__name', text: LABELS.visitor(ticket) }),
        h('span', { class: 'row__kind', text: LABELS.kind(ticket) }),
      ]),
      h('span', { class: 'row__line row__meta' }, [
        h('span', { text: statusText(ticket) + (when ? ' at ' + when : '') }),
        h('span', { class: 'row__status', text: 'Close with note' }),
      ]),
    ]));
  }

  /** @private */
  renderRow(ticket) {
    const id = String(ticket.id);
    const urgent = isUrgent(ticket);
    const selected = id === this.selectedId;
    const unread = this.unread.has(id);
    const classes = ['row', urgent ? 'row--urgent' : '', selected ? 'row--selected' : '', 'row--' + ticket.status];
    return h('li', {
      class: classes.join(' ').trim(), 'data-testid': 'queue-item', 'data-ticket-id': id,
      'data-priority': urgent ? 'urgent' : 'normal', 'data-status': field(ticket, 'status'),
      'data-unread': unread ? 'true' : null,
    }, h('button', {
      type: 'button', class: 'row__button', 'aria-current': selected ? 'true' : null,
      onclick: () => this.onSelect(id),
    }, [
      h('span', { class: 'row__line' }, [
        h('span', { class: urgent ? 'pill pill--urgent' : 'pill', text: LABELS.priority(ticket) }),
        h('span', { class: 'row__kind', text: LABELS.kind(ticket) }),
        h('span', { class: 'row__name', text: LABELS.visitor(ticket) }),
        unread ? h('span', { class: 'row__unread', text: 'New message' }) : null,
      ]),
      h('span', { class: 'row__reason', title: field(ticket, 'reason') || null,
        text: truncate(field(ticket, 'reason'), REASON_CHARS) || 'No reason given' }),
      h('span', { class: 'row__line row__meta' }, [
        h('span', {}, [ticket.status === 'waiting' ? 'Waiting ' : 'Open ', h('span', { 'data-since': field(ticket, 'created_at'),
          text: elapsedSince(ticket.created_at) })]),
        h('span', { class: 'row__status', text: statusText(ticket) }),
      ]),
    ]));
  }
}
