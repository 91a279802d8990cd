"""Centra's notices land on the rows they concern."""

from __future__ import annotations

from pipeline.batch.sender import attach_notices
from pipeline.mapping.engine import MappedObject


def _size(size: str, table: str, description: str) -> MappedObject:
    item = {"id": size, "sizetable": {"id": table, "description": description}}
    return MappedObject("sizes", "sizes_Update", f"{table}/{size}", item, (2,))


def test_each_notice_goes_to_the_object_it_names() -> None:
    objects = [
        _size("S", "SML", "Small Medium Large"),
        _size("S", "XS", "Extra"),
        _size("M", "SML", "Small Medium Large"),
    ]
    notices = [
        "Added new size: S: Small to: Small Medium Large!",
        "Added new size: S: Small to: Extra!",
    ]
    assert attach_notices(objects, notices) == [
        "Centra: Added new size: S: Small to: Small Medium Large!",
        "Centra: Added new size: S: Small to: Extra!",
        "",
    ]


def test_a_notice_that_names_no_object_goes_to_every_object_of_the_request() -> None:
    objects = [
        MappedObject("markets", "markets_Update", key, {"id": key}, (n,))
        for n, key in enumerate(("M1", "M2"), start=2)
    ]
    assert attach_notices(objects, ["Market M2 renamed", "Cache refreshed"]) == [
        "Centra: Cache refreshed",
        "Centra: Market M2 renamed; Cache refreshed",
    ]
