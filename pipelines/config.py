"""Settings from the project's TOML file (itb-audit.toml), with docs/figures.md's defaults."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.access.roles import Role

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "itb-audit.toml"
QUERIES_DIR = PROJECT_ROOT / "queries"
# The demo keeps its users file and access log beside its warehouse (warehouse/, git-ignored).
DEMO_FOLDER = PROJECT_ROOT / "warehouse"
USERS_ENV = "ITB_AUDIT_USERS"
ACCESS_LOG_ENV = "ITB_AUDIT_ACCESS_LOG"


@dataclass(frozen=True)
class AccessSettings:
    """Sign-in and access control (docs/access.md): where the users file and the access log
    live, the lockout and idle rules, the upload limit and the optional OpenID Connect sign-in."""

    users_file: Path = DEMO_FOLDER / "users.json"
    access_log: Path = DEMO_FOLDER / "access-log.jsonl"
    max_failed_sign_ins: int = 5
    lockout_minutes: float = 15.0
    idle_timeout_minutes: float = 30.0
    upload_limit_mb: int = 200
    # OpenID Connect through st.login: the provider's name in .streamlit/secrets.toml ([auth.NAME]);
    # None = password sign-in only. role_claim names the claim holding the user's groups or roles;
    # roles maps its values to roles, the first listed value the user has wins.
    oidc_provider: str | None = None
    oidc_role_claim: str = "roles"
    oidc_roles: tuple[tuple[str, str], ...] = ()
    # In a network (docs/access.md, "Sites"): the claim naming the user's sites, or 'network';
    # None = no site claim, every user sees every site (one clinic).
    oidc_site_claim: str | None = None


DIRECTIONS = ("at_least", "below", "zero")


@dataclass(frozen=True)
class Standard:
    """A figure of `kpis --json` (its dotted path) held against a target: `at_least` (higher is
    better), `below` (lower is better) or `zero` (a count that must be 0)."""

    name: str
    figure: str
    direction: str
    target: float


@dataclass(frozen=True)
class Settings:
    wait_target_days: int = 42
    alarm_volume_ml: float = 2.0
    max_refill_interval_days: int = 180
    residual_discrepancy_ml: float = 2.0
    weight_gain_standard: float = 0.01
    wait_standard: float = 0.92
    refill_standard: float = 0.95
    # the service's own standards ([standards.NAME] in the config), after the four defaults
    extra_standards: tuple[Standard, ...] = ()
    # an open referral older than this (days at as_of) is flagged "to validate"
    stale_referral_days: int = 365
    default_battery_months: int = 84
    # model_key(model name) -> nominal months to ERI; 0 = no battery
    battery_months: dict[str, int] = field(default_factory=dict)
    # battery_end_of_life explants a pump model needs before its observed service life forecasts
    min_battery_explants: int = 20
    pseudonym_key_file: str | None = None
    disclosure_max_suppressed: int = 7
    disclosure_rounding_base: int = 5
    disclosure_min_denominator: int = 20
    access: AccessSettings = field(default_factory=AccessSettings)

    @property
    def standards(self) -> tuple[Standard, ...]:
        """docs/figures.md's default standards with their targets from these settings, then the
        service's own."""
        return (
            Standard(
                "seen_within_target", "waits.rate_within_target", "at_least", self.wait_standard
            ),
            Standard("refills_on_time", "refills.rate", "at_least", self.refill_standard),
            Standard(
                "weight_gain",
                "complications.by_category.weight_gain.patient_incidence",
                "below",
                self.weight_gain_standard,
            ),
            Standard("no_pump_overdue", "refills.overdue_now", "zero", 0),
        ) + self.extra_standards


def model_key(pump_model: str) -> str:
    """The model a pump model name names, as queries/macros/shared.sql's model_key: lower-case,
    trimmed, each run of white space one space ("  SynchroMed   II " -> "synchromed ii")."""
    return " ".join(pump_model.split()).lower()


def config_path(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("ITB_AUDIT_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG


def _access_settings(section: dict, folder: Path) -> AccessSettings:
    """[access] of the config: a relative path there is relative to the config file's folder;
    the ITB_AUDIT_USERS and ITB_AUDIT_ACCESS_LOG environment variables win over it."""
    defaults = AccessSettings()

    def path(env: str, key: str, default: Path) -> Path:
        if os.environ.get(env):
            return Path(os.environ[env])
        return folder / section[key] if section.get(key) else default

    oidc = section.get("oidc", {})
    return AccessSettings(
        users_file=path(USERS_ENV, "users_file", defaults.users_file),
        access_log=path(ACCESS_LOG_ENV, "access_log", defaults.access_log),
        max_failed_sign_ins=int(section.get("max_failed_sign_ins", defaults.max_failed_sign_ins)),
        lockout_minutes=float(section.get("lockout_minutes", defaults.lockout_minutes)),
        idle_timeout_minutes=float(
            section.get("idle_timeout_minutes", defaults.idle_timeout_minutes)
        ),
        upload_limit_mb=int(section.get("upload_limit_mb", defaults.upload_limit_mb)),
        oidc_provider=oidc.get("provider") or None,
        oidc_role_claim=str(oidc.get("role_claim", defaults.oidc_role_claim)),
        oidc_roles=tuple((str(k), Role(v).value) for k, v in oidc.get("roles", {}).items()),
        oidc_site_claim=str(oidc["site_claim"]) if oidc.get("site_claim") else None,
    )


def _extra_standards(section: dict) -> tuple[Standard, ...]:
    """[standards.NAME] tables: figure (a dotted path of `kpis --json`), direction and target
    (a `zero` standard needs none). A default's name is refused: its target is a [kpis] setting,
    so that each target is set in one place."""
    defaults = {s.name for s in Settings().standards}
    out = []
    for name, entry in section.items():
        if name in defaults:
            raise ValueError(
                f"[standards.{name}]: {name} is a default standard; set its target "
                "in [kpis] (wait_standard, refill_standard, weight_gain_standard)"
            )
        if not isinstance(entry, dict) or not isinstance(entry.get("figure"), str):
            raise ValueError(f'[standards.{name}] needs figure = "<section>.<figure>"')
        direction = entry.get("direction")
        if direction not in DIRECTIONS:
            raise ValueError(
                f"[standards.{name}]: direction must be one of "
                f"{', '.join(DIRECTIONS)}, not {direction!r}"
            )
        target = entry.get("target", 0 if direction == "zero" else None)
        if isinstance(target, bool) or not isinstance(target, int | float):
            raise ValueError(f"[standards.{name}]: target must be a number")
        out.append(Standard(name, entry["figure"], direction, target))
    return tuple(out)


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
        wait_standard=float(kpis.get("wait_standard", defaults.wait_standard)),
        refill_standard=float(kpis.get("refill_standard", defaults.refill_standard)),
        extra_standards=_extra_standards(data.get("standards", {})),
        stale_referral_days=int(kpis.get("stale_referral_days", defaults.stale_referral_days)),
        default_battery_months=int(battery.get("default_months", defaults.default_battery_months)),
        battery_months={model_key(str(k)): int(v) for k, v in battery.get("models", {}).items()},
        min_battery_explants=int(
            battery.get("min_battery_explants", defaults.min_battery_explants)
        ),
        pseudonym_key_file=data.get("load", {}).get("pseudonym_key_file"),
        disclosure_max_suppressed=int(
            data.get("disclosure", {}).get("max_suppressed", defaults.disclosure_max_suppressed)
        ),
        disclosure_rounding_base=int(
            data.get("disclosure", {}).get("rounding_base", defaults.disclosure_rounding_base)
        ),
        disclosure_min_denominator=int(
            data.get("disclosure", {}).get("min_denominator", defaults.disclosure_min_denominator)
        ),
        access=_access_settings(data.get("access", {}), p.parent),
    )
