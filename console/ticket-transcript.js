/**
 * Staff console: the open ticket's transcript, drawn whole from `GET api/tickets/<id>` and grown by
 * the live frames (visitor, assistant and coordinator messages). Text is set with textContent;
 * times are the clinic's (dom.js `formatClock`). The log follows new messages only when the
 * coordinator was reading its end (or sent the message).
 */
import { field, formatClock } from './dom.js';
import { h } from './element.js';

const NEAR_BOTTOM_PX = 60;

/** One transcript entry: who, when, and the text (commands such as /ask_human shown as a choice). */
function renderMessage(item, visitorName) {
  const from = ['user', 'bot', 'agent'].includes(item.from) ? item.from : 'bot';
  const agent = field(item, 'agent');
  const who = { user: visitorName, bot: 'Assistant', agent: agent ? agent + ' (care team)' : 'Care team' }[from];
  const text = typeof item.text === 'string' ? item.text : '';
  const isCommand = from === 'user' && /^\/\w/.test(text);
  return h('div', { class: 'msg msg--' + from, 'data-testid': 'transcript-msg', 'data-from': from }, [
    h('p', { class: 'msg__meta' }, [
      h('span', { class: 'msg__who', text: who }),
      h('time', { class: 'msg__time', text: formatClock(item.timestamp) }),
    ]),
    h('p', { class: isCommand ? 'msg__text msg__text--command' : 'msg__text',
      text: isCommand ? 'Chose: ' + text.slice(1).split(/[{[]/)[0].replace(/_/g, ' ') : text }),
  ]);
}

export class TranscriptLog {
  /** @param {HTMLElement} element the `role="log"` transcript */
  constructor(element) {
    this.element = element;
  }

  /** Draw the whole transcript, scrolled to its end. */
  render(items, visitorName) {
    const nodes = items.filter((item) => item && typeof item.text === 'string' && item.text)
      .map((item) => renderMessage(item, visitorName));
    this.element.replaceChildren(...nodes);
    if (!nodes.length) this.element.append(h('p', { class: 'empty', text: 'No messages yet.' }));
    this.element.scrollTop = this.element.scrollHeight;
  }

  /** Add one message; `force` follows it even when the coordinator was reading further up. */
  append(item, visitorName, force) {
    if (typeof item.text !== 'string' || !item.text) return;
    const log = this.element;
    const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
    const placeholder = log.querySelector('.empty');
    if (placeholder) placeholder.remove();
    log.append(renderMessage(item, visitorName));
    if (atEnd || force) log.scrollTop = log.scrollHeight;
  }
}
