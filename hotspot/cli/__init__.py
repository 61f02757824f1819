"""The ``hotspot`` command line: one module per verb; the parser in ``main``.

Verbs parse their flags into the one :class:`~hotspot.view.View`, ask the core
(:mod:`hotspot.analysis`, :mod:`hotspot.pipeline`) and write or print; no
analysis lives here.
"""
