"""Reading a conversation's truth from Rasa's tracker: its hand-off state and who has the chat."""
