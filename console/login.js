/**
 * Staff console: the sign-in form.
 *
 * 401 says the email or password is wrong (the same words whichever it was); 401 `code_required`
 * shows the one-time code field, `bad_code` says the code was wrong; 429 says how long to wait
 * (from the server's Retry-After); 503 says the server is busy. On success it hands the user on.
 */
import { Alerts } from './alerts.js';
import { Api, errorText } from './api.js';
import { byId, showText } from './dom.js';

/** "30 seconds", "2 minutes". */
function waitText(seconds) {
  if (seconds < 60) return Math.ceil(seconds) + (Math.ceil(seconds) === 1 ? ' second' : ' seconds');
  const minutes = Math.ceil(seconds / 60);
  return minutes + (minutes === 1 ? ' minute' : ' minutes');
}

/** The sentence for a failed sign-in. */
function loginErrorText(error) {
  if (error.code === 'code_required') return 'Enter the 6-digit code from your authenticator app.';
  if (error.code === 'bad_code') return errorText(error, 'That code is not right. Enter the current code.');
  if (error.status === 401) return 'Wrong email or password.';
  if (error.status === 429) {
    return 'Too many sign-in attempts. ' + (error.retryAfterSeconds
      ? 'Please wait ' + waitText(error.retryAfterSeconds) + ' and try again.'
      : (error.serverMessage || 'Please wait and try again.'));
  }
  if (error.status === 503) return errorText(error, 'Signing in is busy right now. Please try again in a moment.');
  if (error.status === 400) return errorText(error, 'Enter your email and password.');
  return errorText(error, 'Signing in failed. Please try again.');
}

export class LoginView {
  /** @param {(user: object) => void} onSignedIn */
  constructor(onSignedIn) {
    this.onSignedIn = onSignedIn;
    this.view = byId('login-view');
    this.form = byId('login-form');
    this.email = byId('login-email');
    this.password = byId('login-password');
    this.codeField = byId('login-code-field');
    this.code = byId('login-code');
    this.error = byId('login-error');
    this.submit = byId('login-submit');
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.signIn();
    });
  }

  /** Show the form, optionally with a message (such as "your session ended"). */
  show(message) {
    this.view.hidden = false;
    this.password.value = '';
    this.code.value = '';
    this.codeField.hidden = true;
    showText(this.error, message || '');
    (this.email.value ? this.password : this.email).focus();
  }

  hide() {
    this.view.hidden = true;
    showText(this.error, '');
  }

  /** @private */
  async signIn() {
    Alerts.unlock();
    const email = this.email.value.trim();
    const password = this.password.value;
    if (!email || !password) {
      showText(this.error, 'Enter your email and password.');
      (email ? this.password : this.email).focus();
      return;
    }
    this.submit.disabled = true;
    try {
      const user = await Api.login(email, password, this.codeField.hidden ? '' : this.code.value.trim());
      this.password.value = '';
      this.code.value = '';
      this.codeField.hidden = true;
      this.onSignedIn(user);
    } catch (error) {
      showText(this.error, loginErrorText(error));
      this.code.value = '';
      if (error.code === 'code_required' || error.code === 'bad_code') {
        this.codeField.hidden = false;
        this.code.focus();
        return;
      }
      this.password.value = '';
      this.password.focus();
    } finally {
      this.submit.disabled = false;
    }
  }
}
