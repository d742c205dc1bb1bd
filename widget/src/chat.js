/**
 * <clinic-chat>: the element that wires the socket, the stored session and the view together, and
 * follows the visitor protocol's frames (widget/README.md).
 */
import { ReconnectingSocket } from '../../console/socket.js';
import { TypingSignal } from '../../console/typing.js';
import { accentColors, readConfig, socketUrl } from './config.js';
import { buttonsOf, crisisBannerOf, toDate } from './content.js';
import { AnswerFeedback } from './feedback.js';
import { renderIncomingMessage, renderSystemNote } from './messages.js';
import { DELIVERY, renderUserMessage, setDelivery } from './outgoing.js';
import { SessionStore } from './storage.js';
import { adoptStyles } from './styles.js';
import { ChatView } from './view.js';
import { ASK_HUMAN_TITLE, TEXT } from './words.js';

/** A close with 1008 (policy violation) ends the chat: no more retries. */
const POLICY_VIOLATION = 1008;
const GREET = '/greet';
const ASK_HUMAN = '/ask_human';
/** Hand-off states in which the visitor's typing is relayed to a coordinator. */
const TYPING_RELAYED_IN = ['waiting', 'connected'];

/**
 * <clinic-chat>: the chat launcher and panel.
 *
 * It connects when a stored conversation exists (so replies that arrived while the visitor was
 * away are counted) or when the panel is first opened.
 *
 * Every visitor message gets an id (crypto.randomUUID) and stays "Sending..." until the server's
 * `received` names it ("Sent"); an `error` naming it marks it "Not sent" with the reason and a
 * Retry button. Messages not yet confirmed are kept in storage and, after a reconnect or a
 * reload, sent again in order with the same ids (the server handles an id once), except those
 * the `session_confirm` history already holds. Messages typed while offline wait the same way.
 *
 * "End chat and clear" sends session_end (with the stored id and token, so it also works on a
 * new socket), forgets the session in storage and clears the log; the next message starts a
 * new conversation. Until then no session is requested, even on reconnect.
 */
export class ClinicChat extends HTMLElement {
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
    /** @type {{id: string, message: string, shown: string, at: number, state: string, node: HTMLElement}[]}
     *  the visitor's messages the server has not confirmed yet, oldest first */
    this.unconfirmed = [];
    this.agentName = '';           // the coordinator who wrote last (named in the header while connected)
    this.ended = false;            // the visitor ended the chat; no session until their next message
    this.endedIds = new Set();     // conversations ended here: a late session_confirm for one is ignored
    this.pendingEnd = null;        // a session_end frame waiting for the socket
  }

  connectedCallback() {
    if (!this.view) this.setup();
    if (this.started || SessionStore.hasSession() || this.unconfirmed.length) this.start();
  }

  disconnectedCallback() {
    if (this.transport) this.transport.stop();
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
    this.unconfirmed = SessionStore.unsent().map((item) => this.track(item, item.failed ? DELIVERY.failed : DELIVERY.sending));
    this.transport = new ReconnectingSocket(socketUrl(config.server), { finalCodes: [POLICY_VIOLATION] });
    this.transport.onstatus = (state) => this.handleStatus(state);
    this.transport.onframe = (frame) => this.handleFrame(frame);
    this.feedback = new AnswerFeedback((frame) => this.ready && this.transport.send(frame));
  }

  /** @private Connect (a no-op while connected or waiting to retry). */
  start() {
    this.started = true;
    if (this.connection !== 'closed') this.transport.start();
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
    this.unconfirmed.forEach((record) => {
      record.state = DELIVERY.failed;
      setDelivery(record.node, DELIVERY.failed, { note: TEXT.closed, canRetry: false });
    });
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
      typing: () => this.onTyping(frame),
      received: () => this.onReceived(frame),
      handoff: () => this.onHandoff(frame),
      error: () => this.onError(frame),
      session_ended: () => this.onSessionEnded(frame),
      feedback_saved: () => this.feedback.saved(frame),
    };
    if (Object.prototype.hasOwnProperty.call(handlers, frame.type)) handlers[frame.type]();
  }

  /**
   * @private A confirmed session: store it, redraw the conversation from history, then greet
   * (first open of an empty conversation) and send again every message not yet confirmed.
   */
  onSessionConfirm(frame) {
    if (typeof frame.session_id !== 'string' || !frame.session_id) return;
    if (this.ended || this.endedIds.has(frame.session_id)) return;
    if (frame.session_id !== this.sessionId) this.view.setBanner(null);
    this.view.setLimit(limitOf(frame.limits));
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
    this.resendUnconfirmed();
  }

  /**
   * @private Replace the log with the conversation so far, then re-add the messages not yet
   * confirmed; those the history holds are stored, so they count as confirmed.
   */
  renderHistory(history) {
    this.view.clear();
    let lastButtons = [];
    const stored = new Set();
    history.forEach((item) => {
      if (item.from === 'user') {
        if (typeof item.id === 'string') stored.add(item.id);
        const text = userItemText(item, lastButtons);
        if (text) this.view.append(sentMessage(text, toDate(item.timestamp), item.id));
        return;
      }
      if (item.from === 'agent' && typeof item.agent === 'string' && item.agent.trim()) this.agentName = item.agent.trim();
      const banner = crisisBannerOf(item);
      if (banner !== null) this.view.setBanner(banner);
      lastButtons = buttonsOf(item);
      const node = renderIncomingMessage(item, this.feedback);
      if (node) this.view.append(node);
    });
    this.unconfirmed = this.unconfirmed.filter((record) => !stored.has(record.id));
    this.keepUnconfirmed();
    this.unconfirmed.forEach((record) => this.view.append(record.node));
    const last = history[history.length - 1];
    if (last && last.from !== 'user' && !this.unconfirmed.length) this.offerQuickReplies(buttonsOf(last));
    this.renderSpeaker();
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
    this.unconfirmed = [];
    this.agentName = '';
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
    this.historyEmpty = false;
    if (frame.from === 'agent' && typeof frame.agent === 'string' && frame.agent.trim()) {
      this.agentName = frame.agent.trim();
      this.renderSpeaker();
    }
    const banner = crisisBannerOf(frame);
    if (banner !== null) this.view.setBanner(banner);
    const node = renderIncomingMessage(frame, this.feedback);
    const buttons = buttonsOf(frame);
    if (node || buttons.length) this.view.clearQuickReplies();
    if (node) {
      this.view.append(node);
      if (!this.view.isOpen) this.setUnread(this.unread + 1);
    }
    if (buttons.length) this.offerQuickReplies(buttons);
  }

  /**
   * @private Quick replies under the latest message, without the one that repeats the footer's
   * "Talk to a person" button while that button is shown.
   */
  offerQuickReplies(buttons) {
    const offered = !TYPING_RELAYED_IN.includes(this.handoffState);
    const shown = buttons.filter((button) => !(offered && button.payload === ASK_HUMAN
      && button.title.trim().toLowerCase() === ASK_HUMAN_TITLE.toLowerCase()));
    this.view.showQuickReplies(shown, (button) => this.pickQuickReply(button));
  }

  /**
   * @private Typing dots: a coordinator's ("Sam is typing") or the assistant's. While a person
   * has (or is about to take) the chat the assistant stays quiet, so its typing is not shown.
   */
  onTyping(frame) {
    const fromAgent = frame.from === 'agent';
    if (!fromAgent && TYPING_RELAYED_IN.includes(this.handoffState)) return;
    this.view.setTyping(frame.on === true, fromAgent ? this.agentName || null : null, fromAgent);
  }

  /** @private Who the header shows: the coordinator while one has the chat, else the assistant. */
  renderSpeaker() {
    this.view.setSpeaker(this.handoffState === 'connected' ? { name: this.agentName } : null);
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
    if (handoff && handoff.state === 'connected' && handoff.agent) this.agentName = handoff.agent;
    this.handoffText = handoff ? handoff.message || TEXT.handoff[handoff.state](handoff.agent) : '';
    const withCareTeam = TYPING_RELAYED_IN.includes(this.handoffState);
    if (!withCareTeam) this.typingSignal.stop();
    this.view.setHumanOffered(!withCareTeam);
    this.renderSpeaker();
    this.renderStatus();
  }

  /** @private The visitor typed or cleared the input; relayed only while a coordinator may read. */
  onVisitorTyping(hasText) {
    if (hasText && this.ready && TYPING_RELAYED_IN.includes(this.handoffState)) this.typingSignal.keystroke();
    else this.typingSignal.stop();
  }

  /** @private The server stored a message: it is "Sent" and no longer kept for resending. */
  onReceived(frame) {
    const record = this.unconfirmed.find((item) => item.id === frame.id);
    if (!record) return;
    record.state = DELIVERY.sent;
    setDelivery(record.node, DELIVERY.sent);
    this.unconfirmed = this.unconfirmed.filter((item) => item !== record);
    this.keepUnconfirmed();
  }

  /**
   * @private An error about one of the visitor's waiting messages marks that message "Not sent",
   * with the reason and Retry, on the bubble itself; other errors are a quiet note. The
   * conversation carries on.
   */
  onError(frame) {
    if (this.feedback.failed(frame)) return;
    this.view.setTyping(false);
    const message = typeof frame.message === 'string' && frame.message.trim()
      ? frame.message
      : TEXT.errors[frame.code] || TEXT.errors.default;
    const record = typeof frame.id === 'string' && this.unconfirmed.find((item) => item.id === frame.id);
    if (!record) {
      this.view.append(renderSystemNote(message));
      return;
    }
    record.state = DELIVERY.failed;
    setDelivery(record.node, DELIVERY.failed, { note: message, onRetry: () => this.retry(record) });
    this.view.refit();
    this.keepUnconfirmed();
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
    const record = this.track({ id: newMessageId(), message: message, shown: shown, at: Date.now() }, DELIVERY.sending);
    this.unconfirmed.push(record);
    this.keepUnconfirmed();
    this.view.append(record.node, true);
    this.start();
    this.deliver(record);
  }

  /** @private Send a failed message again, with the same id; it moves to the end of the conversation. */
  retry(record) {
    if (this.connection === 'closed' || !this.unconfirmed.includes(record)) return;
    record.state = DELIVERY.sending;
    setDelivery(record.node, DELIVERY.sending);
    this.unconfirmed = this.unconfirmed.filter((item) => item !== record).concat([record]);
    this.keepUnconfirmed();
    this.view.clearQuickReplies();
    this.view.append(record.node, true);
    this.view.focusInput();
    this.deliver(record);
  }

  /**
   * @private A message record with its bubble.
   * @param {{id: string, message: string, shown: string, at: number}} item
   */
  track(item, state) {
    const record = { id: item.id, message: item.message, shown: item.shown, at: item.at, state: state };
    record.node = renderUserMessage(item.shown, new Date(item.at || Date.now()), item.id);
    setDelivery(record.node, state, state === DELIVERY.failed
      ? { note: TEXT.errors.default, onRetry: () => this.retry(record) } : undefined);
    return record;
  }

  /** @private Keep the messages not yet confirmed in storage (they survive a reload). */
  keepUnconfirmed() {
    SessionStore.saveUnsent(this.unconfirmed.map((record) => ({
      id: record.id, message: record.message, shown: record.shown, at: record.at,
      failed: record.state === DELIVERY.failed,
    })));
  }

  /** @private After "End chat and clear": ask for a new conversation (now, or when the socket opens). */
  startAfresh() {
    this.ended = false;
    this.view.clear();
    this.transport.send(this.sessionRequest());
  }

  /** @private Send again, in order, every message still waiting for its confirmation (not the failed ones). */
  resendUnconfirmed() {
    this.unconfirmed.filter((record) => record.state === DELIVERY.sending).forEach((record) => this.deliver(record));
  }

  /**
   * @private Hand a message to the socket if the session is ready; otherwise it waits for the
   * next session_confirm. It stays "Sending..." until `received`.
   */
  deliver(record) {
    if (!this.ready || !this.transport.send({ type: 'user_uttered', message: record.message, id: record.id })) return;
    this.typingSignal.stop();
    this.historyEmpty = false;
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

/** A new message id: random, and short ASCII text as the protocol asks. */
function newMessageId() {
  if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
  return 'm-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 12);
}

/** A visitor's message from the history: stored, so "Sent". */
function sentMessage(text, date, id) {
  const node = renderUserMessage(text, date, typeof id === 'string' ? id : '');
  setDelivery(node, DELIVERY.sent);
  return node;
}

/** session_confirm's `limits.max_message_chars`, or null when it does not give one. */
function limitOf(limits) {
  const value = limits && typeof limits === 'object' ? limits.max_message_chars : null;
  return Number.isInteger(value) && value > 0 ? value : null;
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
 * A hand-off description ({state, agent?, message?}: a `handoff` frame or session_confirm's
 * `handoff`) checked and tidied, or null.
 * @returns {{state: string, agent: string, message: string}|null}
 */
function handoffOf(value) {
  if (!value || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(TEXT.handoff, value.state)) {
    return null;
  }
  const text = (key) => (typeof value[key] === 'string' ? value[key].trim() : '');
  return { state: value.state, agent: text('agent'), message: text('message') };
}
