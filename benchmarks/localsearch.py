"""Local search's neighbourhoods, measured: every single move of a plan evaluated from what
the move changes (``CostModel.moved_usage``, ``kernels.usage.single_move_usage``) against
the same placements evaluated whole (``CostModel.usage``, ``placement_usage``).

    python -m benchmarks.localsearch [--families waysdag60x4,waysdag100x4,ways200x4,inceptionv3_soc]
                                     [--seeds 3] [--instances DIR]

Per instance, from its best plan (``eip.plan``): the moves (``CostModel.move_choices``),
the median time of each evaluation over warm repeats, their ratio, and the largest
relative difference of the two usages. Usages that differ by more than rounding, or in
where they are ``inf``, exit with status 1.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import eip
from benchmarks.suite import instances, timed
from eip.costmodel import moved_placements

#: The relative difference rounding may make between the two sums of one usage.
ROUNDING = 1e-9


def measured(model: eip.CostModel, current: np.ndarray, repeats: int) -> tuple[int, float, float, float]:
    """(moves, seconds by change, seconds whole, largest relative difference; inf where the
    two disagree on which usages are inf) for the single moves of ``current`` (N,)."""
    stage, option = model.move_choices(current)
    base = model.usage(current)[0]
    by_change_s, by_change = timed(lambda: model.moved_usage(current, base, stage, option), repeats, 10.0)
    whole_s, whole = timed(lambda: model.usage(moved_placements(current, stage, option)), repeats, 10.0)
    finite = np.isfinite(whole)
    if not np.array_equal(finite, np.isfinite(by_change)):
        return len(stage), by_change_s, whole_s, np.inf
    scale = np.maximum(np.abs(whole[finite]), 1.0)
    return len(stage), by_change_s, whole_s, float(np.max(np.abs(by_change[finite] - whole[finite]) / scale,
                                                         initial=0.0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default="waysdag60x4,waysdag100x4,ways200x4,inceptionv3_soc")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--instances", type=Path, default=None, help="directory of saved generated instances")
    args = parser.parse_args(argv)
    if args.instances is not None:
        args.instances.mkdir(parents=True, exist_ok=True)
    print(f"{'instance':34s} {'moves':>6s} {'by change':>10s} {'whole':>10s} {'ratio':>7s} {'max rel diff':>12s}")
    worst = 0.0
    for inst in instances(args.families.split(","), args.seeds, args.instances):
        result = eip.plan(inst.scenario)
        if not result.plans:
            print(f"{inst.name:34s} no plan ({result.status})")
            continue
        moves, by_change_s, whole_s, diff = measured(inst.scenario.cost_model, result.plans[0]._options, args.repeats)
        worst = max(worst, diff)
        print(f"{inst.name:34s} {moves:6d} {by_change_s * 1e3:8.3f}ms {whole_s * 1e3:8.3f}ms "
              f"{whole_s / by_change_s:6.1f}x {diff:12.2e}", flush=True)
    return 0 if worst <= ROUNDING else 1


if __name__ == "__main__":
    raise SystemExit(main())
