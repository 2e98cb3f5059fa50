"""POST /ask latency over HTTP (uvicorn) for the graph intents, per embedder backend, and where the time goes.

Graph intents (prerequisites, next, parts, explain, connections, compare, relate) read the catalog only; the one model
call is the intent detector's sentence embedding, timed in-process beside the HTTP requests. Target: p95 <= 100 ms on
onnx-int8 with the bundled corpus.

    PYTHONPATH=. python -m bench.ask --requests 200 --backends torch,onnx-int8
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import tempfile
from pathlib import Path

import httpx

from bench.common import markdown_table, percentiles, timer
from bench.query import serve

QUESTIONS = [
    "What should students know before 7.RP.A.2?", "What comes after 3.NF.A.1 in the progression?",
    "Break 6.RP.A.3 into its parts", "What does HSA-REI.B.3 mean?", "Which math standards does MS-PS1-4 rely on?",
    "Compare RL.4.1 and RL.5.1", "How does A-REI.3 relate to A-REI.4?", "My students struggle with 8.EE.C.7, what should I review?",
    "Which NGSS performance expectations connect to 6.RP.A.3?", "What does k.cc.4a mean?", "Show the chain two steps back from 7.EE.B.4",
    "What is the difference between 6.RP.A.3 and 7.RP.A.2?", "What comes after 6.RP.B.3?", "What does RP.3 mean?",
    "Which Common Core math standards connect to HS-PS2-1?", "What does 5.NF.B.5 include?",
]


def main(requests: int, data_dir: Path, port: int, backends: list[str]) -> str:
    """Time /ask over HTTP per backend (a server per backend) and the intent embedding in-process."""
    from edurag.ask import ask
    from edurag.ask.answer import detector_for
    from edurag.components import build_components
    from edurag.ask.intents import mask_codes
    from edurag.embedder import load_embedder
    from edurag.settings import Settings

    env = {**os.environ, "EDURAG_DATA_DIR": str(data_dir), "EDURAG_GENERATOR": "extractive", "EDURAG_API_KEYS": ""}
    texts = [QUESTIONS[i % len(QUESTIONS)] for i in range(requests)]
    rows = []
    for backend in backends:
        embedder = load_embedder(Settings(data_dir=data_dir, embedding_backend=backend))  # exports the ONNX model once
        detector_for(embedder).centroids()
        times: dict[str, list[float]] = {"total": [], "embed": [], "ask": []}
        c = build_components(Settings(data_dir=data_dir, embedding_backend=backend, generator="extractive"),
                             embedder=embedder)
        proc = serve({**env, "EDURAG_EMBEDDING_BACKEND": backend}, port)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
                client.post("/ask", json={"question": texts[0]}).raise_for_status()  # builds the intent centroids
                for text in texts:  # interleaved, so load from other processes hits the whole and the part alike
                    with timer(times["total"]):
                        client.post("/ask", json={"question": text}).raise_for_status()
                    with timer(times["embed"]):
                        embedder.encode([mask_codes(text)])
                    with timer(times["ask"]):
                        ask(c, text)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        total, embed, inproc = (percentiles(times[part]) for part in ("total", "embed", "ask"))
        rows += [[f"/ask graph intents over HTTP, {backend}", requests, total["p50"], total["p95"], total["p99"]],
                 [f"  ask() in-process, {backend}", requests, inproc["p50"], inproc["p95"], inproc["p99"]],
                 [f"  intent embedding (in-process), {backend}", requests, embed["p50"], embed["p95"], embed["p99"]]]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (markdown_table(["measured", "requests", "p50 ms", "p95 ms", "p99 ms"], rows)
            + f"\n\nload average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--data-dir", type=Path, default=None, help="data dir (default: a temp dir; /ask graph intents need no index)")
    parser.add_argument("--port", type=int, default=0, help="default: a free loopback port")
    parser.add_argument("--backends", default="onnx-int8", help="comma-separated embedder backends: torch, onnx, onnx-int8")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edurag-bench-") as scratch, socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = args.port or probe.getsockname()[1]
        probe.close()
        print(main(args.requests, args.data_dir or Path(scratch), port,
                   [b.strip() for b in args.backends.split(",") if b.strip()]))
