"""Files for partners: GeoPackage, GeoJSON, KML, GeoTIFF and CSV, with metadata.

An :class:`ExportBundle` holds the layers of one view (tables in EPSG:27700,
with or without geometry), the density surface when there is one, and the
:class:`ExportMetadata` (title, period, filters, parameters, attributions,
whether the data are SYNTHETIC). :func:`export` is the one entry point:

1. apply the disclosure rules (:mod:`hotspot.export.disclosure`) to every layer, the
   density surface and the metadata;
2. write the files into a temporary folder beside the destination;
3. run the checker (:func:`hotspot.export.disclosure.check_file`) on every file;
4. only then move them into place, and append a line to the export log
   (``APP_DATA_DIR/exports.jsonl``).

Where the metadata goes, per format (docs/exports.md):

- **GeoPackage**: per layer, ``gpkg_contents.identifier`` (title) and
  ``description`` (title, period, attributions), and a ``hotspot`` metadata
  item (JSON, in ``gpkg_metadata``) read by ``pyogrio.read_info(...)
  ["layer_metadata"]``; the whole export's JSON as dataset metadata.
- **GeoJSON**: one file per layer (WGS84, RFC 7946) with top-level foreign
  members ``title`` and ``metadata``.
- **KML**: ``Document/name`` (title), ``Document/description`` (readable
  text) and ``Document/ExtendedData`` (JSON per key); one Folder per layer,
  each placemark's values as typed ``SchemaData``; Gi* bins styled.
- **GeoTIFF**: dataset tags ``title``, ``period``, ``filters``,
  ``parameters``, ``attribution``, ``licence``, ``synthetic``,
  ``disclosure`` beside the surface's own tags.
- **CSV**: one file per table, with a CSV-on-the-Web style sidecar
  ``NAME.csv-metadata.json``.
"""

from __future__ import annotations

import dataclasses
import getpass
import hashlib
import io
import json
import logging
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspot import settings
from hotspot.crs import require_bng
from hotspot.detect.kde import KDEResult
from hotspot.errors import ParameterError
from hotspot.export.checks import check_frame
from hotspot.export.disclosure import (
    CSV_METADATA_SUFFIX,
    DEFAULT_RULES,
    SOURCES_SUFFIX,
    DisclosureError,
    DisclosureRules,
    apply_rules,
    at_floor,
    band_density,
    check_file,
    suppress_metadata,
)
from hotspot.export.files import (
    BIN_STYLE,
    density_contours,
    write_csv,
    write_geojson,
    write_geotiff,
    write_gpkg,
    write_kml,
)
from hotspot.export.formats import FOLDER_FORMATS, FORMATS

__all__ = [
    "ATTRIBUTIONS", "BIN_STYLE", "FORMATS", "LICENCES", "ExportBundle",
    "ExportMetadata", "ExportRecord", "density_contours", "disclose", "export",
    "export_download", "log_export", "read_export_log", "write_csv", "write_geojson",
    "write_geotiff", "write_gpkg", "write_kml",
]

logger = logging.getLogger(__name__)

#: Attribution lines carried by every export (data/README.md).
ATTRIBUTIONS: tuple[str, ...] = (
    "Contains public sector information licensed under the Open Government "
    "Licence v3.0.",
    "Source: Office for National Statistics licensed under the Open Government "
    "Licence v3.0. Contains OS data © Crown copyright and database right.",
    "Contains OS data © Crown copyright and database right 2025. Contains Royal "
    "Mail data © Royal Mail copyright and database right 2025. Contains National "
    "Statistics data © Crown copyright and database right 2025.",
    "GeoNames (geonames.org), CC BY 4.0.",
)
LICENCES: tuple[str, ...] = (
    "Open Government Licence v3.0 "
    "(https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/)",
    "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)",
)
SYNTHETIC_LABEL = "SYNTHETIC"
LOG_FILE = "exports.jsonl"


@dataclass(frozen=True)
class ExportMetadata:
    """What every export file says about itself.

    Attributes
    ----------
    title : str
        Human title, e.g. "Serious violence hot spots, Southampton".
    period : str
        Data period, e.g. "2025-01 to 2025-09".
    filters : dict
        Filters applied (categories, flags, CSP).
    parameters : dict
        Analysis parameters (resolution, k, alpha, bandwidth, ...).
    synthetic : bool
        True when any of the data are SYNTHETIC: the title then says so.
    attributions : tuple of str
        Source attribution lines.
    licences : tuple of str
        Licences of the sources.
    disclosure : dict
        Rules applied and what they changed (filled in by :func:`export`).
    created : str
        UTC time the export was made (ISO 8601).
    """

    title: str
    period: str
    filters: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    synthetic: bool = False
    attributions: tuple[str, ...] = ATTRIBUTIONS
    licences: tuple[str, ...] = LICENCES
    disclosure: dict[str, Any] = field(default_factory=dict)
    created: str = field(
        default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )

    @property
    def full_title(self) -> str:
        """The title, prefixed ``SYNTHETIC:`` when the data are synthetic."""
        if self.synthetic and SYNTHETIC_LABEL not in self.title:
            return f"{SYNTHETIC_LABEL}: {self.title}"
        return self.title

    def to_dict(self) -> dict[str, Any]:
        """Return every field as JSON-ready values (title with its label)."""
        out = json.loads(json.dumps(dataclasses.asdict(self), default=str))
        out["title"] = self.full_title
        if self.synthetic:
            out["data_label"] = (
                f"{SYNTHETIC_LABEL}: generated data, not real police records"
            )
        return dict(out)

    def text(self) -> str:
        """Return a few readable lines: title, period, filters, sources."""
        lines = [self.full_title, f"Period: {self.period}"]
        if self.filters:
            lines.append("Filters: " + "; ".join(
                f"{k}: {_plain_value(v)}" for k, v in self.filters.items()))
        if self.parameters:
            lines.append("Parameters: " + "; ".join(
                f"{k}: {_plain_value(v)}" for k, v in self.parameters.items()))
        if self.synthetic:
            lines.append("SYNTHETIC data: generated, not real police records.")
        lines.extend(self.attributions)
        return "\n".join(lines)


def _plain_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class ExportBundle:
    """The layers of one view, ready to export.

    Attributes
    ----------
    layers : dict of str to DataFrame
        Layer name → table. GeoDataFrames in EPSG:27700 are map layers; plain
        DataFrames are tables (CSV, GeoPackage attribute tables, briefing).
    metadata : ExportMetadata
        Title, period, filters, parameters, attributions.
    density : KDEResult or None
        The kernel density surface (GeoTIFF, contours), when there is one.
    notes : dict of str to str
        Sections left out and why (e.g. ``{"fires": "no fire data loaded"}``).
    """

    layers: dict[str, pd.DataFrame]
    metadata: ExportMetadata
    density: KDEResult | None = None
    notes: dict[str, str] = field(default_factory=dict)

    def geo_layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Return the layers with geometry."""
        return {k: v for k, v in self.layers.items()
                if isinstance(v, gpd.GeoDataFrame)}


@dataclass(frozen=True)
class ExportRecord:
    """What one export wrote: files, rules, and the log line."""

    files: list[Path]
    log_entry: dict[str, Any]


# ----------------------------------------------------------------------------
# disclosure over a bundle
# ----------------------------------------------------------------------------


def disclose(
    bundle: ExportBundle, *, rules: DisclosureRules = DEFAULT_RULES
) -> ExportBundle:
    """Return a copy of ``bundle`` with the disclosure rules applied everywhere.

    Parameters
    ----------
    bundle : ExportBundle
        Layers as computed (true counts, z, p, ...). Not modified.
    rules : DisclosureRules, keyword-only
        The rules; the deployment floor is applied to them
        (:func:`hotspot.export.disclosure.at_floor`).

    Returns
    -------
    ExportBundle
        Statistics (z, p, q, ring sums) and forbidden fields dropped; small
        counts suppressed with the derived values of their rows, and a
        secondary cell where a study area needs one; counts and magnitudes
        rounded; Gi* bins withheld where a second world would change them
        (:mod:`hotspot.export.protect`); top tables ordered by what is shown;
        the density surface banded; the metadata's small totals suppressed
        and its ``disclosure`` entry saying what was done.

    Raises
    ------
    DisclosureError
        When a layer cannot be made to comply (points, too fine H3 cells).
    """
    from hotspot.export.protect import order_by_shown

    if not isinstance(bundle, ExportBundle):
        raise ParameterError(
            f"bundle must be an ExportBundle, got {type(bundle).__name__}"
        )
    rules = at_floor(rules)
    changes: dict[str, Any] = {}
    secondary, bins, guarded = _protect(bundle, rules=rules, changes=changes)
    layers: dict[str, pd.DataFrame] = {}
    for name, frame in bundle.layers.items():
        if isinstance(frame, gpd.GeoDataFrame):
            require_bng(frame, name=f"layer {name!r}")
        source = frame
        hide = None
        if "h3" in frame.columns and (secondary or bins):
            ids = frame["h3"].astype(str)
            hide = ids.isin(secondary).to_numpy()
            if "bin" in frame.columns and bins:
                source = frame.copy()
                source["bin"] = ids.map(bins).where(ids.isin(list(bins)),
                                                    frame["bin"]).to_numpy(float)
        clean, applied = apply_rules(source, rules=rules, name=name, hide_rows=hide,
                                     protected_classes=guarded.get(name, ()))
        if "rank" in clean.columns and "h3" in clean.columns and \
                not isinstance(clean, gpd.GeoDataFrame):
            clean = order_by_shown(clean)
        layers[name] = clean
        changes.setdefault(name, {}).update(dataclasses.asdict(applied))
    density = bundle.density
    if density is not None:
        banded, n_zeroed = band_density(density.values,
                                        bandwidth_m=density.bandwidth_m, rules=rules)
        density = dataclasses.replace(density, values=banded)
        changes["density"] = {
            "cells_below_floor_set_to_0": n_zeroed,
            "floor_per_km2": round(rules.density_floor_per_km2(density.bandwidth_m), 4),
            "banded": "floor times a power of two",
        }
    meta = bundle.metadata
    record = {"rules": rules.to_dict(), "applied": changes}
    metadata = dataclasses.replace(
        meta,
        filters=suppress_metadata(meta.filters, rules=rules),
        parameters=suppress_metadata(meta.parameters, rules=rules),
        disclosure=record,
    )
    return ExportBundle(layers=layers, metadata=metadata, density=density,
                        notes=dict(bundle.notes))


#: The layer whose Gi* bins are checked in second worlds.
GISTAR_LAYER = "hotspots"


def _protect(
    bundle: ExportBundle, *, rules: DisclosureRules, changes: dict[str, Any]
) -> tuple[set[str], dict[str, float], dict[str, tuple[str, ...]]]:
    """Secondary suppressions (H3 cells), shipped bins per H3 cell, guarded layers."""
    from hotspot.export.protect import protect_cells

    cells = bundle.layers.get(GISTAR_LAYER)
    if cells is None or not {"h3", "count", "bin"} <= set(cells.columns):
        return set(), {}, {}
    counts = pd.to_numeric(cells["count"], errors="coerce")
    if counts.isna().any():  # already suppressed upstream: nothing to recompute from
        return set(), {}, {}
    p = bundle.metadata.parameters
    scope = str(p.get("scope", "csp"))
    exact = (str(p.get("weight", "count")) == "count"
             and not int(p.get("permutations", 0) or 0)
             and (scope == "csp" or "csp_code" not in cells.columns
                  or cells["csp_code"].nunique() >= 14))
    area = "csp_code" if scope == "csp" and "csp_code" in cells.columns else None
    result = protect_cells(cells, min_count=rules.min_count, k=int(p.get("k", 1)),
                           fdr=bool(p.get("fdr", True)), area_column=area,
                           exact_bins=exact)
    ids = cells["h3"].astype(str).to_numpy()
    changes[GISTAR_LAYER] = {"secondary_suppressed": int(result.secondary.sum()),
                             "bins_withheld": result.withheld,
                             "bin_protection": result.method}
    bins: dict[str, float] = dict(zip(ids.tolist(), result.bins.tolist(),
                                      strict=True))
    guarded: dict[str, tuple[str, ...]] = {
        name: ("bin",) for name, frame in bundle.layers.items()
        if "h3" in frame.columns and "bin" in frame.columns}
    return set(ids[result.secondary].tolist()), bins, guarded


# ----------------------------------------------------------------------------
# the entry point
# ----------------------------------------------------------------------------


def check_format(fmt: str) -> str:
    """Return ``fmt`` when it is one of :data:`FORMATS`, else raise."""
    if fmt not in FORMATS:
        raise ParameterError(f"format must be one of {FORMATS}, got {fmt!r}")
    return fmt


def export(
    bundle: ExportBundle,
    *,
    fmt: str,
    out: Path | str,
    rules: DisclosureRules = DEFAULT_RULES,
    log_dir: Path | str | None = None,
    csp: str | None = None,
    delivered_as: str | None = None,
) -> ExportRecord:
    """Apply the disclosure rules, write, check, move into place and log.

    Parameters
    ----------
    bundle : ExportBundle
        Layers as computed (not modified).
    fmt : {"gpkg", "geojson", "kml", "tif", "csv", "pdf", "png"}, keyword-only
        Format.
    out : pathlib.Path or str, keyword-only
        Destination: a file for gpkg, kml, tif, pdf and png; a folder (created)
        for geojson and csv, which write one file per layer. Existing files of
        the same names are replaced.
    rules : DisclosureRules, keyword-only
        Disclosure rules.
    log_dir : pathlib.Path or str, optional, keyword-only
        Folder of the export log; ``APP_DATA_DIR`` by default.
    csp : str, optional, keyword-only
        For pdf and png: the CSP the briefing is about (its name, for titles).
    delivered_as : str, optional, keyword-only
        How the files reach the user when not at ``out`` (e.g. ``"download
        hot.gpkg"``), recorded in the log.

    Returns
    -------
    ExportRecord
        Files written and the log entry.

    Raises
    ------
    DisclosureError
        When a written file fails the checker: nothing is moved into place.
    """
    check_format(fmt)
    rules = at_floor(rules)
    target = Path(out)
    parent = target if fmt in FOLDER_FORMATS else target.parent
    if not (parent.is_dir() or (fmt in FOLDER_FORMATS and target.parent.is_dir())):
        raise ParameterError(f"out must be in an existing folder; {parent} is not")
    if fmt not in FOLDER_FORMATS:
        wanted = {"gpkg": (".gpkg",), "kml": (".kml",), "tif": (".tif", ".tiff"),
                  "pdf": (".pdf",), "png": (".png",)}[fmt]
        if target.suffix.lower() not in wanted:
            raise ParameterError(
                f"out must end in {' or '.join(wanted)} for format {fmt}, got {target}"
            )
    clean = disclose(bundle, rules=rules)
    for name, frame in clean.layers.items():  # belt and braces before writing
        found = check_frame(frame, rules=rules, name=name)
        if found:
            raise DisclosureError(name, found)
    staging_parent = target.parent if fmt in FOLDER_FORMATS else parent
    with tempfile.TemporaryDirectory(prefix=".export-", dir=staging_parent) as tmp:
        stage = Path(tmp)
        written = _write(clean, fmt=fmt, stage=stage, name=target.name, csp=csp)
        for path in written:
            if path.name.endswith((CSV_METADATA_SUFFIX, SOURCES_SUFFIX)):
                continue  # sidecars: checked with the file they describe
            found = check_file(path, rules=rules)
            if found:
                raise DisclosureError(target / path.name if fmt in FOLDER_FORMATS
                                      else target, found)
        final = _move_into_place(written, stage=stage, target=target, fmt=fmt)
    entry = _log_entry(clean, fmt=fmt, files=final, rules=rules)
    if delivered_as is not None:
        entry["delivered_as"] = delivered_as
    log_export(entry, log_dir=log_dir)
    logger.info("exported %s: %s", fmt, ", ".join(str(p) for p in final))
    return ExportRecord(files=final, log_entry=entry)


def export_download(
    bundle: ExportBundle,
    *,
    fmt: str,
    name: str,
    rules: DisclosureRules = DEFAULT_RULES,
    log_dir: Path | str | None = None,
    csp: str | None = None,
) -> tuple[str, bytes]:
    """Export through :func:`export` into a temporary folder and return the bytes.

    For the app's download buttons. Single-file formats return the file;
    ``geojson`` and ``csv`` return a zip of the folder (with the CSV sidecars).
    The checks and the log are those of :func:`export` (the log line says
    ``delivered_as: "download NAME"``).

    Parameters
    ----------
    bundle : ExportBundle
        Layers as computed (not modified).
    fmt : str, keyword-only
        One of :data:`FORMATS`.
    name : str, keyword-only
        File stem offered to the user (letters, digits, ``-`` and ``_``).
    rules, log_dir, csp : keyword-only
        As for :func:`export`.

    Returns
    -------
    file_name : str
        ``NAME.gpkg`` … or ``NAME_geojson.zip`` / ``NAME_csv.zip``.
    data : bytes
        The file's content.
    """
    import re
    import zipfile

    check_format(fmt)
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,80}", name):
        raise ParameterError(
            f"name must be 1-80 letters, digits, '-' or '_', got {name!r}"
        )
    suffix = {"tif": ".tif"}.get(fmt, f".{fmt}")
    file_name = f"{name}_{fmt}.zip" if fmt in FOLDER_FORMATS else f"{name}{suffix}"
    with tempfile.TemporaryDirectory(prefix="hotspot-download-") as tmp:
        out = Path(tmp) / (name if fmt in FOLDER_FORMATS else file_name)
        record = export(bundle, fmt=fmt, out=out, rules=rules, log_dir=log_dir,
                        csp=csp, delivered_as=f"download {file_name}")
        if fmt not in FOLDER_FORMATS:
            return file_name, out.read_bytes()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in record.files:
                archive.write(path, arcname=f"{name}/{path.name}")
        return file_name, buffer.getvalue()


def _write(
    bundle: ExportBundle, *, fmt: str, stage: Path, name: str, csp: str | None
) -> list[Path]:
    if fmt == "gpkg":
        return write_gpkg(bundle, stage / name)
    if fmt == "kml":
        return write_kml(bundle, stage / name)
    if fmt == "tif":
        return write_geotiff(bundle, stage / name)
    if fmt == "geojson":
        return write_geojson(bundle, stage)
    if fmt == "csv":
        return write_csv(bundle, stage)
    from hotspot.export.briefing import write_briefing_pdf, write_map_png

    if fmt == "pdf":
        return write_briefing_pdf(bundle, stage / name, csp=csp)
    return write_map_png(bundle, stage / name, csp=csp)


def _move_into_place(
    written: list[Path], *, stage: Path, target: Path, fmt: str
) -> list[Path]:
    dest_dir = target if fmt in FOLDER_FORMATS else target.parent
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = []
    for path in written:
        rel = path.relative_to(stage)
        dest = dest_dir / rel
        shutil.move(str(path), str(dest))
        final.append(dest)
    return final


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _log_entry(
    bundle: ExportBundle, *, fmt: str, files: list[Path], rules: DisclosureRules
) -> dict[str, Any]:
    meta = bundle.metadata
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "user": user,
        "format": fmt,
        "files": [{"path": str(p.resolve()), "sha256": _sha256(p)} for p in files],
        "title": meta.full_title,
        "period": meta.period,
        "synthetic": meta.synthetic,
        "filters": meta.filters,
        "parameters": meta.parameters,
        "layers": {k: len(v) for k, v in bundle.layers.items()},
        "rules": rules.to_dict(),
        "applied": meta.disclosure.get("applied", {}),
        "notes": bundle.notes,
        "check": "passed",
    }


def log_export(entry: Mapping[str, Any], *, log_dir: Path | str | None = None) -> Path:
    """Append one JSON line to the export log and return the log's path."""
    folder = Path(log_dir) if log_dir is not None else settings.APP_DATA_DIR
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / LOG_FILE
    with log.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(dict(entry), ensure_ascii=False, default=str) + "\n")
    return log


def read_export_log(log_dir: Path | str | None = None) -> list[dict[str, Any]]:
    """Return the export log's entries, oldest first (empty when there is none)."""
    folder = Path(log_dir) if log_dir is not None else settings.APP_DATA_DIR
    log = folder / LOG_FILE
    if not log.is_file():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()
            if line.strip()]
