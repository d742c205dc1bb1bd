/** The view: the launcher and panel's static layout, and the small state changes on it. */
import { h, svg } from '../../console/element.js';
import { renderCrisisBanner, renderQuickReplies } from './messages.js';
import { ASK_HUMAN_TITLE, TEXT } from './words.js';

const MAX_MESSAGE_CHARS = 2000;

const ICONS = {
  chat: 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z',
  close: 'M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6l5.6-5.6L5 6.4z',
  send: 'M3 20.5 21 12 3 3.5v6.6l12.4 1.9L3 13.9z',
  person: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm0 2c-4 0-8 2-8 5v1h16v-1c0-3-4-5-8-5z',
  endChat: 'M9 3h6l1 2h4v2H4V5h4l1-2zM6 9h12l-1 12H7L6 9zm4 2v8h1.5v-8H10zm2.5 0v8H14v-8h-1.5z',
};

/** A decorative SVG icon from path data. */
function icon(pathData) {
  return svg('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' }, svg('path', { d: pathData }));
}

/**
 * Builds the launcher and panel inside a shadow root and changes them on request.
 * It holds no conversation state; ClinicChat tells it what to show.
 */
export class ChatView {
  /**
   * @param {ShadowRoot} root
   * @param {{title: string}} config
   * @param {{onOpen: Function, onClose: Function, onSubmit: Function, onHuman: Function, onTyping: Function,
   *   onEndChat: Function}} actions
   */
  constructor(root, config, actions) {
    this.actions = actions;
    this.stuckToBottom = true;
    this.quickReplies = null;
    this.bannerText = null;
    this.build(root, config.title);
  }

  /** @private */
  build(root, title) {
    this.badge = h('span', { class: 'badge', 'data-testid': 'badge', 'aria-hidden': 'true', hidden: true });
    this.launcher = h('button', {
      type: 'button', class: 'launcher', 'data-testid': 'launcher', 'aria-label': TEXT.openChat,
      'aria-expanded': 'false', 'aria-controls': 'clinic-chat-panel', onclick: () => this.actions.onOpen(),
    }, [icon(ICONS.chat), this.badge]);

    this.endButton = h('button', {
      type: 'button', class: 'icon-button', 'data-testid': 'end-chat', 'aria-label': TEXT.endChat,
      title: TEXT.endChat, 'aria-haspopup': 'dialog', 'aria-controls': 'clinic-chat-end', 'aria-expanded': 'false',
      onclick: () => this.askEndChat(),
    }, icon(ICONS.endChat));
    this.closeButton = h('button', {
      type: 'button', class: 'icon-button', 'data-testid': 'close', 'aria-label': TEXT.closeChat,
      onclick: () => this.actions.onClose(),
    }, icon(ICONS.close));
    const header = h('header', { class: 'header' }, [
      h('div', { class: 'header__titles' }, [
        h('h2', { class: 'header__title', id: 'clinic-chat-title', text: title }),
        h('p', { class: 'header__subtitle', text: TEXT.subtitle }),
      ]),
      this.endButton,
      this.closeButton,
    ]);

    this.bannerSlot = h('div', { class: 'banner-slot' });
    this.status = h('p', { class: 'status', 'data-testid': 'status', role: 'status', hidden: true });
    this.log = h('div', {
      class: 'log', 'data-testid': 'log', role: 'log', 'aria-live': 'polite', 'aria-label': TEXT.log, tabindex: '0',
      onscroll: () => { this.stuckToBottom = this.isNearBottom(); },
    });
    this.typing = h('div', { class: 'typing', 'data-testid': 'typing', role: 'status', hidden: true }, [
      h('span', { class: 'sr-only', text: TEXT.typing }),
      h('span', { class: 'typing__dot', 'aria-hidden': 'true' }),
      h('span', { class: 'typing__dot', 'aria-hidden': 'true' }),
      h('span', { class: 'typing__dot', 'aria-hidden': 'true' }),
    ]);

    this.panel = h('section', {
      class: 'panel', id: 'clinic-chat-panel', 'data-testid': 'panel', role: 'dialog',
      'aria-labelledby': 'clinic-chat-title', hidden: true,
      onkeydown: (event) => { if (event.key === 'Escape') this.handleEscape(); },
    }, [header, this.buildEndChat(), this.bannerSlot, this.status, this.log, this.typing, this.buildFooter()]);

    root.append(this.launcher, this.panel);
  }

  /** @private The confirm step of "End chat and clear": a question, Cancel and End chat and clear. */
  buildEndChat() {
    this.endCancel = h('button', {
      type: 'button', class: 'confirm__cancel', 'data-testid': 'end-chat-cancel', text: TEXT.endChatCancel,
      onclick: () => this.hideEndChat(true),
    });
    this.endConfirm = h('button', {
      type: 'button', class: 'confirm__end', 'data-testid': 'end-chat-confirm', text: TEXT.endChat,
      onclick: () => {
        this.hideEndChat(false);
        this.actions.onEndChat();
        this.input.focus();
      },
    });
    this.endDialog = h('div', {
      class: 'confirm', id: 'clinic-chat-end', 'data-testid': 'end-chat-dialog', role: 'alertdialog',
      'aria-labelledby': 'clinic-chat-end-question', 'aria-describedby': 'clinic-chat-end-detail', hidden: true,
    }, [
      h('p', { class: 'confirm__question', id: 'clinic-chat-end-question', text: TEXT.endChatQuestion }),
      h('p', { class: 'confirm__detail', id: 'clinic-chat-end-detail', text: TEXT.endChatDetail }),
      h('div', { class: 'confirm__actions' }, [this.endCancel, this.endConfirm]),
    ]);
    return this.endDialog;
  }

  /** @private Show the confirm step, with focus on Cancel (the safe choice). */
  askEndChat() {
    this.endDialog.hidden = false;
    this.endButton.setAttribute('aria-expanded', 'true');
    this.endCancel.focus();
  }

  /** @private Hide the confirm step; `refocus` puts focus back on the header button. */
  hideEndChat(refocus) {
    this.endDialog.hidden = true;
    this.endButton.setAttribute('aria-expanded', 'false');
    if (refocus) this.endButton.focus();
  }

  /** @private Escape cancels the confirm step if it is open, else closes the panel. */
  handleEscape() {
    if (!this.endDialog.hidden) this.hideEndChat(true);
    else this.actions.onClose();
  }

  /** @private The "Talk to a person" button and the message form. */
  buildFooter() {
    this.humanButton = h('button', {
      type: 'button', class: 'human', 'data-testid': 'human', 'aria-label': ASK_HUMAN_TITLE,
      onclick: () => this.actions.onHuman(),
    }, [icon(ICONS.person), h('span', { text: ASK_HUMAN_TITLE })]);

    this.input = h('textarea', {
      class: 'input', 'data-testid': 'input', 'aria-label': TEXT.inputLabel, placeholder: TEXT.placeholder,
      rows: '1', maxlength: String(MAX_MESSAGE_CHARS), autocomplete: 'off', enterkeyhint: 'send',
      oninput: () => {
        this.fitInput();
        this.actions.onTyping(this.input.value.trim() !== '');
      },
      onkeydown: (event) => this.handleInputKey(event),
    });
    this.sendButton = h('button', {
      type: 'submit', class: 'send', 'data-testid': 'send', 'aria-label': TEXT.send,
    }, icon(ICONS.send));
    const form = h('form', {
      class: 'composer',
      onsubmit: (event) => { event.preventDefault(); this.submit(); },
    }, [this.input, this.sendButton]);
    return h('footer', { class: 'footer' }, [h('div', { class: 'footer__actions' }, this.humanButton), form]);
  }

  /** @private Enter sends, Shift+Enter starts a new line. */
  handleInputKey(event) {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    this.submit();
  }

  /** @private */
  submit() {
    const text = this.input.value.trim();
    if (!text || this.input.disabled) return;
    this.input.value = '';
    this.fitInput();
    this.actions.onSubmit(text);
  }

  /** @private Grow the input with its text, up to a few lines. */
  fitInput() {
    this.input.style.height = 'auto';
    this.input.style.height = Math.min(this.input.scrollHeight, 128) + 'px';
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  /** Show the panel and move focus into the input. */
  open() {
    this.panel.hidden = false;
    this.launcher.hidden = true;
    this.launcher.setAttribute('aria-expanded', 'true');
    this.scrollToEnd();
    this.input.focus();
  }

  /** Hide the panel and give focus back to the launcher. */
  close() {
    this.panel.hidden = true;
    this.launcher.hidden = false;
    this.launcher.setAttribute('aria-expanded', 'false');
    this.launcher.focus();
  }

  /** Add a message to the end of the log, scrolling to it if the visitor was at the bottom. */
  append(node, force) {
    this.log.append(node);
    node.querySelectorAll('img').forEach((img) => img.addEventListener('load', () => this.followEnd()));
    if (force) this.stuckToBottom = true;
    this.followEnd();
  }

  /** Empty the log (before redrawing it from history). */
  clear() {
    this.log.replaceChildren();
    this.quickReplies = null;
    this.stuckToBottom = true;
  }

  /** Show quick replies under the last message, replacing any shown before. */
  showQuickReplies(buttons, onPick) {
    this.clearQuickReplies();
    if (!buttons.length) return;
    this.quickReplies = renderQuickReplies(buttons, onPick);
    this.append(this.quickReplies);
  }

  /** Remove the quick replies; focus that was on one of them moves to the input, not lost. */
  clearQuickReplies() {
    if (!this.quickReplies) return;
    const hadFocus = this.quickReplies.contains(this.log.getRootNode().activeElement);
    this.quickReplies.remove();
    this.quickReplies = null;
    if (hadFocus) this.input.focus();
  }

  setTyping(on) {
    this.typing.hidden = !on;
  }

  /** The status line under the header; empty text hides it. */
  setStatus(text) {
    this.status.textContent = text || '';
    this.status.hidden = !text;
  }

  /** Show (or with null remove) the crisis banner. */
  setBanner(text) {
    if (text === this.bannerText) return;
    this.bannerText = text;
    this.bannerSlot.replaceChildren();
    if (text !== null) this.bannerSlot.append(renderCrisisBanner(text));
  }

  /** Unread count on the launcher badge; 0 hides it. */
  setUnread(count) {
    this.badge.textContent = count > 99 ? '99+' : String(count);
    this.badge.hidden = count === 0;
    this.launcher.setAttribute('aria-label',
      count ? TEXT.openChat + ', ' + count + (count === 1 ? ' new message' : ' new messages') : TEXT.openChat);
  }

  /** Mark a visitor message as waiting ("sending..."), failed ("not sent") or sent (""). */
  setHint(node, hint) {
    const slot = node.querySelector('.meta__hint');
    slot.textContent = hint;
    if (hint) node.setAttribute('data-pending', 'true');
    else node.removeAttribute('data-pending');
  }

  /** Hide "Talk to a person" while a coordinator is coming or chatting. */
  setHumanOffered(offered) {
    this.humanButton.hidden = !offered;
  }

  /** Chat closed by the server: nothing more can be sent. */
  disableComposer() {
    [this.input, this.sendButton, this.humanButton].forEach((control) => { control.disabled = true; });
    this.clearQuickReplies();
  }

  /** @private */
  isNearBottom() {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 48;
  }

  /** @private */
  followEnd() {
    if (this.stuckToBottom) this.scrollToEnd();
  }

  /** Show the newest message and keep following new ones. */
  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
    this.stuckToBottom = true;
  }
}
