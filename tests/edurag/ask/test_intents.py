"""Intent detection (cue rules + nearest centroid over the packaged MiniLM) and the check of generated replies."""

from __future__ import annotations

from dataclasses import replace

from edurag.ask import ask
from edurag.ask.answer import check_reply, facts_context, generated_answer
from edurag.ask.intents import IntentDetector, allowed_intents, mask_codes


def test_codes_are_masked_and_code_counts_bound_the_intents():
    assert mask_codes("Compare 6.rp.a.3 and RL.5.1 (e.g. 3.5)") == "Compare X and Y (e.g. 3.5)"
    assert allowed_intents(0, 8) == ("list", "align")
    assert "compare" not in allowed_intents(1, 8) and "align" in allowed_intents(1, 60)


def test_crosswalk_needs_another_framework_and_then_replaces_the_ngss_connections():
    """A crosswalk question names a code and a framework to cross to ("Which TEKS standards match 7.RP.A.2?", which
    was answered with 7.RP.A.2's NGSS connections); codes of other frameworks are masked too."""
    assert "crosswalk" not in allowed_intents(1, 8) and "connections" in allowed_intents(1, 8)
    across = allowed_intents(1, 8, crosswalk=True)
    assert "crosswalk" in across and "connections" not in across and "crosswalk" in allowed_intents(2, 8, crosswalk=True)
    assert mask_codes("How does TEKS 6.4(B) map to 7rp2 or 6.4.B?") == "How does TEKS X map to Y or Y?"


def test_intent_detector_uses_examples_and_masks_codes(embedder):
    detector = IntentDetector.from_file(embedder)
    assert detector.detect("What does X rest on, in earlier grades?", 1) == "prerequisites"
    assert detector.detect("Which fifth grade standards mention decimals?", 0) == "list"
    assert set(detector.scores("Compare X and Y", 2)) >= {"compare", "relate"}


def test_generated_reply_is_checked_against_the_facts(components, tiny_t5_dir):
    from edurag.generators import HFGenerator
    from edurag.models import load_language_model

    catalog = components.catalog
    facts = facts_context(catalog, [("6.RP.A.3", "asked"), ("6.RP.A.1", "prerequisite")])
    assert facts[0][0] == "6.RP.A.3" and "ratio" in facts[0][1]
    assert check_reply(catalog, "Review [6.RP.A.1] first.", {"6.RP.A.3", "6.RP.A.1"})
    assert not check_reply(catalog, "Review 5.NF.B.4 first.", {"6.RP.A.3", "6.RP.A.1"})   # outside the facts
    assert not check_reply(catalog, "Review 6.RP.A.9 first.", {"6.RP.A.3", "6.RP.A.1"})   # not a standard
    assert not check_reply(catalog, "Review ratios first.", {"6.RP.A.3", "6.RP.A.1"})     # cites nothing
    hf = replace(components, generator=HFGenerator(lm=load_language_model(str(tiny_t5_dir)), max_new_tokens=16))
    reply = generated_answer(hf, "What should students know before 6.RP.A.3?", facts)
    assert reply is None or check_reply(catalog, reply, {"6.RP.A.3", "6.RP.A.1"})
    body = ask(hf, "What should students know before 6.RP.A.3?")
    assert set(body.citations) <= {"6.RP.A.3", "6.RP.A.1", "6.RP.A.2", "5.G.A.2"} and body.citations
