/** Render functions: one per incoming message kind (the visitor's own are in outgoing.js). Each returns a detached element. */
import { h } from '../../console/element.js';
import { isHttpUrl, linkify, renderTime, toDate } from './content.js';
import { renderSource } from './feedback.js';
import { TEXT } from './words.js';

/**
 * An assistant message: text with links and an optional image; under an answer, where it comes
 * from and "Was this helpful?" (feedback.js).
 * @param {{text?: string, image?: string, timestamp?: number, id?: string, source?: object, rating?: string}} item
 * @param {{render: Function}|null} feedback the conversation's rating controls
 */
function renderBotMessage(item, feedback) {
  return renderIncoming(item, 'bot', null, renderSource(item.source), feedback ? feedback.render(item) : null);
}

/**
 * A care-team member's message, labelled with their name ("Dana, care team").
 * @param {{text?: string, image?: string, agent?: string, timestamp?: number}} item
 */
function renderAgentMessage(item) {
  const name = typeof item.agent === 'string' ? item.agent.trim() : '';
  return renderIncoming(item, 'agent', TEXT.agentLabel(name));
}

/** A short, calm note from the widget itself (errors, notices). */
export function renderSystemNote(text) {
  return h('div', { class: 'note', 'data-testid': 'msg', 'data-from': 'system', role: 'note' }, [
    h('span', { class: 'msg__text', 'data-testid': 'msg-text', text: text }),
  ]);
}

/** An image from the assistant, only from an http(s) address. */
function renderImage(src) {
  if (typeof src !== 'string' || !isHttpUrl(src)) return null;
  return h('img', { class: 'msg__image', src: src, alt: TEXT.imageAlt, loading: 'lazy', 'data-testid': 'msg-image' });
}

/**
 * Quick-reply buttons under the latest assistant message.
 * @param {{title: string, payload: string}[]} buttons
 * @param {(button: {title: string, payload: string}) => void} onPick
 */
export function renderQuickReplies(buttons, onPick) {
  return h('div', { class: 'quick-replies', role: 'group', 'aria-label': 'Suggested replies' },
    buttons.map((button) => h('button', {
      type: 'button',
      class: 'quick-reply',
      'data-testid': 'quick-reply',
      'aria-label': button.title,
      text: button.title,
      onclick: () => onPick(button),
    })));
}

/** The crisis banner shown at the top of the panel for the rest of the conversation. */
export function renderCrisisBanner(text) {
  return h('div', { class: 'crisis', 'data-testid': 'crisis-banner', role: 'alert' }, [
    h('strong', { class: 'crisis__label', text: TEXT.crisisLabel }),
    h('span', { class: 'crisis__text' }, linkify(text)),
  ]);
}

/** Shared body of bot and agent messages (`underBubble` and `last` are the answer's extras); null when there is nothing to show. */
function renderIncoming(item, from, label, underBubble, last) {
  const text = typeof item.text === 'string' ? item.text : '';
  const image = renderImage(item.image);
  if (!text.trim() && !image) return null;
  return h('div', { class: 'msg msg--' + from, 'data-testid': 'msg', 'data-from': from }, [
    label ? h('div', { class: 'msg__who', text: label }) : h('span', { class: 'sr-only', text: TEXT.assistant }),
    h('div', { class: 'bubble' }, [h('span', { class: 'msg__text', 'data-testid': 'msg-text' }, linkify(text)), image]),
    underBubble,
    h('div', { class: 'meta' }, renderTime(toDate(item.timestamp))),
    last,
  ]);
}

/**
 * The right render function for an incoming (bot or agent) message.
 * @param {{render: Function}|null} [feedback] the rating controls for the assistant's answers
 */
export function renderIncomingMessage(item, feedback) {
  return item.from === 'agent' ? renderAgentMessage(item) : renderBotMessage(item, feedback || null);
}
