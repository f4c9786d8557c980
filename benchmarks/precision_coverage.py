"""What sequential stopping does to the estimates: bias of the mean and coverage of the error bar, measured.

Many independent points of a kernel with a known mean (tests/ensemble/normal_kernel.py: x = mu + sigma z, z
standard normal, and an exponential variant: x = mu + sigma (e - 1), e ~ Exp(1), a skewed distribution with the
same mean and variance), each run to ``sem <= goal`` with the engine's precision goals (checks at whole blocks,
index order), and the same points at a fixed N close to the N the goal reaches, as the reference.

Printed per distribution and method: the bias of the mean in units of its typical error (mean(mean - mu) /
(rms sem / sqrt(points))), the coverage of mean +- sem (the fraction of points with |mean - mu| <= sem; 0.683 for
a normal estimate) with its binomial error, and the realizations per point (mean, min-max).

Usage: python benchmarks/precision_coverage.py [--points 1000] [--goal 0.1]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from _common import one_thread

one_thread()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from ensemble import MemoryStore, execute, parse_spec  # noqa: E402

SPEC = """
kernel = "module:tests.ensemble.normal_kernel"
seed = {seed}
realizations = {start}
block_size = 4
[params]
shape = "{shape}"
[sweep]
mu = [{mus}]
"""

GOAL = """
[precision]
observable = "x"
sem = {goal}
max_realizations = 100000
"""


def measure(shape: str, points: int, goal: float, fixed: int | None, seed: int):
    mus = ", ".join(f"{1e-12 * i:.3e}" for i in range(points))  # distinct points, mean 0 to 1e-9
    text = SPEC.format(seed=seed, start=40 if fixed is None else fixed, shape=shape, mus=mus)
    if fixed is None:
        text += GOAL.format(goal=goal)
    s = execute(parse_spec(text), MemoryStore()).tables["summary"]
    err = s["mean"] - s["mu"]
    bias = float(err.mean() / (math.sqrt(float((s["sem"] ** 2).mean())) / math.sqrt(len(s))))
    cover = float(np.mean(np.abs(err) <= s["sem"]))
    return bias, cover, math.sqrt(cover * (1 - cover) / len(s)), s["n"].to_numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--goal", type=float, default=0.1)
    args = ap.parse_args()
    print(f"{args.points} points, goal sem <= {args.goal}; coverage of mean +- sem (normal: 0.683)")
    print(f"{'distribution':<12} {'method':<22} {'bias/err':>9} {'coverage':>16} {'N per point':>22}")
    for shape in ("normal", "exponential"):
        bias, cover, ce, n = measure(shape, args.points, args.goal, None, seed=11)
        fixed = int(round(n.mean() / 4)) * 4
        rows = [("precision goal", bias, cover, ce, n)]
        rows.append((f"fixed N = {fixed}", *measure(shape, args.points, args.goal, fixed, seed=12)))
        for method, b, c, e, nn in rows:
            print(f"{shape:<12} {method:<22} {b:>+9.2f} {c:>9.3f} +- {e:.3f} {nn.mean():>9.1f} ({nn.min()}-{nn.max()})")


if __name__ == "__main__":
    main()
