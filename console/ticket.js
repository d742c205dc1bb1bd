/**
 * Staff console: the open ticket (right column).
 *
 * Shows one ticket from `GET api/tickets/<id>`: the contact panel (contact-panel.js), the
 * transcript, whether the visitor is online or typing. Its actions follow the ticket's state: Claim
 * while it waits; the message box (with the saved-replies picker), "Hand back to assistant" and
 * "Close with note" once this coordinator has claimed it; after a hand back the assistant answers
 * the visitor again and only "Close with note" (a required outcome note) is left. Live frames for
 * the open ticket are appended as they come.
 */
import { Alerts } from './alerts.js';
import { Api, errorText } from './api.js';
import { ContactPanel } from './contact-panel.js';
import { LABELS, byId, field, formatClock, isUrgent, showText, statusText } from './dom.js';
import { SavedRepliesPicker } from './saved-replies.js';
import { TranscriptLog } from './ticket-transcript.js';
import { TypingSignal } from './typing.js';

const TYPING_SHOWN_MS = 15000;
const ECHO_MS = 15000;

export class TicketView {
  /**
   * @param {{me: () => object, onTicket: (ticket: object) => void, onClosed: () => void,
   *          onTranscript: (conversationId: string) => void}} hooks
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.id = null;
    this.ticket = null;
    this.echoes = [];
    this.typingTimer = null;
    this.typing = new TypingSignal((on) => { Api.typing(this.id, on).catch(() => {}); });
    this.el = {};
    ['ticket-detail', 'detail-empty', 'detail-title', 'detail-priority', 'detail-kind', 'detail-status',
      'visitor-presence', 'transcript', 'visitor-typing', 'detail-error', 'claim-block', 'claim', 'claim-error',
      'claimed-note', 'composer', 'agent-input', 'agent-send', 'wrapup', 'handback', 'close-form', 'close',
      'close-outcome', 'close-error', 'detail-crisis'].forEach((id) => { this.el[id] = byId(id); });
    this.contact = new ContactPanel((id) => hooks.onTranscript(id));
    this.log = new TranscriptLog(this.el.transcript);
    this.picker = new SavedRepliesPicker(this.el['agent-input'], byId('saved-replies-open'));
    this.bind();
  }

  /** @private */
  bind() {
    const el = this.el;
    el.claim.addEventListener('click', () => this.claim());
    el.composer.addEventListener('submit', (event) => { event.preventDefault(); this.send(); });
    el['agent-input'].addEventListener('keydown', (event) => {
      if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.defaultPrevented) return;
      event.preventDefault();
      this.send();
    });
    el['agent-input'].addEventListener('input', () => {
      if (el['agent-input'].value.trim()) this.typing.keystroke();
      else this.typing.stop();
    });
    el.handback.addEventListener('click', () => this.handBack());
    el['close-form'].addEventListener('submit', (event) => { event.preventDefault(); this.close(); });
  }

  /** Show a ticket: fetch it, draw it, and put focus on its heading. */
  async open(id) {
    if (this.id !== null && this.id !== String(id)) this.leave();
    this.id = String(id);
    this.el['detail-empty'].hidden = true;
    this.el['ticket-detail'].hidden = false;
    showText(this.el['claim-error'], '');
    this.el['agent-input'].value = '';
    this.el['close-outcome'].value = '';
    this.picker.close(false);
    await this.load();
    if (this.id === String(id)) this.el['detail-title'].focus();
  }

  /** Fetch the open ticket again (after a 409, or a reconnect) without moving focus. */
  async load() {
    const id = this.id;
    showText(this.el['detail-error'], '');
    try {
      const data = await Api.ticket(id);
      if (this.id !== id) return;
      this.update(data.ticket || {});
      this.renderTranscript(Array.isArray(data.transcript) ? data.transcript : []);
      this.setPresence(data.visitor_online === true);
      this.setVisitorTyping(false);
    } catch (error) {
      if (this.id !== id) return;
      const missing = error.status === 404 ? 'This ticket no longer exists.' : 'The ticket could not be loaded.';
      showText(this.el['detail-error'], errorText(error, missing));
    }
  }

  /** The open ticket changed (an API answer or a `ticket` frame); others are ignored. */
  update(ticket) {
    if (!ticket || String(ticket.id) !== this.id) return;
    this.ticket = ticket;
    this.renderSummary(ticket);
    this.renderActions(ticket);
  }

  /** Elapsed waiting time, once a second. */
  tick() {
    if (this.ticket) this.contact.tick(this.ticket);
  }

  /* ---- live frames ---- */

  visitorMessage(frame) {
    if (String(frame.ticket_id) !== this.id) return false;
    this.setVisitorTyping(false);
    this.appendMessage({ from: 'user', text: frame.text, timestamp: frame.timestamp });
    return true;
  }

  /** A colleague's message, or the server's echo of our own (shown once the POST succeeds). */
  agentMessage(frame) {
    if (String(frame.ticket_id) !== this.id) return false;
    const echo = this.echoes.findIndex((e) => e.text === frame.text && Date.now() - e.at < ECHO_MS);
    if (echo >= 0 && field(frame, 'agent') === field(this.hooks.me(), 'first_name')) {
      this.echoes.splice(echo, 1);
      return true;
    }
    this.appendMessage({ from: 'agent', text: frame.text, agent: frame.agent, timestamp: frame.timestamp });
    return true;
  }

  /** What the assistant sent the visitor (the crisis resources, say), shown as they saw it. */
  botMessage(frame) {
    if (String(frame.ticket_id) !== this.id) return false;
    this.appendMessage({ from: 'bot', text: frame.text, timestamp: frame.timestamp });
    return true;
  }

  /** The visitor wrote crisis language: say so above the transcript until the ticket changes. */
  crisis(frame) {
    if (String(frame.ticket_id) !== this.id) return false;
    showText(this.el['detail-crisis'], 'Crisis language at ' + formatClock(frame.timestamp) +
      '. The visitor was shown the 988 crisis resources (see the transcript).');
    return true;
  }

  visitorPresence(frame) {
    if (String(frame.ticket_id) === this.id) this.setPresence(frame.online === true);
  }

  visitorTyping(frame) {
    if (String(frame.ticket_id) === this.id) this.setVisitorTyping(frame.on === true);
  }

  /* ---- actions ---- */

  async claim() {
    const id = this.id;
    this.el.claim.disabled = true;
    showText(this.el['claim-error'], '');
    try {
      const data = await Api.claim(id);
      this.hooks.onTicket(data.ticket);
      this.update(data.ticket);
      Alerts.announce('You claimed the chat with ' + LABELS.visitor(data.ticket || {}) + '.');
      this.el['agent-input'].focus();
    } catch (error) {
      showText(this.el['claim-error'], errorText(error, error.status === 409
        ? 'Someone else already claimed this chat.' : 'The chat could not be claimed. Please try again.'));
      if (error.status === 409 || error.status === 404) await this.load();
      this.el['claim-error'].focus();
    } finally {
      this.el.claim.disabled = false;
    }
  }

  async send() {
    const input = this.el['agent-input'];
    const text = input.value.trim();
    if (!text || this.el['agent-send'].disabled) return;
    this.el['agent-send'].disabled = true;
    showText(this.el['detail-error'], '');
    const echo = { text: text, at: Date.now() };
    this.echoes.push(echo);
    try {
      await Api.sendMessage(this.id, text);
      input.value = '';
      this.typing.stop();
      this.appendMessage({ from: 'agent', text: text, agent: field(this.hooks.me(), 'first_name'),
        timestamp: new Date().toISOString() }, true);
    } catch (error) {
      this.echoes = this.echoes.filter((e) => e !== echo);
      showText(this.el['detail-error'], errorText(error, error.status === 403
        ? 'Only the coordinator who claimed this chat can reply.' : 'The message was not sent. Please try again.'));
    } finally {
      this.el['agent-send'].disabled = false;
      input.focus();
    }
  }

  async handBack() {
    this.el.handback.disabled = true;
    showText(this.el['detail-error'], '');
    try {
      this.typing.stop();
      const data = await Api.handBack(this.id);
      this.hooks.onTicket(data.ticket);
      this.update(data.ticket);
      Alerts.announce('The chat is back with the virtual assistant. Close the ticket with an outcome note.');
      this.el['close-outcome'].focus();
    } catch (error) {
      showText(this.el['detail-error'], errorText(error, 'The chat could not be handed back. Please try again.'));
    } finally {
      this.el.handback.disabled = false;
    }
  }

  async close() {
    const outcome = this.el['close-outcome'];
    const note = outcome.value.trim();
    if (!note) {
      showText(this.el['close-error'], 'Write a short outcome note before closing.');
      outcome.setAttribute('aria-invalid', 'true');
      outcome.focus();
      return;
    }
    outcome.removeAttribute('aria-invalid');
    showText(this.el['close-error'], '');
    this.el.close.disabled = true;
    try {
      this.typing.stop();
      const data = await Api.close(this.id, note);
      outcome.value = '';
      this.hooks.onTicket(data.ticket);
      this.update(data.ticket);
      Alerts.announce('Ticket closed.');
      this.hooks.onClosed();
    } catch (error) {
      showText(this.el['close-error'], errorText(error, 'The ticket could not be closed. Please try again.'));
    } finally {
      this.el.close.disabled = false;
    }
  }

  /** Stop showing any ticket (sign-out). */
  reset() {
    this.leave();
    this.id = null;
    this.ticket = null;
    this.el['ticket-detail'].hidden = true;
    this.el['detail-empty'].hidden = false;
    this.el.transcript.replaceChildren();
  }

  /* ---- drawing ---- */

  /** @private Moving away from a ticket: tell its visitor we stopped typing, forget its echoes. */
  leave() {
    if (this.typing.sent && this.id !== null) Api.typing(this.id, false).catch(() => {});
    this.typing.reset();
    this.echoes = [];
  }

  /** @private */
  renderSummary(ticket) {
    const el = this.el;
    el['detail-title'].textContent = LABELS.visitor(ticket);
    el['detail-priority'].textContent = LABELS.priority(ticket);
    el['detail-priority'].className = isUrgent(ticket) ? 'pill pill--urgent' : 'pill';
    if (isUrgent(ticket) && el['detail-crisis'].hidden) {
      showText(el['detail-crisis'], 'Urgent: the assistant flagged crisis language in this conversation.');
    } else if (!isUrgent(ticket)) {
      showText(el['detail-crisis'], '');
    }
    el['detail-kind'].textContent = LABELS.kind(ticket);
    el['detail-status'].textContent = statusText(ticket);
    this.contact.render(ticket);
  }

  /** @private Which controls this coordinator has for the ticket in its current state. */
  renderActions(ticket) {
    const me = this.hooks.me() || {};
    const held = String(ticket.claimed_by) === String(me.id);
    const mine = ticket.status === 'claimed' && held;
    const toClose = ticket.status === 'handed_back' && held;
    const canClaim = ticket.status === 'waiting' && ticket.kind !== 'callback';
    const hadFocus = this.el['ticket-detail'].contains(document.activeElement);
    this.el['claim-block'].hidden = !canClaim;
    this.el.composer.hidden = !mine;
    this.el.wrapup.hidden = !mine && !toClose;
    this.el.handback.hidden = !mine;
    showText(this.el['claimed-note'], this.noteFor(ticket, mine, toClose));
    if (!mine) {
      this.typing.reset();
      this.picker.close(false);
    }
    if (hadFocus && !this.el['ticket-detail'].contains(document.activeElement)) this.el['detail-title'].focus();
  }

  /** @private A sentence about the ticket when this coordinator cannot chat in it. */
  noteFor(ticket, mine, toClose) {
    if (mine) return '';
    if (toClose) {
      return 'You handed this chat back: the assistant is answering the visitor again. ' +
        'Close the ticket with an outcome note.';
    }
    if (ticket.status === 'handed_back') {
      return (field(ticket, 'claimed_by_name') || 'Another coordinator') +
        ' handed this chat back to the assistant and will close it with an outcome note.';
    }
    if (ticket.status === 'claimed') {
      return (field(ticket, 'claimed_by_name') || 'Another coordinator') + ' is handling this chat.';
    }
    if (ticket.status === 'waiting' && ticket.kind === 'callback') {
      return 'This visitor asked for a call-back: see the Call-backs tab.';
    }
    if (ticket.status === 'waiting') return '';
    const outcome = field(ticket, 'outcome');
    return 'This ticket is ' + LABELS.status(ticket).toLowerCase() + (outcome ? '. Outcome: ' + outcome : '.');
  }

  /** @private */
  renderTranscript(items) {
    this.log.render(items, LABELS.visitor(this.ticket || {}));
  }

  /** @private Add a message; follow it if the coordinator was reading the end (or sent it). */
  appendMessage(item, force) {
    this.log.append(item, LABELS.visitor(this.ticket || {}), force);
  }

  /** @private */
  setPresence(online) {
    const node = this.el['visitor-presence'];
    node.setAttribute('data-online', online ? 'true' : 'false');
    node.textContent = online ? 'Visitor online' : 'Visitor away';
  }

  /** @private The visitor's typing dots; they hide on their own if the "off" never comes. */
  setVisitorTyping(on) {
    clearTimeout(this.typingTimer);
    this.el['visitor-typing'].hidden = !on;
    if (on) this.typingTimer = setTimeout(() => { this.el['visitor-typing'].hidden = true; }, TYPING_SHOWN_MS);
  }
}
