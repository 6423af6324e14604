"""Small helpers shared by tests."""

from __future__ import annotations

import io

from flintcloud.flint.config import FlintConfig
from flintcloud.flint.controller import LocalDomainController
from flintcloud.runner.examples import example_config


def without_banner(text: str) -> list[str]:
    """Lines of a moja.cli output, without the wall-clock Started:/Finished: lines."""
    return [line for line in text.split("\n") if not line.startswith(("Started:", "Finished:"))]


def run_to_text(config: FlintConfig, tmp_path, **options) -> tuple[str, object]:
    screen = io.StringIO()
    result = LocalDomainController(config, output_dir=tmp_path, screen=screen, **options).run()
    return screen.getvalue(), result


def quiet_example(name: str) -> FlintConfig:
    """An example config without its output modules (for batch and property tests)."""
    config = example_config(name)
    for module in ("OutputerStream", "OutputerStreamFlux"):
        config.data["Modules"][module]["settings"]["output_to_screen"] = False
    return config
