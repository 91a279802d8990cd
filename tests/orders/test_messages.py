"""How Centra's refusals of order updates read in the result report."""

from __future__ import annotations

from pipeline.batch.messages import explain


def test_a_failed_capture_reads_as_possible_fraud_with_what_to_do() -> None:
    message = explain(
        "orders_Update",
        ["Order 30 shipment 8: capture failed: the payment provider declined the capture"],
    )
    assert message.startswith(
        "capture failed for shipment 8 of order 30: possible fraud — do not ship; "
        "check the payment in Centra."
    )
    assert message.endswith(
        "(Centra: Order 30 shipment 8: capture failed: the payment provider declined the capture)"
    )


def test_other_wordings_of_a_failed_capture_are_recognised() -> None:
    for error in ("Could not capture payment", "Capture was declined by Klarna"):
        message = explain("orders_Update", [error])
        assert message.startswith("capture failed for a shipment: possible fraud"), message
    assert explain("orders_Update", ["Order 30: no such status"]) == (
        "Centra: Order 30: no such status"
    )


def test_a_reused_return_id_says_to_choose_a_new_one() -> None:
    message = explain(
        "orders_Update",
        [
            "Order 93 refund R-500: refund id R-500 is already used by order 92; refund ids "
            "must be unique across all orders"
        ],
    )
    assert message.startswith(
        "return id R-500 is already used by order 92: return ids must be unique across all "
        "orders — give this return a new id"
    )


def test_refusals_of_other_operations_are_passed_on_unchanged() -> None:
    assert explain("products_Update", ["capture failed"], ["a notice"]) == (
        "Centra: capture failed (notices: a notice)"
    )
    assert explain("orders_Update", []) == "Centra: Centra answered success=false without a message"
