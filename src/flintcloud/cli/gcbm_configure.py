"""`flintcloud gcbm configure PROJECT`: edit a prepared project's settings in place, as
`PATCH /simulations/{id}/config` edits a simulation's: `--set` a setting, `--enable` or
`--disable` an optional module (gcbm/project/modules.py), `--patch` configuration files with
JSON merge patches (gcbm/inputs/patches.py). The whole edit is checked (types, then
against the project's database and rasters) before any file changes; every problem is one line,
exit code 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from flintcloud.errors import InputProblems

SETTING = "--set"
PATCH = "--patch"


def configure(
    project: Annotated[Path, typer.Argument(help="A prepared GCBM project (its folder or "
                                                 "config/ folder).")],
    settings: Annotated[list[str] | None, typer.Option(
        SETTING, help="key=value: a setting by its dotted path (end_year=2015, "
                      "growth.smoother_enabled=false, disturbance_order.user='[\"Wildfire\"]'); "
                      "a value that is not JSON is a string. Repeatable.")] = None,
    enable: Annotated[list[str] | None, typer.Option(
        "--enable", help="Switch an optional module on (its name or settings key, e.g. "
                         "GrowthMultiplierModule). Repeatable.")] = None,
    disable: Annotated[list[str] | None, typer.Option(
        "--disable", help="Switch an optional module off. Repeatable.")] = None,
    patch: Annotated[Path | None, typer.Option(
        PATCH, help="A JSON file mapping configuration file names to JSON merge patches "
                    '(RFC 7396), e.g. {"variables.json": {"Variables": '
                    '{"slow_ag_to_bg_mixing_rate": 0.01}}}; applied after the settings.')] = None,
) -> None:
    """Change a prepared project's settings, modules and configuration files; a bad value
    changes nothing."""
    from flintcloud.gcbm.inputs import get_config
    from flintcloud.gcbm.inputs.edit import check_changes
    from flintcloud.gcbm.inputs.patches import configure_project
    from flintcloud.gcbm.project.modules import describe_modules

    problems = InputProblems()
    changes = configure_changes(settings or [], enable or [], disable or [], problems)
    patches = read_patches(patch, problems) if patch is not None else {}
    if problems.problems:  # the values' own problems too, before giving up
        try:
            check_changes(project, changes)
        except InputProblems as more:
            problems.add_error(more)
        problems.raise_if_any("gcbm configure")
    if not changes and not patches:
        raise typer.BadParameter("nothing to change: give --set, --enable, --disable or --patch")
    written = configure_project(project, changes, patches)
    updated = get_config(project)
    if patches:
        typer.echo(f"patched {', '.join(sorted(patches))}; files written: "
                   f"{', '.join(written) or 'none'}", err=True)
    typer.echo(f"configured {project}: {', '.join(sorted(_paths(changes)))}", err=True)
    document = updated.model_dump(mode="json", exclude_none=True)
    states = [f"{m['name']} {'on' if m['enabled'] else 'off'}"
              for m in describe_modules(document) if m["optional"]]
    typer.echo(f"optional modules: {'; '.join(states)}", err=True)


def read_patches(path: Path, problems: InputProblems) -> dict[str, Any]:
    """The `--patch` file: {configuration file name: merge patch}; a problem in `problems`
    when it cannot be read or is not such a mapping."""
    from flintcloud.io.documents import DocumentError, parse_json

    try:
        document = parse_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, DocumentError, ValueError) as err:
        problems.add(f"cannot be read as JSON: {err}", source=path.name, field=PATCH)
        return {}
    if not isinstance(document, dict):
        problems.add("expected an object: {configuration file name: merge patch, ...}",
                     source=path.name, field=PATCH)
        return {}
    return document


def configure_changes(settings: list[str], enable: list[str], disable: list[str],
                      problems: InputProblems) -> dict[str, Any]:
    """The settings changes of the options; a problem in `problems` for each bad option."""
    from flintcloud.gcbm.project.modules import MODULES

    changes: dict[str, Any] = {}
    for assignment in settings:
        key, equals, text = assignment.partition("=")
        path = [part.strip() for part in key.split(".")]
        if not equals or not all(path):
            problems.add(f"{assignment!r}: expected key=value (a dotted settings path)",
                         source=SETTING)
            continue
        _set(changes, path, _value(text))
    switches = {name.lower(): module for module in MODULES if module.switch
                for name in (module.name, module.settings_key or module.name)}
    for option, names, on in (("--enable", enable, True), ("--disable", disable, False)):
        for name in names:
            module = switches.get(name.lower())
            if module is None or module.switch is None:
                problems.add(f"{name!r} is not an optional module; optional: "
                             f"{', '.join(sorted({m.name for m in switches.values()}))}",
                             source=option)
                continue
            _set(changes, module.switch.split("."), on)
    return changes


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _set(target: dict[str, Any], path: list[str], value: Any) -> None:
    node = target
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


def _paths(changes: dict[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for key, value in changes.items():
        path = f"{prefix}{key}"
        out.extend(_paths(value, f"{path}.") if isinstance(value, dict) and value else [path])
    return out
