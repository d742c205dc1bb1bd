"""Website visitors: their signed session tokens, starting and ending sessions, and the limits on what they send."""
