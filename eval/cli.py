"""`edurag eval`: ROUGE by strategy and adapter, toxicity before/after detox, retrieval accuracy, report."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from edurag.settings import Settings

logger = logging.getLogger(__name__)

eval_app = typer.Typer(help="Evaluate summaries (ROUGE, toxicity) and standards retrieval; write reports.",
                       no_args_is_help=True)
out_console = Console()
err_console = Console(stderr=True)


DataOpt = Annotated[Path, typer.Option("--data", exists=True, dir_okay=False, help="jsonl with dialogue + summary/summary1..3")]
AdapterOpt = Annotated[Optional[list[str]], typer.Option("--adapter", help="Adapter name or folder; repeat to compare several (the base model runs too).")]
GeneratorOpt = Annotated[Optional[str], typer.Option("--generator", help="extractive or hf (default: EDURAG_GENERATOR)")]
ModelOpt = Annotated[Optional[str], typer.Option("--model", help="HF id or local path for --generator hf")]
LimitOpt = Annotated[Optional[int], typer.Option("--limit", min=1, help="Score only the first N items.")]
JsonOpt = Annotated[Optional[Path], typer.Option("--json", dir_okay=False, help="Write {'metrics': ...} per run here.")]
LabelOpt = Annotated[Optional[str], typer.Option("--label", help="Run label in tables and reports.")]


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=err_console)


def _settings(ctx: typer.Context, generator: str | None, model: str | None, shots_file: Path | None = None) -> Settings:
    """The CLI's settings (ctx.obj, read once by the `edurag` entry point) with the command's overrides."""
    update: dict[str, Any] = {}
    if generator:
        if generator not in ("extractive", "hf"):
            raise typer.BadParameter("choose extractive or hf", param_hint="--generator")
        update["generator"] = generator
    if model:
        update["generator_model"] = model
    if shots_file:
        update["shots_file"] = shots_file
    return ctx.obj.model_copy(update=update)


def _generator(settings: Settings) -> tuple[Any, Any]:
    """The generator and embedder the service would build from these settings (no vector store needed)."""
    from edurag.embedder import load_embedder
    from edurag.generators import build_generator
    from edurag.prompts import load_shots

    embedder = load_embedder(settings)
    return build_generator(settings, embedder, load_shots(settings.shots_file)), embedder


def _write_json(base: Path | None, run: dict, suffix: str, several: bool) -> None:
    if base is None:
        return
    path = base.with_name(f"{base.stem}.{suffix}{base.suffix or '.json'}") if several else base
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run, indent=2, ensure_ascii=False), encoding="utf-8")
    err_console.print(f"wrote {path}")


def _metrics_table(title: str, runs: list[dict], names: list[str], key: str = "metrics") -> Table:
    table = Table(title=title)
    table.add_column("run")
    for name in names:
        table.add_column(name, justify="right")
    for run in runs:
        table.add_row(run["label"], *(f"{run[key].get(n, float('nan')):.4f}" for n in names))
    return table


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _check_adapters(gen: Any, adapters: list[str] | None) -> None:
    """Adapters need the Hugging Face generator."""
    if adapters and gen.kind != "hf":
        raise typer.BadParameter("adapters need --generator hf", param_hint="--adapter")


def _check_shots(shots: list, texts: list[str], shots_file: Path, data: Path) -> None:
    """Refuse shots that come from the scored file or repeat a scored dialogue."""
    if shots_file.resolve() == data.resolve():
        raise typer.BadParameter("shots must come from a split other than the scored data", param_hint="--shots-file")
    scored = {t.strip() for t in texts}
    leaked = sum(1 for s in shots if s.dialogue.strip() in scored)
    if leaked:
        raise typer.BadParameter(f"{leaked} shot(s) are scored dialogues; use another split", param_hint="--shots-file")


@eval_app.command("rouge")
def rouge_cmd(
    ctx: typer.Context,
    data: DataOpt,
    strategy: Annotated[str, typer.Option(help="zero_shot, one_shot, few_shot or all")] = "zero_shot",
    adapter: AdapterOpt = None,
    generator: GeneratorOpt = None,
    model: ModelOpt = None,
    limit: LimitOpt = None,
    shots_file: Annotated[Optional[Path], typer.Option(exists=True, dir_okay=False, help="Solved examples for one/few-shot (default EDURAG_SHOTS_FILE, the bundled shots); never the scored split.")] = None,
    length: Annotated[str, typer.Option(help="Summary length: brief, standard or detailed (scaled to each input)")] = "standard",
    max_words: Annotated[Optional[int], typer.Option(min=1, help="Word budget per summary (overrides --length)")] = None,
    summary_format: Annotated[str, typer.Option("--format", help="paragraph, bullets or outline")] = "paragraph",
    lead: Annotated[str, typer.Option(help="Comma-separated lead-N baselines scored on the same rows (first N words); '' for none")] = "150,300",
    text_field: Annotated[Optional[str], typer.Option(help="Field holding the text (default dialogue, then text)")] = None,
    summary_field: Annotated[Optional[str], typer.Option(help="Field holding the reference (default summary/summary1..N)")] = None,
    oracle: Annotated[bool, typer.Option(help="Also score the greedy ROUGE-L oracle: the best extract of the same sentences within the same budget, chosen by looking at the reference (an upper bound, not a summarizer)")] = False,
    json_out: JsonOpt = None,
    label: LabelOpt = None,
) -> None:
    """ROUGE-1/2/L/Lsum (stemmed F-measure) against summary1 and the multi-reference max, beside lead-N baselines
    (and, with --oracle, the extractive ROUGE-L upper bound)."""
    from edurag.prompts import STRATEGIES
    from eval.generation import lead_words, oracle_summary, summarize_many
    from eval.rouge import ROUGE_TYPES, confidence_intervals, load_summary_items, per_item_scores, score_multi, score_pairs
    from edurag.summarization.service import SummaryOptions, check_options

    try:
        leads = [int(x) for x in lead.split(",") if x.strip()]
        check_options(SummaryOptions(length=length, max_words=max_words, format=summary_format))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc

    strategies = list(STRATEGIES) if strategy == "all" else [strategy]
    if any(s not in STRATEGIES for s in strategies):
        raise typer.BadParameter(f"choose one of {', '.join(STRATEGIES)} or all", param_hint="--strategy")
    settings = _settings(ctx, generator, model, shots_file)
    items = load_summary_items(data, limit, text_field, summary_field)
    gen, embedder = _generator(settings)
    _check_adapters(gen, adapter)
    if gen.kind == "extractive" and strategies != ["zero_shot"]:
        logger.info("the extractive generator reads no prompt: every strategy gives the same summaries; scoring zero_shot only")
        strategies = ["zero_shot"]
    if strategies != ["zero_shot"]:
        from edurag.prompts import load_shots

        _check_shots(load_shots(settings.shots_file), [i.text for i in items], settings.shots_file, data)
    texts = [i.text for i in items]
    configs = [(s, a) for a in [None, *(adapter or [])] for s in strategies]
    runs = []
    single = [i.references[0] for i in items]
    for n in leads:
        preds = [lead_words(t, n) for t in texts]
        runs.append({"kind": "rouge", "label": f"lead-{n}", "created": _now(), "metrics": score_pairs(preds, single),
                     "metrics_multi_reference": score_multi(preds, [i.references for i in items]),
                     "references_per_item": max(len(i.references) for i in items),
                     "config": {"data": str(data), "items": len(items), "baseline": f"first {n} words"}})
    if oracle:
        options = SummaryOptions(length=length, max_words=max_words, format=summary_format)
        preds = [oracle_summary(i.text, i.references[0], options) for i in items]
        runs.append({"kind": "rouge", "label": "oracle-L", "created": _now(), "metrics": score_pairs(preds, single),
                     "metrics_multi_reference": score_multi(preds, [i.references for i in items]),
                     "references_per_item": max(len(i.references) for i in items),
                     "config": {"data": str(data), "items": len(items), "baseline": "greedy ROUGE-L oracle, same budget",
                                "mean_summary_words": round(sum(len(p.split()) for p in preds) / max(len(preds), 1), 1)},
                     "per_item": per_item_scores([i.id for i in items], preds, single)})
    baselines = {r["label"]: r["metrics"] for r in runs}
    for strat, adp in configs:
        name = label or f"{gen.kind}{'/' + adp if adp else ''}/{strat}"
        if label and len(configs) > 1:
            name = f"{label}/{adp or 'base'}/{strat}"
        started = time.perf_counter()
        with _progress() as progress:
            task = progress.add_task(f"{name}", total=len(texts))
            options = SummaryOptions(strategy=strat, adapter=adp, length=length, max_words=max_words, format=summary_format)
            preds = summarize_many(gen, embedder, texts, options, lambda n: progress.advance(task, n))
        seconds = time.perf_counter() - started
        run = {
            "kind": "rouge", "label": name, "created": _now(),
            "config": {"data": str(data), "items": len(items), "strategy": strat, "adapter": adp, "generator": gen.info(),
                       "length": length, "max_words": max_words, "format": summary_format,
                       "mean_summary_words": round(sum(len(p.split()) for p in preds) / max(len(preds), 1), 1),
                       "shots_file": str(settings.shots_file) if strat != "zero_shot" else None, "seconds": round(seconds, 1)},
            "metrics": score_pairs(preds, single),
            "metrics_multi_reference": score_multi(preds, [i.references for i in items]),
            "ci95": confidence_intervals(preds, single),
            "baselines": baselines,
            "baselines_per_item": {r["label"]: r["per_item"] for r in runs if "per_item" in r},
            "references_per_item": max(len(i.references) for i in items),
            "samples": [{"id": i.id, "prediction": p, "reference": i.references[0]} for i, p in list(zip(items, preds))[:5]],
            "per_item": per_item_scores([i.id for i in items], preds, single),
        }
        runs.append(run)
        _write_json(json_out, run, f"{adp or 'base'}.{strat}".replace("/", "_"), len(configs) > 1)
    out_console.print(_metrics_table("ROUGE F-measure, single reference (summary1)", runs, list(ROUGE_TYPES)))
    if any(r["references_per_item"] > 1 for r in runs):
        out_console.print(_metrics_table("ROUGE F-measure, best of all references", runs, list(ROUGE_TYPES), "metrics_multi_reference"))


@eval_app.command("toxicity")
def toxicity_cmd(
    ctx: typer.Context,
    data: DataOpt,
    classifier: Annotated[str, typer.Option(help="HF sequence-classifier id/path, or profanity-check (offline)")] = "",
    adapter: AdapterOpt = None,
    generator: GeneratorOpt = None,
    model: ModelOpt = None,
    limit: LimitOpt = None,
    json_out: JsonOpt = None,
    label: LabelOpt = None,
) -> None:
    """Mean and std toxicity of zero-shot summaries, for the base model and after each (e.g. PPO) adapter."""
    from edurag.toxicity import DEFAULT_CLASSIFIER, load_toxicity_scorer
    from eval.generation import summarize_many
    from eval.rouge import load_summary_items
    from eval.toxicity import score_texts, toxicity_stats
    from edurag.summarization.service import SummaryOptions

    settings = _settings(ctx, generator, model)
    try:
        scorer = load_toxicity_scorer(classifier or DEFAULT_CLASSIFIER, settings.allow_downloads)
    except FileNotFoundError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    items = load_summary_items(data, limit)
    gen, embedder = _generator(settings)
    _check_adapters(gen, adapter)
    runs = []
    adapters = [None, *(adapter or [])]
    for adp in adapters:
        name = f"{label or gen.kind}/{adp or 'base'}"
        with _progress() as progress:
            task = progress.add_task(name, total=len(items))
            preds = summarize_many(gen, embedder, [i.text for i in items], SummaryOptions(adapter=adp),
                                   lambda n: progress.advance(task, n))
        scores = score_texts(scorer, preds)
        run = {"kind": "toxicity", "label": name, "created": _now(), "metrics": toxicity_stats(scores),
               "config": {"data": str(data), "items": len(items), "adapter": adp, "classifier": scorer.name, "generator": gen.info()},
               "most_toxic": sorted(({"score": s, "summary": p} for s, p in zip(scores, preds)), key=lambda r: -r["score"])[:5]}
        runs.append(run)
        _write_json(json_out, run, (adp or "base").replace("/", "_"), len(adapters) > 1)
    out_console.print(_metrics_table(f"Toxicity ({scorer.name})", runs, ["toxicity_mean", "toxicity_std"]))


@eval_app.command("items")
def items_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(dir_okay=False, help="jsonl to write")],
    alignment_csv: Annotated[Optional[Path], typer.Option(exists=True, dir_okay=False, help="allenai teacher-annotations CSV")] = None,
    include_partial: Annotated[bool, typer.Option(help="Also count Partial-alignment rows as positives.")] = False,
    ngss: Annotated[bool, typer.Option(help="Add NGSS PE -> connected CCSS items from the standards folder.")] = False,
) -> None:
    """Build retrieval items (text + standard_ids + dev/heldout split) from the shared data."""
    from edurag.standards import load_catalog
    from eval.items import alignment_items, ngss_items, write_items

    settings = ctx.obj
    catalog = load_catalog(settings.standards_dir)
    items = alignment_items(alignment_csv, catalog, include_partial) if alignment_csv else []
    if ngss:
        items += ngss_items(settings.standards_dir / "ngss_pe.jsonl", settings.standards_dir / "ngss_ccss_connections.jsonl", catalog)
    if not items:
        raise typer.BadParameter("give --alignment-csv and/or --ngss")
    err_console.print(f"wrote {write_items(items, out)} items to {out}")


@eval_app.command("retrieval")
def retrieval_cmd(
    ctx: typer.Context,
    items_file: Annotated[Path, typer.Option("--items", exists=True, dir_okay=False, help="jsonl with text + standard_ids")],
    k: Annotated[str, typer.Option(help="Comma-separated cutoffs")] = "1,5,10",
    split: Annotated[str, typer.Option(help="all, dev or heldout (stable hash split of item ids)")] = "all",
    grade: Annotated[Optional[str], typer.Option(help="Filter every query to this grade")] = None,
    subject: Annotated[Optional[str], typer.Option(help="Filter every query to this subject (math, ela, science)")] = None,
    framework: Annotated[Optional[str], typer.Option(help="Filter every query to this framework (ccss, ngss)")] = None,
    item_filters: Annotated[bool, typer.Option(help="Apply each item's own filters (e.g. subject=math for math problems).")] = True,
    grade_hint: Annotated[bool, typer.Option(help="Pass each item's grade as the lesson's grade hint (a boost, as a teacher "
                                                   "naming the grade would), like /align's grade_hint.")] = True,
    include_practices: Annotated[bool, typer.Option(help="Rank practices (CCSS MP) among the standards, as /align's "
                                                          "include_practices; by default they are listed apart and not scored.")] = False,
    json_out: JsonOpt = None,
    label: LabelOpt = None,
) -> None:
    """hit@k, recall@k and MRR of the retrieval /align uses, with per-grade, per-domain and per-source breakdowns."""
    from edurag.components import build_components
    from edurag.settings import STANDARDS_COLLECTION
    from eval.items import load_items
    from edurag.alignment.align import retrieve_standards
    from eval.retrieval import CodeNormalizer, RetrievalEvaluator, reliability_table
    from vectorstore.aliases import current_target
    from vectorstore.chroma import get_collection

    try:
        ks = sorted({int(x) for x in k.split(",") if x.strip()})
    except ValueError as exc:
        raise typer.BadParameter("use integers like 1,5,10", param_hint="--k") from exc
    components = build_components(ctx.obj.model_copy(update={"generator": "extractive"}))
    if get_collection(components.client, current_target(components.client, STANDARDS_COLLECTION).name).count() == 0:
        err_console.print("[red]the standards collection is empty: run `edurag ingest standards` first[/red]")
        raise typer.Exit(2)
    items = load_items(items_file, split, components.catalog)
    overrides = {key: value for key, value in (("grade", grade), ("subject", subject), ("framework", framework)) if value}
    if grade_hint:
        items = [replace(i, filters={**i.filters, "grade_hint": i.grade}) if i.grade and not i.grade_from_tags else i
                 for i in items]

    confidences: list[list[float | None]] = []

    def retrieve(text: str, top: int, filters: dict) -> list[str]:
        hint = {"grade_hint": filters["grade_hint"]} if "grade_hint" in filters else {}
        merged = {**(filters if item_filters else hint), **overrides}
        found = retrieve_standards(components, text, top, include_practices=include_practices, **merged)
        confidences.append([s.confidence for s in found])
        return [s.code for s in found]

    evaluator = RetrievalEvaluator(items, CodeNormalizer(components.catalog), ks)
    started = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task("retrieving", total=len(items))

        def advance(seq: list) -> Any:
            for item in seq:
                yield item
                progress.advance(task)

        result = evaluator(retrieve, advance)
    calibration = _reliability(result.per_item, confidences, CodeNormalizer(components.catalog), reliability_table)
    name = label or f"{components.embedder.name.split('/')[-1]}/{split}"
    run = {"kind": "retrieval", "label": name, "created": _now(), "metrics": result.metrics,
           "primary_metric": result.primary_metric, "breakdown": result.breakdown,
           "config": {"items_file": str(items_file), "split": split, "ks": ks, "filters": overrides, "item_filters": item_filters,
                      "grade_hint": grade_hint, "embedding_model": components.embedder.name,
                      "embedding_backend": components.embedder.backend, "seconds": round(time.perf_counter() - started, 1)},
           "reliability_top5": calibration, "per_item": result.per_item}
    run["config"]["include_practices"] = include_practices
    run["config"]["aligner_model"] = components.settings.aligner_model or "bundled"
    _write_json(json_out, run, "", False)
    names = [*(f"hit@{x}" for x in ks), *(f"recall@{x}" for x in ks if x != 1), "mrr"]
    out_console.print(_metrics_table(f"Standards retrieval ({int(result.metrics['items'])} items)", [run], names))
    for by, groups in result.breakdown.items():
        table = Table(title=f"by {by}")
        for column in (by, "items", *names):
            table.add_column(column, justify="right", no_wrap=True, max_width=42 if column == by else None,
                             overflow="ellipsis")
        for group, metrics in groups.items():
            table.add_row(group, str(int(metrics["items"])), *(f"{metrics[n]:.3f}" for n in names))
        out_console.print(table)
    if calibration:
        table = Table(title="Reliability of the top-5 confidences (share of returned standards the item is tagged with)")
        for column in ("confidence", "standards", "mean confidence", "tagged share"):
            table.add_column(column, justify="right")
        for row in calibration:
            table.add_row(str(row["bin"]), str(row["standards"]), f"{row['mean_confidence']:.3f}", f"{row['tagged_share']:.3f}")
        out_console.print(table)


def _reliability(rows: list[dict], confidences: list[list[float | None]], normalizer: Any, table: Any) -> list[dict]:
    """Reliability table over each item's top 5: its confidences against whether the item is tagged with the standard."""
    values, tagged = [], []
    for row, found in zip(rows, confidences):
        groups = [normalizer.group(code) for code in row["gold"]]
        for code, confidence in list(zip(row["retrieved"], found))[:5]:
            if confidence is not None:
                values.append(confidence)
                tagged.append(any(code in group for group in groups))
    return table(values, tagged) if values else []


@eval_app.command("ask")
def ask_cmd(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option("--data", exists=True, dir_okay=False,
                                       help="Labelled questions (jsonl); see eval/ask.py")] = Path("tests/fixtures/ask_questions.jsonl"),
    split: Annotated[str, typer.Option(help="all, dev or held_out")] = "all",
    json_out: JsonOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="Print every item that was not answered.")] = False,
) -> None:
    """POST /ask quality: intent accuracy and share answered with the right codes cited, per split."""
    from edurag.ask import ask
    from edurag.components import build_components
    from eval.ask import confusions, load_items, score, summarize

    items = [i for i in load_items(data) if split == "all" or i.split == split]
    c = build_components(ctx.obj)
    scores = []
    with _progress() as progress:
        for item in progress.track(items, description="asking"):
            result = ask(c, item.question, **item.request)
            scores.append(score(item, result, lambda code: c.catalog.get(code) is not None))
            if verbose and not scores[-1].answered:
                err_console.print(f"{item.id} {item.intent}->{result.intent} {item.question!r}: {result.answer[:300]}")
    metrics = summarize(scores)
    table = Table("split", "items", "intent accuracy", "answered", "mean coverage", "invented citations")
    for name, m in metrics.items():
        table.add_row(name, str(m["items"]), f"{m['intent_accuracy']:.3f}", f"{m['answered']:.3f}",
                      f"{m['mean_coverage']:.3f}", str(m["invented"]))
    out_console.print(table)
    for (want, got), n in confusions(scores).most_common():
        out_console.print(f"intent {want} -> {got}: {n}")
    if json_out:
        json_out.write_text(json.dumps({"metrics": metrics}, indent=2))


@eval_app.command("report")
def report_cmd(
    runs: Annotated[Path, typer.Option("--runs", exists=True, file_okay=False, help="Folder of run JSONs")],
    out: Annotated[Path, typer.Option("--out", file_okay=False, help="Folder for report.md and PNG charts")],
) -> None:
    """A Markdown report with ROUGE grouped bars, toxicity before/after and the retrieval hit@k curve."""
    from eval.report import write_report

    try:
        report, charts = write_report(runs, out)
    except FileNotFoundError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    out_console.print(f"wrote {report} and {len(charts)} chart(s): {', '.join(c.name for c in charts)}")


@eval_app.command("crosswalk")
def crosswalk_cmd(
    ctx: typer.Context,
    out: Annotated[Optional[Path], typer.Option(help="Write the result as JSON here.")] = None,
    use_links: Annotated[bool, typer.Option("--links/--text-only", help="Let exact-match links decide (default: text only).")] = False,
) -> None:
    """hit@1/hit@3 of California 2010 -> CCSS (exactMatch links as gold, hidden from the crosswalk) and New York
    Next Generation -> CCSS (pairs built from the codes), per split; needs `edurag ingest framework --bundled`."""
    from edurag.components import build_components
    from edurag.frameworks.crosswalk import Crosswalker
    from eval.crosswalk import CA, NY, california_pairs, hits, new_york_pairs

    c = build_components(ctx.obj.model_copy(update={"generator": "extractive"}))
    missing = [f for f in (CA, NY) if f not in c.catalog.frameworks()]
    if missing:
        err_console.print(f"[red]import {', '.join(missing)} first: edurag ingest framework --bundled[/red]")
        raise typer.Exit(2)
    walker = Crosswalker(c.catalog, c.embedder, c.settings.data_dir / "crosswalk")
    result = {"california->ccss": hits(walker, california_pairs(c.catalog), use_links=use_links),
              "new-york->ccss": hits(walker, new_york_pairs(c.catalog), use_links=use_links),
              "embedder": c.embedder.name, "backend": c.embedder.backend, "use_links": use_links, "at": _now()}
    typer.echo(json.dumps(result, indent=1))
    if out:
        out.write_text(json.dumps(result, indent=1), encoding="utf-8")


@eval_app.command("bloom")
def bloom_cmd(
    questions: Annotated[Path, typer.Option(exists=True, help="Labelled questions CSV (Questions, Category BT1..BT6).")],
    out: Annotated[Optional[Path], typer.Option(help="Write the table as JSON here.")] = None,
) -> None:
    """Bloom level accuracy (dev / heldout / all) of the verb classifier vs majority-class and verb-lookup baselines."""
    from eval.bloom import accuracy_table, read_questions

    table = accuracy_table(read_questions(questions))
    typer.echo(json.dumps(table, indent=1))
    if out:
        out.write_text(json.dumps(table, indent=1), encoding="utf-8")
