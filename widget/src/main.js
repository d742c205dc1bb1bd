/**
 * The widget's entry: defines <clinic-chat> and adds one to the page unless the page placed its own.
 * Loading the widget a second time does nothing.
 */
import { ClinicChat } from './chat.js';

/** Add one <clinic-chat> to the page unless the page placed its own. */
function mount() {
  if (!document.querySelector('clinic-chat')) document.body.append(document.createElement('clinic-chat'));
}

if (window.customElements && !window.customElements.get('clinic-chat')) {
  window.customElements.define('clinic-chat', ClinicChat);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mount);
  else mount();
}
