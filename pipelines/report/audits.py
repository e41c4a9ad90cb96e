"""Recording an audit: the figures of a period as the warehouse holds them now, the loads they
come from, the settings, and the SHA-256 of the governance pack made at that moment (returned,
for the user to keep: the hash says which file was the one presented)."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from pipelines.access.roles import Role
from pipelines.figures.kpis import compute_kpis
from pipelines.governance import records
from pipelines.report import Request, report_bytes
from pipelines.warehouse import reading


def record_audit(
    request: Request, editor: records.Editor, note: str | None = None
) -> tuple[int, bytes]:
    """Record the audit of the request's period and site; (its id, the HTML pack hashed).

    The pack is the governance pack, as `itb-audit report --role governance` writes it, built
    before the audit is recorded (so its "since the last audit" is against the audit before).
    GovernanceError when the request has a condition (an audit is of the whole service or a
    site), when it names several sites, when no site has a load, or when a load finishes while
    the audit is computed."""
    editor.check()
    if request.condition is not None:
        raise records.GovernanceError("an audit covers every condition: drop the condition filter")
    if isinstance(request.site, frozenset):
        raise records.GovernanceError("an audit covers one site or every site, not several")
    with reading(request.db) as con:
        loads = records.current_loads(con, request.site)
        figures = compute_kpis(con, request.start, request.end, request.site, request.settings)
    if not loads:
        raise records.GovernanceError(
            f"no load for {'site ' + request.site if request.site else 'any site'}: "
            "nothing to audit"
        )
    pack = report_bytes(replace(request, role=Role.GOVERNANCE), "html")
    audit_id = records.record_audit(
        request.db,
        editor,
        start=request.start,
        end=request.end,
        site=request.site,
        note=note,
        loads=loads,
        settings=request.settings,
        figures=figures,
        pack_sha256=hashlib.sha256(pack).hexdigest(),
    )
    return audit_id, pack
