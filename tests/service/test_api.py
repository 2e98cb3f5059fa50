"""The HTTP API over a real uvicorn server, real Chroma and the full bundled standards corpus."""

from __future__ import annotations

import json

import httpx
import pytest

from edurag.alignment.ranking import FEATURES
from edurag.alignment.align import retrieve_standards
from edurag.graph import direct_relation
from service.app import create_app
from tests.conftest import FIXTURES, SHARED_DATA
from tests.utils.servers import serve_app

ADMIN = {"Authorization": "Bearer admin-secret"}


def align(full_api, text, **extra):
    response = full_api.post("/align", json={"text": text, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def test_health_reports_components(full_api, full_components):
    body = full_api.get("/health").json()
    assert body["embedder"] == {"name": "sentence-transformers/all-MiniLM-L6-v2", "dim": 384, "backend": "torch"}
    assert body["generator"]["kind"] == "extractive"
    assert body["collections"]["standards"] == len(full_components.catalog.indexable())
    assert body["collections"]["transcripts"] == 0
    assert body["chroma"]["mode"] == "embedded"


def test_align_grade_hint_boosts_and_is_validated(full_api):
    text = "Students solve problems about proportional relationships and unit rates"
    hinted = align(full_api, text, k=5, grade_hint="7", explain=True)["standards"]
    assert hinted[0]["grades"] == ["7"] and hinted[0]["explain"]["grade_stated"] == 1.0
    bad = full_api.post("/align", json={"text": text, "grade_hint": "grade seven"})
    assert bad.status_code == 422 and "grade_hint" in bad.text


def test_align_unit_rates_puts_6rp_on_top(full_api):
    body = align(full_api, "Students compare unit rates using ratio tables and double number lines", k=5)
    top = body["standards"][0]
    assert top["code"].startswith("6.RP.")
    assert top["official_code"] == f"CCSS.Math.Content.{top['code']}"
    assert (top["framework"], top["subject"], top["grades"]) == ("ccss", "math", ["6"])
    assert len(body["standards"]) == 5 and body["standards"][0]["score"] >= body["standards"][-1]["score"]
    assert body["citations"][0] == top["code"] and f"[{top['code']}]" in body["answer"]
    assert set(body["citations"]) <= {s["code"] for s in body["standards"]}


@pytest.mark.parametrize("text, filters, expected, within", [
    ("Students develop a model of how atoms combine into simple molecules like water and ammonia", {}, "MS-PS1-1", 1),
    ("Students read an informational article and determine two main ideas, explaining how key details support them",
     {"subject": "ela", "grade": "5"}, "RI.5.2", 3),
    ("Find the area of right triangles, quadrilaterals and polygons by composing into rectangles", {"grade": "6"}, "6.G.A.1", 1),
    ("Solve linear equations in one variable with coefficients represented by letters", {"grade": "9"}, "A-REI.B.3", 3),
])
def test_align_hand_checked_objectives(full_api, text, filters, expected, within):
    codes = [s["code"] for s in align(full_api, text, k=5, **filters)["standards"]]
    assert expected in codes[:within], codes


def test_align_filters_are_honoured(full_api):
    body = align(full_api, "Describe how forces change the motion of objects", k=10, framework="ngss", grade="7")
    assert body["standards"] and all(s["framework"] == "ngss" and "7" in s["grades"] for s in body["standards"])


def test_align_low_relevance_says_no_match(full_api):
    body = align(full_api, "zxqv plorb wibble 9981 ##", k=3)
    assert "No standard matches" in body["answer"] and body["citations"] == []


def test_align_question_about_two_codes_states_their_relation(full_api):
    body = align(full_api, "How does 6.RP.A.3 relate to 7.RP.A.2?", k=5)
    assert [s["code"] for s in body["standards"][:2]] == ["6.RP.A.3", "7.RP.A.2"]
    assert "6.RP.A.3 progresses to 7.RP.A.2" in body["answer"]
    assert body["citations"][:2] == ["6.RP.A.3", "7.RP.A.2"]


@pytest.mark.parametrize("text", ["How does 6.RP.A.3 relate to 7.RP.A.2?", "RL.4.1 and RL.5.1 in my reading unit",
                                  "MS-PS1-2 with 6.RP.A.3 and 7.EE.B.4", "6.RP.A.3 and its part 6.RP.A.3.a"])
def test_align_states_the_graphs_relations_between_named_standards(full_api, full_components, text):
    """/align tells how each named standard relates to the others in edurag.graph.direct_relation's words (the one
    home /ask uses too: coherence map, hierarchy, NGSS connections, ELA grade ladder); the extractive answer gives the
    lead standard's line in full."""
    catalog = full_components.catalog
    body = align(full_api, text, k=5)
    named = [catalog.get(s["code"], s["framework"]) for s in body["standards"] if s["matched"] == "code"]
    lead, others = named[0], named[1:]
    relations = [fact for other in others for fact in [direct_relation(catalog, lead, other)] if fact]
    assert relations, [s.code for s in named]
    assert body["answer"].split(" It also relates to ")[0].endswith(f"{lead.text} {' '.join(relations)}"), body["answer"]


@pytest.mark.parametrize("code", ["6.RP.A.3", "CCSS.Math.Content.6.RP.A.3"])
def test_standard_detail_with_relations(full_api, code):
    body = full_api.get(f"/standards/{code}").json()
    assert body["code"] == "6.RP.A.3" and body["parent"]["code"] == "6.RP.A"
    assert [c["code"] for c in body["children"]] == ["6.RP.A.3a", "6.RP.A.3b", "6.RP.A.3c", "6.RP.A.3d"]
    assert {r["code"] for r in body["progress_to"]} == {"N-Q.A.1", "7.RP.A.3", "7.RP.A.2"}
    assert {r["code"] for r in body["progress_from"]} == {"6.RP.A.1", "6.RP.A.2", "5.G.A.2"}
    assert "MS-PS1-1" in {r["code"] for r in body["connections"]}


def test_ngss_standard_lists_ccss_connections(full_api):
    body = full_api.get("/standards/MS-PS1-1").json()
    assert body["framework"] == "ngss" and {"6.RP.A.3", "MP.2"} <= {c["code"] for c in body["connections"]}


def test_unknown_standard_is_404(full_api):
    response = full_api.get("/standards/9.ZZ.Q.99")
    assert response.status_code == 404 and "unknown standard code" in response.json()["detail"]


def test_summarize_dialogue(full_api):
    dialogue = ("#Person1#: Did you finish the science lab report?\n#Person2#: Not yet, I still need the graph.\n"
                "#Person1#: It is due Friday, and the graph must show temperature over time.\n"
                "#Person2#: I will plot the data tonight and send it to you.\n#Person1#: Great, thanks.")
    body = full_api.post("/summarize", json={"text": dialogue, "strategy": "zero_shot"}).json()
    assert body["chunks"] == 1 and body["generator"]["kind"] == "extractive"
    assert body["summary"] and all(sentence.strip(" .") in dialogue for sentence in body["summary"].split("#Person")[1:] if sentence)


def test_summarize_seven_thousand_word_lecture_as_outline(full_api):
    lectures = [json.loads(line) for line in (SHARED_DATA / "lectures" / "yale_lectures_dev43.jsonl").read_text().splitlines()]
    lecture = next(x for x in lectures if x["transcript_words"] >= 7000)
    body = full_api.post("/summarize", json={"text": lecture["transcript"], "format": "outline", "length": "standard"}).json()
    assert 250 <= body["budget_words"] <= 450 and 0.8 * body["budget_words"] <= body["words"] <= body["budget_words"]
    assert len(body["sections"]) >= 3 and all(s["heading"] and s["start"] is None for s in body["sections"])
    assert len(body["key_terms"]) >= 5 and body["classroom"] is None and body["language"] == "en"
    assert body["summary"].count("## ") == len(body["sections"])


def test_summarize_options_are_validated(full_api):
    for bad in ({"format": "essay"}, {"length": "long"}, {"max_words": 0}):
        response = full_api.post("/summarize", json={"text": "Plants need light. Roots take in water.", **bad})
        assert response.status_code == 422 and next(iter(bad)) in response.text
    response = full_api.post("/summarize", json={"text": "[00:00:01]\n[00:00:02]"})
    assert response.status_code == 422 and "no text left" in response.text
    for captions, problem in (("WEBVTT\n\n", "WebVTT"), ("WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\nHello class.\n", "line 3"),
                              ("1\n00:00:01,000 --> 00:00:03,000\n\n", "SRT")):  # pasted captions that do not parse
        response = full_api.post("/summarize", json={"text": captions})
        assert response.status_code == 422 and problem in response.json()["detail"], response.text


def test_transcripts_upload_then_search(full_api):
    files = [("files", ("ratios.txt", b"Today we compare unit rates with double number lines and ratio tables.", "text/plain")),
             ("files", ("bio.jsonl", json.dumps({"title": "Cells", "course": "Bio", "text": "Mitochondria make ATP."}).encode(),
                        "application/json"))]
    response = full_api.post("/ingest/transcripts", files=files, headers=ADMIN)
    assert response.status_code == 200, response.text
    assert {f["file"]: f["chunks"] for f in response.json()["files"]} == {"ratios.txt": 1, "bio.jsonl": 1}
    hits = full_api.post("/transcripts/search", json={"text": "energy in cells", "k": 1}).json()
    assert hits[0]["title"] == "Cells" and hits[0]["course"] == "Bio" and hits[0]["source_file"] == "bio.jsonl"
    assert full_api.delete("/ingest/transcripts/bio.jsonl", headers=ADMIN).json()["deleted"] == 1
    assert full_api.delete("/ingest/transcripts/bio.jsonl", headers=ADMIN).status_code == 404


def test_bad_upload_ingests_nothing(full_api):
    before = full_api.get("/health").json()["collections"]["transcripts"]
    files = [("files", ("good.txt", b"A fine transcript about fractions.", "text/plain")),
             ("files", ("bad.txt", b"\xff\xfe\xfa not utf8", "text/plain"))]
    response = full_api.post("/ingest/transcripts", files=files, headers=ADMIN)
    assert response.status_code == 400 and "bad.txt: not valid UTF-8" in response.text
    assert full_api.get("/health").json()["collections"]["transcripts"] == before


@pytest.mark.parametrize("headers, status", [({}, 401), ({"Authorization": "Bearer wrong"}, 403)])
def test_admin_endpoints_need_the_admin_key(full_api, headers, status):
    files = [("files", ("a.txt", b"text", "text/plain"))]
    assert full_api.post("/ingest/transcripts", files=files, headers=headers).status_code == status
    assert full_api.delete("/ingest/transcripts/a.txt", headers=headers).status_code == status


@pytest.mark.parametrize("path, payload, status, message", [
    ("/align", {"text": ""}, 422, "text"),
    ("/align", {"text": "   "}, 422, "text is empty"),
    ("/align", {"text": "***\n---\n"}, 422, "text has no words once its TeX math and Markdown markup are read"),
    ("/align", {"text": "\\(\\phantom{x}\\)"}, 422, "text has no words"),
    ("/align", {"text": "ratios", "k": 0}, 422, "k"),
    ("/align", {"text": "ratios", "k": 100000}, 422, "k must be between 1 and 50"),
    ("/align", {"text": "ratios", "k": "five"}, 422, "k"),
    ("/align", {"text": 42}, 422, "text"),
    ("/align", {"text": "ratios", "grade": "13"}, 422, "grade"),
    ("/align", {"text": "ratios", "subject": "art"}, 422, "subject"),
    ("/align", {"txt": "ratios"}, 422, "txt"),
    ("/summarize", {"text": "hi", "strategy": "two_shot"}, 422, "strategy"),
    ("/summarize", {"text": "x" * 1_000_001}, 413, "1,000,000-byte limit"),
    ("/summarize", {"text": "hello", "adapter": "nope"}, 404, "unknown adapter"),
])
def test_bad_json_input_gets_a_clear_4xx(full_api, path, payload, status, message):
    response = full_api.post(path, json=payload)
    assert response.status_code == status, response.text
    assert message in response.text
    if status == 422:  # every validation problem names its field, whether pydantic or a limit check found it
        errors = response.json()["errors"]
        assert errors and all(e["field"].startswith("body.") for e in errors), errors


def test_non_utf8_and_wrong_content_type_bodies_are_4xx(full_api):
    raw = full_api.post("/summarize", content=b'{"text": "\xff\xfe"}', headers={"content-type": "application/json"})
    assert raw.status_code == 400
    assert raw.json()["detail"] == "request body: not valid UTF-8 (byte 0xff at offset 10); the body must be UTF-8 JSON"
    form = full_api.post("/align", content=b"text=ratios", headers={"content-type": "text/plain"})
    assert form.status_code == 422


def test_read_endpoints_can_require_user_keys(full_components):
    settings = full_components.settings.model_copy(update={"api_keys": ["teacher-key"]})
    guarded = create_app(components=full_components.__class__(**{**full_components.__dict__, "settings": settings}))
    with serve_app(guarded) as url:
        assert httpx.get(f"{url}/standards/6.RP.A.3").status_code == 401
        assert httpx.get(f"{url}/standards/6.RP.A.3", headers={"Authorization": "Bearer x"}).status_code == 403
        assert httpx.get(f"{url}/standards/6.RP.A.3", headers={"Authorization": "Bearer teacher-key"}).status_code == 200


def test_align_explain_and_matched_passage(full_api):
    text = "A grade 6 lesson: students compare unit rates using ratio tables and double number lines."
    plain = align(full_api, text, k=3)
    assert all(s["explain"] is None and s["passage"] == text for s in plain["standards"])
    explained = align(full_api, text, k=3, explain=True)["standards"][0]
    assert set(explained["explain"]) == {"dense", "lexical", "grade_boost", *FEATURES}
    assert explained["explain"]["grade_stated"] > 0 and 0 < explained["explain"]["dense"] <= 1
    assert explained["explain"]["fused"] == pytest.approx(explained["explain"]["dense"] + 0.3 * explained["explain"]["lexical"],
                                                          abs=1e-3)


def test_practices_are_listed_apart_unless_asked(full_api, full_components):
    """CCSS MP codes never enter `standards` unless include_practices; they come back in `practices`."""
    text = ("Students make sense of the problem and persevere in solving it, construct viable arguments and critique the "
            "reasoning of others as they compare unit rates with ratio tables.")
    body = align(full_api, text, k=10)
    assert body["standards"] and not any(s["code"].startswith("MP.") for s in body["standards"])
    practices = [p["code"] for p in body["practices"]]
    assert {"MP.1", "MP.3"} & set(practices) and all(code.startswith("MP.") for code in practices)
    assert not any(s.code.startswith("MP.") for s in retrieve_standards(full_components, text, 50))
    asked = align(full_api, text, k=10, include_practices=True)
    assert {"MP.1", "MP.3"} & {s["code"] for s in asked["standards"]}
    named = align(full_api, text + " (MP2)", k=10)
    assert named["practices"][0]["code"] == "MP.2" and named["practices"][0]["matched"] == "code"
    assert not any(s["code"].startswith("MP.") for s in named["standards"])


def test_confidence_falls_with_rank(full_api):
    """Each retrieved standard carries a calibrated confidence that never rises down the ranking."""
    standards = align(full_api, "Students compare unit rates using ratio tables and double number lines", k=10)["standards"]
    confidences = [s["confidence"] for s in standards]
    assert all(0 <= c <= 1 for c in confidences) and confidences == sorted(confidences, reverse=True)
    assert {s["confidence_label"] for s in standards} <= {"likely addressed", "related"}
    assert [s["score"] for s in standards] == sorted((s["score"] for s in standards), reverse=True)


def test_the_align_answer_leads_with_the_top_ranked_standard(full_api):
    """newuser14: the answer was built from the standards above the dense floor in their own order, so it could lead
    with a standard ranked below the first one shown ("The closest match is [1.7.C]" over a list led by 2.9.D)."""
    lessons = [json.loads(line)["text"] for line in (FIXTURES / "im_lessons_slice.jsonl").read_text().splitlines()[:6]]
    for text in lessons:
        body = align(full_api, text, k=5)
        if body["answer"].startswith("The closest match is"):
            assert body["answer"].startswith(f"The closest match is [{body['standards'][0]['code']}]"), body["answer"]


def test_a_context_line_quotes_a_whole_statement_after_a_domain_with_initials(embedder):
    """TEKS's domains read "Subchapter A. Elementary": the answer's "also relates to" quoted "Grade 2, Subchapter A."
    (a line's first sentence) with no statement."""
    from edurag.alignment.align import _context_line
    from edurag.generators import ExtractiveGenerator
    from edurag.standards import Standard

    teks = Standard(code="2.9.D", official_code="", framework="tx", subject="math", level="Sub-standard", grades=["2"],
                    text="determine the length of an object to the nearest marked unit using rulers;",
                    domain="Subchapter A. Elementary")
    answer = ExtractiveGenerator(embedder).answer("q", [("6.RP.A.3", "Grade 6: use ratio reasoning."), ("2.9.D", _context_line(teks))])
    assert answer.endswith("[2.9.D] Grade 2, Subchapter A Elementary: determine the length of an object to the nearest "
                           "marked unit using rulers;"), answer
