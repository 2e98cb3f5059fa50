"""/align's citations are the context codes its answer names, as written in each framework."""

from edurag.alignment.align import cited


def test_citations_are_the_codes_the_answer_names_in_any_framework() -> None:
    # the new user's case: the answer cited California's 6.RP.3.a, citations said CCSS 6.RP.A.3
    assert cited("The closest match is [6.RP.3.a]: find unit rates.", ["6.RP.A.3", "6.RP.3.a", "6.RP.3.b"]) == ["6.RP.3.a"]
    answer = "[7.PFA.4.b] and [NY-6.EE.8]; also [6.EE.B.8] and [6.EE.8]."
    assert cited(answer, ["6.EE.B.8", "6.EE.8", "NY-6.EE.8", "7.PFA.4.b", "8.PFA.5.b"]) \
        == ["7.PFA.4.b", "NY-6.EE.8", "6.EE.B.8", "6.EE.8"]  # in order of mention; 6.EE.8 not found inside NY-6.EE.8
    assert cited("See [NY-5.NBT.7~2].", ["NY-5.NBT.7", "NY-5.NBT.7~2"]) == ["NY-5.NBT.7~2"]
    assert cited("Uses 6.RP.A.3a.", ["6.RP.A.3", "6.RP.A.3a"]) == ["6.RP.A.3a"]  # not the shorter code inside it
    assert cited("No code here.", ["6.RP.A.3"]) == []
