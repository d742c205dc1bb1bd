"""Closing open console sockets when a login ends: a `kill` message through the hub, to every server.

A logout, a disabled account or an expiry seen by one server must close the console sockets that
session or account has open on any server. The server where it happened publishes
`{"type": "kill", "reason", "session_key"? , "staff_id"?}` on the `staff_sessions` topic;
each console socket closes itself (`bot.channels.console_socket`) when the message names its
session or its account. With `REDIS_URL` the command line (`staff_cli disable`) publishes it too;
without Redis there is no way to reach the servers from another process, and their sockets notice
at their next periodic session check instead (`STAFF_SOCKET_CHECK_SECONDS`).
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional

from bot.realtime.hub import SESSIONS_TOPIC, Hub
from bot.settings import redis_url

REASONS = ("logout", "expired", "disabled")


def kill_frame(reason: str, *, staff_id: Optional[int] = None, session_key: Optional[str] = None) -> Dict[str, Any]:
    """The message that closes the sockets of one session (`session_key`) or of a whole account (`staff_id`)."""
    if reason not in REASONS:
        raise ValueError(f"reason must be one of {REASONS}")
    if staff_id is None and not session_key:
        raise ValueError("name a session or an account")
    return {"type": "kill", "reason": reason, "staff_id": staff_id, "session_key": session_key}


def matches(frame: Dict[str, Any], staff_id: int, session_key: str) -> bool:
    """Whether a kill message is about this socket's session or account."""
    if frame.get("type") != "kill":
        return False
    return frame.get("session_key") == session_key or (frame.get("staff_id") is not None
                                                       and frame.get("staff_id") == staff_id)


async def announce(hub: Hub, reason: str, *, staff_id: Optional[int] = None,
                   session_key: Optional[str] = None) -> None:
    """Tell every server's console sockets (never raises: the periodic check is the safety net)."""
    await hub.publish(SESSIONS_TOPIC, kill_frame(reason, staff_id=staff_id, session_key=session_key))


def announce_from_command_line(reason: str, staff_id: int) -> bool:
    """From a command line: publish through Redis when `REDIS_URL` is set; False when no server can be told."""
    url = redis_url()
    if not url:
        return False
    from bot.realtime.redis_hub import RedisHub

    async def publish() -> None:
        hub = RedisHub(url)
        try:
            await announce(hub, reason, staff_id=staff_id)
        finally:
            await hub.close()

    asyncio.run(publish())
    return True
