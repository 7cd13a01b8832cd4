"""The settings model: the committed examples load, and the services' tuning lives in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.config import Settings, load_settings
from ledger.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_devnet_example_is_the_defaults_but_key_and_chain_id() -> None:
    loaded = load_settings(ROOT / "config" / "devnet.toml").model_dump()
    defaults = Settings().model_dump()
    assert (loaded.pop("key"), loaded.pop("chain_id")) == ("devnet:0", 31337)
    assert (defaults.pop("key"), defaults.pop("chain_id")) == (None, None)
    assert loaded == defaults


def test_the_devnet_settings_move_endpoint_deployment_and_mirror_unless_pinned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEDGER_DEVNET__PORT", "8600")
    monkeypatch.setenv("LEDGER_DEVNET__STATE_DIR", "/srv/devnet-b")
    moved = load_settings(ROOT / "config" / "devnet.toml")
    assert moved.rpc_url == "http://127.0.0.1:8600"
    assert moved.deployment_file == Path("/srv/devnet-b/deployment.json")
    assert moved.database_url == "sqlite:////srv/devnet-b/ledger.db"
    monkeypatch.setenv("LEDGER_RPC_URL", "http://10.0.0.5:8545")
    assert load_settings(None).rpc_url == "http://10.0.0.5:8545"  # an explicit endpoint wins


def test_production_example_loads_with_service_tuning() -> None:
    loaded = load_settings(ROOT / "config" / "production.example.toml")
    assert loaded.gas.mode.value == "zero" and loaded.poa is True
    assert loaded.log.format == "json"
    assert loaded.indexer.metrics_port == 9102 and loaded.indexer.target_logs == 20_000
    assert loaded.oracle.metrics_port == 9101
    assert loaded.oracle.state_dir == Path("/var/lib/settlement-ledger/oracle")


def test_environment_overrides_nested_tuning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_INDEXER__POLL_INTERVAL", "0.25")
    monkeypatch.setenv("LEDGER_LOG__FORMAT", "console")
    loaded = load_settings(None)
    assert loaded.indexer.poll_interval == 0.25 and loaded.log.format == "console"


def test_bad_tuning_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[log]\nformat = "xml"\n')
    with pytest.raises(ConfigError, match=r"log\.format"):
        load_settings(bad)
