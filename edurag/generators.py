"""The generator interface and its two implementations: a Hugging Face model (+PEFT adapters) and the extractive default."""

from __future__ import annotations

import logging
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import numpy as np

from edurag.adapters import AdapterRegistry
from edurag.embedder import Embedder
from edurag.models import LanguageModel, has_local_weights, load_language_model
from edurag.prompts import NO_MATCH, Shot, rag_prompt, summary_prompt
from edurag.sentences import count_words, detect_language, split_sentences, truncate_words
from edurag.settings import Settings
from edurag.transcript_text import Unit, parse_turns, readable_speaker, sentence_units

logger = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z#\"'(])")
TOKENS_PER_WORD = 1.6  # subword tokens per English word in T5/SmolLM2 vocabularies, with room for punctuation
MAX_UNIT_WORDS = 50  # longest extractable unit: longer "sentences" (unpunctuated speech) are cut (edurag.sentences)


class Generator(Protocol):
    """What the service, CLI and eval need from a text generator."""

    kind: str
    supports_adapters: bool

    def info(self) -> dict[str, Any]:
        """Kind, model id/path and default adapter, for /health."""

    def window_tokens(self) -> int:
        """Input tokens one call can read; longer texts are summarized map-reduce."""

    def count_tokens(self, text: str) -> int:
        """Tokens of a text as this generator counts them."""

    def prompt_overhead(self, strategy: str) -> int:
        """Tokens the strategy's prompt adds around the text."""

    def summarize(self, texts: Sequence[str], strategy: str, adapter: str | None = None,
                  max_words: int | None = None) -> list[str]:
        """One summary per text (each must fit the window), each at most `max_words` words when given."""

    def answer(self, question: str, context: Sequence[tuple[str, str]], adapter: str | None = None) -> str:
        """A reply grounded in (code, text) context items."""

    def adapter_names(self) -> list[str]:
        """Named adapters a request may pick (empty when supports_adapters is false)."""

    def loaded_adapters(self) -> list[str]:
        """Adapters currently loaded into the model."""

    def reload_adapters(self) -> list[str]:
        """Drop every loaded adapter (changed files are re-read on next use); return those dropped."""


def render_unit(speaker: str, sentence: str, attribute: bool) -> str:
    """A sentence with its speaker as attribution (T -> Teacher) when the text has several speakers."""
    return f"{readable_speaker(speaker)}: {sentence}" if attribute and speaker else sentence


ELLIPSIS = "\u2026"


def excerpts(units: Sequence[Unit], chosen: Sequence[int], attribute: bool) -> list[str]:
    """The chosen units (indexes in reading order) as a reader sees them, one string per excerpt: consecutive pieces of
    one sentence joined back, a piece cut from a longer sentence marked with an ellipsis where the sentence goes on
    ("\u2026though at a decreasing rate."), and the speaker attributed (render_unit)."""
    runs: list[list[int]] = []
    for i in chosen:
        if runs and runs[-1][-1] == i - 1 and not units[i - 1].closes and not units[i].opens:
            runs[-1].append(i)
        else:
            runs.append([i])
    out = []
    for run in runs:
        first, last = units[run[0]], units[run[-1]]
        text = " ".join(units[i].text for i in run)
        if not last.closes:
            text = text.rstrip(" ,;:-\u2013\u2014") + ELLIPSIS
        out.append(render_unit(first.speaker, text if first.opens else ELLIPSIS + text, attribute))
    return out


def attributed(units: Sequence[Unit]) -> bool:
    """Speaker names carry meaning when more than one person speaks (a lecture's single "Prof:" label does not)."""
    return len({u.speaker for u in units if u.speaker}) > 1


def text_units(text: str, max_words: int = MAX_UNIT_WORDS) -> list[Unit]:
    """A text's clean sentence units (timestamps and cue numbers removed, language-aware, at most max_words words)."""
    turns = parse_turns(text)
    language = detect_language(" ".join(t.text for t in turns[:50]))
    return sentence_units(turns, language, max_words)


def _first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text, maxsplit=1)[0]


def centrality(vectors: np.ndarray) -> np.ndarray:
    """(n,) cosine-scaled centrality of each row: its dot product with the unit-length mean vector (zeros for none)."""
    centroid = vectors.mean(axis=0)
    return vectors @ (centroid / (np.linalg.norm(centroid) or 1.0))


def mmr_select(vectors: np.ndarray, words: np.ndarray, budget: int, max_sentences: int, diversity: float,
               lead_weight: float, min_words: int, relevance: np.ndarray | None = None,
               substantive: np.ndarray | None = None) -> list[int]:
    """Greedy MMR under a hard word budget: indexes (in reading order) of the chosen sentences, never more than `budget`
    words in total. Relevance defaults to centrality (cosine to the centroid) plus a lead prior for early sentences.
    Only sentences of min_words+ words that are `substantive` ((n,) bool, default all) are chosen, unless none is;
    then those of min_words+ words, then any."""
    n = len(words)
    if n == 0:
        return []
    if relevance is None:
        relevance = (1 - diversity) * centrality(vectors) + lead_weight * (1.0 - np.arange(n) / n)
    long_enough = words >= min_words
    preferred = long_enough & substantive if substantive is not None else long_enough
    eligible = next(mask for mask in (preferred, long_enough, np.ones(n, dtype=bool)) if mask.any())
    chosen: list[int] = []
    used = 0
    while len(chosen) < max_sentences:
        fits = eligible & (words <= budget - used)
        if chosen:
            fits[chosen] = False
        if not fits.any():
            break
        redundancy = (vectors @ vectors[chosen].T).max(axis=1) if chosen else np.zeros(n)
        score = np.where(fits, relevance - diversity * redundancy, -np.inf)
        best = int(score.argmax())
        chosen.append(best)
        used += int(words[best])
    return sorted(chosen)


@dataclass
class ExtractiveGenerator:
    """Embedded default: MMR over sentence embeddings (centrality, a lead prior, a word budget); needs no generator weights."""

    embedder: Embedder
    sentences: int = 3
    window: int = 1024
    diversity: float = 0.3
    max_words: int = 0
    min_words: int = 4
    lead_weight: float = 0.3
    kind: str = "extractive"
    supports_adapters: bool = False

    def info(self) -> dict[str, Any]:
        """Describe this generator."""
        return {"kind": self.kind, "model": self.embedder.name, "adapter": None, "method": "mmr-centrality",
                "sentences": self.sentences, "max_words": self.max_words}

    def window_tokens(self) -> int:
        """Chunk size for map-reduce over long transcripts."""
        return self.window

    def count_tokens(self, text: str) -> int:
        """Embedder word pieces."""
        return self.embedder.count_tokens(text)

    def prompt_overhead(self, strategy: str) -> int:
        """No prompt: the text is read as is."""
        return 0

    def summarize(self, texts: Sequence[str], strategy: str, adapter: str | None = None,
                  max_words: int | None = None) -> list[str]:
        """Extract central sentences of each text in their original order; all texts' sentences are embedded in one batch.

        max_words (else the configured EDURAG_SUMMARY_MAX_WORDS, 0 = no word budget) is a hard limit: a summary never
        has more words (count_words units), and no sentence longer than it is ever chosen whole.
        """
        if adapter:
            raise ValueError("the extractive generator has no adapters; configure EDURAG_GENERATOR=hf")
        budget = max_words or self.max_words or 0
        unit_limit = min(MAX_UNIT_WORDS, budget) if budget else MAX_UNIT_WORDS
        units = [text_units(text, unit_limit) for text in texts]
        flat = [u.text for text_units_ in units for u in text_units_]
        vectors = self.embedder.encode(flat) if flat else np.zeros((0, 1), dtype=np.float32)
        out, start = [], 0
        for text_units_ in units:
            out.append(self.extract(text_units_, vectors[start:start + len(text_units_)], budget))
            start += len(text_units_)
        return out

    def extract(self, units: Sequence[Unit], vectors: np.ndarray, budget: int = 0, sentences: int | None = None) -> str:
        """The chosen units joined in reading order (speakers attributed when several speak), within the budgets."""
        words = np.array([count_words(u.text) for u in units], dtype=np.int64)
        limit = budget or int(words.sum()) or 1
        chosen = mmr_select(vectors, words, limit, sentences or self.sentences, self.diversity, self.lead_weight,
                            self.min_words)
        attribute = attributed(units)
        return " ".join(excerpts(units, chosen, attribute))

    def answer(self, question: str, context: Sequence[tuple[str, str]], adapter: str | None = None) -> str:
        """A grounded template over the retrieved items, citing each code."""
        if not context:
            return NO_MATCH
        lead, *rest = context
        reply = f"The closest match is [{lead[0]}]: {lead[1]}"
        if rest:
            reply += " It also relates to " + "; ".join(f"[{code}] {_first_sentence(text)}" for code, text in rest[:4])
        return reply

    def adapter_names(self) -> list[str]:
        """None: the extractive generator has no adapters."""
        return []

    def loaded_adapters(self) -> list[str]:
        """None loaded."""
        return []

    def reload_adapters(self) -> list[str]:
        """Nothing to drop."""
        return []


def fit_budget(text: str, max_words: int) -> str:
    """Generated text cut back to its whole sentences within max_words words (its first words when even the first
    sentence is longer): generation stops on tokens, budgets count words."""
    if count_words(text) <= max_words:
        return text
    kept: list[str] = []
    for sentence in split_sentences(text, detect_language(text)):
        if count_words(" ".join(kept + [sentence])) > max_words:
            break
        kept.append(sentence)
    return " ".join(kept) if kept else truncate_words(text, max_words)


@dataclass
class HFGenerator:
    """A transformers seq2seq or causal LM, optionally with named PEFT adapters switched per request."""

    lm: LanguageModel
    shots: list[Shot] = field(default_factory=list)
    max_new_tokens: int = 200
    num_beams: int = 1
    few_shot_k: int = 2
    default_adapter: str | None = None
    adapters: AdapterRegistry = field(default_factory=AdapterRegistry)
    kind: str = "hf"
    supports_adapters: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def info(self) -> dict[str, Any]:
        """Describe this generator."""
        return {
            "kind": self.kind, "model": self.lm.source, "adapter": self.default_adapter,
            "architecture": "seq2seq" if self.lm.is_encoder_decoder else "causal",
        }

    def window_tokens(self) -> int:
        """The model's input window."""
        return self.lm.window

    def count_tokens(self, text: str) -> int:
        """Model tokens."""
        return len(self.lm.tokenizer(text, add_special_tokens=False)["input_ids"])

    def prompt_overhead(self, strategy: str) -> int:
        """Tokens of the rendered prompt with an empty text (shots included)."""
        return self.count_tokens(summary_prompt("", strategy, self.shots, self.few_shot_k))

    def summarize(self, texts: Sequence[str], strategy: str, adapter: str | None = None,
                  max_words: int | None = None) -> list[str]:
        """Summarize each text with the strategy's prompt; with max_words, generation stops at about that many tokens'
        worth of words (TOKENS_PER_WORD) and the output is cut back to whole sentences within the budget."""
        prompts = [summary_prompt(t, strategy, self.shots, self.few_shot_k) for t in texts]
        if not max_words:
            return self.generate(prompts, adapter)
        new_tokens = min(self.max_new_tokens, math.ceil(max_words * TOKENS_PER_WORD) + 8)
        return [fit_budget(out, max_words) for out in self.generate(prompts, adapter, new_tokens)]

    def answer(self, question: str, context: Sequence[tuple[str, str]], adapter: str | None = None) -> str:
        """Generate a reply from the RAG prompt."""
        return self.generate([rag_prompt(question, context)], adapter)[0]

    def generate(self, prompts: Sequence[str], adapter: str | None = None, max_new_tokens: int | None = None) -> list[str]:
        """Batch generation; the adapter is activated and used under one lock so requests never mix adapters."""
        import torch

        tok = self.lm.tokenizer
        texts = [self.lm.input_text(p) for p in prompts]
        batch = tok(texts, return_tensors="pt", padding=True, truncation=True, max_length=self.lm.window)
        with self._lock, torch.inference_mode():
            model = self._activate(adapter or self.default_adapter)
            out = model.generate(**batch, max_new_tokens=max_new_tokens or self.max_new_tokens, num_beams=self.num_beams, do_sample=False)
        if not self.lm.is_encoder_decoder:
            out = out[:, batch["input_ids"].shape[1]:]
        decoded = tok.batch_decode(out, skip_special_tokens=True)
        return [d.strip().split("\n\n")[0].strip() for d in decoded]

    def adapter_names(self) -> list[str]:
        """Adapters found in the adapters folder (sub-folders holding adapter_config.json)."""
        return self.adapters.names()

    def loaded_adapters(self) -> list[str]:
        """Adapters currently loaded into the model (they stay until reload_adapters)."""
        from peft import PeftModel

        model = self.lm.model
        return sorted(model.peft_config) if isinstance(model, PeftModel) else []

    def reload_adapters(self) -> list[str]:
        """Drop every loaded adapter under the lock (changed files are re-read on next use); return those dropped."""
        from peft import PeftModel

        with self._lock:
            model = self.lm.model
            dropped = self.loaded_adapters()
            if isinstance(model, PeftModel):
                tuner = model.base_model
                # LoRA-style tuners inject layers into the base, so unload() removes them; prompt tuning leaves it intact.
                self.lm.model = tuner.unload() if hasattr(tuner, "unload") else tuner
                self.lm.model.eval()
        return dropped

    def _activate(self, adapter: str | None) -> Any:
        """Return the model to run with `adapter` active (or with adapters disabled); call under the lock."""
        from peft import PeftModel

        model = self.lm.model
        if adapter is None:
            if isinstance(model, PeftModel):
                model.base_model.disable_adapter_layers()
            return model
        path = self.adapters.path(adapter)
        if not isinstance(model, PeftModel):
            model = self.lm.model = PeftModel.from_pretrained(model, str(path), adapter_name=adapter)
            model.eval()
        elif adapter not in model.peft_config:
            model.load_adapter(str(path), adapter_name=adapter)
        model.base_model.enable_adapter_layers()
        model.set_adapter(adapter)
        return model


def build_generator(settings: Settings, embedder: Embedder, shots: list[Shot]) -> Generator:
    """EDURAG_GENERATOR: hf, extractive, or auto (hf when its weights resolve locally, else extractive)."""
    choice = settings.generator
    if choice == "auto":
        choice = "hf" if has_local_weights(settings.generator_model) else "extractive"
        logger.info("generator auto -> %s (%s %s locally)", choice, settings.generator_model,
                    "found" if choice == "hf" else "not found")
    if choice == "extractive":
        return ExtractiveGenerator(
            embedder, sentences=settings.summary_sentences, window=settings.extractive_window_tokens,
            diversity=settings.summary_diversity, max_words=settings.summary_max_words,
            min_words=settings.summary_min_words, lead_weight=settings.summary_lead_weight,
        )
    lm = load_language_model(settings.generator_model, settings.allow_downloads)
    return HFGenerator(
        lm=lm, shots=shots, max_new_tokens=settings.max_new_tokens, num_beams=settings.num_beams,
        few_shot_k=settings.few_shot_k, default_adapter=settings.adapter, adapters=AdapterRegistry(settings.resolved_adapters_dir),
    )
