/**
 * Clinic chat widget: the visitor side of the website assistant.
 *
 * One plain-JS file, no build step. Embedding it with one tag defines the <clinic-chat> custom
 * element (open Shadow DOM, styles inside) and adds one to the page:
 *
 *   <script src="https://SERVER/webhooks/web/widget.js" data-title="Ask our assistant" defer></script>
 *
 * Pieces, top to bottom: configuration, local storage, the websocket transport, DOM helpers,
 * one render function per message kind, the view (static layout), and the element that wires
 * transport, storage and view together. Every piece of conversation text is set with textContent
 * or a text node, never parsed as HTML. The file is ASCII-only, so it works on pages in any charset.
 */
(function () {
  'use strict';

  if (!window.customElements || window.customElements.get('clinic-chat')) return;

  /** The <script> tag that loaded this file, captured now: it is null once loading is over. */
  const SCRIPT = document.currentScript;

  const STORAGE_KEY = 'clinic-chat:session';
  const SOCKET_PATH = '/webhooks/web/ws';
  const MAX_MESSAGE_CHARS = 2000;
  const POLICY_VIOLATION = 1008;
  const BACKOFF_FIRST_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  const DEFAULT_TITLE = 'Chat with us';
  const DEFAULT_COLOR = '#0b5cad';
  const GREET = '/greet';
  const ASK_HUMAN = '/ask_human';
  const ASK_HUMAN_TITLE = 'Talk to a person';
  const TYPING_IDLE_MS = 3000;
  const TYPING_MIN_GAP_MS = 2200;  // at most one typing frame per 2 s, with a margin for jitter
  /** Hand-off states in which the visitor's typing is relayed to a coordinator. */
  const TYPING_RELAYED_IN = ['waiting', 'connected'];

  /** Words the visitor sees outside the conversation itself. */
  const TEXT = {
    subtitle: 'virtual assistant',
    openChat: 'Open chat',
    closeChat: 'Close chat',
    endChat: 'End chat and clear',
    endChatQuestion: 'End this chat and clear it from this device?',
    endChatDetail: 'The conversation is removed from this browser and can\u2019t be continued, here or anywhere else.',
    endChatCancel: 'Cancel',
    ended: 'Chat ended and cleared from this device. Type a message to start a new one.',
    send: 'Send message',
    inputLabel: 'Type your message',
    placeholder: 'Type your message...',
    log: 'Conversation',
    you: 'You: ',
    assistant: 'Assistant: ',
    typing: 'The assistant is typing',
    sending: 'sending...',
    notSent: 'not sent',
    reconnecting: 'Reconnecting...',
    closed: 'Chat closed.',
    crisisLabel: 'Important',
    imageAlt: 'Image from the assistant',
    handoff: {
      waiting: () => 'Waiting for a care coordinator\u2026',
      connected: (name) => (name ? 'You\'re chatting with ' + name : 'You\'re chatting with a care coordinator'),
      ended: () => 'Back with the virtual assistant',
      callback: () => 'A care coordinator will contact you',
    },
    agentLabel: (name) => (name ? name + ', care team' : 'Care team'),
    errors: {
      rate_limited: 'You are sending messages quickly. Please wait a moment, then try again.',
      too_long: 'That message is too long. Please keep it under 2000 characters.',
      default: 'Something went wrong with that message. Please try again.',
    },
  };

  /* ------------------------------------------------------------------------------------------
   * Configuration
   * ---------------------------------------------------------------------------------------- */

  /**
   * Read the widget settings: the element's own data-* attributes win over the script tag's.
   * @param {HTMLElement} element
   * @returns {{server: string, title: string, color: string}}
   */
  function readConfig(element) {
    const pick = (name) => element.getAttribute(name) || (SCRIPT && SCRIPT.getAttribute(name)) || '';
    return {
      server: pick('data-server') || scriptOrigin(),
      title: pick('data-title') || DEFAULT_TITLE,
      color: pick('data-color') || DEFAULT_COLOR,
    };
  }

  /** The origin this file was loaded from, or the page's own origin for an inline copy. */
  function scriptOrigin() {
    try {
      return new URL(SCRIPT.src, window.location.href).origin;
    } catch (error) {
      return window.location.origin;
    }
  }

  /**
   * The visitor socket address for a server URL: http -> ws, https -> wss, plus the socket path.
   * @param {string} server e.g. "https://clinic.example"
   */
  function socketUrl(server) {
    const url = new URL(server, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.pathname = url.pathname.replace(/\/+$/, '') + SOCKET_PATH;
    url.search = '';
    url.hash = '';
    return url.href;
  }

  /**
   * The accent colour and the text colours that stay readable (WCAG AA, 4.5:1) with it.
   * An unusable data-color falls back to the default.
   * @param {string} value any CSS colour
   * accentText colours accent-coloured text and focus rings on white; a light accent gets a dark one.
   * @returns {{accent: string, onAccent: string, accentText: string}}
   */
  function accentColors(value) {
    const rgb = parseColor(value) || parseColor(DEFAULT_COLOR);
    const accent = '#' + rgb.map((c) => c.toString(16).padStart(2, '0')).join('');
    const white = [255, 255, 255];
    const ink = [17, 24, 39];
    const readableOnWhite = contrast(rgb, white) >= 4.5;
    return {
      accent,
      onAccent: contrast(rgb, white) >= contrast(rgb, ink) ? '#ffffff' : '#111827',
      accentText: readableOnWhite ? accent : '#1b2430',
    };
  }

  /** A CSS colour as [r, g, b], or null if it is not an opaque colour. */
  function parseColor(value) {
    if (!window.CSS || !CSS.supports('color', value)) return null;
    const context = document.createElement('canvas').getContext('2d');
    if (!context) return null;
    context.fillStyle = value;
    const match = /^#([0-9a-f]{6})$/i.exec(context.fillStyle);
    if (!match) return null;
    return [0, 2, 4].map((i) => parseInt(match[1].slice(i, i + 2), 16));
  }

  /** WCAG contrast ratio of two [r, g, b] colours. */
  function contrast(a, b) {
    const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (light + 0.05) / (dark + 0.05);
  }

  function luminance(rgb) {
    const [r, g, b] = rgb.map((c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }

  /* ------------------------------------------------------------------------------------------
   * Storage: one localStorage key, {session_id, token, greeted}; "End chat and clear" removes it
   * ---------------------------------------------------------------------------------------- */

  /** The visitor's conversation credentials; every call survives a browser that blocks storage. */
  const SessionStore = {
    /** @returns {{session_id?: string, token?: string, greeted?: boolean}} */
    load() {
      try {
        const value = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || '{}');
        return value && typeof value === 'object' ? value : {};
      } catch (error) {
        return {};
      }
    },

    /** Remember the confirmed session; the greeting flag survives only for the same session. */
    save(sessionId, token) {
      const previous = this.load();
      const greeted = previous.session_id === sessionId && previous.greeted === true;
      this.write({ session_id: sessionId, token: token, greeted: greeted });
    },

    /** Remember that the greeting was requested for this session. */
    markGreeted(sessionId) {
      const current = this.load();
      if (current.session_id === sessionId) this.write(Object.assign(current, { greeted: true }));
    },

    isGreeted(sessionId) {
      const current = this.load();
      return current.session_id === sessionId && current.greeted === true;
    },

    hasSession() {
      return Boolean(this.load().session_id);
    },

    /** Forget the conversation on this device ("End chat and clear"). */
    clear() {
      try {
        window.localStorage.removeItem(STORAGE_KEY);
      } catch (error) {
        /* Storage blocked: there was nothing stored. */
      }
    },

    write(value) {
      try {
        window.localStorage.setItem(STORAGE_KEY, JSON.stringify(value));
      } catch (error) {
        /* Storage blocked or full: the chat still works, it just won't survive a reload. */
      }
    },
  };

  /* ------------------------------------------------------------------------------------------
   * Transport: the websocket, JSON frames, reconnection with backoff
   * ---------------------------------------------------------------------------------------- */

  /**
   * A self-healing websocket that speaks JSON frames. It knows nothing about the chat.
   *
   * onstatus(state) reports "connecting", "open", "offline" (closed, a retry is scheduled) and
   * "closed" (the server closed with 1008 policy violation; no more retries).
   * onmessage(frame) receives each frame that parsed as a JSON object.
   */
  class Transport {
    /** @param {string} url ws:// or wss:// address */
    constructor(url) {
      this.url = url;
      this.socket = null;
      this.timer = null;
      this.attempt = 0;
      this.stopped = true;
      /** @type {(frame: object) => void} */
      this.onmessage = () => {};
      /** @type {(state: string) => void} */
      this.onstatus = () => {};
      this.retryNow = this.retryNow.bind(this);
    }

    /** Start connecting (no-op if already connected or waiting to retry). */
    connect() {
      this.stopped = false;
      window.addEventListener('online', this.retryNow);
      if (!this.socket && !this.timer) this.open();
    }

    /**
     * Send one frame.
     * @returns {boolean} true if it was handed to an open socket, false if not sent at all
     */
    send(frame) {
      if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
      this.socket.send(JSON.stringify(frame));
      return true;
    }

    /** The connection is working: the next outage starts again from the shortest delay. */
    markHealthy() {
      this.attempt = 0;
    }

    /** Stop for good (the element left the page). */
    close() {
      this.stopped = true;
      window.removeEventListener('online', this.retryNow);
      clearTimeout(this.timer);
      this.timer = null;
      if (this.socket) {
        this.socket.onclose = null;
        this.socket.close(1000);
        this.socket = null;
      }
    }

    /** @private */
    open() {
      this.timer = null;
      this.onstatus('connecting');
      let socket;
      try {
        socket = new WebSocket(this.url);
      } catch (error) {
        this.scheduleRetry();
        return;
      }
      this.socket = socket;
      socket.onopen = () => this.onstatus('open');
      socket.onmessage = (event) => this.receive(event.data);
      socket.onclose = (event) => this.handleClose(event.code);
    }

    /** @private */
    receive(data) {
      let frame;
      try {
        frame = JSON.parse(data);
      } catch (error) {
        return;
      }
      if (frame && typeof frame === 'object' && !Array.isArray(frame)) this.onmessage(frame);
    }

    /** @private */
    handleClose(code) {
      this.socket = null;
      if (this.stopped) return;
      if (code === POLICY_VIOLATION) {
        this.stopped = true;
        this.onstatus('closed');
        return;
      }
      this.onstatus('offline');
      this.scheduleRetry();
    }

    /** @private 1s, 2s, 4s ... capped at 30s, each +/-25% so many visitors don't retry in step. */
    scheduleRetry() {
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, Math.min(this.attempt, 10)));
      const delay = Math.min(BACKOFF_MAX_MS, base * (0.75 + Math.random() * 0.5));
      this.attempt += 1;
      this.timer = setTimeout(() => this.open(), delay);
    }

    /** @private The browser came back online: skip the rest of the wait. */
    retryNow() {
      if (!this.timer || this.stopped) return;
      clearTimeout(this.timer);
      this.open();
    }
  }

  /**
   * The visitor's "typing" signal for a coordinator: on at the first keystroke, off after 3 s
   * without one or when the message is sent. A change goes out at most once per 2 s; one that
   * is undone meanwhile is never sent.
   */
  class TypingSignal {
    /** @param {(on: boolean) => void} sendFrame */
    constructor(sendFrame) {
      this.sendFrame = sendFrame;
      this.wanted = false;
      this.sent = false;
      this.lastChange = 0;
      this.idleTimer = null;
      this.flushTimer = null;
    }

    keystroke() {
      clearTimeout(this.idleTimer);
      this.idleTimer = setTimeout(() => this.stop(), TYPING_IDLE_MS);
      this.set(true);
    }

    stop() {
      clearTimeout(this.idleTimer);
      this.set(false);
    }

    /** @private */
    set(on) {
      this.wanted = on;
      if (this.flushTimer || this.wanted === this.sent) return;
      const wait = this.lastChange + TYPING_MIN_GAP_MS - Date.now();
      if (wait > 0) {
        this.flushTimer = setTimeout(() => {
          this.flushTimer = null;
          this.set(this.wanted);
        }, wait);
        return;
      }
      this.sent = on;
      this.lastChange = Date.now();
      this.sendFrame(on);
    }
  }

  /* ------------------------------------------------------------------------------------------
   * DOM helpers
   * ---------------------------------------------------------------------------------------- */

  /**
   * Create an element. Strings among the children become text nodes (never HTML).
   * props: "text" sets textContent, "class" the class, "on<event>" a listener, anything else an attribute.
   */
  function h(tag, props, children) {
    const element = document.createElement(tag);
    setProps(element, props);
    appendChildren(element, children);
    return element;
  }

  /** Create an SVG icon from path data; purely decorative. */
  function icon(pathData) {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', pathData);
    svg.append(path);
    return svg;
  }

  function setProps(element, props) {
    Object.keys(props || {}).forEach((key) => {
      const value = props[key];
      if (value === null || value === undefined || value === false) return;
      if (key === 'text') element.textContent = value;
      else if (key === 'class') element.className = value;
      else if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
      else element.setAttribute(key, value === true ? '' : String(value));
    });
  }

  function appendChildren(element, children) {
    [].concat(children || []).forEach((child) => {
      if (child !== null && child !== undefined && child !== '') element.append(child);
    });
  }

  const ICONS = {
    chat: 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z',
    close: 'M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6l5.6-5.6L5 6.4z',
    send: 'M3 20.5 21 12 3 3.5v6.6l12.4 1.9L3 13.9z',
    person: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm0 2c-4 0-8 2-8 5v1h16v-1c0-3-4-5-8-5z',
    endChat: 'M9 3h6l1 2h4v2H4V5h4l1-2zM6 9h12l-1 12H7L6 9zm4 2v8h1.5v-8H10zm2.5 0v8H14v-8h-1.5z',
  };

  /* ------------------------------------------------------------------------------------------
   * Text, links, time
   * ---------------------------------------------------------------------------------------- */

  const URL_PATTERN = /https?:\/\/[^\s<>"]+/gi;

  /** True for an absolute http(s) URL. */
  function isHttpUrl(value) {
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
  function linkify(text) {
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
  function toDate(seconds) {
    const date = typeof seconds === 'number' && isFinite(seconds) ? new Date(seconds * 1000) : new Date();
    return isNaN(date.getTime()) ? new Date() : date;
  }

  /** <time> showing HH:MM in the visitor's local time. */
  function renderTime(date) {
    const hhmm = String(date.getHours()).padStart(2, '0') + ':' + String(date.getMinutes()).padStart(2, '0');
    return h('time', { class: 'meta__time', datetime: date.toISOString(), text: hhmm });
  }

  /** The usable quick replies of a message: [{title, payload}] with text in both. */
  function buttonsOf(item) {
    if (!item || !Array.isArray(item.buttons)) return [];
    return item.buttons
      .filter((b) => b && typeof b.title === 'string' && b.title.trim())
      .map((b) => ({ title: b.title, payload: typeof b.payload === 'string' && b.payload ? b.payload : b.title }));
  }

  /** The crisis banner text a message carries, or null. */
  function crisisBannerOf(item) {
    const custom = item && item.custom;
    if (!custom || typeof custom !== 'object' || custom.type !== 'crisis_banner') return null;
    return typeof custom.text === 'string' ? custom.text : '';
  }

  /* ------------------------------------------------------------------------------------------
   * Render functions: one per message kind. Each returns a detached element.
   * ---------------------------------------------------------------------------------------- */

  /**
   * A visitor's message.
   * @param {string} text what the visitor sees (a quick reply's title, not its payload)
   * @param {Date} date
   */
  function renderUserMessage(text, date) {
    return h('div', { class: 'msg msg--user', 'data-testid': 'msg', 'data-from': 'user' }, [
      h('div', { class: 'bubble' }, [
        h('span', { class: 'sr-only', text: TEXT.you }),
        h('span', { class: 'msg__text', 'data-testid': 'msg-text', text: text }),
      ]),
      h('div', { class: 'meta' }, [renderTime(date), h('span', { class: 'meta__hint', 'data-testid': 'msg-hint' })]),
    ]);
  }

  /**
   * An assistant message: text with links and an optional image.
   * @param {{text?: string, image?: string, timestamp?: number}} item
   */
  function renderBotMessage(item) {
    return renderIncoming(item, 'bot', null);
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
  function renderSystemNote(text) {
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
  function renderQuickReplies(buttons, onPick) {
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
  function renderCrisisBanner(text) {
    return h('div', { class: 'crisis', 'data-testid': 'crisis-banner', role: 'alert' }, [
      h('strong', { class: 'crisis__label', text: TEXT.crisisLabel }),
      h('span', { class: 'crisis__text' }, linkify(text)),
    ]);
  }

  /** Shared body of bot and agent messages; null when there is nothing to show. */
  function renderIncoming(item, from, label) {
    const text = typeof item.text === 'string' ? item.text : '';
    const image = renderImage(item.image);
    if (!text.trim() && !image) return null;
    return h('div', { class: 'msg msg--' + from, 'data-testid': 'msg', 'data-from': from }, [
      label ? h('div', { class: 'msg__who', text: label }) : h('span', { class: 'sr-only', text: TEXT.assistant }),
      h('div', { class: 'bubble' }, [h('span', { class: 'msg__text', 'data-testid': 'msg-text' }, linkify(text)), image]),
      h('div', { class: 'meta' }, renderTime(toDate(item.timestamp))),
    ]);
  }

  /** The right render function for an incoming (bot or agent) message. */
  function renderIncomingMessage(item) {
    return item.from === 'agent' ? renderAgentMessage(item) : renderBotMessage(item);
  }

  /* ------------------------------------------------------------------------------------------
   * View: the static layout and the small state changes on it
   * ---------------------------------------------------------------------------------------- */

  /**
   * Builds the launcher and panel inside a shadow root and changes them on request.
   * It holds no conversation state; ClinicChat tells it what to show.
   */
  class ChatView {
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

  /* ------------------------------------------------------------------------------------------
   * Styles (inside the shadow root, so the page and the widget don't affect each other)
   * ---------------------------------------------------------------------------------------- */

  const CSS_TEXT = `
:host { all: initial; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
:focus { outline: none; }
:focus-visible { outline: 3px solid var(--cc-accent-text); outline-offset: 2px; }

.launcher, .panel {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 15px; line-height: 1.45; color: #1b2430; z-index: 2147483000;
}
button { font: inherit; cursor: pointer; }
button:disabled { cursor: not-allowed; opacity: .6; }
svg { width: 20px; height: 20px; fill: currentColor; flex: none; }

.launcher {
  position: fixed; right: 20px; bottom: 20px; width: 60px; height: 60px; border: 0; border-radius: 50%;
  background: var(--cc-accent); color: var(--cc-on-accent);
  display: grid; place-items: center; box-shadow: 0 6px 20px rgba(16, 24, 40, .22);
  transition: transform .15s ease;
}
.launcher:hover { transform: translateY(-2px); }
.launcher svg { width: 28px; height: 28px; }
.badge {
  position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; padding: 0 6px;
  border-radius: 11px; background: #b42318; color: #fff; border: 2px solid #fff;
  font-size: 12px; font-weight: 700; line-height: 18px; text-align: center;
}

.panel {
  position: fixed; right: 20px; bottom: 20px; width: 380px; height: min(640px, calc(100vh - 40px));
  display: flex; flex-direction: column; overflow: hidden;
  background: #fff; border-radius: 16px; border: 1px solid #dde2e8;
  box-shadow: 0 16px 48px rgba(16, 24, 40, .18);
}

.header {
  display: flex; align-items: center; gap: 12px; padding: 14px 12px 14px 18px;
  background: var(--cc-accent); color: var(--cc-on-accent);
}
.header__titles { flex: 1; min-width: 0; }
.header__title { margin: 0; font-size: 16px; font-weight: 650; line-height: 1.3; color: inherit; }
.header__subtitle { margin: 0; font-size: 13px; color: inherit; }
.icon-button {
  display: grid; place-items: center; width: 40px; height: 40px; border: 0; border-radius: 50%;
  background: transparent; color: inherit;
}
.icon-button:hover { background: rgba(255, 255, 255, .16); }
.icon-button svg { width: 20px; height: 20px; }

.confirm {
  display: flex; flex-direction: column; gap: 6px; margin: 0; padding: 12px 16px;
  background: #fff; border-bottom: 1px solid #e4e7ec; color: #1b2430;
}
.confirm__question { margin: 0; font-weight: 650; }
.confirm__detail { margin: 0; font-size: 13px; color: #475467; }
.confirm__actions { display: flex; gap: 8px; justify-content: flex-end; margin-top: 4px; }
.confirm__cancel, .confirm__end { padding: 6px 14px; border-radius: 999px; font-size: 14px; }
.confirm__cancel { border: 1px solid #c4cad3; background: #fff; color: #344054; }
.confirm__end { border: 0; background: #b42318; color: #fff; }
.header :focus-visible { outline-color: var(--cc-on-accent); outline-offset: -3px; }

.crisis {
  display: flex; flex-direction: column; gap: 2px; margin: 0; padding: 10px 16px;
  background: #fff6e6; border-bottom: 1px solid #f1d39a; color: #3b2a10; font-size: 14px;
}
.crisis__label { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: #7a3e00; }
.crisis a { color: #7a3e00; }

.status {
  margin: 0; padding: 6px 16px; background: #f2f4f7; border-bottom: 1px solid #e4e7ec;
  color: #475467; font-size: 13px; text-align: center;
}

.log {
  flex: 1; overflow-y: auto; padding: 16px 14px 8px; background: #f8f9fb;
  display: flex; flex-direction: column; gap: 12px; overscroll-behavior: contain;
}
.log:focus-visible { outline-offset: -3px; }

.msg { display: flex; flex-direction: column; max-width: 85%; }
.msg--user { align-self: flex-end; align-items: flex-end; }
.msg--bot, .msg--agent { align-self: flex-start; align-items: flex-start; }
.msg__who { font-size: 12px; font-weight: 600; color: #475467; margin: 0 0 3px 4px; }
.bubble {
  padding: 9px 13px; border-radius: 16px; white-space: pre-wrap; overflow-wrap: anywhere;
}
.msg--bot .bubble { background: #fff; border: 1px solid #e1e5ea; border-bottom-left-radius: 4px; }
.msg--agent .bubble { background: #eef6f1; border: 1px solid #cfe3d6; border-bottom-left-radius: 4px; }
.msg--user .bubble { background: var(--cc-accent); color: var(--cc-on-accent); border-bottom-right-radius: 4px; }
.msg--user a { color: inherit; }
.bubble a { color: var(--cc-accent-text); text-decoration: underline; text-underline-offset: 2px; }
.msg__text:empty { display: none; }
.msg__image { display: block; max-width: 100%; height: auto; margin-top: 6px; border-radius: 10px; }
.meta { display: flex; gap: 6px; margin: 3px 4px 0; font-size: 12px; color: #5b6675; }
.meta__hint:empty { display: none; }
.msg[data-pending] .bubble { box-shadow: inset 0 0 0 2px rgba(255, 255, 255, .5); }

.note {
  align-self: center; max-width: 90%; padding: 4px 10px; border-radius: 10px;
  background: #eef1f5; color: #475467; font-size: 13px; text-align: center;
}

.quick-replies { display: flex; flex-wrap: wrap; gap: 8px; margin-top: -2px; }
.quick-reply {
  padding: 7px 13px; border-radius: 999px; border: 1.5px solid var(--cc-accent);
  background: #fff; color: var(--cc-accent-text); font-size: 14px; line-height: 1.3; text-align: left;
}
.quick-reply:hover { background: #f0f5fb; }

.typing { display: flex; gap: 4px; align-items: center; padding: 4px 22px 8px; background: #f8f9fb; }
.typing__dot {
  width: 7px; height: 7px; border-radius: 50%; background: #667085;
  animation: cc-bounce 1.2s infinite ease-in-out;
}
.typing__dot:nth-child(3) { animation-delay: .15s; }
.typing__dot:nth-child(4) { animation-delay: .3s; }
@keyframes cc-bounce { 0%, 80%, 100% { opacity: .35; transform: translateY(0); } 40% { opacity: 1; transform: translateY(-3px); } }
@media (prefers-reduced-motion: reduce) {
  .typing__dot { animation: none; }
  .launcher { transition: none; }
}

.footer { padding: 8px 12px 12px; border-top: 1px solid #e4e7ec; background: #fff; }
.footer__actions { display: flex; margin-bottom: 8px; }
.human {
  display: inline-flex; align-items: center; gap: 6px; padding: 5px 12px 5px 9px;
  border: 1px solid #c4cad3; border-radius: 999px; background: #fff; color: #344054; font-size: 13px;
}
.human svg { width: 16px; height: 16px; }
.human:hover { background: #f2f4f7; }
.composer { display: flex; align-items: flex-end; gap: 8px; }
.input {
  flex: 1; min-height: 42px; max-height: 128px; resize: none; padding: 10px 12px;
  border: 1px solid #7b8594; border-radius: 12px; background: #fff; color: #1b2430;
  font: inherit; font-size: 16px; line-height: 1.35;
}
.input::placeholder { color: #667085; }
.input:focus-visible { outline-offset: 0; border-color: var(--cc-accent-text); }
.send {
  display: grid; place-items: center; width: 42px; height: 42px; border: 0; border-radius: 50%;
  background: var(--cc-accent); color: var(--cc-on-accent);
}

@media (max-width: 480px) {
  .panel {
    right: 0; bottom: 0; left: 0; top: 0; width: 100%; height: 100%; max-height: none;
    border-radius: 0; border: 0;
  }
  .launcher { right: 16px; bottom: 16px; }
  .msg { max-width: 90%; }
}
`;

  /** Put the styles into the shadow root (a constructed sheet passes strict page CSPs). */
  function adoptStyles(root) {
    if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet && 'replaceSync' in CSSStyleSheet.prototype) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS_TEXT);
      root.adoptedStyleSheets = [sheet];
    } else {
      root.append(h('style', { text: CSS_TEXT }));
    }
  }

  /* ------------------------------------------------------------------------------------------
   * The element: conversation state, protocol frames, wiring
   * ---------------------------------------------------------------------------------------- */

  /**
   * <clinic-chat>: the chat launcher and panel.
   *
   * It connects when a stored conversation exists (so replies that arrived while the visitor was
   * away are counted) or when the panel is first opened. Messages typed while offline wait in an
   * outbox, in order, and go out once the next session_confirm arrives.
   *
   * "End chat and clear" sends session_end (with the stored id and token, so it also works on a
   * new socket), forgets the session in storage and clears the log; the next message starts a
   * new conversation. Until then no session is requested, even on reconnect.
   */
  class ClinicChat extends HTMLElement {
    constructor() {
      super();
      this.attachShadow({ mode: 'open' });
      this.view = null;
      this.transport = null;
      this.started = false;
      this.sessionId = null;
      this.ready = false;            // socket open and session confirmed
      this.connection = 'idle';      // idle | ok | reconnecting | closed
      this.handoffState = null;      // null | waiting | connected | ended | callback
      this.handoffText = '';
      this.typingSignal = new TypingSignal((on) => this.transport.send({ type: 'typing', on: on }));
      this.historyEmpty = false;
      this.panelOpened = false;
      this.unread = 0;
      /** @type {{message: string, node: HTMLElement}[]} visitor messages not yet handed to the socket */
      this.outbox = [];
      this.ended = false;            // the visitor ended the chat; no session until their next message
      this.endedIds = new Set();     // conversations ended here: a late session_confirm for one is ignored
      this.pendingEnd = null;        // a session_end frame waiting for the socket
    }

    connectedCallback() {
      if (!this.view) this.setup();
      if (this.started || SessionStore.hasSession()) this.start();
    }

    disconnectedCallback() {
      if (this.transport) this.transport.close();
      this.ready = false;
    }

    /** Open the panel (also used by the launcher). */
    open() {
      this.view.open();
      this.panelOpened = true;
      this.setUnread(0);
      this.start();
      this.greetIfNeeded();
    }

    /** Close the panel; focus returns to the launcher. */
    close() {
      if (this.view.isOpen) this.view.close();
    }

    /** @private */
    setup() {
      const config = readConfig(this);
      const colors = accentColors(config.color);
      this.style.setProperty('--cc-accent', colors.accent);
      this.style.setProperty('--cc-on-accent', colors.onAccent);
      this.style.setProperty('--cc-accent-text', colors.accentText);
      adoptStyles(this.shadowRoot);
      this.view = new ChatView(this.shadowRoot, config, {
        onOpen: () => this.open(),
        onClose: () => this.close(),
        onSubmit: (text) => this.sendMessage(text, text),
        onHuman: () => this.sendMessage(ASK_HUMAN, ASK_HUMAN_TITLE),
        onTyping: (hasText) => this.onVisitorTyping(hasText),
        onEndChat: () => this.endChat(),
      });
      this.transport = new Transport(socketUrl(config.server));
      this.transport.onstatus = (state) => this.handleStatus(state);
      this.transport.onmessage = (frame) => this.handleFrame(frame);
    }

    /** @private Connect (a no-op while connected or waiting to retry). */
    start() {
      this.started = true;
      if (this.connection !== 'closed') this.transport.connect();
    }

    /* ---- connection ---- */

    /** @private */
    handleStatus(state) {
      if (state === 'open') {
        if (this.pendingEnd && this.transport.send(this.pendingEnd)) this.pendingEnd = null;
        if (!this.ended) {
          this.transport.send(this.sessionRequest());
          return;
        }
        this.connection = 'ok';
        this.transport.markHealthy();
        this.renderStatus();
        return;
      }
      if (state === 'connecting') return;
      this.ready = false;
      this.view.setTyping(false);
      if (state === 'offline') this.connection = 'reconnecting';
      if (state === 'closed') this.closeForGood();
      this.renderStatus();
    }

    /** @private The server ended the chat (policy violation): nothing more is sent. */
    closeForGood() {
      this.connection = 'closed';
      this.view.disableComposer();
      this.outbox.forEach((item) => this.view.setHint(item.node, TEXT.notSent));
      this.outbox = [];
    }

    /** @private */
    sessionRequest() {
      const stored = SessionStore.load();
      const frame = { type: 'session_request' };
      if (stored.session_id) frame.session_id = stored.session_id;
      if (stored.token) frame.token = stored.token;
      return frame;
    }

    /** @private The status line: connection trouble first, otherwise the hand-off state. */
    renderStatus() {
      if (this.connection === 'closed') this.view.setStatus(TEXT.closed);
      else if (this.connection === 'reconnecting') this.view.setStatus(TEXT.reconnecting);
      else this.view.setStatus(this.handoffText);
    }

    /* ---- incoming frames ---- */

    /** @private */
    handleFrame(frame) {
      const handlers = {
        session_confirm: () => this.onSessionConfirm(frame),
        bot_uttered: () => this.onBotUttered(frame),
        typing: () => this.view.setTyping(frame.on === true),
        handoff: () => this.onHandoff(frame),
        error: () => this.onError(frame),
        session_ended: () => this.onSessionEnded(frame),
      };
      if (Object.prototype.hasOwnProperty.call(handlers, frame.type)) handlers[frame.type]();
    }

    /**
     * @private A confirmed session: store it, redraw the conversation from history, then greet
     * (first open of an empty conversation) and send whatever waited in the outbox.
     */
    onSessionConfirm(frame) {
      if (typeof frame.session_id !== 'string' || !frame.session_id) return;
      if (this.ended || this.endedIds.has(frame.session_id)) return;
      if (frame.session_id !== this.sessionId) this.view.setBanner(null);
      this.setHandoff(handoffOf(frame.handoff));
      this.sessionId = frame.session_id;
      SessionStore.save(frame.session_id, frame.token);
      const history = Array.isArray(frame.history) ? frame.history.filter((item) => item && typeof item === 'object') : [];
      this.renderHistory(history);
      this.historyEmpty = history.length === 0;
      this.ready = true;
      this.connection = 'ok';
      this.transport.markHealthy();
      this.renderStatus();
      this.greetIfNeeded();
      this.flushOutbox();
    }

    /** @private Replace the log with the conversation so far, then re-add unsent messages. */
    renderHistory(history) {
      this.view.clear();
      let lastButtons = [];
      history.forEach((item) => {
        if (item.from === 'user') {
          const text = userItemText(item, lastButtons);
          if (text) this.view.append(renderUserMessage(text, toDate(item.timestamp)));
          return;
        }
        const banner = crisisBannerOf(item);
        if (banner !== null) this.view.setBanner(banner);
        lastButtons = buttonsOf(item);
        const node = renderIncomingMessage(item);
        if (node) this.view.append(node);
      });
      this.outbox.forEach((item) => this.view.append(item.node));
      const last = history[history.length - 1];
      if (last && last.from !== 'user' && !this.outbox.length) {
        this.view.showQuickReplies(buttonsOf(last), (button) => this.pickQuickReply(button));
      }
      this.view.scrollToEnd();
    }

    /* ---- ending the chat ---- */

    /**
     * "End chat and clear" (confirmed): the server ends the conversation for good, this device
     * forgets it, and the log is emptied. The next message starts a new conversation.
     */
    endChat() {
      const stored = SessionStore.load();
      const frame = { type: 'session_end' };
      if (stored.session_id && stored.token) {
        frame.session_id = stored.session_id;
        frame.token = stored.token;
      }
      const known = this.sessionId || stored.session_id;
      SessionStore.clear();
      this.forgetConversation(known);
      if (known && !this.transport.send(frame)) this.pendingEnd = frame;
    }

    /** @private The server (or another tab) ended this conversation. */
    onSessionEnded(frame) {
      if (typeof frame.session_id !== 'string' || frame.session_id !== this.sessionId) return;
      if (SessionStore.load().session_id === frame.session_id) SessionStore.clear();
      this.forgetConversation(frame.session_id);
    }

    /** @private Drop everything of the current conversation and wait for the visitor's next message. */
    forgetConversation(sessionId) {
      if (sessionId) this.endedIds.add(sessionId);
      this.ended = true;
      this.sessionId = null;
      this.ready = false;
      this.outbox = [];
      this.historyEmpty = true;
      this.typingSignal.stop();
      this.view.setTyping(false);
      this.view.clear();
      this.view.setBanner(null);
      this.setHandoff(null);
      this.setUnread(0);
      this.view.append(renderSystemNote(TEXT.ended));
    }

    /** @private A message from the assistant or a care-team member. */
    onBotUttered(frame) {
      this.view.setTyping(false);
      const handoff = handoffOf(frame.custom && frame.custom.handoff);
      if (handoff) this.setHandoff(handoff);
      this.historyEmpty = false;
      const banner = crisisBannerOf(frame);
      if (banner !== null) this.view.setBanner(banner);
      const node = renderIncomingMessage(frame);
      const buttons = buttonsOf(frame);
      if (node || buttons.length) this.view.clearQuickReplies();
      if (node) {
        this.view.append(node);
        if (!this.view.isOpen) this.setUnread(this.unread + 1);
      }
      if (buttons.length) this.view.showQuickReplies(buttons, (button) => this.pickQuickReply(button));
    }

    /** @private A `handoff` frame. */
    onHandoff(frame) {
      const handoff = handoffOf(frame);
      if (handoff) this.setHandoff(handoff);
    }

    /**
     * @private The hand-off state and its status line; null means none (plain bot conversation).
     * @param {{state: string, agent: string, message: string}|null} handoff
     */
    setHandoff(handoff) {
      this.handoffState = handoff ? handoff.state : null;
      this.handoffText = handoff ? handoff.message || TEXT.handoff[handoff.state](handoff.agent) : '';
      const withCareTeam = TYPING_RELAYED_IN.includes(this.handoffState);
      if (!withCareTeam) this.typingSignal.stop();
      this.view.setHumanOffered(!withCareTeam);
      this.renderStatus();
    }

    /** @private The visitor typed or cleared the input; relayed only while a coordinator may read. */
    onVisitorTyping(hasText) {
      if (hasText && this.ready && TYPING_RELAYED_IN.includes(this.handoffState)) this.typingSignal.keystroke();
      else this.typingSignal.stop();
    }

    /** @private Errors are shown as a quiet note; the conversation carries on. */
    onError(frame) {
      this.view.setTyping(false);
      const message = typeof frame.message === 'string' && frame.message.trim()
        ? frame.message
        : TEXT.errors[frame.code] || TEXT.errors.default;
      this.view.append(renderSystemNote(message));
    }

    /* ---- outgoing messages ---- */

    /** @private A quick reply sends its payload and shows its title. */
    pickQuickReply(button) {
      this.sendMessage(button.payload, button.title);
    }

    /**
     * Show the visitor's message at once and send it, or queue it until the session is confirmed.
     * @param {string} message what the server receives
     * @param {string} shown what the visitor sees in their bubble
     */
    sendMessage(message, shown) {
      if (this.connection === 'closed') return;
      if (this.ended) this.startAfresh();
      this.view.clearQuickReplies();
      const item = { message: message, node: renderUserMessage(shown, new Date()) };
      this.view.append(item.node, true);
      this.start();
      if (this.ready && !this.outbox.length && this.deliver(item)) return;
      this.outbox.push(item);
      this.view.setHint(item.node, TEXT.sending);
    }

    /** @private After "End chat and clear": ask for a new conversation (now, or when the socket opens). */
    startAfresh() {
      this.ended = false;
      this.view.clear();
      this.transport.send(this.sessionRequest());
    }

    /** @private Send the queued messages in order; stop at the first that cannot go. */
    flushOutbox() {
      while (this.outbox.length && this.ready && this.deliver(this.outbox[0])) this.outbox.shift();
    }

    /** @private @returns {boolean} true once the socket took the message */
    deliver(item) {
      if (!this.transport.send({ type: 'user_uttered', message: item.message })) return false;
      this.typingSignal.stop();
      this.historyEmpty = false;
      this.view.setHint(item.node, '');
      return true;
    }

    /** @private The first open of an empty conversation asks the server for its greeting, once. */
    greetIfNeeded() {
      if (!this.panelOpened || !this.ready || !this.historyEmpty) return;
      if (SessionStore.isGreeted(this.sessionId)) return;
      if (!this.transport.send({ type: 'user_uttered', message: GREET })) return;
      SessionStore.markGreeted(this.sessionId);
      this.historyEmpty = false;
    }

    /** @private */
    setUnread(count) {
      this.unread = count;
      this.view.setUnread(count);
    }
  }

  /**
   * What a visitor's history item shows: a button payload is shown as the title the visitor
   * clicked; other commands ("/greet") are not shown at all.
   * @param {{text?: string}} item
   * @param {{title: string, payload: string}[]} lastButtons the buttons of the message before it
   * @returns {string} empty for nothing to show
   */
  function userItemText(item, lastButtons) {
    const text = typeof item.text === 'string' ? item.text : '';
    const clicked = lastButtons.find((button) => button.payload === text);
    if (clicked) return clicked.title;
    if (text === ASK_HUMAN) return ASK_HUMAN_TITLE;
    return text.startsWith('/') ? '' : text;
  }

  /**
   * A hand-off description ({state, agent?, message?}: a `handoff` frame, session_confirm's
   * `handoff`, or a custom payload's `handoff`) checked and tidied, or null.
   * @returns {{state: string, agent: string, message: string}|null}
   */
  function handoffOf(value) {
    if (!value || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(TEXT.handoff, value.state)) {
      return null;
    }
    const text = (key) => (typeof value[key] === 'string' ? value[key].trim() : '');
    return { state: value.state, agent: text('agent'), message: text('message') };
  }

  window.customElements.define('clinic-chat', ClinicChat);

  /** Add one <clinic-chat> to the page unless the page placed its own. */
  function mount() {
    if (!document.querySelector('clinic-chat')) document.body.append(document.createElement('clinic-chat'));
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mount);
  else mount();
})();
