/**
 * Staff console: the live websocket (`ws` next to the console page, ws:// or wss:// like the page).
 *
 * Parses JSON frames, sends {"type": "ping"} every 20 s (the server's presence heartbeat), and
 * reconnects after 1 s, 2 s, 4 s ... at most 30 s with jitter. The backoff resets only once a
 * frame has arrived, so a server that accepts and at once closes the socket is not hammered.
 * A close with code 4401 means the login ended (signed out, expired, disabled): no reconnect,
 * `onended` instead.
 */
(function (Staff) {
  'use strict';

  const PING_EVERY_MS = 20000;
  const BACKOFF_FIRST_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  const LOGIN_ENDED = 4401;

  /** The console socket address: `ws` resolved against the page, with the ws/wss scheme. */
  function liveSocketUrl() {
    const url = new URL('ws', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.search = '';
    url.hash = '';
    return url.href;
  }

  class LiveSocket {
    constructor(url) {
      this.url = url;
      this.socket = null;
      this.retryTimer = null;
      this.pingTimer = null;
      this.attempt = 0;
      this.stopped = true;
      /** @type {(frame: object) => void} */
      this.onframe = () => {};
      /** @type {(state: 'connecting'|'online'|'offline') => void} */
      this.onstatus = () => {};
      /** @type {(reason: string) => void} the server closed the socket because the login ended */
      this.onended = () => {};
    }

    start() {
      this.stopped = false;
      if (!this.socket && !this.retryTimer) this.open();
    }

    /** Close for good (sign-out). */
    stop() {
      this.stopped = true;
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.stopPing();
      if (this.socket) {
        this.socket.onclose = null;
        this.socket.close(1000);
        this.socket = null;
      }
    }

    send(frame) {
      if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
      this.socket.send(JSON.stringify(frame));
      return true;
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
        this.onstatus('online');
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
      this.attempt = 0;
      if (frame && typeof frame === 'object' && frame.type !== 'pong') this.onframe(frame);
    }

    /** @private */
    handleClose(event) {
      this.socket = null;
      this.stopPing();
      if (this.stopped) return;
      if (event && event.code === LOGIN_ENDED) {
        this.stopped = true;
        this.onended(event.reason || '');
        return;
      }
      this.onstatus('offline');
      this.scheduleRetry();
    }

    /** @private */
    scheduleRetry() {
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, Math.min(this.attempt, 10)));
      this.attempt += 1;
      this.retryTimer = setTimeout(() => this.open(), base * (0.75 + Math.random() * 0.5));
    }

    /** @private */
    startPing() {
      this.stopPing();
      this.pingTimer = setInterval(() => this.send({ type: 'ping' }), PING_EVERY_MS);
    }

    /** @private */
    stopPing() {
      clearInterval(this.pingTimer);
      this.pingTimer = null;
    }
  }

  Staff.LiveSocket = LiveSocket;
  Staff.liveSocketUrl = liveSocketUrl;
})(window.StaffConsole = window.StaffConsole || {});
