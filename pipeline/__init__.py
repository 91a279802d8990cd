"""centra-erp-pipeline: ERP files into Centra's SOAP API, and Centra's events back out as files."""

__version__ = "0.1.0"
