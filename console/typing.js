/**
 * A "typing" signal, rate-limited: the visitor's to a coordinator, or a coordinator's to the visitor.
 *
 * keystroke() turns it on; it turns off after 3 s without keystrokes or on stop() (a message was
 * sent, the chat changed). A change is sent at most once per 2 s: a change that comes sooner waits,
 * and one that is undone meanwhile is not sent at all. `send(on)` must not throw.
 *
 * Shared: the staff console imports this module, and widget/build.py copies it into the
 * widget's one file. Keep it free of anything that belongs to one of them.
 */

const IDLE_MS = 3000;
const MIN_GAP_MS = 2200;  // 2 s plus a margin for network jitter

export class TypingSignal {
  /** @param {(on: boolean) => void} send */
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

  /** Forget everything without sending (the console moved to another ticket). */
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
    this.send(this.sent);
  }
}
