# %% [markdown]
# # Working from Python
#
# A notebook-style tour (cells separated by `# %%`; run it as a script, in Jupyter with jupytext, or in
# VS Code): run a spec, reopen the run, read its tables as pandas and xarray, draw its figures, grow it,
# and query several runs at once. The test suite executes this file (tests/test_api.py).

# %%
import tempfile
from pathlib import Path

import ensemble

work = Path(tempfile.mkdtemp(prefix="ensemble-tour-"))
spec = """
kernel = "anderson_trajectory"
seed = 7
realizations = 60
[params]
L = 24
[sweep]
W = [2.0, 6.0]
[times]
start = 0.5
stop = 200.0
num = 16
[fit]
min_start = 5.0
[distributions]
Ig = { pool = ["t"], typical = true }
"""

# %% Run it (executor="serial" runs in this process; the default is a local Dask cluster, client=... a running one)
run = ensemble.run(spec, out=work / "tour", executor="serial")
print(run)

# %% The tables are pandas DataFrames
front = run.fits.query("fit == 'front'")[["W", "A", "A_err", "invA", "invA_err", "plateau"]]
print(front.to_string(index=False))

# %% An observable as a labelled array over the swept parameters and its axes, with mean and sem
h = run.to_xarray("h")
print(h["h"].sel(W=6.0).values.round(3))

# %% Distributions: quantiles and typical values have their own rows in the summary
print(run.query("SELECT W, observable, mean, sem FROM summary WHERE observable LIKE 'Ig.%' AND observable != 'Ig.hist' ORDER BY W"))

# %% Figures: each a (figure, caption) pair for a journal column (nothing is written unless you save them)
figs = run.figures()
print(sorted(figs))
print(figs["fig4_front"].caption)

# %% More realizations: every finished block is reused
bigger = run.extend(realizations=120, executor="serial")
print(bigger.points[["W", "realizations", "blocks"]].to_string(index=False))

# %% Reopen a run later, from any process
again = ensemble.open_run(work / "tour")
print(again.provenance["history"][0]["more"])

# %% Several runs as one: the catalog has a `run` column and a `runs` view
ensemble.run(spec.replace("seed = 7", "seed = 8"), out=work / "other", executor="serial")
print(ensemble.query(work, "SELECT run, W, invA, invA_err FROM fits WHERE fit = 'front' ORDER BY run, W"))
print(ensemble.query(work, "SELECT run, seed, realizations FROM runs"))
