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
    filler: int = 0                 # unmeasured answers that kept the load steady to a round's end
    errors: Dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0             # time from the first send to the last answer, summed over rounds
    server_cpu_s: float = 0.0       # CPU the Rasa process used during this channel's rounds
    client_cpu_s: float = 0.0       # CPU the bench process used during this channel's rounds
    latencies_s: List[float] = field(default_factory=list)

    @property
    def rate(self) -> Optional[float]:
        """Answered messages (measured and filler) per second."""
        return round((self.answered + self.filler) / self.wall_s, 2) if self.wall_s > 0 else None

    def summary(self) -> Dict[str, Any]:
        """Everything but the raw samples, with the percentiles."""
        data = {k: v for k, v in asdict(self).items() if k != "latencies_s"}
        data.update(p50_ms=percentile_ms(self.latencies_s, 50), p95_ms=percentile_ms(self.latencies_s, 95),
                    p99_ms=percentile_ms(self.latencies_s, 99), mean_ms=self.mean_ms,
                    msg_per_s=self.rate, wall_s=round(self.wall_s, 2),
                    server_cpu_ms_per_msg=per_message_ms(self.server_cpu_s, self.answered + self.filler),
                    client_cpu_ms_per_msg=per_message_ms(self.client_cpu_s, self.answered + self.filler))
        data.pop("server_cpu_s")
        data.pop("client_cpu_s")
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
    connect_s: List[float] = field(default_factory=list)    # handshake + session_confirm, per socket
    sent: int = 0
    answered: int = 0
    lost_messages: int = 0          # no typing-off within the timeout
    missing_replies: int = 0        # fewer bot messages than expected for a question
    missing_by_position: Dict[str, int] = field(default_factory=dict)
    empty_answers: int = 0          # typing went off but not one bot message came (silently unanswered)
    duplicated_replies: int = 0     # more bot messages than expected, extra typing frames, late frames
    not_sent: int = 0               # never sent: its socket failed or the time limit passed
    errors: Dict[str, int] = field(default_factory=dict)
    total_s: float = 0.0            # from the first connection attempt to the last answer
    chat_s: float = 0.0             # from the first question (all sockets connected) to the last answer
    latencies_s: List[float] = field(default_factory=list)

    def summary(self) -> Dict[str, Any]:
        """Everything but the raw samples, with the percentiles."""
        data = {k: v for k, v in asdict(self).items() if k not in ("latencies_s", "connect_s")}
        data.update(p50_ms=percentile_ms(self.latencies_s, 50), p95_ms=percentile_ms(self.latencies_s, 95),
                    p99_ms=percentile_ms(self.latencies_s, 99), total_s=round(self.total_s, 2),
                    connect_p50_ms=percentile_ms(self.connect_s, 50), connect_max_ms=percentile_ms(self.connect_s, 100),
                    chat_s=round(self.chat_s, 2),
                    msg_per_s=round(self.answered / self.chat_s, 2) if self.chat_s > 0 else None,
                    no_message_lost=(self.lost_messages == 0 and self.missing_replies == 0
                                     and self.empty_answers == 0 and self.connected == self.sockets),
                    complete=self.not_sent == 0)
        return data


def per_message_ms(total_s: float, messages: int) -> Optional[float]:
    """A total in seconds spread over messages, in ms (None without messages or measurement)."""
    return round(total_s / messages * 1000.0, 2) if messages and total_s > 0 else None


def ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    """numerator / denominator rounded, None if either is missing."""
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def count(errors: Dict[str, int], key: str) -> None:
    """Increment one error counter."""
    errors[key] = errors.get(key, 0) + 1
