"""Evaluation: datasets, metrics, runners and reports. Imports the core, never the API."""

import os

# ragas reports usage to its makers unless told not to; a private, offline service never phones home.
os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
