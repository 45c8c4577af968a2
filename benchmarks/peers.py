"""The peers eip is measured against, each solving the same instance with the same semantics.

Every peer takes a ``Scenario`` (or its ``CostModel``), the goal's score coefficients per
usage dimension (``CostModel.coefficients``) and ``top_k``, and returns a ``PeerAnswer``:
the placements it ranks best (option indices per stage), their scores recomputed by one
shared float evaluation, and whether the peer proved optimality. Caps are compared with
eip's tolerance (``CostModel.caps_tol``), so a plan that sits exactly on a cap is feasible
for everyone.

- ``brute_force``: NumPy enumeration of every placement (small instances only).
- ``seed_bnb``: the algorithm of the tool eip replaces, re-implemented in pure Python.
- ``highs_milp``: a MILP for HiGHS (``highspy``).
- ``cpsat``: the same model for OR-Tools CP-SAT, costs scaled to integers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from eip.costmodel import CostModel, Dim
from eip.kernels.contract import Row
from eip.lowering import move_usage, option_usage
from eip.scenario import Scenario

#: Relative tolerance when two peers' optimal scores are compared.
SCORE_RTOL = 1e-6


@dataclass
class PeerAnswer:
    """What a peer found: up to k placements, best first, and what it proved."""

    placements: list[tuple[int, ...]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    proven: bool = False
    gap: float = math.nan
    note: str = ""

    @property
    def best(self) -> float:
        return self.scores[0] if self.scores else math.inf


def evaluate(model: CostModel, coef: np.ndarray, placement) -> np.ndarray | None:
    """The plan row of a placement (option per stage), None if it is impossible, runs a
    fixed-mode device in two modes or breaks a cap (the model's own ``CostModel.usage``,
    bit-equal with the kernels' totals)."""
    options = np.asarray(placement, dtype=np.int64)[None, :]
    use = model.usage(options)[0]
    if not np.all(np.isfinite(use)) or not model.modes_hold(options)[0]:
        return None
    row = np.concatenate(([use @ coef], use))
    return row if np.all(use <= model.caps_tol) else None


def _answer(model: CostModel, coef: np.ndarray, placements, proven: bool, gap: float = 0.0, note: str = "") -> PeerAnswer:
    """Re-score the placements a peer returned with the one shared evaluation."""
    answer = PeerAnswer(proven=proven, gap=gap if placements else math.nan, note=note)
    for p in placements:
        row = evaluate(model, coef, p)
        if row is None:
            answer.note = (note + "; " if note else "") + "returned a plan that breaks a cap or a link"
            continue
        answer.placements.append(tuple(int(x) for x in p))
        answer.scores.append(float(row[Row.SCORE]))
    return answer


# --------------------------------------------------------------------------- brute force

def brute_force(model: CostModel, coef: np.ndarray, top_k: int, chunk: int = 1 << 14) -> PeerAnswer:
    """Enumerate all O**N placements in NumPy chunks (``CostModel.usage``: chains and DAGs
    alike); keep the k best feasible."""
    n, o = model.exec_ms.shape
    total = o ** n
    best_scores = np.empty(0)
    best_codes = np.empty(0, dtype=np.int64)
    for start in range(0, total, chunk):
        codes = np.arange(start, min(start + chunk, total), dtype=np.int64)
        digits = (codes[:, None] // (o ** np.arange(n - 1, -1, -1, dtype=np.int64))) % o
        usage = model.usage(digits)
        with np.errstate(invalid="ignore"):  # inf usage of an impossible option times a 0 weight
            score = usage @ coef
        ok = np.all(usage <= model.caps_tol, axis=1) & np.isfinite(score) & model.modes_hold(digits)
        best_scores = np.concatenate([best_scores, score[ok]])
        best_codes = np.concatenate([best_codes, codes[ok]])
        keep = np.argsort(best_scores, kind="stable")[:top_k]
        best_scores, best_codes = best_scores[keep], best_codes[keep]
    placements = [tuple(int(c) // o ** (n - 1 - s) % o for s in range(n)) for c in best_codes]
    return _answer(model, coef, placements, proven=True)


# --------------------------------------------------------------------------- the seed tool

@dataclass(frozen=True)
class _SeedStep:
    """The seed tool's record of one placed stage (it built one per branch)."""

    stage: str
    device: str
    exec_ms: float
    exec_mj: float
    memory_mb: float
    xfer_ms: float
    xfer_mj: float


@dataclass(frozen=True)
class _SeedPlan:
    """The seed tool's complete plan (it built one, with its explanation, per leaf)."""

    steps: tuple
    latency_ms: float
    energy_mj: float
    memory_mb: dict
    switches: int
    score: float
    explanation: tuple


def seed_bnb(scenario: Scenario, coef: np.ndarray, top_k: int, exact_limit: int = 100_000, beam_width: int = 128) -> PeerAnswer:
    """The seed tool's search, faithfully: pure-Python records, one dict copy per branch.

    Depth-first branch-and-bound over stages while the product of options per stage is at
    most ``exact_limit``; bound = score of the running totals plus every remaining stage's
    cheapest latency and energy; a branch dies when its bound is >= the k-th best score
    once k plans are held. Above the limit, a beam of ``beam_width`` states ranked by the
    same bound. Caps and memory are checked on the running totals. Like the seed tool it
    keeps a record per placed stage and builds a ranked plan, with its three explanation
    lines, for every complete placement it reaches: that is part of its search cost.
    """
    stages = scenario.stages
    devices = {d.name: d.memory_mb for d in scenario.devices}
    order = {d.name: i for i, d in enumerate(scenario.devices)}
    model = scenario.cost_model
    caps_tol = model.caps_tol
    lat_cap, en_cap = float(caps_tol[Dim.LATENCY]), float(caps_tol[Dim.ENERGY])
    mem_cap = {name: float(caps_tol[model.dims.memory + i]) for i, name in enumerate(devices)}
    links: dict[tuple[str, str], tuple[float, float]] = {}
    for link in scenario.links:
        links[(link.source, link.target)] = (link.latency_ms_per_mb, link.energy_mj_per_mb)
        if link.bidirectional:
            links[(link.target, link.source)] = (link.latency_ms_per_mb, link.energy_mj_per_mb)
    w_lat, w_en, w_sw = (float(coef[d]) for d in (Dim.LATENCY, Dim.ENERGY, Dim.SWITCHES))
    rest_ms = [0.0] * (len(stages) + 1)
    rest_mj = [0.0] * (len(stages) + 1)
    for i in range(len(stages) - 1, -1, -1):
        rest_ms[i] = rest_ms[i + 1] + min(ways[0].latency_ms for ways in stages[i].profiles.values())
        rest_mj[i] = rest_mj[i + 1] + min(ways[0].energy_mj for ways in stages[i].profiles.values())

    def transfer(prev: str, dev: str, size: float) -> tuple[float, float] | None:
        if (prev, dev) in links:
            per_ms, per_mj = links[(prev, dev)]
            return size * per_ms, size * per_mj
        return (0.0, 0.0) if size == 0 else None

    def children(index, prev, lat, en, memory, switches):
        """Every feasible extension of a partial plan by stage ``index``."""
        stage = stages[index]
        size = stages[index - 1].output_mb if index > 0 else 0.0
        for dev, (prof,) in stage.profiles.items():  # the seed knows one way per device
            moved = prev is not None and prev != dev
            cost = transfer(prev, dev, size) if moved else (0.0, 0.0)
            if cost is None:
                continue
            new_lat = lat + cost[0] + prof.latency_ms
            new_en = en + cost[1] + prof.energy_mj
            if new_lat > lat_cap or new_en > en_cap:
                continue
            new_memory = dict(memory)
            new_memory[dev] += prof.memory_mb
            if new_memory[dev] > mem_cap[dev]:
                continue
            step = _SeedStep(stage.name, dev, prof.latency_ms, prof.energy_mj, prof.memory_mb, cost[0], cost[1])
            yield step, new_lat, new_en, new_memory, switches + moved

    def finish(steps, lat, en, memory, switches) -> _SeedPlan:
        slowest = max(steps, key=lambda st: st.xfer_ms + st.exec_ms)
        fullest = max(devices, key=lambda name: memory[name] / devices[name] if devices[name] else math.inf)
        heaviest = max(steps, key=lambda st: st.xfer_ms)
        explanation = (
            f"{slowest.stage} is the latency bottleneck on {slowest.device} at {slowest.xfer_ms + slowest.exec_ms:.2f} ms.",
            f"{fullest} uses {memory[fullest] / max(devices[fullest], 1e-9):.0%} of its memory budget in this placement.",
            f"The handoff into {heaviest.stage} adds {heaviest.xfer_ms:.2f} ms of copy overhead." if heaviest.xfer_ms > 0
            else "The pipeline stays on one accelerator end-to-end, so transfer overhead is zero.",
        )
        return _SeedPlan(steps, lat, en, dict(memory), switches, w_lat * lat + w_en * en + w_sw * switches, explanation)

    def rank(plan: _SeedPlan):
        return (plan.score, plan.latency_ms, plan.energy_mj, plan.switches, tuple(order[st.device] for st in plan.steps))

    held: list[_SeedPlan] = []
    space = math.prod(len(st.profiles) for st in stages)
    if space <= exact_limit:
        def dfs(index, steps, lat, en, memory, switches):
            if index == len(stages):
                held.append(finish(steps, lat, en, memory, switches))
                held.sort(key=rank)
                del held[top_k:]
                return
            bound = w_lat * (lat + rest_ms[index]) + w_en * (en + rest_mj[index]) + w_sw * switches
            if len(held) == top_k and bound >= held[-1].score:
                return
            prev = steps[-1].device if steps else None
            for step, new_lat, new_en, new_memory, new_switches in children(index, prev, lat, en, memory, switches):
                dfs(index + 1, steps + (step,), new_lat, new_en, new_memory, new_switches)

        dfs(0, (), 0.0, 0.0, {name: 0.0 for name in devices}, 0)
        proven, note = True, ""
    else:
        frontier = [(0.0, 0.0, 0.0, 0, (), {name: 0.0 for name in devices})]
        for index in range(len(stages)):
            grown = []
            for _, lat, en, switches, steps, memory in frontier:
                prev = steps[-1].device if steps else None
                for step, new_lat, new_en, new_memory, new_switches in children(index, prev, lat, en, memory, switches):
                    bound = w_lat * (new_lat + rest_ms[index + 1]) + w_en * (new_en + rest_mj[index + 1]) + w_sw * new_switches
                    grown.append((bound, new_lat, new_en, new_switches, steps + (step,), new_memory))
            grown.sort(key=lambda state: state[:4])
            frontier = grown[:beam_width]
            if not frontier:
                break
        held = sorted((finish(steps, lat, en, memory, sw) for _, lat, en, sw, steps, memory in frontier), key=rank)[:top_k]
        proven, note = False, f"beam of {beam_width} (search space {space:.1e} > {exact_limit:,})"
    placements = [tuple(order[st.device] for st in plan.steps) for plan in held]
    return _answer(model, coef, placements, proven=proven, gap=0.0 if proven else math.nan, note=note)


# --------------------------------------------------------------------------- shared MILP model

@dataclass
class _Placement01:
    """The 0/1 model both MILP peers solve, over eip's layered graph (``CostModel.graph``).

    x[t] = 1 when option t (a stage on a device) is chosen; y[e] = 1 when arc e (from an
    option of stage s-1 to one of stage s) is taken. One option per stage; flow: the arcs
    leaving an option sum to its x, the arcs entering it too. Every usage dimension is
    linear in x and y; variables 0..T-1 are the x, T..T+A-1 the y.
    """

    n_options: int
    step_start: np.ndarray  # (N + 1,) options of stage s are step_start[s] .. step_start[s+1]-1
    arc_start: np.ndarray   # (T + 1,) arcs entering option t are arc_start[t] .. arc_start[t+1]-1
    arc_tail: np.ndarray    # (A,) option each arc leaves
    opt_key: np.ndarray     # (T,) the model's option index of each option
    usage: np.ndarray       # (T + A, Q) usage contributed by each variable

    def equalities(self) -> list[tuple[list[int], list[float], float]]:
        """(variables, coefficients, right-hand side) of every equality row: one option per
        stage, then flow conservation into and out of each option."""
        n_steps = len(self.step_start) - 1
        rows = [(list(range(self.step_start[s], self.step_start[s + 1])), [1.0] * int(np.diff(self.step_start)[s]), 1.0)
                for s in range(n_steps)]
        leaving = np.argsort(self.arc_tail, kind="stable")
        out_start = np.searchsorted(self.arc_tail[leaving], np.arange(self.n_options + 1))
        for t in range(self.n_options):
            sides = []
            if t >= self.step_start[1]:
                sides.append(np.arange(self.arc_start[t], self.arc_start[t + 1]))
            if t < self.step_start[n_steps - 1]:
                sides.append(leaving[out_start[t]:out_start[t + 1]])
            for arcs in sides:
                rows.append(([self.n_options + int(e) for e in arcs] + [t], [1.0] * len(arcs) + [-1.0], 0.0))
        return rows


def _placement01(model: CostModel) -> _Placement01:
    g = model.graph
    arc_use = np.zeros((len(g.arc_tail), g.opt_use.shape[1]))
    arc_use[:, :g.arc_use.shape[1]] = g.arc_use
    return _Placement01(len(g.opt_key), g.step_start, g.arc_start, g.arc_tail, g.opt_key, np.vstack([g.opt_use, arc_use]))


def _fixed_mode_rows(model: CostModel, chosen: list[tuple[int, int]], first_var: int):
    """Rows tying every fixed-mode device to one mode, over new 0/1 variables z[d, m]
    numbered from ``first_var``: sum_m z[d, m] = 1, and x <= z[d, m] for each option
    variable x of ``chosen`` ((variable, model option) pairs) on d in mode m. Returns
    (rows (cols, vals, lo, hi), number of z variables)."""
    rows, z = [], {}
    for d in np.flatnonzero(model.fixed_mode):
        modes = sorted({int(model.option_mode[o]) for _, o in chosen if model.option_device[o] == d})
        for m in modes:
            z[d, m] = first_var + len(z)
        if modes:
            rows.append(([z[d, m] for m in modes], [1.0] * len(modes), 1.0, 1.0))
    for var, o in chosen:
        key = (int(model.option_device[o]), int(model.option_mode[o]))
        if key in z:
            rows.append(([var, z[key]], [1.0, -1.0], -np.inf, 0.0))
    return rows, len(z)


def _decode(m: _Placement01, values) -> tuple[int, ...]:
    return tuple(int(m.opt_key[t]) for t in range(m.n_options) if values[t] > 0.5)


# --------------------------------------------------------------------------- HiGHS

def highs_milp(model: CostModel, coef: np.ndarray, time_limit_s: float = 60.0) -> PeerAnswer:
    """Top-1 by HiGHS's branch-and-cut (one thread, relative gap 0): on the layered graph
    for a chain, on the DAG model itself (``_dag_milp``) for a graph."""
    if model.is_chain:
        m = _placement01(model)
        rows = [(cols, vals, rhs, rhs) for cols, vals, rhs in m.equalities()]
        usage, decode = m.usage, lambda values: _decode(m, values)
        chosen = list(enumerate(m.opt_key.tolist()))
    else:
        usage, rows, decode, chosen = _dag_milp(model)
    modes, n_z = _fixed_mode_rows(model, chosen, len(usage))
    rows += modes
    usage = np.vstack([usage, np.zeros((n_z, usage.shape[1]))])
    rows += _cap_rows(usage, model.caps_tol)
    return _run_highs(model, coef, usage, rows, decode, time_limit_s)


def _cap_rows(usage: np.ndarray, caps: np.ndarray) -> list:
    """One row per finite cap (Q,): the variables' usage (V, Q) in that dimension <= cap, in
    units of a positive cap, as the kernels compare usages. (In absolute units a plan 11% over
    a 9e-6 mJ power cap broke its row by 1e-6, within HiGHS's MIP feasibility tolerance:
    HiGHS returned it as its optimum.)"""
    rows = []
    for q, cap in enumerate(caps):
        if np.isfinite(cap):
            used = np.flatnonzero(usage[:, q])
            unit = float(cap) if cap > 0 else 1.0
            rows.append((used.tolist(), (usage[used, q] / unit).tolist(), -np.inf, float(cap) / unit))
    return rows


def _dag_milp(model: CostModel):
    """The DAG model as a MILP: (usage per variable (V, Q), rows (cols, vals, lo, hi), decode).

    x[s, o] = 1 when stage s runs on option o (one per stage). For every producer p, option
    a of p and other device d, a copy c[p, a, d] in [0, 1] with c >= x[p, a] + y[q, d] - 1
    for every reader q of p (y[q, d]: q sits on d), so the move of p's output from a to d is
    paid once however many readers sit on d; where no link carries a non-empty output,
    x[p, a] + y[q, d] <= 1 instead. A switch w[p, q] in [0, 1] per edge with
    w >= y[p, d] - y[q, d] for every device d. Each variable's usage is the lowering's
    (``option_usage``, ``move_usage``): accuracy, busy time of the receiving device and
    execution energy per device included. Also returns the (variable, option) pairs of x.
    """
    n, o = model.exec_ms.shape
    d = model.n_devices
    dev = model.option_device
    q_dims = len(model.caps)
    x = {(s, a): i for i, (s, a) in enumerate(zip(*np.nonzero(np.isfinite(model.exec_ms))))}
    usage = [np.zeros(q_dims) for _ in x]
    placed = np.array(list(x), dtype=np.int64).reshape(-1, 2)
    for i, use in enumerate(option_usage(model, placed[:, 0], placed[:, 1])):
        usage[i][:] = use
    rows = [([x[s, a] for a in range(o) if (s, a) in x], [1.0] * int(np.isfinite(model.exec_ms[s]).sum()), 1.0, 1.0)
            for s in range(n)]
    on = lambda s, b: [x[s, a] for a in range(o) if (s, a) in x and dev[a] == b]

    def new_var(use) -> int:
        usage.append(use)
        return len(usage) - 1

    def move(cost, switches, device) -> np.ndarray:
        use = np.zeros(q_dims)
        use[:model.dims.arcs] = move_usage(model, np.array([[*cost, switches]]), np.array([device]))[0]
        return use

    for p, readers in enumerate(model.readers):
        for a in (a for a in range(o) if (p, a) in x):
            xa = x[p, a]
            for b in range(d):
                reading = [r for r in readers if on(r, b)]
                if b == dev[a] or not reading:
                    continue
                cost = model.moves[p, a, b]
                if not np.isfinite(cost).all():
                    rows += [([xa] + on(r, b), [1.0] * (1 + len(on(r, b))), -np.inf, 1.0) for r in reading]
                    continue
                c = new_var(move(cost, 0.0, b))
                rows += [([c, xa] + on(r, b), [1.0, -1.0] + [-1.0] * len(on(r, b)), -1.0, np.inf) for r in reading]
    for p, r in model.edges.tolist():
        w = new_var(move((0.0, 0.0), 1.0, 0))
        for b in range(d):
            rows.append(([w] + on(p, b) + on(r, b), [1.0] + [-1.0] * len(on(p, b)) + [1.0] * len(on(r, b)), 0.0, np.inf))

    def decode(values) -> tuple[int, ...]:
        chosen = sorted((s, a) for (s, a), i in x.items() if values[i] > 0.5)
        return tuple(a for _, a in chosen)

    return np.array(usage), rows, decode, [(i, a) for (_, a), i in x.items()]


def _highs(coef: np.ndarray, usage: np.ndarray, rows, time_limit_s: float, integral: bool = True):
    """A HiGHS instance that has run: minimize ``coef . usage`` over variables in [0, 1]
    (0/1 when ``integral``) under ``rows`` (cols, vals, lo, hi)."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", float(time_limit_s))
    n_vars = len(usage)
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n_vars
    lp.col_cost_ = usage @ coef
    lp.col_lower_ = np.zeros(n_vars)
    lp.col_upper_ = np.ones(n_vars)
    if integral:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n_vars
    starts, index, value, lower, upper = [0], [], [], [], []
    for cols, vals, lo, hi in rows:
        index.extend(cols)
        value.extend(vals)
        starts.append(len(index))
        lower.append(max(lo, -inf))
        upper.append(min(hi, inf))
    lp.num_row_ = len(rows)
    lp.row_lower_ = np.array(lower)
    lp.row_upper_ = np.array(upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value)
    h.passModel(lp)
    h.run()
    return h


def chain_lp_bound(model: CostModel, coef: np.ndarray, caps: np.ndarray) -> float:
    """The LP relaxation's optimum of a chain's 0/1 model under ``caps`` (Q,) (inf when
    infeasible): the best bound any Lagrangian multipliers on the caps can give."""
    import highspy

    m = _placement01(model)
    rows = [(cols, vals, rhs, rhs) for cols, vals, rhs in m.equalities()] + _cap_rows(m.usage, caps)
    h = _highs(coef, m.usage, rows, 60.0, integral=False)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return math.inf
    return h.getInfo().objective_function_value


def _run_highs(model: CostModel, coef: np.ndarray, usage: np.ndarray, rows, decode, time_limit_s: float) -> PeerAnswer:
    """Minimize ``coef . usage`` over 0/1 variables (those of ``usage``) under ``rows``."""
    import highspy

    h = _highs(coef, usage, rows, time_limit_s)
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return PeerAnswer(proven=True, note="infeasible")
    info = h.getInfo()
    if info.primal_solution_status != 2:  # no feasible point
        return PeerAnswer(proven=False, note=h.modelStatusToString(status))
    placement = decode(h.getSolution().col_value)
    proven = status == highspy.HighsModelStatus.kOptimal
    return _answer(model, coef, [placement], proven=proven, gap=float(info.mip_gap),
                   note="" if proven else h.modelStatusToString(status))


# --------------------------------------------------------------------------- CP-SAT

#: Integer units for CP-SAT: usage in 1e-6 ms / mJ / MB, the objective in 1e-9 score units.
CPSAT_USAGE_SCALE = 1e6
CPSAT_SCORE_SCALE = 1e9


def cpsat(model: CostModel, coef: np.ndarray, time_limit_s: float = 60.0, workers: int = 1) -> PeerAnswer:
    """Top-1 by CP-SAT on the same 0/1 model, costs rounded to integer units."""
    from ortools.sat.python import cp_model

    m = _placement01(model)
    caps = model.caps_tol
    cp = cp_model.CpModel()
    var = [cp.NewBoolVar(f"v{i}") for i in range(len(m.usage))]
    for cols, vals, rhs in m.equalities():
        cp.Add(sum(int(v) * var[c] for c, v in zip(cols, vals)) == int(rhs))
    for q in range(m.usage.shape[1]):
        if np.isfinite(caps[q]):
            weights = np.rint(m.usage[:, q] * CPSAT_USAGE_SCALE).astype(np.int64)
            used = np.flatnonzero(weights)
            cp.Add(sum(int(weights[i]) * var[i] for i in used) <= int(math.floor(caps[q] * CPSAT_USAGE_SCALE)))
    cost = m.usage @ coef
    objective = np.rint(cost * CPSAT_SCORE_SCALE).astype(np.int64)
    cp.Minimize(sum(int(objective[i]) * var[i] for i in np.flatnonzero(objective)))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = int(workers)
    status = solver.Solve(cp)
    if status == cp_model.INFEASIBLE:
        return PeerAnswer(proven=True, note="infeasible")
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return PeerAnswer(proven=False, note=solver.StatusName(status))
    placement = _decode(m, [solver.Value(v) for v in var])
    proven = status == cp_model.OPTIMAL
    gap = abs(solver.ObjectiveValue() - solver.BestObjectiveBound()) / max(abs(solver.ObjectiveValue()), 1.0)
    return _answer(model, coef, [placement], proven=proven, gap=0.0 if proven else gap,
                   note="" if proven else solver.StatusName(status))


def search_space(model: CostModel) -> int:
    """Number of placements: the product of runnable options per stage (exact, unbounded)."""
    return math.prod(int(c) for c in np.isfinite(model.exec_ms).sum(axis=1))
