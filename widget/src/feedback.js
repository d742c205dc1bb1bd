/**
 * Trust in an answer: the source line under an answer from the clinic's article, and "Was this
 * helpful?" (thumbs up or down, then an optional reason) under each answer that has an `id`.
 * A rating goes out as a `feedback` frame; `feedback_saved` brings a quiet "Thanks", and an
 * `error` naming the answer puts the buttons back as they were. A reloaded page shows the
 * stored rating from the history item's `rating`. Everything is set as text, never HTML.
 */
import { h, svg } from '../../console/element.js';
import { isHttpUrl } from './content.js';
import { FEEDBACK_TEXT } from './words.js';

/** At most this many characters typed as the reason (the server takes a choice and these). */
const REASON_MAX_CHARS = 300;
const RATINGS = ['up', 'down'];
const THUMB_PATHS = {
  up: 'M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.5-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7c.1-.3.2-.5.2-.8v-2z',
  down: 'M15 3H6c-.8 0-1.5.5-1.8 1.2l-3 7c-.1.3-.2.5-.2.8v2a2 2 0 0 0 2 2h6.3l-1 4.6v.3c0 .4.2.8.5 1.1l1.1 1L16.4 16.4c.4-.4.6-.9.6-1.4V5a2 2 0 0 0-2-2zm3 0v12h4V3h-4z',
};

/** A thumb icon (decorative: its button has the label). */
function thumbIcon(rating) {
  return svg('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' },
    svg('path', { d: THUMB_PATHS[rating] }));
}

/**
 * "From the clinic's article: <topic>" for an answer's `source` ({label, url?}), the topic a link
 * to the article when it has an http(s) address; null for an answer without a source.
 */
export function renderSource(source) {
  if (!source || typeof source !== 'object' || typeof source.label !== 'string' || !source.label.trim()) return null;
  const label = source.label.trim();
  const topic = typeof source.url === 'string' && isHttpUrl(source.url)
    ? h('a', { class: 'source__link', href: source.url, target: '_blank', rel: 'noopener noreferrer', text: label })
    : h('span', { class: 'source__topic', text: label });
  return h('p', { class: 'source', 'data-testid': 'msg-source' }, [FEEDBACK_TEXT.sourcePrefix, topic]);
}

/** The rating controls of one answer: the thumbs, the optional reason and the status line. */
class AnswerRating {
  /**
   * @param {string} answerId
   * @param {string|null} stored the rating the server has (from history), or null
   * @param {(frame: object) => boolean} send
   */
  constructor(answerId, stored, send) {
    this.answerId = answerId;
    this.send = send;
    this.saved = RATINGS.includes(stored) ? stored : null;
    this.rating = this.saved;
    this.choice = '';
    this.pending = 0;              // frames sent and not yet answered
    this.node = this.build();
    this.show();
  }

  /** @private */
  build() {
    this.buttons = {};
    RATINGS.forEach((rating) => {
      this.buttons[rating] = h('button', {
        type: 'button', class: 'rate__button', 'data-testid': 'rate-' + rating, 'aria-pressed': 'false',
        'aria-label': FEEDBACK_TEXT.rate[rating], title: FEEDBACK_TEXT.rate[rating],
        onclick: () => this.pick(rating),
      }, thumbIcon(rating));
    });
    this.status = h('span', { class: 'rate__status', 'data-testid': 'rate-status', role: 'status' });
    this.reasonForm = this.buildReason();
    return h('div', { class: 'rate', 'data-testid': 'rate', 'data-answer-id': this.answerId }, [
      h('div', { class: 'rate__row', role: 'group', 'aria-label': FEEDBACK_TEXT.question }, [
        h('span', { class: 'rate__question', 'aria-hidden': 'true', text: FEEDBACK_TEXT.question }),
        this.buttons.up, this.buttons.down, this.status,
      ]),
      this.reasonForm,
    ]);
  }

  /** @private The optional "what went wrong?" step after a thumbs down. */
  buildReason() {
    this.choices = FEEDBACK_TEXT.reasons.map((reason) => h('button', {
      type: 'button', class: 'reason__choice', 'data-testid': 'reason-choice', 'aria-pressed': 'false', text: reason,
      onclick: () => this.choose(reason),
    }));
    this.reasonText = h('input', {
      type: 'text', class: 'reason__text', 'data-testid': 'reason-text', maxlength: String(REASON_MAX_CHARS),
      autocomplete: 'off', placeholder: FEEDBACK_TEXT.reasonPlaceholder,
      onkeydown: (event) => {
        if (event.key === 'Enter') { event.preventDefault(); this.sendReason(); }
      },
    });
    return h('form', {
      class: 'reason', 'data-testid': 'reason', 'aria-label': FEEDBACK_TEXT.reasonQuestion, hidden: true,
      onsubmit: (event) => { event.preventDefault(); this.sendReason(); },
      onkeydown: (event) => {
        if (event.key === 'Escape') { event.stopPropagation(); this.closeReason(); }
      },
    }, [
      h('p', { class: 'reason__question', text: FEEDBACK_TEXT.reasonQuestion }),
      h('div', { class: 'reason__choices' }, this.choices),
      h('label', { class: 'reason__label' }, [h('span', { text: FEEDBACK_TEXT.reasonLabel }), this.reasonText]),
      h('div', { class: 'reason__actions' }, [
        h('button', { type: 'button', class: 'reason__skip', 'data-testid': 'reason-skip', text: FEEDBACK_TEXT.skip,
          onclick: () => this.closeReason() }),
        h('button', { type: 'submit', class: 'reason__send', 'data-testid': 'reason-send', text: FEEDBACK_TEXT.send }),
      ]),
    ]);
  }

  /** @private A thumb was pressed: send it; a thumbs down also asks (optionally) why. */
  pick(rating) {
    if (rating === this.rating) {
      if (rating === 'down') this.openReason();
      return;
    }
    if (!this.deliver(rating, null)) return;
    this.rating = rating;
    this.show();
    if (rating === 'down') this.openReason();
    else this.reasonForm.hidden = true;
  }

  /** @private One quick choice at a time; pressing it again clears it. */
  choose(reason) {
    this.choice = this.choice === reason ? '' : reason;
    this.choices.forEach((button) => button.setAttribute('aria-pressed', String(button.textContent === this.choice)));
  }

  /** @private */
  openReason() {
    this.reasonForm.hidden = false;
    this.choices[0].focus();
  }

  /** @private Skip (or after sending): the reason step closes and focus returns to the thumb. */
  closeReason() {
    this.reasonForm.hidden = true;
    this.buttons.down.focus();
    this.thankIfDone();
  }

  /** @private Send the chosen reason and the typed words ("choice: words"); nothing given is a skip. */
  sendReason() {
    const typed = this.reasonText.value.trim().slice(0, REASON_MAX_CHARS);
    const reason = [this.choice, typed].filter(Boolean).join(': ');
    if (reason && !this.deliver('down', reason)) return;
    this.closeReason();
  }

  /** @private @returns {boolean} true once the frame went out */
  deliver(rating, reason) {
    const frame = { type: 'feedback', answer_id: this.answerId, rating: rating };
    if (reason) frame.reason = reason;
    if (this.send(frame)) {
      this.pending += 1;
      this.status.textContent = '';
      return true;
    }
    this.status.textContent = FEEDBACK_TEXT.notSent;
    return false;
  }

  /** The server stored the rating now shown. */
  confirm() {
    this.pending = Math.max(0, this.pending - 1);
    this.saved = this.rating;
    this.thankIfDone();
  }

  /** @private "Thanks" once everything sent is stored and the reason step is closed. */
  thankIfDone() {
    if (!this.pending && this.saved && this.reasonForm.hidden) this.status.textContent = FEEDBACK_TEXT.thanks;
  }

  /** The server refused it: back to the rating it has. */
  refuse() {
    this.pending = 0;
    this.rating = this.saved;
    this.reasonForm.hidden = true;
    this.show();
    this.status.textContent = FEEDBACK_TEXT.failed;
  }

  /** @private The thumbs as the current rating says. */
  show() {
    RATINGS.forEach((rating) => this.buttons[rating].setAttribute('aria-pressed', String(rating === this.rating)));
  }
}

/** The rating controls of a conversation's answers, by answer id, and the server's replies to them. */
export class AnswerFeedback {
  /** @param {(frame: object) => boolean} send sends a frame on the socket; false when it could not */
  constructor(send) {
    this.send = send;
    /** @type {Map<string, AnswerRating>} */
    this.ratings = new Map();
  }

  /** "Was this helpful?" for an answer with an `id` (null for any other message). */
  render(item) {
    if (!item || typeof item.id !== 'string' || !item.id) return null;
    if (this.ratings.size > 100) this.forgetDetached();
    const control = new AnswerRating(item.id, typeof item.rating === 'string' ? item.rating : null, this.send);
    this.ratings.set(item.id, control);
    return control.node;
  }

  /** A `feedback_saved` frame. */
  saved(frame) {
    const control = this.ratings.get(frame.answer_id);
    if (control) control.confirm();
  }

  /** An `error` frame: true when it named a rated answer (and was shown there, not in the log). */
  failed(frame) {
    const control = typeof frame.answer_id === 'string' ? this.ratings.get(frame.answer_id) : null;
    if (!control) return false;
    control.refuse();
    return true;
  }

  /** @private Drop the controls of messages no longer shown (an earlier redraw). */
  forgetDetached() {
    this.ratings.forEach((control, id) => {
      if (!control.node.isConnected) this.ratings.delete(id);
    });
  }
}
