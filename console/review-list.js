/**
 * Staff console: the Conversations tab's filters and paged list.
 *
 * The filter form maps one to one onto the query parameters of `GET api/conversations` (each field
 * has data-testid `review-filter-<parameter>`). Pages follow the server's keyset cursor: "Next page"
 * sends `next_cursor`, "Previous page" goes back through the cursors seen so far. Admins also get
 * "Export filtered" (CSV/JSON of the current filter) and "Export annotations as NLU YAML". Each row
 * shows the visitor's name when a hand-off ticket gave one and their first question; "Not helpful"
 * finds conversations where a visitor rated an answer thumbs-down.
 */
import { Alerts } from './alerts.js';
import { errorText } from './api.js';
import { byId, formatDateTime, formatElapsed, parseTime, showText, truncate } from './dom.js';
import { h } from './element.js';
import { ReviewApi } from './review-api.js';

const PAGE_SIZE = 25;
const FLAGS = { handoff: 'Hand-off', crisis: 'Crisis', fallback: 'Fallback', low_confidence: 'Low confidence' };
const TEXT_FILTERS = ['from', 'to', 'intent', 'confidence_below', 'tag', 'reviewed', 'q'];
/** Checkboxes that filter but are not a summary's flag. */
const OTHER_CHECKS = ['not_helpful'];
const QUESTION_CHARS = 90;

/** The pills for a summary's flags. */
export function flagPills(flags) {
  return Object.keys(FLAGS).filter((flag) => flags && flags[flag]).map((flag) =>
    h('span', { class: 'pill pill--flag pill--' + flag, text: FLAGS[flag] }));
}

/** "12 messages · 3:05" (messages and how long the conversation ran). */
function lengthText(summary) {
  const start = parseTime(summary.started_at);
  const end = parseTime(summary.last_event_at);
  const count = summary.message_count || 0;
  const messages = count + (count === 1 ? ' message' : ' messages');
  return start && end ? messages + ' \u00b7 ' + formatElapsed(end - start) : messages;
}

export class ReviewListView {
  /** @param {(id: string) => void} onOpen a conversation was chosen */
  constructor(onOpen) {
    this.onOpen = onOpen;
    this.form = byId('review-filters');
    this.list = byId('review-list');
    this.status = byId('review-status');
    this.error = byId('review-error');
    this.prev = byId('review-prev');
    this.next = byId('review-next');
    this.cursors = [null];
    this.nextCursor = null;
    this.filters = {};
    this.selectedId = null;
    this.bind();
  }

  /** @private */
  bind() {
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.apply();
    });
    byId('review-clear').addEventListener('click', () => {
      this.form.reset();
      this.apply();
    });
    this.prev.addEventListener('click', () => this.page(-1));
    this.next.addEventListener('click', () => this.page(1));
    byId('export-filtered-csv').addEventListener('click', () => this.exportFiltered('csv'));
    byId('export-filtered-json').addEventListener('click', () => this.exportFiltered('json'));
    byId('export-nlu').addEventListener('click', () => this.exportNlu());
  }

  /** Admins see the bulk exports. */
  setAdmin(isAdmin) {
    byId('review-admin-exports').hidden = !isAdmin;
  }

  /** Fill the intent picker and the tag suggestions from `api/review/choices`. */
  setChoices(choices) {
    const intent = byId('review-intent');
    const chosen = intent.value;
    intent.replaceChildren(h('option', { value: '', text: 'Any intent' }),
      ...(choices.intents || []).map((name) => h('option', { value: name, text: name })));
    intent.value = chosen;
    byId('review-tag-choices').replaceChildren(...(choices.tags || []).map((tag) => h('option', { value: tag })));
  }

  /** The filter form as query parameters. */
  readFilters() {
    const filters = {};
    TEXT_FILTERS.forEach((name) => {
      const value = this.form.elements[name].value.trim();
      if (value) filters[name] = value;
    });
    Object.keys(FLAGS).concat(OTHER_CHECKS).forEach((flag) => {
      if (this.form.elements[flag].checked) filters[flag] = 'true';
    });
    return filters;
  }

  /** Apply the form: back to the first page. */
  apply() {
    this.filters = this.readFilters();
    this.cursors = [null];
    return this.load();
  }

  /** Reload the current page (after a change to one of its conversations). */
  refresh() {
    return this.load();
  }

  clear() {
    this.list.replaceChildren();
    this.cursors = [null];
    this.selectedId = null;
  }

  /** Mark the open conversation's row. */
  select(id) {
    this.selectedId = id;
    this.list.querySelectorAll('[data-testid="conversation-item"]').forEach((row) => {
      const selected = row.getAttribute('data-conversation-id') === id;
      row.classList.toggle('row--selected', selected);
      row.querySelector('button').setAttribute('aria-current', selected ? 'true' : 'false');
    });
  }

  /** @private step = 1 (next page) or -1 (previous page). */
  page(step) {
    if (step > 0 && this.nextCursor) this.cursors.push(this.nextCursor);
    else if (step < 0 && this.cursors.length > 1) this.cursors.pop();
    else return;
    this.load().then(() => byId('review-heading').focus());
  }

  /** @private */
  async load() {
    const cursor = this.cursors[this.cursors.length - 1];
    this.status.textContent = 'Loading conversations...';
    try {
      const data = await ReviewApi.list(Object.assign({ limit: PAGE_SIZE }, this.filters), cursor);
      showText(this.error, '');
      this.nextCursor = data.next_cursor || null;
      this.render(Array.isArray(data.conversations) ? data.conversations : []);
    } catch (error) {
      this.status.textContent = '';
      showText(this.error,
        errorText(error, 'The conversations could not be loaded. Check the filters and try again.'));
    }
  }

  /** @private */
  render(rows) {
    this.list.replaceChildren(...rows.map((row) => this.renderRow(row)));
    const pageNumber = this.cursors.length;
    this.status.textContent = rows.length
      ? 'Page ' + pageNumber + ': ' + rows.length + (rows.length === 1 ? ' conversation.' : ' conversations.')
      : 'No conversations match these filters.';
    this.prev.disabled = this.cursors.length <= 1;
    this.next.disabled = !this.nextCursor;
    if (this.selectedId) this.select(this.selectedId);
  }

  /** @private One conversation: start, name, first question, length, channel, topics, flags, reviewed, tags. */
  renderRow(summary) {
    const id = String(summary.conversation_id);
    const topics = Array.isArray(summary.topics) ? summary.topics : [];
    const tags = Array.isArray(summary.tags) ? summary.tags : [];
    return h('li', { class: 'row review-row', 'data-testid': 'conversation-item', 'data-conversation-id': id },
      h('button', { type: 'button', class: 'row__button', onclick: () => this.onOpen(id) }, [
        h('span', { class: 'row__line' }, [
          h('span', { class: 'row__name', text: formatDateTime(summary.started_at) || 'Unknown start' }),
          h('span', { class: 'row__kind', text: lengthText(summary) }),
          h('span', { class: 'row__kind', text: summary.channel || 'unknown channel' }),
        ]),
        h('span', { class: 'row__line' }, [
          summary.visitor_name ? h('span', { class: 'row__visitor', 'data-testid': 'conversation-visitor',
            text: summary.visitor_name }) : null,
          h('span', { class: summary.first_question ? 'row__question' : 'row__reason', 'data-testid': 'conversation-question',
            text: summary.first_question ? '\u201c' + truncate(summary.first_question, QUESTION_CHARS) + '\u201d'
              : 'No question asked' }),
        ]),
        h('span', { class: 'row__reason', text: topics.length ? 'Topics: ' + topics.join(', ') : 'No topics' }),
        h('span', { class: 'row__line' }, [
          ...flagPills(summary.flags),
          h('span', { class: summary.reviewed ? 'pill pill--reviewed' : 'pill pill--plain',
            text: summary.reviewed ? 'Reviewed' : 'Not reviewed' }),
          ...tags.map((tag) => h('span', { class: 'tag', text: '#' + tag })),
        ]),
      ]));
  }

  /** @private */
  async exportFiltered(format) {
    await this.runExport(() => ReviewApi.exportFiltered(this.filters, format));
  }

  /** @private */
  async exportNlu() {
    await this.runExport(() => ReviewApi.exportNlu());
  }

  /** @private Run a download and say how it went. */
  async runExport(start) {
    try {
      const result = await start();
      showText(this.error, '');
      Alerts.announce('Downloaded ' + result.name + (result.truncated ? ' (cut at 10,000 conversations).' : '.'));
    } catch (error) {
      showText(this.error, errorText(error, 'The export failed. Please try again.'));
    }
  }
}
