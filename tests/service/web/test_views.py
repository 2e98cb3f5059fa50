"""The web app's view helpers without a browser: passage highlighting and the progression graph."""

from __future__ import annotations

from service.schemas import RelatedOut, StandardDetail
from service.web.graph import PER_GROUP, layout
from service.web.highlight import segments


def test_segments_mark_each_passage_once_and_keep_all_text():
    text = "Intro line.\n\nStudents find unit rates.\n\nThey   graph proportional\nrelationships.\n\nEnd."
    parts = segments(text, ["Students find unit rates.", "They graph proportional relationships.",
                            "Students find unit rates.", "not in the text"])
    assert "".join(p.text for p in parts) == text
    marked = {p.text: p.ranks for p in parts if p.ranks}
    assert marked == {"Students find unit rates.": [1, 3], "They   graph proportional\nrelationships.": [2]}
    assert [p.starts for p in parts if p.starts] == [[1, 3], [2]]


def test_segments_of_overlapping_passages():
    parts = segments("abc def ghi", ["abc def", "def ghi"])
    assert [(p.text, p.ranks) for p in parts] == [("abc ", [1]), ("def", [1, 2]), (" ghi", [2])]


def _detail(**relations: list[str]) -> StandardDetail:
    refs = {k: [RelatedOut(code=c, text=f"text of {c}") for c in v] for k, v in relations.items()}
    return StandardDetail(code="6.RP.A.3", official_code="CCSS.Math.Content.6.RP.A.3", framework="ccss", subject="math",
                          level="standard", grades=["6"], text="Use ratio reasoning.", domain="RP", cluster="A",
                          details="", parent=None, children=[], **{"progress_to": [], "progress_from": [], "related": [],
                                                                    "connections": [], **refs})


def test_graph_layout_places_relations_around_the_standard():
    graph = layout(_detail(progress_from=["5.NF.B.5"], progress_to=["7.RP.A.2", "7.RP.A.3"],
                           related=[f"6.RP.A.{i}" for i in range(1, 3)], connections=["MS-PS1-2"]))
    me = next(n for n in graph.nodes if n.kind == "self")
    assert {n.code for n in graph.nodes} == {"6.RP.A.3", "5.NF.B.5", "7.RP.A.2", "7.RP.A.3", "6.RP.A.1", "6.RP.A.2", "MS-PS1-2"}
    assert all(n.x < me.x for n in graph.nodes if n.kind == "from") and all(n.x > me.x for n in graph.nodes if n.kind == "to")
    assert all(n.y > me.y + me.h for n in graph.nodes if n.kind in ("related", "connection"))
    assert len(graph.edges) == 6 and graph.height >= max(n.y + n.h for n in graph.nodes)
    boxes = [(n.x, n.y) for n in graph.nodes]
    assert len(boxes) == len(set(boxes)), "no two boxes on the same spot"


def test_graph_caps_each_relation_and_is_empty_without_relations():
    assert layout(_detail()).nodes == []
    graph = layout(_detail(related=[f"R.{i}" for i in range(PER_GROUP + 3)]))
    assert graph.hidden == 3 and len([n for n in graph.nodes if n.kind == "related"]) == PER_GROUP


def test_the_job_page_says_counting_only_while_the_job_runs(tmp_path):
    """A re-index or ingest job that ends before counting its chunks (cancelled while queued, failed early) read
    "Status: cancelled — Counting the work…" for good."""
    from edurag.jobs.store import JobStatus, JobStore
    from edurag.jobs.tasks import REINDEX
    from service.schemas import JobOut
    from service.web.templating import templates

    store = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    queued, failed = store.create(REINDEX, []), store.create(REINDEX, [])
    fragment = templates.get_template("_job_progress.html")

    def page(job_id: str) -> str:
        return fragment.render(job=JobOut.of(store.get(job_id)), csrf="token")

    assert "Counting the work…" in page(queued)
    store.cancel(queued)
    store.finish(failed, JobStatus.FAILED, error="Chroma is down")
    for job_id in (queued, failed):
        assert "Counting the work…" not in page(job_id) and "No chunks counted" in page(job_id)
