"""The lock store: in memory by default, Redis with `REDIS_URL`, and tickets unique across servers."""
from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Iterator, List

import pytest
from rasa.core.lock_store import InMemoryLockStore

from bot.store.lock_store import AtomicRedisLockStore, ClinicLockStore
from cluster.services import Service, start_redis


@pytest.fixture(scope="module")
def redis_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A real redis-server on a free loopback port."""
    service = start_redis(tmp_path_factory.mktemp("lock-redis"))
    yield service
    service.stop()


def test_default_is_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("SANIC_WORKERS", raising=False)
    assert isinstance(ClinicLockStore(), InMemoryLockStore)


def test_several_workers_without_redis_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("SANIC_WORKERS", "2")
    with pytest.raises(ValueError, match="REDIS_URL"):
        ClinicLockStore()


def test_redis_url_gives_the_redis_store(monkeypatch: pytest.MonkeyPatch, redis_service: Service) -> None:
    monkeypatch.setenv("REDIS_URL", redis_service.url)
    store = ClinicLockStore()
    assert isinstance(store, AtomicRedisLockStore)
    assert store.red.ping()


def test_two_servers_taking_tickets_at_once_never_share_one(redis_service: Service) -> None:
    """Eight 'servers' (own connections) take 25 tickets each for one conversation, all at once."""
    stores = [AtomicRedisLockStore(redis_service.url) for _ in range(8)]
    tickets: List[int] = []
    guard = threading.Lock()
    start = threading.Barrier(len(stores))

    def take(store: AtomicRedisLockStore) -> None:
        start.wait()
        for _ in range(25):
            ticket = store.issue_ticket("race-conversation")
            with guard:
                tickets.append(ticket)

    threads = [threading.Thread(target=take, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(tickets) == list(range(200))
    for ticket in tickets:
        stores[0].cleanup("race-conversation", ticket)
    assert stores[0].get_lock("race-conversation") is None


def test_messages_for_one_conversation_are_served_one_at_a_time_in_order(redis_service: Service) -> None:
    """Two servers' lock stores: the second message waits for the first, then runs."""
    a, b = AtomicRedisLockStore(redis_service.url), AtomicRedisLockStore(redis_service.url)
    served: List[str] = []

    async def handle(store: AtomicRedisLockStore, name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        async with store.lock("ordered-conversation", wait_time_in_seconds=0.05):
            served.append(f"{name} start")
            await asyncio.sleep(0.3)
            served.append(f"{name} end")

    async def both() -> None:
        await asyncio.gather(handle(a, "first", 0), handle(b, "second", 0.05))

    asyncio.run(both())
    assert served == ["first start", "first end", "second start", "second end"]
    assert a.get_lock("ordered-conversation") is None


def test_unreachable_redis_is_a_lock_error_not_a_hang(tmp_path: Path) -> None:
    from rasa.core.lock_store import LockError

    store = AtomicRedisLockStore("redis://127.0.0.1:1/0")
    with pytest.raises(LockError):
        store.issue_ticket("nowhere")
