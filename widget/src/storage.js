/**
 * The one thing the widget keeps in the browser: the localStorage key `clinic-chat:session`,
 * {session_id, token, greeted, unsent}. `unsent` holds the visitor's messages the server has not
 * confirmed yet ({id, message, shown, at, failed?}, oldest first), so a reload or a new socket
 * sends them again with the same ids; each leaves it once confirmed. "End chat and clear" removes it all.
 */

const STORAGE_KEY = 'clinic-chat:session';

/** The visitor's conversation credentials; every call survives a browser that blocks storage. */
export const SessionStore = {
  /** @returns {{session_id?: string, token?: string, greeted?: boolean, unsent?: object[]}} */
  load() {
    try {
      const value = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || '{}');
      return value && typeof value === 'object' ? value : {};
    } catch (error) {
      return {};
    }
  },

  /** Remember the confirmed session; the greeting flag survives only for the same session, unsent messages always. */
  save(sessionId, token) {
    const previous = this.load();
    const greeted = previous.session_id === sessionId && previous.greeted === true;
    this.write({ session_id: sessionId, token: token, greeted: greeted, unsent: this.unsent() });
  },

  /** @returns {{id: string, message: string, shown: string, at: number, failed?: boolean}[]} messages not yet confirmed */
  unsent() {
    const list = this.load().unsent;
    return Array.isArray(list) ? list.filter((item) => item && typeof item.id === 'string'
      && typeof item.message === 'string' && typeof item.shown === 'string') : [];
  },

  /** Keep the messages not yet confirmed (replacing what was kept). */
  saveUnsent(list) {
    this.write(Object.assign(this.load(), { unsent: list }));
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
