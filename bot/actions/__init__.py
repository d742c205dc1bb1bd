"""Custom actions for the clinic assistant, served by `python -m bot.actions.server` (rasa_sdk).

One module per concern: clinic facts and the session start, condition answers, context
follow-ups, and the two-stage fallback.
"""
