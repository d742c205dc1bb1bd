/**
 * Staff console: getting a coordinator's attention.
 *
 * - announce(): a polite screen-reader announcement (the page's #announcer live region);
 * - chime(): a short two-tone sound made with a Web Audio oscillator (no audio file);
 * - notify(): a desktop Notification, only once permission was granted from a button click.
 * Browsers only allow sound after a user gesture, so unlock() is called from clicks (sign-in,
 * "Turn on alerts").
 */
import { byId } from './dom.js';

let audio = null;

export const Alerts = {
  /** Read text out to screen readers without moving focus. */
  announce(text) {
    const region = byId('announcer');
    region.textContent = '';
    window.setTimeout(() => { region.textContent = text; }, 50);
  },

  /** Create or resume the audio context; call from a click or key press. */
  unlock() {
    const AudioContextClass = window.AudioContext || window.webkitAudioContext;
    if (!AudioContextClass) return;
    if (!audio) audio = new AudioContextClass();
    if (audio.state === 'suspended') audio.resume().catch(() => {});
  },

  /** Two short rising tones, quiet enough not to startle. */
  chime() {
    if (!audio || audio.state !== 'running') return;
    [[660, 0], [880, 0.18]].forEach(([frequency, delay]) => {
      const start = audio.currentTime + delay;
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = 'sine';
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.16);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(start);
      oscillator.stop(start + 0.17);
    });
  },

  notificationsSupported() {
    return 'Notification' in window;
  },

  notificationsOn() {
    return this.notificationsSupported() && Notification.permission === 'granted';
  },

  /** Ask for desktop notifications (from a click). Resolves with the permission. */
  async requestNotifications() {
    this.unlock();
    if (!this.notificationsSupported()) return 'unsupported';
    if (Notification.permission !== 'default') return Notification.permission;
    return Notification.requestPermission();
  },

  /** A desktop notification (one per tag); clicking it focuses the console and calls onClick. */
  notify(title, body, tag, onClick) {
    if (!this.notificationsOn()) return;
    try {
      const notification = new Notification(title, { body: body, tag: tag });
      notification.onclick = () => {
        window.focus();
        notification.close();
        onClick();
      };
    } catch (error) {
      /* Some browsers only allow notifications from a service worker: the sound and list still show it. */
    }
  },
};
