"""The hub on Redis pub/sub, shared by several server processes (`get_hub()` picks it when `REDIS_URL` is set).

A topic is the Redis channel `clinic:hub:<topic>`. Each process keeps its callbacks itself and holds
one redis-py `PubSub` connection, subscribed to exactly the topics that have a callback here: the
first callback of a topic SUBSCRIBEs, the last one to go UNSUBSCRIBEs. A reader task takes what
Redis sends; a dispatcher task calls the callbacks one message at a time, in arrival order (a
callback that publishes therefore never waits on the reader).

Publishing never waits on Redis: `publish` puts the frame in a bounded outbox
(`bot.realtime.outbox`) and returns; a publisher task sends the frames in order on pooled
connections. A full outbox drops its oldest activity frame (typing, presence), never a message.

Ordering: a `subscribe` made in this process before a `publish` or `subscribers` call is in force
on Redis before that frame or question goes out (the publisher first waits, briefly, for Redis to
confirm the pending SUBSCRIBE and UNSUBSCRIBE commands). So a process hears its own publish on a
topic it has just subscribed to, and a visitor who leaves is no longer counted.

Redis down or restarted: nothing raises to callers and no caller waits. The `PubSub` connection
sends a health-check PING when it has been idle for `HEALTH_CHECK_S`, and reconnects with
`Retry(ExponentialBackoff())` (0.1 s doubling to 2 s), subscribing again to its topics; the
outage and the recovery are logged once each. A frame that cannot be sent after a few quick
retries fails, and so does every frame queued behind it: each lost message is logged as an error
(its kind and topic kind only, never its content), lost activity is counted. `subscribers` answers
0. Pub/sub keeps nothing: ticket changes reach the consoles through the ticket watchers'
reconciliation, and messages stay in the conversation's history.

A hub lives in one event loop: it connects on first use there; `close()` sends what is queued and stops it.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Dict, Set, Tuple

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.realtime.hub import Callback, LocalCallbacks, Message, Unsubscribe, is_activity
from bot.realtime.outbox import Outbox, Outgoing

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "clinic:hub:"
FIRST_BACKOFF_S = 0.1
MAX_BACKOFF_S = 2.0
PUBLISH_RETRIES = 2  # then the frame fails, with every frame queued behind it
CONNECT_TIMEOUT_S = 1.0
COMMAND_TIMEOUT_S = 1.0
HEALTH_CHECK_S = 10.0
READ_SLICE_S = 1.0  # the reader's longest wait for a message, so it runs the health check in time
SETTLE_S = 1.0
CLOSE_FLUSH_S = 3.0
OUTBOX_LIMIT = 1000
# The pub/sub connection always listens on this topic (nobody publishes on it): with a subscription,
# redis-py's PubSub commands only send, so `_sync` never reads beside the reader (its health check would).
READER_TOPIC = "~reader"
Errors = (RedisError, OSError)
# Failures worth another try: the client's `retry_on_error` (a refused connection is an OSError).
RETRY_ON = [RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError]


def encode(message: Message) -> bytes:
    """A message as the JSON that travels through Redis."""
    return json.dumps(message, ensure_ascii=False, default=str).encode()


def client(url: str, retries: int, **options: Any) -> Redis:
    """A redis-py client that retries connection failures with exponential backoff."""
    return Redis.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=COMMAND_TIMEOUT_S, socket_keepalive=True,
        retry=Retry(ExponentialBackoff(cap=MAX_BACKOFF_S, base=FIRST_BACKOFF_S / 2), retries),
        retry_on_error=RETRY_ON, **options)


class RedisHub:
    """Publish/subscribe across processes through Redis; the same interface as `InProcessHub`."""

    def __init__(self, url: str, prefix: str = CHANNEL_PREFIX) -> None:
        """Nothing connects yet: the hub connects on first use in the event loop."""
        self._prefix = prefix
        self._client = client(url, PUBLISH_RETRIES)
        self._listener = client(url, -1, health_check_interval=HEALTH_CHECK_S)  # retries forever
        self._pubsub = self._listener.pubsub()
        self._callbacks = LocalCallbacks(self._topics_changed)
        self._listening = False  # the pub/sub connection is up and its subscriptions sent
        self._away = False  # Redis was found unreachable and has not answered since
        self._failures = 0  # pub/sub connection failures since it last worked
        self._confirmed: Set[str] = set()  # what Redis says the connection is subscribed to
        self._confirmation = asyncio.Event()  # set (and replaced) whenever `_confirmed` changes
        self._sync_lock = asyncio.Lock()
        self._sync_scheduled = False
        self._outbox = Outbox(OUTBOX_LIMIT)
        self._inbox: "asyncio.Queue[Tuple[str, bytes]]" = asyncio.Queue()
        self._tasks: Dict[str, asyncio.Task] = {}
        self._background: Set[asyncio.Task] = set()
        self._lost = 0

    # The hub's interface.

    async def publish(self, topic: str, message: Message) -> None:
        """Queue `message` for every process subscribed to `topic`; returns at once."""
        item = Outgoing(topic, encode(message), str(message.get("type", "untyped")), is_activity(message))
        self._start()
        if not self._outbox.put(item) and not item.activity:
            logger.error("hub: a %s was not delivered: the outgoing queue is full", item.label())

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
        await self._settle()
        try:
            [(_, count)] = await self._client.pubsub_numsub(self._channel(topic))
        except Errors as error:
            logger.debug("hub: could not count the subscribers (%s)", type(error).__name__)
            return 0
        return int(count)

    async def close(self) -> None:
        """Send what is queued (for a few seconds at most), stop the tasks and close the connections.

        A later use starts them again.
        """
        if "publisher" in self._tasks:
            try:
                await asyncio.wait_for(self._outbox.flushed(), CLOSE_FLUSH_S)
            except asyncio.TimeoutError:
                logger.warning("hub: closed with %d frames not sent", len(self._outbox))
        tasks = [*self._tasks.values(), *self._background]
        self._tasks = {}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._sync_scheduled = self._listening = self._away = False
        self._confirmed.clear()
        await self._pubsub.reset()
        await self._listener.close(close_connection_pool=True)
        await self._client.close(close_connection_pool=True)

    # Subscriptions.

    def _channel(self, topic: str) -> str:
        return self._prefix + topic

    def _start(self) -> None:
        """Start the reader, the dispatcher and the publisher on the running loop, once (again after `close`)."""
        if not self._tasks:
            self._inbox, self._outbox = asyncio.Queue(), Outbox(OUTBOX_LIMIT)
            self._confirmation, self._sync_lock = asyncio.Event(), asyncio.Lock()
            self._tasks = {name: asyncio.create_task(work(), name=f"hub-redis-{name}") for name, work in (
                ("reader", self._read_forever), ("dispatcher", self._dispatch_forever),
                ("publisher", self._publish_forever))}

    def _topics_changed(self) -> None:
        """A topic got its first callback or lost its last: tell Redis soon (on the running loop)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: the reader subscribes to every topic once it has connected
        self._start()
        self._schedule_sync()

    def _schedule_sync(self) -> None:
        if not self._sync_scheduled:
            self._sync_scheduled = True
            task = asyncio.create_task(self._sync())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _sync(self) -> None:
        """SUBSCRIBE / UNSUBSCRIBE so the connection follows the topics with callbacks.

        Only on a live connection: reconnecting is the reader's job (and it calls this afterwards).
        """
        self._sync_scheduled = False
        async with self._sync_lock:
            connection = self._pubsub.connection
            if not self._listening or connection is None or not connection.is_connected:
                return
            wanted = {self._channel(topic) for topic in self._wanted()}
            current = {c.decode() for c in self._pubsub.channels} - {
                c.decode() for c in self._pubsub.pending_unsubscribe_channels}
            add, drop = wanted - current, current - wanted
            try:
                if add:
                    await self._pubsub.subscribe(*sorted(add))
                if drop:
                    await self._pubsub.unsubscribe(*sorted(drop))
            except Errors as error:  # the connection broke; the reader reconnects and calls this again
                logger.debug("hub: could not change the subscriptions (%s)", type(error).__name__)

    def _wanted(self) -> Set[str]:
        return self._callbacks.topics() | {READER_TOPIC}

    def _settled(self, topics: Set[str]) -> bool:
        wanted = self._wanted()
        return all((topic in wanted) == (topic in self._confirmed) for topic in topics)

    async def _settle(self) -> None:
        """Wait (up to `SETTLE_S`) until Redis confirmed the subscription changes made so far; not while away."""
        topics = self._wanted() | self._confirmed
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_S
        while not self._away and not self._settled(topics):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(self._confirmation.wait(), remaining)
            except asyncio.TimeoutError:
                return

    def _confirmed_changed(self) -> None:
        self._confirmation.set()
        self._confirmation = asyncio.Event()

    # The reader, the dispatcher and the publisher.

    async def _read_forever(self) -> None:
        """Read what Redis sends; after a failure the next read reconnects (redis-py, with backoff)."""
        backoff = ExponentialBackoff(cap=MAX_BACKOFF_S, base=FIRST_BACKOFF_S / 2)
        while True:
            try:
                if self._pubsub.connection is None:
                    await self._pubsub.subscribe(self._channel(READER_TOPIC))
                    connection: Any = self._pubsub.connection  # set by the subscription
                    connection.register_connect_callback(self._connected)
                    await self._connected(connection)
                message = await self._pubsub.get_message(timeout=READ_SLICE_S)
            except Errors as error:
                self._connection_lost(error)
                await asyncio.sleep(backoff.compute(self._failures))
                continue
            if message is not None:
                self._handle(message)

    async def _connected(self, _: Any) -> None:
        """The pub/sub connection is up (redis-py has subscribed again to its channels): follow the topics."""
        self._listening, self._away = True, False
        if self._failures:
            logger.info("hub: Redis pub/sub connection back")
            self._failures = 0
        self._schedule_sync()

    def _connection_lost(self, error: Exception) -> None:
        self._listening, self._away = False, True
        if self._confirmed:
            self._confirmed.clear()
            self._confirmed_changed()
        self._failures += 1
        if self._failures == 1:
            logger.warning("hub: Redis pub/sub connection lost (%s); reconnecting in the background",
                           type(error).__name__)

    def _handle(self, message: Dict[str, Any]) -> None:
        """A message goes to the dispatcher; a (un)subscribe confirmation updates `_confirmed`."""
        channel = message.get("channel")
        if not isinstance(channel, bytes) or not channel.startswith(self._prefix.encode()):
            return  # a health-check reply
        topic = channel.decode()[len(self._prefix):]
        kind = message.get("type")
        if kind == "message":
            self._inbox.put_nowait((topic, message["data"]))
        elif kind == "subscribe":
            self._confirmed.add(topic)
            self._confirmed_changed()
        elif kind == "unsubscribe":
            self._confirmed.discard(topic)
            self._confirmed_changed()

    async def _dispatch_forever(self) -> None:
        """Call the callbacks for each message, in the order Redis delivered them."""
        while True:
            topic, data = await self._inbox.get()
            try:
                message = json.loads(data)
            except ValueError:
                logger.warning("hub: ignored a %s message that is not JSON", topic.split(":")[0])
                continue
            await self._callbacks.deliver(topic, message)

    async def _publish_forever(self) -> None:
        """Send the queued frames in order; a failure fails the frames queued behind it too."""
        while True:
            item = await self._outbox.get()
            await self._settle()
            try:
                await self._client.publish(self._channel(item.topic), item.data)
            except Errors as error:
                self._away = True
                failed = [item, *self._outbox.take_all()]
                self._fail(failed, error)
                self._outbox.done(len(failed))
                continue
            self._outbox.done()
            if self._lost or self._outbox.dropped_activity:
                logger.info("hub: Redis reachable again; %d messages and %d activity frames were lost meanwhile",
                            self._lost, self._outbox.dropped_activity)
                self._lost = self._outbox.dropped_activity = 0

    def _fail(self, items: list, error: Exception) -> None:
        """Log each lost message (kind only); count lost activity."""
        for item in items:
            if item.activity:
                self._outbox.dropped_activity += 1
            else:
                self._lost += 1
                logger.error("hub: a %s was not delivered: Redis unreachable (%s)", item.label(), type(error).__name__)
