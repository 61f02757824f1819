"""Operations (modelled on Op Meero): the model, making them, tables, the store, files.

Patrol plans are in :mod:`hotspot.operations.patrol`, did-it-work checks in
:mod:`hotspot.operations.evaluate`.
"""

from __future__ import annotations

from hotspot.operations.files import (
    export_operations,
    import_operations,
)
from hotspot.operations.make import (
    daily_windows,
    duplicate_operation,
    operation_from_hotspots,
)
from hotspot.operations.model import (
    ACTIVITY_KINDS,
    DEFAULT_STORE_PATH,
    DEFAULT_VISIT_MINUTES,
    DEMO_OPERATION_FILE,
    HIPS_TOLERANCE_M,
    KOPER_MAX_MINUTES,
    KOPER_MIN_MINUTES,
    OPERATIONS_DATA_DIR,
    STATUSES,
    Activity,
    ActivityKind,
    Operation,
    OperationConflictError,
    OperationError,
    OperationNotFoundError,
    StoreBusyError,
    TimeWindow,
    Validation,
    area_from_cells,
    check_operation,
    validate_operation,
)
from hotspot.operations.store import (
    OperationStore,
    open_default_store,
)
from hotspot.operations.tables import (
    activities_table,
    operations_table,
    timeline_table,
)

__all__ = [
    "ACTIVITY_KINDS",
    "Activity",
    "ActivityKind",
    "DEFAULT_STORE_PATH",
    "DEFAULT_VISIT_MINUTES",
    "DEMO_OPERATION_FILE",
    "HIPS_TOLERANCE_M",
    "KOPER_MAX_MINUTES",
    "KOPER_MIN_MINUTES",
    "OPERATIONS_DATA_DIR",
    "Operation",
    "OperationConflictError",
    "OperationError",
    "OperationNotFoundError",
    "OperationStore",
    "STATUSES",
    "StoreBusyError",
    "TimeWindow",
    "Validation",
    "activities_table",
    "area_from_cells",
    "check_operation",
    "daily_windows",
    "duplicate_operation",
    "export_operations",
    "import_operations",
    "open_default_store",
    "operation_from_hotspots",
    "operations_table",
    "timeline_table",
    "validate_operation",
]
