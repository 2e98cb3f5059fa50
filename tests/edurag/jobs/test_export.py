"""Job results as CSV: what a spreadsheet opens must not run as a formula."""

from __future__ import annotations

import csv
import io

from edurag.jobs.export import csv_lines


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted_as_text():
    """newuser14: an item id `=HYPERLINK(...)` or a summary `=1+2 ...` came out as formulas, and every bullet summary
    ("- ...") showed #NAME? in Excel. Such cells get a leading apostrophe; numbers and other text stay as they are."""
    rows = [{"id": '=HYPERLINK("http://evil","x")', "title": "@SUM(1+1)", "status": "succeeded",
             "summary": "- Students compare fractions.\n- They reason.", "key_terms": ["+fractions", "ratio"],
             "budget_words": 120, "words": -3, "chunks": 1, "error": None}]
    [row] = list(csv.DictReader(io.StringIO("".join(csv_lines(rows)))))
    assert row["id"] == "'=HYPERLINK(\"http://evil\",\"x\")" and row["title"] == "'@SUM(1+1)"
    assert row["summary"] == "'- Students compare fractions.\n- They reason." and row["key_terms"] == "'+fractions; ratio"
    assert (row["budget_words"], row["words"], row["status"]) == ("120", "-3", "succeeded")
