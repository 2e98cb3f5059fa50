"""Frameworks over HTTP: admin import (CASE, CSP), per-framework codes, licences, crosswalk and compare, on a real
uvicorn server with real Chroma and the packaged MiniLM."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import httpx
import pytest

from edurag.components import build_components
from edurag.settings import Settings
from ingestion.service import ingest_standards
from service.app import create_app
from tests.conftest import FIXTURES
from tests.utils.servers import serve_app

FRAMEWORKS = FIXTURES / "frameworks"
ADMIN = {"Authorization": "Bearer admin-secret"}
D2L_CC_BY_3 = {"title": "CC BY 3.0 US", "url": "http://creativecommons.org/licenses/by/3.0/us/", "rights_holder": "D2L Corporation"}


def upload(api, path: Path, framework: str | None = None, content: bytes | None = None, *more: Path,
           replace: bool = False) -> httpx.Response:
    data = {"framework": framework} if framework else {}
    if replace:
        data["replace"] = "true"
    files = [("file", (path.name, content if content is not None else path.read_bytes(), "application/json"))]
    files += [("file", (p.name, p.read_bytes(), "application/json")) for p in more]
    return api.post("/admin/frameworks", headers=ADMIN, data=data, files=files)


@pytest.fixture(scope="module")
def api(tmp_path_factory, embedder, standards_subset_dir):
    settings = Settings(data_dir=tmp_path_factory.mktemp("frameworks-api"), standards_dir=standards_subset_dir,
                        generator="extractive", admin_key="admin-secret")
    components = build_components(settings, embedder=embedder)
    ingest_standards(components)
    with serve_app(create_app(components=components)) as url, httpx.Client(base_url=url, timeout=300) as client:
        for name, fid in (("tx-teks-2012-grade-06.json", "tx-teks-2012"), ("ca-ccss-2010-grade-06.json", "ca-ccss-2010")):
            response = upload(client, FRAMEWORKS / name, fid)
            assert response.status_code == 200, response.text
        yield client


def test_case_schema_failure_is_a_clear_400_and_imports_nothing(api):
    package = json.loads((FRAMEWORKS / "opensalt_sample_case_v1p0.json").read_text())
    del package["CFItems"][0]["fullStatement"]
    package["CFDocument"]["title"] = 7
    response = upload(api, FRAMEWORKS / "broken.json", "broken-case", json.dumps(package).encode())
    assert response.status_code == 400
    problem = response.json()  # service.errors.Problem: the message as detail, each schema problem in errors
    assert "not a valid CASE v1.0 CFPackage" in problem["detail"] and "nothing was imported" in problem["detail"]
    assert {"/CFItems/0", "/CFDocument/title"} <= {p["where"] for p in problem["errors"]}
    assert "broken-case" not in {f["id"] for f in api.get("/frameworks").json()}
    assert {"where": "/CFDocument/title", "message": "/CFDocument/title: 7 is not of type 'string'"} in problem["errors"]
    not_utf8 = upload(api, FRAMEWORKS / "Grade 6 (Texas).json", "not-json", b"\xff\xfe{")
    assert not_utf8.status_code == 400
    assert not_utf8.json()["detail"] == ("Grade 6 (Texas).json: not valid UTF-8 (byte 0xff at offset 0); save the file as "
                                         "UTF-8 JSON; nothing was imported")
    assert api.post("/admin/frameworks", files={"file": ("x.json", b"{}")}).status_code == 401


def test_case_associations_to_unknown_nodes_are_kept_and_reported(api):
    response = upload(api, FRAMEWORKS / "opensalt_sample_case_v1p0.json", "opensalt-sample")
    assert response.status_code == 200, response.text
    report = response.json()[0]
    assert (report["items"], report["associations"], report["unknown_associations"]) == (16, 39, 21)
    detail = api.get("/frameworks/opensalt-sample").json()
    assert detail["format"] == "case" and detail["unknown_associations"] == 21
    assert all(e["destination"].startswith("http") for e in detail["unknown_examples"])
    standard = api.get("/standards/CCSS.Math.Content.6.RP.A", params={"framework": "opensalt-sample"}).json()
    assert standard["framework"] == "opensalt-sample" and standard["exact_match"]
    assert [c["code"] for c in standard["children"]][:1] == ["CCSS.Math.Content.6.RP.A.1"]


def test_california_links_to_ccss_are_not_counted_unknown(api):
    detail = api.get("/frameworks/ca-ccss-2010").json()  # only the 8 practices: the standards subset has none
    assert (detail["associations"], detail["unknown_associations"]) == (65, 8)
    assert sorted(e["destination"].rsplit("/", 1)[1] for e in detail["unknown_examples"]) == [f"MP{i}" for i in range(1, 9)]
    crosswalk = api.post("/crosswalk", json={"from": "ca-ccss-2010", "code": "6.RP.3", "to": "ccss", "k": 1}).json()
    assert crosswalk["matches"][0]["code"] == "6.RP.A.3" and crosswalk["matches"][0]["exact_link"]


def test_case_package_without_grades_imports_and_reimports_unchanged(api):
    first = upload(api, FRAMEWORKS / "act_holistic_math_case_v1p0.json").json()[0]
    assert (first["framework"], first["items"], first["added"], first["unknown_associations"]) == ("act-holistic-framework-math", 28, 28, 0)
    again = upload(api, FRAMEWORKS / "act_holistic_math_case_v1p0.json").json()[0]
    assert again["unchanged"] and (again["added"], again["skipped"]) == (0, 28)
    node = api.get("/standards/H.A.MATH.GM.PF", params={"framework": "act-holistic-framework-math"}).json()
    assert node["grades"] == [] and node["parent"]["code"] == "H.A.MATH.GM"


def test_two_frameworks_with_overlapping_codes_never_mix(api):
    ca = api.get("/standards/MP.1", params={"framework": "ca-ccss-2010"}).json()
    assert ca["framework"] == "ca-ccss-2010" and ca["licence"] == D2L_CC_BY_3
    assert api.get("/standards/MP.1", params={"framework": "tx-teks-2012"}).status_code == 404
    assert api.get("/standards/6.RP.3").json()["code"] == "6.RP.A.3"  # the CCSS legacy code, not California's 6.RP.3
    assert api.get("/standards/6.RP.3", params={"framework": "ca-ccss-2010"}).json()["code"] == "6.RP.3"
    assert api.get("/standards/6.RP.A.3", params={"framework": "tx-teks-2012"}).status_code == 404
    assert api.get("/standards/6.4.B", params={"framework": "nope"}).status_code == 404
    teks = api.post("/align", json={"text": "How does 6.4.B relate to 6.4.D? Students compare ratios and rates.",
                                     "framework": "tx-teks-2012", "k": 5}).json()
    assert [s["code"] for s in teks["standards"][:2]] == ["6.4.B", "6.4.D"]
    assert {s["framework"] for s in teks["standards"]} == {"tx-teks-2012"}
    assert all(s["licence"] == D2L_CC_BY_3 and s["bloom"] for s in teks["standards"])
    plain = api.post("/align", json={"text": "Students compare ratios and rates using tables", "k": 10}).json()
    assert {s["framework"] for s in plain["standards"]} <= {"ccss", "tx-teks-2012", "ca-ccss-2010", "ngss", "opensalt-sample"}
    ccss_only = api.post("/align", json={"text": "Students compare ratios and rates using tables", "framework": "ccss"}).json()
    assert {s["framework"] for s in ccss_only["standards"]} == {"ccss"}
    assert api.post("/align", json={"text": "ratios", "framework": "atlantis"}).status_code == 404


def test_licence_is_shown_on_standards_for_a_state_item(api):
    body = api.get("/standards/6.4.B", params={"framework": "tx-teks-2012"}).json()
    assert body["licence"] == D2L_CC_BY_3
    assert body["text"].startswith("apply qualitative and quantitative reasoning to solve prediction and comparison")
    assert body["parent"]["code"] == "6.4" and body["bloom"]["level"]
    assert api.get("/standards/6.4.B").json()["framework"] == "tx-teks-2012"  # unique across frameworks
    listed = {f["id"]: f for f in api.get("/frameworks").json()}
    assert listed["tx-teks-2012"]["licences"] == [D2L_CC_BY_3] and listed["tx-teks-2012"]["items"] == 72
    assert listed["ccss"]["format"] == "builtin" and listed["ccss"]["licences"]


def test_reimport_changes_nothing(api):
    report = upload(api, FRAMEWORKS / "tx-teks-2012-grade-06.json", "tx-teks-2012").json()[0]
    assert report["unchanged"] and (report["added"], report["updated"], report["deleted"]) == (0, 0, 0)
    assert report["skipped"] == 72


def test_crosswalk_uses_exact_links_and_text(api):
    linked = api.post("/crosswalk", json={"from": "ca-ccss-2010", "code": "6.RP.3", "to": "ccss", "k": 3}).json()
    assert linked["matches"][0]["code"] == "6.RP.A.3" and linked["matches"][0]["exact_link"]
    assert linked["matches"][0]["label"] == "exact" and linked["licence"] == D2L_CC_BY_3
    text = api.post("/crosswalk", json={"from": "tx-teks-2012", "to": "ccss", "k": 3,
                                        "text": "solve real-world problems to find the whole given a part and the percent"}).json()
    top = text["matches"][0]
    assert top["code"] == "6.RP.A.3" and {"percent", "whole"} <= set(top["evidence"]) and not top["exact_link"]
    assert api.post("/crosswalk", json={"from": "ccss", "to": "tx-teks-2012", "code": "6.RP.A.3", "text": "x"}).status_code == 422
    assert api.post("/crosswalk", json={"from": "ccss", "to": "atlantis", "code": "6.RP.A.3"}).status_code == 404
    assert api.post("/crosswalk", json={"from": "tx-teks-2012", "to": "ccss", "code": "9.9.Z"}).status_code == 404


def test_compare_report_as_json_and_csv(api):
    report = api.get("/frameworks/tx-teks-2012/compare/ccss", params={"grade": "6"}).json()
    assert report["summary"]["standards"] == len(report["rows"]) == 72
    assert set(report["no_good_match"]) == {r["code"] for r in report["rows"] if r["label"] == "none"}
    rows = {r["code"]: r for r in report["rows"]}
    # ratios and rates land in CCSS grade 6 Ratios & Proportional Relationships, not in 7.RP.A.2 ("Analyze proportional
    # relationships"), which the shared heading of 6.4.A-H ("Proportionality ... proportional relationships") pulled
    # them to, showing grade shifts that are not there
    assert [(rows[c]["match_code"], rows[c]["grade_shift"]) for c in ("6.4.B", "6.4.C", "6.4.D")] == \
        [("6.RP.A.3", 0), ("6.RP.A.1", 0), ("6.RP.A.2", 0)]
    text = api.get("/frameworks/tx-teks-2012/compare/ccss", params={"grade": "6", "format": "csv"}).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 72 and rows[0].keys() >= {"tx-teks-2012_code", "ccss_code", "label", "grade_shift", "shared_terms"}


def test_crosswalk_lands_on_standards_not_headings_and_labels_fall_with_the_rank(api):
    """CCSS -> TEKS ranked the knowledge-and-skills statements ("(4) Proportionality. The student applies ...", items
    with student expectations below them) first; they are headings, not standards to teach to. An exact link from the
    source data still lands on such an item (California's 6.RP.3 has parts a-d)."""
    order = {"exact": 0, "close": 1, "partial": 2, "none": 3}
    for code in ("6.RP.A.3", "6.RP.A.1", "6.NS.C.6", "6.EE.C.9"):
        matches = api.post("/crosswalk", json={"from": "ccss", "code": code, "to": "tx-teks-2012", "k": 8}).json()["matches"]
        headings = {f"6.{n}" for n in range(1, 15) if n != 11}  # 6.11 has no student expectations below it
        assert len(matches) == 8 and not {m["code"] for m in matches} & headings, matches
        labels = [order[m["label"]] for m in matches]
        assert labels == sorted(labels), matches
        assert [m["score"] for m in matches] == sorted((m["score"] for m in matches), reverse=True)
    linked = api.post("/crosswalk", json={"from": "ccss", "code": "6.RP.A.3", "to": "ca-ccss-2010", "k": 3}).json()
    assert linked["matches"][0]["code"] == "6.RP.3" and linked["matches"][0]["exact_link"], linked
    assert not [m for m in linked["matches"][1:] if m["code"] in ("6.RP.A", "6.RP")]


def test_ask_within_a_framework_and_about_bloom_levels(api):
    teks = api.post("/ask", json={"question": "What does 6.4.B ask of students?", "framework": "tx-teks-2012"}).json()
    assert teks["citations"] == ["6.4.B"] and "CC BY 3.0 US" in teks["answer"] and "6.4" in teks["answer"]
    bloom = api.post("/ask", json={"question": "What Bloom level is this objective: design an experiment to compare two fertilizers?"}).json()
    assert bloom["intent"] == "bloom" and "Create" in bloom["answer"]
    named = api.post("/ask", json={"question": "Which Bloom's level is 6.4.B?", "framework": "tx-teks-2012"}).json()
    assert named["intent"] == "bloom" and named["citations"] == ["6.4.B"] and "Apply" in named["answer"]
    assert api.post("/ask", json={"question": "What is 6.4.B?", "framework": "atlantis"}).status_code == 404


def test_a_common_core_question_with_a_state_framework_picked_is_answered_from_common_core(api):
    """newuser14: "what should students know before 7.RP.A.2?" with TEKS picked beside it was answered as an
    alignment to TEKS course headings; 7.RP.A.2 lives in Common Core, whose coherence map answers it."""
    body = api.post("/ask", json={"question": "What should students know before 7.RP.A.2?", "framework": "tx-teks-2012"}).json()
    assert body["intent"] == "prerequisites", body
    assert "7.RP.A.2" in body["answer"] and {"6.RP.A.1", "6.RP.A.2", "6.RP.A.3"} & set(body["citations"]), body
    assert not [s for s in body["standards"] if "Knowledge and skills" in s["text"]], body["standards"]


def test_list_questions_beside_an_imported_framework(api):
    """A list question without a framework lists the built-in standards (where codes resolve when no framework is
    named), not a mix that cannot be cited (it answered 500 once a state framework was imported)."""
    plain = api.post("/ask", json={"question": "Which grade 6 standards are about ratios and proportional relationships?"})
    assert plain.status_code == 200, plain.text
    cited = plain.json()["citations"]
    assert "6.RP.A.1" in cited and not [code for code in cited if code.startswith("6.4")], plain.json()["answer"]


def test_a_list_question_naming_a_state_is_answered_from_its_framework(api):
    """newuser14: "Which Texas grade 6 standards are about ratios?" listed Common Core's 6.RP.A.1-3."""
    body = api.post("/ask", json={"question": "Which Texas grade 6 standards are about ratios?"}).json()
    assert body["citations"] and not [code for code in body["citations"] if ".RP." in code], body
    assert any(code.startswith(("6.4.", "6.5.")) for code in body["citations"]), body  # TEKS's grade 6 ratios


def test_a_list_question_with_a_state_framework_picked_lists_its_standards_of_the_grade_asked(api):
    """A list question with TEKS picked was answered as an alignment of the question text (intent align); it lists the
    framework's standards of the grade and topic asked, as a Common Core list question does, and cites only those; the
    framework's name is no topic word. A lesson to align stays an alignment."""
    grade_6, grade_7 = FRAMEWORKS / "tx-teks-2012-grade-06.json", FRAMEWORKS / "tx-teks-2012-grade-07.json"
    assert upload(api, grade_6, "tx-teks-list", None, grade_7).status_code == 200
    try:
        for grade in ("6", "7"):
            body = api.post("/ask", json={"question": f"Which grade {grade} standards are about ratios?",
                                          "framework": "tx-teks-list"}).json()
            assert body["intent"] == "list" and body["citations"], body
            assert {(s["framework"], *s["grades"]) for s in body["standards"]} == {("tx-teks-list", grade)}, body
            assert [s["code"] for s in body["standards"]] == body["citations"], body
            assert any(code.startswith((f"{grade}.4.", f"{grade}.5.")) for code in body["citations"]), body
    finally:
        assert api.delete("/admin/frameworks/tx-teks-list", headers=ADMIN).status_code == 200
    named = api.post("/ask", json={"question": "List the Texas grade 6 standards"}).json()  # "Texas" is no topic
    assert named["intent"] == "list" and "(the first 40 of 72)" in named["answer"], named
    lesson = api.post("/ask", json={"question": "Which standards does this lesson address: students use tape diagrams "
                                                "to compare ratios of red to blue paint?", "framework": "tx-teks-2012"}).json()
    assert lesson["intent"] == "align" and lesson["citations"], lesson
    assert {s["code"] for s in lesson["standards"]} == set(lesson["citations"]), lesson
    assert {s["framework"] for s in lesson["standards"]} == {"tx-teks-2012"}, lesson


def test_a_code_of_one_imported_framework_is_answered_without_naming_it(api):
    """As /standards resolves a code unique across frameworks, /ask answers "What is 6.4.B about?" from TEKS (it
    listed every built-in standard before); a number without a letter never picks a framework."""
    body = api.post("/ask", json={"question": "What is 6.4.B about?"}).json()
    assert body["citations"] == ["6.4.B"] and "tx-teks-2012" in body["answer"], body
    assert "tx-teks-2012" not in api.post("/ask", json={"question": "What is 6.4 times 3?"}).json()["answer"]



def test_several_sets_in_one_upload_make_one_framework_and_a_partial_upload_is_refused(api):
    """TEKS grade 7 uploaded alone after grade 6 would replace the framework (grade 6 lost): 409, nothing changed.
    Both sets in one upload merge into one framework; replace=true replaces explicitly."""
    grade_6, grade_7 = FRAMEWORKS / "tx-teks-2012-grade-06.json", FRAMEWORKS / "tx-teks-2012-grade-07.json"
    refused = upload(api, grade_7, "tx-teks-2012")
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert "tx-teks-2012 is built from 1 set(s) this import does not include: Grade 6" in body["detail"]
    assert "nothing was changed" in body["detail"] and body["errors"][0]["field"].endswith("_grade-06")
    listed = {f["id"]: f for f in api.get("/frameworks").json()}
    assert listed["tx-teks-2012"]["items"] == 72 and [s["title"] for s in listed["tx-teks-2012"]["sets"]] == ["Grade 6"]

    first = upload(api, grade_6, "tx-teks-6-7")
    assert first.status_code == 200, first.text
    assert upload(api, grade_7, "tx-teks-6-7").status_code == 409
    both = upload(api, grade_6, "tx-teks-6-7", None, grade_7)
    assert both.status_code == 200, both.text
    [report] = both.json()
    assert report["items"] > 72 and report["added"] == report["items"] - 72 and report["skipped"] == 72
    assert [s["title"] for s in report["sets"]] == ["Grade 6", "Grade 7"] and report["empty_statements"] == 0
    assert api.get("/standards/7.4.A", params={"framework": "tx-teks-6-7"}).json()["grades"] == ["7"]
    assert api.get("/standards/6.4.B", params={"framework": "tx-teks-6-7"}).status_code == 200
    replaced = upload(api, grade_7, "tx-teks-6-7", replace=True)
    assert replaced.status_code == 200 and replaced.json()[0]["deleted"] == 72
    assert api.get("/standards/6.4.B", params={"framework": "tx-teks-6-7"}).status_code == 404
    assert api.delete("/admin/frameworks/tx-teks-6-7", headers=ADMIN).status_code == 200


def test_a_set_of_a_stored_framework_uploaded_without_an_id_is_refused_not_imported_twice(api):
    """newuser12 finding 6: one TEKS file posted without `framework` became a second framework, texas-math, beside
    tx-teks-2012 (every TEKS code then in two frameworks). A set tx-teks-2012 was built from, or another Texas math
    set, is refused with 409 naming tx-teks-2012 and the id to send; replace=true does not make it a new framework."""
    grade_6, grade_7 = FRAMEWORKS / "tx-teks-2012-grade-06.json", FRAMEWORKS / "tx-teks-2012-grade-07.json"
    for path, replace in ((grade_6, False), (grade_7, False), (grade_6, True)):
        refused = upload(api, path, replace=replace)
        assert refused.status_code == 409, refused.text
        detail = refused.json()["detail"]
        assert "would become a second framework, texas-math, beside tx-teks-2012" in detail, detail
        assert "send framework=tx-teks-2012 (--framework tx-teks-2012)" in detail and "nothing was changed" in detail
    assert refused.json()["errors"] == [{"field": "28903EF2A9F9469C9BF592D4D0BE10F8_D2486388_grade-06",
                                         "message": "Grade 6 (28903EF2A9F9469C9BF592D4D0BE10F8_D2486388_grade-06) is a set of tx-teks-2012"}]
    listed = {f["id"]: f for f in api.get("/frameworks").json()}
    assert "texas-math" not in listed and listed["tx-teks-2012"]["items"] == 72
    assert api.get("/standards/6.4.B").json()["framework"] == "tx-teks-2012"  # still one framework holds it
    assert upload(api, grade_6, "tx-teks-2012").json()[0]["unchanged"]  # the id the message names updates it


def test_built_in_frameworks_cannot_be_deleted(api):
    response = api.delete("/admin/frameworks/ccss", headers=ADMIN)
    assert response.status_code == 409
    assert response.json()["detail"].startswith("ccss is a built-in framework")
    assert api.delete("/admin/frameworks/atlantis", headers=ADMIN).status_code == 404
    assert api.get("/standards/6.RP.A.3").status_code == 200


def test_progression_questions_about_an_imported_standard(api):
    """"What comes before X?" within an imported framework answers from the progressions that framework states
    (CASE precedes), each looked up in that framework; a framework without progressions says so."""
    assert upload(api, FRAMEWORKS / "opensalt_sample_case_v1p0.json", "opensalt-sample").status_code == 200
    before = api.post("/ask", json={"question": "What comes before CCSS.Math.Content.6.RP.A.2?",
                                    "framework": "opensalt-sample"}).json()
    assert before["intent"] == "prerequisites", before
    assert before["citations"] == ["CCSS.Math.Content.6.RP.A.2", "CCSS.Math.Content.6.RP.A.1"]
    assert "CCSS.Math.Content.6.RP.A.1 (Grade 6: Understand the concept of a ratio" in before["answer"], before["answer"]
    after = api.post("/ask", json={"question": "What comes after CCSS.Math.Content.6.RP.A.3?",
                                   "framework": "opensalt-sample"}).json()
    assert after["intent"] == "next" and "7.RP.A.3" in after["answer"], after  # a node outside the package, named
    teks = api.post("/ask", json={"question": "What comes before TX 6.4.B?", "framework": "tx-teks-2012"}).json()
    assert teks["intent"] == "prerequisites" and teks["citations"] == ["6.4.B"], teks
    assert "tx-teks-2012 states no standards before 6.4.B" in teks["answer"] and "CC BY 3.0 US" in teks["answer"]


def test_align_without_a_framework_ranks_ccss_and_ngss_with_state_copies_as_equivalents(api):
    """California 2010 copies CCSS: without `framework`, /align ranks the built-in frameworks (EDURAG_ALIGN_FRAMEWORKS)
    and lists each standard once, by its CCSS code, with the California copy under `equivalents` (the top 5 held the
    same standard twice before, and California's 6.RP.3.a, a part of CCSS 6.RP.A.3 that no copy rule folds, took a
    place of its own); with the framework, its own codes."""
    text = "Students compare unit rates using ratio tables and double number lines, and find missing values in tables."
    body = api.post("/align", json={"text": text, "k": 5}).json()
    assert {s["framework"] for s in body["standards"] + body["practices"]} <= {"ccss", "ngss"}, \
        [(s["code"], s["framework"]) for s in body["standards"] + body["practices"]]
    statements = [s["text"] for s in body["standards"]]
    assert len(set(statements)) == len(statements), statements
    copied = [s for s in body["standards"] if s["equivalents"]]
    assert {"framework": "ca-ccss-2010", "code": "6.RP.3"} in [e for s in copied if s["framework"] == "ccss" for e in s["equivalents"]]
    assert not [s for s in copied if s["framework"] != "ccss" and "ccss" in {e["framework"] for e in s["equivalents"]}]
    within = api.post("/align", json={"text": text, "k": 5, "framework": "ca-ccss-2010"}).json()["standards"]
    assert within and all(s["framework"] == "ca-ccss-2010" and s["equivalents"] == [] for s in within), \
        [(s["code"], s["framework"], s["equivalents"]) for s in within]


@pytest.mark.parametrize("question", ["How does TEKS 6.4.B map to Common Core?",
                                      "Which Common Core standard matches TEKS 6.4.B?",
                                      "How does TEKS 6.4(B) map to Common Core?"])
def test_ask_answers_a_crosswalk_question_with_the_crosswalk(api, question):
    """/ask answered these with 6.4.B's own text (intent explain) or, for the TEKS citation form, "No standards match
    that topic"; now with the matches POST /crosswalk gives, naming both frameworks."""
    body = api.post("/ask", json={"question": question}).json()
    walked = api.post("/crosswalk", json={"from": "tx-teks-2012", "code": "6.4.B", "to": "ccss", "k": 3}).json()
    assert body["intent"] == "crosswalk" and not body["unresolved"], body
    assert body["citations"] == ["6.4.B", *[m["code"] for m in walked["matches"]]] and body["citations"][1] == "6.RP.A.3"
    assert "6.4.B (Texas TEKS, Grade 6): apply qualitative and quantitative reasoning" in body["answer"]
    assert "Closest Common Core standards by the crosswalk from tx-teks-2012 to ccss: 6.RP.A.3 (Grade 6, partial match" \
        in body["answer"], body["answer"]
    assert {(s["code"], s["framework"], s["relation"]) for s in body["standards"][:2]} == \
        {("6.4.B", "tx-teks-2012", "asked"), ("6.RP.A.3", "ccss", "crosswalk match")}


def test_ask_crosswalks_a_ccss_code_into_a_named_state_framework(api):
    """"Which TEKS standards match 7.RP.A.2?" listed 7.RP.A.2's NGSS connections; the named framework is the target."""
    body = api.post("/ask", json={"question": "Which TEKS standards match 6.RP.A.3?"}).json()
    walked = api.post("/crosswalk", json={"from": "ccss", "code": "6.RP.A.3", "to": "tx-teks-2012", "k": 3}).json()
    assert body["intent"] == "crosswalk" and body["citations"] == ["6.RP.A.3", *[m["code"] for m in walked["matches"]]]
    assert "Closest Texas TEKS standards by the crosswalk from ccss to tx-teks-2012" in body["answer"]
    assert not [s for s in body["standards"] if s["code"].startswith("MS-")]


@pytest.mark.parametrize("question", ["How does 6.RP.A.3 compare to TEKS 6.4.B?", "Compare 6.RP.A.3 and 6.4.B"])
def test_ask_compares_standards_of_two_frameworks_keeping_both(api, question):
    """The second code, of another framework, was dropped (the answer listed 6.RP.A.3's prerequisites)."""
    body = api.post("/ask", json={"question": question}).json()
    assert body["intent"] == "compare" and body["citations"][:2] == ["6.RP.A.3", "6.4.B"] and not body["unresolved"], body
    assert "6.RP.A.3 (Common Core, Grade 6): Use ratio and rate reasoning" in body["answer"]
    assert "6.4.B (Texas TEKS, Grade 6): apply qualitative" in body["answer"]
    assert "The crosswalk links them: among Texas TEKS standards, 6.4.B is the" in body["answer"], body["answer"]
    assert "Both are Grade 6 standards." in body["answer"]


def test_standard_page_of_a_state_standard_shows_its_closest_common_core_standards(api):
    """The page showed an empty "NGSS ↔ CCSS" box for TEKS 6.4.B; GET /standards and the page give the crosswalk."""
    detail = api.get("/standards/6.4(B)", params={"framework": "tx-teks-2012"}).json()
    walked = api.post("/crosswalk", json={"from": "tx-teks-2012", "code": "6.4.B", "to": "ccss", "k": 3}).json()
    assert [m["code"] for m in detail["crosswalk"]] == [m["code"] for m in walked["matches"]] and \
        detail["crosswalk"][0]["code"] == "6.RP.A.3"
    assert api.get("/standards/6.RP.A.3").json()["crosswalk"] == []
    page = api.get("/app/standards/6.4.B", params={"framework": "tx-teks-2012"}).text
    assert "Closest Common Core standards" in page and 'href="/app/standards/6.RP.A.3"' in page
    assert "NGSS ↔ CCSS connections" not in page
    assert "NGSS ↔ CCSS connections" in api.get("/app/standards/6.RP.A.3").text


def test_align_reads_the_codes_a_lesson_names_in_citation_and_one_word_forms(api):
    """A lesson naming "TEKS 6.4(B)" got the heading 6.4 first (the span stopped at "6.4"), and "CCSS 7rp2" was
    ignored; both are read as the codes they are."""
    teks = api.post("/align", json={"text": "Lesson for TEKS 6.4(B): students compare unit rates of two phone plans "
                                            "and decide which is the better deal.", "framework": "tx-teks-2012", "k": 3}).json()
    assert teks["standards"][0]["code"] == "6.4.B" and "6.4" not in [s["code"] for s in teks["standards"]], teks["standards"]
    named = api.post("/align", json={"text": "Students find unit prices of snacks and compare speeds with tables "
                                             "(CCSS 7rp2, 6.RP.3b).", "k": 5}).json()
    assert [s["code"] for s in named["standards"][:2]] == ["7.RP.A.2", "6.RP.A.3b"], named["standards"]


def test_ask_page_links_each_cited_standard_within_its_framework(api):
    """The Ask page shows the crosswalk answer; a TEKS code links to its page within TEKS, a CCSS code to its own."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', api.get("/app/ask").text).group(1)
    page = api.post("/app/ask", data={"csrf_token": token, "question": "How does TEKS 6.4(B) map to Common Core?"}).text
    assert "Answered as: crosswalk" in page and "Closest Common Core standards by the crosswalk" in page
    assert 'class="citation" href="/app/standards/6.4.B?framework=tx-teks-2012"' in page
    assert 'class="citation" href="/app/standards/6.RP.A.3"' in page


def test_ask_reads_a_state_name_before_a_ccss_code_as_the_target(api):
    """"Is there a TEKS standard 6.RP.A.3 matches?" looked 6.RP.A.3 up in TEKS only and reported it not found, with
    TEKS suggestions; 6.RP.A.3 is Common Core's, and TEKS is where to look for matches."""
    body = api.post("/ask", json={"question": "Is there a TEKS standard 6.RP.A.3 matches?"}).json()
    walked = api.post("/crosswalk", json={"from": "ccss", "code": "6.RP.A.3", "to": "tx-teks-2012", "k": 3}).json()
    assert not body["unresolved"] and "not found" not in body["answer"], body
    assert body["intent"] == "crosswalk" and body["citations"] == ["6.RP.A.3", *[m["code"] for m in walked["matches"]]]


@pytest.mark.parametrize("question, framework, source, code, target", [
    ("How does TEKS 6.4.B map to Common Core?", "ccss", "tx-teks-2012", "6.4.B", "ccss"),
    ("Which TEKS standards match 6.RP.A.3?", "tx-teks-2012", "ccss", "6.RP.A.3", "tx-teks-2012"),
])
def test_ask_with_a_chosen_framework_still_answers_a_crosswalk_question(api, question, framework, source, code, target):
    """Picking the target framework in the Ask form (the `framework` field) switched crosswalk answers off: the code
    was read within that framework only, so the answer was a topic list or an alignment of the question's words."""
    body = api.post("/ask", json={"question": question, "framework": framework}).json()
    walked = api.post("/crosswalk", json={"from": source, "code": code, "to": target, "k": 3}).json()
    assert body["intent"] == "crosswalk" and not body["unresolved"], body
    assert body["citations"] == [code, *[m["code"] for m in walked["matches"]]]
