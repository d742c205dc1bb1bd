/**
 * The one thing the widget keeps in the browser: the localStorage key `clinic-chat:session`,
 * {session_id, token, greeted}. "End chat and clear" removes it.
 */

const STORAGE_KEY = 'clinic-chat:session';

/** The visitor's conversation credentials; every call survives a browser that blocks storage. */
export const SessionStore = {
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
