"""Hand edits of a GCBM project's JSON configuration files (`localdomain.json`,
`variables.json`, `modules_cbm.json`, ...): a file is patched with a JSON merge patch (RFC 7396)
or replaced, and the edited project is checked as an uploaded complete project is (the engine's
config reader, then `check_project`) before anything is written. Every problem names its file
and JSON path.

The files that can be edited are the project's own: those its gcbm_config.cfg lists, and
provider_config.json. A name is looked up in that list, never used as a path.

`FileEdit` is what the service keeps per simulation: a patch is stored as the difference
between the generated file and the edited one, so it is applied again on top of a regenerated
project (after new uploads or settings); a replacement stays as given.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from flintcloud.errors import ConfigError, InputError, InputProblems, NotFoundError
from flintcloud.gcbm.inputs.config import CONFIG_LIST, PROVIDER_FILE, _config_files
from flintcloud.gcbm.inputs.edit import update_config
from flintcloud.gcbm.inputs.settings import merge_patch
from flintcloud.gcbm.inputs.validation import check_project
from flintcloud.io.documents import DocumentError, check_nesting
from flintcloud.io.files import atomic_path

EditKind = Literal["patch", "replace"]


@dataclass(frozen=True)
class FileEdit:
    """One file's edit: a merge patch of the generated file, or the file's new content."""

    kind: EditKind
    document: Any

    def apply(self, generated: Any) -> Any:
        return merge_patch(generated, self.document) if self.kind == "patch" else self.document

    def to_json(self) -> dict[str, Any]:
        return {self.kind: self.document}

    @classmethod
    def from_json(cls, value: Any) -> FileEdit:
        if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in \
                ("patch", "replace"):
            raise ConfigError("an edit is {\"patch\": ...} or {\"replace\": ...}")
        kind, document = next(iter(value.items()))
        return cls(kind, document)


Edits = dict[str, FileEdit]  # file name -> its edit


def diff_patch(before: Any, after: Any) -> Any:
    """The merge patch turning `before` into `after` (the inverse of `merge_patch`): exact
    when `after` has no null that `before` lacks at the same place, which holds for any
    document made from `before` by merge patches (a patch cannot write a null)."""
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return after
    patch: dict[str, Any] = {key: None for key in before if key not in after}
    for key, value in after.items():
        if key not in before:
            patch[key] = value
        elif before[key] != value:
            patch[key] = diff_patch(before[key], value)
    return patch


# -- the files ------------------------------------------------------------------------------------

def config_file_names(config_dir: Path) -> list[str]:
    """The project's JSON configuration files: those gcbm_config.cfg lists (in its order), then
    provider_config.json; only plain file names of files in `config_dir`."""
    listed = _config_files((config_dir / CONFIG_LIST).read_text(encoding="utf-8"))
    names = []
    for name in [*listed, PROVIDER_FILE]:
        # A complete project's gcbm_config.cfg could name a file elsewhere: never edited.
        if name not in names and Path(name).name == name and name.endswith(".json") and \
                "\\" not in name and (config_dir / name).is_file():
            names.append(name)
    return names


def find_file_name(name: str, names: list[str]) -> str | None:
    """The configuration file `name` means (`variables` or `variables.json`), or None."""
    for candidate in (name, f"{name}.json"):
        if candidate in names:
            return candidate
    return None


def file_name(name: str, names: list[str]) -> str:
    """`find_file_name`, or NotFoundError listing the files."""
    found = find_file_name(name, names)
    if found is None:
        raise NotFoundError(f"no configuration file {name!r}", field="name",
                            hint=f"files: {', '.join(names)}")
    return found


def read_document(config_dir: Path, name: str) -> Any:
    """A configuration file of `config_dir` (a name from `config_file_names`) as JSON."""
    try:
        return json.loads((config_dir / name).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"cannot be read as JSON: {err}", source=name) from err


# -- edits ---------------------------------------------------------------------------------------

def edit_file(edits: Edits, generated: Any, name: str, *, patch: Any = None,
              replacement: Any = None) -> Edits:
    """`edits` with file `name`'s edit updated: `replacement` replaces the file; else `patch`
    (a merge patch) applies over its current content. `generated` is the file as the inputs
    make it. A patch that leaves the generated file as it was removes the edit."""
    current = edits.get(name)
    if replacement is not None:
        edit = FileEdit("replace", replacement)
    elif current is not None and current.kind == "replace":
        edit = FileEdit("replace", merge_patch(current.document, patch))
    else:
        edited = merge_patch(current.apply(generated) if current else generated, patch)
        edit = FileEdit("patch", diff_patch(generated, edited))
    changed = {key: value for key, value in edits.items() if key != name}
    if edit.kind == "replace" or edit.document != {}:
        changed[name] = edit
    return changed


def edited_documents(config_dir: Path, edits: Mapping[str, FileEdit]) -> dict[str, Any]:
    """The edited files' contents, each edit applied to `config_dir`'s file; InputProblems
    when an edit names a file the project does not have or does not leave a JSON object."""
    names = config_file_names(config_dir)
    problems = InputProblems()
    documents = {}
    for name, edit in edits.items():
        if name not in names:
            problems.add("not a configuration file of this project", source=name,
                         hint=f"files: {', '.join(names)}")
            continue
        document = edit.apply(read_document(config_dir, name))
        if not isinstance(document, dict):
            problems.add(f"the file must stay a JSON object, not {type(document).__name__}",
                         source=name, field="(top level)")
            continue
        try:
            check_nesting(document)
        except DocumentError as err:
            problems.add(str(err), source=name)
            continue
        documents[name] = document
    problems.raise_if_any()
    return documents


def write_edited_project(generated: Path, target: Path, edits: Mapping[str, FileEdit]) -> None:
    """Make `target` (new) the project in `generated` (its root) with `edits` applied, and
    check it; on a problem, raise InputProblems (file, JSON path, problem) and leave no
    `target`. Unedited files are hard links to the generated ones."""
    config = _config_dir(generated)
    documents = edited_documents(config, edits)
    shutil.copytree(generated, target, copy_function=os.link)
    try:
        edited = target / config.relative_to(generated)
        for name, document in documents.items():
            _write_json(edited / name, document)  # a new file: the link is left alone
        if documents:  # unedited, it is the generated project, checked when it was made
            check_edited(edited)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def patch_project(project: Path, patches: Mapping[str, Any]) -> list[str]:
    """Apply merge patches (file name -> patch) to a prepared project's configuration files,
    all or nothing: the patched project is checked first, and a problem (InputProblems, each
    with file and JSON path) changes no file. Returns the names of the files written."""
    config = _config_dir(project)
    names = config_file_names(config)
    problems = InputProblems()
    edits: Edits = {}
    for key, patch in patches.items():
        name = find_file_name(str(key), names)
        if name is None:
            problems.add(f"no configuration file {key!r}", source=str(key),
                         hint=f"files: {', '.join(names)}")
        else:
            edits[name] = FileEdit("patch", patch)
    try:
        documents = edited_documents(config, edits)
    except InputProblems as err:
        problems.add_error(err)
    problems.raise_if_any()  # every file's problem at once, before the project is read
    staging = config.parent / f".{config.name}.patching-{uuid.uuid4().hex[:8]}"
    shutil.copytree(config, staging)  # beside config/, so its ../layers paths still hold
    try:
        for name, document in documents.items():
            _write_json(staging / name, document)
        check_edited(staging)
        for name in documents:
            os.replace(staging / name, config / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return list(documents)


def configure_project(project: Path, changes: Mapping[str, Any],
                      patches: Mapping[str, Any]) -> list[str]:
    """Settings `changes` (as `update_config` takes them), then `patches` of the configuration
    files on top, all or nothing: both are made in a copy of the project (hard links), and
    only once both are checked do the changed files replace the project's. InputProblems
    otherwise, the project untouched. Returns the files changed, relative to the project."""
    config = _config_dir(project)
    root = config.parent
    # The copy keeps the project's folder name: problems name it as they would the project.
    staging = root.parent / f".{root.name}.configuring-{uuid.uuid4().hex[:8]}"
    copy = staging / root.name
    shutil.copytree(root, copy, copy_function=os.link)
    try:
        copied = copy / config.relative_to(root)
        if changes:
            update_config(copied, changes)  # writes new files: the links stay the project's
        if patches:
            patch_project(copied, patches)
        changed = [path.relative_to(copy) for path in sorted(copy.rglob("*.json"))
                   if not (root / path.relative_to(copy)).is_file()
                   or not os.path.samefile(path, root / path.relative_to(copy))]
        for relative in changed:
            os.replace(copy / relative, root / relative)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [relative.as_posix() for relative in changed]


def check_edited(config_dir: Path) -> None:
    """The project of `config_dir` read by the engine's config reader and checked as an
    uploaded complete project (its layers, database and attribute tables); InputProblems."""
    try:
        check_project(config_dir)
    except InputProblems:
        raise
    except InputError as err:  # the config reader stops at its first problem
        raise InputProblems([err]) from err
    except (KeyError, IndexError, TypeError, AttributeError) as err:
        # The settings reader expects GCBM's structure, which an edit may have broken in a
        # way the engine's reader does not look at.
        raise InputProblems([ConfigError(
            f"the configuration no longer has GCBM's structure ({type(err).__name__}: {err})",
            source=CONFIG_LIST)]) from err


def _config_dir(project: Path) -> Path:
    for folder in (project / "config", project):
        if (folder / CONFIG_LIST).is_file():
            return folder
    raise ConfigError(f"{CONFIG_LIST} not found", source=str(project),
                      hint="give a prepared project's folder or its config/ folder")


def _write_json(path: Path, document: Any) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(document, indent=4, ensure_ascii=False) + "\n",
                             encoding="utf-8")


__all__ = ["Edits", "FileEdit", "check_edited", "config_file_names", "configure_project", "diff_patch",
           "edit_file", "edited_documents", "file_name", "find_file_name", "patch_project",
           "read_document", "write_edited_project"]
