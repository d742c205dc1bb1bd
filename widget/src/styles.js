/** The widget's styles, inside the shadow root, so the page and the widget don't restyle each other. */
import { h } from '../../console/element.js';

const CSS_TEXT = `
:host { all: initial; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
:focus { outline: none; }
:focus-visible { outline: 3px solid var(--cc-accent-text); outline-offset: 2px; }

.launcher, .panel {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 15px; line-height: 1.45; color: #1b2430; z-index: 2147483000;
}
button { font: inherit; cursor: pointer; }
button:disabled { cursor: not-allowed; opacity: .6; }
svg { width: 20px; height: 20px; fill: currentColor; flex: none; }

.launcher {
  position: fixed; right: 20px; bottom: 20px; width: 60px; height: 60px; border: 0; border-radius: 50%;
  background: var(--cc-accent); color: var(--cc-on-accent);
  display: grid; place-items: center; box-shadow: 0 6px 20px rgba(16, 24, 40, .22);
  transition: transform .15s ease;
}
.launcher:hover { transform: translateY(-2px); }
.launcher svg { width: 28px; height: 28px; }
.badge {
  position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; padding: 0 6px;
  border-radius: 11px; background: #b42318; color: #fff; border: 2px solid #fff;
  font-size: 12px; font-weight: 700; line-height: 18px; text-align: center;
}

.panel {
  position: fixed; right: 20px; bottom: 20px; width: 380px; height: min(640px, calc(100vh - 40px));
  display: flex; flex-direction: column; overflow: hidden;
  background: #fff; border-radius: 16px; border: 1px solid #dde2e8;
  box-shadow: 0 16px 48px rgba(16, 24, 40, .18);
}

.header {
  display: flex; align-items: center; gap: 12px; padding: 14px 12px 14px 18px;
  background: var(--cc-accent); color: var(--cc-on-accent);
}
.header__titles { flex: 1; min-width: 0; }
.avatar {
  display: grid; place-items: center; width: 36px; height: 36px; flex: none; border-radius: 50%;
  background: rgba(255, 255, 255, .18); color: inherit; font-size: 16px; font-weight: 700;
}
.avatar[data-who=agent] { background: #eef6f1; color: #1d5a3a; }
.header__title { margin: 0; font-size: 16px; font-weight: 650; line-height: 1.3; color: inherit; }
.header__subtitle { margin: 0; font-size: 13px; color: inherit; }
.icon-button {
  display: grid; place-items: center; width: 40px; height: 40px; border: 0; border-radius: 50%;
  background: transparent; color: inherit;
}
.icon-button:hover { background: rgba(255, 255, 255, .16); }
.icon-button svg { width: 20px; height: 20px; }

.confirm {
  display: flex; flex-direction: column; gap: 6px; margin: 0; padding: 12px 16px;
  background: #fff; border-bottom: 1px solid #e4e7ec; color: #1b2430;
}
.confirm__question { margin: 0; font-weight: 650; }
.confirm__detail { margin: 0; font-size: 13px; color: #475467; }
.confirm__actions { display: flex; gap: 8px; justify-content: flex-end; margin-top: 4px; }
.confirm__cancel, .confirm__end { padding: 6px 14px; border-radius: 999px; font-size: 14px; }
.confirm__cancel { border: 1px solid #c4cad3; background: #fff; color: #344054; }
.confirm__end { border: 0; background: #b42318; color: #fff; }
.header :focus-visible { outline-color: var(--cc-on-accent); outline-offset: -3px; }

.crisis {
  display: flex; flex-direction: column; gap: 2px; margin: 0; padding: 10px 16px;
  background: #fff6e6; border-bottom: 1px solid #f1d39a; color: #3b2a10; font-size: 14px;
}
.crisis__label { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: #7a3e00; }
.crisis a { color: #7a3e00; }

.status {
  margin: 0; padding: 6px 16px; background: #f2f4f7; border-bottom: 1px solid #e4e7ec;
  color: #475467; font-size: 13px; text-align: center;
}

.log {
  flex: 1; overflow-y: auto; padding: 16px 14px 8px; background: #f8f9fb;
  display: flex; flex-direction: column; gap: 12px; overscroll-behavior: contain;
}
.log:focus-visible { outline-offset: -3px; }

.msg { display: flex; flex-direction: column; max-width: 85%; }
.msg--user { align-self: flex-end; align-items: flex-end; }
.msg--bot, .msg--agent { align-self: flex-start; align-items: flex-start; }
.msg__who { font-size: 12px; font-weight: 600; color: #475467; margin: 0 0 3px 4px; }
.bubble {
  padding: 9px 13px; border-radius: 16px; white-space: pre-wrap; overflow-wrap: anywhere;
}
.msg--bot .bubble { background: #fff; border: 1px solid #e1e5ea; border-bottom-left-radius: 4px; }
.msg--agent .bubble { background: #eef6f1; border: 1px solid #cfe3d6; border-bottom-left-radius: 4px; }
.msg--user .bubble { background: var(--cc-accent); color: var(--cc-on-accent); border-bottom-right-radius: 4px; }
.msg--user a { color: inherit; }
.bubble a { color: var(--cc-accent-text); text-decoration: underline; text-underline-offset: 2px; }
.msg__text:empty { display: none; }
.msg__image { display: block; max-width: 100%; height: auto; margin-top: 6px; border-radius: 10px; }
.meta { display: flex; gap: 6px; margin: 3px 4px 0; font-size: 12px; color: #5b6675; }
.meta__state:empty { display: none; }
.meta__state::before { content: "\\00b7"; margin-right: 6px; }
.msg[data-pending] .bubble { opacity: .75; }
.msg[data-state=failed] .bubble { box-shadow: 0 0 0 2px #b42318; }
.msg[data-state=failed] .meta__state { color: #b42318; font-weight: 600; }
.delivery { display: flex; flex-wrap: wrap; align-items: center; justify-content: flex-end; gap: 8px; margin: 4px 4px 0; }
.delivery__note { font-size: 13px; color: #475467; text-align: right; }
.delivery__retry {
  padding: 3px 12px; border-radius: 999px; border: 1.5px solid var(--cc-accent);
  background: #fff; color: var(--cc-accent-text); font-size: 13px;
}

.source { margin: 4px 4px 0; font-size: 12px; color: #475467; }
.source__link { color: var(--cc-accent-text); text-decoration: underline; text-underline-offset: 2px; }
.source__topic { font-weight: 600; }

.rate__row {
  display: flex; flex-wrap: wrap; align-items: center; gap: 4px; margin: 2px 0 0 4px; font-size: 12px; color: #5b6675;
}
.rate__question { margin-right: 2px; white-space: nowrap; }
.rate__button {
  display: grid; place-items: center; width: 30px; height: 30px; padding: 0; border: 1px solid transparent;
  border-radius: 50%; background: transparent; color: #5b6675;
}
.rate__button svg { width: 16px; height: 16px; }
.rate__button:hover { background: #eef1f5; color: #1b2430; }
.rate__button[aria-pressed="true"] {
  background: var(--cc-accent); border-color: var(--cc-accent); color: var(--cc-on-accent);
}
.rate__status { margin-left: 4px; white-space: nowrap; }
.rate__status:empty { display: none; }
.reason {
  display: flex; flex-direction: column; gap: 8px; margin: 6px 0 0; padding: 10px 12px;
  background: #fff; border: 1px solid #e1e5ea; border-radius: 12px; font-size: 13px; color: #1b2430;
}
.reason__question { margin: 0; font-weight: 600; }
.reason__choices { display: flex; flex-wrap: wrap; gap: 6px; }
.reason__choice {
  padding: 4px 10px; border-radius: 999px; border: 1px solid #c4cad3; background: #fff; color: #344054;
  font-size: 13px;
}
.reason__choice[aria-pressed="true"] { border-color: var(--cc-accent); background: #f0f5fb; color: var(--cc-accent-text); font-weight: 600; }
.reason__label { display: flex; flex-direction: column; gap: 4px; }
.reason__text {
  padding: 6px 8px; border: 1px solid #7b8594; border-radius: 8px; font: inherit; font-size: 14px; color: #1b2430;
}
.reason__actions { display: flex; justify-content: flex-end; gap: 8px; }
.reason__skip, .reason__send { padding: 4px 12px; border-radius: 999px; font-size: 13px; }
.reason__skip { border: 1px solid #c4cad3; background: #fff; color: #344054; }
.reason__send { border: 0; background: var(--cc-accent); color: var(--cc-on-accent); }

.note {
  align-self: center; max-width: 90%; padding: 4px 10px; border-radius: 10px;
  background: #eef1f5; color: #475467; font-size: 13px; text-align: center;
}

.quick-replies { display: flex; flex-wrap: wrap; gap: 8px; margin-top: -2px; }
.quick-reply {
  padding: 7px 13px; border-radius: 999px; border: 1.5px solid var(--cc-accent);
  background: #fff; color: var(--cc-accent-text); font-size: 14px; line-height: 1.3; text-align: left;
}
.quick-reply:hover { background: #f0f5fb; }

.typing { display: flex; gap: 4px; align-items: center; padding: 4px 22px 8px; background: #f8f9fb; }
.typing__dot {
  width: 7px; height: 7px; border-radius: 50%; background: #667085;
  animation: cc-bounce 1.2s infinite ease-in-out;
}
.typing__dot:nth-child(3) { animation-delay: .15s; }
.typing__dot:nth-child(4) { animation-delay: .3s; }
@keyframes cc-bounce { 0%, 80%, 100% { opacity: .35; transform: translateY(0); } 40% { opacity: 1; transform: translateY(-3px); } }
@media (prefers-reduced-motion: reduce) {
  .typing__dot { animation: none; }
  .launcher { transition: none; }
}

.footer { padding: 8px 12px 12px; border-top: 1px solid #e4e7ec; background: #fff; }
.footer__actions { display: flex; margin-bottom: 8px; }
.human {
  display: inline-flex; align-items: center; gap: 6px; padding: 5px 12px 5px 9px;
  border: 1px solid #c4cad3; border-radius: 999px; background: #fff; color: #344054; font-size: 13px;
}
.human svg { width: 16px; height: 16px; }
.human:hover { background: #f2f4f7; }
.composer { display: flex; align-items: flex-end; gap: 8px; }
.input {
  flex: 1; min-height: 42px; max-height: 128px; resize: none; padding: 10px 12px;
  border: 1px solid #7b8594; border-radius: 12px; background: #fff; color: #1b2430;
  font: inherit; font-size: 16px; line-height: 1.35;
}
.input::placeholder { color: #667085; }
.input:focus-visible { outline-offset: 0; border-color: var(--cc-accent-text); }
.length { display: flex; gap: 8px; justify-content: flex-end; align-items: baseline; margin-top: 4px; font-size: 13px; }
.length:has(.counter[hidden]):has(.too-long:empty) { display: none; }
.too-long { flex: 1; color: #b42318; }
.too-long:empty { display: none; }
.counter { color: #5b6675; font-variant-numeric: tabular-nums; }
.counter--over { color: #b42318; font-weight: 600; }
.send {
  display: grid; place-items: center; width: 42px; height: 42px; border: 0; border-radius: 50%;
  background: var(--cc-accent); color: var(--cc-on-accent);
}

@media (max-width: 480px) {
  .panel {
    right: 0; bottom: 0; left: 0; top: 0; width: 100%; height: 100%; max-height: none;
    border-radius: 0; border: 0;
  }
  .launcher { right: 16px; bottom: 16px; }
  .msg { max-width: 90%; }
}
`;

/** Put the styles into the shadow root (a constructed sheet passes strict page CSPs). */
export function adoptStyles(root) {
  if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet && 'replaceSync' in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS_TEXT);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.append(h('style', { text: CSS_TEXT }));
  }
}
