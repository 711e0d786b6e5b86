"""Print the monitoring harness table (synthetic cohorts) and the real-data run.

    .venv/bin/python bench/evaluate_monitoring.py [--episodes N] [--seed S] [--no-matched]

The matched false-alarm comparison (evaluation_matched.py: each rule's lines swept, 21 runs a
rule and family) adds about six minutes on a shared 2-core machine; --no-matched skips it.

The detector's thresholds were tuned on evaluation.DEV_SEED; the default report uses
evaluation.REPORT_SEED. See rapport/monitoring/README.md for the definitions of each column.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rapport.monitoring.evaluation import (
    REPORT_SEED,
    Report,
    evaluate,
    evaluate_families,
    real_data_run,
)
from rapport.monitoring.evaluation_matched import FA_LEVELS, matched_comparison, matched_table

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=REPORT_SEED)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--no-matched", action="store_true")
    args = parser.parse_args()
    report = evaluate(args.episodes, args.seed)
    print(f"Synthetic cohort: {args.episodes} episodes, seed {args.seed}")
    print(report.table())
    for row in report.rows:
        if row.note:
            print(f"  {row.kind}: {row.note}")
    print(f"caseload warned by session 4: {report.extra['caseload_warned_by_session_4']:.3f}")
    families = Report(rows=evaluate_families(args.episodes, args.seed))
    print("\nRupture families (client check-ins only; prior fitted on a training cohort):")
    print(families.table())
    for row in families.rows:
        if row.note:
            print(f"  {row.kind}: {row.note}")
    if not args.no_matched:
        levels = ", ".join(f"{x:.0%}" for x in FA_LEVELS)
        print(f"\nRupture sensitivity at matched false alarms ({levels} of stable sessions "
              "flagged; each rule's lines swept together, evaluation_matched.py):")
        print(matched_table(matched_comparison(args.episodes, args.seed)))
    print("\nReal repeated-measures data (no ground truth for alerts; see README):")
    print(json.dumps(real_data_run(args.data), indent=2))


if __name__ == "__main__":
    main()
