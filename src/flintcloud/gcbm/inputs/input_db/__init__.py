"""GCBM's parameter database, `gcbm_input.db`: build it from CBM-CFS3 defaults, compare two of them.

`build_input_db` maps libcbm's `cbm_defaults` database onto GCBM's schema and adds the user's yield
tables; `compare_parameters` measures how two such databases differ, table by table.
"""

from flintcloud.gcbm.inputs.input_db.build import (
    BuildSummary,
    build_input_db,
    default_cbm_defaults_path,
)
from flintcloud.gcbm.inputs.input_db.compare import (
    ParameterComparison,
    TableComparison,
    compare_parameters,
)
from flintcloud.gcbm.inputs.input_db.yield_tables import YieldTables, read_yield_tables

__all__ = [
    "BuildSummary", "ParameterComparison", "TableComparison", "YieldTables", "build_input_db",
    "compare_parameters", "default_cbm_defaults_path", "read_yield_tables",
]
