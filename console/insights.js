/**
 * Staff console: the admins' Insights tab (`GET api/insights?from&to`).
 *
 * Totals and rates, conversations per day (inline SVG bars, fallbacks drawn over them), the topics
 * asked most (SVG bars) and the messages the assistant understood least, each chart backed by a
 * table with the same numbers. SVG is built with createElementNS; labels are text nodes.
 */
import { errorText } from './api.js';
import { byId, formatDateTime, showText } from './dom.js';
import { h, svg } from './element.js';
import { ReviewApi } from './review-api.js';
import { usedAnswerKey } from './review-transcript.js';

const CHART = { width: 720, height: 200, pad: 28, top: 18 };
const BAR_ROW = 26;

/** "12.5%" */
function percent(rate) {
  return (Math.round((rate || 0) * 1000) / 10) + '%';
}

/** A table with a caption, header cells and rows of cell texts. */
function table(caption, headers, rows) {
  return h('table', { class: 'data-table' }, [
    h('caption', { text: caption }),
    h('thead', {}, h('tr', {}, headers.map((text) => h('th', { scope: 'col', text: text })))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell) => h('td', {}, cell))))),
  ]);
}

/** Conversations per day as vertical bars, with the fallback conversations drawn over them. */
function dayChart(days) {
  const max = Math.max(1, ...days.map((d) => d.conversations));
  const step = (CHART.width - CHART.pad) / Math.max(1, days.length);
  const scale = (value) => (value / max) * (CHART.height - CHART.pad - CHART.top);
  const total = days.reduce((sum, d) => sum + d.conversations, 0);
  const bars = days.map((day, index) => {
    const x = CHART.pad + index * step + step * 0.15;
    const width = Math.max(1, step * 0.7);
    const base = CHART.height - CHART.pad;
    return svg('g', {}, [
      svg('title', {}, day.day + ': ' + day.conversations + ' conversations, ' + day.fallback + ' with a fallback'),
      svg('rect', { class: 'chart__bar', x: x, y: base - scale(day.conversations), width: width,
        height: scale(day.conversations) }),
      svg('rect', { class: 'chart__bar chart__bar--fallback', x: x, y: base - scale(day.fallback), width: width,
        height: scale(day.fallback) }),
    ]);
  });
  const anchors = ['start', 'middle', 'end'];
  const labels = [0, Math.floor(days.length / 2), days.length - 1].map((index, n) => (index >= 0 && days[index]
    ? svg('text', { class: 'chart__label', 'text-anchor': anchors[n], y: CHART.height - 8,
      x: n === 2 ? CHART.width - 2 : CHART.pad + index * step + (n === 1 ? step / 2 : 0) }, days[index].day)
    : null));
  return svg('svg', { class: 'chart', 'data-testid': 'insights-chart', role: 'img',
    viewBox: '0 0 ' + CHART.width + ' ' + CHART.height,
    'aria-label': 'Conversations per day: ' + total + ' in ' + days.length + ' days, busiest day ' + max + '.' }, [
    svg('line', { class: 'chart__axis', x1: CHART.pad, y1: CHART.height - CHART.pad, x2: CHART.width,
      y2: CHART.height - CHART.pad }),
    svg('text', { class: 'chart__label', x: 0, y: 12 }, String(max)),
    ...bars, ...labels,
  ]);
}

/** The top topics as horizontal bars with their names and counts. */
function topicChart(topics) {
  const max = Math.max(1, ...topics.map((t) => t.conversations));
  const labelWidth = 230;
  const height = Math.max(1, topics.length) * BAR_ROW;
  return svg('svg', { class: 'chart', 'data-testid': 'insights-topics-chart', role: 'img',
    viewBox: '0 0 ' + CHART.width + ' ' + height, 'aria-label': 'Topics asked most, in the table below.' },
  topics.map((topic, index) => {
    const y = index * BAR_ROW;
    const width = (topic.conversations / max) * (CHART.width - labelWidth - 50);
    return svg('g', {}, [
      svg('text', { class: 'chart__label', x: 0, y: y + 17 }, topic.topic),
      svg('rect', { class: 'chart__bar', x: labelWidth, y: y + 4, width: Math.max(1, width), height: BAR_ROW - 8 }),
      svg('text', { class: 'chart__label', x: labelWidth + width + 6, y: y + 17 }, String(topic.conversations)),
    ]);
  }));
}

export class InsightsView {
  /** @param {(id: string) => void} onOpen open a conversation for review */
  constructor(onOpen) {
    this.onOpen = onOpen;
    this.body = byId('insights-body');
    this.error = byId('insights-error');
    this.status = byId('insights-status');
    this.form = byId('insights-form');
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.load();
    });
  }

  /** The tab was shown. */
  show() {
    return this.load();
  }

  clear() {
    this.body.replaceChildren();
  }

  /** @private */
  async load() {
    const range = { from: this.form.elements.from.value, to: this.form.elements.to.value };
    this.status.textContent = 'Loading insights...';
    try {
      const data = await ReviewApi.insights(range);
      showText(this.error, '');
      this.render(data);
      this.status.textContent = 'Showing ' + data.from + ' to ' + data.to + ': ' + data.totals.conversations +
        ' conversations.';
    } catch (error) {
      this.status.textContent = '';
      showText(this.error, errorText(error, 'The insights could not be loaded. Check the dates and try again.'));
    }
  }

  /** @private */
  render(data) {
    const totals = data.totals || {};
    const rates = data.rates || {};
    const days = data.days || [];
    const topics = data.top_topics || [];
    this.body.replaceChildren(
      h('dl', { class: 'stats' }, [
        stat('Conversations', String(totals.conversations || 0)),
        stat('Messages', String(totals.messages || 0)),
        stat('Fallback rate', percent(rates.fallback) + ' (' + (totals.fallback || 0) + ')'),
        stat('Hand-off rate', percent(rates.handoff) + ' (' + (totals.handoff || 0) + ')'),
        stat('Crisis', percent(rates.crisis) + ' (' + (totals.crisis || 0) + ')'),
        stat('Low confidence', percent(rates.low_confidence) + ' (' + (totals.low_confidence || 0) + ')'),
      ]),
      h('section', { class: 'insights__block', 'aria-labelledby': 'insights-days' }, [
        h('h3', { id: 'insights-days', text: 'Conversations per day' }),
        h('p', { class: 'hint', text: 'Dark part of each bar: conversations with a fallback.' }),
        dayChart(days),
        h('details', {}, [h('summary', { text: 'Numbers per day' }),
          table('Conversations per day', ['Day', 'Conversations', 'Messages', 'Fallback', 'Hand-off', 'Crisis'],
            days.map((d) => [d.day, String(d.conversations), String(d.messages), String(d.fallback),
              String(d.handoff), String(d.crisis)]))]),
      ]),
      h('section', { class: 'insights__block', 'aria-labelledby': 'insights-topics' }, [
        h('h3', { id: 'insights-topics', text: 'Top questions' }),
        topics.length ? topicChart(topics) : h('p', { class: 'empty', text: 'No topics in this range.' }),
        table('Topics asked most (conversations)', ['Intent or FAQ topic', 'Conversations'],
          topics.map((t) => [t.topic, String(t.conversations)])),
      ]),
      this.leastUnderstood(data.least_understood || []),
    );
  }

  /** @private The least understood messages, each with a button to open its conversation. */
  leastUnderstood(messages) {
    return h('section', { class: 'insights__block', 'aria-labelledby': 'insights-least' }, [
      h('h3', { id: 'insights-least', text: 'Messages understood least' }),
      messages.length ? table('Lowest NLU confidence first', ['Message', 'Intent', 'Confidence', 'When', ''],
        messages.map((m) => this.leastRow(m))) : h('p', { class: 'empty', text: 'No messages in this range.' }),
    ]);
  }

  /** @private The cells of one least-understood message. */
  leastRow(message) {
    const topic = usedAnswerKey(message.intent, message.retrieval_key) || message.intent || 'none';
    return [message.text || '', topic, percent(message.confidence), formatDateTime(message.timestamp),
      h('button', { type: 'button', class: 'button', 'aria-label': 'Open the conversation of this message',
        text: 'Open', onclick: () => this.onOpen(String(message.conversation_id)) })];
  }
}

/** One figure of the summary. */
function stat(term, value) {
  return h('div', { class: 'stats__item' }, [h('dt', { text: term }), h('dd', { text: value })]);
}
