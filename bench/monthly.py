"""Next month's extract for the reload benchmark: the same CSV extract with about `share` of its
rows new or changed (half each), written to another folder.

    .venv/bin/python bench/monthly.py EXTRACT NEXT [--share 0.02] [--seed 1]

Changed rows take one non-key value from another row of the same column (a correction); new
rows are copies of existing child rows under a new key (new refills, appointments, events).
Patients are only changed, never copied: a copy would share an NHS number. Not a test.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.contract import TABLES  # noqa: E402


def evolve(source: Path, target: Path, share: float = 0.02, seed: int = 1) -> int:
    """Write the evolved extract; returns the number of rows new or changed."""
    rng = random.Random(seed)
    target.mkdir(parents=True, exist_ok=True)
    touched = 0
    for name, spec in TABLES.items():
        with open(source / f"{name}.csv", newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header = list(reader.fieldnames or [])
            rows = list(reader)
        free = [c for c in spec.column_names if c not in spec.key and c in header]
        for i in rng.sample(range(len(rows)), round(len(rows) * share / 2)):
            column = rng.choice(free)
            rows[i][column] = rows[rng.randrange(len(rows))][column]
            touched += 1
        if name != "patients":
            key = spec.key[-1]
            for n, i in enumerate(rng.sample(range(len(rows)), round(len(rows) * share / 2))):
                rows.append({**rows[i], key: f"{rows[i][key]}-M{n}"})
                touched += 1
        with open(target / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)
    return touched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("extract", type=Path)
    parser.add_argument("next", type=Path)
    parser.add_argument("--share", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    touched = evolve(args.extract, args.next, args.share, args.seed)
    print(f"{args.next}: {touched:,} rows new or changed")


if __name__ == "__main__":
    main()
