"""Ingestion: files -> parsed elements (unstructured) -> chunks -> the core's Store."""
