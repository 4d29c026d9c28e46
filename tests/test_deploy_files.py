"""The deployment files say what production needs (they cannot be run here: no images can be
pulled; tests/test_e2e_cluster.py runs the same topology as processes)."""
from __future__ import annotations

import yaml

from storage.settings import PROJECT_ROOT

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
HELM = yaml.safe_load((PROJECT_ROOT / "deploy/helm/values.yaml").read_text(encoding="utf-8"))
ENDPOINTS = yaml.safe_load((PROJECT_ROOT / "deploy/endpoints.prod.yml").read_text(encoding="utf-8"))


def test_compose_runs_the_whole_stack():
    services = COMPOSE["services"]
    assert {"postgres", "redis", "rasa1", "rasa2", "actions1", "actions2", "nginx", "console", "telegram"} <= set(services)
    for name in ("rasa1", "rasa2"):
        command = services[name]["command"]
        assert command[:3] == ["python", "-m", "app.rasa_server"] and "deploy/endpoints.prod.yml" in command
        assert services[name]["environment"]["RASA_TELEMETRY_ENABLED"] == "false"
    nginx = (PROJECT_ROOT / "deploy/nginx.conf").read_text()
    assert all(f"server {s}" in nginx for s in ("rasa1:5005", "rasa2:5005", "actions1:5055", "actions2:5055"))


def test_the_image_is_rasas_pinned_one_with_the_model_baked_in():
    dockerfile = (PROJECT_ROOT / "deploy/Dockerfile").read_text()
    assert "FROM rasa/rasa:3.6.21\n" in dockerfile and "app.cli train" in dockerfile


def test_the_connection_budget_fits_postgres_default():
    env = COMPOSE["x-advisor"]["environment"]
    processes = 2 + 2 + 2          # Rasa instances, action servers, console and purge (telegram optional)
    per_process = int(env["ELDERCARE_DB_POOL"]) + int(env["ELDERCARE_DB_MAX_OVERFLOW"])
    assert int(env["SQL_POOL_SIZE"]) + int(env["SQL_MAX_OVERFLOW"]) == per_process
    assert (processes + 1) * per_process < 100 - 10


def test_helm_values_scale_out_offline():
    assert HELM["replicaCount"] >= 2
    settings = HELM["applicationSettings"]
    assert settings["telemetry"]["enabled"] is False
    assert settings["initialModel"] == "" and settings["trainInitialModel"] is False
    assert settings["endpoints"]["lockStore"]["enabled"] is True and HELM["redis"]["install"] is True
    assert settings["endpoints"]["trackerStore"]["type"] == "storage.tracker_store.CachedSQLTrackerStore"
    assert "/app/models/advisor.tar.gz" in HELM["args"]
    assert HELM["image"]["tag"].startswith("3.6.21")
    assert HELM["rasa-action-server"]["install"] is True and HELM["rasa-action-server"]["replicaCount"] >= 2


def test_production_endpoints_use_the_shared_stores():
    assert ENDPOINTS["lock_store"]["type"] == "redis"
    assert ENDPOINTS["tracker_store"]["dialect"] == "postgresql"
    assert ENDPOINTS["action_endpoint"]["url"] == "${ACTION_URL}"
