"""Storage: where conversations (and later the project's own tables) are kept."""
