"""Summarization throughput: docs/s of the summary pipeline on lectures for each format and length (and the cost of
outline relative to paragraph, measured in the same run), plus docs/s and tokens/s of the generators on DialogSum,
batch 1 vs batched."""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path
from typing import Any

from bench.common import markdown_table, timer

logger = logging.getLogger("bench.summarization")
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEV = DATA / "dialogsum" / "dialogsum.dev.jsonl"
LECTURES = DATA / "lectures" / "yale_lectures_dev43.jsonl"
FORMATS = ("paragraph", "bullets", "outline")
LENGTHS = ("brief", "standard", "detailed")


def lecture_formats(lectures: int, repeats: int) -> str:
    """docs/s of summarize_document (extractive default) on the first `lectures` dev lectures for every format and
    length; each configuration runs `repeats` times in interleaved order, the best time counts; outline / paragraph is
    the ratio of their seconds at the same length."""
    from edurag.embedder import load_embedder
    from edurag.generators import ExtractiveGenerator
    from edurag.settings import Settings
    from eval.rouge import load_summary_items
    from edurag.summarization.service import SummaryOptions, summarize_document

    embedder = load_embedder(Settings())
    generator = ExtractiveGenerator(embedder)
    texts = [i.text for i in load_summary_items(LECTURES, lectures, "transcript", "lecture_description")]
    words = sum(len(t.split()) for t in texts)
    summarize_document(generator, embedder, texts[0][:2000])  # warm-up
    best: dict[tuple[str, str], float] = {}
    for _ in range(repeats):
        for length in LENGTHS:
            for fmt in FORMATS:
                seconds: list[float] = []
                with timer(seconds):
                    for text in texts:
                        summarize_document(generator, embedder, text, SummaryOptions(length=length, format=fmt))
                key = (fmt, length)
                best[key] = min(best.get(key, float("inf")), seconds[0])
    rows = [[fmt, length, len(texts), words, best[(fmt, length)], len(texts) / best[(fmt, length)],
             words / best[(fmt, length)], best[(fmt, length)] / best[("paragraph", length)]]
            for length in LENGTHS for fmt in FORMATS]
    return markdown_table(["format", "length", "lectures", "words", "seconds", "docs/s", "words/s", "x paragraph"], rows)


def measure(name: str, generator: Any, texts: list[str], batch: int) -> list[object]:
    """One row: summarize all texts in batches of `batch`; tokens counted with the generator's own tokenizer."""
    generator.summarize(texts[:1], "zero_shot")  # warm-up
    seconds: list[float] = []
    outputs: list[str] = []
    with timer(seconds):
        for start in range(0, len(texts), batch):
            outputs += generator.summarize(texts[start:start + batch], "zero_shot")
    tokens_in = sum(generator.count_tokens(t) for t in texts)
    tokens_out = sum(generator.count_tokens(o) for o in outputs)
    s = seconds[0]
    return [name, batch, len(texts), s, len(texts) / s, tokens_in / s, tokens_out / s]


def main(n: int, batch: int, max_new_tokens: int, smollm: Path | None, scratch: Path) -> str:
    """Measure every generator at batch 1 and at `batch`; returns the table."""
    from edurag.embedder import load_embedder
    from edurag.generators import ExtractiveGenerator, HFGenerator
    from edurag.models import load_language_model
    from edurag.settings import Settings
    from eval.rouge import load_summary_items
    from edurag.prompts import zero_shot_prompt
    from finetune.scratch import init_seq2seq

    settings = Settings()
    texts = [item.text for item in load_summary_items(DEV, n)]
    generators: list[tuple[str, Any]] = [("extractive (MiniLM MMR)", ExtractiveGenerator(load_embedder(settings)))]
    # The finetune package's `tiny` T5 preset (random weights), its tokenizer trained on the texts it will summarize.
    tiny = init_seq2seq("tiny", texts + [zero_shot_prompt(t) for t in texts], scratch / "tiny-t5")
    generators.append(("hf tiny T5 (2 layers, random)", HFGenerator(lm=load_language_model(str(tiny)), max_new_tokens=max_new_tokens)))
    if smollm:
        generators.append(("hf SmolLM2", HFGenerator(lm=load_language_model(str(smollm)), max_new_tokens=max_new_tokens)))
    rows = []
    for name, generator in generators:
        single = measure(name, generator, texts, 1)
        batched = measure(name, generator, texts, batch)
        rows += [single + [1.0], batched + [batched[4] / single[4]]]
        logger.info("measured %s", name)
    return markdown_table(["generator", "batch", "docs", "seconds", "docs/s", "input tok/s", "output tok/s",
                           "speed-up vs batch 1"], rows)


if __name__ == "__main__":
    from edurag.settings import setup_logging

    setup_logging()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=32, help="DialogSum dev dialogues to summarize")
    parser.add_argument("--batch", type=int, default=8, help="batched size compared with batch 1")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--smollm", type=Path, default=None, help="local folder of a converted SmolLM2 (optional)")
    parser.add_argument("--lectures", type=int, default=3, help="dev lectures per format/length configuration")
    parser.add_argument("--repeats", type=int, default=2, help="interleaved repeats of the lecture table (best counts)")
    parser.add_argument("--skip-generators", action="store_true", help="only the lecture format/length table")
    args = parser.parse_args()
    print(lecture_formats(args.lectures, args.repeats))
    if not args.skip_generators:
        with tempfile.TemporaryDirectory(prefix="edurag-bench-") as tmp:
            print(main(args.n, args.batch, args.max_new_tokens, args.smollm, Path(tmp)))
