"""Settings from the project's TOML config file (itb-audit.toml), with kpis.md's defaults."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "itb-audit.toml"
QUERIES_DIR = PROJECT_ROOT / "queries"


@dataclass(frozen=True)
class Settings:
    wait_target_days: int = 42
    alarm_volume_ml: float = 2.0
    max_refill_interval_days: int = 180
    residual_discrepancy_ml: float = 2.0
    weight_gain_standard: float = 0.01
    default_battery_months: int = 84
    # model name (lower-case, trimmed) -> nominal months to ERI; 0 = no battery
    battery_months: dict[str, int] = field(default_factory=dict)
    pseudonym_key_file: str | None = None
    disclosure_max_suppressed: int = 7
    disclosure_rounding_base: int = 5

    def battery_months_for(self, pump_model: str) -> int:
        return self.battery_months.get(pump_model.strip().lower(), self.default_battery_months)


def config_path(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("ITB_AUDIT_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Read settings; a missing file or key keeps the spec's default."""
    p = config_path(path)
    data: dict = {}
    if p.exists():
        with p.open("rb") as f:
            data = tomllib.load(f)
    elif path is not None:
        raise FileNotFoundError(f"config file not found: {p}")
    kpis = data.get("kpis", {})
    battery = data.get("battery", {})
    defaults = Settings()
    return Settings(
        wait_target_days=int(kpis.get("wait_target_days", defaults.wait_target_days)),
        alarm_volume_ml=float(kpis.get("alarm_volume_ml", defaults.alarm_volume_ml)),
        max_refill_interval_days=int(
            kpis.get("max_refill_interval_days", defaults.max_refill_interval_days)
        ),
        residual_discrepancy_ml=float(
            kpis.get("residual_discrepancy_ml", defaults.residual_discrepancy_ml)
        ),
        weight_gain_standard=float(kpis.get("weight_gain_standard", defaults.weight_gain_standard)),
        default_battery_months=int(battery.get("default_months", defaults.default_battery_months)),
        battery_months={
            str(k).strip().lower(): int(v) for k, v in battery.get("models", {}).items()
        },
        pseudonym_key_file=data.get("load", {}).get("pseudonym_key_file"),
        disclosure_max_suppressed=int(
            data.get("disclosure", {}).get("max_suppressed", defaults.disclosure_max_suppressed)
        ),
        disclosure_rounding_base=int(
            data.get("disclosure", {}).get("rounding_base", defaults.disclosure_rounding_base)
        ),
    )
