"""Drawing tables already computed (matplotlib only): charts, patrol cards, plans.

:mod:`~hotspot.render.charts` (profile charts), :mod:`~hotspot.render.patrol_card`
(A4 and phone cards), :mod:`~hotspot.render.streetmap` (a cell with its streets),
:mod:`~hotspot.render.plan_map` (the plan's first page) and
:mod:`~hotspot.render.patrol_plan` (a plan as CSV and PDF).
"""
