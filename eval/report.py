"""A Markdown report with matplotlib charts from the run JSONs that `edurag eval` commands write."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from eval.rouge import ROUGE_TYPES  # noqa: E402

logger = logging.getLogger(__name__)

RUN_KINDS = ("rouge", "toxicity", "retrieval")


def load_runs(runs_dir: Path) -> dict[str, list[dict]]:
    """Run JSONs in a folder grouped by kind (files without a known `kind` are skipped)."""
    runs: dict[str, list[dict]] = {kind: [] for kind in RUN_KINDS}
    for path in sorted(runs_dir.glob("*.json")):
        try:
            run = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            logger.warning("%s is not JSON; skipped", path)
            continue
        if isinstance(run, dict) and run.get("kind") in runs and isinstance(run.get("metrics"), dict):
            run.setdefault("label", path.stem)
            runs[run["kind"]].append(run)
    return runs


def rouge_chart(runs: list[dict], out: Path) -> Path:
    """Grouped bars: one group per ROUGE type, one bar per method/strategy run (the paper's comparison chart)."""
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(ROUGE_TYPES) + 0.4 * len(runs)), 4))
    width = 0.8 / max(len(runs), 1)
    for index, run in enumerate(runs):
        xs = [i + index * width - 0.4 + width / 2 for i in range(len(ROUGE_TYPES))]
        values = [run["metrics"].get(t, 0.0) for t in ROUGE_TYPES]
        bars = ax.bar(xs, values, width, label=run["label"])
        ax.bar_label(bars, fmt="%.3f", fontsize=7)
    ax.set_xticks(range(len(ROUGE_TYPES)), ROUGE_TYPES)
    ax.set_ylabel("F-measure")
    ax.set_title("ROUGE by method and prompt strategy")
    ax.legend(fontsize=8)
    return _save(fig, out / "rouge.png")


def toxicity_chart(runs: list[dict], out: Path) -> Path:
    """Mean toxicity per run with the standard deviation as error bars (before vs after detox)."""
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(runs)), 4))
    labels = [r["label"] for r in runs]
    means = [r["metrics"]["toxicity_mean"] for r in runs]
    stds = [r["metrics"]["toxicity_std"] for r in runs]
    bars = ax.bar(labels, means, yerr=stds, capsize=6, color="tab:red", alpha=0.75)
    ax.bar_label(bars, fmt="%.4f", fontsize=8)
    ax.set_ylabel("toxicity (mean ± std)")
    ax.set_title("Toxicity of generated summaries")
    ax.tick_params(axis="x", labelrotation=15)
    return _save(fig, out / "toxicity.png")


def hit_curve_chart(runs: list[dict], out: Path) -> Path:
    """hit@k (solid) and recall@k (dashed) against k for each retrieval run."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for run in runs:
        ks = sorted(int(name[4:]) for name in run["metrics"] if name.startswith("hit@"))
        line, = ax.plot(ks, [run["metrics"][f"hit@{k}"] for k in ks], marker="o", label=f"{run['label']} hit@k")
        recall = [run["metrics"].get(f"recall@{k}") for k in ks]
        if all(r is not None for r in recall):
            ax.plot(ks, recall, linestyle="--", marker="x", color=line.get_color(), label=f"{run['label']} recall@k")
    ax.set_xlabel("k")
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of items")
    ax.set_title("Standards retrieval: hit@k")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, out / "retrieval_hit_at_k.png")


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _num(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def write_report(runs_dir: Path, out: Path) -> tuple[Path, list[Path]]:
    """Write report.md and one chart per kind of run found; returns the report and chart paths."""
    out.mkdir(parents=True, exist_ok=True)
    runs = load_runs(runs_dir)
    if not any(runs.values()):
        raise FileNotFoundError(f"no run JSONs with a known kind ({', '.join(RUN_KINDS)}) in {runs_dir}")
    sections, charts = [f"# edurag evaluation report\n\nRuns read from `{runs_dir}`."], []
    if runs["rouge"]:
        charts.append(rouge_chart(runs["rouge"], out))
        rows = [[r["label"], str(r.get("config", {}).get("items", "")), *(_num(r["metrics"].get(t)) for t in ROUGE_TYPES),
                 *(_num(r.get("metrics_multi_reference", {}).get(t)) for t in ("rouge1", "rougeL"))] for r in runs["rouge"]]
        sections.append("## ROUGE (single reference; multi-reference max on the right)\n\n" + _table(
            ["run", "items", *ROUGE_TYPES, "multi rouge1", "multi rougeL"], rows) + f"\n\n![ROUGE]({charts[-1].name})")
    if runs["toxicity"]:
        charts.append(toxicity_chart(runs["toxicity"], out))
        rows = [[r["label"], _num(r["metrics"]["toxicity_mean"]), _num(r["metrics"]["toxicity_std"]),
                 str(int(r["metrics"].get("items", 0)))] for r in runs["toxicity"]]
        sections.append("## Toxicity\n\n" + _table(["run", "mean", "std", "items"], rows) + f"\n\n![toxicity]({charts[-1].name})")
    if runs["retrieval"]:
        charts.append(hit_curve_chart(runs["retrieval"], out))
        names = ["hit@1", "hit@5", "hit@10", "recall@5", "mrr", "items"]
        rows = [[r["label"], *(_num(r["metrics"].get(n), 0 if n == "items" else 3) for n in names)] for r in runs["retrieval"]]
        sections.append("## Standards retrieval\n\n" + _table(["run", *names], rows) + f"\n\n![hit@k]({charts[-1].name})")
        for run in runs["retrieval"]:
            for by, groups in run.get("breakdown", {}).items():
                rows = [[name, *(_num(g.get(n), 0 if n == "items" else 3) for n in names)] for name, g in groups.items()]
                sections.append(f"### {run['label']} by {by}\n\n" + _table([by, *names], rows))
    report = out / "report.md"
    report.write_text("\n\n".join(sections) + "\n", encoding="utf-8")
    logger.info("wrote %s and %d charts", report, len(charts))
    return report, charts
