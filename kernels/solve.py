"""The solve pipeline in one jitted call: fast path, bounds, beam incumbent, exact search.

One dispatch from Python per solve keeps the per-call overhead in microseconds. Call it
through ``contract.solve``, which decodes the answer.
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from .bounds import (BRANCH_FITS, BRANCH_PROVEN, backward_values, binding_caps, branched_certificate, by_dimension,
                     cap_tests, column_pool, completion_usage, dual_pass, lagrangian_prices, relaxed_costs,
                     resource_tables, table_dimensions)
from .contract import KEY_DIMS, STAT_SLOTS, LayeredGraph, Mode, Row, Stat, Status, Stop, Strategy
from .dive import DIVE_STALL_PER_STEP, lp_dive
from .fixing import fixed_by_bounds, node_fixed, subgraph
from .labels import label_memory, label_search
from .paths import capped, clock, count_within, kept_ranked, path_row, score_limit, within_caps
from .pulse import pulse_search
from .tree import (TREE_COLUMNS, branch_candidates, child_masks, node_lp, open_nodes, pool_add, pool_take, reduced_node,
                   strong_branch)
from .viterbi import kbest_paths

# Column generation passes for the Lagrangian multipliers (``bounds.lagrangian_prices``):
# it meets the LP optimum within them on YOLOv3 and the at-scale families
# (python -m benchmarks.bounds)
DUAL_ITERATIONS = 200
# the label search's width for the exact search, as a typed int64: a literal 0 would make
# Numba compile the searches a second time for the literal (about 10 s of first-run compile)
EXACT_WIDTH = np.int64(0)
CERTIFICATE_ITERATIONS = 200
# Where the certificate (the root of the branching, CERTIFICATE_ITERATIONS passes) finds no
# proof (the relaxation fits), it branches: BRANCH_EARLY_NODES nodes before the wide beam,
# and, when no beam has met a plan, BRANCH_NODES before the exact search's last, exhaustive
# round (on large graphs at most BRANCH_ARCS / (the graph's arcs) nodes); each node's
# certificate makes BRANCH_ITERATIONS passes from its parent's weights. Measured on YOLOv3:
# with its NPU memory 2 MB short, which no label budget up to 20M proves, 1,500 nodes prove
# it in 0.05 s (HiGHS takes 4.1 s); with the latency cap just below its least latency,
# 9,000 nodes in 0.27 s, where the exhaustive round kept 3.4M labels (3 s). The early
# budget stays small: 2,048 nodes made YOLOv3's frontier and sweep about 25% slower.
BRANCH_EARLY_NODES = 256
BRANCH_NODES = 20_000
BRANCH_ARCS = 100_000_000
BRANCH_ITERATIONS = 10
# Grid of the per-dimension exact bound tables: rounding loses at most one grid step per
# step of the graph, so the grid grows with the step count, within a budget of cells
# (grid points x options x dimensions the multipliers price).
# Short pipelines solve fast on the Lagrangian bounds alone: no tables below TABLE_MIN_STEPS.
TABLE_MIN_STEPS = 16
TABLE_GRID_PER_STEP = 16
TABLE_GRID_MIN = 32
TABLE_GRID_MAX = 1024
TABLE_CELLS = 4_000_000
# For the beam that follows a poor incumbent the tables are rebuilt finer (a search's labels
# fall steeply with the grid: YOLOv3's least-energy plan 19k labels at 1,024 points, 9.5k
# at 2,048; 150x4 seed 0, 468k, 276k and 162k at 4,096; python -m benchmarks.bounds),
# within FINE_TABLE_CELLS (96 MB).
FINE_GRID_PER_STEP = 32
FINE_GRID_MAX = 4096
FINE_TABLE_CELLS = 12_000_000
# Once a solve's searches have kept many labels, tables may take TABLE_CELLS_PER_LABEL
# cells per label kept so far, up to MOST_TABLE_CELLS (384 MB; ``_table_cells``): a cell
# costs a few ns to build, a label about 1 us to keep, and the searches that keep many
# labels are the ones finer tables shrink. InceptionV3's layer graph, limited by its
# optimum on what fixing leaves (21k options, 2 priced dimensions): 2.9M labels in 2.6 s
# on 284 grid points (what FINE_TABLE_CELLS allows), 64k in 0.02 s on 1,024 (``python -m
# benchmarks.bounds``). Its whole
# solve: 5.2 s and 7.4M labels within FINE_TABLE_CELLS, 1.1 s and 0.88M with growing
# tables, 0.85 s within MOST_TABLE_CELLS from the start, which made ResNet50's and GNMT's
# layer graphs (0.1M-0.4M labels) 1.5-1.8x slower (the DAG scenarios' command in README.md)
TABLE_CELLS_PER_LABEL = 64
MOST_TABLE_CELLS = 48_000_000
# Searches on the graph reduced-cost fixing leaves (``_fixed_search``) build their own
# tables: the quick one within TABLE_CELLS when they come at least twice as fine as the
# graph's (else it takes those), the others within ``_table_cells``. Coarser tables for
# the first guesses, sized by the labels they were expected to keep, made GNMT's layer
# graph 6.0 s at afddb40, 0.70 s with fine ones at d4461f2 (the DAG scenarios' command in
# README.md).
# The exact search first runs limited by the incumbent within QUICK_LABELS labels (most
# instances end there); then up to GUESSES searches limited to guesses of the k-th best
# score from below (``_guessed``); then the search limited by the incumbent
# (measured on the at-scale families: 500x8 seed 0 proves in about 1 s, where the
# incumbent's search alone stops unproven at its label budget).
QUICK_LABELS = 20_000
# Constraint generation (``_lazily``): the searches run first within the caps the LP
# prices, the others relaxed, and add back what a proven answer breaks. A device's busy
# time under a frame rate, mostly a few percent below its period and unpriced, kept labels
# apart that no plan needed apart (``python -m benchmarks.bounds lazy``, generated ways:
# 60x4 seed 0 3.5-4.1 s and 2.8M labels within every cap at once, 0.5 s and 0.47M this way).
# False: every cap from the start (tests compare both).
LAZY_CAPS = True
# After a quick search limited by one incumbent stopped at QUICK_LABELS, another runs only
# for an incumbent that leaves less than this share of the gap above the dual bound: labels
# grow about exponentially with the limit's distance above the bound (measured on YOLOv3's
# least-energy plan: 19k labels at the optimum, 1.47% above the bound, 21k at 1.51%, 30k
# at 1.65%), so a slightly better incumbent stops there again.
QUICK_RETRY_SHARE = 0.5
# Before the incumbent beam, a beam this narrow and a quick exact search limited by its
# plans: most solves end there (measured on YOLOv3's balanced plan: the width-8 beam meets
# the optimum in 4 ms where width 32 takes 19 ms, and the whole solve takes 16 ms, was 33);
# typed int64 like EXACT_WIDTH (a literal 8 compiled the searches a second time: the first
# run took 80-92 s, 73 s without)
PROBE_WIDTH = np.int64(8)
# A search's labels grow about exponentially with its limit's distance above the bound, so
# the guesses deepen iteratively: the first lies GUESS_STEP of the way from the proven
# bound to the incumbent, and each next one where the growth rate of the last two searches
# predicts GUESS_GROWTH times the last one's labels (at most GUESS_STRIDE times as far
# above it as it lay above the one before). All the searches then cost a bounded multiple
# of the last one, which ends at most one such step above the optimum, however poor the
# incumbent (``python -m benchmarks --families inceptionv3_soc,150x4 --peers highs --top-k
# 1 --eip-time-limit-s 60 --label-budget 20000000``: InceptionV3's layer graph, whose beam
# meets a plan 17% above the optimum, proven in 19 s at 09969d2, and 150x4 seed 0 in
# 0.32 s; at 906160b, with each guess an eighth of the gap left, 29 s and 0.47 s; with
# GUESS_GROWTH 4, InceptionV3 in 46 s; with reduced-cost fixing, 8.7 s at abe9290).
# GUESSES only stops a guess sequence that no budget ends: each guess is bounded by the
# label budget and the clock (at 16, ways 100x4 seed 1's 16th guess, 0.02% below its
# optimum, was its last, and the search limited by an incumbent 1.8% above it ran to the
# time limit: a copy of these kernels printing each guess showed it)
GUESSES = 64
GUESS_STEP = 0.125
GUESS_GROWTH = 2.0
GUESS_STRIDE = 4.0
# A later round's first guess steps at most this share of the span over which the labels
# of an earlier round's guesses grew GUESS_GROWTH-fold (``Stat.GUESS_SPAN``): its floor is
# the bound the last round proved, and the optimum often lies just above it (ways DAG
# 100x4 seed 0's second round met it 0.0005 above, the whole span's guess 0.0048 above, in
# a copy of these kernels printing each guess at 6b577b2: a quarter keeps 813k labels, not
# 1.01M; ways DAG 60x4 seed 0 220.3k, not 220.5k; every other instance of the generated
# and real benchmarks keeps its labels)
GUESS_SPAN_SHARE = 0.25
# The guesses stop, for the search limited by the incumbent, once that search is predicted
# to keep at most GUESS_JUMP times the labels of the last guess's (at the growth rate of
# the last two, within GUESS_STRIDE): three more guesses would cost about as much and end
# one step above the optimum at best. A beam or dive that met a plan near the optimum then
# saves the guesses below it (generated ways 60x4 seed 0, whose dive meets a plan 0.08%
# above the optimum and whose last guesses kept 53k, 113k and 170k labels: its mode
# graph's solve kept 365k labels with the early stop alone, 474k without). At 8 rather
# than 4 (GUESS_GROWTH squared), measured by ``python -m benchmarks --peers seed`` on
# copies of both kernels at 23e3eed: ways 100x4 seed 0 1.67M -> 1.35M labels, 300x6
# seeds 0-2 3.81M / 4.98M / 2.77M -> 2.92M / 3.95M / 2.08M, 150x4 seed 0 407k -> 318k,
# 500x8 seed 1 997k -> 819k; the other ways chains, the real scenarios and the generated
# DAGs kept the same labels; top-3: 300x6 seeds 0 and 1 10.3M / 9.7M -> 7.9M / 7.6M, 150x4
# seed 0 778k -> 602k, but seed 1 409k -> 532k
GUESS_JUMP = GUESS_GROWTH * GUESS_GROWTH * GUESS_GROWTH
# A guess whose search stops at its label cap halves the step to it, at most GUESS_HALVINGS
# times in a row: where searches limited by guesses just above the bound keep as many
# labels as any, the halvings never end (300x6 seed 1: 21 of them, 0.22 s, down to 1e-8
# above the bound, each stopping at 20k labels), and the search limited by the incumbent
# goes next
GUESS_HALVINGS = 4
# Guesses that halved out say the labels explode just above the bound, where the tree
# may close the gap far sooner, or far later: the search limited by the incumbent that
# follows them gets this share of its budget (TREE_SWITCH times the quick searches'
# labels) before the tree goes. Measured with a copy of these kernels printing each
# search: ways DAG 100x4 seed 1's search stopped at 2M labels after 5.1 s where the tree
# then proved the optimum in 0.16 s (with the share, 0.84 s in all); ways 60x4 seed 0's
# proves it with 206k labels in 0.3 s, where the tree first took 3.3 s; ways 200x4 seed 1
# 26.8 s -> 12.4 s.
HALVED_BUDGET_SHARE = 0.125
# Before the guesses, on chains (where LP dives run) and for top-1, the best plan met is
# polished by a large neighbourhood search (``_polished``): windows of POLISH_WIDTH steps,
# half overlapping, each searched exactly within POLISH_LABELS labels with the rest of the
# plan fixed, repeated while a pass gains POLISH_GAIN (relative), then on windows twice
# as wide, up to POLISH_MAX_WIDTH; a first pass that gains less ends it (a few ms). A plan
# near the optimum lets the guesses stop early (GUESS_JUMP). Measured on generated ways
# 100x4 seed 0 (one mode graph, scratch timing): its dive's plan 0.25% above the optimum
# came within 0.12% in 10 ms, and its solve kept 1.67M labels in 1.9 s instead of 2.43M
# in 2.7 s; where the first pass gains little (ways 60x4 seeds 0 and 2, whose dive meets
# plans within 0.08% of the optimum), more passes cost 10-15% of the solve for nothing.
POLISH_WIDTH = 16
POLISH_MAX_WIDTH = 32
POLISH_LABELS = 10_000
POLISH_GAIN = 1e-3
# A guess's search that keeps GUESS_OVERSHOOT times the labels predicted for it (at least
# the quick searches' cap) lies too far above the optimum: it stops, and the next guess
# lies halfway back (without it, one eip.plan run on InceptionV3 with fine tables for
# every guess stopped unproven at 60 s with 17M labels; with it, 8.7 s, 7.4M labels, in
# the DAG scenarios' command)
GUESS_OVERSHOOT = 8.0
# An incumbent more than POOR_INCUMBENT_GAP (relative) above the proven bound is poor: a
# beam on the refined tables runs first (measured on 300x6 seed 1, 4.6% above: the beam on
# the first tables met a plan 2.7% above the optimum, on the refined ones 0.3%, in 0.16 s).
POOR_INCUMBENT_GAP = 0.02
# An incumbent still this far above the proven bound after that beam gets an LP dive
# (``dive.lp_dive``) for the top plan: ways 100x4 seed 0 then answers at a 1.2% gap, 0.25%
# above HiGHS's optimum (``python -m benchmarks --families ways100x4 --seeds 1 --peers
# highs --top-k 1 --eip-time-limit-s 10``; 4.49, a 6.8% gap, without). Below it, near the
# 1.5-3.7% integrality gaps of the at-scale chains, the beams' plans are the better ones
# (``python -m benchmarks.bounds``: 300x6 seed 0, beam 6.3824, dive 6.3860). The caller
# passes it for chains only: on a DAG's frontier-state graph the LP is weak, and a dive
# takes 0.7-0.8 s to meet a plan worse than a beam's (ResNet50's layer graph: 12.59 against
# 11.41, the LP bound 9.19).
DIVE_INCUMBENT_GAP = 0.05
# When no beam has met a plan yet, the beam that keeps room in the caps is at least this
# wide (a frontier-state DAG's beam is narrow: eip.solve.state_beam_width; measured on a
# generated 150-stage DAG, only a beam this wide meets the plan that lets the search end).
# It runs with a cutoff too (another mode graph's plan, or a repair's): generated ways DAG
# 100x4 seed 2's second GPU mode with cutoff 5.19588 met no plan in 28 s without it, where
# the guesses from the bound stop at the label budget below the plan this beam meets,
# 5.04538 (``tests/test_ways.py``); only the certificate and the dive, which look for any
# plan, wait for no cutoff (``_exact`` dives limited by it)
NO_INCUMBENT_BEAM = 32
# Under a time limit, where column generation meets no plan on a chain whose first rounds
# relax some caps (``_lazily``), an LP dive runs first, for this many rounds per step past
# the last plan it met (generated ways 200x4 seed 1 under a 10 s limit: no plan without it,
# the relaxed round of the GPU mode searched first meeting none that fits; 6.2553 with a
# dive that stops at its first plan, 5.6667 with this or DIVE_STALL_PER_STEP; the warm
# solves of ways 100x4 seed 1 under a 30 s limit take 0.53 s without it, 0.59 s, 0.65 s and
# 0.80 s)
LIMITED_DIVE_STALL_PER_STEP = 0.1
# Where LP dives are off (a DAG's frontier-state graph), a solve whose first beam met no
# plan first searches guesses from the bound up to NO_PLAN_GUESS_GAP (relative) above it
# (under a cutoff, after the first tree where there is room for one: TREE_UNDER_CUTOFF),
# until one stops at its label cap; the infeasibility certificate, the wide beam and the
# dive come after, if still needed (the certificate's 200 shortest-path passes took about
# 0.45 s on the graph below, 2.7 s on ways DAG 100x4 seed 1's 100k options, in the scratch
# trace below: the time from the first beam to the first guess, less the fixing's).
# Each guess's search runs on what reduced-cost fixing leaves at the guess, a few hundred
# options near the bound (generated ways DAG 60x4 seed 1: 44k options; the beam 32 wide
# kept 0.4M labels in 2.5 s and met no plan, the dive then met one 6% above the optimum in
# 2.6 s, and the guesses from the bound proved the optimum in 0.2 s more; a scratch copy of
# these kernels printing each search showed it)
NO_PLAN_GUESS_GAP = 0.05
# NO_PLAN_DIVES: where LP dives are off, none runs where no search met a plan either: on a
# DAG's frontier-state graph each round's column generation takes 0.5-1 s, and on generated
# ways DAG 100x4 seed 1 the dives met no plan in 104 and 72 s on its two GPU modes' graphs
# (`lp_dive` called by a scratch script); without them the solve answered there in 85-94 s at
# 808e45d, was 330 s, with the plan of the repair from the priced paths
# (``eip.localsearch``), which is the fallback of such graphs (the same plans on ways DAG
# 60x4 and 100x4 seeds 0-2)
# auto mode, when the exact search stops: beams of 2, 4, 8 times the width, each only while
# the widening has taken no longer than the solve before it (a wide beam's dominance checks
# grow fast: width 512 takes 2 minutes on 500x8)
AUTO_BEAM_DOUBLINGS = 3
# Graphs of at most PULSE_STEPS steps and PULSE_ARCS arcs are first searched depth first
# (``pulse.pulse_search``): on the unconstrained completion bounds within PULSE_FREE_NODES
# prefixes, then on the Lagrangian bounds within PULSE_NODES, before any label search
# (whose fixed cost per bucket a short graph's few candidates do not repay). Without
# dominance the prefixes grow exponentially with the steps and the gap between bound and
# optimum, so the steps decide where it pays, and the budgets bound what a graph it does
# not suit wastes (both stop unproven on dag 30x4 seed 1: 2.65 ms, 2.57 without them).
# Measured (``python -m benchmarks --families 12x3,20x6,30x4,40x4,dag20x4,dag30x4 --seeds 3
# --peers highs --top-k 1 --repeats 20``, medians, at f09332f without it): 12x3 32 us
# (110), 20x6 52 us (301), 30x4 0.28 ms (0.60), dag 20x4 0.10 ms (0.54), dag 30x4 2.65 ms
# (2.57), every instance as fast or faster but that one; 40x4 (arcs of 39 steps) as before.
PULSE_STEPS = 32
PULSE_ARCS = 4096
PULSE_FREE_NODES = 1024
PULSE_NODES = 8192
# Top-1 exact searches that the quick search leaves go to an LP branch and bound (``tree``,
# ``_tree``) on what reduced-cost fixing at the incumbent leaves (again at TREE_REFIX_SHARE
# of the gap lower), twice where the label budget leaves room beyond TREE_SWITCH times the
# quick searches' labels (2M): first one before the guesses, which its stall check (below)
# ends early; then the long one (both TREE_WORK, ``solve_topk``'s ``tree_work``) where the
# searches limited by the incumbent (the guesses and the last one) stop at that many labels,
# or where the guesses' growth predicts that the search limited by an incumbent within
# POOR_INCUMBENT_GAP of the bound (on a chain, by the edge of that band above the bound for
# a poorer one) would keep more than the whole label budget (``_beyond``); where the long
# tree on a chain runs out of work with a better plan than it started from (polished), it
# runs again from that plan; where it stops then, the search within the whole label budget
# runs, and where that stops too after a tree that stopped at its stall check, the tree
# again to the end of its work (that search hands over early where it will not end within
# the label budget: ``labels.outgrows``). A node within TREE_SEARCH_GAP (relative) of the
# best plan met is first searched exactly on its own LP multipliers within TREE_NODE_SHARE
# of the quick searches' labels, while those searches end often enough (``_search_reach``:
# ways DAG 100x4 seed 2's long tree searched 547 of its 626 nodes, 491 in vain, 3.1 of its
# 5.8 s in a printing copy; its warm eip.plan 7.6-8.8 -> 6.5-6.6 s, ways 200x4 seeds 0-2
# -6%, -17% and +9%); a node the search leaves branches by strong branching over
# TREE_CANDIDATES (step, key) pairs (``tree.branch_candidates``: each splits the node); a
# tree stops once its node LPs have visited its work in options and arcs (``_lp_work``;
# TREE_WORK is about 3 s), or at TREE_CHECK_SHARE of that when its open nodes' least bound
# has closed less than TREE_CHECK_CLOSED of the gap from its root's bound to the best plan
# (a stall: at that point 300x6 seeds 0 and 1 had closed 55% and 53% and the tree then ran
# out of work; ways 200x4 seeds 0 and 1 78% and 84%, ways DAG 100x4 seed 0 85%, and those
# trees ended proven; scratch copies of these kernels printing the tree's progress). The
# label searches win where one or two caps bind (per-dimension tables bound those exactly:
# at-scale 300x6 seed 0, its search limited by the optimum keeps 1.6M labels in 1 s, where
# the tree ran out of work with 288 nodes open and 74% of its gap closed), the tree where
# many do (generated ways 200x4 seed 0: 1.76% from proven at 4M labels, proven by the tree
# in 1.7 s), and early in a tree the two kinds close their gaps alike (after 2.3M of work:
# 300x6 seed 1 48%, 500x8 seed 1 59%, ways 200x4 seed 0 61%). The first tree proves most
# outright and costs the others its stall check. With a tenth of the work it stalled at 7-9
# nodes on nearly every instance, before its nodes' fixing (``fixing.node_fixed``) had
# closed much of the gap; with the whole work, ways DAG 100x4 seeds 1 and 2 proved in 20
# and 113 nodes, ways 200x4 seeds 0 and 2 in 207 and 145, 300x6 seed 0 in 608 (a printing
# copy of the kernels), and the warm top-1 plans took 0.42-0.49 s rather than 0.84-0.87
# s, 0.13-0.15 rather than 0.23-0.25, 0.40-0.42 rather than 0.53-0.57; ways 200x4 0.63,
# 0.50-0.52 and 0.30-0.31 s rather than 0.91-1.03, 1.27-1.34 and 0.75-0.76; 300x6 seed 0
# 0.63-0.65 rather than 0.87-0.93; but 300x6 seed 1, whose tree stalls at 55%, 1.15-1.16 s
# rather than 0.80 and ResNet50+BERT-24 0.22 rather than 0.19-0.21 (a script timing the
# best of three warm calls, two runs of each build alternating; top-3 runs no first tree).
# Earlier, the short tree had proved ways 100x4 seeds 0 and 2 (1.67 -> 0.40 s and 0.48 ->
# 0.20 s) and ways DAG 100x4 seed 2 (6.7 -> 1.75 s). The guesses'
# growth sends ways 200x4 seed 0 to the long tree before its guesses reach 2M labels, not
# after 5 s of them (7.6 -> 2.3 s; warm eip.plan calls, a scratch script). A switch at 500k
# labels instead (TREE_SWITCH 25) made ways 200x4 seed 0 3.0 s and 300x6 seed 1 2.2 s (3.1 s
# now), but 300x6 seeds 0 and 2 2.0 and 1.9 s (1.2 and 1.3 s now): their searches keep
# 0.5-2M labels, and the long tree's stall check costs more. Strong branching over 8 pairs
# left 0.006% of ways 200x4 seed 0's gap after 400 nodes, most-fractional branching 0.52%
# after 2,000 (a scratch prototype).
TREE_SWITCH = 100
TREE_REFIX_SHARE = 0.25
TREE_SEARCH_GAP = 0.002
TREE_NODE_SHARE = 0.25
TREE_CANDIDATES = 8
TREE_WORK = 20_000_000
TREE_CHECK_SHARE = 0.25
TREE_CHECK_CLOSED = 0.6
# (TREE_BEFORE_BEAM) From an incumbent more than POOR_INCUMBENT_GAP above the bound, the first
# tree goes before the beam on finer tables and the LP dive: its first nodes' LPs meet far
# better plans (ways 200x4 seed 1: the beam, the dive and the polish took 0.55 s from the
# dive's 5.6069 to 5.6044, the tree's first 4 nodes 0.03 s to 5.4524, the optimum 5.4502; a
# copy of these kernels printing each search). Generated benchmark instances: ways 200x4
# seed 1 1.34M -> 1.16M labels, 300x6 seed 1 2.14M -> 1.87M, ways 60x4 seeds 1 and 2 58k ->
# 42k and 39k -> 29k, 150x4 seed 1 59k -> 40k; ways 60x4 seed 0 343k -> 347k and 100x4 seed
# 1 107.6k -> 108.3k labels (eip-only benchmark runs before and after). Where the plan
# column generation (or the dive after it) met is that poor, the first beam waits too
# (``_constrained``): ways 200x4 seeds 0 and 1 304k -> 243k and 856k -> 723k labels, ways
# 100x4 seeds 1 and 2 108k -> 77k and 63k -> 38k, DAG 100x4 seed 0 10.2k -> 3.1k, ways DAG
# 100x4 seed 2 417k -> 400k; no benchmark instance keeps more.
# (TREE_UNDER_CUTOFF) Where no search met a plan and no LP dives run (a DAG's graph) but a
# cutoff is known (another graph's plan, or the repair's), the first tree, limited by the
# cutoff, goes before the guesses from the bound (NO_PLAN_GUESS_GAP), which ``_exact`` then
# runs no first tree after. With nodes that fix by their own LPs it proves what the guesses
# spent their labels on: generated ways DAG 60x4 seed 0 (fresh from the generator at
# 879b404), whose guesses kept 380k and 245k labels in its two rounds, warm top-1 0.706 ->
# 0.117 s; 100x4 seed 0 29.1 -> 13.5 s; the saved ways DAG 60x4 seed 0 0.25-0.26 -> 0.16
# s and 100x4 seed 1 0.14 -> 0.12 s; the rest of the thirteen-instance A/B unchanged.
# (RELAXED_ROUND_ENDS) A round of constraint generation that relaxes caps (``_lazily``) ends
# where its tree stops without the stall check, without the search within the whole label
# budget after it: the last round, within every cap, follows and searches again from the
# plans it met (generated ways DAG 100x4 seed 0, fresh at 879b404: its second round's search
# kept 4M labels in 7.6 s and stopped, and the last round proved the optimum in 1.8 s from
# the plan that round's tree met, 5.7864; warm top-1 13.3 -> 5.7 s; the rest of the
# thirteen-instance A/B and the fresh ways DAGs 60x4 seeds 0 and 1 and 100x4 seeds 1 and 2
# unchanged, top-3 too).
# (TREE_AGAIN) Once the tree proved a round of constraint generation (``_lazily``), a later
# round goes from its first tree straight to the long one (ways 200x4 seed 1's second
# round: 0.33 s of guesses and a 0.6 s search stopped at 250k labels before a tree of 0.35
# s; 1.16M -> 856k labels, 3.2 -> 2.7 s; the only benchmark instance it changes).
# A tree whose work runs out while its open nodes' least bound has closed at least
# TREE_EXTEND_CLOSED of the gap from its root's bound to the best plan goes on, with its work
# again, up to TREE_EXTENSIONS times: its open nodes lie near the best plan, where the search
# within the label budget after it would keep as many labels as below (ways DAG 100x4 seed
# 2's tree ran out of work 99.3% closed, 0.006% from proven, and the 4M-label search after
# it stopped unproven after 13.9 s; going on, the tree proved the optimum 6.4M of work later,
# 4.6 s in all; ways 200x4 seed 0's long tree 99.4%, proven 1.6M of work later, where it ran
# again from a polished plan before; scratch copies of these kernels printing each tree)
TREE_EXTENSIONS = 3
TREE_EXTEND_CLOSED = 0.9
#: A top-k search from a k-th plan not ``_tree_ready`` first runs trees limited to plans
#: within a band above the best they meet, this wide (relative), then TREE_BAND_GROWTH
#: times wider each time one ends short of k plans (``_best_first``): the best plans of a
#: large graph often nearly tie (generated ways 200x4 seed 0's three best lie within 0.004%).
TREE_BAND = 1e-3
TREE_BAND_GROWTH = 4.0
# Labels the searches of one solve keep in memory they reuse (``labels.label_memory``;
# reserved, touched only as used: 1.4 GB of address space at 40 dimensions), at most
# LABEL_MEMORY_PER_OPTION per option of the graph (a reservation that large costs a small
# solve its mapping: 20 us of 12x3's 150 us); larger searches grow arrays of their own
LABEL_MEMORY = 4_000_000
LABEL_MEMORY_PER_OPTION = 4096


class _Context(NamedTuple):
    """What the searches of one solve share: the graph and its score weights ``coef`` (Q,)
    and ``caps`` (Q,); the completion tests ``least`` and ``thr`` (T, Q) of
    ``bounds.cap_tests``; the Lagrangian bounds ``prices`` (M, Q), ``values`` (M, T) and
    ``lam_sums`` (M,); the bound tables ``table`` (A, T, G + 1) of dimensions ``dims`` in
    ``units`` (``bounds.resource_tables``); k, the label budget, the long tree's work
    (``solve_topk``'s ``tree_work``) and the deadline; and the
    ``scratch`` memory (1-D) that each search's own tables are built in (``_refined``,
    ``_fixed_context``): they live for one search, the graph's own for the whole solve;
    and the ``memory`` the searches keep their labels in, one after another
    (``labels.label_memory``)."""
    g: LayeredGraph
    coef: np.ndarray
    caps: np.ndarray
    least: np.ndarray
    thr: np.ndarray
    prices: np.ndarray
    values: np.ndarray
    lam_sums: np.ndarray
    table: np.ndarray
    dims: np.ndarray
    units: np.ndarray
    k: int
    label_budget: int
    tree_work: int
    deadline: float
    scratch: np.ndarray
    memory: tuple


@njit(cache=True)
def _with_bounds(ctx, g, least, thr, values, table, dims, units):
    """``ctx`` on graph ``g`` with these completion tests, Lagrangian values and tables."""
    return _Context(g, ctx.coef, ctx.caps, least, thr, ctx.prices, values, ctx.lam_sums, table, dims, units, ctx.k,
                    ctx.label_budget, ctx.tree_work, ctx.deadline, ctx.scratch, ctx.memory)


def scratch_cells(t_count: int, q: int) -> int:
    """Cells of scratch memory that hold the bound tables of any search on a graph of
    ``t_count`` options and Q dimensions (``_table_grid``): MOST_TABLE_CELLS, or fewer when
    FINE_GRID_MAX points for every option and dimension take fewer, or the least grid's
    cells when more; and one grid point more per option and table (a small graph's solves
    reserve what they can use, not the largest block)."""
    cells = q * t_count
    return max(min(MOST_TABLE_CELLS, cells * FINE_GRID_MAX), cells * TABLE_GRID_MIN) + cells


@njit(cache=True)
def _table_grid(n, t_count, caps, price, per_step, grid_max, cells):
    """Grid size of the per-dimension bound tables (0: none) of the dimensions ``price``
    prices: ``per_step`` points per step of the graph, at most ``grid_max`` and ``cells``
    cells in all."""
    if n < TABLE_MIN_STEPS:
        return 0
    n_tables = table_dimensions(caps, price).shape[0]
    grid = min(per_step * n, grid_max, cells // max(1, t_count * n_tables))
    return max(grid, TABLE_GRID_MIN)


@njit(cache=True)
def solve_topk(step_start, opt_use, opt_key, arc_start, arc_tail, arc_head, arc_use, coef, caps, k, mode,
               beam_width, label_budget, root_prices, root_values, root_lam_sums, root_bound, root_row, root_path,
               deadline, pulse_steps, pulse_arcs, free_nodes, pulse_nodes, quick_labels, tree_work, dive_gap, cutoff,
               lazy_caps, scratch):
    """The k best paths of the graph within ``caps``, with a proof of optimality or a proven bound.

    The graph comes as its ``LayeredGraph`` fields, in order (a NamedTuple argument costs
    ~25 us to dispatch; arrays are typed on the fast path). ``mode`` is a ``Mode`` code;
    ``deadline`` a ``clock`` time (inf: none); graphs of at most ``pulse_steps`` steps and
    ``pulse_arcs`` arcs are first searched depth first, on unconstrained bounds within
    ``free_nodes`` prefixes, then on Lagrangian bounds within ``pulse_nodes``
    (``PULSE_STEPS``, ``PULSE_ARCS``, ``PULSE_FREE_NODES``, ``PULSE_NODES``); the first exact
    searches stop at ``quick_labels`` labels (``QUICK_LABELS``); the long tree's node LPs
    visit ``tree_work`` options and arcs each (``TREE_WORK``); a top plan more than
    ``dive_gap`` (relative) above the proven bound gets an LP dive (``DIVE_INCUMBENT_GAP``;
    inf: none); only plans scoring at most ``cutoff`` are wanted (inf: every plan; see
    ``contract.solve``); ``lazy_caps`` runs the searches by constraint generation first
    (``LAZY_CAPS``); the searches build their bound tables in ``scratch`` (1-D; of
    ``scratch_cells``, or new memory when it is smaller); ``root_*`` are the fields of a
    ``contract.RootLp`` of this graph, caps and weights, the searches' bounds instead of
    column generation's (``root_prices`` with no rows: none). Returns ``(status, strategy,
    paths (k, N), rows (k, 1 + Q), found, stats (STAT_SLOTS,))``: ``Status`` and
    ``Strategy`` codes as ints (an IntEnum returned to Python is built from its pickled
    class, 1-2 us a solve), ``Stat`` slots.
    """
    root = (root_prices, root_values, root_lam_sums, root_bound, root_row, root_path)
    status, strategy, paths, rows, found, stats = _solved(step_start, opt_use, opt_key, arc_start, arc_tail, arc_head,
                                                          arc_use, coef, caps, k, mode, beam_width, label_budget, root,
                                                          deadline, pulse_steps, pulse_arcs, free_nodes, pulse_nodes,
                                                          quick_labels, tree_work, dive_gap, cutoff, lazy_caps, scratch)
    return status.value, strategy.value, paths, rows, found, stats


@njit(cache=True)
def _solved(step_start, opt_use, opt_key, arc_start, arc_tail, arc_head, arc_use, coef, caps, k, mode, beam_width,
            label_budget, root, deadline, pulse_steps, pulse_arcs, free_nodes, pulse_nodes, quick_labels, tree_work,
            dive_gap, cutoff, lazy_caps, scratch):
    """``solve_topk``'s answer, its codes as ``Status`` and ``Strategy``."""
    started = clock()
    g = LayeredGraph(step_start, opt_use, opt_key, arc_start, arc_tail, arc_head, arc_use)
    n = g.step_start.shape[0] - 1
    t_count, q = g.opt_use.shape
    stats = np.zeros(STAT_SLOTS)
    status, strategy, paths, rows, found, free_value = _without_bounds(g, coef, caps, k, stats)
    if status != Status.UNKNOWN:
        return status, strategy, paths, rows, found, stats
    least, most = completion_usage(g)
    least, thr = cap_tests(caps, least, most, n)
    small = mode != Mode.BEAM and n <= pulse_steps and g.arc_tail.shape[0] <= pulse_arcs
    if small:
        # depth first on the unconstrained completion bounds alone: cheaper than computing stronger ones
        values = np.empty((1, t_count))  # (not a reshape: its error path costs seconds of compile)
        values[0] = free_value
        done, status, paths, rows, found = _pulse(g, coef, caps, least, np.zeros((1, q)), values, np.zeros(1), k,
                                                  cutoff, min(free_nodes, label_budget), deadline, -np.inf, stats)
        if done:
            return status, Strategy.LABELS, paths, rows, found, stats
    ctx, dual, r_row, r_path = _bounded(g, coef, caps, least, thr, k, label_budget, tree_work, root, deadline,
                                        scratch)
    relaxed_incumbent = r_row[Row.SCORE]
    if dual == np.inf or dual > score_limit(cutoff):  # no plan fits (and scores at most the cutoff)
        stats[Stat.BOUND] = np.inf
        return Status.INFEASIBLE, Strategy.VITERBI, paths, rows, 0, stats
    if small:
        limit = min(cutoff, relaxed_incumbent) if k == 1 else cutoff
        done, status, paths, rows, found = _pulse(g, coef, caps, least, ctx.prices, ctx.values, ctx.lam_sums, k,
                                                  limit, min(pulse_nodes, label_budget), deadline, dual, stats)
        # none below column generation's plan, which scores the limit, would be rounding: search on
        if done and not (status == Status.INFEASIBLE and limit < cutoff):
            return status, Strategy.LABELS, paths, rows, found, stats
    return _lazily(ctx, mode, lazy_caps, dual, r_row, r_path, beam_width, quick_labels, dive_gap, cutoff, started,
                   stats)


@njit(cache=True)
def _constrained(ctx, mode, dual, r_row, r_path, beam_width, quick_labels, dive_gap, cutoff, relaxed, started,
                 stats):
    """The searches on ``ctx``'s bounds within its caps (``solve_topk``'s answer): a probe
    and a quick exact search (without a probe, under a ``cutoff``, the quick search limited
    by it), beams for an incumbent (or a proof that no plan fits; where
    LP dives are off, ``dive_gap`` inf, guesses from the bound go first: NO_PLAN_GUESS_GAP,
    after the first tree under a cutoff: TREE_UNDER_CUTOFF, and no dive follows:
    NO_PLAN_DIVES),
    the exact search (``_exact``) and, in auto mode, wider beams when it stops. ``dual`` is a
    proven lower bound, ``r_row`` / ``r_path`` the plan column generation met (score inf:
    none), ``relaxed`` whether it is a round of constraint generation that relaxes caps
    (``_lazily``: the last, within every cap, follows where it stops), ``started`` the
    solve's ``clock`` time."""
    g, coef, caps, k = ctx.g, ctx.coef, ctx.caps, ctx.k
    label_budget, deadline = ctx.label_budget, ctx.deadline
    relaxed_incumbent = r_row[Row.SCORE]
    paths, rows = np.zeros((k, g.step_start.shape[0] - 1), dtype=np.int64), np.zeros((k, Row.USE + caps.shape[0]))
    tried = np.inf  # the incumbent a quick exact search has already stopped on
    p_paths, p_rows, p_found = paths, rows, 0
    c_paths, c_rows, c_found = paths.copy(), rows.copy(), 0  # a plan the certificate met (it scores poorly)
    certificate_tried = False
    if mode != Mode.BEAM and beam_width > PROBE_WIDTH:
        searched, stop, e_paths, e_rows, e_found, bound, tried, p_paths, p_rows, p_found = _probe(
            ctx, r_row, r_path, quick_labels, cutoff, stats)
        if searched and stop == Stop.COMPLETE:
            return _proven(e_paths, e_rows, e_found, stats)
        if stop == Stop.TIME_LIMIT:
            return _heuristic(p_paths, p_rows, p_found, k, max(dual, min(bound, tried)), stats, Strategy.LABELS)
        if p_found == 0 and cutoff == np.inf and dive_gap < np.inf:
            # no plan met yet: try to prove there is none before any longer search (where
            # LP dives are off, after the guesses from the bound below)
            certificate_tried = True
            c_found = _certified(g, coef, caps, deadline, stats, c_paths, c_rows)
            if c_found < 0:
                return Status.INFEASIBLE, Strategy.LABELS, paths, rows, 0, stats
    elif mode != Mode.BEAM and cutoff < np.inf:
        # no probe (a DAG's beam is narrow): the search limited by another graph's plan may
        # prove at once that none here beats it, where the beams take long (ways DAG 100x4
        # seed 2's second GPU mode: 0.9 s of the beam within the caps and 15 s of the one
        # that keeps room in them, then that search on the 188 options fixing leaves)
        stop, e_paths, e_rows, e_found, bound = _quick(ctx, cutoff, quick_labels, stats)
        if stop == Stop.COMPLETE:
            return _proven(e_paths, e_rows, e_found, stats)
        dual, tried = max(dual, min(bound, cutoff)), cutoff
        if stop == Stop.TIME_LIMIT:
            return _heuristic(paths, rows, 0, k, dual, stats, Strategy.LABELS)
    beam_pending = _probe_suffices(k, p_rows, p_found, dual)
    if beam_pending:
        b_paths, b_rows, b_found = p_paths, p_rows, p_found
    else:
        if mode != Mode.BEAM and _tree_first(ctx, quick_labels, relaxed_incumbent, dual):
            # the first tree goes first, and the beam on finer tables only while the incumbent
            # stays poor after it (TREE_BEFORE_BEAM)
            b_paths, b_rows, b_found = np.zeros_like(paths), np.zeros_like(rows), 0
        else:
            _, b_paths, b_rows, b_found, _ = _search(ctx, beam_width, np.inf, label_budget, deadline, stats, False)
        b_found = _or_relaxed(b_paths, b_rows, b_found, r_row, r_path)
        b_paths, b_rows, b_found = _better_plans(b_paths, b_rows, b_found, p_paths, p_rows, p_found)
    tree_tried = False  # (whether the first tree ran here: ``_exact`` runs none again)
    if b_found == 0 and mode != Mode.BEAM and dive_gap == np.inf and cutoff < np.inf \
            and _first_tree_room(ctx, quick_labels):
        # no plan met yet and no LP dives here, but another graph's plan (or the repair's)
        # as the cutoff: the first tree, limited by it, before the guesses (TREE_UNDER_CUTOFF)
        tree_tried = True
        stop, t_paths, t_rows, t_found, proven, _, b_paths, b_rows, b_found, _ = _treed(
            ctx, cutoff, dual, quick_labels, ctx.tree_work, True, b_paths, b_rows, b_found, stats)
        if stop == Stop.COMPLETE:
            return _proven(t_paths, t_rows, t_found, stats)
        if stop == Stop.TIME_LIMIT:
            return _heuristic(b_paths, b_rows, b_found, k, max(dual, proven), stats, Strategy.LABELS)
        dual = max(dual, proven)
    if b_found == 0 and mode != Mode.BEAM and dive_gap == np.inf:
        # no plan met yet and no LP dives here: guesses from the bound first, up to a cutoff
        # too (generated ways DAGs under a cutoff, 60x4 seeds 0 and 1 and 100x4 seed 0: 221k,
        # 49k and 1.01M labels, not 259k, 94k and 1.13M; before, a printing copy showed the
        # last one's second round of constraint generation spend 0.45 s in the beam below
        # and then meet its optimum by guesses from the first round's floor); where they
        # stop under a cutoff, the beam that keeps room in the caps still follows
        # (NO_INCUMBENT_BEAM)
        ceiling = min(cutoff, dual + NO_PLAN_GUESS_GAP * abs(dual))
        stop, b_paths, b_rows, b_found, proven, ended = _guessed(ctx, dual, cutoff, ceiling, quick_labels,
                                                                 ctx.label_budget, False, stats, ceiling)
        if ended and stop == Stop.COMPLETE:
            return _proven(b_paths, b_rows, b_found, stats)
        if ended and (cutoff == np.inf or stop == Stop.TIME_LIMIT):
            return _heuristic(b_paths, b_rows, 0, k, max(dual, proven), stats, Strategy.LABELS)
        dual = max(dual, proven)
    if b_found == 0:
        # no plan met yet: try to prove there is none before any longer search (unless a
        # cutoff says another graph has one)
        if not certificate_tried and cutoff == np.inf:
            c_found = _certified(g, coef, caps, deadline, stats, c_paths, c_rows)
            if c_found < 0:
                return Status.INFEASIBLE, Strategy.LABELS, paths, rows, 0, stats
        # then a wider beam that keeps room in the caps too, and a dive through the LP where
        # LP dives are on (NO_PLAN_DIVES); the certificate's plan when they meet none
        _, b_paths, b_rows, b_found, _ = _search(ctx, max(beam_width, NO_INCUMBENT_BEAM), np.inf, label_budget,
                                                 deadline, stats, True)
        if b_found == 0 and dive_gap < np.inf and cutoff == np.inf:
            b_found = _dived(g, coef, caps, np.inf, deadline, DIVE_STALL_PER_STEP, b_paths, b_rows)
        b_paths, b_rows, b_found = _better_plans(b_paths, b_rows, b_found, c_paths, c_rows, c_found)
    if mode == Mode.BEAM:
        return _heuristic(b_paths, b_rows, b_found, k, dual, stats, Strategy.BEAM)

    incumbent = _kth_score(b_rows, b_found)
    if k == 1:
        incumbent = min(incumbent, relaxed_incumbent)
    stop, e_paths, e_rows, e_found, proven, b_paths, b_rows, b_found = _exact(
        ctx, min(incumbent, cutoff), tried, dual, beam_width, beam_pending, tree_tried, quick_labels, dive_gap, relaxed,
        b_paths, b_rows, b_found, stats)
    if stop == Stop.COMPLETE:
        return _proven(e_paths, e_rows, e_found, stats)
    if mode == Mode.EXACT or stop == Stop.TIME_LIMIT:
        return _heuristic(b_paths, b_rows, b_found, k, proven, stats, Strategy.LABELS)

    # auto: beams twice as wide each time, while they take no longer than the solve so far
    now = clock()
    until = min(deadline, now + (now - started))
    width = beam_width
    for _ in range(AUTO_BEAM_DOUBLINGS):
        width *= 2
        stop, w_paths, w_rows, w_found, _ = _search(ctx, width, np.inf, label_budget, until, stats, False)
        if stop != Stop.COMPLETE:
            break
        b_paths, b_rows, b_found = _better_plans(b_paths, b_rows, b_found, w_paths, w_rows, w_found)
    return _heuristic(b_paths, b_rows, b_found, k, proven, stats, Strategy.BEAM)


@njit(cache=True)
def _lazily(ctx, mode, lazy_caps, dual, r_row, r_path, beam_width, quick_labels, dive_gap, cutoff, started, stats):
    """``_constrained``, with ``lazy_caps`` by constraint generation: first within the caps
    the LP prices (the others relaxed to inf), adding back the caps its answer breaks,
    until a proven answer breaks none (then it is the answer: every plan is a plan of the
    relaxation, ranked alike), and last, when a relaxed round stops unproven, within every
    cap. The plans met before the last round that fit every cap (``r_row`` / ``r_path``,
    column generation's or a dive's, and a stopped round's) answer when it ends unproven
    with none better, or when the time runs out before it; the best of them limits it.

    A cap the LP leaves unpriced keeps labels that differ only in its dimension apart, yet
    seldom decides the optimum (LAZY_CAPS). The multipliers price no relaxed dimension,
    so every bound stays valid in each round; each round's proven bound is one of the
    original problem. Beams (``Mode.BEAM``) keep every cap."""
    caps = ctx.caps
    lazy = _lazy_dimensions(caps, ctx.prices[1]) & (lazy_caps and mode != Mode.BEAM)
    # plans that fit every cap met before the last round: column generation's (or the
    # dive's), then those of a relaxed round that stopped unproven
    f_paths, f_rows = np.zeros((ctx.k, ctx.g.step_start.shape[0] - 1), dtype=np.int64), \
        np.zeros((ctx.k, Row.USE + caps.shape[0]))
    f_found = _or_relaxed(f_paths, f_rows, 0, r_row, r_path)
    if f_found == 0 and lazy.any() and ctx.deadline < np.inf and dive_gap < np.inf:
        # column generation met no plan, and the relaxed rounds' plans may all break the
        # caps they relax: a round that stops at the time limit leaves no time for the
        # last. A plan an LP dive meets fits every cap; it limits the rounds like column
        # generation's (LIMITED_DIVE_STALL_PER_STEP)
        f_found = _dived(ctx.g, ctx.coef, caps, cutoff, ctx.deadline, LIMITED_DIVE_STALL_PER_STEP, f_paths, f_rows)
        if f_found > 0:
            r_row, r_path = f_rows[0], f_paths[0]
    while True:
        last = not lazy.any()
        round_ctx, kept = _projected(ctx if last else _with_caps(ctx, np.where(lazy, np.inf, caps)))
        status, strategy, paths, rows, found, stats = _constrained(
            round_ctx, mode if last else Mode.EXACT, dual, _projected_row(r_row, kept), r_path, beam_width,
            quick_labels, dive_gap, cutoff, not last, started, stats)
        if kept.shape[0] < caps.shape[0]:
            rows = _full_rows(ctx.g, ctx.coef, paths, rows.shape[0], found)
        if last:
            if (status == Status.FEASIBLE or status == Status.UNKNOWN) and f_found > 0:
                paths, rows, found = _better_plans(paths, rows, found, f_paths, f_rows, f_found)
                return _heuristic(paths, rows, found, ctx.k, stats[Stat.BOUND], stats, strategy)
            return status, strategy, paths, rows, found, stats
        if status == Status.FEASIBLE or status == Status.UNKNOWN:
            found = _fitting(paths, rows, found, caps)
            f_paths, f_rows, f_found = _better_plans(f_paths, f_rows, f_found, paths, rows, found)
            if stats[Stat.STOP] == Stop.TIME_LIMIT.value:  # no time for another round: the plans that fit
                return _heuristic(f_paths, f_rows, f_found, ctx.k, stats[Stat.BOUND], stats, strategy)
            lazy[:] = False  # the last round, within every cap
            if f_found > 0:
                # limited by the best plan that fits, like column generation's: else the
                # last round's no-plan fallbacks search for one again (ways DAG 100x4 seed
                # 2's second GPU mode with a cutoff: the wide beam, 13.5 s more)
                r_row, r_path = f_rows[0], f_paths[0]
        else:
            broken = _broken(rows, found, caps) & lazy
            if not broken.any():
                return status, strategy, paths, rows, found, stats
            lazy &= ~broken
        dual = max(dual, stats[Stat.BOUND])  # the relaxation's bound is one of the original's
        stats[Stat.STOP] = Stop.COMPLETE.value  # each round reports its own stops


@njit(cache=True)
def _lazy_dimensions(caps, price):
    """(Q,) bool: the capped dimensions the multipliers ``price`` (Q,) leave unpriced."""
    lazy = np.zeros(caps.shape[0], dtype=np.bool_)
    for j in range(caps.shape[0]):
        lazy[j] = capped(caps[j]) and price[j] == 0.0
    return lazy


@njit(cache=True)
def _projected(ctx):
    """``ctx`` on the dimensions its searches tell apart, and their indices ``kept`` (Q',):
    the key dimensions of the ranking rule, those the score weighs, the capped ones and
    those the multipliers price. The others only ride along with every label, yet each
    label carried, extended and bounded them (generated ways 60x4 seed 0's first round
    keeps 4 of 16: latency, energy, switches and accuracy; its first mode graph's solve
    0.27 -> 0.23 s, 100x4 seed 1's 2.5 -> 2.2 s, the same labels). The rows of the plans
    found are computed again on the whole graph (``_full_rows``), bit-equal in the
    dimensions kept (the same sums in the same order), and so is the score (the
    dimensions left out weigh 0)."""
    g, coef, caps, prices = ctx.g, ctx.coef, ctx.caps, ctx.prices
    q = caps.shape[0]
    keep = np.zeros(q, dtype=np.bool_)
    for j in range(q):
        keep[j] = j < KEY_DIMS or coef[j] != 0.0 or caps[j] < np.inf
        for m in range(prices.shape[0]):
            keep[j] = keep[j] or prices[m, j] != 0.0
    kept = np.flatnonzero(keep)
    if kept.shape[0] == q:
        return ctx, kept
    n_arc_dims = 0  # the arcs' dimensions are a prefix of the options'
    while n_arc_dims < kept.shape[0] and kept[n_arc_dims] < g.arc_use.shape[1]:
        n_arc_dims += 1
    sub = LayeredGraph(g.step_start, _columns(g.opt_use, kept), g.opt_key, g.arc_start, g.arc_tail, g.arc_head,
                       _columns(g.arc_use, kept[:n_arc_dims]))
    position = np.full(q, -1, dtype=np.int64)
    position[kept] = np.arange(kept.shape[0])
    return _Context(sub, coef[kept], caps[kept], _columns(ctx.least, kept), _columns(ctx.thr, kept),
                    _columns(prices, kept), ctx.values, ctx.lam_sums, ctx.table, position[ctx.dims], ctx.units,
                    ctx.k, ctx.label_budget, ctx.tree_work, ctx.deadline, ctx.scratch, ctx.memory), kept


@njit(cache=True)
def _columns(a, columns):
    """(M, C) contiguous copy of the ``columns`` (C,) of ``a`` (M, Q)."""
    out = np.empty((a.shape[0], columns.shape[0]))
    for i in range(a.shape[0]):
        for c in range(columns.shape[0]):
            out[i, c] = a[i, columns[c]]
    return out


@njit(cache=True)
def _projected_row(row, kept):
    """The plan row ``row`` (1 + Q,) on the dimensions ``kept`` (Q',) (``_projected``)."""
    out = np.empty(Row.USE + kept.shape[0])
    out[Row.SCORE] = row[Row.SCORE]
    for c in range(kept.shape[0]):
        out[Row.USE + c] = row[Row.USE + kept[c]]
    return out


@njit(cache=True)
def _full_rows(g, coef, paths, k, found):
    """(k, 1 + Q) the plan rows of the first ``found`` of ``paths`` (k, N) on ``g``."""
    rows = np.zeros((k, Row.USE + g.opt_use.shape[1]))
    for r in range(found):
        path_row(g, coef, paths[r], rows[r])
    return rows


@njit(cache=True)
def _with_caps(ctx, caps):
    """``ctx`` within ``caps`` (Q,), each at least ``ctx``'s: a dimension relaxed to inf
    is free for every label."""
    thr = ctx.thr.copy()
    for j in range(caps.shape[0]):
        if caps[j] == np.inf:
            thr[:, j] = np.inf
    return _Context(ctx.g, ctx.coef, caps, ctx.least, thr, ctx.prices, ctx.values, ctx.lam_sums, ctx.table, ctx.dims,
                    ctx.units, ctx.k, ctx.label_budget, ctx.tree_work, ctx.deadline, ctx.scratch, ctx.memory)


@njit(cache=True)
def _broken(rows, found, caps):
    """(Q,) bool: the dimensions whose cap (``caps`` (Q,)) one of the ``found`` plan rows breaks."""
    broken = np.zeros(caps.shape[0], dtype=np.bool_)
    for r in range(found):
        for j in range(caps.shape[0]):
            if rows[r, Row.USE + j] > caps[j]:
                broken[j] = True
    return broken


@njit(cache=True)
def _fitting(paths, rows, found, caps):
    """Keep, in place and in order, the first ``found`` plans (``paths``, ``rows``) that fit
    ``caps``; returns how many."""
    kept = 0
    for r in range(found):
        if within_caps(rows[r], caps):
            paths[kept] = paths[r]
            rows[kept] = rows[r]
            kept += 1
    return kept


@njit(cache=True)
def _bounded(g, coef, caps, least, thr, k, label_budget, tree_work, root, deadline, scratch):
    """The bounds every search uses, as the ``_Context`` ``_search`` takes, with the dual
    bound and the best feasible score column generation met: the Lagrangian multipliers
    (``lagrangian_prices``, or ``root``, its answer given: ``solve_topk``) and the
    per-dimension tables they price."""
    if root[0].shape[0] == 0:
        prices, values, lam_sums, dual, relaxed_row, relaxed_path = lagrangian_prices(g, by_dimension(g), coef, caps,
                                                                                      DUAL_ITERATIONS, deadline)
    else:
        prices, values, lam_sums, dual, relaxed_row, relaxed_path = root
    n = g.step_start.shape[0] - 1
    grid = _table_grid(n, g.opt_use.shape[0], caps, prices[1], TABLE_GRID_PER_STEP, TABLE_GRID_MAX, TABLE_CELLS)
    table, dims, units = resource_tables(g, coef, caps, prices[1], grid, np.empty(0))
    t_count, q = g.opt_use.shape
    memory = label_memory(min(label_budget, LABEL_MEMORY, LABEL_MEMORY_PER_OPTION * t_count), q)
    ctx = _Context(g, coef, caps, least, thr, prices, values, lam_sums, table, dims, units, k, label_budget, tree_work,
                   deadline, scratch, memory)
    return ctx, dual, relaxed_row, relaxed_path


@njit(cache=True)
def _finer(grid, table):
    """Whether tables on ``grid`` points are worth building instead of using ``table``
    (A, T, G + 1): only when they come at least twice as fine."""
    return grid >= 2 * (table.shape[2] - 1)


@njit(cache=True)
def _refined(ctx):
    """``ctx`` with its bound tables rebuilt on the fine grid (FINE_TABLE_CELLS), when that
    is at least twice as fine and the deadline has not passed (the rebuild does not look at
    the clock: ways 100x4's take 0.25 s)."""
    g, caps, price = ctx.g, ctx.caps, ctx.prices[1]
    n = g.step_start.shape[0] - 1
    grid = _table_grid(n, g.opt_use.shape[0], caps, price, FINE_GRID_PER_STEP, FINE_GRID_MAX, FINE_TABLE_CELLS)
    if grid == 0 or not _finer(grid, ctx.table) or (ctx.deadline < np.inf and clock() > ctx.deadline):
        return ctx
    table, dims, units = resource_tables(g, ctx.coef, caps, price, grid, ctx.scratch)
    return _with_bounds(ctx, g, ctx.least, ctx.thr, ctx.values, table, dims, units)


@njit(cache=True)
def _or_relaxed(paths, rows, found, r_row, r_path):
    """When a beam met no plan (``found`` 0), the plan column generation met (row
    ``r_row``, options ``r_path``; none when its score is inf) as its first plan, in place.
    Returns how many plans there are."""
    if found > 0 or r_row[Row.SCORE] == np.inf:
        return found
    paths[0] = r_path
    rows[0] = r_row
    return 1


@njit(cache=True)
def _search(ctx, width, incumbent, labels, until, stats, by_slack, growth_check=False):
    """One label search (a beam of ``width``, half of it kept by slack with ``by_slack``;
    or exact for width 0) limited by ``incumbent``,
    ``labels`` and the clock time ``until`` (and with ``growth_check``, by the labels it
    would keep: ``labels.outgrows``), on the bounds in ``ctx``; adds its work to
    ``stats`` and records a stop that the caller's own budgets caused.
    Returns ``(stop, paths, rows, found, bound)`` (``labels.label_search``)."""
    stop, paths, rows, found, created, kept, bound = label_search(
        ctx.g, ctx.coef, ctx.caps, ctx.least, ctx.thr, ctx.prices, ctx.values, ctx.lam_sums, ctx.table, ctx.dims,
        ctx.units, ctx.k, width, incumbent, labels, until, by_slack, ctx.memory, growth_check)
    stats[Stat.CREATED] += created
    stats[Stat.KEPT] += kept
    if width == EXACT_WIDTH and stop == Stop.COMPLETE:
        stats[Stat.FLOOR_LABELS] = kept
    caller = (stop == Stop.TIME_LIMIT and until == ctx.deadline) or (stop == Stop.LABEL_BUDGET
                                                                     and labels == ctx.label_budget)
    if caller and stop.value > stats[Stat.STOP]:
        stats[Stat.STOP] = stop.value
    return stop, paths, rows, found, bound


@njit(cache=True)
def _probe(ctx, r_row, r_path, quick_labels, cutoff, stats):
    """A beam PROBE_WIDTH wide, then the exact search limited by the score of its k-th plan
    (for top-1, or of column generation's plan ``r_row`` / ``r_path`` when better; or by
    ``cutoff`` when lower) within ``quick_labels`` labels. Returns ``(searched, stop, paths, rows, found, bound, incumbent,
    b_paths, b_rows, b_found)``: whether an exact search ran (not without an incumbent),
    its ``_search`` answer, the incumbent it was limited by, and the beam's plans."""
    k = ctx.k
    stop, b_paths, b_rows, b_found, bound = _search(ctx, PROBE_WIDTH, np.inf, ctx.label_budget, ctx.deadline, stats,
                                                    False)
    b_found = _or_relaxed(b_paths, b_rows, b_found, r_row, r_path)
    incumbent = _kth_score(b_rows, b_found)
    if k == 1:
        incumbent = min(incumbent, r_row[Row.SCORE])
    incumbent = min(incumbent, cutoff)
    if incumbent == np.inf or stop == Stop.TIME_LIMIT:
        return False, stop, b_paths, b_rows, 0, -np.inf, np.inf, b_paths, b_rows, b_found
    stop, paths, rows, found, bound = _quick(ctx, incumbent, quick_labels, stats)
    return True, stop, paths, rows, found, bound, incumbent, b_paths, b_rows, b_found


@njit(cache=True)
def _quick(ctx, incumbent, quick_labels, stats):
    """The exact search limited by ``incumbent`` within ``quick_labels`` labels
    (``_search``'s answer)."""
    return _fixed_search(ctx, incumbent, min(ctx.label_budget, quick_labels), TABLE_CELLS, True, stats, False)


@njit(cache=True)
def _exact(ctx, incumbent, tried, dual, beam_width, beam_pending, tree_tried, quick_labels, dive_gap, relaxed, b_paths,
           b_rows, b_found, stats):
    """The exact search: first limited by ``incumbent`` within ``quick_labels`` labels (unless
    a search limited by ``tried`` already stopped there and ``incumbent`` is not much
    better: QUICK_RETRY_SHARE); then a beam ``beam_width`` wide on finer bound tables
    (``_refined``) while the incumbent is poor (``_poor``) and, for top-1, an LP dive and a
    first tree (``_treed``; before them from a poor incumbent: TREE_BEFORE_BEAM; none where
    ``tree_tried``, run already: TREE_UNDER_CUTOFF), for top-k
    from a k-th plan not ``_tree_ready`` trees within a band above the best plan
    (``_best_first``), guesses of the k-th best score from below (``_guessed``; after a
    round the tree proved, the long tree instead: TREE_AGAIN), and the
    search limited by ``incumbent`` within the label
    budget (the searches on what fixing leaves, with tables of their own:
    ``_fixed_search``), after the beam ``beam_width`` wide when ``beam_pending``
    (``_probe_suffices`` made it wait for a search limited by the incumbent). Returns
    ``(stop, paths, rows, found, proven, b_paths, b_rows, b_found)``: ``Stop.COMPLETE``
    with the proven answer, or the stop and a proven lower bound on the best score; and
    the beams' plans (``b_*``). When no beam met a plan, branching
    (``_branched``) may prove there is none before the last search, or meet one to limit
    it by. ``relaxed``: ``_constrained``'s (``_limited`` reads it)."""
    g, coef, caps = ctx.g, ctx.coef, ctx.caps
    k, label_budget, deadline = ctx.k, ctx.label_budget, ctx.deadline
    proven = dual
    if incumbent < tried and incumbent - dual < QUICK_RETRY_SHARE * (tried - dual):
        stop, paths, rows, found, bound = _quick(ctx, incumbent, quick_labels, stats)
        # a stopped search proves min(bound, its limit): the labels it pruned could not beat the limit
        if stop == Stop.COMPLETE or stop == Stop.TIME_LIMIT:
            return stop, paths, rows, found, max(proven, min(bound, incumbent)), b_paths, b_rows, b_found
    # (searches first within TREE_SWITCH times the quick searches' labels, for top-k only
    # from a k-th plan ``_tree_ready``: where they stop there, the tree goes next:
    # ``_limited``; for top-1, where the label budget leaves room beyond that, a first tree
    # goes first, with a stall check: from a poor incumbent, before the beam and the dive
    # that one calls for, TREE_BEFORE_BEAM)
    budget = min(label_budget, TREE_SWITCH * quick_labels)
    room = _first_tree_room(ctx, quick_labels) and not tree_tried
    tree_first = room and _tree_first(ctx, quick_labels, incumbent, proven)
    if tree_first:
        stop, paths, rows, found, proven, incumbent, b_paths, b_rows, b_found, _ = _treed(
            ctx, incumbent, proven, quick_labels, ctx.tree_work, True, b_paths, b_rows, b_found, stats)
        if stop != Stop.LABEL_BUDGET:
            return stop, paths, rows, found, proven, b_paths, b_rows, b_found
    if _poor(incumbent, proven):
        _, l_paths, l_rows, l_found, _ = _search(_refined(ctx), beam_width, np.inf, label_budget, deadline, stats,
                                                 False)
        b_paths, b_rows, b_found = _better_plans(b_paths, b_rows, b_found, l_paths, l_rows, l_found)
        incumbent = min(incumbent, _kth_score(l_rows, l_found))
    if k == 1 and incumbent - proven > dive_gap * abs(incumbent):
        d_paths, d_rows = np.zeros_like(b_paths), np.zeros_like(b_rows)
        d_found = _dived(g, coef, caps, incumbent, deadline, DIVE_STALL_PER_STEP, d_paths, d_rows)
        b_paths, b_rows, b_found = _better_plans(b_paths, b_rows, b_found, d_paths, d_rows, d_found)
        if d_found > 0:
            incumbent = min(incumbent, d_rows[0, Row.SCORE])
    if k == 1 and dive_gap < np.inf and b_found > 0 and _polished(ctx, b_paths[0], b_rows[0], stats):
        incumbent = min(incumbent, b_rows[0, Row.SCORE])
    if room and not tree_first and incumbent < np.inf:
        stop, paths, rows, found, proven, incumbent, b_paths, b_rows, b_found, _ = _treed(
            ctx, incumbent, proven, quick_labels, ctx.tree_work, True, b_paths, b_rows, b_found, stats)
        if stop != Stop.LABEL_BUDGET:
            return stop, paths, rows, found, proven, b_paths, b_rows, b_found
    if _tree_room(ctx, quick_labels) and incumbent < np.inf and stats[Stat.TREE_PROVEN] > 0.0:
        # the tree proved an earlier round of constraint generation: this one bounds its
        # labels by the same multipliers and its optimum lies no lower, so the guesses'
        # searches would stop as that round's did; the long tree goes next (TREE_AGAIN)
        return _limited(ctx, incumbent, proven, quick_labels, budget, True, dive_gap < np.inf, relaxed, b_paths,
                        b_rows, b_found, stats)
    if k > 1 and b_found > 0 and not _tree_ready(incumbent, proven) and _tree_room(ctx, quick_labels):
        # fixing at the k-th plan would leave a tree too much: trees within a band above the
        # best plan they meet first (``_best_first``)
        stop, paths, rows, found, proven, ended, b_paths, b_rows, b_found = _best_first(
            ctx, proven, quick_labels, b_paths, b_rows, b_found, stats)
        if ended:
            return stop, paths, rows, found, proven, b_paths, b_rows, b_found
        incumbent = min(incumbent, _kth_score(b_rows, b_found))
    # a search that keeps only labels that could beat a guess is far cheaper than one
    # limited by a poor incumbent, and either finds the k best (every plan up to the guess
    # was searched) or proves the guess a bound; short of k plans met, the best one sets
    # the scale of the first guess
    scale = incumbent if incumbent < np.inf or b_found == 0 else b_rows[0, Row.SCORE]
    if k > 1 and not _tree_ready(incumbent, proven):
        budget = label_budget
    stop, paths, rows, found, proven, ended = _guessed(ctx, proven, incumbent, scale, quick_labels, budget,
                                                       dive_gap < np.inf, stats)
    capped = ended and stop == Stop.LABEL_BUDGET and budget < label_budget
    if ended and not capped:
        return stop, paths, rows, found, proven, b_paths, b_rows, b_found
    if beam_pending:
        # the guesses met the probe's plan: a better one to limit the last search by now pays
        # (300x6 seed 0: the beam's 6.3806 against the probe's 6.3820, the optimum 6.3783)
        _, l_paths, l_rows, l_found, _ = _search(ctx, beam_width, np.inf, label_budget, deadline, stats, False)
        b_paths, b_rows, b_found = _better_plans(b_paths, b_rows, b_found, l_paths, l_rows, l_found)
        incumbent = min(incumbent, _kth_score(b_rows, b_found))
    if b_found == 0 and incumbent == np.inf:
        # no beam met a plan: branch for a proof that none exists, or for a plan to limit
        # the search by (an exhaustive search for any plan is the costliest of all)
        outcome = _branched(g, caps, BRANCH_NODES, deadline, b_paths[0])
        if outcome == BRANCH_PROVEN:
            return Stop.COMPLETE, b_paths, b_rows, 0, np.inf, b_paths, b_rows, 0
        if outcome == BRANCH_FITS:
            path_row(g, coef, b_paths[0], b_rows[0])
            b_found = 1
            if k == 1:
                incumbent = b_rows[0, Row.SCORE]
    if not ended and stop == Stop.LABEL_BUDGET and budget < label_budget:
        # the guesses halved out, their searches stopping at their caps just above the
        # bound: the search limited by the incumbent gets a share of its budget before the
        # tree (HALVED_BUDGET_SHARE)
        budget = max(quick_labels, int(HALVED_BUDGET_SHARE * budget))
    return _limited(ctx, incumbent, proven, quick_labels, budget, capped, dive_gap < np.inf, relaxed, b_paths, b_rows,
                    b_found, stats)


@njit(cache=True)
def _limited(ctx, incumbent, proven, quick_labels, budget, capped, polish, relaxed, b_paths, b_rows, b_found,
             stats):
    """The last of ``_exact``: the search limited by ``incumbent`` (its answer, with the
    proven bound raised from ``proven``, and the beams' plans ``b_*``) within ``budget``
    labels, unless a guess already stopped there (``capped``), on a DAG's graph (without
    ``polish``) with the growth check; where a budget below the label budget stops it, the
    tree (``_tree``, with an incumbent k-th score); with
    ``polish`` (on chains, as before the guesses), where that runs out of work, for top-1 its
    best plan polished (``_polished``), and if that is better than the one it started from, the
    tree again from there; where the tree stops, the search within the
    whole label budget (after the tree's stall check, with its growth check); where the
    tree stopped at its stall check and that search stops too, the tree again without the
    check, and where that stops, the search within the whole label budget again (not in a
    ``relaxed`` round: RELAXED_ROUND_ENDS)."""
    label_budget = ctx.label_budget
    if not capped:
        # on a DAG's graph (no ``polish``), a search below the label budget hands the tree
        # its turn as soon as its growth says it will not end within that budget
        # (``labels.outgrows``): generated ways DAG 100x4 seed 2's kept 230k labels in 0.30 s
        # before the tree that proved its optimum (a copy of these kernels printing each
        # search); on a chain it cost ways 60x4 seed 0 377 -> 813 ms
        growth_check = not polish and budget < label_budget
        stop, paths, rows, found, proven = _limit_searched(ctx, incumbent, proven, budget, growth_check, stats)
        if stop != Stop.LABEL_BUDGET or budget == label_budget:
            return stop, paths, rows, found, proven, b_paths, b_rows, b_found
    stalled = False
    if incumbent < np.inf:
        tree_limit = incumbent
        stop, paths, rows, found, proven, incumbent, b_paths, b_rows, b_found, stalled = _treed(
            ctx, incumbent, proven, quick_labels, ctx.tree_work, True, b_paths, b_rows, b_found, stats)
        if stop != Stop.LABEL_BUDGET:
            return stop, paths, rows, found, proven, b_paths, b_rows, b_found
        if polish and ctx.k == 1 and not stalled and b_found > 0 and _polished(ctx, b_paths[0], b_rows[0], stats):
            incumbent = min(incumbent, b_rows[0, Row.SCORE])
        if polish and not stalled and incumbent < tree_limit:  # (the tree's own plan counts too)
            # the tree prunes by its best plan, fixed at the start: a better one can leave
            # it far less to do (ways 200x4 seed 0: the first tree ran out of work 0.03%
            # from proven, its plan polished 0.01% lower, or under a 60 s limit met that
            # plan itself; the tree from there proved the optimum in 8-11 s, where the search
            # within 4M labels stopped after 6-7 s and another round ran). Not on a DAG's
            # graph, where the search within the label budget proves what a second tree
            # takes seconds over (ways DAG 60x4 seed 0: 1.1 s, with the tree again 7.6 s)
            stop, paths, rows, found, proven, incumbent, b_paths, b_rows, b_found, stalled = _treed(
                ctx, incumbent, proven, quick_labels, ctx.tree_work, True, b_paths, b_rows, b_found, stats)
            if stop != Stop.LABEL_BUDGET:
                return stop, paths, rows, found, proven, b_paths, b_rows, b_found
    # (after the tree's stall check, a search that will not end within the label budget
    # hands over to the tree early: ``labels.outgrows``)
    stop, paths, rows, found, proven = _limit_searched(ctx, incumbent, proven, label_budget, stalled, stats)
    if stop == Stop.LABEL_BUDGET and stalled:
        # the tree stopped at its stall check and the labels would do no better: the tree
        # again, to the end of its work (ways 200x4 seed 2: proven in 1.5 s of tree); where
        # that stops too, the search within the whole label budget, which the growth check
        # may have cut short
        stop, paths, rows, found, proven, incumbent, b_paths, b_rows, b_found, _ = _treed(
            ctx, incumbent, proven, quick_labels, ctx.tree_work, False, b_paths, b_rows, b_found, stats)
        if stop == Stop.LABEL_BUDGET and not relaxed:
            stop, paths, rows, found, proven = _limit_searched(ctx, incumbent, proven, label_budget, False, stats)
    return stop, paths, rows, found, proven, b_paths, b_rows, b_found


@njit(cache=True)
def _limit_searched(ctx, incumbent, proven, budget, growth_check, stats):
    """The exact search limited by ``incumbent`` within ``budget`` labels (``_fixed_search``,
    with ``growth_check``, on tables sized by the labels kept so far: ``_table_cells``):
    ``(stop, paths, rows, found, proven)``, the proven bound raised from ``proven`` (a
    stopped search proves the least of its bound and its limit)."""
    stop, paths, rows, found, bound = _fixed_search(ctx, incumbent, budget, _table_cells(stats), False, stats,
                                                    growth_check)
    return stop, paths, rows, found, max(proven, min(bound, incumbent))


@njit(cache=True)
def _tree_room(ctx, quick_labels):
    """Whether the label budget leaves room for the tree: beyond TREE_SWITCH times the quick
    searches' labels."""
    return TREE_SWITCH * quick_labels < ctx.label_budget


@njit(cache=True)
def _first_tree_room(ctx, quick_labels):
    """Whether ``_exact`` runs the first tree (for a top-1 search, ``_tree_room``)."""
    return ctx.k == 1 and _tree_room(ctx, quick_labels)


@njit(cache=True)
def _tree_ready(kth, proven):
    """Whether a top-k search (k > 1) hands its searches over to the tree at TREE_SWITCH
    times the quick searches' labels, as top-1 does: when the k-th plan known, ``kth``,
    lies within POOR_INCUMBENT_GAP of the ``proven`` bound. From farther, fixing at it
    leaves the tree too much of the graph (generated ways DAG 100x4 seed 0's top-3, whose
    solve runs on its whole 95,701-option mode graph: a scratch build that gave it the tree
    stopped at the 30 s limit, its best plan 6% above the bound; the guesses prove it in
    2.1 s): trees limited to a band above the best plan go first (``_best_first``), and the
    guesses then take the whole label budget."""
    return kth < np.inf and not _poor(kth, proven)


@njit(cache=True)
def _best_first(ctx, proven, quick_labels, b_paths, b_rows, b_found, stats):
    """For top-k (k > 1) from a k-th plan known that is not ``_tree_ready``: trees
    (``_tree``, the long tree's work each, with its stall check) for the k best plans scoring
    at most the best plan known (``b_rows[0]``; of ``b_paths`` / ``b_rows``, ``b_found``
    filled) and within a band above the best plan they meet: TREE_BAND, then
    TREE_BAND_GROWTH times wider each time a tree ends short of k plans, until the band
    reaches that plan. Limited so, a tree fixes and prunes about as a top-1 tree does, where
    fixing at a poor k-th leaves it far more (``_tree_ready``); each tree that ends has met
    every plan within its band, so its best is optimal (generated ways 200x4 seed 0's top-3
    stopped at a 30 s limit with a best plan 1.8% above the optimum that top-1 proves in
    1.7 s; so, its first tree proves the three best in 1.5 s). On the graphs of DAGs, whose
    node LPs cost more, they may take longer than the guesses they spare (the top-3 of the
    ResNet50 and BERT layer graph: 0.17 -> 0.34 s; README).

    Returns ``(stop, paths, rows, found, proven, ended, b_paths, b_rows, b_found)``: ended
    with the answer (``Stop.COMPLETE``, or ``Stop.TIME_LIMIT`` with the proven bound); else
    the proven bound raised from ``proven`` and the plans met among ``b_*``."""
    limit, band = b_rows[0, Row.SCORE], TREE_BAND
    while True:
        stop, paths, rows, found, t_proven, _ = _tree(ctx, limit, proven, quick_labels, ctx.tree_work, True, stats,
                                                      band)
        # (the k best only when all k lie within the limit the tree ended with: ``_tree``)
        if stop == Stop.COMPLETE and count_within(rows, found, min(limit, _tree_limit(rows, found, band))) == ctx.k:
            stats[Stat.TREE_PROVEN] = 1.0
            return stop, paths, rows, found, t_proven, True, b_paths, b_rows, b_found
        b_paths, b_rows, b_found = _merged_plans(b_paths, b_rows, b_found, paths, rows, found)
        if stop != Stop.COMPLETE:
            return stop, paths, rows, 0, max(proven, t_proven), stop == Stop.TIME_LIMIT, b_paths, b_rows, b_found
        if found == 0:  # (none at most the best plan known: its score's rounding)
            return stop, paths, rows, 0, proven, False, b_paths, b_rows, b_found
        proven = max(proven, rows[0, Row.SCORE])
        if _tree_limit(rows, found, band) >= limit:  # every plan up to the limit met: the k-th lies above it
            return stop, paths, rows, 0, proven, False, b_paths, b_rows, b_found
        band *= TREE_BAND_GROWTH


@njit(cache=True)
def _tree_first(ctx, quick_labels, incumbent, bound):
    """Whether the first tree goes before the beams and the dive (TREE_BEFORE_BEAM): where
    ``_exact`` runs it and the ``incumbent`` score lies ``_poor``-ly above the ``bound``."""
    return _first_tree_room(ctx, quick_labels) and _poor(incumbent, bound)


@njit(cache=True)
def _treed(ctx, incumbent, proven, quick_labels, work, check, b_paths, b_rows, b_found, stats):
    """The tree (``_tree``) within ``work`` (with ``check``, stopping at a stall) for the k
    best plans scoring at most ``incumbent`` (the k-th best known), as ``_exact`` goes on
    from it: ``(stop, paths, rows, found, proven, incumbent, b_paths, b_rows, b_found,
    stalled)``, the answer when
    ``stop`` is ``Stop.COMPLETE`` (the plans scoring at most ``incumbent``; none under a
    cutoff none meets) or ``Stop.TIME_LIMIT`` (no plans proven), else
    (``Stop.LABEL_BUDGET``) the proven bound raised from ``proven``, the incumbent and the
    beams' plans ``b_*`` with the best plans it met, and whether it stopped at a stall."""
    stop, paths, rows, found, t_proven, left = _tree(ctx, incumbent, proven, quick_labels, work, check, stats)
    if stop == Stop.COMPLETE:
        stats[Stat.TREE_PROVEN] = 1.0
        found = count_within(rows, found, incumbent)  # (its proven plans: ``_tree``; none: none that good)
        t_proven = rows[0, Row.SCORE] if found > 0 else np.inf
        return stop, paths, rows, found, t_proven, incumbent, b_paths, b_rows, b_found, False
    b_paths, b_rows, b_found = _better_plans(b_paths, b_rows, b_found, paths, rows, found)
    proven = max(proven, t_proven)
    stalled = stop == Stop.LABEL_BUDGET and left > 0
    return stop, paths, rows, 0, proven, min(incumbent, _kth_score(rows, found)), b_paths, b_rows, b_found, stalled


@njit(cache=True)
def _guessed(ctx, proven, incumbent, scale, quick_labels, budget, from_poor, stats, ceiling=np.inf):
    """Exact searches limited to guesses of the k-th best score from below, from the
    proven bound ``proven`` on the best score up to the ``incumbent`` k-th score (inf:
    none), the first GUESS_STEP of the way to ``scale`` (the incumbent, or a plan known
    short of k, or POOR_INCUMBENT_GAP above the floor when that plan is the floor; inf: no
    guesses), each next by ``_next_guess``, each within ``budget`` labels at most (the
    label budget, or less: ``_exact``). Below a finite
    ``ceiling`` they stop at the first search that stops at its label cap, and above it
    unless they have found plans (NO_PLAN_GUESS_GAP).

    Returns ``(stop, paths, rows, found, proven, ended)``: ended when a search found the
    k best (complete) or stopped (then ``proven`` is what it proved), or, with ``budget``
    below the label budget, ``Stop.LABEL_BUDGET`` when the growth of two complete guesses'
    labels predicts that the search limited by the incumbent would keep more than the
    label budget (``_beyond``: the tree goes next, ``_limited``; from a poor incumbent
    (``_poor``), only ``from_poor``, and limited by the edge of the band POOR_INCUMBENT_GAP
    above the bound);
    else, not ended, the guesses ran out below the incumbent, came within reach of it
    (``_within_reach``) or stopped at the ceiling (``Stop.COMPLETE``), or halved their step
    GUESS_HALVINGS times in a row (``Stop.LABEL_BUDGET``: HALVED_BUDGET_SHARE), ``proven``
    is the raised bound and ``found`` the best plans met, short of k (all those up to the
    last complete guess).
    The first guess steps no farther than GUESS_SPAN_SHARE of what the rate of the labels'
    growth an earlier call's guesses measured predicts for GUESS_GROWTH times as many
    (``Stat.GUESS_SPAN``).

    A search that finds fewer than k plans has found every plan up to its guess, the best
    among them (so that one is proven optimal), and the k-th lies above the guess: the
    next guess goes on from there (top-3 on generated ways 60x4 seeds 0 and 1: 1.7 and
    0.3 s, ``python -m benchmarks.bounds lazy``)."""
    k, label_budget = ctx.k, budget
    n = ctx.g.step_start.shape[0] - 1
    paths, rows = np.zeros((k, n), dtype=np.int64), np.zeros((k, Row.USE + ctx.caps.shape[0]))
    floor = proven  # a lower bound on the k-th best score
    if scale <= floor:  # the best plan met is already proven (found short of k): step from the floor
        scale = floor + POOR_INCUMBENT_GAP * abs(floor)
    guess = floor + (scale - floor) * GUESS_STEP
    if stats[Stat.GUESS_SPAN] > 0.0:
        # an earlier round of constraint generation measured how fast the labels grow: its
        # rate sizes the first step (ways DAG 100x4 seed 0's second round: its optimum lay
        # 0.01% above the floor, an eighth of the way to the incumbent 4% above it was a
        # guess whose search stopped at 2M labels after 3.9 s; with the rate, 484k labels
        # in 0.45 s met the optimum, and the mode graph's solve took 2.0 s, not 8.4 s), a
        # share of it: GUESS_SPAN_SHARE
        guess = min(guess, floor + GUESS_SPAN_SHARE * stats[Stat.GUESS_SPAN])
    # the labels of the search that proved ``floor``: 1 at the LP bound; a round after
    # constraint generation's first starts from the bound the last one's search proved
    floor_labels = max(1.0, stats[Stat.FLOOR_LABELS])
    s_paths, s_rows, found_short = paths.copy(), rows.copy(), 0
    halvings = 0
    measured = False  # whether a complete guess's search kept the floor's labels
    for _ in range(GUESSES):
        if not guess < incumbent or guess <= score_limit(floor):  # no room left between them
            break
        if found_short == 0 and guess > ceiling:
            break
        cap = min(label_budget, max(quick_labels, GUESS_OVERSHOOT * GUESS_GROWTH * floor_labels))
        stop, paths, rows, found, bound = _fixed_search(ctx, guess, int(cap), _table_cells(stats), False, stats, False)
        if stop == Stop.LABEL_BUDGET and cap < label_budget and ceiling < np.inf:
            proven = max(proven, min(bound, guess))
            break
        if stop == Stop.LABEL_BUDGET and cap < label_budget:
            # the guess lay far above what the growth predicted: it still proves what
            # its last complete step bounds, and the next guess halves the step
            floor = max(floor, min(bound, guess))
            proven = max(proven, floor)
            halvings += 1
            if halvings > GUESS_HALVINGS:
                return Stop.LABEL_BUDGET, s_paths, s_rows, found_short, proven, False
            guess, measured = floor + 0.5 * (guess - floor), False
            continue
        halvings = 0
        if stop != Stop.COMPLETE:
            # a search limited by the incumbent would keep more labels still
            return stop, paths, rows, 0, max(proven, min(bound, guess)), True
        labels = max(1.0, stats[Stat.FLOOR_LABELS])
        if labels > floor_labels:
            stats[Stat.GUESS_SPAN] = _rate_step(floor, floor_labels, guess, labels, GUESS_GROWTH)
        if found == k:
            return stop, paths, rows, found, rows[0, Row.SCORE], True
        proven = max(proven, rows[0, Row.SCORE] if found > 0 else guess)
        if found > 0:
            s_paths[:], s_rows[:], found_short = paths, rows, found
        if _within_reach(floor, floor_labels, guess, labels, incumbent):
            break
        # a poor incumbent says little of where the optimum lies, and the guesses may well
        # reach it far below (InceptionV3's layer graph: 17% above it); ``from_poor`` (on
        # chains) they hand over where even the band POOR_INCUMBENT_GAP above the bound lies
        # beyond the label budget (ways 200x4 seed 0: 4% above; its guesses kept 4.6M
        # labels in 3.8 s, 0.05% higher per doubling, before the long tree proved the
        # optimum 1% above the bound in 2.3 s), and not at all on a DAG's graph, whose trees
        # are slow (ways DAG 100x4 seed 0, with the band: 12.2 s, not 1.7 s)
        target = min(incumbent, proven + POOR_INCUMBENT_GAP * abs(incumbent))
        if measured and budget < ctx.label_budget and (from_poor or not _poor(incumbent, proven)) \
                and _beyond(floor, floor_labels, guess, labels, target, ctx.label_budget):
            return Stop.LABEL_BUDGET, s_paths, s_rows, 0, proven, True
        floor, guess = guess, _next_guess(floor, floor_labels, guess, labels)
        floor_labels, measured = labels, True
    return Stop.COMPLETE, s_paths, s_rows, found_short, proven, False


@njit(cache=True)
def _polished(ctx, path, row, stats):
    """Improve the plan ``path`` (N,) with row ``row`` (1 + Q,), in place, by a large
    neighbourhood search: exact searches, each within POLISH_LABELS labels, over windows
    of steps (POLISH_WIDTH, half overlapping) with the rest of the plan fixed, repeated
    while a pass gains POLISH_GAIN (relative), then at twice the width if some pass at
    this one did, up to POLISH_MAX_WIDTH, or until the deadline; returns whether it
    improved the plan. The guesses size their steps by the labels of the last complete
    exact search (``Stat.FLOOR_LABELS``): these searches leave it as it was."""
    g = ctx.g
    n = g.step_start.shape[0] - 1
    floor_labels = stats[Stat.FLOOR_LABELS]
    # only options and arcs some path scoring at most the plan's may take (the plan's own among them)
    fixed_opt, keep_arc = _fixed(ctx, row[Row.SCORE])
    improved = False
    productive = False  # some pass at this width gained at least POLISH_GAIN
    width = POLISH_WIDTH
    while width <= POLISH_MAX_WIDTH:
        before = row[Row.SCORE]
        half = width // 2
        for start in range(0, max(1, n - half), half):
            if ctx.deadline < np.inf and clock() > ctx.deadline:
                break
            keep_opt = np.zeros(g.opt_use.shape[0], dtype=np.bool_)
            window = slice(g.step_start[start], g.step_start[min(n, start + width)])
            keep_opt[window] = fixed_opt[window]
            keep_opt[path] = True
            # (no cells for tables: a window's, if any, are on the least grid, TABLE_GRID_MIN)
            sub_ctx, origin, _ = _restricted_context(ctx, keep_opt, keep_arc, 0, False)
            _, paths, rows, found, _ = _search(sub_ctx, EXACT_WIDTH, row[Row.SCORE], POLISH_LABELS, ctx.deadline,
                                               stats, False)
            if found > 0 and rows[0, Row.SCORE] < row[Row.SCORE]:
                for s in range(n):
                    path[s] = origin[paths[0, s]]
                row[:] = rows[0]
                improved = True
        if ctx.deadline < np.inf and clock() > ctx.deadline:
            break
        if row[Row.SCORE] < before and before - row[Row.SCORE] >= POLISH_GAIN * abs(before):
            productive = True
        elif productive:
            width, productive = 2 * width, False
        else:
            break
    stats[Stat.FLOOR_LABELS] = floor_labels
    return improved


@njit(cache=True)
def _table_cells(stats):
    """Cells the next search's bound tables may take, given the labels the solve's searches
    have kept so far (``stats``): FINE_TABLE_CELLS, more once they have kept many
    (TABLE_CELLS_PER_LABEL, MOST_TABLE_CELLS)."""
    return int(min(MOST_TABLE_CELLS, max(FINE_TABLE_CELLS, TABLE_CELLS_PER_LABEL * stats[Stat.KEPT])))


@njit(cache=True)
def _fixed_search(ctx, limit, budget, cells, finer_only, stats, growth_check):
    """The exact search limited by ``limit`` within ``budget`` labels (``_search``'s answer,
    with its ``growth_check``; paths in the graph's options) on the part of the graph
    reduced-cost fixing at ``limit`` leaves, its tables within ``cells`` (``finer_only``:
    ``_fixed_context``). The search prunes
    the same labels by the same multipliers, but the bounds computed again there are far
    tighter (``python -m benchmarks.bounds``, limited by the optimum: 300x6 seed 0 keeps
    1.6M labels in 1.5 s, where the whole graph stops unproven at 30 s; 500x8 seed 1, 0.4M
    in 0.23 s against 3.1M in 6.9 s, at 4dce71b).
    """
    if limit == np.inf:  # nothing to fix by (no plan met): the whole graph, on finer tables
        return _search(_refined(ctx), EXACT_WIDTH, limit, budget, ctx.deadline, stats, False, growth_check)
    sub_ctx, origin, has_path = _fixed_context(ctx, limit, cells, finer_only)
    g, k = ctx.g, ctx.k
    n = g.step_start.shape[0] - 1
    if not has_path:  # no plan scores at most the limit
        return Stop.COMPLETE, np.zeros((k, n), dtype=np.int64), np.zeros((k, Row.USE + g.opt_use.shape[1])), 0, np.inf
    stop, paths, rows, found, bound = _search(sub_ctx, EXACT_WIDTH, limit, budget, ctx.deadline, stats, False,
                                              growth_check)
    for r in range(found):
        for s in range(n):
            paths[r, s] = origin[paths[r, s]]
    return stop, paths, rows, found, bound


@njit(cache=True)
def _fixed_context(ctx, limit, cells, finer_only):
    """``ctx`` on the subgraph of the options and arcs through which some path may score at
    most ``limit`` (``fixing.fixed_by_bounds``), with the same multipliers: completion
    usage and Lagrangian values recomputed over its paths, and bound tables too, on the
    fine grid within ``cells`` (with ``finer_only``, only when that grid is at least twice
    as fine as ``ctx``'s; else ``ctx``'s own tables, of the whole graph, which still bound
    the subgraph's completions). Returns ``(sub_ctx, origin, has_path)``
    (``fixing.subgraph``)."""
    keep_opt, keep_arc = _fixed(ctx, limit)
    return _restricted_context(ctx, keep_opt, keep_arc, cells, finer_only)


@njit(cache=True)
def _fixed(ctx, limit):
    """Reduced-cost fixing of ``ctx``'s graph at ``limit`` by its multipliers
    (``fixing.fixed_by_bounds``): ``(keep_opt (T,), keep_arc (A,))``."""
    return fixed_by_bounds(ctx.g, by_dimension(ctx.g), ctx.coef, ctx.prices, ctx.values, ctx.lam_sums, limit)


@njit(cache=True)
def _restricted_context(ctx, keep_opt, keep_arc, cells, finer_only):
    """``_fixed_context`` on the subgraph of the options ``keep_opt`` (T,) and arcs
    ``keep_arc`` (A,) keep."""
    caps, prices = ctx.caps, ctx.prices
    sub, origin, has_path = subgraph(ctx.g, keep_opt, keep_arc)
    grid = _table_grid(sub.step_start.shape[0] - 1, sub.opt_use.shape[0], caps, prices[1], FINE_GRID_PER_STEP,
                       FINE_GRID_MAX, cells)
    if finer_only and not _finer(grid, ctx.table):
        least, thr, values = _completion_bounds(sub, ctx.coef, caps, prices)
        return _with_bounds(ctx, sub, least, thr, values, ctx.table[:, origin], ctx.dims, ctx.units), origin, has_path
    return _priced_context(ctx, sub, prices, ctx.lam_sums, grid), origin, has_path


@njit(cache=True)
def _priced_context(ctx, sub, prices, lam_sums, grid):
    """``ctx`` on the graph ``sub`` with the multipliers ``prices`` (M, Q) / ``lam_sums``
    (M,): completion tests, Lagrangian values and bound tables (``grid`` points) computed
    there by them."""
    least, thr, values = _completion_bounds(sub, ctx.coef, ctx.caps, prices)
    table, dims, units = resource_tables(sub, ctx.coef, ctx.caps, prices[1], grid, ctx.scratch)
    return _Context(sub, ctx.coef, ctx.caps, least, thr, prices, values, lam_sums, table, dims, units, ctx.k,
                    ctx.label_budget, ctx.tree_work, ctx.deadline, ctx.scratch, ctx.memory)


@njit(cache=True)
def _completion_bounds(g, coef, caps, prices):
    """``(least, thr, values)`` of graph ``g``: the completion tests (T, Q) of
    ``bounds.cap_tests`` and the Lagrangian values (M, T) of the multipliers ``prices``
    (M, Q)."""
    n = g.step_start.shape[0] - 1
    t_count = g.opt_use.shape[0]
    least, most = completion_usage(g)
    least, thr = cap_tests(caps, least, most, n)
    values = np.empty((prices.shape[0], t_count))
    opt_cost, arc_cost = np.empty(t_count), np.empty(g.arc_tail.shape[0])
    uses = by_dimension(g)
    for m in range(prices.shape[0]):
        relaxed_costs(uses, coef, prices[m], opt_cost, arc_cost)
        backward_values(g, opt_cost, arc_cost, values[m], np.empty(t_count, dtype=np.int64))
    return least, thr, values


@njit(cache=True)
def _tree(ctx, incumbent, proven, quick_labels, work, check, stats, band=np.inf):
    """LP branch and bound (``tree``) for the k best plans scoring at most ``incumbent``
    (k: ``ctx.k``), on what reduced-cost fixing at it leaves (again at the k-th best plan
    met, once that lies TREE_REFIX_SHARE of the gap to the proven bound ``proven`` lower); a
    node within the searches' reach of the k-th best plan (``_search_reach``, at most
    TREE_SEARCH_GAP) is searched exactly for its own k best on its own multipliers first
    (``_node_search``). The nodes split the paths, so the k best of the plans their LPs and
    searches meet, each kept once (``_kept_best``), are the answer once every node is done.
    Returns ``(stop, paths (k, N), rows (k, 1 + Q), found, proven)``: ``Stop.COMPLETE``
    with the k best such plans by the ranking rule (fewer: no more score at most
    ``incumbent``; after them, plans its node LPs met above the limit it ended with, kept
    but never proven none better than: a 6-stage chain's top-2 from a limit at its best plan
    once came back optimal with such a plan, 0.08 above the true second: ``count_within``
    its limit says how many it proved), or the stop (``Stop.LABEL_BUDGET`` once its node LPs
    have visited ``work`` options and arcs, again up to TREE_EXTENSIONS times where it
    has closed TREE_EXTEND_CLOSED of its gap, or with ``check`` at a stall:
    TREE_CHECK_CLOSED) with the best plans it met and a proven lower bound on the best
    score; and last, the work left (> 0 after a stall). ``band``: the plans kept lie
    within it above the best one met too (``_tree_limit``; inf: no band)."""
    n = ctx.g.step_start.shape[0] - 1
    paths, rows = np.zeros((ctx.k, n), dtype=np.int64), np.full((ctx.k, Row.USE + ctx.caps.shape[0]), np.inf)
    # (the root, every option allowed, on the fixed graph; the pool grows from 16 nodes)
    q = ctx.g.opt_use.shape[1]
    everything = open_nodes(1, ctx.g.opt_use.shape[0], n, q)
    everything.masks[:] = True
    fg, origin, nodes, size = _refixed(ctx, np.arange(ctx.g.opt_use.shape[0]), everything, 1, incumbent)
    uses = by_dimension(fg)  # (what its LPs' passes read)
    lp_caps = binding_caps(fg, ctx.caps)  # (what its LPs' masters need rows for)
    columns = column_pool(TREE_COLUMNS, n, q)  # (paths in ``fg``'s options)
    if size == 0:
        return Stop.COMPLETE, paths, rows, 0, np.inf, work
    limit, fixed_at, found, stop = incumbent, incumbent, 0, Stop.COMPLETE
    node_labels = max(1, int(TREE_NODE_SHARE * quick_labels))
    floor_labels = stats[Stat.FLOOR_LABELS]  # (the guesses size their steps by the solve's own searches)
    root_bound, checked_at = np.inf, work * (1.0 - TREE_CHECK_SHARE) if check else -np.inf
    allotment, extensions = work, 0
    reach = TREE_SEARCH_GAP
    while size > 0:
        if limit < fixed_at - TREE_REFIX_SHARE * (fixed_at - proven):
            fg, origin, nodes, size = _refixed(ctx, origin, nodes, size, limit)
            uses = by_dimension(fg)
            lp_caps = binding_caps(fg, ctx.caps)
            columns = column_pool(TREE_COLUMNS, n, q)
            fixed_at = limit
            continue
        allowed, bound, size = pool_take(nodes, size, columns)
        if bound > score_limit(limit):
            continue
        if work <= 0 and extensions < TREE_EXTENSIONS \
                and bound - root_bound >= TREE_EXTEND_CLOSED * (limit - root_bound):
            work, extensions = work + allotment, extensions + 1  # (near its end: TREE_EXTEND_CLOSED)
        if work <= 0 or (ctx.deadline < np.inf and clock() > ctx.deadline):
            stop = Stop.LABEL_BUDGET if work <= 0 else Stop.TIME_LIMIT
            nodes, size = pool_add(nodes, size, allowed, bound, column_pool(0, n, q))
            break
        node_stop, work, found, nodes, size, bound, reach = _tree_node(
            ctx, fg, uses, lp_caps, origin, columns, allowed, bound, limit, reach, node_labels, work, paths, rows,
            found, nodes, size, band, stats)
        limit = min(limit, _tree_limit(rows, found, band))
        root_bound = min(root_bound, bound)  # (the first node's: the least of all)
        if node_stop == Stop.TIME_LIMIT:
            stop = node_stop
            break
        if work < checked_at and size > 0:
            checked_at = -np.inf
            if nodes.bounds[:size].min() - root_bound < TREE_CHECK_CLOSED * (limit - root_bound):
                stop = Stop.LABEL_BUDGET  # (it closes the gap too slowly to end within its work)
                break
    stats[Stat.FLOOR_LABELS] = floor_labels
    if stop == Stop.COMPLETE:
        return stop, paths, rows, found, rows[0, Row.SCORE] if found > 0 else np.inf, work
    least = min(limit, rows[0, Row.SCORE])  # (the best plan met, or the open nodes' least bound)
    return stop, paths, rows, found, min(least, nodes.bounds[:size].min()) if size > 0 else least, work


@njit(cache=True)
def _tree_node(ctx, fg, uses, lp_caps, origin, columns, allowed, bound, limit, reach, labels, work, paths, rows, found,
               nodes, size, band, stats):
    """One node of ``_tree`` on graph ``fg`` (``uses``: ``bounds.by_dimension(fg)``; ``origin``
    maps its options to the solve's graph; its LPs share the tree's ``columns`` and run
    within ``lp_caps``, ``bounds.binding_caps(fg, ctx.caps)``): the node
    ``allowed`` (T,) whose parent's bound was ``bound``, searched for plans scoring at most
    ``limit`` (and within ``band``: ``_tree_limit``). Its LP, then reduced-cost fixing at
    ``limit`` by the LP's multipliers (``fixing.node_fixed``: the node that is left goes on),
    its exact search when within ``reach`` (relative) of ``limit`` (or when its LP chose one
    key at every step), and last its branching (``_branched_node``), unless its bound, its
    fixing or its search closes it.
    The plans met join the tree's ``found`` best,
    ``paths`` (k, N) / ``rows`` (k, 1 + Q) (``_kept_best``). Returns ``(stop, work, found, nodes, size, bound, reach)``:
    ``Stop.COMPLETE`` when the node is done, ``Stop.LABEL_BUDGET`` when it branched,
    ``Stop.TIME_LIMIT`` when the clock stopped its search (it is open again, its LP's basis
    its seed columns), ``work`` less the LPs' (``_lp_work``), the open nodes
    (``tree.OpenNodes``) and their count, the node's bound and the reach of the next search
    (``_search_reach``)."""
    share = np.empty(fg.opt_use.shape[0])
    basis = column_pool(ctx.caps.shape[0] + 1, fg.step_start.shape[0] - 1, ctx.caps.shape[0])
    prices, values, lam_sums, node_bound, lp_row, lp_path = node_lp(fg, uses, ctx.coef, lp_caps, allowed, share,
                                                                     ctx.deadline, columns, score_limit(limit), basis)
    work -= _lp_work(fg)
    bound = max(bound, node_bound)
    found = _kept_best(found, paths, rows, origin[lp_path], lp_row)
    limit = min(limit, _tree_limit(rows, found, band))
    if bound > score_limit(limit):
        return Stop.COMPLETE, work, found, nodes, size, bound, reach
    allowed = node_fixed(fg, uses, ctx.coef, prices, values, lam_sums, allowed, score_limit(limit))
    if not allowed.any():  # (no path of the node may score within the limit)
        return Stop.COMPLETE, work, found, nodes, size, bound, reach
    steps, keys = branch_candidates(fg, allowed, share, TREE_CANDIDATES)
    gap = (limit - bound) / max(1.0, abs(limit))
    if steps.shape[0] == 0 or gap <= reach:
        stop, n_paths, n_rows, n_found = _node_search(ctx, fg, allowed, prices, lam_sums, limit, labels, stats)
        for r in range(n_found):
            found = _kept_best(found, paths, rows, origin[n_paths[r]], n_rows[r])
        limit = min(limit, _tree_limit(rows, found, band))
        if steps.shape[0] > 0:  # (a search the node could do without)
            reach = _search_reach(reach, gap, stop)
        if stop == Stop.COMPLETE:
            return stop, work, found, nodes, size, bound, reach
        if stop == Stop.TIME_LIMIT:
            nodes, size = pool_add(nodes, size, allowed, bound, basis)
            return stop, work, found, nodes, size, bound, reach
    if steps.shape[0] == 0:
        steps, keys = _first_choice(fg, allowed, share)
        if steps.shape[0] == 0:
            return Stop.COMPLETE, work, found, nodes, size, bound, reach
    nodes, size, work, found = _branched_node(fg, uses, ctx.coef, lp_caps, columns, allowed, bound, steps, keys, limit,
                                              ctx.deadline, nodes, size, work, origin, paths, rows, found, band)
    return Stop.LABEL_BUDGET, work, found, nodes, size, bound, reach


@njit(cache=True)
def _lp_work(g):
    """The work a node LP on graph ``g`` counts against its tree's: its options and arcs
    (what each of its passes visits)."""
    return g.opt_use.shape[0] + g.arc_tail.shape[0]


@njit(cache=True)
def _refixed(ctx, origin, nodes, size, limit):
    """The first ``size`` open ``nodes`` (``tree.OpenNodes`` over the options of a graph
    whose option i is ``origin[i]`` of the solve's graph) on what reduced-cost fixing at
    ``limit`` leaves of the solve's graph (a part of theirs: fixing at a lower limit keeps
    less), each with the seed columns left whole. Returns ``(graph, origin, nodes, size)``;
    no open nodes when no path is left."""
    keep_opt, keep_arc = _fixed(ctx, limit)
    sub, sub_origin, has_path = subgraph(ctx.g, keep_opt, keep_arc)
    position = np.full(ctx.g.opt_use.shape[0], -1, dtype=np.int64)
    position[origin] = np.arange(origin.shape[0])
    where = position[sub_origin]  # (each kept option's place in the old graph, -1: new to it)
    moved = np.full(origin.shape[0], -1, dtype=np.int64)  # (each old option's place in the new graph)
    for t in range(where.shape[0]):
        if where[t] >= 0:
            moved[where[t]] = t
    n, q = nodes.seed_paths.shape[2], nodes.seed_rows.shape[2] - Row.USE
    kept = open_nodes(max(16, nodes.bounds.shape[0]), sub_origin.shape[0], n, q)
    for i in range(size):
        for t in range(sub_origin.shape[0]):
            kept.masks[i, t] = where[t] >= 0 and nodes.masks[i, where[t]]
        kept.bounds[i] = nodes.bounds[i]
        for c in range(nodes.seed_held[i]):
            seed = moved[nodes.seed_paths[i, c]]
            if seed.min() >= 0:
                kept.seed_paths[i, kept.seed_held[i]] = seed
                kept.seed_rows[i, kept.seed_held[i]] = nodes.seed_rows[i, c]
                kept.seed_held[i] += 1
    return sub, sub_origin, kept, size if has_path else 0


@njit(cache=True)
def _branched_node(fg, uses, coef, caps, columns, allowed, bound, steps, keys, limit, deadline, nodes, size, work,
                   origin, paths, rows, found, band):
    """Branch the node ``allowed`` (T,) of the tree on graph ``fg`` (``uses``:
    ``bounds.by_dimension(fg)``), LP bound ``bound``, by strong branching on the candidate
    (step, key) pairs ``steps`` / ``keys`` (C,) (LPs sharing the tree's ``columns``), on what
    is left of the node once the children that strong branching closed are dropped
    (``tree.reduced_node``); the children whose bounds stay within ``score_limit(limit)``
    (and ``band``: ``_tree_limit``) join the open ``nodes`` (the first ``size``), each with
    its LP's basis in strong branching as its LP's seed columns. A plan the children's LPs meet joins the tree's
    ``found`` best (``paths`` (k, N) of the solve's graph, ``origin`` mapping ``fg``'s options
    to it, and ``rows`` (k, 1 + Q): ``_kept_best``). Returns ``(nodes, size, work, found)``, ``work`` less the LPs'
    (``_lp_work``)."""
    cut = score_limit(min(limit, _tree_limit(rows, found, band)))
    pick, child, s_row, s_path, bases = strong_branch(fg, uses, coef, caps, allowed, bound, steps, keys, deadline,
                                                      columns, cut)
    work -= 2 * steps.shape[0] * _lp_work(fg)
    found = _kept_best(found, paths, rows, origin[s_path], s_row)
    cut = min(cut, score_limit(_tree_limit(rows, found, band)))  # (lower where the children's LPs met a better plan)
    node, closed = reduced_node(fg, allowed, steps, keys, child, cut)
    if closed:
        return nodes, size, work, found
    with_key, without_key = child_masks(fg, node, steps[pick], keys[pick])
    if child[pick, 0] <= cut:
        nodes, size = pool_add(nodes, size, with_key, max(bound, child[pick, 0]), bases[0])
    if child[pick, 1] <= cut:
        nodes, size = pool_add(nodes, size, without_key, max(bound, child[pick, 1]), bases[1])
    return nodes, size, work, found


@njit(cache=True)
def _search_reach(reach, gap, stop):
    """The gap (relative to the best plan) within which the tree's next node is searched
    before it branches, after a node's search within ``reach`` at ``gap`` ended with
    ``stop``: half that gap after a search its labels stopped, twice it (at most
    TREE_SEARCH_GAP) after one that ended (in a best-first tree the gaps shrink as it goes;
    the searches' success sets how soon they resume)."""
    if stop == Stop.LABEL_BUDGET:
        return 0.5 * min(reach, gap)
    if stop == Stop.COMPLETE:
        return min(TREE_SEARCH_GAP, max(reach, 2.0 * gap))
    return reach


@njit(cache=True)
def _first_choice(g, allowed, share):
    """``(steps, keys)``, (1,) each: the first step with allowed options of two keys, and the
    key of its allowed option the LP ``share`` (T,) weighs most (a node whose every step's
    share sits on one key but whose search stopped may hold other placements); none for a
    node of one placement (its LP met its plan, or proved that it breaks a cap)."""
    for s in range(g.step_start.shape[0] - 1):
        heaviest = -1
        several = False
        for t in range(g.step_start[s], g.step_start[s + 1]):
            if allowed[t]:
                if heaviest >= 0 and g.opt_key[t] != g.opt_key[heaviest]:
                    several = True
                if heaviest < 0 or share[t] > share[heaviest]:
                    heaviest = t
        if several:
            return np.full(1, s, dtype=np.int64), np.full(1, g.opt_key[heaviest], dtype=np.int64)
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)


@njit(cache=True)
def _kept_best(found, paths, rows, o_path, o_row):
    """Keep the plan ``o_path`` (N,) / ``o_row`` (1 + Q,) among the ``found`` best plans
    ``paths`` (k, N) / ``rows`` (k, 1 + Q) (``paths.kept_ranked``), when it is a plan (score
    < inf) they do not hold already (a node's plan met again by its child's LP or search);
    returns how many are kept."""
    if o_row[Row.SCORE] == np.inf:
        return found
    for r in range(found):
        if np.array_equal(paths[r], o_path):
            return found
    return kept_ranked(o_row, o_path, rows, paths, found)


@njit(cache=True)
def _tree_limit(rows, found, band):
    """The score the tree's plans must not exceed, by the ``found`` best plans it met
    ``rows`` (k, 1 + Q): the k-th's (``_kth_score``), and at most ``band`` (relative, of at
    least 1 in score: a best plan scoring 0 still has one that grows) above the best (inf:
    no band; ``_best_first``)."""
    kth = _kth_score(rows, found)
    if found == 0 or band == np.inf:
        return kth
    best = rows[0, Row.SCORE]
    return min(kth, best + band * max(1.0, abs(best)))


@njit(cache=True)
def _kth_score(rows, found):
    """The score of the k-th of the ``found`` best plans ``rows`` (k, 1 + Q); inf while
    fewer than k are kept (every plan may still join them)."""
    return rows[rows.shape[0] - 1, Row.SCORE] if found == rows.shape[0] else np.inf


@njit(cache=True)
def _node_search(ctx, fg, allowed, prices, lam_sums, limit, labels, stats):
    """The exact search for the k best plans (``ctx.k``) scoring at most ``limit`` among the
    paths of graph ``fg`` through the ``allowed`` (T,) options, within ``labels`` labels, on
    the bounds of the node LP's multipliers ``prices`` (2, Q) and ``lam_sums`` (2,).
    Returns ``(stop, paths (k, N), rows (k, 1 + Q), found)``, the paths in ``fg``'s options."""
    sub, origin, has_path = subgraph(fg, allowed, np.ones(fg.arc_tail.shape[0], dtype=np.bool_))
    n = fg.step_start.shape[0] - 1
    if not has_path:
        return Stop.COMPLETE, np.zeros((ctx.k, n), dtype=np.int64), np.full((ctx.k, Row.USE + ctx.caps.shape[0]),
                                                                            np.inf), 0
    grid = _table_grid(n, sub.opt_use.shape[0], ctx.caps, prices[1], TABLE_GRID_PER_STEP, TABLE_GRID_MAX,
                       TABLE_CELLS)
    node_ctx = _priced_context(ctx, sub, prices, lam_sums, grid)
    stop, paths, rows, found, _ = _search(node_ctx, EXACT_WIDTH, limit, min(ctx.label_budget, labels), ctx.deadline,
                                         stats, False)
    for r in range(found):
        paths[r] = origin[paths[r]]
    return stop, paths, rows, found


@njit(cache=True)
def _next_guess(below, below_labels, guess, labels):
    """The guess after ``guess``, whose search kept ``labels`` labels, where the one before
    it, ``below``, kept ``below_labels`` (1 at the bound): ``_growth_step`` for
    GUESS_GROWTH times the labels above ``guess``."""
    return guess + _growth_step(below, below_labels, guess, labels, GUESS_GROWTH)


@njit(cache=True)
def _within_reach(below, below_labels, guess, labels, target):
    """Whether a search limited by ``target`` lies within ``_growth_step`` of ``guess`` for
    GUESS_JUMP times its labels (``_next_guess``'s arguments)."""
    return target - guess <= _growth_step(below, below_labels, guess, labels, GUESS_JUMP)


@njit(cache=True)
def _beyond(below, below_labels, guess, labels, target, most):
    """Whether a search limited by ``target`` would keep more than ``most`` labels, at the
    growth rate between the searches limited by ``below`` and ``guess`` (which kept
    ``below_labels`` and ``labels``; none predicted where the labels did not grow)."""
    return target - guess > _rate_step(below, below_labels, guess, labels, most / labels)


@njit(cache=True)
def _growth_step(below, below_labels, guess, labels, growth):
    """How far above ``guess`` a search's labels should grow ``growth`` times, at the rate
    between the searches limited by ``below`` and ``guess`` (which kept ``below_labels``
    and ``labels``), and at most GUESS_STRIDE times the distance between them (farther,
    the rate says too little)."""
    return min(GUESS_STRIDE * (guess - below), _rate_step(below, below_labels, guess, labels, growth))


@njit(cache=True)
def _rate_step(below, below_labels, guess, labels, growth):
    """How far above ``guess`` a search's labels grow ``growth`` times at the log-linear rate
    between the searches limited by ``below`` and ``guess`` (which kept ``below_labels``
    and ``labels``); inf where they did not grow."""
    rate = np.log(labels / below_labels)
    return (guess - below) * np.log(growth) / rate if rate > 0.0 else np.inf


@njit(cache=True)
def _dived(g, coef, caps, incumbent, deadline, stall_per_step, paths, rows):
    """The plan ``dive.lp_dive`` meets below ``incumbent`` (inf: any) within
    ``stall_per_step`` rounds per step past the last plan it met, as the first of ``paths``
    (k, N) and ``rows`` (k, 1 + Q), in place; returns how many plans there are (0: it met
    none)."""
    row = lp_dive(g, coef, caps, incumbent, deadline, stall_per_step, paths[0])
    if row[Row.SCORE] == np.inf:
        return 0
    rows[0] = row
    return 1


@njit(cache=True)
def _probe_suffices(k, p_rows, p_found, dual):
    """Whether the incumbent beam may wait until a search limited by the incumbent is due
    (``_exact``): for top-1, when the probe met a plan (rows ``p_rows``, ``p_found`` of
    them) that is not ``_poor`` (a poor one decides whether a refined beam and an LP dive
    run). The guesses find the optimum from below whatever the incumbent (the at-scale
    command in README.md: 500x8 seed 0 in 0.23 s at e2ad6dd, 0.82 s at 896c612)."""
    return k == 1 and p_found > 0 and not _poor(p_rows[0, Row.SCORE], dual)


@njit(cache=True)
def _poor(incumbent, proven):
    """Whether a known incumbent score lies more than POOR_INCUMBENT_GAP above the proven
    bound (with none, three beams have met no plan: branching follows instead)."""
    return incumbent < np.inf and incumbent - proven > POOR_INCUMBENT_GAP * abs(incumbent)


@njit(cache=True)
def _merged_plans(paths, rows, found, o_paths, o_rows, o_found):
    """The k best of two sets of plans ranked best first (``paths`` (k, N) / ``rows``
    (k, 1 + Q), of which ``found`` are filled, and ``o_*`` alike; ``_kept_best``: a plan in
    both is kept once), in new arrays: ``(paths, rows, found)``. (``_best_first`` keeps the
    optimum its trees proved beside the beams' k-th plan; where the searches choose between
    two beams' plans, ``_better_plans``: merged there too, the top-3 searches of InceptionV3's
    layer graph and of generated 300x6 seed 0 kept 7% more labels, and 38 other scenarios
    and generated instances as many, in a scratch build.)"""
    m_paths, m_rows = paths.copy(), rows.copy()
    for r in range(o_found):
        found = _kept_best(found, m_paths, m_rows, o_paths[r], o_rows[r])
    return m_paths, m_rows, found


@njit(cache=True)
def _better_plans(paths, rows, found, o_paths, o_rows, o_found):
    """Of two beams' plans (paths, rows, found), the ones whose best scores lower (the first
    on a tie)."""
    if o_found > 0 and (found == 0 or o_rows[0, Row.SCORE] < rows[0, Row.SCORE]):
        return o_paths, o_rows, o_found
    return paths, rows, found


@njit(cache=True)
def _without_bounds(g, coef, caps, k, stats):
    """Answers that need no completion bounds: no path at all; the unconstrained k best when
    they all fit. Returns ``(status, strategy, paths, rows, found, free_value)``,
    ``Status.UNKNOWN`` when neither applies; ``free_value`` (T,) as ``_unconstrained_best``."""
    n = g.step_start.shape[0] - 1
    q = g.opt_use.shape[1]
    paths, rows = np.zeros((k, n), dtype=np.int64), np.zeros((k, 1 + q))
    free_value, best_fits = _unconstrained_best(g, coef, caps)
    if free_value[g.step_start[0]:g.step_start[1]].min() == np.inf:
        stats[Stat.BOUND] = np.inf  # no path at all
        return Status.INFEASIBLE, Strategy.VITERBI, paths, rows, 0, free_value
    if best_fits:
        # when the unconstrained k best all fit the caps, they are the answer
        paths, rows, found, fast = kbest_paths(g, coef, k)  # (not fast where rounding may reorder them)
        for r in range(found):
            fast = fast and within_caps(rows[r], caps)
        if fast:
            stats[Stat.BOUND] = rows[0, Row.SCORE]
            return Status.OPTIMAL, Strategy.VITERBI, paths, rows, found, free_value
    return Status.UNKNOWN, Strategy.LABELS, paths, rows, 0, free_value


@njit(cache=True)
def _pulse(g, coef, caps, least, prices, values, lam_sums, k, cutoff, nodes, deadline, bound, stats):
    """``pulse.pulse_search`` for the k best plans scoring at most ``cutoff`` within
    ``nodes`` prefixes and the clock time ``deadline``. Returns ``(done, status, paths,
    rows, found)``: done when it completed (optimal or infeasible) or met the deadline
    (the plans it met, unproven above the proven ``bound``: ``_heuristic``); not done when
    its budget stopped it."""
    stop, paths, rows, found, created, visited = pulse_search(g, coef, caps, least, prices, values, lam_sums, k,
                                                              cutoff, nodes, deadline)
    stats[Stat.CREATED] += created
    stats[Stat.KEPT] += visited
    if stop == Stop.COMPLETE:
        status, _, paths, rows, found, _ = _proven(paths, rows, found, stats)
        return True, status, paths, rows, found
    if stop == Stop.TIME_LIMIT:
        stats[Stat.STOP] = stop.value
        status, _, paths, rows, found, _ = _heuristic(paths, rows, found, k, bound, stats, Strategy.LABELS)
        return True, status, paths, rows, found
    return False, Status.UNKNOWN, paths, rows, 0


@njit(cache=True)
def _unconstrained_best(g, coef, caps):
    """(V (T,), fits): the least score of the steps after each option with no cap (inf:
    dead end), and whether the best unconstrained path fits ``caps``."""
    t_count, q = g.opt_use.shape
    n = g.step_start.shape[0] - 1
    value = np.empty(t_count)
    row = np.empty(Row.USE + q)
    bound = dual_pass(g, by_dimension(g), coef, caps, np.zeros(q), np.ones(t_count, dtype=np.bool_), np.zeros(q),
                      np.empty(t_count), np.empty(g.arc_tail.shape[0]), value, np.empty(t_count, dtype=np.int64),
                      np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64), row)
    return value, bound < np.inf and within_caps(row, caps)


@njit(cache=True)
def _certified(g, coef, caps, deadline, stats, paths, rows):
    """The infeasibility certificate's answer within BRANCH_EARLY_NODES nodes of branching
    and the clock time ``deadline``: -1 when it proves that no path fits ``caps`` (then the
    proven bound in ``stats`` is inf); 1 when it meets a path that fits, written as the
    first of ``paths`` (k, N) and ``rows`` (k, 1 + Q) scored by ``coef`` (a plan the beams
    may have missed: generated ways DAG 100x4 seed 2, where they meet none, gets one 29%
    above the optimum in 0.5 s); else 0."""
    outcome = _branched(g, caps, BRANCH_EARLY_NODES, deadline, paths[0])
    if outcome == BRANCH_PROVEN:
        stats[Stat.BOUND] = np.inf
        return -1
    if outcome == BRANCH_FITS:
        path_row(g, coef, paths[0], rows[0])
        return 1
    return 0


@njit(cache=True)
def _branched(g, caps, nodes, deadline, fitting):
    """``branched_certificate``'s outcome within ``nodes`` nodes (fewer on graphs of more
    than BRANCH_ARCS / nodes arcs) and the clock time ``deadline``; a fitting path it meets
    is written to ``fitting`` (N,)."""
    limit = min(nodes, max(1, BRANCH_ARCS // max(1, g.arc_tail.shape[0])))
    return branched_certificate(g, caps, CERTIFICATE_ITERATIONS, BRANCH_ITERATIONS, limit, deadline, fitting)[0]


@njit(cache=True)
def _proven(paths, rows, found, stats):
    """Package a complete exact search's answer: optimal, or infeasible when it found none."""
    stats[Stat.BOUND] = rows[0, Row.SCORE] if found > 0 else np.inf
    return (Status.OPTIMAL if found > 0 else Status.INFEASIBLE), Strategy.LABELS, paths, rows, found, stats


@njit(cache=True)
def _heuristic(paths, rows, found, k, bound, stats, strategy):
    """Package plans that no exact search certified: feasible, or optimal if the bound meets them."""
    stats[Stat.BOUND] = bound
    if found == 0:
        return Status.UNKNOWN, strategy, paths, rows, 0, stats
    best = rows[0, Row.SCORE]
    if k == 1 and best <= score_limit(bound):
        return Status.OPTIMAL, strategy, paths, rows, found, stats
    return Status.FEASIBLE, strategy, paths, rows, found, stats
