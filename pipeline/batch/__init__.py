"""Batch runs: the inbox into Centra in dependency order, with a journal, archive and reports."""
