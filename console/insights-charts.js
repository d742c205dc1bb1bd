/**
 * Staff console: the Insights page's charts and tables, inline SVG built with createElementNS.
 *
 * Each chart is an image with a label that sums it up (`role="img"`, `aria-label`) and a `<title>`
 * on every bar or point; the page puts a table with the same numbers beside it. Labels are text
 * nodes, never markup.
 */
import { h, svg } from './element.js';

const CHART = { width: 720, height: 200, pad: 28, top: 18 };
const BAR_ROW = 26;

/** "12.5%" */
export function percent(rate) {
  return (Math.round((rate || 0) * 1000) / 10) + '%';
}

/** A table with a caption, header cells and rows of cells (text or elements). */
export function table(caption, headers, rows, testId) {
  return h('table', { class: 'data-table', 'data-testid': testId || null }, [
    h('caption', { text: caption }),
    h('thead', {}, h('tr', {}, headers.map((text) => h('th', { scope: 'col', text: text })))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell) => h('td', {}, cell))))),
  ]);
}

/** The x position of day `index`, and the width of one day's slot. */
function dayAxis(count) {
  const step = (CHART.width - CHART.pad) / Math.max(1, count);
  return { step: step, x: (index) => CHART.pad + index * step };
}

/** The frame of a day chart: the base line, the top value and the first, middle and last day. */
function frame(days, max) {
  const axis = dayAxis(days.length);
  const anchors = ['start', 'middle', 'end'];
  const labels = [0, Math.floor(days.length / 2), days.length - 1].map((index, n) => (index >= 0 && days[index]
    ? svg('text', { class: 'chart__label', 'text-anchor': anchors[n], y: CHART.height - 8,
      x: n === 2 ? CHART.width - 2 : axis.x(index) + (n === 1 ? axis.step / 2 : 0) }, days[index].day)
    : null));
  return [
    svg('line', { class: 'chart__axis', x1: CHART.pad, y1: CHART.height - CHART.pad, x2: CHART.width,
      y2: CHART.height - CHART.pad }),
    svg('text', { class: 'chart__label', x: 0, y: 12 }, String(max)),
    ...labels,
  ];
}

/** The chart element around its parts. */
function chart(testId, label, parts, height) {
  return svg('svg', { class: 'chart', 'data-testid': testId, role: 'img', 'aria-label': label,
    viewBox: '0 0 ' + CHART.width + ' ' + (height || CHART.height) }, parts);
}

/**
 * Bars per day, one bar per series side by side (series: [{key, label, css}]).
 * @returns {SVGElement}
 */
export function dayBars(testId, days, series) {
  const max = Math.max(1, ...days.flatMap((day) => series.map((one) => day[one.key] || 0)));
  const axis = dayAxis(days.length);
  const height = (value) => (value / max) * (CHART.height - CHART.pad - CHART.top);
  const width = Math.max(1, (axis.step * 0.8) / series.length);
  const base = CHART.height - CHART.pad;
  const bars = days.map((day, index) => svg('g', {}, [
    svg('title', {}, day.day + ': ' + series.map((one) => (day[one.key] || 0) + ' ' + one.label.toLowerCase())
      .join(', ')),
    ...series.map((one, n) => svg('rect', { class: 'chart__bar ' + one.css, width: width,
      x: axis.x(index) + axis.step * 0.1 + n * width, y: base - height(day[one.key] || 0),
      height: height(day[one.key] || 0) })),
  ]));
  const sums = series.map((one) => days.reduce((sum, day) => sum + (day[one.key] || 0), 0) + ' ' +
    one.label.toLowerCase());
  return chart(testId, series.map((one) => one.label).join(' and ') + ' per day over ' + days.length + ' days: ' +
    sums.join(', ') + '; the most on one day ' + max + '.', [...frame(days, max), ...bars]);
}

/** A line over the days for one count, with a point per day. */
export function dayLine(testId, days, key, label) {
  const max = Math.max(1, ...days.map((day) => day[key] || 0));
  const axis = dayAxis(days.length);
  const y = (value) => CHART.height - CHART.pad - (value / max) * (CHART.height - CHART.pad - CHART.top);
  const points = days.map((day, index) => [axis.x(index) + axis.step / 2, y(day[key] || 0)]);
  const total = days.reduce((sum, day) => sum + (day[key] || 0), 0);
  return chart(testId, label + ' per day: ' + total + ' in ' + days.length + ' days, the most on one day ' + max + '.', [
    ...frame(days, max),
    svg('polyline', { class: 'chart__line', points: points.map((p) => p.join(',')).join(' ') }),
    ...points.map((p, index) => svg('circle', { class: 'chart__point', cx: p[0], cy: p[1], r: 3 },
      svg('title', {}, days[index].day + ': ' + (days[index][key] || 0) + ' ' + label.toLowerCase()))),
  ]);
}

/** Horizontal bars with their names and counts (rows: [{name, value}]). */
export function namedBars(testId, label, rows) {
  const max = Math.max(1, ...rows.map((row) => row.value));
  const labelWidth = 230;
  const height = Math.max(1, rows.length) * BAR_ROW;
  return chart(testId, label, rows.map((row, index) => {
    const y = index * BAR_ROW;
    const width = (row.value / max) * (CHART.width - labelWidth - 50);
    return svg('g', {}, [
      svg('text', { class: 'chart__label', x: 0, y: y + 17 }, row.name),
      svg('rect', { class: 'chart__bar' + (row.css ? ' ' + row.css : ''), x: labelWidth, y: y + 4,
        width: Math.max(1, width), height: BAR_ROW - 8 }),
      svg('text', { class: 'chart__label', x: labelWidth + width + 6, y: y + 17 }, String(row.value)),
    ]);
  }), height);
}
