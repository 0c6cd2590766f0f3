"""Configuration: one typed settings object from ``ledgerlearn.toml`` and ``LEDGERLEARN_*``.

Precedence, highest first: explicit overrides (CLI options), environment variables
(``LEDGERLEARN_<SECTION>__<KEY>``, e.g. ``LEDGERLEARN_CHAIN__BACKEND=devnet``), the TOML file
(``./ledgerlearn.toml``, or the path in ``LEDGERLEARN_CONFIG`` or ``--config``), defaults.

Secrets are never settings: a keystore *path* is, its password comes from
``LEDGERLEARN_KEYSTORE_PASSWORD``, a password file or a prompt.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from ledgerlearn.exceptions import ConfigError

__all__ = [
    "ChainSettings",
    "DeploymentSettings",
    "GatewaySettings",
    "GovernanceSettings",
    "NodeAuditorSettings",
    "NodeDataSettings",
    "NodeProviderSettings",
    "NodeSettings",
    "NodeVerifierSettings",
    "NodeWatcherSettings",
    "RandomnessSettings",
    "Settings",
    "StorageSettings",
    "TokenSettings",
    "load_settings",
]

BackendName = Literal["embedded", "devnet", "rpc"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChainSettings(_Section):
    """``[chain]``: which EVM to use and how to send to it."""

    backend: BackendName = "embedded"
    rpc_url: str | None = None
    anvil_path: Path | None = None
    block_time: float | None = Field(default=None, gt=0)
    keystore: Path | None = None
    use_dev_accounts: bool = False
    confirmations: int = Field(default=0, ge=0)
    tx_timeout: float = Field(default=120.0, gt=0)
    rpc_timeout: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _rpc_needs_url(self) -> ChainSettings:
        if self.backend == "rpc" and not self.rpc_url:
            raise ValueError("backend 'rpc' needs rpc_url (LEDGERLEARN_CHAIN__RPC_URL)")
        return self


class StorageSettings(_Section):
    """``[storage]``: where content lives."""

    root: Path = Path(".ledgerlearn/store")


class DeploymentSettings(_Section):
    """``[deployment]``: where the deployment manifest is."""

    manifest: Path = Path(".ledgerlearn/deployment.json")


class TokenSettings(_Section):
    """``[token]``: protocol token supply at deployment, in whole tokens."""

    initial_supply: int = Field(default=100_000_000, ge=0)
    max_supply: int = Field(default=1_000_000_000, gt=0)


class RandomnessSettings(_Section):
    """``[randomness]``: RandomnessBeacon rules at deployment."""

    minimum_bond: int = Field(default=1_000, ge=0)
    fulfilment_window: int = Field(default=20, ge=1)
    unbonding_blocks: int = Field(default=200, ge=1)


class GovernanceSettings(_Section):
    """``[governance]``: voting and timelock rules used when deploying."""

    voting_delay: int = Field(default=1, ge=0)
    voting_period: int = Field(default=50, ge=1)
    proposal_threshold: int = Field(default=0, ge=0)
    quorum_fraction: int = Field(default=4, ge=0, le=100)
    late_quorum_extension: int = Field(default=10, ge=0)
    timelock_delay: int = Field(default=3600, ge=0)
    guardian: str | None = None


class NodeDataSettings(_Section):
    """``[node.data]``: a trainer's local data (a shard of an installed dataset)."""

    dataset: str = "mnist"
    partition: str = "dirichlet:0.5"
    clients: int = Field(default=10, ge=1)
    index: int = Field(default=0, ge=0)
    max_train: int | None = Field(default=20_000, ge=1)
    seed: int = 0


class NodeProviderSettings(_Section):
    """``[node.provider]``: an inference provider's models, back end and HTTP API."""

    models: list[str] = Field(default_factory=list)
    """Versions to serve: ``name@version`` or ``name@channel`` (resolved at start)."""
    backend: Literal["numpy", "onnx"] = "numpy"
    http_address: str = "127.0.0.1"
    http_port: int = Field(default=8700, ge=1, le=65535)
    endpoint: str | None = None
    """Public URL published in the DID document (default: ``http://address:port``)."""
    report_after_seconds: float = Field(default=10.0, ge=0)


class NodeAuditorSettings(_Section):
    """``[node.auditor]``: the versions an auditor audits and what it does on its own."""

    models: list[str] = Field(default_factory=list)
    """Versions to audit: ``name@version`` or ``name@channel`` (resolved at start)."""
    backend: Literal["numpy", "onnx"] = "numpy"
    open_audits: bool = True
    """Open the audit lottery of fulfilled requests for these versions."""
    vrf: bool = True
    """Register a VRF key and fulfil the audits' beacon requests when assigned or overdue."""


class NodeWatcherSettings(_Section):
    """``[node.watcher]``: the versions a watcher checks optimistic claims of."""

    models: list[str] = Field(default_factory=list)
    finalize: bool = True
    """Also settle unchallenged claims once their window closes."""


class NodeVerifierSettings(_Section):
    """``[node.verifier]``: the public training set proof-of-learning jobs train on."""

    dataset: str = "digits"
    max_train: int | None = Field(default=None, ge=1)
    vrf: bool = True


class NodeSettings(_Section):
    """``[node]``: one long-running role (``ledgerlearn node run``).

    Trainer, aggregator, provider, auditor, watcher or verifier.
    """

    role: Literal["trainer", "aggregator", "provider", "auditor", "watcher", "verifier"] = "trainer"
    task: int = Field(default=0, ge=0)
    state_dir: Path = Path(".ledgerlearn/node")
    stake: int = Field(default=200, ge=0)
    dev_account: int | None = Field(default=None, ge=0)
    metrics_port: int = Field(default=0, ge=0, le=65535)
    metrics_address: str = "127.0.0.1"
    poll_seconds: float = Field(default=0.5, gt=0)
    connect_wait_seconds: float = Field(default=120.0, ge=0)
    data: NodeDataSettings = NodeDataSettings()
    provider: NodeProviderSettings = NodeProviderSettings()
    auditor: NodeAuditorSettings = NodeAuditorSettings()
    watcher: NodeWatcherSettings = NodeWatcherSettings()
    verifier: NodeVerifierSettings = NodeVerifierSettings()


class GatewaySettings(_Section):
    """``[gateway]``: the inference gateway (``ledgerlearn gateway``)."""

    address: str = "127.0.0.1"
    port: int = Field(default=8600, ge=1, le=65535)
    dev_account: int | None = Field(default=None, ge=0)
    redundancy: int = Field(default=5, ge=1, le=16)
    quorum: int = Field(default=3, ge=1, le=16)
    deadline_blocks: int = Field(default=50, ge=1)
    fee: float = Field(default=0.0, ge=0)
    """Fee per request in whole tokens, paid by the gateway's account."""
    wait_seconds: float = Field(default=30.0, ge=0)
    gather_timeout: float = Field(default=10.0, gt=0)
    rate: float = Field(default=2.0, gt=0)
    """Requests per second per identity (token bucket refill)."""
    burst: int = Field(default=10, ge=1)
    quota: int = Field(default=1_000, ge=1)
    quota_window_seconds: float = Field(default=86_400.0, gt=0)
    max_signature_lifetime: int = Field(default=300, ge=1)
    did_cache_seconds: float = Field(default=10.0, ge=0)

    @model_validator(mode="after")
    def _quorum_is_a_majority(self) -> GatewaySettings:
        if not self.redundancy < 2 * self.quorum <= 2 * self.redundancy:
            raise ValueError(
                f"quorum {self.quorum} must be a majority of redundancy {self.redundancy} "
                "(redundancy < 2 * quorum) and at most redundancy"
            )
        return self


class Settings(BaseSettings):
    """All of ledgerlearn's settings."""

    model_config = SettingsConfigDict(
        env_prefix="LEDGERLEARN_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    chain: ChainSettings = ChainSettings()
    storage: StorageSettings = StorageSettings()
    deployment: DeploymentSettings = DeploymentSettings()
    token: TokenSettings = TokenSettings()
    randomness: RandomnessSettings = RandomnessSettings()
    governance: GovernanceSettings = GovernanceSettings()
    node: NodeSettings = NodeSettings()
    gateway: GatewaySettings = GatewaySettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order the sources: overrides, environment, TOML file (when one is configured)."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("toml_file") is not None:
            sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)


def load_settings(config: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Load settings from the TOML file, the environment and ``overrides``.

    Parameters
    ----------
    config
        A TOML file; defaults to ``$LEDGERLEARN_CONFIG`` or ``./ledgerlearn.toml`` if present.
    **overrides
        Section dictionaries that win over every other source, e.g.
        ``chain={"backend": "devnet"}``.

    Returns
    -------
    Settings
        The validated settings.

    Raises
    ------
    ConfigError
        If the file is missing (when named explicitly), unreadable or a value is invalid;
        the message names the setting.
    """
    path: Path | None
    if config is not None:
        path = Path(config)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
    elif os.environ.get("LEDGERLEARN_CONFIG"):
        path = Path(os.environ["LEDGERLEARN_CONFIG"])
        if not path.is_file():
            raise ConfigError(f"LEDGERLEARN_CONFIG names {path}, which does not exist")
    else:
        path = Path("ledgerlearn.toml") if Path("ledgerlearn.toml").is_file() else None
    settings_cls: type[Settings] = Settings
    if path is not None:
        config_with_file = SettingsConfigDict(**{**Settings.model_config, "toml_file": path})
        settings_cls = type("Settings", (Settings,), {"model_config": config_with_file})
    try:
        return settings_cls(**{k: v for k, v in overrides.items() if v})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration ({path or 'environment'}): {problems}") from exc
    except ValueError as exc:  # TOML syntax errors
        raise ConfigError(f"cannot read {path}: {exc}") from exc
