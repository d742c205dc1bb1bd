/**
 * The visitor's own bubbles and their delivery state: sending, sent, or not sent with a Retry button.
 *
 * The state is written as text beside the time ("Sending...", "Sent", "Not sent"), so a screen
 * reader reads it as it is shown; a failed message also gets one short note under it (the
 * server's reason) and a Retry button whose accessible label names the message.
 */
import { h } from '../../console/element.js';
import { renderTime } from './content.js';
import { TEXT } from './words.js';

/** The states a visitor's message can be in. */
export const DELIVERY = { sending: 'sending', sent: 'sent', failed: 'failed' };

/**
 * A visitor's message.
 * @param {string} text what the visitor sees (a quick reply's title, not its payload)
 * @param {Date} date
 * @param {string} [id] the message's id (the one sent to the server)
 */
export function renderUserMessage(text, date, id) {
  return h('div', { class: 'msg msg--user', 'data-testid': 'msg', 'data-from': 'user', 'data-id': id || null }, [
    h('div', { class: 'bubble' }, [
      h('span', { class: 'sr-only', text: TEXT.you }),
      h('span', { class: 'msg__text', 'data-testid': 'msg-text', text: text }),
    ]),
    h('div', { class: 'meta' }, [
      renderTime(date),
      h('span', { class: 'meta__state', 'data-testid': 'msg-state' }),
    ]),
    h('div', { class: 'delivery', hidden: true }, [
      h('span', { class: 'delivery__note', 'data-testid': 'msg-note' }),
      h('button', { type: 'button', class: 'delivery__retry', 'data-testid': 'msg-retry', text: TEXT.retry }),
    ]),
  ]);
}

/**
 * Show a message's delivery state on its bubble.
 * @param {HTMLElement} node a bubble from renderUserMessage
 * @param {string} state one of DELIVERY
 * @param {{note?: string, onRetry?: Function, canRetry?: boolean}} [options] for a failed message: why, and Retry
 */
export function setDelivery(node, state, options) {
  const settings = options || {};
  node.setAttribute('data-state', state);
  if (state === DELIVERY.sending) node.setAttribute('data-pending', 'true');
  else node.removeAttribute('data-pending');
  node.querySelector('.meta__state').textContent = TEXT.delivery[state];
  const failed = state === DELIVERY.failed;
  const box = node.querySelector('.delivery');
  const retry = node.querySelector('.delivery__retry');
  box.hidden = !failed;
  node.querySelector('.delivery__note').textContent = failed ? settings.note || TEXT.errors.default : '';
  retry.onclick = failed && settings.onRetry ? settings.onRetry : null;
  retry.hidden = !failed || settings.canRetry === false;
  const text = node.querySelector('.msg__text').textContent;
  retry.setAttribute('aria-label', TEXT.retryLabel(text));
}
