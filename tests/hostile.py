"""A scenario whose names are markup, formulas and script payloads."""

STAGE = "<script>document.title='PWNED'</script>"
DEVICE = "<img src=x onerror=\"document.title='PWNED'\">"


def hostile_doc() -> dict:
    return {
        "name": "</title><script>document.title='PWNED'</script>",
        "devices": [{"name": "cpu", "memory_mb": 100}, {"name": DEVICE, "memory_mb": 100}],
        "links": [{"source": "cpu", "target": DEVICE, "latency_ms_per_mb": 0.1, "energy_mj_per_mb": 0.1}],
        "stages": [
            {"name": STAGE, "output_mb": 1, "profiles": {"cpu": {"latency_ms": 1, "energy_mj": 1, "memory_mb": 10},
                                                         DEVICE: {"latency_ms": 5, "energy_mj": 5, "memory_mb": 10}}},
            {"name": "=HYPERLINK(\"x\")", "output_mb": 0, "profiles": {DEVICE: {"latency_ms": 1, "energy_mj": 1, "memory_mb": 10}}},
            {"name": "a|b`*_[x](y)#", "output_mb": 0, "profiles": {"cpu": {"latency_ms": 2, "energy_mj": 2, "memory_mb": 10}}},
        ],
        "constraints": {"max_total_latency_ms": 50},
    }
