"""The built-in FLINT examples, run end to end: the default job of `flintcloud demo`."""

from __future__ import annotations

import io
from pathlib import Path

from flintcloud.flint.config import FlintConfig
from flintcloud.flint.controller import run_config
from flintcloud.models.example.defaults import point_config
from flintcloud.models.rothc.defaults import rothc_config

EXAMPLES = {"point": point_config, "rothc": rothc_config}


def example_config(name: str) -> FlintConfig:
    return FlintConfig.from_documents(EXAMPLES[name]())


def run_examples(output_dir: str | Path) -> dict[str, list[Path]]:
    """Run each example into output_dir/<name>/; the screen copy of the stock CSV is discarded."""
    written = {}
    for name in EXAMPLES:
        result = run_config(example_config(name), output_dir=Path(output_dir) / name,
                            screen=io.StringIO())
        written[name] = result.files
    return written
