"""Code formats map in one place; the catalog resolves any form and carries hierarchy and relations."""

import re

import pytest

from edurag.codes import (canonical, codes_in_text, framework_names, official_math_code, qualified_spans, short_code,
                          strip_span)
from edurag.settings import BUNDLED_STANDARDS_DIR
from edurag.framework_store import Framework, FrameworkStore
from edurag.standards import Standard, load_catalog


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(BUNDLED_STANDARDS_DIR)


@pytest.mark.parametrize("official, short", [
    ("CCSS.Math.Content.6.RP.A.3", "6.RP.A.3"),
    ("CCSS.Math.Content.6.RP.A.3a", "6.RP.A.3a"),
    ("CCSS.Math.Content.HSA-REI.B.3", "A-REI.B.3"),
    ("CCSS.Math.Practice.MP1", "MP.1"),
    ("CCSS.ELA-Literacy.RL.5.1", "RL.5.1"),
    ("CCSS.ELA-Literacy.SL.1.1b", "SL.1.1b"),
    ("MS-PS1-1", "MS-PS1-1"),
])
def test_short_code(official, short):
    assert short_code(official) == short


@pytest.mark.parametrize("short, official", [
    ("6.RP.A.3a", "CCSS.Math.Content.6.RP.A.3a"), ("A-REI.B.3", "CCSS.Math.Content.HSA-REI.B.3"),
    ("MP.1", "CCSS.Math.Practice.MP1"),
])
def test_official_math_code(short, official):
    assert official_math_code(short) == official


def test_canonical_and_codes_in_text():
    assert canonical("HSG-CO.B.8") == "G-CO.B.8"
    assert canonical("HSA.CED.A.4") == "A-CED.A.4"
    assert canonical("ms-ps1-1") == "MS-PS1-1"
    assert codes_in_text("How does 6.RP.A.3 relate to 7.RP.A.2 and RL.5.1? See 6.RP.A.3.") == ["6.RP.A.3", "7.RP.A.2", "RL.5.1"]


@pytest.mark.parametrize("query", ["6.RP.A.3", "CCSS.Math.Content.6.RP.A.3", "6.RP.3", "ccss.math.content.6.rp.a.3"])
def test_resolve_any_form(catalog, query):
    assert catalog.resolve(query).code == "6.RP.A.3"


def test_catalog_sizes_and_fields(catalog):
    indexable = catalog.indexable()
    by_framework = {(s.framework, s.subject) for s in indexable}
    assert by_framework == {("ccss", "math"), ("ccss", "ela"), ("ngss", "science")}
    assert sum(s.framework == "ngss" for s in indexable) == 208
    assert sum(s.subject == "math" for s in indexable) == 385 + 8  # ATC standards + 8 practices
    hs = catalog.get("A-REI.B.3")
    assert hs.official_code == "CCSS.Math.Content.HSA-REI.B.3" and hs.grades == ["9", "10", "11", "12"]
    assert catalog.get("RL.5.1").official_code == "CCSS.ELA-Literacy.RL.5.1"


def test_standard_texts_keep_literal_inequality_signs(catalog):
    """The ATC data writes 6.EE.B.8 with literal < and >: the text keeps every word (a tag regex dropped
    "< c to represent ... x >"), and tags and character references still go."""
    assert catalog.get("6.EE.B.8").text.startswith(
        "Write an inequality of the form x > c or x < c to represent a constraint or condition in a real-world")
    assert catalog.get("4.NF.B.3").text.count(" a > 1 ") == 1
    assert not [s.code for s in catalog.indexable() if re.search(r"</?[a-z]+/?>|&[a-z]+;", s.text)]  # RL.9-10.10 had <br/>


def test_relations_of_a_known_standard(catalog):
    s = catalog.get("6.RP.A.3")
    assert s.parent == "6.RP.A" and s.children == ["6.RP.A.3a", "6.RP.A.3b", "6.RP.A.3c", "6.RP.A.3d"]
    assert set(s.progress_to) == {"N-Q.A.1", "7.RP.A.3", "7.RP.A.2"}
    assert set(s.progress_from) == {"6.RP.A.1", "6.RP.A.2", "5.G.A.2"}
    assert "MS-PS1-1" in s.connections and "6.RP.A.3" in catalog.get("MS-PS1-1").connections
    assert s.domain == "Ratios & Proportional Relationships"
    assert "double number line" in s.document(catalog) and "unit pricing" in s.document(catalog)


def test_sub_standard_rolls_up(catalog):
    assert catalog.standard_of("6.RP.A.3a") == "6.RP.A.3"
    assert catalog.standard_of("6.RP.A.3") == "6.RP.A.3"
    assert catalog.indexed_standard("6.RP.A.3a").code == "6.RP.A.3"
    assert catalog.indexed_standard("6.RP.A") is None, "a cluster is not an indexed standard"


# Every written form of a code a publisher, a state document or a teacher's copy-paste uses -> the canonical code(s).
RESOLVER_TABLE = [
    # short (Achieve the Core) and official (ASN) forms
    ("6.RP.A.3", ["6.RP.A.3"]),
    ("CCSS.Math.Content.6.RP.A.3", ["6.RP.A.3"]),
    ("ccss.math.content.6.rp.a.3", ["6.RP.A.3"]),
    ("CCSS.MATH.CONTENT.HSA.REI.B.4", ["A-REI.B.4"]),
    ("CCSS.Math.Practice.MP1", ["MP.1"]),
    ("CCSS.ELA-Literacy.RL.5.1", ["RL.5.1"]),
    ("ELA-Literacy.RL.5.1", ["RL.5.1"]),
    ("CCSS.ELA-Literacy.SL.1.1b", ["SL.1.1b"]),
    # 2010 print forms: no cluster letter
    ("A-REI.3", ["A-REI.B.3"]),
    ("A-SSE.1a", ["A-SSE.A.1a"]),
    ("N-Q.1", ["N-Q.A.1"]),
    ("G-CO.1", ["G-CO.A.1"]),
    ("F-IF.7a", ["F-IF.C.7a"]),
    ("6.RP.3", ["6.RP.A.3"]),
    ("8.F.1", ["8.F.A.1"]),
    ("S-ID.6a", ["S-ID.B.6a"]),
    ("G-SRT.8", ["G-SRT.C.8"]),
    ("N.RN.1", ["N-RN.A.1"]),
    # sub-standard letters: dot or not, either case, cluster letter or not
    ("6.RP.A.3.A", ["6.RP.A.3a"]),
    ("6.RP.A.3.a", ["6.RP.A.3a"]),
    ("6.RP.A.3a", ["6.RP.A.3a"]),
    ("6.RP.3a", ["6.RP.A.3a"]),
    ("6.RP.3.a", ["6.RP.A.3a"]),
    ("k.cc.4a", ["K.CC.B.4a"]),
    ("K.CC.B.4.a", ["K.CC.B.4a"]),
    ("RF.1.1.a", ["RF.1.1a"]),
    # corestandards.org forms and URLs
    ("HSA-REI.B.4", ["A-REI.B.4"]),
    ("HSA.REI.B.4", ["A-REI.B.4"]),
    ("HSG-CO.B.8", ["G-CO.B.8"]),
    ("http://www.corestandards.org/Math/Content/HSA/REI/B/4/", ["A-REI.B.4"]),
    ("https://www.corestandards.org/ELA-Literacy/RL/5/1/", ["RL.5.1"]),
    # case, separators, spaces, trailing punctuation
    ("6.rp.a.3", ["6.RP.A.3"]),
    ("6-RP-A-3", ["6.RP.A.3"]),
    ("6 RP A 3", ["6.RP.A.3"]),
    ("6.RP.A.3.", ["6.RP.A.3"]),
    ("(6.RP.A.3),", ["6.RP.A.3"]),
    ("7.rp.a.2?", ["7.RP.A.2"]),
    ("a-rei.b.3", ["A-REI.B.3"]),
    # a K-8 math code as one word
    ("7rp2", ["7.RP.A.2"]),
    ("ccss 7RP2", ["7.RP.A.2"]),
    ("6rpa3", ["6.RP.A.3"]),
    ("6rp3a", ["6.RP.A.3a"]),
    ("KCC1", ["K.CC.A.1"]),
    # mathematical practices
    ("MP.1", ["MP.1"]),
    ("MP1", ["MP.1"]),
    ("mp 4", ["MP.4"]),
    ("SMP.3", ["MP.3"]),
    # ELA: grade bands, Achieve the Core grade-first form, anchors
    ("RL.5.1", ["RL.5.1"]),
    ("rl.5.1", ["RL.5.1"]),
    ("5.RL.1", ["RL.5.1"]),
    ("1.SL.1.b", ["SL.1.1b"]),
    ("RH.6-8.1", ["RH.6-8.1"]),
    ("RST.11-12.3", ["RST.11-12.3"]),
    ("W.9-10.1a", ["W.9-10.1a"]),
    ("L.K.1", ["L.K.1"]),
    ("CCRA.R.1", ["CCRA.R.1"]),
    ("CCR.R.1", ["CCRA.R.1"]),
    # NGSS performance expectations
    ("MS-PS1-1", ["MS-PS1-1"]),
    ("ms-ps1-1", ["MS-PS1-1"]),
    ("MS.PS1.1", ["MS-PS1-1"]),
    ("NGSS MS-PS1-4", ["MS-PS1-4"]),
    ("K-2-ETS1-1", ["K-2-ETS1-1"]),
    ("3-5-ETS1-2", ["3-5-ETS1-2"]),
    ("hs-ls1-1", ["HS-LS1-1"]),
    ("4-PS3-1", ["4-PS3-1"]),
    # clusters and domains
    ("6.RP.A", ["6.RP.A"]),
    ("6.RP", ["6.RP"]),
    ("A-REI.B", ["A-REI.B"]),
    # ambiguous: the form leaves the grade out -> every candidate
    ("RP.3", ["6.RP.A.3", "7.RP.A.3"]),
    ("EE.2", ["6.EE.A.2", "7.EE.A.2", "8.EE.A.2"]),
    ("MS-ESS1", ["MS-ESS1-1", "MS-ESS1-2", "MS-ESS1-3", "MS-ESS1-4"]),
    ("REI.4", ["A-REI.B.4"]),
    ("WHST.9-12.2", ["WHST.9-10.2", "WHST.11-12.2"]),  # NGSS cites the 9-12 band for both
]


@pytest.mark.parametrize("form, expected", RESOLVER_TABLE, ids=[f for f, _ in RESOLVER_TABLE])
def test_resolver_table(catalog, form, expected):
    result = catalog.resolve_all(form)
    assert list(result.codes) == expected
    assert result.ambiguous == (len(expected) > 1)
    if result.ambiguous:
        assert "ambiguous" in result.message() and all(code in result.message() for code in expected)


def test_resolver_table_size():
    assert len(RESOLVER_TABLE) >= 40


def test_every_catalog_code_parses_back_to_itself(catalog):
    for code in catalog.by_code:
        assert catalog.key(code) is not None, code
        assert catalog.resolve_all(code).codes == (code,), code


@pytest.mark.parametrize("form, suggestion", [
    ("6.RP.B.3", "6.RP.A.3"),     # wrong cluster letter
    ("6.RP.A.9", "6.RP.A.3"),     # no such standard number
    ("MS-PS1-9", "MS-PS1-1"),
    ("RL.5.11", "RL.5.1"),
    ("A-REI.B.13", "A-REI.B.3"),
])
def test_unknown_codes_get_suggestions_never_a_match(catalog, form, suggestion):
    result = catalog.resolve_all(form)
    assert not result.found and suggestion in result.suggestions
    assert "not found" in result.message() and "Did you mean" in result.message()
    assert all(catalog.get(code) for code in result.suggestions)


def test_grade_and_framework_scope_resolution(catalog):
    assert catalog.resolve_all("RP.3", grade="7").codes == ("7.RP.A.3",)
    assert catalog.resolve_all("MS-PS1-1", framework="ccss").codes == ()
    assert catalog.resolve_all("MS-PS1-1", framework="ngss").codes == ("MS-PS1-1",)


def test_mentions_find_every_form_in_text(catalog):
    text = ("Students solve A-REI.3 and A-SSE.1a problems (see HSA-REI.B.4), then 6.rp.a.3, k.cc.4a and ms-ps1-1; "
            "compare RL.5.1 with CCSS.ELA-Literacy.RL.6.1. e.g. 3.5 cups at 9 a.m. for grades K-2 and 3-5.")
    found = [r.codes for r in catalog.mentions(text)]
    assert found == [("A-REI.B.3",), ("A-SSE.A.1a",), ("A-REI.B.4",), ("6.RP.A.3",), ("K.CC.B.4a",), ("MS-PS1-1",),
                     ("RL.5.1",), ("RL.6.1",)]


def test_one_word_codes_are_read_in_free_text(catalog):
    """A K-8 math code typed as one word (7rp2, 6RPA3, 6rp3a) is a code in a question too, as /standards reads it
    (a question naming only "7rp2" was answered with an unrelated list of K.CC and 8.NS standards)."""
    found = [r.codes for r in catalog.mentions("What should students know before 7rp2? And after 6RPA3, or 6rp3a?")]
    assert found == [("7.RP.A.2",), ("6.RP.A.3",), ("6.RP.A.3a",)]
    assert catalog.mentions("Students in 4th grade use 2D shapes and 3d printers for 5g networks.") == []


def test_citation_forms_keep_their_brackets_and_an_unknown_one_is_reported(catalog):
    """The TEKS citation form 6.4(B) and the Texas Administrative Code's 111.26(b)(4)(B) are echoed whole (the last
    bracket was cut off: "111.26(b)(4)(B was not found"), and one that no framework holds is reported, with no
    CCSS suggestion that merely shares its characters."""
    assert strip_span("(6.RP.A.3).") == "6.RP.A.3" and strip_span("6.4(B)?") == "6.4(B)"
    assert strip_span("(111.26(b)(4)(B))") == "111.26(b)(4)(B)" and strip_span("6.RP.A.3)") == "6.RP.A.3"
    assert catalog.resolve_all("111.26(b)(4)(B)").message().startswith("111.26(b)(4)(B) was not found")
    (result,) = catalog.mentions("What is 111.26(b)(4)(B)?")
    assert result.query == "111.26(b)(4)(B)" and not result.found and result.suggestions == ()


@pytest.mark.parametrize("text, expected", [
    ("How does TEKS 6.4(B) map to Common Core?", [("6.4(B)", "tx-teks-2012")]),
    ("What should students know before ccss 7rp2?", [("7rp2", "ccss")]),
    ("Which TEKS standards match 7.RP.A.2?", [("7.RP.A.2", None)]),  # TEKS is the target, not 7.RP.A.2's framework
    ("How does 7.RP.A.2 compare to Texas 7.4.A?", [("7.RP.A.2", None), ("7.4.A", "tx-teks-2012")]),
    ("California Common Core 6.RP.3, Florida B.E.S.T. MA.6.AR.1.1, Virginia SOL 6.PS.1 and NY-6.RP.3",
     [("6.RP.3", "ca-ccss-2010"), ("MA.6.AR.1.1", "fl-best-2020"), ("6.PS.1", "va-sol-2023"), ("NY-6.RP.3", None)]),
])
def test_framework_names_qualify_the_code_written_after_them(text, expected):
    assert qualified_spans(text) == expected


def test_framework_names_in_free_text():
    assert [f for f, _, _ in framework_names("Which Common Core standard matches TEKS 6.4.B in Texas or Virginia?")] == \
        ["ccss", "tx-teks-2012", "tx-teks-2012", "va-sol-2023"]
    assert framework_names("the best way to measure 4 fl oz, or the sol-gel state, in NY-6.RP.3") == []
    assert [f for f, _, _ in framework_names("the Florida BEST and New York Next Generation standards, and NGSS")] == \
        ["fl-best-2020", "ny-nextgen-2017", "ngss"]


def test_mentions_report_unknown_codes_with_suggestions(catalog):
    (result,) = catalog.mentions("What should students know before 6.RP.A.9?")
    assert not result.found and result.query == "6.RP.A.9" and "6.RP.A.3" in result.suggestions


def test_ngss_links_the_9_12_writing_band_to_both_bands(catalog):
    """NGSS connections cite WHST.9-12.x: linked to both high-school bands."""
    pe = next(s for s in catalog.by_code.values() if s.framework == "ngss" and "WHST.9-10.2" in s.connections)
    assert "WHST.11-12.2" in pe.connections and pe.code in catalog.get("WHST.11-12.2").connections


def test_share_of_a_filter_counts_indexable_standards(catalog, tmp_path):
    everything = catalog.indexable()
    assert catalog.share() == 1.0 and catalog.share("no-such-framework") == 0.0
    assert catalog.share("ccss") == pytest.approx(len(catalog.indexable("ccss")) / len(everything))
    grade6_math = [s for s in catalog.indexable("ccss") if s.subject == "math" and "6" in s.grades]
    assert catalog.share("ccss", "math", "6") == pytest.approx(len(grade6_math) / len(everything))
    assert 0 < catalog.share("ccss", "math", "6") < catalog.share("ccss")
    store = FrameworkStore(tmp_path)
    fresh = load_catalog(BUNDLED_STANDARDS_DIR, store)
    assert fresh.share("tx") == 0.0
    store.write(Framework(id="tx", title="T", jurisdiction="Texas", subject="math", format="csp"),
                (Standard(code=f"T.{i}", official_code="", framework="tx", subject="math", level="Standard", grades=["6"],
                          text=f"t {i}") for i in range(len(everything))), [])
    fresh.refresh()  # counted again after an import: half the chunks are now Texas grade 6 math (SQL counts)
    assert fresh.share("tx") == 0.5 and fresh.share("tx", "math", "6") == 0.5 and fresh.share("tx", "science") == 0.0
    assert fresh.share(grade="6") == pytest.approx((catalog.share(grade="6") * len(everything) + len(everything)) / (2 * len(everything)))
    store.remove("tx")
    fresh.refresh()
    assert fresh.share("tx") == 0.0


@pytest.mark.parametrize("question, code", [
    ("Find the Common Core math standards MS-PS1-4 relies on", "MS-PS1-4"),
    ("Which NGSS standards 6.RP.A.3 supports?", "6.RP.A.3"),
])
def test_a_framework_named_before_a_code_it_does_not_hold_is_the_target(catalog, question, code):
    """"Common Core math standards MS-PS1-4": Common Core is what is asked for, not MS-PS1-4's framework; the code is
    resolved where it lives (it was looked up in Common Core only and reported not found)."""
    (result,) = catalog.mentions_across(question)
    assert result.found and result.codes == (code,) and result.framework == catalog.by_code[code].framework


def test_a_framework_named_before_a_code_nothing_holds_reports_it_there(catalog):
    (result,) = catalog.mentions_across("What is Common Core 6.RP.A.9?")
    assert not result.found and result.framework == "ccss" and "6.RP.A.3" in result.suggestions


@pytest.mark.parametrize("text", ["What grade teaches multiplying decimals like 2.5(4)?", "Compute 3.2(10) and 1.5(x).",
                                  "Evaluate f.g(x) for x = 2."])
def test_math_expressions_with_brackets_are_no_codes(catalog, text):
    """2.5(4) is a product, f.g(x) a composition: neither is a citation form (both were reported not found)."""
    assert catalog.mentions(text) == [] and catalog.mentions_across(text) == []


@pytest.mark.parametrize("text, code", [("Students model MS-PS1-4(a) with particles", "MS-PS1-4"),
                                        ("Then MS-ESS3-3(b) asks for a design.", "MS-ESS3-3")])
def test_ngss_codes_with_a_bracketed_part_still_resolve(catalog, text, code):
    assert [r.codes for r in catalog.mentions(text)] == [(code,)]
    assert [r.codes for r in catalog.mentions_across(text)] == [(code,)]
    assert codes_in_text(text) == [code]


def test_a_grade_band_is_no_code_of_a_framework_that_has_one_like_it(tmp_path):
    """newuser14: with TEKS imported, "Which K-2 standards are about measuring length?" was answered with TEKS K.2 (the
    band read as a code). A hyphenated band (K-2, 3-5., 9-12) is no code; K.2 and NGSS's K-2-ETS1-1 still are."""
    store = FrameworkStore(tmp_path)
    store.write(Framework(id="tx", title="T", jurisdiction="Texas", subject="math", format="csp"),
                [Standard(code=code, official_code="", framework="tx", subject="math", level="Standard", grades=[code[0]],
                          text=f"statement {code}") for code in ("K.2", "3.5", "9.12")], [])
    catalog = load_catalog(BUNDLED_STANDARDS_DIR, store)
    assert catalog.mentions_across("Which K-2 standards are about measuring length? And grades 3-5. Or 9-12?") == []
    assert [(r.framework, r.codes) for r in catalog.mentions_across("What is K.2 about? And K-2-ETS1-1?")] == [
        ("tx", ("K.2",)), ("ngss", ("K-2-ETS1-1",))]
