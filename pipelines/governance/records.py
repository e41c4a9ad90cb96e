"""Audits and actions in the warehouse: recorded, edited and read.

Every write goes through pipelines.warehouse.writing, the load's own write, under the same
lock (a file's lock file, a lake's advisory lock in its catalog), one transaction. A load copies
a warehouse file when it starts and swaps its copy in when it ends, so an edit written to the
live file in between would be lost, and on a lake two writes at once conflict at COMMIT; through
the lock, an edit made during a load waits for it to finish (the whole load: reading and
validating the extract included) and is then written on top of the load's result. Every change
is recorded in the access log, after it is written.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.access import log as access_log
from pipelines.access.roles import Forbidden, Role, edits_audits
from pipelines.config import Settings, Standard
from pipelines.warehouse import Db, commit, lake_address, reading, run_sql, writing

STATUSES = ("open", "in progress", "done", "dropped")
OPEN_STATUSES = ("open", "in progress")
AGAINST_KINDS = ("standard", "finding")
COMMAND_LINE = "command line"  # the role logged for the CLI: whoever may write the warehouse file
# Settings that say where files are, not how a figure is computed: not part of an audit.
NOT_RECORDED = ("access", "pseudonym_key_file")


class GovernanceError(ValueError):
    """An audit or action that cannot be recorded as asked (one line, for the user)."""


@dataclass(frozen=True)
class Editor:
    """Who records or edits: a signed-in governance user (role), or the command line (role
    None, trusted as a load is: by the permission to write the warehouse file)."""

    user: str
    role: Role | None
    access_log: Path
    page: str | None = None

    def check(self) -> None:
        if self.role is not None and not edits_audits(self.role):
            raise Forbidden(f"the {self.role.value} role may not record audits or edit actions")

    def log(self, event: str, **detail: Any) -> None:
        role = self.role.value if self.role else COMMAND_LINE
        access_log.append(
            self.access_log, user=self.user, role=role, event=event, page=self.page, **detail
        )


@dataclass(frozen=True)
class Action:
    """An action as it stands: against a standard (its name) or a finding (in words)."""

    against_kind: str
    against: str
    what: str
    owner: str
    due_date: dt.date
    status: str = "open"
    notes: str | None = None

    def checked(self, standards: tuple[str, ...]) -> Action:
        """The action with its text trimmed; GovernanceError when a field cannot be taken."""
        action = replace(
            self,
            against=self.against.strip(),
            what=self.what.strip(),
            owner=self.owner.strip(),
            notes=(self.notes or "").strip() or None,
        )
        if action.against_kind not in AGAINST_KINDS:
            raise GovernanceError(f"an action is against a {' or a '.join(AGAINST_KINDS)}")
        if action.against_kind == "standard" and action.against not in standards:
            raise GovernanceError(
                f"no standard {action.against!r}: one of {', '.join(standards) or 'none'}"
            )
        for name in ("against", "what", "owner"):
            if not getattr(action, name):
                raise GovernanceError(
                    f"an action needs {'a finding' if name == 'against' else name}"
                )
        if action.status not in STATUSES:
            raise GovernanceError(f"status {action.status!r} is not one of {', '.join(STATUSES)}")
        # An action is about the service, never a patient: refuse what looks like an NHS number
        # rather than store it (the access log would scrub it, the warehouse would not).
        for name in ("against", "what", "owner", "notes"):
            if access_log.NHS_NUMBER_SHAPE.search(getattr(action, name) or ""):
                raise GovernanceError(
                    f"the {name} holds a 10-digit number shaped like an NHS number: actions "
                    "carry no patient details"
                )
        return action

    def overdue(self, today: dt.date) -> bool:
        return self.status in OPEN_STATUSES and self.due_date < today


def recorded_settings(settings: Settings) -> dict[str, Any]:
    """The settings an audit's figures depend on, as JSON."""
    values = asdict(settings)
    for name in NOT_RECORDED:
        values.pop(name)
    return json.loads(json.dumps(values, default=str))


def settings_of(recorded: dict[str, Any], base: Settings) -> Settings:
    """The settings an audit's figures were computed with (its `figure_settings`), with where
    files are taken from `base`: what recomputing the audit needs."""
    values = dict(recorded)
    values["extra_standards"] = tuple(Standard(**s) for s in values["extra_standards"])
    return replace(base, **values)


def has_records(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse has the governance tables (one made before them, never loaded
    since, has none; the next load or edit adds them). Only the connection's own database
    counts: a database attached to it (as a read of past loads attaches the warehouse) does not."""
    found = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'governance' and table_catalog = current_database()"
    ).fetchone()
    return bool(found and found[0])


def current_loads(con: duckdb.DuckDBPyConnection, site: str | None) -> dict[str, int]:
    """{site: load_id} of the snapshots the figures of a scope are computed from now."""
    rows = run_sql(con, "load_history/snapshot_loads", site=site).fetchall()
    return {row_site: load_id for row_site, load_id, _ in rows}


def _frame(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pd.DataFrame:
    """The rows of a governance query, or none where the warehouse has no governance tables."""
    if not has_records(con):
        return pd.DataFrame()
    return run_sql(con, name, **params).df()


def audits(con: duckdb.DuckDBPyConnection, audit_id: int | None = None) -> pd.DataFrame:
    """The recorded audits, newest first (figures, settings and loads as JSON text)."""
    return _frame(con, "governance/audits", audit_id=audit_id)


def audit(con: duckdb.DuckDBPyConnection, audit_id: int) -> dict[str, Any] | None:
    """One recorded audit with its JSON parsed, or None."""
    rows = audits(con, audit_id)
    if rows.empty:
        return None
    record = rows.iloc[0].to_dict()
    for name in ("loads", "figure_settings", "figures"):
        record[name] = json.loads(record[name])
    for name in ("period_start", "period_end"):
        record[name] = pd.Timestamp(record[name]).date()
    for name in ("site", "note"):
        record[name] = None if pd.isna(record[name]) else record[name]
    return record


def last_audit(con: duckdb.DuckDBPyConnection, site: str | None, end: dt.date) -> dict | None:
    """The last audit before a period ending on `end`: the most recently recorded audit of the
    same scope (that site, or all sites) whose period ended before `end`; None if there is none."""
    found = _frame(con, "governance/last_audit", site=site, end=end)
    return None if found.empty else audit(con, int(found["audit_id"].iloc[0]))


def actions(
    con: duckdb.DuckDBPyConnection, audit_id: int | None = None, action_id: int | None = None
) -> pd.DataFrame:
    """The actions as they stand, by audit then action."""
    frame = _frame(con, "governance/actions", audit_id=audit_id, action_id=action_id)
    if not frame.empty:
        frame["due_date"] = pd.to_datetime(frame["due_date"]).dt.date
    return frame


def _warehouse(db: Db) -> Db:
    """The warehouse to read or write the records of; GovernanceError if it is a missing file
    (a write would make an empty warehouse). A lake is read or written where it stands."""
    if lake_address(db) is None and not Path(db).is_file():
        raise GovernanceError(f"warehouse file not found: {Path(db)}")
    return db


def open_readonly(db: Db) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
    """A read of the warehouse (pipelines.warehouse.reading), to read the records;
    GovernanceError if its file is missing."""
    return reading(_warehouse(db))


def record_audit(
    db: Db,
    editor: Editor,
    *,
    start: dt.date,
    end: dt.date,
    site: str | None,
    note: str | None,
    loads: dict[str, int],
    settings: Settings,
    figures: dict[str, Any],
    pack_sha256: str,
) -> int:
    """Record an audit computed from `loads` ({site: load_id}); its id. Refused when a load has
    replaced any of those snapshots meanwhile (the figures would not be the warehouse's)."""
    editor.check()
    with writing(_warehouse(db)) as con:
        if current_loads(con, site) != loads:
            raise GovernanceError(
                "a load finished while the audit was being computed: record it again"
            )
        [(audit_id,)] = run_sql(con, "governance/next_audit_id").fetchall()
        run_sql(
            con,
            "governance/record_audit",
            audit_id=audit_id,
            recorded_by=editor.user,
            period_start=start,
            period_end=end,
            site=site,
            note=(note or "").strip() or None,
            loads=json.dumps(loads),
            figure_settings=json.dumps(recorded_settings(settings)),
            figures=json.dumps(figures),
            pack_sha256=pack_sha256,
        )
        commit(con, f"audit {audit_id} recorded", audit_id=audit_id, by=editor.user)
    editor.log(
        "audit_recorded",
        audit_id=audit_id,
        period=f"{start} to {end}",
        site=site or "all",
        loads=loads,
        pack_sha256=pack_sha256,
    )
    return audit_id


def add_action(
    db: Db,
    editor: Editor,
    action: Action,
    settings: Settings,
    audit_id: int | None = None,
) -> int:
    """Add an action to an audit (None: the one recorded last); its id."""
    editor.check()
    action = action.checked(tuple(s.name for s in settings.standards))
    with writing(_warehouse(db)) as con:
        recorded = audits(con)
        if recorded.empty:
            raise GovernanceError(
                "no audit recorded yet: record one first (itb-audit audit record)"
            )
        if audit_id is None:
            audit_id = int(recorded["audit_id"].max())
        elif audit_id not in set(recorded["audit_id"]):
            raise GovernanceError(f"no audit {audit_id}")
        [(action_id,)] = run_sql(con, "governance/next_action_id").fetchall()
        run_sql(
            con,
            "governance/add_action",
            action_id=action_id,
            audit_id=audit_id,
            by=editor.user,
            **asdict(action),
        )
        commit(con, f"action {action_id} added", action_id=action_id, by=editor.user)
    editor.log("action_added", action_id=action_id, audit_id=audit_id, **_logged(asdict(action)))
    return action_id


def update_action(
    db: Db, editor: Editor, action_id: int, settings: Settings, **changes: Any
) -> Action:
    """Change some fields of an action (Action's field names); the action as it now stands."""
    editor.check()
    unknown = changes.keys() - Action.__dataclass_fields__.keys()
    if unknown:
        raise TypeError(f"not fields of an action: {', '.join(sorted(unknown))}")
    with writing(_warehouse(db)) as con:
        rows = actions(con, action_id=action_id)
        if rows.empty:
            raise GovernanceError(f"no action {action_id}")
        before = action_of(rows.iloc[0])
        after = replace(before, **changes).checked(tuple(s.name for s in settings.standards))
        run_sql(
            con, "governance/update_action", action_id=action_id, by=editor.user, **asdict(after)
        )
        commit(con, f"action {action_id} updated", action_id=action_id, by=editor.user)
    old, new = _logged(asdict(before)), _logged(asdict(after))
    changed = {name: [old[name], new[name]] for name in old if old[name] != new[name]}
    if changed:  # a save that changed nothing is not an edit
        editor.log("action_updated", action_id=action_id, changed=changed)
    return after


def action_of(row: Mapping[str, Any]) -> Action:
    """An action from a row of `actions`."""
    notes = row["notes"]
    return Action(
        **{name: row[name] for name in Action.__dataclass_fields__ if name != "notes"},
        notes=None if pd.isna(notes) else notes,
    )


def _logged(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in fields.items()}
