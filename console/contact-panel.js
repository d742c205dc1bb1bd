/**
 * Staff console: the open ticket's contact panel.
 *
 * Everything the ticket says about the visitor and the request, in one place: name, phone and
 * email (each one given is shown, as tel: and mailto: links), preferred time, the kind of request,
 * when it was requested, who claimed it and when, consent, the reason, and a link to the full
 * transcript in the Conversations tab. Times are the clinic's (dom.js formatters).
 */
import {
  LABELS, byId, elapsedSince, emailLink, field, formatClock, formatDateTime, phoneLink, transcriptLink,
} from './dom.js';

const NOT_GIVEN = 'Not given';

export class ContactPanel {
  /** @param {(conversationId: string) => void} onTranscript open a conversation's transcript */
  constructor(onTranscript) {
    this.onTranscript = onTranscript;
    this.el = {};
    ['detail-name', 'detail-phone', 'detail-email', 'detail-best-time', 'detail-request', 'detail-requested',
      'detail-claimed', 'detail-consent', 'detail-waiting', 'detail-reason', 'detail-transcript-link',
    ].forEach((id) => { this.el[id] = byId(id); });
  }

  /** Draw the ticket's details. */
  render(ticket) {
    const el = this.el;
    const phone = field(ticket, 'phone');
    const email = field(ticket, 'email');
    el['detail-name'].textContent = field(ticket, 'name') || NOT_GIVEN;
    el['detail-phone'].replaceChildren(phone ? phoneLink(phone) : NOT_GIVEN);
    el['detail-email'].replaceChildren(email ? emailLink(email) : NOT_GIVEN);
    el['detail-best-time'].textContent = field(ticket, 'best_time') || NOT_GIVEN;
    el['detail-request'].textContent = LABELS.kind(ticket) + (ticket.priority === 'urgent' ? ', urgent' : '');
    el['detail-requested'].textContent = formatDateTime(ticket.created_at) || 'Unknown';
    const by = field(ticket, 'claimed_by_name');
    const at = formatClock(ticket.claimed_at);
    el['detail-claimed'].textContent = by ? by + (at ? ' at ' + at : '') : 'Not claimed yet';
    el['detail-consent'].textContent = ticket.consent === true ? 'Yes' : ticket.consent === false ? 'No' : 'Not asked';
    el['detail-reason'].textContent = field(ticket, 'reason') || NOT_GIVEN;
    el['detail-transcript-link'].replaceChildren(
      transcriptLink(field(ticket, 'conversation_id'), this.onTranscript, 'contact-transcript') || '');
    this.tick(ticket);
  }

  /** The waiting time, once a second: only a live chat waiting or being chatted has one. */
  tick(ticket) {
    this.el['detail-waiting'].textContent = waitingText(ticket);
  }
}

/** "3:05 (since 2:02 PM)" for a live chat waiting or claimed; otherwise no timer ("Not waiting"). */
export function waitingText(ticket) {
  const live = ticket.kind === 'live' && (ticket.status === 'waiting' || ticket.status === 'claimed');
  if (!live) return 'Not waiting';
  const elapsed = elapsedSince(ticket.created_at);
  return elapsed ? elapsed + ' (since ' + formatClock(ticket.created_at) + ')' : '';
}
