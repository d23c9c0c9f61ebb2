"""The verdicts on a world of realistic domains (``testing/world.py``, real NSD) are the recorded ones.

``data/world_verdicts.json`` was written by the code before the look-ups were reordered to
run side by side; whatever order the questions go out in, every verdict, detail, record to
publish, SPF evaluation and People policy must stay what it was. Run twice in one process:
what one run learnt must not change the next one's verdicts. ``WORLD_VERDICTS=write``
rewrites the file (only when a verdict is meant to change, and the diff says which).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from deliverability import checks, health_settings
from deliverability.testing import world

EXPECTED = Path(__file__).parent / "data" / "world_verdicts.json"
ZONES = world.zones()
PARAMS = {"provider": "custom", "spf_include": world.INCLUDE, "dkim_selectors": ",".join(world.SELECTORS)}


def verdicts(nsd) -> dict:
    """Everything the Domain Health wizard learns about the world, as plain data."""
    params = {**PARAMS, "nameservers": nsd.address}
    settings = health_settings.resolve(params, [world.SMTP_HOST], system_nameservers=None)
    run = checks.run(world.DOMAINS, settings.options, settings.run_options, world.PEOPLE)
    return {"reports": [report.to_dict() for report in run.reports], "people": run.policies}


def test_the_verdicts_are_the_recorded_ones(nsd):
    first, second = verdicts(nsd), verdicts(nsd)
    if os.environ.get("WORLD_VERDICTS") == "write":
        EXPECTED.write_text(json.dumps(first, indent=1, sort_keys=True) + "\n")
    expected = json.loads(EXPECTED.read_text())
    assert first == second, "a second run in the same process gave other verdicts"
    for report, recorded in zip(first["reports"], expected["reports"], strict=True):
        assert report == recorded, report["domain"]
    assert first["people"] == expected["people"]
    statuses = {r["status"] for r in first["reports"]}
    assert statuses == {"pass", "warning", "fail"}, "the world exercises every verdict"
    evaluated = {e["ip"] for r in first["reports"] for e in r["spf_evaluations"]}
    assert evaluated == {"192.0.2.25", "2001:db8:25::25"}, "the SMTP host's addresses"
