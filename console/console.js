/**
 * Staff console: start-up and wiring (the page's one module script; it imports the rest).
 *
 * Checks the login (`GET api/me`; 401 shows the sign-in form; its `timezone` is set once, so every time
 * is the clinic's), then opens the live socket and
 * routes its frames: `queue`/`ticket` to the queue (and the open ticket), messages, typing and
 * presence to the open ticket, or an unread mark on the ticket's row. New waiting tickets are
 * announced; urgent ones also chime and raise a desktop notification when alerts are on.
 */
import { Alerts } from './alerts.js';
import { Api, errorText } from './api.js';
import { AuditView } from './audit.js';
import { CallbacksView } from './callbacks.js';
import { LABELS, byId, field, isUrgent, setTimeZone, timeZoneAbbreviation, truncate } from './dom.js';
import { InsightsView } from './insights.js';
import { LoginView } from './login.js';
import { QueueView } from './queue.js';
import { ReviewTab } from './review.js';
import { SavedRepliesAdmin } from './saved-replies-admin.js';
import { ReconnectingSocket } from './socket.js';
import { TicketView } from './ticket.js';

/** The socket's states as the connection badge shows them (data-state, text). */
const CONNECTION = {
  connecting: ['connecting', 'Connecting...'], open: ['online', 'Live'], offline: ['offline', 'Reconnecting...'],
};
/** The server closed the console socket because the login ended (signed out, expired, disabled). */
const LOGIN_ENDED = 4401;
/** {"type": "ping"} this often keeps the coordinator "online" (the server's presence heartbeat). */
const PING_EVERY_MS = 20000;
const SESSION_ENDED = 'Your session has ended. Please sign in again.';
/** Tab id -> the panel it shows; Insights, Audit log and Saved replies are shown to admins only. */
const PANELS = {
  'queue-tab': 'queue-view', 'callbacks-tab': 'callbacks-view', 'conversations-tab': 'conversations-view',
  'insights-tab': 'insights-view', 'audit-tab': 'audit-view', 'saved-replies-tab': 'saved-replies-view',
};
const TABS = Object.keys(PANELS);
const ADMIN_TABS = ['insights-tab', 'audit-tab', 'saved-replies-tab'];

class StaffConsole {
  constructor() {
    this.user = null;
    this.socket = null;
    this.seenFirstQueue = false;
    this.login = new LoginView((user) => this.start(user));
    this.queue = new QueueView({
      list: byId('queue'), empty: byId('queue-empty'), count: byId('queue-count'),
      handedBack: byId('handed-back'), handedBackSection: byId('handed-back-section'),
    }, (id) => this.openTicket(id));
    this.ticket = new TicketView({
      me: () => this.user,
      onTicket: (ticket) => { if (ticket) this.queue.update(ticket); },
      onClosed: () => byId('queue-heading').focus(),
      onTranscript: (id) => this.openConversation(id),
    });
    this.callbacks = new CallbacksView((id) => this.openConversation(id));
    this.savedReplies = new SavedRepliesAdmin();
    this.review = new ReviewTab();
    this.insights = new InsightsView((id) => this.openConversation(id));
    this.audit = new AuditView();
    Api.onUnauthorized = () => this.signedOut(SESSION_ENDED);
    this.bind();
    setInterval(() => {
      this.queue.tick();
      this.ticket.tick();
    }, 1000);
  }

  /** First load: signed in already (cookie) or not. */
  async boot() {
    try {
      this.start(await Api.me());
    } catch (error) {
      if (error.status !== 401) this.login.show(errorText(error, 'The console could not start. Reload the page.'));
    }
  }

  /** @private */
  bind() {
    byId('logout').addEventListener('click', () => this.logout());
    byId('notify-enable').addEventListener('click', async () => {
      await Alerts.requestNotifications();
      this.renderNotifyButton();
    });
    const unlockOnce = () => {
      Alerts.unlock();
      document.removeEventListener('pointerdown', unlockOnce);
      document.removeEventListener('keydown', unlockOnce);
    };
    document.addEventListener('pointerdown', unlockOnce);
    document.addEventListener('keydown', unlockOnce);
    TABS.forEach((tabId) => {
      const tab = byId(tabId);
      tab.addEventListener('click', () => this.showTab(tab));
      tab.addEventListener('keydown', (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (!step) return;
        const tabs = TABS.map(byId).filter((node) => !node.hidden);
        const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
        this.showTab(next);
        next.focus();
      });
    });
  }

  /** @private Signed in: show the console and go live. */
  start(user) {
    this.user = user || {};
    setTimeZone(Api.timeZone);
    byId('time-zone').textContent = 'Times are the clinic\u2019s (' + timeZoneAbbreviation() + ')';
    this.login.hide();
    byId('console-view').hidden = false;
    byId('me-name').textContent = [this.user.first_name, this.user.email].filter(Boolean).join(' \u00b7 ');
    this.renderNotifyButton();
    ADMIN_TABS.forEach((id) => { byId(id).hidden = this.user.role !== 'admin'; });
    this.seenFirstQueue = false;
    this.socket = new ReconnectingSocket(liveSocketUrl(), { finalCodes: [LOGIN_ENDED], pingEveryMs: PING_EVERY_MS });
    this.socket.onframe = (frame) => {
      this.socket.markHealthy();
      this.handleFrame(frame);
    };
    this.socket.onstatus = (state) => this.handleStatus(state);
    this.socket.start();
    this.callbacks.load();
    byId('queue-heading').focus();
  }

  /** @private Signed out (button, or the server said 401): back to the sign-in form. */
  signedOut(message) {
    const wasSignedIn = this.user !== null;
    if (this.socket) this.socket.stop();
    this.socket = null;
    this.user = null;
    Api.csrfToken = null;
    this.queue.replaceAll([]);
    this.queue.select(null);
    this.ticket.reset();
    this.callbacks.clear();
    this.review.clear();
    this.insights.clear();
    this.audit.clear();
    this.savedReplies.clear();
    this.showTab(byId('queue-tab'));
    byId('console-view').hidden = true;
    this.login.show(wasSignedIn ? message : '');
  }

  /** @private */
  async logout() {
    try {
      await Api.logout();
    } catch (error) {
      /* Already signed out on the server, or unreachable: the page forgets the login either way. */
    }
    this.signedOut('');
    Alerts.announce('You are signed out.');
  }

  /** @private */
  showTab(tab) {
    TABS.forEach((id) => {
      const selected = id === tab.id;
      byId(id).setAttribute('aria-selected', selected ? 'true' : 'false');
      byId(id).tabIndex = selected ? 0 : -1;
      byId(PANELS[id]).hidden = !selected;
    });
    const onShow = {
      'callbacks-tab': () => this.callbacks.load(),
      'conversations-tab': () => this.review.show(this.user),
      'insights-tab': () => this.insights.show(),
      'audit-tab': () => this.audit.show(),
      'saved-replies-tab': () => this.savedReplies.show(),
    }[tab.id];
    if (onShow && this.user) onShow();
  }

  /** @private Open a conversation in the Conversations tab (from Insights, a call-back or a ticket). */
  openConversation(id) {
    this.showTab(byId('conversations-tab'));
    this.review.open(id);
  }

  /** @private */
  openTicket(id) {
    this.queue.select(id);
    this.ticket.open(id);
  }

  /** @private */
  handleStatus(state) {
    if (state === 'closed') {
      this.signedOut(SESSION_ENDED);
      return;
    }
    const node = byId('connection');
    node.setAttribute('data-state', CONNECTION[state][0]);
    node.textContent = CONNECTION[state][1];
    if (state === 'offline') Api.me().catch(() => {});
    if (state === 'open' && this.ticket.id !== null) this.ticket.load();
  }

  /** @private One frame from the server. */
  handleFrame(frame) {
    const handlers = {
      queue: () => this.onQueue(Array.isArray(frame.tickets) ? frame.tickets : []),
      ticket: () => this.onTicket(frame.ticket),
      visitor_message: () => { if (!this.ticket.visitorMessage(frame)) this.queue.markUnread(frame.ticket_id); },
      agent_message: () => { if (!this.ticket.agentMessage(frame)) this.queue.markUnread(frame.ticket_id); },
      bot_message: () => { if (!this.ticket.botMessage(frame)) this.queue.markUnread(frame.ticket_id); },
      visitor_typing: () => this.ticket.visitorTyping(frame),
      visitor_presence: () => this.ticket.visitorPresence(frame),
      visitor_crisis: () => this.alertCrisis(frame),
    };
    if (Object.prototype.hasOwnProperty.call(handlers, frame.type)) handlers[frame.type]();
  }

  /** @private The whole queue (on connect and after changes). */
  onQueue(tickets) {
    const fresh = this.queue.replaceAll(tickets);
    if (this.seenFirstQueue) fresh.forEach((ticket) => this.alertNew(ticket));
    this.seenFirstQueue = true;
    const open = this.ticket.id !== null ? this.queue.get(this.ticket.id) : null;
    if (open) this.ticket.update(open);
  }

  /** @private */
  onTicket(ticket) {
    if (!ticket || ticket.id === undefined) return;
    const before = this.queue.get(ticket.id);
    if (this.queue.update(ticket)) this.alertNew(ticket);
    else if (before && !isUrgent(before) && isUrgent(ticket)) this.alertEscalated(ticket);
    this.ticket.update(ticket);
    if (ticket.kind === 'callback') this.callbacks.load();
  }

  /** @private A new waiting ticket: always announced; urgent ones chime and notify. */
  alertNew(ticket) {
    const urgent = isUrgent(ticket);
    const what = (urgent ? 'New urgent ' : 'New ') + LABELS.kind(ticket).toLowerCase();
    const who = LABELS.visitor(ticket);
    Alerts.announce(what + ' from ' + who + '.');
    if (!urgent) return;
    Alerts.chime();
    Alerts.notify(what + ': ' + who, truncate(field(ticket, 'reason'), 120),
      'ticket-' + ticket.id, () => this.openTicket(String(ticket.id)));
  }

  /** @private An open ticket became urgent: the visitor wrote crisis language. */
  alertEscalated(ticket) {
    const text = 'Urgent: crisis language from ' + LABELS.visitor(ticket) + ' (ticket ' + ticket.id + ').';
    Alerts.announce(text);
    Alerts.chime();
    Alerts.notify('Visitor may be in crisis', text, 'ticket-' + ticket.id, () => this.openTicket(String(ticket.id)));
  }

  /** @private A visitor in a live chat wrote crisis language (they were sent the 988 resources). */
  alertCrisis(frame) {
    this.ticket.crisis(frame);
    const text = 'Crisis language from the visitor in ticket ' + frame.ticket_id +
      '. They were shown the 988 crisis resources.';
    Alerts.announce(text);
    Alerts.chime();
    Alerts.notify('Visitor may be in crisis', text, 'crisis-' + frame.ticket_id,
      () => this.openTicket(String(frame.ticket_id)));
    if (this.ticket.id !== String(frame.ticket_id) && this.ticket.id !== frame.ticket_id) {
      this.queue.markUnread(frame.ticket_id);
    }
  }

  /** @private The alerts button says what the browser allows. */
  renderNotifyButton() {
    const button = byId('notify-enable');
    if (!Alerts.notificationsSupported()) {
      button.textContent = 'Sound alerts on';
    } else if (Notification.permission === 'granted') {
      button.textContent = 'Alerts on';
    } else if (Notification.permission === 'denied') {
      button.textContent = 'Desktop alerts blocked';
      button.title = 'Allow notifications for this site in the browser settings to get desktop alerts.';
    } else {
      button.textContent = 'Turn on alerts';
    }
    button.setAttribute('aria-pressed', Alerts.notificationsOn() ? 'true' : 'false');
  }
}

/** The console socket address: `ws` next to the page, with the ws/wss scheme of the page. */
function liveSocketUrl() {
  const url = new URL('ws', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = '';
  url.hash = '';
  return url.href;
}

new StaffConsole().boot();
