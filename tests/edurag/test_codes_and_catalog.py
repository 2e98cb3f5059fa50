"""Code formats map in one place; the catalog resolves any form and carries hierarchy and relations."""

import pytest

from edurag.codes import canonical, codes_in_text, official_math_code, short_code
from edurag.settings import BUNDLED_STANDARDS_DIR
from edurag.standards import load_catalog


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
