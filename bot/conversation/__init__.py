"""The one reader and writer of Rasa's events: transcript items, hand-off state, and appends under the lock."""
