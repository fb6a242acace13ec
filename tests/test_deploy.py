"""compose.yaml, the Dockerfile and docs/deploy.md agree with the code: every RAG_ variable is a
setting with a valid value, every URL names a service and the port that service listens on, every
command exists in the venv the image builds, and the model file is the one the image assembles.
(Docker itself is not needed: the same commands run together on real servers in test_real_servers.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from rag_service.config import Settings
from rag_service.db import head_revision
from rag_service.model.model_files import DEFAULT_GENERATOR, model_path

from .conftest import ROOT

DEFAULT = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def interpolated(value: Any) -> Any:
    """Compose's ${VAR:-default}, with the defaults (what `docker compose up` uses without an .env)."""
    if isinstance(value, str):
        return DEFAULT.sub(lambda m: m.group(2) or "", value)
    if isinstance(value, list):
        return [interpolated(v) for v in value]
    if isinstance(value, dict):
        return {k: interpolated(v) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    raw = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return dict(interpolated(raw))


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        if line.startswith("ENV "):
            for name, value in re.findall(r"(\w+)=(\S+)", line):
                env[name] = value
    return env


def listens_on(service: dict[str, Any]) -> int:
    command = service["command"]
    return int(command[command.index("--port") + 1])


def test_the_api_settings_in_compose_are_valid_settings(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("api", "ingest"):
        env = services[name]["environment"]
        rag = {k.removeprefix("RAG_").lower(): v for k, v in env.items() if k.startswith("RAG_")}
        unknown = sorted(set(rag) - set(Settings.model_fields))
        assert unknown == [], f"{name}: not settings: {unknown}"
        settings = Settings(**rag)  # a bad value raises here
        assert settings.auth == "keys" and settings.rate_limit_storage == "database"


def test_every_url_names_a_service_and_the_port_it_listens_on(compose: dict[str, Any]) -> None:
    services = compose["services"]
    env = services["api"]["environment"]
    chroma, llm = urlsplit(env["RAG_CHROMA_URL"]), urlsplit(env["RAG_LLM_URL"])
    assert chroma.hostname == "chroma" and chroma.port == listens_on(services["chroma"])
    assert llm.hostname == "llm" and llm.port == listens_on(services["llm"])
    database = urlsplit(env["RAG_DATABASE_URL"])
    assert database.hostname == "postgres" and database.port == 5432
    postgres = services["postgres"]["environment"]
    assert (database.username, database.password, database.path) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        "/" + postgres["POSTGRES_DB"],
    )
    nginx = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert f"server api:{listens_on(services['api'])};" in nginx
    prometheus = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text(encoding="utf-8"))
    target = prometheus["scrape_configs"][0]["dns_sd_configs"][0]
    assert target["names"] == ["api"] and target["port"] == listens_on(services["api"])
    mounted = {v.split(":")[1] for v in services["prometheus"]["volumes"]}
    assert prometheus["scrape_configs"][0]["authorization"]["credentials_file"] in mounted


def test_every_command_exists_in_the_venv_and_the_model_is_the_assembled_one(compose: dict[str, Any]) -> None:
    bin_dir = Path(sys.executable).parent
    for name, service in compose["services"].items():
        if service.get("image") != "rag_service:local":
            continue
        command = service["command"]
        assert (bin_dir / command[0]).exists(), f"{name}: {command[0]} is not in the venv"
        if command[:3] == ["python", "-m", "llama_cpp.server"]:
            help_text = subprocess.run(
                [sys.executable, "-m", "llama_cpp.server", "--help"], capture_output=True, text=True, timeout=60
            ).stdout
            for flag in (f for f in command if f.startswith("--")):
                assert flag in help_text, f"llama_cpp.server has no {flag}"
            assembled = model_path(Path("/opt/rag") / "models", DEFAULT_GENERATOR)
            assert command[command.index("--model") + 1] == str(assembled)
            assert dockerfile_env()["RAG_LLM_MODEL_PATH"] == str(assembled)
        if command[0] == "chroma":
            help_text = subprocess.run([str(bin_dir / "chroma"), "run", "--help"], capture_output=True, text=True)
            for flag in (f for f in command if f.startswith("--")):
                assert flag in help_text.stdout, f"chroma run has no {flag}"
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "RAG_DATA_DIR=/opt/rag .venv/bin/rag-admin models assemble" in dockerfile
    assert "make install" in dockerfile  # the same portable llama.cpp build flags as everywhere


def test_the_deploy_guide_names_only_real_settings_and_files() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\bRAG_([A-Z_]+[A-Z])\b", guide))
    unknown = sorted(n for n in named if n.lower() not in Settings.model_fields)
    assert unknown == []
    for path in re.findall(r"`((?:deploy|tests|docs)/[\w./-]+|compose\.yaml|Dockerfile)`", guide):
        if not path.startswith("deploy/secrets/"):  # keys the operator creates
            assert (ROOT / path).exists(), path


def test_rag_admin_db_upgrade_migrates_the_configured_database(tmp_path: Path) -> None:
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path), "RAG_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "rag-admin"), "db", "upgrade"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert f"database at revision {head_revision()}" in done.stdout and (tmp_path / "x.db").exists()
