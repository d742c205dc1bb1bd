/**
 * Building DOM elements from code: h() for HTML, svg() for SVG. Text is only ever set as text
 * (textContent or text nodes), never parsed as HTML.
 *
 * Shared: the staff console imports this module, and widget/build.py copies it into the
 * widget's one file. Keep it free of anything that belongs to one of them.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Append children to an element; strings become text nodes; null, undefined and '' are skipped. */
export function appendChildren(element, children) {
  [].concat(children || []).forEach((child) => {
    if (child !== null && child !== undefined && child !== '') element.append(child);
  });
}

/**
 * Create an HTML element. Strings among the children become text nodes (never HTML).
 * props: "text" sets textContent, "class" the class, "on<event>" a listener, anything else an attribute
 * (true: present and empty; false, null and undefined: left out).
 */
export function h(tag, props, children) {
  const element = document.createElement(tag);
  Object.keys(props || {}).forEach((key) => {
    const value = props[key];
    if (value === null || value === undefined || value === false) return;
    if (key === 'text') element.textContent = value;
    else if (key === 'class') element.className = value;
    else if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? '' : String(value));
  });
  appendChildren(element, children);
  return element;
}

/** Create an SVG element with attributes; strings among the children become its text. */
export function svg(tag, attributes, children) {
  const element = document.createElementNS(SVG_NS, tag);
  Object.keys(attributes || {}).forEach((key) => element.setAttribute(key, String(attributes[key])));
  appendChildren(element, children);
  return element;
}
