"""A few hundred cases of the fuzz campaign (`python tests/fuzz.py` runs 10,000): no exit 3,
no traceback, no multi-line message, no plan that breaks a budget or misses the optimum."""

from fuzz import campaign


def test_fuzz_campaign_finds_nothing():
    counts, failures = campaign(300, seed=7, progress=False)
    assert failures == [], failures[:5]
    assert counts["exit 0"] > 50 and counts["exit 2"] > 50  # both plans and refusals were exercised
    assert counts["exit 3"] == 0 and counts["exit -1"] == 0
