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

/**
 * Every time in the console is shown in the clinic's time zone (`timezone` from `GET api/me`, set once
 * at start-up with setTimeZone) in one style: "2:05 PM", and "Dec 2, 2:05 PM" with the date.
 */
const LOCALE = 'en-US';
const CLOCK = { hour: 'numeric', minute: '2-digit' };
const DATE = { month: 'short', day: 'numeric' };
let timeZone;
let formats = null;

/** The formatters for the current zone, made once per zone; each gives plain spaces (never U+202F). */
function formatters() {
  if (!formats) {
    const make = (options) => {
      const format = new Intl.DateTimeFormat(LOCALE, { ...options, timeZone: timeZone });
      return { format: (date) => format.format(date).replace(/\u202f/g, ' '),
        formatToParts: (date) => format.formatToParts(date) };
    };
    formats = {
      clock: make(CLOCK),
      dateTime: make({ ...DATE, ...CLOCK }),
      dateTimeYear: make({ ...DATE, year: 'numeric', ...CLOCK }),
      year: make({ year: 'numeric' }),
      zone: make({ ...CLOCK, timeZoneName: 'short' }),
    };
  }
  return formats;
}

/**
 * Show every time in this IANA zone ("America/New_York"); an unknown or empty name keeps the browser's.
 * @returns {boolean} whether the zone was taken
 */
export function setTimeZone(zone) {
  let taken = undefined;
  if (typeof zone === 'string' && zone) {
    try {
      new Intl.DateTimeFormat(LOCALE, { timeZone: zone });
      taken = zone;
    } catch (error) {
      taken = undefined;
    }
  }
  timeZone = taken;
  formats = null;
  return taken !== undefined;
}

/** The zone's short name now ("EST", or "GMT-5" where there is none), for a heading or a hint. */
export function timeZoneAbbreviation() {
  const part = formatters().zone.formatToParts(new Date()).find((p) => p.type === 'timeZoneName');
  return part ? part.value : '';
}

/** "2:05 PM" in the clinic's time zone, or '' for an unknown time. */
export function formatClock(value) {
  const date = parseTime(value);
  return date ? formatters().clock.format(date) : '';
}

/** "Dec 2, 2:05 PM" in the clinic's time zone (with the year when it is not this year), or '' when unknown. */
export function formatDateTime(value) {
  const date = parseTime(value);
  if (!date) return '';
  const f = formatters();
  return (f.year.format(date) === f.year.format(new Date()) ? f.dateTime : f.dateTimeYear).format(date);
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

/**
 * A phone number as people read it: the hand-off form keeps digits only (bot/actions/handoff_form.py),
 * so a 10-digit (or 1 + 10-digit) North American number is shown as "(555) 201-3344"; others as given.
 */
export function readablePhone(phone) {
  const match = /^(\+?1)?(\d{3})(\d{3})(\d{4})$/.exec(phone);
  if (!match) return phone;
  return (match[1] ? '+1 ' : '') + '(' + match[2] + ') ' + match[3] + '-' + match[4];
}

/** A tel: link for a phone number (only digits, +, and separators survive) or plain text. */
export function phoneLink(phone) {
  const digits = phone.replace(/[^0-9+]/g, '');
  return digits.length >= 3 ? h('a', { href: 'tel:' + digits, text: readablePhone(phone) })
    : document.createTextNode(phone);
}

/** A mailto: link for a plausible email address, otherwise plain text. */
export function emailLink(email) {
  return /^[^\s@<>"]+@[^\s@<>"]+$/.test(email)
    ? h('a', { href: 'mailto:' + encodeURIComponent(email).replace('%40', '@'), text: email })
    : document.createTextNode(email);
}

/** One term and its value (text or a link) for a <dl>. */
export function detail(term, value) {
  return h('div', {}, [h('dt', { text: term }), h('dd', {}, value)]);
}

/**
 * "Read the full transcript": a link to the conversation in the Conversations tab (a real link,
 * so it can also be opened with the keyboard); null without a conversation id.
 */
export function transcriptLink(conversationId, open, testId) {
  if (!conversationId) return null;
  return h('a', { class: 'transcript-link', href: '#conversation-' + encodeURIComponent(conversationId),
    'data-testid': testId, 'data-conversation-id': conversationId, text: 'Read the full transcript',
    onclick: (event) => { event.preventDefault(); open(conversationId); } });
}

/** A ticket's status in words: the four the database allows (handoff_tickets' CHECK constraint). */
const STATUS_WORDS = { waiting: 'Waiting', claimed: 'Claimed', handed_back: 'Handed back', closed: 'Closed' };

/** Words for the ticket fields the server sends as codes. */
export const LABELS = {
  kind: (ticket) => (ticket.kind === 'callback' ? 'Call-back' : 'Live chat'),
  priority: (ticket) => (isUrgent(ticket) ? 'Urgent' : 'Normal'),
  status: (ticket) => STATUS_WORDS[ticket.status] || field(ticket, 'status') || 'Unknown',
  visitor: (ticket) => field(ticket, 'name') || 'Visitor',
};

/** "Waiting", "Claimed by Dana", or "Handed back by Dana". */
export function statusText(ticket) {
  const by = field(ticket, 'claimed_by_name');
  if (by && ticket.status === 'claimed') return 'Claimed by ' + by;
  if (by && ticket.status === 'handed_back') return 'Handed back by ' + by;
  return LABELS.status(ticket);
}

/** Urgent tickets (crisis language, flagged by the bot) are shown first and highlighted. */
export function isUrgent(ticket) {
  return Boolean(ticket) && ticket.priority === 'urgent';
}
