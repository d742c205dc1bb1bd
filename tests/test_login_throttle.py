"""Sign-in throttling (`bot/channels/login_throttle*.py`): backoff per address and for everyone, IPv6 by
/64, in memory and in a real Redis shared by two "servers", and memory when Redis goes away; the
hashing executor's bound (`bot/staff/password_workers.py`)."""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Iterator

import pytest

from bot.staff.login_throttle import Backoff, LoginThrottle, MemoryFailures, address_key
from bot.staff.login_throttle_redis import RedisFailures
from bot.staff.password_workers import HashingBusy, PasswordWorkers
from cluster.services import Service, start_redis

PER_ADDRESS = Backoff(free=5, first_wait_s=1.0, max_wait_s=900)
EVERYONE = Backoff(free=100, first_wait_s=1.0, max_wait_s=60)


@pytest.fixture(scope="module")
def redis_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    service = start_redis(tmp_path_factory.mktemp("throttle-redis"))
    yield service
    service.stop()


def throttle(store=None) -> LoginThrottle:
    return LoginThrottle(store or MemoryFailures(), PER_ADDRESS, EVERYONE, window_s=900)


async def fail(t: LoginThrottle, address: str, times: int, now: float) -> None:
    for _ in range(times):
        await t.failed(address, now)


def test_backoff_doubles_after_the_free_failures_up_to_its_cap() -> None:
    assert [PER_ADDRESS.wait_s(n) for n in (0, 4, 5, 6, 7, 14, 15, 200)] == [0, 0, 1, 2, 4, 512, 900, 900]


def test_an_address_waits_longer_after_each_failure_and_others_do_not_wait() -> None:
    async def scenario() -> None:
        t, now = throttle(), 1_000_000.0
        await fail(t, "203.0.113.9", 5, now)
        refusal = await t.check("203.0.113.9", now + 0.1)
        assert refusal is not None and refusal.retry_after_s == 1 and refusal.scope == "address" and refusal.first
        assert (await t.check("203.0.113.9", now + 0.5)).first is False, "one audit entry per backoff step"
        assert await t.check("198.51.100.1", now + 0.1) is None
        assert await t.check("203.0.113.9", now + 1.1) is None, "the wait is over: one more try"
        await t.failed("203.0.113.9", now + 1.1)
        assert (await t.check("203.0.113.9", now + 1.2)).retry_after_s == 2
        assert await t.check("203.0.113.9", now + 901.2) is None, "failures leave the window"

    asyncio.run(scenario())


def test_ipv6_addresses_count_by_their_64_network() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("[2001:db8:1:2:ffff::9]") == "addr:2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:198.51.100.7") == address_key("198.51.100.7") == "addr:198.51.100.7"

    async def scenario() -> None:
        t, now = throttle(), 2_000_000.0
        for host in range(5):
            await t.failed(f"2001:db8:1:2::{host + 1}", now)
        assert await t.check("2001:db8:1:2:dead::beef", now + 0.1) is not None

    asyncio.run(scenario())


def test_spraying_from_many_addresses_slows_everyone_but_locks_nobody() -> None:
    async def scenario() -> None:
        t, now = throttle(), 3_000_000.0
        for i in range(100):
            await t.failed(f"10.0.{i // 250}.{i % 250}", now)
        refusal = await t.check("192.0.2.55", now + 0.2)
        assert refusal is not None and refusal.scope == "everyone" and refusal.retry_after_s == 1
        assert await t.check("192.0.2.55", now + 1.5) is None
        for i in range(20):
            await t.failed(f"10.1.0.{i}", now + 2)
        assert (await t.check("192.0.2.55", now + 2.1)).retry_after_s == 60, "capped at a minute, never a lock"

    asyncio.run(scenario())


def test_failures_are_shared_through_redis_by_two_servers(redis_service: Service) -> None:
    async def scenario() -> None:
        prefix = f"test:{time.time()}:"
        one, two = throttle(RedisFailures(redis_service.url, prefix)), throttle(RedisFailures(redis_service.url, prefix))
        now = time.time()
        await fail(one, "203.0.113.50", 3, now)
        await fail(two, "203.0.113.50", 2, now)
        assert await one.check("203.0.113.50", now + 0.1) is not None, "five failures, seen by both"
        assert await two.check("203.0.113.50", now + 0.1) is not None
        assert await two.check("203.0.113.51", now + 0.1) is None

    asyncio.run(scenario())


def test_redis_down_falls_back_to_memory_with_one_warning(caplog: pytest.LogCaptureFixture,
                                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    service = start_redis(tmp_path_factory.mktemp("throttle-redis-down"))
    store = RedisFailures(service.url, f"test:{time.time()}:")
    t = throttle(store)
    caplog.set_level(logging.WARNING)

    async def before() -> None:
        now = time.time()
        await fail(t, "203.0.113.77", 2, now)

    asyncio.run(before())
    service.stop()

    async def during() -> None:
        now = time.time()
        await fail(t, "203.0.113.77", 3, now)
        assert await t.check("203.0.113.77", now + 0.1) is not None, "all five counted, in memory"
        assert await t.check("203.0.113.78", now + 0.1) is None

    asyncio.run(during())
    warnings = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(warnings) == 1


def test_the_hashing_executor_is_bounded_and_separate() -> None:
    release = threading.Event()
    names = []

    async def scenario() -> None:
        workers = PasswordWorkers(workers=1, max_pending=2)

        def slow() -> str:
            names.append(threading.current_thread().name)
            release.wait(5)
            return "done"

        first = asyncio.create_task(workers._run(slow))
        second = asyncio.create_task(workers._run(slow))
        await asyncio.sleep(0.1)
        with pytest.raises(HashingBusy):
            await workers._run(slow)
        release.set()
        assert await first == await second == "done"
        assert await workers.verify(None, "anything") is False, "an unknown email is checked, and fails"
        workers.shutdown()

    asyncio.run(scenario())
    assert names and all(name.startswith("password-hash") for name in names), "not the default thread pool"


def test_a_parallel_burst_from_one_address_gets_no_more_than_the_free_attempts() -> None:
    async def scenario() -> int:
        t = throttle()
        checked = []

        async def attempt() -> None:
            async with t.one_at_a_time("203.0.113.200"):
                if await t.check("203.0.113.200") is None:
                    checked.append(1)
                    await asyncio.sleep(0.01)  # the password check
                    await t.failed("203.0.113.200")

        await asyncio.gather(*(attempt() for _ in range(12)))
        assert t._turns == {}, "nothing left behind"
        return len(checked)

    assert asyncio.run(scenario()) == 5
