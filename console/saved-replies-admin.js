/**
 * Staff console: the admins' Saved replies tab.
 *
 * Lists the saved replies (`GET api/saved-replies`) with Edit and Delete, and a form that adds one
 * (`POST api/saved-replies`) or, after Edit, changes it (`PUT api/saved-replies/<id>`). The server
 * refuses these to anyone but an admin and audits each change; its error message (a duplicate
 * title, a missing field) is shown under the form. Replies are plain text, shown with textContent.
 */
import { Alerts } from './alerts.js';
import { Api, errorText } from './api.js';
import { byId, formatDateTime, showText } from './dom.js';
import { h } from './element.js';

export class SavedRepliesAdmin {
  constructor() {
    this.el = {};
    ['saved-reply-form', 'saved-reply-form-title', 'saved-reply-title', 'saved-reply-text', 'saved-reply-error',
      'saved-reply-save', 'saved-reply-cancel', 'saved-replies-admin-status', 'saved-replies-admin-list',
    ].forEach((id) => { this.el[id] = byId(id); });
    this.editing = null;
    this.el['saved-reply-form'].addEventListener('submit', (event) => { event.preventDefault(); this.save(); });
    this.el['saved-reply-cancel'].addEventListener('click', () => this.edit(null));
  }

  /** The tab opened: read the list. */
  async show() {
    try {
      const data = await Api.savedReplies();
      this.render(Array.isArray(data.replies) ? data.replies : []);
    } catch (error) {
      showText(this.el['saved-replies-admin-status'], errorText(error, 'The saved replies could not be loaded.'));
    }
  }

  clear() {
    this.el['saved-replies-admin-list'].replaceChildren();
    this.edit(null);
  }

  /** @private */
  render(replies) {
    showText(this.el['saved-replies-admin-status'], replies.length ? replies.length + ' saved replies.'
      : 'No saved replies yet.');
    this.el['saved-replies-admin-list'].replaceChildren(...replies.map((reply) => h('li', {
      class: 'callback', 'data-testid': 'saved-reply-item', 'data-reply-id': String(reply.id),
    }, [
      h('h3', { class: 'callback__name', text: reply.title }),
      h('p', { class: 'saved-reply__text', text: reply.text }),
      h('p', { class: 'hint', text: 'Last changed ' + formatDateTime(reply.updated_at) }),
      h('div', { class: 'actions' }, [
        h('button', { type: 'button', class: 'button', 'data-testid': 'saved-reply-edit',
          'aria-label': 'Edit ' + reply.title, text: 'Edit', onclick: () => this.edit(reply) }),
        h('button', { type: 'button', class: 'button button--danger', 'data-testid': 'saved-reply-delete',
          'aria-label': 'Delete ' + reply.title, text: 'Delete', onclick: () => this.remove(reply) }),
      ]),
    ])));
  }

  /** @private Fill the form with a reply to change it (null: back to adding a new one). */
  edit(reply) {
    this.editing = reply;
    this.el['saved-reply-title'].value = reply ? reply.title : '';
    this.el['saved-reply-text'].value = reply ? reply.text : '';
    this.el['saved-reply-form-title'].textContent = reply ? 'Edit \u201c' + reply.title + '\u201d' : 'New saved reply';
    this.el['saved-reply-save'].textContent = reply ? 'Save changes' : 'Add saved reply';
    this.el['saved-reply-cancel'].hidden = !reply;
    showText(this.el['saved-reply-error'], '');
    if (reply) this.el['saved-reply-title'].focus();
  }

  /** @private */
  async save() {
    const title = this.el['saved-reply-title'].value.trim();
    const text = this.el['saved-reply-text'].value.trim();
    if (!title || !text) {
      showText(this.el['saved-reply-error'], 'Give the saved reply a title and a text.');
      (title ? this.el['saved-reply-text'] : this.el['saved-reply-title']).focus();
      return;
    }
    this.el['saved-reply-save'].disabled = true;
    try {
      if (this.editing) await Api.updateSavedReply(this.editing.id, title, text);
      else await Api.createSavedReply(title, text);
      Alerts.announce((this.editing ? 'Saved changes to ' : 'Added ') + title + '.');
      this.edit(null);
      await this.show();
      this.el['saved-reply-title'].focus();
    } catch (error) {
      showText(this.el['saved-reply-error'], errorText(error, 'The saved reply could not be saved.'));
    } finally {
      this.el['saved-reply-save'].disabled = false;
    }
  }

  /** @private */
  async remove(reply) {
    try {
      await Api.deleteSavedReply(reply.id);
      Alerts.announce('Deleted ' + reply.title + '.');
      if (this.editing && this.editing.id === reply.id) this.edit(null);
      await this.show();
      byId('saved-replies-heading').focus();
    } catch (error) {
      showText(this.el['saved-replies-admin-status'], errorText(error, 'The saved reply could not be deleted.'));
    }
  }
}
