"""The per-row report: one line per (row, target), the worst outcome, in row order."""

from __future__ import annotations

from pathlib import Path

from pipeline.batch.report import (
    FileResults,
    count,
    row_results,
    rows_to_fix,
    tally,
    write_report,
)
from pipeline.batch.sender import Outcome


def test_results_are_per_row_and_target_worst_first_in_row_order() -> None:
    sent, refused = Outcome("sent", ""), Outcome("failed", "Centra: no such size")
    objects = [
        ("products", "P1", (3, 2), sent),
        ("pricelists", "EUR/P1", (2, 3), sent),
        ("pricelists", "USD/P1", (2, 3), refused),  # the same rows and target: worst wins
        ("stock", "P1", (3,), sent),
    ]
    problems = [
        (5, "products", "P2", "size.ean: not an EAN", False),
        (None, None, None, "the header has a stray column", False),  # no row: first
    ]
    results = row_results(["products", "pricelists", "stock"], objects, problems, [2, 3, 4, 5])
    lines = [(r.row, r.target, r.status, r.message) for r in results]
    assert lines == [
        (None, "products", "failed", "the header has a stray column"),
        (None, "pricelists", "failed", "the header has a stray column"),
        (None, "stock", "failed", "the header has a stray column"),
        (2, "products", "sent", ""),
        (2, "pricelists", "failed", "Centra: no such size"),
        (3, "products", "sent", ""),
        (3, "pricelists", "failed", "Centra: no such size"),
        (3, "stock", "sent", ""),
        (4, "products", "skipped", "nothing to send: the mapped cells of this row are empty"),
        (5, "products", "failed", "size.ean: not an EAN"),
    ]
    assert count(results) == (0, 1, 4)  # by row, by its worst target


def test_equal_outcomes_join_their_messages_once() -> None:
    a, b = Outcome("failed", "first"), Outcome("failed", "second")
    objects = [("products", "P1", (2,), a), ("products", "P1", (2,), b),
               ("products", "P1", (2,), a)]  # fmt: skip
    (result,) = row_results(["products"], objects, [], [2])
    assert result.message == "first; second"


def test_tally_counts_rows_once_and_targets_each(tmp_path: Path) -> None:
    sent, refused = Outcome("sent", ""), Outcome("failed", "no")
    objects = [("stock", "S1", (2, 3), sent), ("products", "P1", (2,), refused)]
    results = row_results(["products", "stock"], objects, [], [2, 3], sheet="Stock")
    assert tally(results) == (1, 0, 1, {"products": [0, 0, 1], "stock": [2, 0, 0]})
    both = FileResults([results, row_results(["stock"], [], [], [7], sheet="Other")])
    assert len(list(both)) == 4 and both
    write_report(tmp_path / "r.csv", both)
    assert (tmp_path / "r.csv").read_text().splitlines() == [
        "sheet,row,target,key,status,message,source",
        "Stock,2,products,P1,failed,no,",
        "Stock,2,stock,S1,sent,,",
        "Stock,3,stock,S1,sent,,",
        "Other,7,stock,,skipped,nothing to send: the mapped cells of this row are empty,",
    ]


def test_rows_to_fix_are_the_rows_not_sent_worst_first_with_their_targets() -> None:
    sent, refused = Outcome("sent", ""), Outcome("failed", "Centra: no such size")
    objects = [
        ("products", "P1", (2, 3), sent),
        ("stock", "P1", (3,), refused),
        ("products", "P2", (5,), Outcome("skipped", "not sent: row 3")),
    ]
    problems = [(5, "products", "P2", "column 'EAN': not an EAN", False)]
    echo = {2: "Article=P1, Size=S", 3: "Article=P1, Size=M"}
    results = row_results(
        ["products", "stock"],
        objects,
        problems,
        [2, 3, 4, 5],
        source=lambda row: echo.get(row or 0, ""),
    )
    assert [r.source for r in results][:3] == ["Article=P1, Size=S"] + ["Article=P1, Size=M"] * 2
    assert rows_to_fix(results) == {  # row 2 was sent, row 4 is empty: neither is to fix
        3: ("failed", "stock P1: Centra: no such size"),
        5: ("failed", "products P2: column 'EAN': not an EAN"),
    }
