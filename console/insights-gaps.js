/**
 * Staff console: the Insights page's content gaps, the questions the assistant could not answer or
 * answered unhelpfully, grouped by the answer topic closest to what they ask (`content_gaps` of
 * `GET api/insights`).
 *
 * Each group shows how many messages it holds and of which kind, and its newest examples. An
 * example opens its conversation, and "Annotate" saves it as a training example for the chosen
 * intent or FAQ topic (the group's topic is chosen already) through the same annotation call the
 * transcript uses. Every text is set with textContent.
 */
import { errorText } from './api.js';
import { formatDateTime, truncate } from './dom.js';
import { h } from './element.js';
import { ReviewApi } from './review-api.js';

export const GAP_KINDS = {
  not_covered: 'not covered', out_of_scope: 'out of scope', clarify: '"did you mean...?"',
  give_up: 'gave up', not_helpful: 'rated not helpful',
};

/** "3 not covered · 1 rated not helpful" */
function kindsText(kinds) {
  return Object.keys(GAP_KINDS).filter((kind) => kinds && kinds[kind])
    .map((kind) => kinds[kind] + ' ' + GAP_KINDS[kind]).join(' \u00b7 ');
}

export class ContentGaps {
  /**
   * @param {{onOpen: (id: string) => void, intents: () => string[]}} hooks
   */
  constructor(hooks) {
    this.hooks = hooks;
  }

  /** The section for these groups. */
  render(gaps) {
    return h('section', { class: 'insights__block', 'aria-labelledby': 'insights-gaps' }, [
      h('h3', { id: 'insights-gaps', text: 'Content gaps' }),
      h('p', { class: 'hint', text: 'Questions the assistant could not answer, or answered and the visitor ' +
        'rated not helpful, grouped by the closest answer topic. Most messages first.' }),
      gaps.length ? h('ol', { class: 'gaps', 'data-testid': 'content-gaps' }, gaps.map((gap) => this.group(gap)))
        : h('p', { class: 'empty', text: 'No content gaps in this range.' }),
    ]);
  }

  /** @private One group: topic, counts, examples. */
  group(gap) {
    const count = gap.messages + (gap.messages === 1 ? ' message' : ' messages');
    return h('li', { class: 'gap', 'data-testid': 'content-gap', 'data-key': gap.key }, [
      h('p', { class: 'gap__head' }, [h('strong', { class: 'gap__key', text: gap.label || gap.key }),
        h('code', { class: 'gap__code', text: ' ' + gap.key }),
        h('span', { class: 'gap__count', text: ' \u2014 ' + count + ': ' + kindsText(gap.kinds) })]),
      h('ul', { class: 'gap__examples' }, (gap.examples || []).map((example) => this.example(gap, example))),
    ]);
  }

  /** @private One example message: its text, kind, reason, Open and Annotate. */
  example(gap, example) {
    const intents = this.hooks.intents();
    const selectId = 'gap-annotate-' + example.event_id;
    const select = h('select', { class: 'field annotate__select', id: selectId, 'data-testid': 'gap-annotate-select' },
      intents.map((name) => h('option', { value: name, text: name })));
    select.value = intents.includes(gap.key) ? gap.key : '';
    const status = h('span', { class: 'annotate__status', role: 'status', 'aria-live': 'polite' });
    const label = truncate(example.text || '', 140);
    return h('li', { class: 'gap__example', 'data-testid': 'gap-example',
      'data-conversation-id': example.conversation_id, 'data-event-id': example.event_id }, [
      h('p', { class: 'gap__text' }, [h('span', { text: '\u201c' + label + '\u201d' }),
        h('span', { class: 'hint', text: ' ' + GAP_KINDS[example.kind] + ', ' + formatDateTime(example.timestamp) })]),
      example.reason ? h('p', { class: 'hint', text: 'Visitor said: ' + example.reason }) : null,
      h('span', { class: 'annotate__row' }, [
        h('button', { type: 'button', class: 'button', 'data-testid': 'gap-open',
          'aria-label': 'Open the conversation of \u201c' + truncate(label, 40) + '\u201d', text: 'Open',
          onclick: () => this.hooks.onOpen(String(example.conversation_id)) }),
        h('label', { class: 'sr-only', for: selectId, text: 'Correct intent or FAQ topic' }),
        select,
        h('button', { type: 'button', class: 'button button--primary', 'data-testid': 'gap-annotate',
          text: 'Annotate', onclick: () => this.annotate(example, select.value, status) }),
        status,
      ]),
    ]);
  }

  /** @private Save the example as a training example for `intent`. */
  async annotate(example, intent, status) {
    if (!intent) {
      status.textContent = 'Choose an intent or FAQ topic first.';
      return;
    }
    status.textContent = 'Saving...';
    try {
      await ReviewApi.annotate(String(example.conversation_id), example.event_id, intent);
      status.textContent = 'Annotated as ' + intent + '.';
    } catch (error) {
      status.textContent = errorText(error, 'The annotation could not be saved. Please try again.');
    }
  }
}
