"""Helpers shared by the benchmark scripts: timing, percentiles, Markdown tables, free ports."""

from __future__ import annotations

import socket
import time
from contextlib import contextmanager
from typing import Iterator, Sequence

import numpy as np


def free_port() -> int:
    """An unused loopback TCP port (benches run beside other work: never a fixed port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def timer(into: list[float]) -> Iterator[None]:
    """Append the elapsed wall time in seconds to `into`."""
    started = time.perf_counter()
    try:
        yield
    finally:
        into.append(time.perf_counter() - started)


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 in milliseconds (numpy's linear interpolation)."""
    values = np.percentile(np.asarray(seconds) * 1000, [50, 95, 99])
    return {"p50": float(values[0]), "p95": float(values[1]), "p99": float(values[2])}


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; floats get three significant decimals."""
    def cell(value: object) -> str:
        return f"{value:,.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows])
