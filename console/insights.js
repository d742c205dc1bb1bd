/**
 * Staff console: the admins' Insights tab (`GET api/insights?from&to`).
 *
 * Totals and rates (the can't-answer rate counts every reply that could not answer: not covered,
 * out of scope, "did you mean...?", giving up), conversations per day, hand-offs and crises per day,
 * can't-answer messages per day, the questions asked most by the answer given, helpfulness per
 * answer topic from the visitors' ratings, content gaps (insights-gaps.js) and the messages the
 * assistant understood least. Every chart (insights-charts.js) has a table with the same numbers.
 */
import { errorText } from './api.js';
import { byId, formatDateTime, showText } from './dom.js';
import { h } from './element.js';
import { dayBars, dayLine, namedBars, percent, table } from './insights-charts.js';
import { ContentGaps } from './insights-gaps.js';
import { ReviewApi } from './review-api.js';
import { usedAnswerKey } from './review-transcript.js';

const KIND_NAMES = { not_covered: 'Not covered', out_of_scope: 'Out of scope', clarify: 'Did you mean',
  give_up: 'Gave up' };

/** A section with a heading and its parts. */
function block(id, title, parts) {
  return h('section', { class: 'insights__block', 'aria-labelledby': id }, [h('h3', { id: id, text: title }), ...parts]);
}

/** A chart's numbers behind a disclosure. */
function numbers(summary, tableElement) {
  return h('details', {}, [h('summary', { text: summary }), tableElement]);
}

export class InsightsView {
  /** @param {(id: string) => void} onOpen open a conversation for review */
  constructor(onOpen) {
    this.onOpen = onOpen;
    this.intents = null;
    this.gaps = new ContentGaps({ onOpen: onOpen, intents: () => this.intents || [] });
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
    this.intents = null;
  }

  /** @private The intents and FAQ topics an annotation may name, loaded once per sign-in. */
  async loadIntents() {
    if (this.intents) return;
    const choices = await ReviewApi.choices().catch(() => ({}));
    this.intents = Array.isArray(choices.intents) ? choices.intents : null;
  }

  /** @private */
  async load() {
    const range = { from: this.form.elements.from.value, to: this.form.elements.to.value };
    this.status.textContent = 'Loading insights...';
    try {
      const [data] = await Promise.all([ReviewApi.insights(range), this.loadIntents()]);
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
    const days = data.days || [];
    this.body.replaceChildren(
      this.stats(data),
      block('insights-days', 'Conversations per day', [
        dayBars('insights-chart', days, [{ key: 'conversations', label: 'Conversations', css: '' }]),
        numbers('Numbers per day', table('Per day', ['Day', 'Conversations', 'Messages', 'Hand-offs', 'Crises',
          "Can't answer"], days.map((d) => [d.day, String(d.conversations), String(d.messages), String(d.handoff),
          String(d.crisis), String(d.cant_answer || 0)]), 'insights-days-table')),
      ]),
      block('insights-care', 'Hand-offs and crises per day', [
        h('p', { class: 'hint', text: 'Conversations handed to a coordinator (blue) and with crisis language (red).' }),
        dayBars('insights-care-chart', days, [{ key: 'handoff', label: 'Hand-offs', css: '' },
          { key: 'crisis', label: 'Crises', css: 'chart__bar--crisis' }]),
        numbers('Hand-offs and crises per day', table('Hand-offs and crises per day', ['Day', 'Hand-offs', 'Crises'],
          days.map((d) => [d.day, String(d.handoff), String(d.crisis)]), 'insights-care-table')),
      ]),
      block('insights-cant', "Can't-answer messages per day", [
        dayLine('insights-cant-chart', days, 'cant_answer', "Can't-answer messages"),
        numbers("Can't-answer messages per day", table("Can't-answer messages per day", ['Day', 'Messages'],
          days.map((d) => [d.day, String(d.cant_answer || 0)]))),
      ]),
      this.topQuestions(data.top_questions || []),
      this.helpfulness(data.helpfulness || []),
      this.gaps.render(data.content_gaps || []),
      this.leastUnderstood(data.least_understood || []),
    );
  }

  /** @private The figures at the top. */
  stats(data) {
    const totals = data.totals || {};
    const rates = data.rates || {};
    const cant = data.cant_answer || { by_kind: {} };
    const kinds = Object.keys(KIND_NAMES).map((kind) => KIND_NAMES[kind] + ' ' + ((cant.by_kind || {})[kind] || 0));
    return h('div', {}, [
      h('dl', { class: 'stats' }, [
        stat('Conversations', String(totals.conversations || 0)),
        stat('Messages', String(totals.messages || 0)),
        stat("Can't-answer rate", percent(cant.rate) + ' (' + (cant.cant_answer || 0) + ' of ' + (cant.messages || 0) +
          ')', 'stat-cant-answer'),
        stat('Hand-off rate', percent(rates.handoff) + ' (' + (totals.handoff || 0) + ')'),
        stat('Crisis', percent(rates.crisis) + ' (' + (totals.crisis || 0) + ')'),
        stat('Low confidence', percent(rates.low_confidence) + ' (' + (totals.low_confidence || 0) + ')'),
      ]),
      h('p', { class: 'hint', 'data-testid': 'cant-answer-kinds', text: "Can't-answer replies: " + kinds.join(' \u00b7 ') +
        ". The rate is the share of the visitor's messages whose reply could not answer." }),
    ]);
  }

  /** @private The answer topics given most (small talk and hand-off steps left out). */
  topQuestions(topics) {
    return block('insights-topics', 'Top questions', [
      h('p', { class: 'hint', text: 'By the answer the visitor got; dark bars are answers that could not answer.' }),
      topics.length ? namedBars('insights-topics-chart', 'Top questions by answer, in the table below.',
        topics.map((t) => ({ name: t.label || t.topic, value: t.replies, css: t.answered ? '' : 'chart__bar--fallback' })))
        : h('p', { class: 'empty', text: 'No questions in this range.' }),
      table('Questions asked most', ['Answer topic', 'Replies', 'Conversations', 'Answered?'],
        topics.map((t) => [t.label || t.topic, String(t.replies), String(t.conversations), t.answered ? 'Yes' : "No (can't answer)"]),
        'insights-topics-table'),
    ]);
  }

  /** @private Thumbs up and down per answer topic, least helpful first. */
  helpfulness(topics) {
    return block('insights-helpful', 'Helpfulness per answer', [
      topics.length ? table('Visitor ratings, least helpful first', ['Answer topic', 'Helpful', 'Not helpful',
        '% helpful'], topics.map((t) => [t.label || t.topic, String(t.up), String(t.down),
        t.helpful === null || t.helpful === undefined ? '\u2014' : percent(t.helpful)]), 'insights-helpful-table')
        : h('p', { class: 'empty', text: 'No ratings in this range.' }),
    ]);
  }

  /** @private The least understood messages, each with a button to open its conversation. */
  leastUnderstood(messages) {
    return block('insights-least', 'Messages understood least', [
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
function stat(term, value, testId) {
  return h('div', { class: 'stats__item', 'data-testid': testId || null }, [h('dt', { text: term }),
    h('dd', { text: value })]);
}
