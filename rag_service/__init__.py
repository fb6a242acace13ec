"""rag_service: grounded, cited answers from a company's help-center documents.

The core package knows nothing of HTTP; `rag_service.api` is the only web layer, and the
`ingest` and `eval` packages build on the core without the core ever importing them.
"""

__version__ = "0.1.0"
