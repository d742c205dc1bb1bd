"""Rasa input channels served by `rasa run`: the visitor websocket (`web`)."""
