"""The figures: the SQL marts run for a period (queries), the KPI JSON (kpis), intervals, SPC,
survival, the breakdowns beyond the JSON, and small-number suppression (disclosure)."""
