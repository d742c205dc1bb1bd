/**
 * Staff console: one conversation opened for review (right-hand side of the Conversations tab).
 *
 * Loads `GET api/conversations/<id>` and shows its summary, the timeline (TranscriptRenderer), the
 * tags (add/remove), the notes (add), the reviewed mark and "Export this conversation" (CSV/JSON).
 * Changes to tags and the reviewed mark call back `onChanged` so the list can redraw the row.
 */
import { Alerts } from './alerts.js';
import { errorText } from './api.js';
import { byId, formatDateTime, showText } from './dom.js';
import { h } from './element.js';
import { ReviewApi } from './review-api.js';
import { flagPills } from './review-list.js';
import { TranscriptRenderer } from './review-transcript.js';

export class ReviewDetailView {
  /** @param {{intents: () => string[], onChanged: () => void}} options */
  constructor(options) {
    this.options = options;
    this.id = null;
    this.data = null;
    this.section = byId('review-detail');
    this.empty = byId('review-detail-empty');
    this.error = byId('review-detail-error');
    this.timeline = byId('review-timeline');
    this.renderer = new TranscriptRenderer({
      intents: () => options.intents(),
      annotations: () => (this.data && this.data.annotations) || [],
      onAnnotate: (item, intent, status) => this.annotate(item, intent, status),
    });
    this.bind();
  }

  /** @private */
  bind() {
    byId('tag-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.addTag();
    });
    byId('note-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.addNote();
    });
    byId('mark-reviewed').addEventListener('click', () => this.toggleReviewed());
    byId('export-csv').addEventListener('click', () => this.exportAs('csv'));
    byId('export-json').addEventListener('click', () => this.exportAs('json'));
  }

  /** Open a conversation and move focus to its heading. */
  async open(id) {
    this.id = id;
    showText(this.error, '');
    try {
      const data = await ReviewApi.conversation(id);
      if (this.id !== id) return;
      this.data = data;
      this.render();
      byId('review-detail-title').focus();
    } catch (error) {
      this.section.hidden = false;
      this.empty.hidden = true;
      showText(this.error, errorText(error, 'This conversation could not be opened. Please try again.'));
    }
  }

  reset() {
    this.id = null;
    this.data = null;
    this.section.hidden = true;
    this.empty.hidden = false;
  }

  /** @private */
  render() {
    const summary = this.data.conversation || {};
    this.section.hidden = false;
    this.empty.hidden = true;
    byId('review-detail-title').textContent = 'Conversation ' +
      (summary.visitor_name ? 'with ' + summary.visitor_name + ' ' : '') + 'from ' +
      (formatDateTime(summary.started_at) || 'an unknown time');
    byId('review-detail-id').textContent = String(summary.conversation_id || this.id);
    byId('review-detail-meta').replaceChildren(
      h('span', { class: 'pill pill--plain', text: summary.channel || 'unknown channel' }),
      h('span', { class: 'pill pill--plain', text: (summary.message_count || 0) + ' messages' }),
      ...flagPills(summary.flags));
    this.timeline.replaceChildren(...this.renderer.render(this.data.transcript || []));
    this.renderReviewed(summary);
    this.renderTags(summary.tags || []);
    this.renderNotes(this.data.notes || []);
  }

  /** @private */
  renderReviewed(summary) {
    const button = byId('mark-reviewed');
    button.setAttribute('aria-pressed', summary.reviewed ? 'true' : 'false');
    button.textContent = summary.reviewed ? 'Reviewed \u2713 (click to undo)' : 'Mark reviewed';
  }

  /** @private */
  renderTags(tags) {
    byId('review-tags').replaceChildren(...tags.map((tag) => h('li', { class: 'tag-chip' }, [
      h('span', { text: '#' + tag }),
      h('button', { type: 'button', class: 'tag-chip__remove', 'aria-label': 'Remove tag ' + tag, text: '\u00d7',
        onclick: () => this.removeTag(tag) }),
    ])));
    byId('review-tags-empty').hidden = tags.length > 0;
  }

  /** @private */
  renderNotes(notes) {
    byId('review-notes').replaceChildren(...notes.map((note) => h('li', { class: 'review-note' }, [
      h('p', { class: 'hint', text: (note.staff_name || 'Staff') + ', ' + formatDateTime(note.created_at) }),
      h('p', { class: 'review-note__text', text: note.text || '' }),
    ])));
  }

  /**
   * @private Run a change; show its error in the side panel. rowChanged: the list row shows what
   * changed (tags, reviewed), so the list is reloaded.
   */
  async change(work, fallback, rowChanged) {
    const id = this.id;
    try {
      showText(this.error, '');
      const result = await work(id);
      if (rowChanged && this.id === id) this.options.onChanged();
      return result;
    } catch (error) {
      showText(this.error, errorText(error, fallback));
      return null;
    }
  }

  /** @private */
  async addTag() {
    const input = byId('tag-input');
    const tag = input.value.trim();
    if (!tag) return input.focus();
    const data = await this.change((id) => ReviewApi.addTag(id, tag), 'The tag could not be added.', true);
    if (!data) return;
    this.data.conversation.tags = data.tags || [];
    this.renderTags(this.data.conversation.tags);
    input.value = '';
    Alerts.announce('Tag ' + tag + ' added.');
  }

  /** @private */
  async removeTag(tag) {
    const data = await this.change((id) => ReviewApi.removeTag(id, tag), 'The tag could not be removed.', true);
    if (!data) return;
    this.data.conversation.tags = data.tags || [];
    this.renderTags(this.data.conversation.tags);
    byId('tag-input').focus();
    Alerts.announce('Tag ' + tag + ' removed.');
  }

  /** @private */
  async addNote() {
    const input = byId('note-input');
    const text = input.value.trim();
    if (!text) return input.focus();
    const data = await this.change((id) => ReviewApi.addNote(id, text), 'The note could not be saved.');
    if (!data) return;
    this.data.notes = (this.data.notes || []).concat([data.note]);
    this.renderNotes(this.data.notes);
    input.value = '';
    Alerts.announce('Note added.');
  }

  /** @private */
  async toggleReviewed() {
    const wanted = !(this.data.conversation && this.data.conversation.reviewed);
    const data = await this.change((id) => ReviewApi.markReviewed(id, wanted),
      'The reviewed mark could not be saved.', true);
    if (!data) return;
    this.data.conversation = data.conversation;
    this.renderReviewed(data.conversation);
    Alerts.announce(wanted ? 'Marked as reviewed.' : 'Marked as not reviewed.');
  }

  /** @private Save an annotation for one visitor message. */
  async annotate(item, intent, status) {
    if (!intent) {
      status.textContent = 'Choose an intent or FAQ topic first.';
      return;
    }
    const data = await this.change((id) => ReviewApi.annotate(id, item.event_id, intent),
      'The annotation could not be saved.');
    if (!data) return;
    this.data.annotations = (this.data.annotations || []).concat([data.annotation]);
    status.textContent = 'Saved: corrected to ' + intent + '.';
  }

  /** @private */
  async exportAs(format) {
    const id = this.id;
    try {
      const result = await ReviewApi.exportOne(id, format);
      showText(this.error, '');
      Alerts.announce('Downloaded ' + result.name + '.');
    } catch (error) {
      showText(this.error, errorText(error, 'The export failed. Please try again.'));
    }
  }
}
