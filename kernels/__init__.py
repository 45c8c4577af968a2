"""Numba kernels of eip: arrays in, arrays out; installed as ``eip.kernels``.

Shared vocabulary (see ``eip.costmodel``): N stages, O options, Q = 2 + D usage dimensions
(latency ms, energy mJ, memory MB per device).

    step_use  (N, O, Q)     usage of running stage s on option o; inf latency = cannot run
    trans_use (N, O, O, 2)  latency/energy of the transfer into stage s from option a to b
    switch    (O, O)        1.0 where the two options are on different devices
    caps      (Q,)          cap per usage dimension (tolerance applied), inf = none
    coef      (3,)          score = coef . (latency, energy, switches)

A label/plan row is ``[score, switches, usage_0 .. usage_{Q-1}]`` (2 + Q floats).
"""
