/** The view: the launcher and panel's static layout, and the small state changes on it. */
import { h, svg } from '../../console/element.js';
import { renderCrisisBanner, renderQuickReplies } from './messages.js';
import { ASK_HUMAN_TITLE, TEXT } from './words.js';

/** The longest message until the server's session_confirm gives its own limit. */
const DEFAULT_MAX_MESSAGE_CHARS = 2000;
/** The character counter appears once a message is this share of the limit. */
const COUNTER_FROM = 0.8;

const ICONS = {
  chat: 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z',
  close: 'M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6l5.6-5.6L5 6.4z',
  send: 'M3 20.5 21 12 3 3.5v6.6l12.4 1.9L3 13.9z',
  person: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm0 2c-4 0-8 2-8 5v1h16v-1c0-3-4-5-8-5z',
  endChat: 'M9 3h6l1 2h4v2H4V5h4l1-2zM6 9h12l-1 12H7L6 9zm4 2v8h1.5v-8H10zm2.5 0v8H14v-8h-1.5z',
  assistant: 'M12 2a1 1 0 0 1 1 1v1h4a3 3 0 0 1 3 3v9a3 3 0 0 1-3 3H7a3 3 0 0 1-3-3V7a3 3 0 0 1 3-3h4V3a1 1 0 0 1 1-1zM9 10a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm6 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm-5 5v1.5h4V15h-4z',
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
    this.title = config.title;
    this.maxChars = DEFAULT_MAX_MESSAGE_CHARS;
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
    this.avatar = h('span', { class: 'avatar', 'data-testid': 'avatar', 'data-who': 'bot', 'aria-hidden': 'true' },
      icon(ICONS.assistant));
    this.titleText = h('h2', { class: 'header__title', id: 'clinic-chat-title', 'data-testid': 'title', text: title });
    this.subtitle = h('p', { class: 'header__subtitle', 'data-testid': 'subtitle', text: TEXT.subtitle });
    const header = h('header', { class: 'header' }, [
      this.avatar,
      h('div', { class: 'header__titles' }, [this.titleText, this.subtitle]),
      this.endButton,
      this.closeButton,
    ]);

    this.bannerSlot = h('div', { class: 'banner-slot' });
    this.status = h('p', { class: 'status', 'data-testid': 'status', role: 'status', hidden: true });
    this.log = h('div', {
      class: 'log', 'data-testid': 'log', role: 'log', 'aria-live': 'polite', 'aria-label': TEXT.log, tabindex: '0',
      onscroll: () => { this.stuckToBottom = this.isNearBottom(); },
    });
    this.typingLabel = h('span', { class: 'sr-only', 'data-testid': 'typing-label', text: TEXT.typing(null) });
    this.typing = h('div', { class: 'typing', 'data-testid': 'typing', role: 'status', hidden: true }, [
      this.typingLabel,
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
      rows: '1', autocomplete: 'off', enterkeyhint: 'send',
      'aria-describedby': 'clinic-chat-counter clinic-chat-too-long',
      oninput: () => {
        this.fitInput();
        this.renderLength();
        this.actions.onTyping(this.input.value.trim() !== '');
      },
      onkeydown: (event) => this.handleInputKey(event),
    });
    this.counter = h('span', { class: 'counter', id: 'clinic-chat-counter', 'data-testid': 'counter', hidden: true });
    this.tooLong = h('span', { class: 'too-long', id: 'clinic-chat-too-long', 'data-testid': 'too-long', role: 'status' });
    this.sendButton = h('button', {
      type: 'submit', class: 'send', 'data-testid': 'send', 'aria-label': TEXT.send,
    }, icon(ICONS.send));
    const form = h('form', {
      class: 'composer',
      onsubmit: (event) => { event.preventDefault(); this.submit(); },
    }, [this.input, this.sendButton]);
    const length = h('div', { class: 'length' }, [this.tooLong, this.counter]);
    return h('footer', { class: 'footer' }, [h('div', { class: 'footer__actions' }, this.humanButton), form, length]);
  }

  /** @private Enter sends, Shift+Enter starts a new line. */
  handleInputKey(event) {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    this.submit();
  }

  /** @private A message over the limit is not sent: the visitor is told how much to cut. */
  submit() {
    const text = this.input.value.trim();
    if (!text || this.input.disabled || this.overLimit()) return;
    this.input.value = '';
    this.fitInput();
    this.renderLength();
    this.actions.onSubmit(text);
  }

  /** The longest message the server takes (from session_confirm's `limits`; null keeps the current one). */
  setLimit(maxChars) {
    if (maxChars) this.maxChars = maxChars;
    this.renderLength();
  }

  /** @private Characters of the message as the server counts them (code points, without outer spaces). */
  messageLength() {
    return Array.from(this.input.value.trim()).length;
  }

  /** @private */
  overLimit() {
    return this.messageLength() > this.maxChars;
  }

  /**
   * @private The counter ("1,850 / 2,000") from 80% of the limit; over it, the send button is
   * disabled and a short message says how much to cut.
   */
  renderLength() {
    const length = this.messageLength();
    const over = length - this.maxChars;
    this.counter.hidden = length < this.maxChars * COUNTER_FROM;
    this.counter.textContent = TEXT.counter(length, this.maxChars);
    this.counter.classList.toggle('counter--over', over > 0);
    this.tooLong.textContent = over > 0 ? TEXT.tooLong(over) : '';
    if (over > 0) this.input.setAttribute('aria-invalid', 'true');
    else this.input.removeAttribute('aria-invalid');
    this.sendButton.disabled = over > 0 || this.input.disabled;
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

  /**
   * Show or hide the typing dots; `name` is the coordinator's (null: the assistant, or a care-team
   * member whose name is not known when `person`). The hidden label says who, as the header does.
   */
  setTyping(on, name, person) {
    this.typing.hidden = !on;
    if (on) this.typingLabel.textContent = person ? TEXT.typingPerson(name) : TEXT.typing();
  }

  /**
   * Who the visitor is talking to, in the header: a care-team member ({name}) or, with null, the assistant.
   * @param {{name: string}|null} person
   */
  setSpeaker(person) {
    this.titleText.textContent = person ? TEXT.agentLabel(person.name) : this.title;
    this.subtitle.textContent = person ? TEXT.personSubtitle : TEXT.subtitle;
    this.avatar.setAttribute('data-who', person ? 'agent' : 'bot');
    this.avatar.replaceChildren(person && person.name ? person.name.charAt(0).toUpperCase() : icon(
      person ? ICONS.person : ICONS.assistant));
  }

  /** A message in the log grew (a note, a Retry button): keep the end in view if the visitor was there. */
  refit() {
    this.followEnd();
  }

  /** Put the cursor in the message box. */
  focusInput() {
    this.input.focus();
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
