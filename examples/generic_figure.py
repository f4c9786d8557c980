"""The gallery's generic figure: what a kernel with no analysis of its own gets from the default ``means``
model. The kernel is the one ``ensemble new-kernel`` writes (a spin in a random field, uniform in [-W, W];
its disorder-averaged Ramsey signal is sin(Wt)/(Wt)) with its ANALYSIS line removed.

    python examples/generic_figure.py [OUT_DIR]     # default: examples/figures

writes ``generic_means_<figure>.png`` and ``.caption.txt`` (about 10 s on one core).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import ensemble
from ensemble.present.figstyle import save
from ensemble.present.template import write_skeleton


def main(out: Path) -> list[Path]:
    work = Path(tempfile.mkdtemp(prefix="generic-figure-"))
    try:
        write_skeleton("ramsey", work / "ramsey")
        kernel = work / "ramsey" / "ramsey.py"
        text = kernel.read_text()
        kernel.write_text("\n".join(line for line in text.splitlines() if not line.startswith("ANALYSIS =")) + "\n")
        sys.path.insert(0, str(work / "ramsey"))
        spec = {"name": "generic_ramsey", "kernel": "module:ramsey", "seed": 11, "realizations": 2000,
                "sweep": {"W": [0.5, 1.0, 2.0]}, "times": {"values": [0.5 * k for k in range(1, 41)]}}
        run = ensemble.run(spec, out=work / "run", executor="serial")
        figures = {f"generic_means_{name}": f for name, f in run.figures().items()}
        return save(figures, out, ("png",), spec_text=(run.path / "spec.toml").read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "figures"
    for path in main(target):
        print(path)
