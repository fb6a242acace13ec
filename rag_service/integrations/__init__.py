"""Adapters to libraries users already build with (``langchain``)."""
