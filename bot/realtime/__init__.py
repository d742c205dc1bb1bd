"""The hub that relays live events between visitor sockets and staff consoles, in one process or over Redis."""
