"""Build the demonstration operation "Op Meero 2025" shipped in data/operations/.

A DEMONSTRATION modelled on the partnership's Op Meero (Southampton East,
July-August 2023, described in the VRP strategy launch): NOT a real operation.
It runs in Southampton from 1 June to 31 July 2025, two whole months inside the
embedded data that avoid August 2025 (police.uk's August file is flagged
implausible and left out of analyses).

How it is made (all from the embedded default store):

1. the operation area is Southampton's city-centre and east wards (Bargate,
   Bevois, Peartree, Bitterne; super-generalised polygons closed by 200 m so
   they form one area), inside the Southampton CSP;
2. hot spots are found with Gi* (H3 resolution 9, k = 1, FDR) on serious
   violence from October 2024 to May 2025, before the operation;
3. a patrol plan (16 patrol hours a week, 15-minute visits) ranks the hot cells
   inside the area; its cells become the patrol zones, with their peak days and
   hours as dated windows; its PAI is measured on June-July 2025;
4. the other layers follow Op Meero's list (section 60 and 35 authorisations,
   permanent and temporary CCTV, detached outreach and youth sessions, school
   engagement, retailer test purchases, surrender bins, a community meeting and
   a football event). Their places are ILLUSTRATIVE, set relative to the hot
   cells; no school, shop or venue is named.

Run from the repository root::

    .venv/bin/python scripts/make_demo_operation.py

It writes data/operations/op_meero_2025.geojson and logs the patrol plan's
coverage and the evaluation's reading.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import shapely
from shapely.geometry import Point

from hotspot.analysis import evaluation_rows, rows_between, training_hotspots
from hotspot.boundaries import load_csps, load_wards
from hotspot.ingest.store import DEFAULT_STORE, load_occurrences
from hotspot.operations import (
    DEMO_OPERATION_FILE,
    Activity,
    Operation,
    TimeWindow,
    check_operation,
    daily_windows,
    export_operations,
    operation_from_hotspots,
)
from hotspot.operations.evaluate import Evaluation, evaluate_operation
from hotspot.operations.patrol import PatrolPlan, patrol_windows, plan_patrols

logger = logging.getLogger("make_demo_operation")

CSP_NAME = "Southampton"
WARDS = ("Bargate", "Bevois", "Peartree", "Bitterne")
PERIOD = (date(2025, 6, 1), date(2025, 7, 31))
TRAIN = ("2024-10-01", "2025-05-31")
PATROL_HOURS_PER_WEEK = 16.0
OPERATION_ID = "op-meero-2025-demo"


def _w(start: str, end: str) -> TimeWindow:
    return TimeWindow(datetime.fromisoformat(start), datetime.fromisoformat(end))


def _near(cell_centre: Point, dx: float, dy: float) -> Point:
    return Point(cell_centre.x + dx, cell_centre.y + dy)


def build(store_dir: Path) -> tuple[Operation, PatrolPlan, Evaluation]:
    """Return (operation, patrol plan, evaluation) built from the default store."""
    stored = load_occurrences(store_dir)
    occ = evaluation_rows(stored)
    csps = load_csps()
    csp = csps[csps["csp_name"] == CSP_NAME]
    csp_geom = shapely.union_all(csp.geometry.to_numpy())
    wards = load_wards()
    chosen = wards[(wards["lad_name"] == CSP_NAME) & wards["ward22_name"].isin(WARDS)]
    area = shapely.union_all(chosen.geometry.to_numpy()).buffer(200).buffer(-200)
    area = area.intersection(csp_geom)

    analysis = training_hotspots(
        stored, csp_code=str(csp["csp_code"].iloc[0]),
        start=pd.Timestamp(TRAIN[0]).date(), end=pd.Timestamp(TRAIN[1]).date())
    hot, train = analysis.view_cells(), analysis.counted.rows
    during = rows_between(stored, start=pd.Timestamp("2025-06-01").date(),
                          end=pd.Timestamp("2025-07-31").date())

    plan = plan_patrols(
        hot, train, patrol_hours_per_week=PATROL_HOURS_PER_WEEK, rank_by="harm",
        area=area, test_occurrences=during, test_label="Jun-Jul 2025 (operation)",
        title="Op Meero 2025 (demonstration): patrol plan")
    windows = patrol_windows(plan, period_start=PERIOD[0], period_end=PERIOD[1])
    op = operation_from_hotspots(
        hot, name="Op Meero 2025 (demonstration)", period_start=PERIOD[0],
        period_end=PERIOD[1], area=area, csp_code=str(csp["csp_code"].iloc[0]),
        top_n=len(plan.cells), rank_by="harm", windows=windows, status="completed")

    zones = {a.label: a.geometry.centroid for a in op.activities}
    c1, c2 = zones["Patrol zone 1"], zones["Patrol zone 2"]
    # the cell furthest east: the Bitterne hot spot when it is in the plan
    east = max(zones.values(), key=lambda p: p.x)
    extra = [
        Activity("s60_area", "s60 authorisation, city centre", c1.buffer(500),
                 windows=(_w("2025-06-14T18:00", "2025-06-15T18:00"),),
                 notes="24-hour authorisation after a reported knife incident "
                       "(illustrative)"),
        Activity("s60_area", "s60 authorisation, east", east.buffer(500),
                 windows=(_w("2025-07-12T16:00", "2025-07-13T16:00"),),
                 notes="24-hour authorisation (illustrative)"),
        Activity("s35_zone", "s35 dispersal zone, city centre",
                 shapely.union_all([c1.buffer(350), c2.buffer(350)]),
                 windows=(_w("2025-06-20T18:00", "2025-06-22T18:00"),
                          _w("2025-07-25T18:00", "2025-07-27T18:00")),
                 notes="48-hour dispersal authorisations over two weekends"),
        Activity("cctv", "Permanent camera, east shopping area", _near(east, 40, 30),
                 subtype="permanent",
                 notes="permanent camera placed in a shopping area, as in Op Meero"),
        Activity("cctv", "Temporary camera", _near(c2, -60, 40), subtype="temporary",
                 windows=(_w("2025-06-09T00:00", "2025-08-01T00:00"),)),
        Activity("outreach", "Detached outreach, one day a week",
                 east.buffer(400), subtype="detached_outreach",
                 windows=daily_windows(*PERIOD, weekdays=[2],
                                       start_time=datetime(1, 1, 1, 16).time(),
                                       end_time=datetime(1, 1, 1, 20).time())),
        Activity("outreach", "Youth football sessions", _near(c1, 300, 250),
                 subtype="youth_session",
                 windows=daily_windows(*PERIOD, weekdays=[1],
                                       start_time=datetime(1, 1, 1, 17).time(),
                                       end_time=datetime(1, 1, 1, 19).time())),
        Activity("school", "Secondary school A (illustrative location)",
                 _near(c1, 600, 500)),
        Activity("school", "Secondary school B (illustrative location)",
                 _near(east, -500, 450)),
        Activity("school", "Secondary school C (illustrative location)",
                 _near(c2, -700, -300)),
        Activity("test_purchase", "Retailer 1 (knife sales test purchase)",
                 _near(c1, 80, -60), subtype="pass",
                 windows=(_w("2025-06-18T10:00", "2025-06-18T12:00"),)),
        Activity("test_purchase", "Retailer 2 (knife sales test purchase)",
                 _near(c2, -90, 70), subtype="pass",
                 windows=(_w("2025-06-18T13:00", "2025-06-18T15:00"),)),
        Activity("test_purchase", "Retailer 3 (knife sales test purchase)",
                 _near(east, 120, -40), subtype="pass",
                 windows=(_w("2025-07-08T10:00", "2025-07-08T12:00"),)),
        Activity("surrender_bin", "Knife surrender bin, city centre",
                 _near(c1, -150, 120)),
        Activity("surrender_bin", "Knife surrender bin, east", _near(east, -120, 90)),
        Activity("community_event", "Community meeting for residents",
                 _near(east, 250, 200), subtype="meeting",
                 windows=(_w("2025-06-10T18:30", "2025-06-10T20:30"),),
                 notes="residents with the VRU, police, young people's service, "
                       "safer communities and councillors"),
        Activity("community_event", "Streets v Beats football event",
                 _near(c1, 450, 350), subtype="sport",
                 windows=(_w("2025-07-19T12:00", "2025-07-19T17:00"),)),
    ]
    activities = tuple(
        replace(a, activity_id=f"act-meero-{n:02d}")
        for n, a in enumerate(op.activities + tuple(extra), start=1)
    )
    op = replace(
        op, operation_id=OPERATION_ID, activities=activities, is_demo=True,
        description=(
            "DEMONSTRATION modelled on Op Meero (Southampton East, July-August "
            "2023); not a real operation. Patrol zones are the hot cells of a "
            "16-hour-a-week patrol plan from Gi* on serious violence, October "
            "2024 to May 2025; the places of the other activities are "
            "illustrative. Built by scripts/make_demo_operation.py."),
    )
    for text in check_operation(op):
        logger.info("check: %s", text)
    evaluation = evaluate_operation(occ, op)
    return op, plan, evaluation


def main() -> None:
    """Build the demo operation and write it as GeoJSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--out", type=Path, default=DEMO_OPERATION_FILE)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    op, plan, evaluation = build(args.store)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    export_operations([op], args.out)
    logger.info("patrol plan cells:\n%s", plan.cells[
        ["rank", "h3", "count", "peak_days", "peak_window", "times_from"]
    ].to_string(index=False))
    logger.info("coverage: %s", plan.coverage)
    for line in evaluation.reading:
        logger.info("evaluation: %s", line)


if __name__ == "__main__":
    main()
