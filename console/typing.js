/**
 * Staff console: the coordinator's "typing" signal to the visitor, rate-limited.
 *
 * keystroke() turns it on; it turns off after 3 s without keystrokes or on stop() (a message was
 * sent, the ticket changed). A change is sent at most once per 2 s: a change that comes sooner waits,
 * and one that is undone meanwhile is not sent at all.
 */
(function (Staff) {
  'use strict';

  const IDLE_MS = 3000;
  const MIN_GAP_MS = 2200;  // 2 s plus a margin for network jitter

  class TypingSignal {
    /** @param {(on: boolean) => Promise<unknown>} send */
    constructor(send) {
      this.send = send;
      this.wanted = false;
      this.sent = false;
      this.lastSentAt = 0;
      this.idleTimer = null;
      this.flushTimer = null;
    }

    keystroke() {
      clearTimeout(this.idleTimer);
      this.idleTimer = setTimeout(() => this.stop(), IDLE_MS);
      this.want(true);
    }

    stop() {
      clearTimeout(this.idleTimer);
      this.want(false);
    }

    /** Forget everything without sending (the ticket view moved to another ticket). */
    reset() {
      clearTimeout(this.idleTimer);
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
      this.wanted = false;
      this.sent = false;
    }

    /** @private */
    want(on) {
      this.wanted = on;
      this.flush();
    }

    /** @private */
    flush() {
      if (this.flushTimer || this.wanted === this.sent) return;
      const wait = this.lastSentAt + MIN_GAP_MS - Date.now();
      if (wait > 0) {
        this.flushTimer = setTimeout(() => {
          this.flushTimer = null;
          this.flush();
        }, wait);
        return;
      }
      this.sent = this.wanted;
      this.lastSentAt = Date.now();
      this.send(this.sent).catch(() => {});
    }
  }

  Staff.TypingSignal = TypingSignal;
})(window.StaffConsole = window.StaffConsole || {});
