"""Logging set-up: readable on a terminal, one plain line per event otherwise (cron, systemd).

Every handler carries the redacting filter, so even a careless log call cannot print the
password (the code never logs it in the first place; this is the second lock on the door).
"""

from __future__ import annotations

import logging
import sys

from pipeline.secrets import RedactingFilter


def setup_logging(verbose: int = 0) -> None:
    """Log to stderr: warnings by default, -v info, -vv debug."""
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_centra_pipeline", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    if sys.stderr.isatty():
        handler.setFormatter(logging.Formatter("%(levelname)-7s %(message)s"))
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S"
            )
        )
    handler.addFilter(RedactingFilter())
    handler._centra_pipeline = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    if verbose < 3:
        logging.getLogger("urllib3").setLevel(max(level, logging.INFO))
