/**
 * Staff console: the saved-replies picker in the message box.
 *
 * Opened with the "Saved replies" button, or by typing "/" in an empty message box. The replies
 * (`GET api/saved-replies`, read each time it opens, so an admin's edit shows at once) are
 * filtered by what is typed in the search field (title or text); the arrow keys move through them
 * (`aria-activedescendant`), Enter or a click puts the chosen text into the message box at the
 * cursor, for the coordinator to edit before sending; Escape closes it and returns to the box (a "/"
 * that opened it, with nothing searched, is put back: the coordinator wanted a slash).
 * Replies are plain text, shown with textContent.
 */
import { Api, errorText } from './api.js';
import { byId, showText, truncate } from './dom.js';
import { h } from './element.js';

const PREVIEW_CHARS = 90;

export class SavedRepliesPicker {
  /**
   * @param {HTMLTextAreaElement} input the message box
   * @param {HTMLButtonElement} button the "Saved replies" button
   */
  constructor(input, button) {
    this.input = input;
    this.button = button;
    this.panel = byId('saved-replies-picker');
    this.filter = byId('saved-replies-filter');
    this.list = byId('saved-replies-options');
    this.status = byId('saved-replies-status');
    this.replies = [];
    this.shown = [];
    this.bySlash = false;
    this.active = 0;
    this.bind();
  }

  /** @private */
  bind() {
    this.button.addEventListener('click', () => (this.panel.hidden ? this.open(false) : this.close(true)));
    this.input.addEventListener('keydown', (event) => {
      if (event.key === '/' && !this.input.value.trim() && !event.isComposing) {
        event.preventDefault();
        this.open(true);
      }
    });
    this.filter.addEventListener('input', () => this.render(0));
    this.filter.addEventListener('keydown', (event) => this.onKey(event));
  }

  /**
   * Show the picker with the current replies and put focus in its search field; `bySlash`: a "/"
   * opened it, which Escape with nothing searched gives back to the message box.
   */
  async open(bySlash) {
    this.bySlash = bySlash;
    this.panel.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    this.filter.value = '';
    this.filter.focus();
    showText(this.status, 'Loading saved replies...');
    try {
      const data = await Api.savedReplies();
      this.replies = Array.isArray(data.replies) ? data.replies : [];
      showText(this.status, this.replies.length ? '' : 'There are no saved replies yet (admins add them).');
    } catch (error) {
      this.replies = [];
      showText(this.status, errorText(error, 'The saved replies could not be loaded.'));
    }
    this.render(0);
  }

  /** Hide the picker; `refocus` puts focus back in the message box. */
  close(refocus) {
    if (this.panel.hidden) return;
    this.panel.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    this.filter.removeAttribute('aria-activedescendant');
    if (refocus) this.input.focus();
  }

  /** @private */
  onKey(event) {
    const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (step && this.shown.length) {
      event.preventDefault();
      this.render((this.active + step + this.shown.length) % this.shown.length);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      if (this.shown[this.active]) this.insert(this.shown[this.active]);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      const slash = this.bySlash && !this.filter.value;
      this.close(true);
      if (slash) this.input.value = '/';
    }
  }

  /** @private Draw the replies that match the search, `active` highlighted. */
  render(active) {
    const query = this.filter.value.trim().toLowerCase();
    this.shown = this.replies.filter((r) => !query ||
      String(r.title).toLowerCase().includes(query) || String(r.text).toLowerCase().includes(query));
    this.active = Math.min(active, Math.max(this.shown.length - 1, 0));
    this.list.replaceChildren(...this.shown.map((reply, index) => h('li', {
      id: 'saved-reply-option-' + reply.id, class: 'picker__option', role: 'option',
      'data-testid': 'saved-reply-option', 'aria-selected': index === this.active ? 'true' : 'false',
      onmousedown: (event) => event.preventDefault(), onclick: () => this.insert(reply),
    }, [
      h('span', { class: 'picker__title', text: reply.title }),
      h('span', { class: 'picker__preview', text: truncate(reply.text, PREVIEW_CHARS) }),
    ])));
    const current = this.shown[this.active];
    if (current) this.filter.setAttribute('aria-activedescendant', 'saved-reply-option-' + current.id);
    else this.filter.removeAttribute('aria-activedescendant');
    if (this.replies.length && !this.shown.length) showText(this.status, 'No saved reply matches.');
    else if (this.replies.length) showText(this.status, '');
  }

  /** @private Put a reply's text into the message box at the cursor, ready to edit. */
  insert(reply) {
    const box = this.input;
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? start;
    box.value = box.value.slice(0, start) + reply.text + box.value.slice(end);
    const cursor = start + reply.text.length;
    this.close(true);
    box.setSelectionRange(cursor, cursor);
    box.dispatchEvent(new Event('input', { bubbles: true }));
  }
}
