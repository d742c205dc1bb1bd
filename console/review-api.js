/**
 * Staff console: the conversation review, audit and insights calls (docs/review-api.md).
 *
 * JSON calls go through Api.call (cookie, CSRF token, ApiError); exports are fetched as files and
 * handed to the browser as a download through a Blob URL, so an error (a coordinator on an admin
 * export, an expired login) is shown in the page instead of replacing it.
 */
import { Api, ApiError } from './api.js';
import { h } from './element.js';

const enc = encodeURIComponent;

/** The query string for a filter object ({name: value}); empty values are left out. */
function query(params) {
  const search = new URLSearchParams();
  Object.keys(params || {}).forEach((key) => {
    const value = params[key];
    if (value !== '' && value !== null && value !== undefined && value !== false) search.set(key, String(value));
  });
  const text = search.toString();
  return text ? '?' + text : '';
}

/** The file name in a Content-Disposition header, or the fallback. */
function fileName(response, fallback) {
  const match = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
  return match ? match[1] : fallback;
}

/**
 * Fetch an export and save it through a temporary link.
 * @returns {Promise<{name: string, truncated: boolean}>}
 */
async function download(path, fallbackName) {
  let response;
  try {
    response = await fetch('api/' + path, { credentials: 'same-origin' });
  } catch (error) {
    throw new ApiError(0, 'network', '', null);
  }
  if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    const error = new ApiError(response.status, data.error || 'http_' + response.status,
      typeof data.message === 'string' ? data.message : '', null);
    if (response.status === 401) Api.onUnauthorized(error);
    throw error;
  }
  const name = fileName(response, fallbackName);
  const url = URL.createObjectURL(await response.blob());
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
  return { name: name, truncated: response.headers.get('X-Export-Truncated') === 'true' };
}

export const ReviewApi = {
  query,
  download,
  list: (filters, cursor) => Api.get('conversations' + query(Object.assign({}, filters, { cursor: cursor }))),
  conversation: (id) => Api.get('conversations/' + enc(id)),
  choices: () => Api.get('review/choices'),
  addTag: (id, tag) => Api.post('conversations/' + enc(id) + '/tags', { tag: tag }),
  removeTag: (id, tag) => Api.call('DELETE', 'conversations/' + enc(id) + '/tags/' + enc(tag)),
  addNote: (id, text) => Api.post('conversations/' + enc(id) + '/notes', { text: text }),
  markReviewed: (id, reviewed) => Api.post('conversations/' + enc(id) + '/reviewed', { reviewed: reviewed }),
  annotate: (id, eventId, intent) => Api.post('conversations/' + enc(id) + '/annotations',
    { event_id: eventId, corrected_intent: intent }),
  exportOne: (id, format) => download('conversations/' + enc(id) + '/export' + query({ format: format }),
    'conversation.' + format),
  exportFiltered: (filters, format) => download('exports/conversations' +
    query(Object.assign({}, filters, { format: format })), 'conversations.' + format),
  exportNlu: () => download('exports/nlu', 'review_annotations.yml'),
  audit: (params) => Api.get('audit' + query(params)),
  insights: (range) => Api.get('insights' + query(range)),
};
