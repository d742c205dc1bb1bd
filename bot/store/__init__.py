"""Storage: Rasa's tracker store and the project's own tables (staff, hand-off tickets, review), with migrations."""
