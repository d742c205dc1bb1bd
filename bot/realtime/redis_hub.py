"""The hub on Redis pub/sub, shared by several server processes (`get_hub()` picks it when `REDIS_URL` is set).

A topic is the Redis channel `clinic:hub:<topic>`. Each process keeps its callbacks itself and holds
one pub/sub connection, subscribed to exactly the topics that have a callback here: the first
callback of a topic SUBSCRIBEs, the last one to go UNSUBSCRIBEs. A reader task takes what Redis
sends; a dispatcher task calls the callbacks one message at a time, in arrival order (a callback
that publishes therefore never waits on the reader). Publishing and PUBSUB NUMSUB use other,
pooled connections.

Ordering: a `subscribe` made in this process before a `publish` or `subscribers` call is in force
on Redis before that call goes out (both first wait, briefly, for Redis to confirm the pending
SUBSCRIBE and UNSUBSCRIBE commands). So a process hears its own publish on a topic it has just
subscribed to, and a visitor who leaves is no longer counted.

Redis down or restarted: nothing raises to callers. The reader reconnects with backoff (0.1 s
doubling to 2 s) and subscribes again to every topic with a callback here, logging the outage
once and the recovery once. `publish` retries for about 2 s, then drops the frame with a warning;
`subscribers` answers 0. Pub/sub keeps nothing, so frames published during an outage are lost:
ticket changes still reach each server's consoles through its ticket watcher's poll, and messages
stay in the conversation's history.

A hub lives in one event loop: it connects on first use there; `close()` stops it.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Optional, Set, Tuple

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from bot.realtime.hub import Callback, LocalCallbacks, Message, Unsubscribe

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "clinic:hub:"
FIRST_BACKOFF_S = 0.1
MAX_BACKOFF_S = 2.0
PUBLISH_BUDGET_S = 2.0
COUNT_SETTLE_S = 1.0
CONNECT_TIMEOUT_S = 1.0
COMMAND_TIMEOUT_S = 1.0
# After this long without a word from Redis the reader sends PING; no answer in as long again: reconnect.
HEARTBEAT_S = 15.0
Errors = (RedisError, OSError)


def encode(message: Message) -> bytes:
    """A message as the JSON that travels through Redis."""
    return json.dumps(message, ensure_ascii=False, default=str).encode()


class RedisHub:
    """Publish/subscribe across processes through Redis; the same interface as `InProcessHub`."""

    def __init__(self, url: str, prefix: str = CHANNEL_PREFIX) -> None:
        """Nothing connects yet: the hub connects on first use in the event loop."""
        self._prefix = prefix
        self._pool = ConnectionPool.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=COMMAND_TIMEOUT_S)
        self._client = Redis(connection_pool=self._pool)
        self._callbacks = LocalCallbacks(self._topics_changed)
        self._connection: Optional[AbstractConnection] = None  # the pub/sub connection, while it works
        self._requested: Set[str] = set()  # SUBSCRIBE sent on the current connection, UNSUBSCRIBE not
        self._confirmed: Set[str] = set()  # what Redis says this connection is subscribed to
        self._confirmation = asyncio.Event()  # set (and replaced) whenever `_confirmed` changes
        self._write_lock = asyncio.Lock()
        self._sync_scheduled = False
        self._queue: "asyncio.Queue[Tuple[str, bytes]]" = asyncio.Queue()
        self._reader: Optional[asyncio.Task] = None
        self._dispatcher: Optional[asyncio.Task] = None
        self._background: Set[asyncio.Task] = set()
        self._dropped = 0

    # The hub's interface.

    async def publish(self, topic: str, message: Message) -> None:
        """Send `message` to every process subscribed to `topic`; unreachable Redis drops it (logged)."""
        data = encode(message)
        self._start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PUBLISH_BUDGET_S
        await self._settle(PUBLISH_BUDGET_S)
        delay = FIRST_BACKOFF_S
        while True:
            try:
                await self._client.publish(self._channel(topic), data)
            except Errors as error:
                if loop.time() + delay < deadline:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, MAX_BACKOFF_S)
                    continue
                self._drop(topic, error)
                return
            if self._dropped:
                logger.info("hub: Redis reachable again; %d frames were dropped meanwhile", self._dropped)
                self._dropped = 0
            return

    async def publish_local(self, topic: str, message: Message) -> None:
        """Call this process's callbacks of `topic` (with the message as Redis would carry it)."""
        await self._callbacks.deliver(topic, json.loads(encode(message)))

    def subscribe(self, topic: str, callback: Callback) -> Unsubscribe:
        """Add a callback; the returned function removes it (calling it twice is harmless).

        Redis is told on the running event loop, right after this returns; a later `publish`
        or `subscribers` call from this process waits for it.
        """
        return self._callbacks.add(topic, callback)

    async def subscribers(self, topic: str) -> int:
        """How many processes listen on `topic` (PUBSUB NUMSUB); 0 when Redis cannot be asked."""
        self._start()
        await self._settle(COUNT_SETTLE_S)
        try:
            [(_, count)] = await self._client.pubsub_numsub(self._channel(topic))
        except Errors as error:
            logger.debug("hub: could not count the subscribers (%s)", error)
            return 0
        return int(count)

    async def close(self) -> None:
        """Stop the reader and dispatcher and close the connections (a later use starts them again)."""
        tasks = [task for task in (self._reader, self._dispatcher, *self._background) if task is not None]
        self._reader = self._dispatcher = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._sync_scheduled = False
        await self._pool.disconnect()

    # Subscriptions.

    def _channel(self, topic: str) -> str:
        return self._prefix + topic

    def _topic(self, channel: bytes) -> str:
        return channel.decode()[len(self._prefix):]

    def _start(self) -> None:
        """Start the reader and the dispatcher on the running loop, once."""
        if self._reader is None:
            self._queue = asyncio.Queue()
            self._reader = asyncio.create_task(self._read_forever(), name="hub-redis-reader")
            self._dispatcher = asyncio.create_task(self._dispatch_forever(), name="hub-redis-dispatcher")

    def _topics_changed(self) -> None:
        """A topic got its first callback or lost its last: tell Redis soon (on the running loop)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: the reader subscribes to every topic when it connects
        self._start()
        if not self._sync_scheduled:
            self._sync_scheduled = True
            task = asyncio.create_task(self._sync())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _sync(self) -> None:
        """Send SUBSCRIBE / UNSUBSCRIBE so the connection follows the topics with callbacks."""
        self._sync_scheduled = False
        async with self._write_lock:
            connection = self._connection
            if connection is None or not connection.is_connected:
                return  # the reader subscribes to every topic once it is connected again
            wanted = self._callbacks.topics()
            add, drop = wanted - self._requested, self._requested - wanted
            try:
                if add:
                    self._requested |= add
                    await connection.send_command("SUBSCRIBE", *(self._channel(t) for t in sorted(add)))
                if drop:
                    self._requested -= drop
                    await connection.send_command("UNSUBSCRIBE", *(self._channel(t) for t in sorted(drop)))
            except Errors as error:  # the connection is closed now; the reader starts over
                logger.debug("hub: could not change the subscriptions (%s)", error)

    def _settled(self, topics: Set[str]) -> bool:
        wanted = self._callbacks.topics()
        return all((topic in wanted) == (topic in self._confirmed) for topic in topics)

    async def _settle(self, timeout: float) -> bool:
        """Wait until Redis confirmed the subscription changes made so far (False after `timeout`)."""
        topics = self._callbacks.topics() | self._confirmed
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._settled(topics):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._confirmation.wait(), remaining)
            except asyncio.TimeoutError:
                return False
        return True

    def _confirmed_changed(self) -> None:
        self._confirmation.set()
        self._confirmation = asyncio.Event()

    # The reader and the dispatcher.

    async def _read_forever(self) -> None:
        """Hold the pub/sub connection: connect, subscribe, read; after a failure, again with backoff."""
        loop = asyncio.get_running_loop()
        delay = FIRST_BACKOFF_S
        outage = False
        while True:
            connection = self._pool.connection_class(**{**self._pool.connection_kwargs, "socket_timeout": None})
            connected_at = loop.time()
            try:
                await connection.connect()
                self._connection = connection
                self._requested = set()
                await self._sync()
                if outage:
                    logger.info("hub: Redis pub/sub connection back; %d topics subscribed again",
                                   len(self._requested))
                    outage = False
                await self._read(connection)
            except Errors as error:
                if not outage:
                    logger.warning("hub: Redis pub/sub connection lost (%s); reconnecting in the background", error)
                    outage = True
            except Exception:  # a bug must not end the relay for good
                logger.exception("hub: the Redis reader failed; reconnecting")
            finally:
                self._connection = None
                self._requested = set()
                if self._confirmed:
                    self._confirmed.clear()
                    self._confirmed_changed()
                await connection.disconnect(nowait=True)
            if loop.time() - connected_at > MAX_BACKOFF_S:
                delay = FIRST_BACKOFF_S  # the connection had worked for a while: a fresh outage
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_S)

    async def _read(self, connection: AbstractConnection) -> None:
        """Read replies until the connection fails, pinging when Redis has been silent."""
        pinged = False
        while True:
            reply = await connection.read_response(timeout=HEARTBEAT_S)
            if reply is None:
                if pinged:
                    raise RedisConnectionError("Redis did not answer PING")
                async with self._write_lock:
                    await connection.send_command("PING")
                pinged = True
                continue
            pinged = False
            self._handle(reply)

    def _handle(self, reply: Any) -> None:
        """A message goes to the dispatcher; a (un)subscribe confirmation updates `_confirmed`."""
        if not isinstance(reply, list) or len(reply) < 3:
            return  # PONG
        kind, channel = reply[0], reply[1]
        if kind == b"message":
            self._queue.put_nowait((self._topic(channel), reply[2]))
        elif kind == b"subscribe":
            self._confirmed.add(self._topic(channel))
            self._confirmed_changed()
        elif kind == b"unsubscribe":
            self._confirmed.discard(self._topic(channel))
            self._confirmed_changed()

    async def _dispatch_forever(self) -> None:
        """Call the callbacks for each message, in the order Redis delivered them."""
        while True:
            topic, data = await self._queue.get()
            try:
                message = json.loads(data)
            except ValueError:
                logger.warning("hub: ignored a %s message that is not JSON", topic.split(":")[0])
                continue
            await self._callbacks.deliver(topic, message)

    def _drop(self, topic: str, error: Exception) -> None:
        """Log the first frame dropped in an outage; count the others."""
        if not self._dropped:
            logger.warning("hub: Redis unreachable (%s); dropping %s frames until it is back",
                           error, topic.split(":")[0])
        self._dropped += 1
