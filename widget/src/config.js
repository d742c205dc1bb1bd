/**
 * The widget's settings: which server, title and accent colour, read from data-* attributes, and
 * the accent's readable text colours.
 */

/** The <script> tag that loaded the widget, captured now: it is null once loading is over. */
const SCRIPT = document.currentScript;

const SOCKET_PATH = '/webhooks/web/ws';
const DEFAULT_TITLE = 'Chat with us';
const DEFAULT_COLOR = '#0b5cad';

/**
 * Read the widget settings: the element's own data-* attributes win over the script tag's.
 * @param {HTMLElement} element
 * @returns {{server: string, title: string, color: string}}
 */
export function readConfig(element) {
  const pick = (name) => element.getAttribute(name) || (SCRIPT && SCRIPT.getAttribute(name)) || '';
  return {
    server: pick('data-server') || scriptOrigin(),
    title: pick('data-title') || DEFAULT_TITLE,
    color: pick('data-color') || DEFAULT_COLOR,
  };
}

/** The origin this file was loaded from, or the page's own origin for an inline copy. */
function scriptOrigin() {
  try {
    return new URL(SCRIPT.src, window.location.href).origin;
  } catch (error) {
    return window.location.origin;
  }
}

/**
 * The visitor socket address for a server URL: http -> ws, https -> wss, plus the socket path.
 * @param {string} server e.g. "https://clinic.example"
 */
export function socketUrl(server) {
  const url = new URL(server, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = url.pathname.replace(/\/+$/, '') + SOCKET_PATH;
  url.search = '';
  url.hash = '';
  return url.href;
}

/**
 * The accent colour and the text colours that stay readable (WCAG AA, 4.5:1) with it.
 * An unusable data-color falls back to the default.
 * @param {string} value any CSS colour
 * accentText colours accent-coloured text and focus rings on white; a light accent gets a dark one.
 * @returns {{accent: string, onAccent: string, accentText: string}}
 */
export function accentColors(value) {
  const rgb = parseColor(value) || parseColor(DEFAULT_COLOR);
  const accent = '#' + rgb.map((c) => c.toString(16).padStart(2, '0')).join('');
  const white = [255, 255, 255];
  const ink = [17, 24, 39];
  const readableOnWhite = contrast(rgb, white) >= 4.5;
  return {
    accent,
    onAccent: contrast(rgb, white) >= contrast(rgb, ink) ? '#ffffff' : '#111827',
    accentText: readableOnWhite ? accent : '#1b2430',
  };
}

/** A CSS colour as [r, g, b], or null if it is not an opaque colour. */
function parseColor(value) {
  if (!window.CSS || !CSS.supports('color', value)) return null;
  const context = document.createElement('canvas').getContext('2d');
  if (!context) return null;
  context.fillStyle = value;
  const match = /^#([0-9a-f]{6})$/i.exec(context.fillStyle);
  if (!match) return null;
  return [0, 2, 4].map((i) => parseInt(match[1].slice(i, i + 2), 16));
}

/** WCAG contrast ratio of two [r, g, b] colours. */
function contrast(a, b) {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

function luminance(rgb) {
  const [r, g, b] = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
