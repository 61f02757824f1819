"""The partner-file formats (a light module: the command line's ``--help`` reads it)."""

from __future__ import annotations

FORMATS: tuple[str, ...] = ("gpkg", "geojson", "kml", "tif", "csv", "pdf", "png")
#: Formats written as a folder of files (one per layer); the others as one file.
FOLDER_FORMATS: tuple[str, ...] = ("geojson", "csv")
