/**
 * Staff console: a reviewed conversation's timeline (the `transcript` of `GET api/conversations/<id>`).
 *
 * One renderer per item kind: visitor messages with what the NLU made of them (intent, FAQ answer
 * key, confidence, entities) and an Annotate control; assistant and coordinator messages marked by
 * who sent them, with the visitor's rating of an answer beside it; crisis, fallback, hand-off, ticket and session events as lines in the timeline.
 * Every text is set with textContent.
 */
import { LABELS, field, formatClock } from './dom.js';
import { h } from './element.js';

/** A confidence as a percentage ("93%"), or "unknown". */
function percent(value) {
  return typeof value === 'number' ? Math.round(value * 100) + '%' : 'unknown';
}

/** "name=value" for each entity. */
function entityText(entities) {
  return (entities || []).map((e) => String(e.entity) + '=' + String(e.value)).join(', ');
}

/**
 * The FAQ answer key when the assistant used it: the ResponseSelector guesses a key for every
 * message, but it only answers when the intent is the key's retrieval intent (`faq`).
 */
export function usedAnswerKey(intent, key) {
  return key && intent && key.split('/')[0] === intent ? key : '';
}

/** The meta line of a message: who and when. */
function meta(who, timestamp) {
  return h('span', { class: 'msg__meta' }, [h('span', { class: 'msg__who', text: who }),
    h('span', { text: formatClock(timestamp) })]);
}

/** A term and value for the NLU details. */
function nluPart(term, value) {
  return h('span', { class: 'nlu__part' }, [h('span', { class: 'nlu__term', text: term + ' ' }), value]);
}

/** What each hand-off state change in the conversation means, in words. */
const HANDOFF_TEXT = {
  waiting: () => 'The visitor started waiting for a coordinator.',
  connected: (agent) => (agent ? agent : 'A coordinator') + ' joined the chat.',
  callback: () => 'Nobody was free: the request became a call-back and the assistant answered again.',
  ended: () => 'The coordinator ended the chat; the assistant answered again.',
};

/**
 * What the visitor did, in plain words: a button's title rather than its payload, and
 * "Opened the chat" for the widget's own greeting request.
 */
function shownText(item) {
  if (item.choice) return 'Tapped \u201c' + item.choice + '\u201d';
  if (item.text === '/greet') return 'Opened the chat';
  return item.text || '';
}

export class TranscriptRenderer {
  /**
   * @param {{intents: () => string[], annotations: () => object[],
   *          onAnnotate: (item: object, intent: string, status: HTMLElement) => void}} hooks
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.renderers = {
      user: (item) => this.user(item),
      bot: (item) => this.bot(item),
      crisis: (item) => this.event('crisis', 'Crisis language detected' +
        (item.phrase ? ': \u201c' + item.phrase + '\u201d' : '') + (item.resources_shown
          ? '. The visitor was shown the crisis resources.' : '. The crisis resources were not sent.')),
      fallback: () => this.event('fallback', 'The assistant was unsure and asked \u201cdid you mean...?\u201d'),
      handoff: (item) => this.event('handoff', HANDOFF_TEXT[item.state]
        ? HANDOFF_TEXT[item.state](item.agent) : 'Hand-off: ' + String(item.state)),
      ticket: (item) => this.event('handoff', ticketText(item.ticket || {})),
      session: () => this.event('session', 'New session started.'),
    };
  }

  /** The list items for a whole timeline. */
  render(items) {
    return items.filter((item) => this.renderers[item.kind]).map((item) => this.renderers[item.kind](item));
  }

    /** @private A visitor's message with its NLU and the Annotate control. */
  user(item) {
    const entities = entityText(item.entities);
    return h('li', { class: 'rmsg rmsg--user', 'data-testid': 'review-msg', 'data-from': 'user',
      'data-intent': item.intent || '', 'data-event-id': item.event_id }, [
      meta('Visitor', item.timestamp),
      h('p', { class: 'msg__text', 'data-testid': 'review-user-text', text: shownText(item) }),
      h('p', { class: 'nlu' }, [
        nluPart('Intent', h('strong', { text: item.intent || 'none' })),
        usedAnswerKey(item.intent, item.retrieval_key)
          ? nluPart('Answer', h('span', { text: item.retrieval_key })) : null,
        nluPart('Confidence', h('span', { class: confidenceClass(item.confidence), text: percent(item.confidence) })),
        entities ? nluPart('Entities', h('span', { text: entities })) : null,
      ]),
      ...this.corrections(item),
      this.annotateControl(item),
    ]);
  }

  /** @private Corrections already saved for this message. */
  corrections(item) {
    return this.hooks.annotations().filter((a) => a.event_id === item.event_id).map((a) =>
      h('p', { class: 'correction', 'data-testid': 'annotation', text: 'Corrected to ' + a.corrected_intent +
        (a.staff_name ? ' by ' + a.staff_name : '') }));
  }

  /** @private A disclosure with the intent picker and Save. */
  annotateControl(item) {
    const selectId = 'annotate-' + item.event_id;
    const select = h('select', { class: 'field annotate__select', id: selectId, 'data-testid': 'annotate-select' }, [
      h('option', { value: '', text: 'Choose the correct intent or topic' }),
      ...this.hooks.intents().map((name) => h('option', { value: name, text: name })),
    ]);
    const status = h('p', { class: 'annotate__status', role: 'status', 'aria-live': 'polite' });
    return h('details', { class: 'annotate' }, [
      h('summary', { class: 'annotate__toggle', 'data-testid': 'annotate-toggle', text: 'Annotate' }),
      h('form', { class: 'annotate__form', novalidate: true, onsubmit: (event) => {
        event.preventDefault();
        this.hooks.onAnnotate(item, select.value, status);
      } }, [
        h('label', { class: 'field__label', for: selectId, text: 'Correct intent or FAQ topic' }),
        h('span', { class: 'annotate__row' }, [select,
          h('button', { type: 'submit', class: 'button button--primary', 'data-testid': 'annotate-save',
            text: 'Save' })]),
        status,
      ]),
    ]);
  }

  /** @private An assistant or coordinator message. */
  bot(item) {
    const agent = item.from === 'agent';
    const who = agent ? 'Coordinator' + (field(item, 'agent') ? ' ' + field(item, 'agent') : '') : 'Assistant';
    const buttons = Array.isArray(item.buttons) ? item.buttons.map((b) => field(b, 'title')).filter(Boolean) : [];
    return h('li', { class: 'rmsg rmsg--' + (agent ? 'agent' : 'bot'), 'data-testid': 'review-msg',
      'data-from': agent ? 'agent' : 'bot' }, [
      meta(who, item.timestamp),
      item.text ? h('p', { class: 'msg__text', text: item.text }) : null,
      buttons.length ? h('p', { class: 'hint', text: 'Buttons: ' + buttons.join(' \u00b7 ') }) : null,
      ratingLine(item.feedback),
    ]);
  }

  /** @private A line for an event in the timeline. */
  event(kind, text) {
    return h('li', { class: 'timeline-event timeline-event--' + kind, 'data-testid': 'review-event',
      'data-kind': kind }, h('span', { text: text }));
  }
}

/** The visitor's rating of an answer: "Visitor rated this not helpful: too vague". */
function ratingLine(feedback) {
  if (!feedback || (feedback.rating !== 'up' && feedback.rating !== 'down')) return null;
  const down = feedback.rating === 'down';
  const reason = field(feedback, 'reason');
  return h('p', { class: 'rating rating--' + feedback.rating, 'data-testid': 'answer-rating',
    'data-rating': feedback.rating, text: 'Visitor rated this ' + (down ? 'not helpful' : 'helpful') +
      (reason ? ': ' + reason : '') });
}

/** "Call-back ticket #4 (closed): wants a call". */
function ticketText(ticket) {
  const reason = field(ticket, 'reason');
  return LABELS.kind(ticket) + ' ticket #' + field(ticket, 'id') + ' (' + LABELS.status(ticket).toLowerCase() + ')' +
    (reason ? ': ' + reason : '');
}

/** Low confidence is marked (below 60%, the server's threshold). */
function confidenceClass(value) {
  return typeof value === 'number' && value < 0.6 ? 'nlu__low' : '';
}
