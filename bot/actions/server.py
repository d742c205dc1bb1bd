"""Entry point of the action server: rasa_sdk's app, bound to loopback by default.

`rasa run actions` listens on 0.0.0.0; this entry point binds to `ACTIONS_HOST` (default
127.0.0.1), takes a larger listen backlog than Sanic's 100 for bursts of new conversations, and
keeps a new connection open longer than Sanic's 5 s idle limit (`ACTIONS_IDLE_SECONDS`, default
75). Rasa opens one connection per action call; when 200 conversations start at once its event
loop can take more than 5 s between connecting and writing the request, and Sanic would close
the connection under it ("Cannot write to closing transport"), losing the visitor's first reply.

Before serving it checks that the database is at the code's schema revision
(`bot.store.migrate.require_current_schema`) and refuses to start, saying to run `make migrate`,
when it is not. If the database cannot be reached at all, the server still starts (answers and
crisis resources do not need it) and hand-off requests wait in the pending file.

Usage: python -m bot.actions.server [--port 5055] [--backlog 2048]
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import List, Optional

from rasa_sdk.endpoint import create_app

from bot.settings import SettingsError, get_settings
from bot.store.migrate import SchemaNotCurrentError, require_current_schema

DEFAULT_PORT = 5055
DEFAULT_BACKLOG = 2048


def check_database() -> None:
    """Refuse (SchemaNotCurrentError) a database behind the code; an unreachable one is logged, not fatal."""
    try:
        require_current_schema()
    except SchemaNotCurrentError:
        raise
    except Exception:  # the assistant must keep answering even without its database
        logging.getLogger(__name__).exception(
            "Could not reach the database; hand-off requests will wait in the pending file")


def main(argv: Optional[List[str]] = None) -> None:
    """Serve the actions in `bot.actions` until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--backlog", type=int, default=DEFAULT_BACKLOG)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-8s %(name)s - %(message)s")
    try:
        settings = get_settings()
        check_database()
    except (SettingsError, SchemaNotCurrentError) as error:
        sys.exit(f"The action server cannot start: {error}")
    app = create_app("bot.actions", cors_origins=None)
    app.config.KEEP_ALIVE_TIMEOUT = settings.actions_idle_seconds
    host = settings.actions_host
    logging.getLogger(__name__).info("Action server on http://%s:%s", host, args.port)
    app.run(host, args.port, backlog=args.backlog, access_log=False)


if __name__ == "__main__":
    main()
