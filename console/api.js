/**
 * Staff console: the HTTP API client (`api/...`, relative to the console page).
 *
 * Keeps the CSRF token in memory only (from login or `GET api/me`, with the clinic's time zone) and
 * sends it as X-CSRF-Token on every POST, PUT and DELETE; cookies go with credentials: 'same-origin'. Errors become ApiError with the server's
 * `{"error": code, "message": text}`; a 401 on anything but login calls Api.onUnauthorized.
 */
const NETWORK_MESSAGE = 'The server cannot be reached. Check your connection, then try again.';

/** An API call that did not succeed. status 0 means the server was not reached at all. */
export class ApiError extends Error {
  constructor(status, code, message, retryAfterSeconds) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.serverMessage = message || '';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Seconds to wait before trying again (a throttled sign-in, a busy server): the Retry-After
 * header, else the body's retry_after_s. null when the server says nothing.
 */
function retryAfter(response, data) {
  const header = Number(response.headers.get('Retry-After'));
  if (isFinite(header) && header > 0) return header;
  if (typeof data.retry_after_s === 'number' && data.retry_after_s > 0) return data.retry_after_s;
  return null;
}

export const Api = {
  csrfToken: null,
  /** The clinic's IANA time zone from login or `GET api/me` (every time is shown in it). */
  timeZone: null,
  /** @type {(error: ApiError) => void} the login ended (cookie expired, signed out elsewhere) */
  onUnauthorized: () => {},

  /** One request; resolves with the JSON answer, rejects with ApiError. */
  async call(method, path, body) {
    const init = { method: method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (method !== 'GET') {
      init.headers['Content-Type'] = 'application/json';
      init.headers['X-CSRF-Token'] = this.csrfToken || '';
      init.body = JSON.stringify(body || {});
    }
    let response;
    try {
      response = await fetch('api/' + path, init);
    } catch (error) {
      throw new ApiError(0, 'network', NETWORK_MESSAGE, null);
    }
    const data = await response.json().catch(() => ({}));
    if (response.ok) return data && typeof data === 'object' ? data : {};
    const error = new ApiError(response.status, data.error || 'http_' + response.status,
      typeof data.message === 'string' ? data.message : '', retryAfter(response, data || {}));
    if (response.status === 401 && path !== 'login') this.onUnauthorized(error);
    throw error;
  },

  get(path) {
    return this.call('GET', path);
  },

  post(path, body) {
    return this.call('POST', path, body);
  },

  /** Sign in; `code` is the one-time code of an account that uses one (else empty). */
  async login(email, password, code) {
    const body = { email: email, password: password };
    if (code) body.code = code;
    const data = await this.post('login', body);
    this.csrfToken = data.csrf_token || null;
    this.timeZone = typeof data.timezone === 'string' ? data.timezone : null;
    return data.user;
  },

  /** The signed-in coordinator, or an ApiError with status 401 when nobody is signed in. */
  async me() {
    const data = await this.get('me');
    this.csrfToken = data.csrf_token || null;
    this.timeZone = typeof data.timezone === 'string' ? data.timezone : null;
    return data.user;
  },

  async logout() {
    try {
      await this.post('logout');
    } finally {
      this.csrfToken = null;
    }
  },

  ticket: (id) => Api.get('tickets/' + encodeURIComponent(id)),
  claim: (id) => Api.post('tickets/' + encodeURIComponent(id) + '/claim'),
  sendMessage: (id, text) => Api.post('tickets/' + encodeURIComponent(id) + '/messages', { text: text }),
  typing: (id, on) => Api.post('tickets/' + encodeURIComponent(id) + '/typing', { on: on }),
  handBack: (id) => Api.post('tickets/' + encodeURIComponent(id) + '/handback'),
  close: (id, outcome) => Api.post('tickets/' + encodeURIComponent(id) + '/close', { outcome: outcome }),
  callbacks: () => Api.get('callbacks'),
  markCalled: (id, note) => Api.post('callbacks/' + encodeURIComponent(id) + '/called', note ? { note: note } : {}),
  savedReplies: () => Api.get('saved-replies'),
  createSavedReply: (title, text) => Api.post('saved-replies', { title: title, text: text }),
  updateSavedReply: (id, title, text) => Api.call('PUT', 'saved-replies/' + encodeURIComponent(id),
    { title: title, text: text }),
  deleteSavedReply: (id) => Api.call('DELETE', 'saved-replies/' + encodeURIComponent(id)),
};

/** What to tell the coordinator about a failed call: the server's words, or a fallback. */
export function errorText(error, fallback) {
  if (error && error.status === 0) return NETWORK_MESSAGE;
  return (error && error.serverMessage) || fallback;
}
