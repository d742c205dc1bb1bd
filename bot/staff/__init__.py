"""Staff of the clinic: accounts, passwords, one-time codes, sign-in, sessions, throttling and the CLI."""
