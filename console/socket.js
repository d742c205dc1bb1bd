/**
 * A self-healing websocket that speaks JSON frames and knows nothing about what they mean.
 *
 * It reconnects after 1 s, 2 s, 4 s ... at most 30 s, each delay +/-25% so that many browsers do not
 * retry in step, and at once when the browser comes back online. The delays start again from 1 s
 * only after markHealthy(): the owner calls it once the server has really answered, so a server
 * that accepts a socket and closes it at once is not hammered. A close with one of `finalCodes`
 * ends it for good (no retry). With `pingEveryMs`, {"type": "ping"} goes out at that interval while
 * the socket is open.
 *
 * onstatus(state, close) reports 'connecting', 'open', 'offline' (closed, a retry is scheduled) and
 * 'closed' (a final close code; `close` is {code, reason}). onframe(frame) receives each frame that
 * parsed as a JSON object.
 *
 * Shared: the staff console imports this module, and widget/build.py copies it into the
 * widget's one file. Keep it free of anything that belongs to one of them.
 */

const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;

export class ReconnectingSocket {
  /**
   * @param {string} url ws:// or wss:// address
   * @param {{finalCodes?: number[], pingEveryMs?: number}} options
   */
  constructor(url, options) {
    this.url = url;
    this.finalCodes = (options && options.finalCodes) || [];
    this.pingEveryMs = (options && options.pingEveryMs) || 0;
    this.socket = null;
    this.retryTimer = null;
    this.pingTimer = null;
    this.attempt = 0;
    this.stopped = true;
    /** @type {(frame: object) => void} */
    this.onframe = () => {};
    /** @type {(state: 'connecting'|'open'|'offline'|'closed', close?: {code: number, reason: string}) => void} */
    this.onstatus = () => {};
    this.retryNow = this.retryNow.bind(this);
  }

  /** Start connecting (a no-op while connected or waiting to retry). */
  start() {
    this.stopped = false;
    window.addEventListener('online', this.retryNow);
    if (!this.socket && !this.retryTimer) this.open();
  }

  /** Close for good (signed out, the element left the page). */
  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.retryNow);
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopPing();
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close(1000);
      this.socket = null;
    }
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

  /** @private */
  open() {
    this.retryTimer = null;
    this.onstatus('connecting');
    let socket;
    try {
      socket = new WebSocket(this.url);
    } catch (error) {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.startPing();
      this.onstatus('open');
    };
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => this.handleClose(event);
  }

  /** @private */
  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch (error) {
      return;
    }
    if (frame && typeof frame === 'object' && !Array.isArray(frame)) this.onframe(frame);
  }

  /** @private */
  handleClose(event) {
    this.socket = null;
    this.stopPing();
    if (this.stopped) return;
    if (this.finalCodes.includes(event.code)) {
      this.stopped = true;
      window.removeEventListener('online', this.retryNow);
      this.onstatus('closed', { code: event.code, reason: event.reason || '' });
      return;
    }
    this.onstatus('offline');
    this.scheduleRetry();
  }

  /** @private */
  scheduleRetry() {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, Math.min(this.attempt, 10)));
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.open(), Math.min(BACKOFF_MAX_MS, base * (0.75 + Math.random() * 0.5)));
  }

  /** @private The browser came back online: skip the rest of the wait. */
  retryNow() {
    if (!this.retryTimer || this.stopped) return;
    clearTimeout(this.retryTimer);
    this.open();
  }

  /** @private */
  startPing() {
    this.stopPing();
    if (this.pingEveryMs) this.pingTimer = setInterval(() => this.send({ type: 'ping' }), this.pingEveryMs);
  }

  /** @private */
  stopPing() {
    clearInterval(this.pingTimer);
    this.pingTimer = null;
  }
}
