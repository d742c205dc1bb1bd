"""Starting, resuming and ending a visitor's conversation: the signed token and the server's record.

A presented (session id, token) resumes its conversation only if the token is this server's, for
that id, not expired (`bot.visitors.tokens`) and the visitor has not ended the conversation
("End chat and clear", kept in `bot.visitors.ended_sessions`). Anything else gets a new conversation.
The database is read on a worker thread, never on the event loop; when it cannot be read, the
caller gets `SessionStoreUnavailable` rather than a guess.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Optional, Protocol

from sqlalchemy.exc import SQLAlchemyError

from bot.visitors.ended_sessions import conversation_ended, end_conversation
from bot.visitors.tokens import SessionSigner, TokenCheck, new_session_id, parse_session_id

logger = logging.getLogger(__name__)


class SessionStoreUnavailable(RuntimeError):
    """Whether a conversation was ended cannot be read or written right now."""


@dataclass(frozen=True)
class SessionGrant:
    """The conversation a socket is bound to, and whether it is the one the visitor presented."""

    session_id: str
    token: str
    resumed: bool
    refused: Optional[str] = None   # why a presented session was not resumed: invalid, expired, ended


class EndedSessions(Protocol):
    """Where ended conversations are recorded."""

    async def is_ended(self, conversation_id: str) -> bool:
        """Whether the visitor ended the conversation."""

    async def end(self, conversation_id: str) -> None:
        """Record that the visitor ended it."""


class DatabaseEndedSessions:
    """Ended conversations in the project's database (`ended_visitor_sessions`), read on a worker thread."""

    def __init__(self, keep_for: timedelta) -> None:
        """`keep_for`: the token lifetime (older records are dropped: their tokens have expired)."""
        self.keep_for = keep_for

    async def is_ended(self, conversation_id: str) -> bool:
        """Whether the visitor ended the conversation."""
        try:
            return await asyncio.to_thread(conversation_ended, conversation_id)
        except SQLAlchemyError as error:
            raise SessionStoreUnavailable(type(error).__name__) from error

    async def end(self, conversation_id: str) -> None:
        """Record that the visitor ended it."""
        try:
            await asyncio.to_thread(end_conversation, conversation_id, self.keep_for)
        except SQLAlchemyError as error:
            raise SessionStoreUnavailable(type(error).__name__) from error


class VisitorSessions:
    """Binds sockets to conversations: resume with a good token, else start fresh; end on request."""

    def __init__(self, signer: SessionSigner, ended: EndedSessions) -> None:
        """`signer` issues and checks tokens; `ended` remembers conversations their visitors ended."""
        self.signer = signer
        self.ended = ended

    def owned(self, session_id: object, token: object) -> Optional[str]:
        """The session id if `token` proves ownership of it now (ended or not), else None."""
        return parse_session_id(session_id) if self.signer.is_valid(session_id, token) else None

    async def resume_or_start(self, session_id: object, token: object) -> SessionGrant:
        """The presented conversation if its token is good and it was not ended, else a new one."""
        check = self.signer.check(session_id, token)
        if check is TokenCheck.VALID:
            sid = str(session_id)
            if not await self.ended.is_ended(sid):
                return SessionGrant(sid, str(token), resumed=True)
            refused: Optional[str] = "ended"
        else:
            refused = None if session_id is None and token is None else check.value
        if refused:
            logger.info("a visitor's conversation was not resumed (%s token); a new one starts", refused)
        fresh = new_session_id()
        return SessionGrant(fresh, self.signer.token_for(fresh), resumed=False, refused=refused)

    async def end(self, session_id: str) -> None:
        """End the conversation for good: no token resumes it again."""
        await self.ended.end(session_id)
