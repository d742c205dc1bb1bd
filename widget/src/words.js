/** The widget's own wording: everything the visitor reads that does not come from the server. */

/** The "Talk to a person" button, and what the visitor's /ask_human shows as in the log. */
export const ASK_HUMAN_TITLE = 'Talk to a person';

/** Words the visitor sees outside the conversation itself. */
export const TEXT = {
  subtitle: 'virtual assistant',
  personSubtitle: 'a person from the clinic',
  openChat: 'Open chat',
  closeChat: 'Close chat',
  endChat: 'End chat and clear',
  endChatQuestion: 'End this chat and clear it from this device?',
  endChatDetail: 'The conversation is removed from this browser and can\u2019t be continued, here or anywhere else.',
  endChatCancel: 'Cancel',
  ended: 'Chat ended and cleared from this device. Type a message to start a new one.',
  send: 'Send message',
  inputLabel: 'Type your message',
  placeholder: 'Type your message...',
  log: 'Conversation',
  you: 'You: ',
  assistant: 'Assistant: ',
  typing: () => 'The assistant is typing',
  typingPerson: (name) => (name ? name + ' is typing' : 'The care team is typing'),
  delivery: { sending: 'Sending\u2026', sent: 'Sent', failed: 'Not sent' },
  retry: 'Retry',
  retryLabel: (text) => 'Retry sending: ' + (text.length > 40 ? text.slice(0, 40) + '\u2026' : text),
  counter: (length, limit) => length.toLocaleString('en-US') + ' / ' + limit.toLocaleString('en-US'),
  tooLong: (over) => 'Too long by ' + over.toLocaleString('en-US') + (over === 1 ? ' character' : ' characters')
    + '. Please shorten it or send it in two parts.',
  reconnecting: 'Reconnecting...',
  closed: 'Chat closed.',
  crisisLabel: 'Important',
  imageAlt: 'Image from the assistant',
  handoff: {
    waiting: () => 'Waiting for a care coordinator\u2026',
    connected: (name) => (name ? 'You\'re chatting with ' + name : 'You\'re chatting with a care coordinator'),
    ended: () => 'Back with the virtual assistant',
    callback: () => 'A care coordinator will contact you',
  },
  agentLabel: (name) => (name ? name + ', care team' : 'Care team'),
  errors: {
    rate_limited: 'Too many messages at once. Please wait a moment, then try again.',
    too_long: 'That message is too long. Please shorten it or send it in two parts.',
    default: 'Something went wrong with that message. Please try again.',
  },
};

/** The words around an answer: where it comes from, and "Was this helpful?" (feedback.js). */
export const FEEDBACK_TEXT = {
  sourcePrefix: 'From the clinic\u2019s article: ',
  question: 'Was this helpful?',
  rate: { up: 'Yes, this helped', down: 'No, this didn\u2019t help' },
  reasonQuestion: 'What went wrong? (optional)',
  reasons: ['Didn\u2019t answer my question', 'Hard to understand', 'Wrong or outdated'],
  reasonLabel: 'Anything else?',
  reasonPlaceholder: 'A few words (optional)',
  send: 'Send',
  skip: 'Skip',
  thanks: 'Thanks for your feedback.',
  notSent: 'Not sent: the chat is reconnecting. Please try again in a moment.',
  failed: 'Your rating couldn\u2019t be saved. Please try again.',
};
