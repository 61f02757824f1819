"""Rebuild the whole embedded data set from ../shared/data, in order.

1. boundaries (CSPs, LSOAs, wards)      scripts/build_boundaries.py
2. H3 study cells shipped for the app   scripts/build_grid.py
3. police.uk street crime (parquet)     scripts/build_police_uk.py
4. gazetteers for the geocoder          scripts/build_gazetteer.py
5. IMD, population (context overlays)   scripts/build_context.py
6. the SYNTHETIC records extract        scripts/make_synthetic_extract.py
7. the SYNTHETIC fire incidents         scripts/make_synthetic_fires.py
8. the default store the app opens      police.uk + synthetic extract, ingested
9. the demo operation (Op Meero 2025)   scripts/make_demo_operation.py (reads the store)
10. street labels, roads, POIs for the map  scripts/build_streets.py

Run: ``make data`` (or ``.venv/bin/python scripts/build_all.py``). Each step is
deterministic, so a rebuild reproduces the committed files.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from pathlib import Path

from hotspot.ingest.mapping import load_mapping
from hotspot.ingest.store import DEFAULT_STORE
from hotspot.pipeline import ingest_to_store
from hotspot.settings import DATA_DIR, ROOT

logger = logging.getLogger("build_all")

STEPS = (
    "build_boundaries.py",
    "build_police_uk.py",
    "build_gazetteer.py",
    "make_synthetic_extract.py",
    "build_streets.py",
)
POLICE_UK = DATA_DIR / "police_uk" / "hampshire_street_2024-01_2025-09.parquet"
SYNTHETIC = DATA_DIR / "synthetic" / "SYNTHETIC_rms_extract_2024-10_2025-09.csv"
SYNTHETIC_MAPPING = DATA_DIR / "mappings" / "synthetic_rms.toml"


def build_default_store(out: Path = DEFAULT_STORE) -> None:
    """Ingest the embedded police.uk file and the synthetic extract into ``out``."""
    result = ingest_to_store(
        [POLICE_UK, SYNTHETIC], out, mapping=load_mapping(SYNTHETIC_MAPPING)
    )
    rows = result.summary["rows"]
    logger.info(
        "default store: read %d = accepted %d + rejected %d",
        rows["read"],
        rows["accepted"],
        rows["rejected"],
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--store-only",
        action="store_true",
        help="only rebuild the default store from the embedded files",
    )
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    if not args.store_only:
        for number, script in enumerate(STEPS, start=1):
            logger.info("step %d/%d: %s", number, len(STEPS) + 2, script)
            subprocess.run([sys.executable, str(ROOT / "scripts" / script)], check=True)
    logger.info("step %d/%d: default store", len(STEPS) + 1, len(STEPS) + 2)
    build_default_store()
    if not args.store_only:
        logger.info("step %d/%d: demo operation", len(STEPS) + 2, len(STEPS) + 2)
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "make_demo_operation.py")],
            check=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
