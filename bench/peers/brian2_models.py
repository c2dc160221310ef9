"""The three benchmark models in Brian2 (run by `cargo xtask peers`; see bench/peers/README.md).

    python brian2_models.py <cuba|coba|stdp> <duration_s> <standalone|runtime> [seed]

Prints one JSON object on stdout: build and run times (s), spikes and mean rate per population,
synaptic events, plastic updates, peak resident memory (KiB).

`run_s` is the simulation loop alone: in cpp_standalone mode Brian2's own timer around the C++
`Network::run` loop (`device._last_run_time`); in runtime mode the wall time of `run()` (which also
generates and compiles Cython code the first time, cached afterwards). `build_s` is code generation
+ compilation (standalone) or network construction (runtime).

The models follow Brette et al. (2007) as in Brian2's reference scripts, and engram's
`engram_lab::brette2007` and `engram_lab::stdp_scaled` (same parameters and units).
"""

import json
import os
import resource
import sys
import tempfile
import time

from brian2 import (
    Network,
    NeuronGroup,
    PoissonGroup,
    SpikeMonitor,
    Synapses,
    defaultclock,
    device,
    mV,
    ms,
    Hz,
    prefs,
    second,
    seed as brian_seed,
    set_device,
)


def cuba(n_exc=3200, n_inh=800):
    """Benchmark 2: current-based LIF, 2 % connectivity, exact integration (linear equations)."""
    taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
    Vt, Vr, El = -50 * mV, -60 * mV, -49 * mV
    we, wi = (60 * 0.27 / 10) * mV, (-20 * 4.5 / 10) * mV
    ns = dict(taum=taum, taue=taue, taui=taui, Vt=Vt, Vr=Vr, El=El, we=we, wi=wi)
    eqs = """
    dv/dt  = (ge + gi - (v - El)) / taum : volt (unless refractory)
    dge/dt = -ge / taue : volt
    dgi/dt = -gi / taui : volt
    """
    P = NeuronGroup(n_exc + n_inh, eqs, threshold="v > Vt", reset="v = Vr",
                    refractory=5 * ms, method="exact", namespace=ns)
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge, P.gi = 0 * mV, 0 * mV
    Pe, Pi = P[:n_exc], P[n_exc:]
    Ce = Synapses(Pe, P, on_pre="ge += we", namespace=ns)
    Ci = Synapses(Pi, P, on_pre="gi += wi", namespace=ns)
    Ce.connect(p=0.02)
    Ci.connect(p=0.02)
    pops = {"exc": SpikeMonitor(Pe, record=False), "inh": SpikeMonitor(Pi, record=False)}
    return [P, Ce, Ci, *pops.values()], pops, {"exc": n_exc, "inh": n_inh}, [(Ce, "exc"), (Ci, "inh")], False


def coba(n_exc=3200, n_inh=800):
    """Benchmark 1: conductance-based LIF (g in units of g_L = 10 nS: 6 nS -> 0.6, 67 nS -> 6.7)."""
    taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
    Vt, Vr, El, Ee, Ei = -50 * mV, -60 * mV, -60 * mV, 0 * mV, -80 * mV
    ns = dict(taum=taum, taue=taue, taui=taui, Vt=Vt, Vr=Vr, El=El, Ee=Ee, Ei=Ei)
    eqs = """
    dv/dt  = (ge * (Ee - v) + gi * (Ei - v) - (v - El)) / taum : volt (unless refractory)
    dge/dt = -ge / taue : 1
    dgi/dt = -gi / taui : 1
    """
    P = NeuronGroup(n_exc + n_inh, eqs, threshold="v > Vt", reset="v = Vr",
                    refractory=5 * ms, method="euler", namespace=ns)
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = "clip(4 + 1.5 * randn(), 0, inf)"
    P.gi = "clip(20 + 12 * randn(), 0, inf)"
    Pe, Pi = P[:n_exc], P[n_exc:]
    Ce = Synapses(Pe, P, on_pre="ge += 0.6", namespace=ns)
    Ci = Synapses(Pi, P, on_pre="gi += 6.7", namespace=ns)
    Ce.connect(p=0.02)
    Ci.connect(p=0.02)
    pops = {"exc": SpikeMonitor(Pe, record=False), "inh": SpikeMonitor(Pi, record=False)}
    return [P, Ce, Ci, *pops.values()], pops, {"exc": n_exc, "inh": n_inh}, [(Ce, "exc"), (Ci, "inh")], False


def stdp(n_in=1000, n_out=100, rate=10 * Hz):
    """Song 2000 scaled: Poisson inputs onto conductance LIF neurons, additive all-to-all pair STDP
    (Brian2's STDP example with Song's amplitudes: A+ = 0.005 g_max, A-/A+ = 1.05, tau 20 ms).
    A presynaptic spike is transmitted with the weight it finds, then depresses (engram's order)."""
    taum, taue, Ee, vt, vr, El = 20 * ms, 5 * ms, 0 * mV, -54 * mV, -60 * mV, -70 * mV
    gmax, taupre, taupost = 0.015, 20 * ms, 20 * ms
    dApre = 0.005 * gmax
    dApost = -1.05 * dApre
    ns = dict(taum=taum, taue=taue, Ee=Ee, vt=vt, vr=vr, El=El, gmax=gmax, taupre=taupre,
              taupost=taupost, dApre=dApre, dApost=dApost)
    eqs = """
    dv/dt = (ge * (Ee - v) + El - v) / taum : volt
    dge/dt = -ge / taue : 1
    """
    inp = PoissonGroup(n_in, rates=rate)
    out = NeuronGroup(n_out, eqs, threshold="v > vt", reset="v = vr", method="euler",
                      namespace=ns)
    out.v = El
    S = Synapses(inp, out, """
        w : 1
        dApre/dt = -Apre / taupre : 1 (event-driven)
        dApost/dt = -Apost / taupost : 1 (event-driven)""",
        on_pre="""
        ge += w
        Apre += dApre
        w = clip(w + Apost, 0, gmax)""",
        on_post="""
        Apost += dApost
        w = clip(w + Apre, 0, gmax)""",
        namespace=ns)
    S.connect()
    S.w = "rand() * gmax"
    pops = {"input": SpikeMonitor(inp, record=False), "output": SpikeMonitor(out, record=False)}
    return [inp, out, S, *pops.values()], pops, {"input": n_in, "output": n_out}, [(S, "input")], True


MODELS = {"cuba": cuba, "coba": coba, "stdp": stdp}


def main():
    model, duration, mode = sys.argv[1], float(sys.argv[2]) * second, sys.argv[3]
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    standalone = mode == "standalone"
    rss_file = tempfile.NamedTemporaryFile(delete=False).name
    if standalone:
        os.environ["PEERS_RSS_FILE"] = rss_file
        here = os.path.dirname(os.path.abspath(__file__))
        prefs.devices.cpp_standalone.run_cmd_unix = [
            sys.executable, os.path.join(here, "wrap_rss.py"), "./main"]
        build_dir = os.environ.get("PEERS_BUILD_DIR", tempfile.mkdtemp(prefix="brian2_" + model))
        set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    defaultclock.dt = 0.1 * ms
    brian_seed(seed)
    t0 = time.perf_counter()
    objs, pops, sizes, syns, plastic = MODELS[model]()
    net = Network(*objs)
    if standalone:
        net.run(duration)
        t1 = time.perf_counter()
        device.build(directory=build_dir, compile=True, run=False)
        build_s = time.perf_counter() - t1 + (t1 - t0)
        t2 = time.perf_counter()
        device.run(directory=build_dir, with_output=False)
        binary_s = time.perf_counter() - t2
        run_s = device._last_run_time
        with open(rss_file) as f:
            peak_kib = int(f.read())
    else:
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        net.run(duration)
        run_s = time.perf_counter() - t1
        binary_s = run_s
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    counts = {name: int(m.num_spikes) for name, m in pops.items()}
    secs = float(duration / second)
    rates = {name: counts[name] / sizes[name] / secs for name in pops}
    # Synaptic events: each presynaptic spike times the mean fan-out of its projection (synapses /
    # presynaptic neurons), the same formula for every simulator.
    events = sum(counts[pop] * len(s) // sizes[pop] for s, pop in syns)
    updates = 0
    if plastic:
        updates = counts["input"] * sizes["output"] + counts["output"] * sizes["input"]
    print(json.dumps({
        "sim": f"brian2-{mode}",
        "model": model,
        "duration_s": secs,
        "build_s": build_s,
        "run_s": run_s,
        "binary_s": binary_s,
        "spikes": counts,
        "rates_hz": rates,
        "synaptic_events": events,
        "plastic_updates": updates,
        "peak_rss_kib": peak_kib,
    }))


if __name__ == "__main__":
    main()
