"""The three benchmark models in NEST (run by `cargo xtask peers`; see bench/peers/README.md).

    python nest_models.py <cuba|coba|stdp> <duration_s> [seed]

Prints one JSON object on stdout (the same fields as brian2_models.py). One thread
(`local_num_threads = 1`), resolution 0.1 ms, every delay 0.1 ms (NEST's minimum: one step, which
is also when engram and Brian2 deliver a spike). `build_s` is network construction, `run_s` the wall
time of `nest.Simulate` alone.

Units: NEST's neurons take pF, nS, pA. Brette et al.'s models are written with g_L = 10 nS and
τ_m = 20 ms, so C_m = 200 pF; CUBA's "ge += 1.62 mV" (a jump of the synaptic term in mV) is a current
jump of 1.62 mV · C_m / τ_m with CUBA's C_m = 250 pF (any C_m works, the weight scales with it).
NEST integrates `iaf_psc_exp` exactly and `iaf_cond_exp` with GSL's adaptive RKF45 (engram and
Brian2: exact / forward Euler at 0.1 ms), so rates may differ by a few per cent.

STDP: `stdp_synapse` with λ = 0.005, α = 1.05, μ± = 0 (additive), W_max = 0.15 nS (0.015 g_L),
τ₊ = τ₋ = 20 ms: Song et al.'s rule. NEST applies the depression of a presynaptic spike before
transmitting it (engram and Brian2 transmit first) and its facilitation lazily at the next
presynaptic spike; the Poisson inputs are 1000 `parrot_neuron`s repeating one `poisson_generator`'s
independent trains, so all 100 neurons see the same 1000 trains (as in the other two simulators).
"""

import json
import resource
import sys
import time

import nest


def setup(seed):
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": 1, "rng_seed": seed,
                          "print_time": False})


def brette(conductance, n_exc=3200, n_inh=800):
    """Benchmarks 1 (COBA, `iaf_cond_exp`) and 2 (CUBA, `iaf_psc_exp`)."""
    common = {"E_L": -60.0 if conductance else -49.0, "V_th": -50.0, "V_reset": -60.0,
              "t_ref": 5.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0}
    if conductance:
        model, params = "iaf_cond_exp", {**common, "C_m": 200.0, "g_L": 10.0, "E_ex": 0.0,
                                         "E_in": -80.0}
        we, wi = 6.0, -67.0  # nS (iaf_cond_exp: a negative weight is an inhibitory conductance)
    else:
        model, params = "iaf_psc_exp", {**common, "C_m": 250.0, "tau_m": 20.0}
        we, wi = 1.62 * 250.0 / 20.0, -9.0 * 250.0 / 20.0  # pA
    pop = nest.Create(model, n_exc + n_inh, params=params)
    pop.V_m = nest.random.uniform(-60.0, -50.0)
    if conductance:
        pop.g_ex = 10.0 * nest.math.max(nest.random.normal(4.0, 1.5), 0.0)
        pop.g_in = 10.0 * nest.math.max(nest.random.normal(20.0, 12.0), 0.0)
    exc, inh = pop[:n_exc], pop[n_exc:]
    rule = {"rule": "pairwise_bernoulli", "p": 0.02, "allow_autapses": True}
    nest.Connect(exc, pop, rule, {"synapse_model": "static_synapse", "weight": we, "delay": 0.1})
    n_exc_syn = nest.num_connections
    nest.Connect(inh, pop, rule, {"synapse_model": "static_synapse", "weight": wi, "delay": 0.1})
    n_syn = {"exc": n_exc_syn, "inh": nest.num_connections - n_exc_syn}
    return {"exc": exc, "inh": inh}, n_syn, False


def stdp(n_in=1000, n_out=100, rate=10.0):
    """Song 2000 scaled (see the module doc)."""
    gen = nest.Create("poisson_generator", params={"rate": rate})
    inp = nest.Create("parrot_neuron", n_in)
    nest.Connect(gen, inp, "all_to_all", {"delay": 0.1})
    out = nest.Create("iaf_cond_exp", n_out, params={
        "C_m": 200.0, "g_L": 10.0, "E_L": -70.0, "V_th": -54.0, "V_reset": -60.0, "t_ref": 0.0,
        "E_ex": 0.0, "E_in": -70.0, "tau_syn_ex": 5.0, "tau_syn_in": 5.0, "tau_minus": 20.0,
        "V_m": -70.0})
    w_max = 0.15  # nS = 0.015 g_L
    nest.CopyModel("stdp_synapse", "song", {"tau_plus": 20.0, "lambda": 0.005, "alpha": 1.05,
                                            "mu_plus": 0.0, "mu_minus": 0.0, "Wmax": w_max})
    nest.Connect(inp, out, "all_to_all", {"synapse_model": "song", "delay": 0.1,
                                          "weight": nest.random.uniform(0.0, w_max)})
    return {"input": inp, "output": out}, {"input": n_in * n_out}, True


def main():
    model, duration_s = sys.argv[1], float(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    setup(seed)
    t0 = time.perf_counter()
    if model == "stdp":
        pops, n_syn, plastic = stdp()
    else:
        pops, n_syn, plastic = brette(model == "coba")
    recs = {}
    for name, p in pops.items():
        recs[name] = nest.Create("spike_recorder")
        nest.Connect(p, recs[name])
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    nest.Simulate(duration_s * 1000.0)
    run_s = time.perf_counter() - t1
    if "--debug" in sys.argv:
        for name, p in pops.items():
            print(name, {k: float(sum(v) / len(v)) for k, v in p.get(["V_m", "g_ex", "g_in"]).items()}
                  if "g_ex" in p.get() else "", file=sys.stderr)
    counts = {name: int(r.n_events) for name, r in recs.items()}
    sizes = {name: len(p) for name, p in pops.items()}
    rates = {name: counts[name] / sizes[name] / duration_s for name in pops}
    # Each presynaptic spike times the mean fan-out of its projection (as in brian2_models.py).
    events = sum(counts[name] * n // sizes[name] for name, n in n_syn.items())
    updates = 0
    if plastic:
        updates = counts["input"] * sizes["output"] + counts["output"] * sizes["input"]
    print(json.dumps({
        "sim": "nest",
        "model": model,
        "duration_s": duration_s,
        "build_s": build_s,
        "run_s": run_s,
        "binary_s": run_s,
        "spikes": counts,
        "rates_hz": rates,
        "synaptic_events": events,
        "plastic_updates": updates,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


if __name__ == "__main__":
    main()
