"""Framework import (CASE, CSP), per-framework code resolution, crosswalk pieces and Bloom: no models, no server."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from edurag.codes import code_shaped, corestandards_uri_code, notation_keys
from edurag.framework_store import Association, FrameworkStore
from edurag.frameworks import case
from edurag.frameworks.bloom import classify, verb_lookup
from edurag.frameworks.crosswalk import CrosswalkMatch, grade_shift, label_for, monotone, shared_terms
from edurag.frameworks.importer import check_duplicates, check_replacements, import_source, outside_code, plan, sniff, unresolved
from edurag.frameworks.model import FrameworkConflict, FrameworkFormatError
from edurag.settings import BUNDLED_FRAMEWORKS_DIR, BUNDLED_STANDARDS_DIR
from edurag.standards import load_catalog
from tests.conftest import FIXTURES

FRAMEWORKS = FIXTURES / "frameworks"
CASE_V1P0 = FRAMEWORKS / "opensalt_sample_case_v1p0.json"


def test_case_v1p0_is_lifted_and_validated_against_the_v1p1_schema():
    package = case.load_file(CASE_V1P0)
    assert case.is_v1p0(package)
    lifted = case.validate(package)
    assert "CFPackageURI" not in lifted["CFDocument"] and lifted["CFItems"][0]["educationLevel"] == ["06"]


def test_case_schema_violations_are_listed_with_their_place():
    package = copy.deepcopy(case.load_file(CASE_V1P0))
    del package["CFItems"][3]["fullStatement"]
    package["CFAssociations"][0]["associationType"] = 42
    with pytest.raises(FrameworkFormatError) as caught:
        case.validate(package)
    where = {p["where"] for p in caught.value.problems}
    assert "/CFItems/3" in where and "/CFAssociations/0/associationType" in where
    assert "2 schema violation" in str(caught.value)
    messages = {p["message"] for p in caught.value.problems}
    assert messages == {"/CFAssociations/0/associationType: 42 is not valid under any of the given schemas",
                        "/CFItems/3: 'fullStatement' is a required property"}
    package["CFItems"][3] = ["not", "an", "item", "with", "a", "long", "list", "of", "words", "that", "goes", "on", "and", "on"]
    with pytest.raises(FrameworkFormatError) as caught:
        case.validate(package)
    item = next(p["message"] for p in caught.value.problems if p["where"] == "/CFItems/3")
    assert item.startswith('/CFItems/3: ["not", "an", "item"') and item.endswith("... is not of type 'object'"), item


def test_case_associations_to_unknown_nodes_are_kept_and_reported(tmp_path):
    store = FrameworkStore(tmp_path)
    report = import_source(store, plan([CASE_V1P0], "opensalt-sample")[0])
    assert (report.items, report.associations, report.unknown_associations) == (16, 39, 21)
    kept = list(store.associations("opensalt-sample"))
    assert len(kept) == 39 and sum(not a.known for a in kept) == 21
    outside = next(a for a in kept if a.type == "exactMatchOf")
    assert not outside.known and outside.destination_uri.startswith("http")
    ratio = next(s for s in store.standards("opensalt-sample") if s.code == "CCSS.Math.Content.6.RP.A")
    assert ratio.exact_match and len(ratio.children) == 3 and ratio.grades == ["6"]


def test_links_to_ccss_standards_are_resolved_not_unknown(tmp_path):
    store = FrameworkStore(tmp_path)
    catalog = load_catalog(BUNDLED_STANDARDS_DIR, store)
    report = import_source(store, plan([FRAMEWORKS / "ca-ccss-2010-grade-06.json"], "ca-ccss-2010")[0], catalog)
    assert (report.associations, report.unknown_associations, report.unknown_examples) == (65, 0, [])
    links = list(store.associations("ca-ccss-2010"))
    assert {outside_code(catalog, a) for a in links} >= {"6.RP.A.3", "6.RP.A.3a", "6.EE.B.8"}
    outside = Association(origin="1.0", type="exactMatch", destination="http://asn.jesandco.org/resources/S100556D",
                          destination_uri="http://asn.jesandco.org/resources/S100556D", known=False)
    unknown_ccss = Association(origin="1.0", type="exactMatch", known=False,
                               destination="http://corestandards.org/Math/Content/6/RP/A/9")
    assert unresolved([*links, outside, unknown_ccss], catalog) == [outside, unknown_ccss]


def test_csp_import_is_idempotent_and_keeps_licences(tmp_path):
    store = FrameworkStore(tmp_path)
    first = import_source(store, plan([FRAMEWORKS / "tx-teks-2012-grade-06.json"], "tx-teks-2012")[0])
    again = import_source(store, plan([FRAMEWORKS / "tx-teks-2012-grade-06.json"], "tx-teks-2012")[0])
    assert first.items == 72 and not first.unchanged and again.unchanged
    record = store.record("tx-teks-2012")
    assert record.licences == [{"title": "CC BY 3.0 US", "url": "http://creativecommons.org/licenses/by/3.0/us/",
                                "rights_holder": "D2L Corporation"}]
    item = next(s for s in store.standards("tx-teks-2012") if s.code == "6.4.B")
    assert item.grades == ["6"] and item.parent == "6.4" and item.licence["title"] == "CC BY 3.0 US"
    assert item.cluster.startswith("Proportionality")


def test_bad_files_are_refused_and_nothing_is_stored(tmp_path):
    bad = tmp_path / "notes.json"
    bad.write_text(json.dumps({"hello": "world"}))
    with pytest.raises(FrameworkFormatError, match="neither a CASE CFPackage"):
        sniff(bad)
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"CFDocument": "caf\xe9"')
    with pytest.raises(FrameworkFormatError, match=r"^latin\.json: not valid UTF-8 \(byte 0xe9 at offset 19\); save the file as UTF-8 JSON"):
        import_source(FrameworkStore(tmp_path / "store"), plan([latin])[0])
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").iterdir())
    words = tmp_path / "words.json"
    words.write_bytes(b"hello")
    with pytest.raises(FrameworkFormatError) as caught:
        sniff(words)
    assert str(caught.value) == "words.json: not valid JSON (lexical error: invalid char in json text)"
    truncated = tmp_path / "truncated.json"  # a CSP set that breaks off after its first items: found while streaming
    truncated.write_bytes((FRAMEWORKS / "tx-teks-2012-grade-06.json").read_bytes()[:20_000])
    store = FrameworkStore(tmp_path / "store2")
    with pytest.raises(FrameworkFormatError, match=r"^truncated\.json: not valid JSON \(parse error: premature EOF\)$"):
        import_source(store, plan([truncated], "tx")[0])
    assert store.records() == [] and not [p for p in store.root.iterdir() if not p.name.startswith("frameworks.sqlite")]
    with pytest.raises(FrameworkFormatError, match="built-in"):
        plan([FRAMEWORKS / "tx-teks-2012-grade-06.json"], "ccss")


def test_codes_resolve_within_their_framework_and_never_mix(tmp_path):
    store = FrameworkStore(tmp_path)
    for name, fid in (("tx-teks-2012-grade-06.json", "tx-teks-2012"), ("ca-ccss-2010-grade-06.json", "ca-ccss-2010"),
                      ("ny-nextgen-2017-grade-06.json", "ny-nextgen-2017")):
        import_source(store, plan([FRAMEWORKS / name], fid)[0])
    catalog = load_catalog(BUNDLED_STANDARDS_DIR, store)
    # MP.1 exists in CCSS, California and New York: each framework answers with its own.
    assert catalog.resolve("MP.1").framework == "ccss"
    assert {catalog.resolve("MP.1", f).framework for f in ("ca-ccss-2010", "ny-nextgen-2017")} == {"ca-ccss-2010", "ny-nextgen-2017"}
    # 6.RP.3 is a CCSS legacy code and a California code: never each other's.
    assert catalog.resolve("6.RP.3").code == "6.RP.A.3" and catalog.resolve("6.RP.3", "ca-ccss-2010").framework == "ca-ccss-2010"
    assert catalog.resolve("6.4.B") is None and catalog.resolve("6.RP.A.3", "tx-teks-2012") is None
    assert catalog.resolve("6.4(B)", "tx-teks-2012").code == "6.4.B"
    assert catalog.resolve("6.rp.3", "ny-nextgen-2017").code == "NY-6.RP.3"
    assert [s.framework for s in catalog.resolve_anywhere("MP.1")] == ["ccss", "ca-ccss-2010", "ny-nextgen-2017"]
    found = catalog.codes_in_text("How does 6.4.B relate to 6.4.D and 6.RP.A.3?", "tx-teks-2012")
    assert [s.code for s in found] == ["6.4.B", "6.4.D"]
    assert all(s.framework == "tx-teks-2012" for s in catalog.indexable("tx-teks-2012"))
    unknown = catalog.resolve_all("6.4.Z", "tx-teks-2012")  # an unknown code gets the framework's nearest spellings
    assert not unknown.found and unknown.suggestions and all(c.startswith("6.4") for c in unknown.suggestions)
    assert all(catalog.get(c, "tx-teks-2012") for c in unknown.suggestions)


def test_code_shaped_spans_no_framework_has_are_reported_not_found(tmp_path):
    assert code_shaped("9.XX.Z.99") and code_shaped("3.XY.1") and code_shaped("MA.6.AR.1.1")
    assert not any(code_shaped(s) for s in ("K-2", "9-10", "COVID-19", "3.5", "1.2.3", "long-term-care", "x.y.z"))
    store = FrameworkStore(tmp_path)
    import_source(store, plan([FRAMEWORKS / "tx-teks-2012-grade-06.json"], "tx-teks-2012")[0])
    catalog = load_catalog(BUNDLED_STANDARDS_DIR, store)
    unknown = catalog.mentions("Does 9.XX.Z.99 follow 6.RP.A.3 in K-2 or 9-10 (COVID-19, 3.5)?")
    assert [(r.query, r.found) for r in unknown] == [("9.XX.Z.99", False), ("6.RP.A.3", True)]
    assert catalog.mentions("What is 6.4.B about?") == []  # TEKS has it: the question goes to that framework


def test_bundled_frameworks_plan_one_source_each():
    sources = plan(sorted(p for p in BUNDLED_FRAMEWORKS_DIR.iterdir() if p.is_dir()))
    assert sorted(s.framework for s in sources) == ["ca-ccss-2010", "fl-best-2020", "ny-nextgen-2017", "tx-teks-2012", "va-sol-2023"]
    assert all(s.kind == "csp" and s.paths for s in sources)


def test_corestandards_uris_and_notation_keys():
    assert corestandards_uri_code("http://corestandards.org/Math/Content/6/RP/A/3/d") == "6.RP.A.3d"
    assert corestandards_uri_code("http://corestandards.org/Math/Content/HSF/LE/A/1/c") == "F-LE.A.1c"
    assert corestandards_uri_code("http://corestandards.org/Math/Practice/MP1") == "MP.1"
    assert corestandards_uri_code("http://asn.jesandco.org/resources/S100556D") is None
    assert notation_keys("NY-6.RP.3") == ["NY.6.RP.3", "NY6RP3", "6.RP.3", "6RP3"] and notation_keys("6.4(B)") == ["6.4.B", "64B"]


def test_crosswalk_labels_terms_and_grade_shifts():
    assert label_for(0.5, exact_link=True) == "exact" and label_for(0.97) == "exact"
    assert label_for(0.85) == "close" and label_for(0.65) == "partial" and label_for(0.3) == "none"
    assert shared_terms("Solve unit rate problems including unit pricing", "Use unit rates to solve pricing problems") == \
        ["solve", "unit", "rate", "problems", "pricing"]
    assert grade_shift(["6"], ["7"]) == 1 and grade_shift(["7"], ["6"]) == -1 and grade_shift(["6"], ["6", "7"]) == 0
    assert grade_shift(["6"], []) is None


def test_labels_never_rise_down_a_ranked_list():
    """The session-8 list: partial at score 1.27, none at 1.238, partial at 1.227 (labels from the cosine, ranking by
    the score): the third reads none."""
    ranked = [CrosswalkMatch(code=c, framework="ccss", text="", grades=["6"], score=score, cosine=cosine, label=label_for(cosine))
              for c, score, cosine in (("a", 1.27, 0.77), ("b", 1.238, 0.55), ("c", 1.227, 0.71), ("d", 1.1, 0.3))]
    assert [m.label for m in ranked] == ["partial", "none", "partial", "none"]
    assert [m.label for m in monotone(ranked)] == ["partial", "none", "none", "none"]
    assert [m.cosine for m in ranked] == [0.77, 0.55, 0.71, 0.3], "each match keeps its own cosine"
    linked = [CrosswalkMatch(code="x", framework="ccss", text="", grades=[], score=1.0, cosine=0.5, label="exact", exact_link=True),
              CrosswalkMatch(code="y", framework="ccss", text="", grades=[], score=1.5, cosine=0.85, label="close")]
    assert [m.label for m in monotone(linked)] == ["exact", "close"]


def test_bloom_ambiguous_verbs_spread_their_weight():
    describe = classify("Describe the output of this program fragment")
    assert describe.weights == {"Remember": 0.5, "Understand": 0.5} and describe.ambiguous
    assert describe.verbs == ["describe"]  # "program" is a noun here, not Create's verb
    assert classify("Design an experiment to test the effect of light").level == "Create"
    assert classify("What is the title of the first movie you saw").level == "Remember"
    assert classify("The cat sat on the mat").level is None
    assert verb_lookup("Describe the output") == "Remember"


def test_sets_of_one_framework_merge_and_a_partial_import_is_refused(tmp_path):
    """TEKS grade 6 and grade 7 given together make one framework; grade 7 alone after that would drop grade 6's
    standards, so it is refused (nothing written) unless the caller replaces explicitly."""
    grade_6, grade_7 = FRAMEWORKS / "tx-teks-2012-grade-06.json", FRAMEWORKS / "tx-teks-2012-grade-07.json"
    store = FrameworkStore(tmp_path)
    first = import_source(store, plan([grade_6])[0])
    assert (first.framework, first.items, [s["title"] for s in first.sets]) == ("texas-math", 72, ["Grade 6"])
    check_replacements(store, plan([grade_6]))  # the same set again: fine (and unchanged)
    assert import_source(store, plan([grade_6])[0]).unchanged
    both = plan([grade_6, grade_7])
    assert len(both) == 1 and [p.name for p in both[0].paths] == [grade_6.name, grade_7.name]
    check_replacements(store, both)  # grade 6 and 7 extend what is stored
    merged = import_source(store, both[0])
    assert merged.items > 72 and [s["title"] for s in merged.sets] == ["Grade 6", "Grade 7"]
    assert store.record("texas-math").grades == ["6", "7"]
    assert store.standard("texas-math", "6.4.B") and store.standard("texas-math", "7.4.A")
    with pytest.raises(FrameworkConflict) as caught:
        check_replacements(store, plan([grade_7]))
    assert "texas-math is built from 1 set(s) this import does not include: Grade 6" in str(caught.value)
    assert "nothing was changed" in str(caught.value)
    assert caught.value.missing == [{"framework": "texas-math", "id": "28903EF2A9F9469C9BF592D4D0BE10F8_D2486388_grade-06",
                                     "title": "Grade 6"}]
    assert store.record("texas-math").items == merged.items
    replaced = import_source(store, plan([grade_7])[0])  # what replace=true / --replace does
    assert store.standard("texas-math", "6.4.B") is None and store.record("texas-math").items == replaced.items


def test_sets_uploaded_without_an_id_never_become_a_second_framework(tmp_path):
    """Without a framework id, TEKS sets get the derived id texas-math; when tx-teks-2012 is stored from those sets
    (or is the stored Texas math framework) that would be a second TEKS framework: refused, naming tx-teks-2012. With
    an id (the stored one, or a new one on purpose) or a derived id already stored, the import goes ahead."""
    grade_6, grade_7 = FRAMEWORKS / "tx-teks-2012-grade-06.json", FRAMEWORKS / "tx-teks-2012-grade-07.json"
    store = FrameworkStore(tmp_path)
    import_source(store, plan([grade_6], "tx-teks-2012")[0])
    for paths in ([grade_6], [grade_7], [grade_6, grade_7]):
        with pytest.raises(FrameworkConflict) as caught:
            check_duplicates(store, plan(paths))
        assert "would become a second framework, texas-math, beside tx-teks-2012" in str(caught.value)
        assert "framework=tx-teks-2012" in str(caught.value)
    assert [p["field"] for p in caught.value.problems] == ["28903EF2A9F9469C9BF592D4D0BE10F8_D2486388_grade-06"]
    check_duplicates(store, plan([grade_7], "tx-teks-2012"))
    check_duplicates(store, plan([grade_7], "tx-teks-copy"))
    case_store = FrameworkStore(tmp_path / "case")
    import_source(case_store, plan([CASE_V1P0], "opensalt-sample")[0])
    with pytest.raises(FrameworkConflict, match="beside opensalt-sample: opensalt-sample .* is built from"):
        check_duplicates(case_store, plan([CASE_V1P0]))
    import_source(store, plan([CASE_V1P0])[0])
    check_duplicates(store, plan([CASE_V1P0]))  # its derived id is stored: a re-import updates it


def test_an_empty_statement_is_skipped_and_counted(tmp_path):
    tx = json.loads((FRAMEWORKS / "tx-teks-2012-grade-06.json").read_text())
    coded = [key for key, item in tx["standards"].items() if item.get("statementNotation") in ("6.4.B", "6.4.C")]
    for key in coded:
        tx["standards"][key]["description"] = "  "
    path = tmp_path / "tx.json"
    path.write_text(json.dumps(tx))
    report = import_source(FrameworkStore(tmp_path / "store"), plan([path], "tx")[0])
    assert (report.items, report.empty_statements, sorted(report.empty_examples)) == (70, 2, ["6.4.B", "6.4.C"])


def test_a_case_package_bad_after_its_document_gets_the_one_utf8_or_json_message(tmp_path):
    """A cp1252 quote deep in CFItems, or a missing comma there (sniffing reads only the CFDocument), is worded as
    every framework file's: the byte and offset with 'save the file as UTF-8 JSON', or 'not valid JSON (reason)'."""
    text = CASE_V1P0.read_text(encoding="utf-8")
    at = text.index('"fullStatement"', text.index('"CFItems"'))
    quoted = tmp_path / "quoted.json"
    quoted.write_bytes(text[:at].encode("utf-8") + b"\x93" + text[at:].encode("utf-8"))
    offset = len(text[:at].encode("utf-8"))
    with pytest.raises(FrameworkFormatError, match=rf"^quoted\.json: not valid UTF-8 \(byte 0x93 at offset {offset}\); "
                                                    r"save the file as UTF-8 JSON"):
        import_source(FrameworkStore(tmp_path / "store"), plan([quoted], "case-quoted")[0])
    comma = tmp_path / "comma.json"
    comma.write_text(text[:at] + text[at:].replace(",", "", 1), encoding="utf-8")
    with pytest.raises(FrameworkFormatError, match=r"^comma\.json: not valid JSON \("):
        import_source(FrameworkStore(tmp_path / "store2"), plan([comma], "case-comma")[0])


def test_a_components_crosswalker_is_shared_while_it_lives_and_dropped_with_it(tmp_path, embedder):
    """crosswalker_for gives one walker per Components (POST /crosswalk, /ask and /standards share its vectors) and
    forgets it when the Components is gone, so rebuilt Components do not pile up catalogs and vector pools."""
    import gc

    from edurag.components import build_components
    from edurag.frameworks import crosswalk
    from edurag.settings import Settings

    c = build_components(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    walker = crosswalk.crosswalker_for(c)
    assert crosswalk.crosswalker_for(c) is walker and id(c) in crosswalk._WALKERS
    key = id(c)
    del c
    gc.collect()
    assert key not in crosswalk._WALKERS or crosswalk._WALKERS[key][1] is not walker


def test_prepared_crosswalk_target_is_on_disk_for_the_next_process(tmp_path, embedder, standards_subset_dir):
    """`edurag ingest standards` prepares the Common Core target (the first Standards page of a TEKS standard took
    10.6 s encoding Common Core, 0.07 s once its vectors were on disk): after `prepare` a new walker over the same
    cache folder crosswalks to it without encoding a statement; an unprepared folder fills up on the first crosswalk."""
    from edurag.components import build_components
    from edurag.frameworks.crosswalk import Crosswalker
    from edurag.settings import Settings

    c = build_components(Settings(data_dir=tmp_path / "data", standards_dir=standards_subset_dir), embedder=embedder)

    def cached(folder) -> int:
        return sum(len(np.load(f)["keys"]) for f in folder.glob("vectors-*.npz"))

    prepared = Crosswalker(c.catalog, embedder, tmp_path / "prepared")
    assert prepared.prepare("ccss") == len(prepared.candidates("ccss")) > 0
    stored = cached(tmp_path / "prepared")
    assert stored > 0
    fresh = Crosswalker(c.catalog, embedder, tmp_path / "prepared")
    assert fresh.crosswalk("ccss", text="Students compare unit rates with ratio tables.", k=3)
    assert cached(tmp_path / "prepared") == stored
    cold = Crosswalker(c.catalog, embedder, tmp_path / "cold")
    cold.crosswalk("ccss", text="Students compare unit rates with ratio tables.", k=3)
    assert cached(tmp_path / "cold") > 0


def test_ingest_standards_command_prepares_the_common_core_crosswalk(tmp_path, standards_subset_dir):
    """The command `make run` runs leaves Common Core's statement vectors on disk for the service's crosswalks."""
    from typer.testing import CliRunner

    from edurag.cli import app

    result = CliRunner().invoke(app, ["ingest", "standards"], env={
        "EDURAG_DATA_DIR": str(tmp_path / "data"), "EDURAG_STANDARDS_DIR": str(standards_subset_dir)})
    assert result.exit_code == 0, result.output
    [vectors] = (tmp_path / "data" / "crosswalk").glob("vectors-*.npz")
    assert len(np.load(vectors)["keys"]) > 0
