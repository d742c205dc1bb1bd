"""Storage: engines and sessions, the project's tables and their migrations, Rasa's tracker and lock stores, the audit log."""
