"""GCBM inputs: from raw rasters and tables to a runnable GCBM project (docs/gcbm-inputs.md).

- `prepare_project(source, target_dir, ...)`: upstream's upload form, a folder with a
  `project.yaml`, or a complete project (zip or folder) -> a project's config folder;
- `validate_inputs(source, ...)`: the same checks, nothing written; `InputReport`;
- `check_files(source, ...)`: only the checks of each file on its own, for inputs that arrive
  piece by piece (what is still missing is not a problem yet);
- `GcbmSettings`: the settings of inputs and projects, one model (`settings.py`);
- `get_config(project)` / `update_config(project, changes)`: typed, validated settings edits;
- `upload.py`: inputs in the upload form edited piece by piece (what the service's simulations
  hold): files added and removed, settings patched, the input database's tables renamed;
- `write_demo_project(target, ...)`: a synthetic project needing no downloaded data.

Every check runs and every problem is reported in one `InputProblems` (an `InputError`).
It imports `gcbm.project`, `gcbm.science` and `io`, never `gcbm.run`, `service` or `cli`.
"""

from flintcloud.gcbm.inputs.edit import config_schema, find_config_dir, get_config, update_config
from flintcloud.gcbm.inputs.model import Align, Role
from flintcloud.gcbm.inputs.prepare import check_files, prepare_project, validate_inputs
from flintcloud.gcbm.inputs.settings import GcbmSettings
from flintcloud.gcbm.inputs.validation import InputReport

__all__ = ["Align", "InputReport", "GcbmSettings", "Role", "check_files", "config_schema",
           "find_config_dir", "get_config", "prepare_project", "update_config", "validate_inputs"]
