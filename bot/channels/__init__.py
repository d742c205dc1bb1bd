"""Rasa input channels served by `rasa run`, thin transport only: the visitor socket (`web`), the staff console, REST."""
