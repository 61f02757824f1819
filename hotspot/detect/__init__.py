"""Hotspot detection: kernel density, Getis-Ord Gi* and space-time trends.

One statistic per module: :mod:`hotspot.detect.gistar`,
:mod:`hotspot.detect.emerging` and :mod:`hotspot.detect.kde`; results are packaged
by :mod:`hotspot.detect.result` and explained in plain English by
:mod:`hotspot.detect.explain`.
"""
