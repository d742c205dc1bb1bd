"""Entry point of the action server: rasa_sdk's app, bound to loopback by default.

`rasa run actions` listens on 0.0.0.0; this entry point binds to `ACTIONS_HOST` (default
127.0.0.1) and takes a larger listen backlog than Sanic's 100 for bursts of new conversations.
(The larger backlog alone did not stop the action-call failures `make bench` shows when 200
conversations start at once; see the open Website chat issue.)

Usage: python -m bot.actions.server [--port 5055] [--backlog 2048]
"""
from __future__ import annotations

import argparse
import logging
import os
from typing import List, Optional

from rasa_sdk.endpoint import create_app

DEFAULT_PORT = 5055
DEFAULT_BACKLOG = 2048


def main(argv: Optional[List[str]] = None) -> None:
    """Serve the actions in `bot.actions` until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--backlog", type=int, default=DEFAULT_BACKLOG)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-8s %(name)s - %(message)s")
    host = os.environ.get("ACTIONS_HOST", "127.0.0.1")
    app = create_app("bot.actions", cors_origins=None)
    logging.getLogger(__name__).info("Action server on http://%s:%s", host, args.port)
    app.run(host, args.port, backlog=args.backlog, access_log=False)


if __name__ == "__main__":
    main()
