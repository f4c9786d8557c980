"""Disorder profiles (kernels._profile) on every kernel whose disorder is a field per site.

* the grammar: canonical text, one-line errors naming the field, the value and what is allowed;
* today's draws bit for bit without a profile, and with one the same field on every site it does not name
  (the paired design), fields inside [-w_j, w_j] and uniform there (Kolmogorov-Smirnov, with a wrong width
  as the negative control);
* seeds and fingerprints of earlier runs unchanged; a profile is a different point;
* the physics against independent references with the same per-site fields: exact many-body evolution
  (Anderson, XXZ, coupled chains), dense diagonalization (xxz_bubble's chain), the brute-force boson
  Hamiltonian; closed forms: a clean grain in a strongly disordered Anderson chain has the spectrum of an
  open clean chain of its length, J cos(k pi / (m + 1)), and an all-clean profile the Bessel bulk of W = 0.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import j0

from kernels._interface import load
from kernels._params import ParameterError
from kernels._profile import canonical_profile, profile_widths
from kernels.bubble import xxz_bubble as kb
from kernels.front import anderson_exact as ae
from kernels.front import anderson_trajectory as at
from kernels.front import xxz_exact as xe
from kernels.front import xxz_trajectory as xt
from kernels.impurity import boson_impurity as bi
from kernels.impurity import boson_tebd as bt
from kernels.quench import coupled_chains as cc
from ensemble.spec.seeding import fingerprint, point_key

#: Every kernel with a field per site: (module, params without a profile, how its fields are read from
#: the draws, the name of the bulk-width parameter(s), the first site's number).
KERNELS = {
    "anderson_trajectory": (at, dict(L=8, W=3.0, times=(0.5, 1.0)), "h", 1),
    "xxz_trajectory": (xt, dict(L=8, W=3.0, times=(0.5, 1.0)), "h", 1),
    "anderson_exact": (ae, dict(L=8, W=3.0, times=(0.5, 1.0)), "h", 1),
    "xxz_exact": (xe, dict(L=6, W=3.0, times=(0.5, 1.0)), "h", 1),
    "coupled_chains": (cc, dict(l=4, W_s=3.0, W_e=1.5, times=(1.0,)), "h", 1),
    "xxz_bubble": (kb, dict(L=8, W=3.0, n_goe=0, n_eig=4), "h", 0),
    "boson_impurity": (bi, dict(L=8, W=3.0, times=(1.0,)), "eps", 0),
    "boson_tebd": (bt, dict(L=8, W=3.0, times=(1.0,)), "eps", 0),
}


def historical(name: str, p, rng: np.random.Generator) -> np.ndarray:
    """The fields as every kernel drew them before profiles existed (copied from the earlier code)."""
    if name == "coupled_chains":
        return np.concatenate([rng.uniform(-p.W_s, p.W_s, p.l), rng.uniform(-p.W_e, p.W_e, p.l)])
    return rng.uniform(-p.W, p.W, size=p.L)


def fields(name, p, seed):
    mod, _, attr, _ = KERNELS[name]
    return getattr(mod.sample(p, np.random.default_rng(seed)), attr)


# -- grammar ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, n, first, canonical", [
    ("", 8, 1, ""), ("uniform", 8, 1, ""), ("5..8=0.5", 8, 1, "5..8=0.5"), (" 5 .. 8 = .5 ", 8, 1, "5..8=0.5"),
    ("clean 6", 8, 1, "clean 6"), ("clean 1, 3..4", 8, 1, "clean 1; clean 3..4"), ("6=0; 7=0", 8, 1, "clean 6..7"),
    ("10=2; 1..3=0.5", 12, 1, "1..3=0.5; 10=2"), ("[W, 0.5, 0.5, W]", 4, 0, "1..2=0.5"),
    ("[8, 8, 8, 8]", 4, 1, "1..4=8"), ("clean 0", 4, 0, "clean 0"), ("3=1e-3; 4=1e20", 8, 1, None),
    ("2=0.1", 8, 1, "2=0.1"), ("1..2 = 1e-3", 8, 1, "1..2=0.001"),
])  # fmt: skip
def test_profiles_have_one_canonical_text(text, n, first, canonical):
    if canonical is None:  # 1e20 is beyond MAX_MAGNITUDE
        with pytest.raises(ParameterError, match="<= 1e"):
            canonical_profile(text, n, first)
        return
    assert canonical_profile(text, n, first) == canonical
    assert canonical_profile(canonical, n, first) == canonical  # idempotent


@pytest.mark.parametrize("text, why", [
    ("9=1", "site 9 outside the sites 1..8"), ("0=1", "site 0 outside"), ("3..2=1", "sites 3..2 outside"),
    ("4=-1", "width -1 must be"), ("4=nan", "must be finite"), ("4=inf", "must be finite"), ("1=x", "not a number"),
    ("clean 1; 1=2", "site 1 is named twice"), ("1..3=1; 2=0", "site 2 is named twice"),
    ("[1, 2]", "one entry per site (8), got 2"), ("[1, 2", "must end with ]"), ("grain", "neither"), ("1=1;", "empty entry"),
    ("a..b=1", "not a site or a range"),
])  # fmt: skip
def test_bad_profiles_are_one_line_naming_the_field_value_and_grammar(text, why):
    with pytest.raises(ParameterError) as e:
        canonical_profile(text, 8)
    msg = str(e.value)
    assert e.value.field == "profile" and why in msg and repr(text) in msg and "\n" not in msg
    assert '"clean 6, 9..10"' in msg  # what is allowed


def test_a_hostile_chain_length_or_range_costs_nothing():
    """The uniform profile of L = 10^12 sites, or a profile naming them all, answers at once: no list of L widths
    (the kernels refuse such an L themselves, with its own one-line error)."""
    assert canonical_profile("", 10**12) == "" and canonical_profile("clean 5", 10**12) == "clean 5"
    with pytest.raises(ParameterError, match="names at most 1,000,000 sites"):
        canonical_profile(f"1..{10**12}=0.5", 10**12)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_every_field_per_site_kernel_validates_its_profile(name):
    mod, kw, _, first = KERNELS[name]
    p = mod.Params(**kw, profile=f"{first + 1}..{first + 2} = 0.25")
    assert p.profile == f"{first + 1}..{first + 2}=0.25"
    n = 2 * kw["l"] if name == "coupled_chains" else kw["L"]
    with pytest.raises(ParameterError, match=f"outside the sites {first}..{n - 1 + first}"):
        mod.Params(**kw, profile=f"{n + first}=1")
    with pytest.raises(ParameterError, match="a string"):
        mod.Params(**kw, profile=3)


def test_the_specs_sweep_a_profile_and_refuse_a_bad_one_before_anything_runs(tmp_path):
    from ensemble import SpecError, parse_spec

    spec = ('kernel = "anderson_trajectory"\nseed = 1\nrealizations = 4\n[params]\nL = 12\nW = 8.0\ngamma = 0.0\n'
            '[times]\nstart = 0.05\nstop = 1.0\nnum = 3\n[sweep]\nprofile = ["", "5..8=0.5", "clean 5..8"]\n')  # fmt: skip
    s = parse_spec(spec)
    assert [q.params.profile for q in s.points] == ["", "5..8=0.5", "clean 5..8"]
    # the point is swept (labelled, tabulated, queried) as the canonical text the tables hold
    assert [q.swept["profile"] for q in s.points] == ["", "5..8=0.5", "clean 5..8"]
    assert [q.label for q in s.points] == ['profile=""', 'profile="5..8=0.5"', 'profile="clean 5..8"']
    spelled = parse_spec(spec.replace('"5..8=0.5"', '" 5 .. 8 = .5"'))
    assert spelled.points[1].key == s.points[1].key and spelled.points[1].swept == s.points[1].swept
    assert len({q.key for q in s.points}) == 3
    with pytest.raises(SpecError) as e:
        parse_spec(spec.replace("clean 5..8", "clean 5..13"))
    assert "profile" in str(e.value) and "5..13" in str(e.value)


# -- draws -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_no_profile_draws_todays_fields_bit_for_bit_and_a_profile_changes_only_its_sites(name):
    mod, kw, _, first = KERNELS[name]
    plain = mod.Params(**kw)
    grain = mod.Params(**kw, profile=f"{first + 2}..{first + 4}=0.5; {first}=0")
    inside = [2, 3, 4, 0]
    for seed in range(20):
        h0 = fields(name, plain, seed)
        assert h0.tobytes() == historical(name, plain, np.random.default_rng(seed)).tobytes()
        h1 = fields(name, grain, seed)
        outside = np.setdiff1d(np.arange(h0.size), inside)
        assert h1[outside].tobytes() == h0[outside].tobytes()  # the paired design: same fields outside
        assert h1[0] == 0.0 and np.all(np.abs(h1[2:5]) <= 0.5)
    # the rest of the draws (noise, bubble matrices) are the same stream after the fields
    a, b = mod.sample(plain, np.random.default_rng(7)), mod.sample(grain, np.random.default_rng(7))
    for f in ("eta", "A", "jumps"):
        if hasattr(a, f) and getattr(a, f) is not None:
            assert np.array_equal(getattr(a, f), getattr(b, f))


def test_the_fields_of_a_grain_are_uniform_in_its_width_and_a_wrong_width_is_rejected():
    p = at.Params(L=12, W=8.0, profile="5..8=0.5; clean 12", times=(0.05,))
    h = np.array([at.sample(p, np.random.default_rng(s)).h for s in range(3000)])
    w = p.widths()
    assert w.tolist() == [8.0] * 4 + [0.5] * 4 + [8.0] * 3 + [0.0]
    for j in range(11):
        assert stats.kstest(h[:, j], stats.uniform(-w[j], 2 * w[j]).cdf).pvalue > 1e-4
    assert np.all(h[:, 11] == 0.0)
    # negative control: the grain's fields are not uniform in the bulk width, nor the bulk's in the grain's
    assert stats.kstest(h[:, 5], stats.uniform(-8.0, 16.0).cdf).pvalue < 1e-10
    assert stats.kstest(h[:, 0], stats.uniform(-0.5, 1.0).cdf).pvalue < 1e-10


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_earlier_runs_keep_their_seeds_and_fingerprints_and_a_profile_is_another_point(name):
    import dataclasses
    import hashlib
    import json

    from ensemble.models import kernel_plugin
    from ensemble.spec.seeding import canonical_params

    module = load(kernel_plugin(name).value)
    mod, kw, _, first = KERNELS[name]
    p = mod.Params(**kw)
    # the fingerprint as it was computed before the field existed
    values = {k: v for k, v in canonical_params(p).items() if k != "profile"}
    parts = [module.name, values] + ([module.fingerprint_extra(p)] if module.fingerprint_extra(p) else [])
    before = hashlib.sha256(json.dumps(parts, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]
    assert fingerprint(module, p) == before
    q = dataclasses.replace(p, profile=f"{first}=0")
    assert fingerprint(module, q) != before and point_key(module, q) != point_key(module, p)


# -- physics against independent references --------------------------------------------------------


def test_anderson_with_a_grain_equals_the_exact_many_body_chain():
    from tests.kernels.front.test_anderson_trajectory import many_body

    p = at.Params(L=8, W=6.0, gamma=1.0, J=1.0, profile="3..5=0.3; clean 8", times=(0.5, 1.0, 2.0))
    d = at.sample(p, np.random.default_rng(4))
    ref, noisy = many_body(p, d)
    out = at.realize(p, d)
    np.testing.assert_allclose(out["Sz0"], ref, atol=1e-10, rtol=0)
    np.testing.assert_allclose(out["Szg"], noisy, atol=1e-10, rtol=0)
    # negative control: the same chain on the uniform profile's fields is a different evolution
    d0 = at.sample(at.Params(L=8, W=6.0, times=p.times), np.random.default_rng(4))
    assert np.abs(at.realize(p, d0)["Sz0"] - ref).max() > 1e-3


def test_a_clean_grain_in_a_strongly_disordered_anderson_chain_has_the_open_clean_chains_spectrum():
    """Sites 6..10 clean inside W = 1e4: the grain decouples (to order J^2 / W) into an open clean chain of
    m = 5 sites, whose single-particle levels are J cos(k pi / (m + 1)), k = 1..m."""
    m, J = 5, 1.0
    exact = J * np.cos(np.arange(1, m + 1) * np.pi / (m + 1))
    p = at.Params(L=16, W=1e4, J=J, profile="6..10=0", times=(0.05,))
    for seed in range(5):
        eps = np.linalg.eigvalsh(at.single_particle_hamiltonian(at.sample(p, np.random.default_rng(seed)).h, J))
        inner = np.sort(eps[np.abs(eps) < 2 * J])
        assert inner.size == m
        np.testing.assert_allclose(inner, np.sort(exact), atol=1e-2)
    # negative control: without the grain no level sits near the clean chain's
    eps = np.linalg.eigvalsh(at.single_particle_hamiltonian(
        at.sample(at.Params(L=16, W=1e4, J=J, times=(0.05,)), np.random.default_rng(0)).h, J))
    assert np.sum(np.abs(eps) < 2 * J) < 2


def test_an_all_clean_profile_is_the_clean_chains_bessel_bulk():
    L, J = 200, 1.0
    times = (0.5, 3.0, 10.0, 25.0)
    p = at.Params(L=L, W=5.0, J=J, gamma=1.0, profile=f"clean 1..{L}", times=times)
    out = at.realize(p, at.sample(p, np.random.default_rng(0)))
    bulk = slice(L // 2 - 10, L // 2 + 10)
    sign = np.where(np.arange(L) % 2 == 0, 1.0, -1.0)[bulk]
    exact = 0.5 * np.outer(j0(2 * J * np.array(times)), sign)
    np.testing.assert_allclose(out["Sz0"][:, bulk], exact, atol=1e-10)
    q = at.Params(L=L, W=5.0, J=J, gamma=1.0, times=times)  # negative control: W = 5 everywhere
    assert np.abs(at.realize(q, at.sample(q, np.random.default_rng(0)))["Sz0"][:, bulk] - exact).max() > 0.05


def test_xxz_with_a_grain_equals_full_space_evolution():
    from tests.kernels.front.test_xxz import full_space_evolution

    p = xt.Params(L=6, W=5.0, Delta=1.0, gamma=1.0, profile="2..3=0.2", times=(0.5, 1.45, 4.0))
    d = xt.sample(p, np.random.default_rng(2))
    ref, noisy = full_space_evolution(p, d)
    out = xt.realize(p, d)
    np.testing.assert_allclose(out["Sz0"], ref, atol=1e-9, rtol=0)
    np.testing.assert_allclose(out["Szg"], noisy, atol=1e-9, rtol=0)
    pe = xe.Params(L=6, W=5.0, Delta=1.0, gamma=0.0, profile="2..3=0.2", times=(0.5, 1.45, 4.0))
    de = xe.sample(pe, np.random.default_rng(2))
    assert np.array_equal(de.h, d.h)  # the exact kernel draws the same fields
    np.testing.assert_allclose(xe.realize(pe, de)["Sz0"], ref, atol=1e-8, rtol=0)


@pytest.mark.parametrize("method", ["exact", "krylov"])
def test_coupled_chains_with_a_clean_site_equal_brute_force(method):
    from tests.kernels.quench.test_coupled_chains import brute_force

    p = cc.Params(l=3, W_s=4.0, W_e=1.5, J_int=1.0, profile="clean 3; 5=6", times=(0.3, 2.0, 7.5), method=method)
    d = cc.sample(p, np.random.default_rng(3))
    assert d.h[2] == 0.0 and abs(d.h[4]) <= 6.0
    assert p.widths().tolist() == [4.0, 4.0, 0.0, 1.5, 6.0, 1.5]
    _, F = brute_force(p, d.h)
    np.testing.assert_allclose(cc.realize(p, d)["F"], F, atol=1e-8, rtol=0)
    _, F0 = brute_force(p, cc.sample(cc.Params(l=3, W_s=4.0, W_e=1.5, times=p.times), np.random.default_rng(3)).h)
    assert np.abs(F0 - F).max() > 1e-3  # negative control: the uniform profile's fields


def test_xxz_bubble_chain_with_a_grain_equals_dense_diagonalization():
    from tests.kernels.bubble.test_xxz_bubble import brute_force

    p = kb.Params(L=6, n_goe=0, W=6.0, Delta=1.0, profile="2..3=0.5", n_eig=4, method="full")
    d = kb.sample(p, np.random.default_rng(5))
    assert np.all(np.abs(d.h[2:4]) <= 0.5) and d.h.tobytes() != kb.sample(kb.Params(L=6, n_goe=0, W=6.0, n_eig=4),
                                                                            np.random.default_rng(5)).h.tobytes()  # fmt: skip
    Hb, keep = brute_force(p, d)
    np.testing.assert_allclose(np.linalg.eigvalsh(kb.hamiltonian(p, d).toarray()),
                               np.linalg.eigvalsh(Hb[np.ix_(keep, keep)]), atol=1e-12)  # fmt: skip


def test_boson_kernels_with_a_grain_equal_brute_force_and_each_other():
    from tests.kernels.impurity.test_boson_impurity import brute_force, full_index

    p = bi.Params(L=4, d_bits="1001", W=5.0, U=2.3, profile="clean 1..2", times=(1.0,))
    eps = bi.sample(p, np.random.default_rng(4)).eps
    assert eps[1] == eps[2] == 0.0
    idx = full_index(p)
    np.testing.assert_allclose(bi.hamiltonian(p, eps).to_csr().toarray(), brute_force(p, eps)[np.ix_(idx, idx)], atol=1e-14)
    plain = bi.sample(bi.Params(L=4, d_bits="1001", W=5.0, U=2.3, times=(1.0,)), np.random.default_rng(4)).eps
    assert plain[0] == eps[0] and plain[3] == eps[3] and np.abs(plain[1:3]).min() > 0  # negative control: fields there
    assert np.abs(bi.hamiltonian(p, plain).to_csr().toarray() - brute_force(p, eps)[np.ix_(idx, idx)]).max() > 0.1
    q = bt.Params(L=6, U=4.0, W=3.0, dt=0.05, chi_max=64, profile="2..3=0.25", times=(1.0,))
    d = bt.sample(q, np.random.default_rng(2))
    ref = bi.realize(bi.Params(L=6, W=3.0, U=4.0, profile="2..3=0.25", times=(1.0,)), d)
    out = bt.realize(q, d)
    assert max(float(np.abs(out[k] - ref[k]).max()) for k in ("n_c", "n_d")) < 1e-5


def test_widths_follow_the_profile():
    assert profile_widths("2..3=0.5", np.full(5, 8.0), first=1).tolist() == [8.0, 0.5, 0.5, 8.0, 8.0]
    assert profile_widths("[W, 1, W]", [2.0, 3.0, 4.0]).tolist() == [2.0, 1.0, 4.0]


# -- the engine: points that differ only in their profile are paired ----------------------------------


PAIRED_SPEC = ('kernel = "anderson_trajectory"\nseed = 3\nrealizations = 8\n[params]\nL = 12\nW = 8.0\ngamma = 0.0\n'
               '[times]\nvalues = [0.05, 0.1]\n[sweep]\nprofile = ["", "clean 12"]\n')  # fmt: skip


def test_points_differing_only_in_their_profile_draw_the_same_realizations(tmp_path):
    """Site 1 cannot feel site 12 by t = 0.1 (to ~(J t)^11): paired points agree there to 1e-9 per
    realization, unpaired ones differ by the spread of the fields (the negative control)."""
    import ensemble
    from ensemble import parse_spec
    from ensemble.running.tasks import plan
    from ensemble.spec.seeding import realization_rng

    exp = parse_spec(PAIRED_SPEC)
    uniform, grain = exp.points
    assert grain.key != uniform.key and grain.seed_key == uniform.key == uniform.seed_key
    assert {t.seed_key for t in plan(exp) if t.point == 1} == {uniform.key}
    h0 = at.sample(uniform.params, realization_rng(exp.seed, uniform.seed_key, 5)).h
    h1 = at.sample(grain.params, realization_rng(exp.seed, grain.seed_key, 5)).h
    assert h1[:11].tobytes() == h0[:11].tobytes() and h1[11] == 0.0
    # replay draws what the run draws
    rp = ensemble.replay(_write(tmp_path, PAIRED_SPEC), point=1, realization=5)
    np.testing.assert_array_equal(rp.outputs["Sz0"], at.realize(grain.params, at.sample(grain.params,
                                  realization_rng(exp.seed, grain.seed_key, 5)))["Sz0"])  # fmt: skip
    run = ensemble.run(PAIRED_SPEC, out=tmp_path / "run", executor="serial")
    s = run.summary.query("observable == 'Sz0' and site == 1 and t == 0.1").set_index("profile")["mean"]
    assert abs(s[""] - s["clean 12"]) < 1e-9


def test_without_pairing_the_same_points_draw_independently(monkeypatch):
    from ensemble import parse_spec
    from ensemble.spec.seeding import realization_rng

    monkeypatch.setattr(at.Params, "PAIRED", ())
    exp = parse_spec(PAIRED_SPEC)
    uniform, grain = exp.points
    assert grain.seed_key == grain.key != uniform.key
    h0 = at.sample(uniform.params, realization_rng(exp.seed, uniform.seed_key, 5)).h
    h1 = at.sample(grain.params, realization_rng(exp.seed, grain.seed_key, 5)).h
    assert np.abs(h1[:11] - h0[:11]).max() > 1.0


def _write(tmp_path, text):
    path = tmp_path / "paired.toml"
    path.write_text(text)
    return path


def test_a_run_without_a_profile_has_the_tables_it_had_before_and_one_with_a_profile_has_the_column():
    from ensemble import MemoryStore, execute, parse_spec

    plain = execute(parse_spec(PAIRED_SPEC.replace('profile = ["", "clean 12"]', 'W = [8.0]').replace("W = 8.0\n", "")),
                    MemoryStore()).tables  # fmt: skip
    assert "profile" not in plain["summary"].columns and "profile" not in plain["fits"].columns
    paired = execute(parse_spec(PAIRED_SPEC), MemoryStore()).tables
    assert set(paired["summary"]["profile"]) == {"", "clean 12"}
