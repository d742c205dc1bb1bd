/**
 * What goes inside a message: text with its http(s) links, times, quick-reply buttons and the
 * crisis banner text a message carries. Nothing is parsed as HTML.
 */
import { appendChildren, h } from '../../console/element.js';

const URL_PATTERN = /https?:\/\/[^\s<>"]+/gi;

/** True for an absolute http(s) URL. */
export function isHttpUrl(value) {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch (error) {
    return false;
  }
}

/** Drop punctuation that ends a sentence rather than the URL; keep a ")" the URL opened. */
function trimUrl(url) {
  let end = url.length;
  while (end > 0) {
    const last = url[end - 1];
    const candidate = url.slice(0, end);
    const unbalanced = last === ')' && count(candidate, '(') < count(candidate, ')');
    if (!'.,;:!?\'"]'.includes(last) && !unbalanced) break;
    end -= 1;
  }
  return url.slice(0, end);
}

function count(text, char) {
  return text.split(char).length - 1;
}

/**
 * Text with its http(s) URLs as links: text nodes and <a> elements, nothing parsed as HTML.
 * @param {string} text
 * @returns {DocumentFragment}
 */
export function linkify(text) {
  const fragment = document.createDocumentFragment();
  let done = 0;
  let match;
  URL_PATTERN.lastIndex = 0;
  while ((match = URL_PATTERN.exec(text)) !== null) {
    const url = trimUrl(match[0]);
    if (!url || !isHttpUrl(url)) continue;
    appendChildren(fragment, text.slice(done, match.index));
    fragment.append(h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: url }));
    done = match.index + url.length;
    URL_PATTERN.lastIndex = done;
  }
  appendChildren(fragment, text.slice(done));
  return fragment;
}

/** A unix timestamp in seconds (or nothing: now) as a Date. */
export function toDate(seconds) {
  const date = typeof seconds === 'number' && isFinite(seconds) ? new Date(seconds * 1000) : new Date();
  return isNaN(date.getTime()) ? new Date() : date;
}

/** <time> showing HH:MM in the visitor's local time. */
export function renderTime(date) {
  const hhmm = String(date.getHours()).padStart(2, '0') + ':' + String(date.getMinutes()).padStart(2, '0');
  return h('time', { class: 'meta__time', datetime: date.toISOString(), text: hhmm });
}

/** The usable quick replies of a message: [{title, payload}] with text in both. */
export function buttonsOf(item) {
  if (!item || !Array.isArray(item.buttons)) return [];
  return item.buttons
    .filter((b) => b && typeof b.title === 'string' && b.title.trim())
    .map((b) => ({ title: b.title, payload: typeof b.payload === 'string' && b.payload ? b.payload : b.title }));
}

/** The crisis banner text a message carries, or null. */
export function crisisBannerOf(item) {
  const custom = item && item.custom;
  if (!custom || typeof custom !== 'object' || custom.type !== 'crisis_banner') return null;
  return typeof custom.text === 'string' ? custom.text : '';
}
