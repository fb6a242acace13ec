"""Evaluation: datasets, metrics, runners and reports. Imports the core, never the API."""
