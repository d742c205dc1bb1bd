"""Custom actions for the clinic assistant, served by `python -m bot.actions.server` (rasa_sdk).

One module per concern: clinic facts and live-chat hours, the session start, condition answers,
context follow-ups, the other questions of a message, the two-stage fallback, the hand-off (form, messages, tickets, submit) and
the crisis alert.
"""
