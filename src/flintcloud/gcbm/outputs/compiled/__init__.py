"""Compiled GCBM indicators: GCBM.CompileResults' reporting tables, and annual summaries.

`compile_results(results_db, output_db)` turns a GCBM results database (`gcbm_output.db`) into
the v_* tables of upstream's `compiled_simulation_output.db`; `annual_summary(db)` sums the main
indicators per year. The indicator definitions are data (`indicators.json`, `load_indicators`).
"""

from flintcloud.gcbm.outputs.compiled.compiled_db import (
    CompiledTables,
    compile_results,
    compile_tables,
    write_compiled_db,
)
from flintcloud.gcbm.outputs.compiled.indicators import IndicatorSet, load_indicators
from flintcloud.gcbm.outputs.compiled.summary import (
    annual_summary,
    write_summary_csv,
    write_summary_json,
)

__all__ = ["CompiledTables", "IndicatorSet", "annual_summary", "compile_results",
           "compile_tables", "load_indicators", "write_compiled_db", "write_summary_csv",
           "write_summary_json"]
