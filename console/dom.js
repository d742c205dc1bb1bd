/**
 * Staff console: DOM lookups, time and text formatting, and the words for ticket fields.
 *
 * All text that comes from a visitor, the bot or a colleague is set with textContent or text nodes
 * (h() from element.js), never parsed as HTML.
 */
import { h } from './element.js';

/** The element with this id (the page's static layout). */
export function byId(id) {
  return document.getElementById(id);
}

/** Show or hide an element and, for a message slot, set its text at the same time. */
export function showText(element, text) {
  element.textContent = text || '';
  element.hidden = !text;
}

/**
 * A server time as a Date: ISO 8601 strings, or unix seconds (Rasa's event timestamps).
 * @returns {Date|null}
 */
export function parseTime(value) {
  let date = null;
  if (typeof value === 'number' && isFinite(value)) date = new Date(value < 1e12 ? value * 1000 : value);
  else if (typeof value === 'string' && value) date = new Date(value);
  return date && !isNaN(date.getTime()) ? date : null;
}

/** Elapsed time as m:ss, or h:mm:ss past an hour ("2:05", "1:02:05"). */
export function formatElapsed(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours ? hours + ':' + String(minutes).padStart(2, '0') + ':' + seconds : minutes + ':' + seconds;
}

/** Time since a server time, or an empty string when it is unknown. */
export function elapsedSince(value) {
  const date = parseTime(value);
  return date ? formatElapsed(Date.now() - date.getTime()) : '';
}

/** HH:MM in the coordinator's local time, or '' for an unknown time. */
export function formatClock(value) {
  const date = parseTime(value);
  if (!date) return '';
  return String(date.getHours()).padStart(2, '0') + ':' + String(date.getMinutes()).padStart(2, '0');
}

/** A readable local date and time, or '' for an unknown time. */
export function formatDateTime(value) {
  const date = parseTime(value);
  return date ? date.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) : '';
}

/** At most max characters, ending with an ellipsis when cut. */
export function truncate(text, max) {
  const value = typeof text === 'string' ? text.trim() : '';
  return value.length > max ? value.slice(0, max - 1).trimEnd() + '\u2026' : value;
}

/** A string field of a server object, trimmed; '' when missing or not a string. */
export function field(object, name) {
  const value = object ? object[name] : '';
  return typeof value === 'string' ? value.trim() : (typeof value === 'number' ? String(value) : '');
}

/** A tel: link for a phone number (only digits, +, and separators survive) or plain text. */
export function phoneLink(phone) {
  const digits = phone.replace(/[^0-9+]/g, '');
  return digits.length >= 3 ? h('a', { href: 'tel:' + digits, text: phone }) : document.createTextNode(phone);
}

/** A mailto: link for a plausible email address, otherwise plain text. */
export function emailLink(email) {
  return /^[^\s@<>"]+@[^\s@<>"]+$/.test(email)
    ? h('a', { href: 'mailto:' + encodeURIComponent(email).replace('%40', '@'), text: email })
    : document.createTextNode(email);
}

/** A ticket's status in words: the three the database allows (handoff_tickets' CHECK constraint). */
const STATUS_WORDS = { waiting: 'Waiting', claimed: 'Claimed', closed: 'Closed' };

/** Words for the ticket fields the server sends as codes. */
export const LABELS = {
  kind: (ticket) => (ticket.kind === 'callback' ? 'Call-back' : 'Live chat'),
  priority: (ticket) => (isUrgent(ticket) ? 'Urgent' : 'Normal'),
  status: (ticket) => STATUS_WORDS[ticket.status] || field(ticket, 'status') || 'Unknown',
  visitor: (ticket) => field(ticket, 'name') || 'Visitor',
};

/** "Waiting", or "Claimed by Dana". */
export function statusText(ticket) {
  const by = field(ticket, 'claimed_by_name');
  return ticket.status === 'claimed' && by ? 'Claimed by ' + by : LABELS.status(ticket);
}

/** Urgent tickets (crisis language, flagged by the bot) are shown first and highlighted. */
export function isUrgent(ticket) {
  return Boolean(ticket) && ticket.priority === 'urgent';
}
