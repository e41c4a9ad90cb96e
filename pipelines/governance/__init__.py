"""Governance records: the audits recorded (what was presented, and enough to compute it again)
and the actions agreed at them. They live in the warehouse (queries/governance/) and change only
through its all-or-nothing swap, like a load; docs/audit-cycle.md."""
