"""PPO detox with the pinned trl 0.11.4 on tiny real models: runs, saves a plain PEFT adapter, raises the reward."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune.config import DataArgs, PPOArgs, TrainArgs
from finetune.ppo import run_ppo
from finetune.train import run_training
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow  # PPO rollouts and training on tiny models

FIXTURE = FIXTURES / "dialogsum_dev40.jsonl"


def build_reward_classifier(tokenizer_dir: Path, out: Path, seed: int = 0, steps: int = 40) -> Path:
    """A tiny BERT classifier {0: nothate, 1: hate} trained to call texts without #PersonN# tags "hate"."""
    import json

    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, id2label={0: "nothate", 1: "hate"}, label2id={"nothate": 0, "hate": 1},
                        pad_token_id=tok.pad_token_id)
    model = BertForSequenceClassification(config)
    summaries = [json.loads(line)["summary"] for line in FIXTURE.read_text().splitlines()]
    texts = summaries + [s.replace("#Person1#", "").replace("#Person2#", "") for s in summaries]
    batch = tok(texts, return_tensors="pt", padding=True, truncation=True, max_length=48)
    labels = torch.tensor([0] * len(summaries) + [1] * len(summaries))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(steps):
        loss = model(**batch, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def t5_lora(tiny_t5_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LoRA adapter on the tiny T5, trained for two steps (so it is not the identity)."""
    out = tmp_path_factory.mktemp("ppo-lora")
    run_training("lora", str(tiny_t5_dir), DataArgs(FIXTURE, limit=8, max_source_tokens=64, max_target_tokens=16), out,
                 TrainArgs(max_steps=2, batch_size=4, learning_rate=1e-2, logging_steps=1), progress=False)
    return out


@pytest.fixture(scope="module")
def reward_dir(tiny_t5_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny reward classifier saved to a temp folder."""
    return build_reward_classifier(tiny_t5_dir, tmp_path_factory.mktemp("reward"))


def test_ppo_two_steps_save_a_plain_peft_adapter(tiny_t5_dir: Path, t5_lora: Path, reward_dir: Path, tmp_path: Path) -> None:
    """Two PPO steps run with trl 0.11.4 + transformers 5; the result loads with PeftModel.from_pretrained."""
    from peft import PeftModel
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    out = tmp_path / "ppo"
    manifest = run_ppo(str(tiny_t5_dir), t5_lora, str(reward_dir), DataArgs(FIXTURE, limit=8, max_source_tokens=48), out,
                       PPOArgs(batch_size=4, mini_batch_size=2, max_steps=2, max_new_tokens=8, save_steps=1), progress=False)
    assert manifest["steps"] == 2 and len(manifest["history"]) == 2
    assert manifest["method"] == "ppo" and manifest["hyperparameters"]["learning_rate"] == pytest.approx(1.41e-5)
    assert (out / "checkpoints" / "step-000002" / "value_head.pt").exists()
    model = PeftModel.from_pretrained(AutoModelForSeq2SeqLM.from_pretrained(tiny_t5_dir), str(out))
    tok = AutoTokenizer.from_pretrained(out)
    generated = model.generate(**tok(["Summarize the following conversation."], return_tensors="pt"), max_new_tokens=4)
    assert generated.shape[1] > 1


def test_ppo_resumes_from_its_last_checkpoint(tiny_t5_dir: Path, t5_lora: Path, reward_dir: Path, tmp_path: Path) -> None:
    """A second invocation with more steps continues at the saved step instead of starting over."""
    data = DataArgs(FIXTURE, limit=4, max_source_tokens=48)
    args = dict(batch_size=4, mini_batch_size=2, max_new_tokens=6, save_steps=1)
    first = run_ppo(str(tiny_t5_dir), t5_lora, str(reward_dir), data, tmp_path, PPOArgs(max_steps=1, **args), progress=False)
    manifest = run_ppo(str(tiny_t5_dir), t5_lora, str(reward_dir), data, tmp_path, PPOArgs(max_steps=2, **args), progress=False)
    assert manifest["resumed_from"].endswith("step-000001")
    assert [h["step"] for h in manifest["history"]] == [1, 2]
    assert manifest["wall_time_seconds"] > first["wall_time_seconds"] > 0
    again = run_ppo(str(tiny_t5_dir), t5_lora, str(reward_dir), data, tmp_path, PPOArgs(max_steps=2, **args), progress=False)
    spent = json.loads((tmp_path / "checkpoints" / "step-000002" / "ppo_state.json").read_text())["wall_seconds"]
    assert again["steps"] == 2 and spent > 0 and again["wall_time_seconds"] >= spent - 0.01, "time already spent is kept"


def test_ppo_steps_raise_the_policy_mean_reward_on_a_fixed_batch(tiny_t5_dir: Path, t5_lora: Path, reward_dir: Path) -> None:
    """Seeded PPO steps on fixed rollouts scored by the reward classifier: the policy-weighted mean reward rises.

    Sampled rewards of a tiny random policy are too noisy for a few-step test, so the rollouts are fixed and the
    expected reward under the policy (softmax of each rollout's log-probability per query) is compared before/after.
    """
    import torch

    from edurag.models import load_language_model
    from edurag.toxicity import load_toxicity_scorer
    from finetune.ppo import build_trainer, encode_queries, generation_kwargs

    torch.manual_seed(0)
    lm = load_language_model(str(tiny_t5_dir))
    args = PPOArgs(learning_rate=3e-3, init_kl_coef=0.0, batch_size=16, mini_batch_size=4, max_new_tokens=8, seed=0)
    policy, trainer = build_trainer(lm, t5_lora, args, str(tiny_t5_dir))
    dialogues = [json.loads(line)["dialogue"] for line in FIXTURE.read_text().splitlines()][:4]
    queries = [q for q in encode_queries(lm, dialogues, 48) for _ in range(4)]
    responses = trainer.generate(queries, return_prompt=False, batch_size=4, **generation_kwargs(lm.tokenizer, args))
    scorer = load_toxicity_scorer(str(reward_dir))
    rewards = torch.tensor(scorer.reward(lm.tokenizer.batch_decode(responses, skip_special_tokens=True)))
    assert rewards.std() > 0.05, "the reward classifier must tell the rollouts apart"

    def expected_reward() -> float:
        with torch.no_grad():
            logps = torch.stack([policy.pretrained_model(input_ids=q[None], decoder_input_ids=r[None]).logits[0, :-1]
                                 .log_softmax(-1).gather(1, r[1:, None]).sum() for q, r in zip(queries, responses)])
        weights = logps.view(4, 4).softmax(-1)
        return float((weights * rewards.view(4, 4)).sum(-1).mean())

    before = expected_reward()
    for _ in range(4):
        trainer.step(queries, responses, list(rewards))
    after = expected_reward()
    assert after > before + 0.05, (before, after)


def test_ppo_refuses_an_adapter_of_another_base(tiny_causal_dir: Path, t5_lora: Path, reward_dir: Path, tmp_path: Path) -> None:
    """A seq2seq adapter on a decoder-only base fails before any model is trained."""
    with pytest.raises(ValueError, match="SEQ_2_SEQ_LM adapter but the base model is CAUSAL_LM"):
        run_ppo(str(tiny_causal_dir), t5_lora, str(reward_dir), DataArgs(FIXTURE, limit=8), tmp_path, PPOArgs(batch_size=4, mini_batch_size=2))
    assert not (tmp_path / "edurag_manifest.json").exists()


def test_ppo_reference_is_a_frozen_copy_of_the_source_adapter(tiny_t5_dir: Path, t5_lora: Path) -> None:
    """The KL penalty compares with the LoRA summarizer PPO started from (the paper's reference), not the untuned base."""
    import torch
    from peft import PeftModel

    from edurag.models import load_language_model
    from finetune.ppo import build_trainer

    lm = load_language_model(str(tiny_t5_dir))
    batch = lm.tokenizer(["#Person1#: Hello, how are you? #Person2#: Fine, thanks."], return_tensors="pt")
    decoder = torch.tensor([[lm.model.config.decoder_start_token_id, 5, 6, 7]])
    with torch.no_grad():
        base = lm.model(**batch, decoder_input_ids=decoder).logits
        source = PeftModel.from_pretrained(load_language_model(str(tiny_t5_dir)).model, str(t5_lora)).eval()
        expected = source(**batch, decoder_input_ids=decoder).logits
    _, trainer = build_trainer(lm, t5_lora, PPOArgs(batch_size=4, mini_batch_size=2), str(tiny_t5_dir))
    reference = trainer.ref_model
    assert reference is not None and not trainer.is_peft_model, "trl must use the explicit reference"
    assert not any(p.requires_grad for p in reference.parameters())
    with torch.no_grad():
        got = reference.pretrained_model.eval()(**batch, decoder_input_ids=decoder).logits
    assert torch.allclose(got, expected, atol=1e-5)
    assert not torch.allclose(got, base, atol=1e-4), "the source adapter must differ from the base for this test to mean anything"
