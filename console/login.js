/**
 * Staff console: the sign-in form.
 *
 * 401 says the email or password is wrong; 423 says the account is locked and for how many
 * minutes (from the server's Retry-After, when it gives one). On success it hands the user on.
 */
(function (Staff) {
  'use strict';

  const { byId, showText } = Staff.dom;
  const { Api, Alerts, errorText } = Staff;

  /** The sentence for a failed sign-in. */
  function loginErrorText(error) {
    if (error.status === 401) return 'Wrong email or password.';
    if (error.status === 423) {
      const minutes = error.retryAfterSeconds ? Math.max(1, Math.ceil(error.retryAfterSeconds / 60)) : null;
      return 'This account is locked after too many failed sign-ins. ' + (minutes
        ? 'Try again in ' + minutes + (minutes === 1 ? ' minute.' : ' minutes.')
        : (error.serverMessage || 'Try again later.'));
    }
    if (error.status === 400) return errorText(error, 'Enter your email and password.');
    return errorText(error, 'Signing in failed. Please try again.');
  }

  class LoginView {
    /** @param {(user: object) => void} onSignedIn */
    constructor(onSignedIn) {
      this.onSignedIn = onSignedIn;
      this.view = byId('login-view');
      this.form = byId('login-form');
      this.email = byId('login-email');
      this.password = byId('login-password');
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
        const user = await Api.login(email, password);
        this.password.value = '';
        this.onSignedIn(user);
      } catch (error) {
        showText(this.error, loginErrorText(error));
        this.password.value = '';
        this.password.focus();
      } finally {
        this.submit.disabled = false;
      }
    }
  }

  Staff.LoginView = LoginView;
})(window.StaffConsole = window.StaffConsole || {});
