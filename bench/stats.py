"""Result records and the arithmetic on them (percentiles, rates, ratios)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np


def percentile_ms(latencies_s: Sequence[float], q: float) -> Optional[float]:
    """The q-th percentile in milliseconds (linear interpolation), None without samples."""
    if not latencies_s:
        return None
    return round(float(np.percentile(np.asarray(latencies_s) * 1000.0, q)), 1)


@dataclass
class LevelResult:
    """One channel at one concurrency level."""

    channel: str
    visitors: int
    sent: int = 0
    answered: int = 0
    lost: int = 0                   # no complete answer within the timeout
    unexpected_replies: int = 0     # answers with another number of bot messages than the warm-up's
    extra: int = 0                  # bot messages / typing frames after an answer had ended
    not_sent: int = 0               # stopped by the phase time limit
    errors: Dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0             # time from the first send to the last answer, summed over rounds
    latencies_s: List[float] = field(default_factory=list)

    @property
    def rate(self) -> Optional[float]:
        """Answered messages per second."""
        return round(self.answered / self.wall_s, 2) if self.wall_s > 0 else None

    def summary(self) -> Dict[str, Any]:
        """Everything but the raw samples, with the percentiles."""
        data = {k: v for k, v in asdict(self).items() if k != "latencies_s"}
        data.update(p50_ms=percentile_ms(self.latencies_s, 50), p95_ms=percentile_ms(self.latencies_s, 95),
                    p99_ms=percentile_ms(self.latencies_s, 99), mean_ms=self.mean_ms,
                    msg_per_s=self.rate, wall_s=round(self.wall_s, 2))
        return data

    @property
    def mean_ms(self) -> Optional[float]:
        """Mean latency in milliseconds."""
        return round(float(np.mean(self.latencies_s)) * 1000.0, 1) if self.latencies_s else None


@dataclass
class SoakResult:
    """Many websocket visitors at once, each sending its messages one after the other."""

    sockets: int
    messages_per_socket: int
    connected: int = 0
    connect_failures: Dict[str, int] = field(default_factory=dict)
    sent: int = 0
    answered: int = 0
    lost_messages: int = 0          # no typing-off within the timeout
    missing_replies: int = 0        # fewer bot messages than expected for a question
    missing_by_position: Dict[str, int] = field(default_factory=dict)
    duplicated_replies: int = 0     # more bot messages than expected, extra typing frames, late frames
    not_sent: int = 0               # never sent: its socket failed or the time limit passed
    errors: Dict[str, int] = field(default_factory=dict)
    total_s: float = 0.0            # from the first connection attempt to the last answer
    latencies_s: List[float] = field(default_factory=list)

    def summary(self) -> Dict[str, Any]:
        """Everything but the raw samples, with the percentiles."""
        data = {k: v for k, v in asdict(self).items() if k != "latencies_s"}
        data.update(p50_ms=percentile_ms(self.latencies_s, 50), p95_ms=percentile_ms(self.latencies_s, 95),
                    p99_ms=percentile_ms(self.latencies_s, 99), total_s=round(self.total_s, 2),
                    msg_per_s=round(self.answered / self.total_s, 2) if self.total_s > 0 else None,
                    no_message_lost=(self.lost_messages == 0 and self.missing_replies == 0
                                     and self.connected == self.sockets),
                    complete=self.not_sent == 0)
        return data


def ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    """numerator / denominator rounded, None if either is missing."""
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def count(errors: Dict[str, int], key: str) -> None:
    """Increment one error counter."""
    errors[key] = errors.get(key, 0) + 1
