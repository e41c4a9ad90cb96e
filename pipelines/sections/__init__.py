"""The audit's sections described once: headline keys, charts and tables, each with its title
and note. The dashboard's pages and the audit pack both render these descriptions, so a title or
an axis is written here and nowhere else (tests/pipelines/sections/test_sections.py)."""
