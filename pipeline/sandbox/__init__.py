"""A local Centra SOAP API that behaves as Centra's ERP guide describes.

For the demo, for the tests, and for rehearsing an integration before production. It imports
nothing from the pipeline's own XML code (``pipeline.centra``, ``pipeline.mapping``,
``pipeline.readers``), so a mistake on one side cannot hide behind the same mistake on the
other.

Modules: ``api`` (the :class:`Sandbox` object), ``server`` (HTTP), ``soap`` (parsing and
writing), ``operations`` (one handler per operation), ``catalog`` (sizes, products, stock),
``orders`` (test orders and their lifecycle), ``order_xml`` (orders in the guide's structure,
for events and export), ``store`` (SQLite), ``faults``, ``wsdl``,
``export``, ``page``.
"""

from __future__ import annotations

from pipeline.sandbox.api import Sandbox
from pipeline.sandbox.faults import KINDS as FAULT_KINDS
from pipeline.sandbox.operations import LOGIN_FAILED, Response
from pipeline.sandbox.orders import OrderError
from pipeline.sandbox.server import SOAP_PATH

__all__ = ["FAULT_KINDS", "LOGIN_FAILED", "SOAP_PATH", "OrderError", "Response", "Sandbox"]
