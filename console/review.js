/**
 * Staff console: the Conversations tab, tying the filter list (ReviewListView) to the open
 * conversation (ReviewDetailView) and loading the annotate/tag pickers (`api/review/choices`) once
 * per sign-in.
 */
import { ReviewApi } from './review-api.js';
import { ReviewDetailView } from './review-detail.js';
import { ReviewListView } from './review-list.js';

export class ReviewTab {
  constructor() {
    this.intents = [];
    this.loaded = false;
    this.list = new ReviewListView((id) => this.open(id));
    this.detail = new ReviewDetailView({
      intents: () => this.intents,
      onChanged: () => this.list.refresh(),
    });
  }

  /** The tab was shown: first time after sign-in, load the pickers and the first page. */
  async show(user) {
    this.list.setAdmin(Boolean(user) && user.role === 'admin');
    if (this.loaded) return;
    this.loaded = true;
    await Promise.all([this.loadChoices(), this.list.apply()]);
  }

  /** Open a conversation (from the list, or from the Insights page). */
  open(id) {
    this.list.select(id);
    return this.detail.open(id);
  }

  /** Signed out: forget everything. */
  clear() {
    this.loaded = false;
    this.intents = [];
    this.list.clear();
    this.detail.reset();
  }

  /** @private */
  async loadChoices() {
    try {
      const choices = await ReviewApi.choices();
      this.intents = Array.isArray(choices.intents) ? choices.intents : [];
      this.list.setChoices(choices);
    } catch (error) {
      this.loaded = false; /* try again next time the tab opens */
    }
  }
}
