"""The spec and its identity: what a run is (points, seeds, settings, limits, goals), validated before anything runs.

Layer 1 of the engine (it uses errors, plugins and the model registry only). Modules:

- ``experiment``: the Experiment and its Points, parsed from a spec (TOML or dict);
- ``seeding``: point keys, fingerprints, the seed of every realization, jackknife blocks;
- ``settings``: typed settings tables ([fit], [scheduling]);
- ``limits``: sizes a spec may ask for;
- ``distributions``: the spec's [distributions] (histograms of outputs);
- ``goals``: a [precision] goal as the spec states it;
- ``columns``: the names the tables' columns take;
- ``provenance``: which software made a result.
"""
