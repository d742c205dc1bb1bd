"""Custom actions for the clinic assistant, served by `rasa run actions --actions bot.actions`.

One module per concern: clinic facts and the session start, condition answers, context
follow-ups, and the two-stage fallback.
"""
