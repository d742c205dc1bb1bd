"""Speed-ups installed into Rasa's server process (see each module's docstring for where and why)."""
