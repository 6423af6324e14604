"""Loading FLINT JSON configs: FLINT's multi-file merge, with every value traceable to its file.

`moja.cli --config A --config B` merges B into A two levels deep: a top-level key missing from A
is inserted whole; for a top-level key A already has, each sub-key A lacks is added; nothing in A
is ever overwritten (flint-core-spec §2). FLINT iterates JSON objects alphabetically (Poco's
DynamicStruct is a std::map); callers that iterate objects use `ConfigView.items()`, which does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from flintcloud.errors import ConfigError
from flintcloud.flint.timing import parse_date

JsonPath = tuple[str | int, ...]
_MISSING: Any = object()
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def format_path(path: JsonPath) -> str:
    """("Pools", 0, "Pool 1") -> 'Pools[0]["Pool 1"]'."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def parse_json_text(text: str, source: str) -> dict[str, Any]:
    """Parse one config document; errors name the file, line and column."""
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"malformed JSON at line {err.lineno} column {err.colno}: {err.msg}", source=source
        ) from err
    except ValueError as err:
        raise ConfigError(f"malformed JSON: {err}", source=source) from err
    except RecursionError as err:  # json's C scanner guards its stack at ~1000 levels
        raise ConfigError("nested too deeply (about 1000 levels or more)", source=source) from err
    if not isinstance(document, dict):
        raise ConfigError(
            f"the top level must be a JSON object, got {type(document).__name__}", source=source
        )
    return document


@dataclass
class FlintConfig:
    """A merged FLINT configuration and, for every top-level key and sub-key, the file it came from."""

    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[JsonPath, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @classmethod
    def from_documents(cls, documents: Sequence[tuple[str, dict[str, Any]]]) -> FlintConfig:
        config = cls()
        for source, document in documents:
            config.merge(document, source)
        return config

    def merge(self, document: dict[str, Any], source: str) -> None:
        """FLINT's two-level merge: the first document to define a key wins."""
        self.files.append(source)
        for top, value in document.items():
            if top not in self.data:
                self.data[top] = value
                self.origins[(top,)] = source
            elif isinstance(self.data[top], dict) and isinstance(value, dict):
                for sub, sub_value in value.items():
                    if sub not in self.data[top]:
                        self.data[top][sub] = sub_value
                        self.origins[(top, sub)] = source

    def source_of(self, path: JsonPath) -> str | None:
        return self.origins.get(tuple(path[:2])) or self.origins.get(tuple(path[:1]))

    def view(self, *path: str | int) -> ConfigView:
        value: Any = self.data
        for depth, key in enumerate(path):
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError):
                raise ConfigError(
                    "required key is missing", source=self.source_of(path) or self._any_file(),
                    field=format_path(path[: depth + 1]),
                ) from None
        return ConfigView(self, tuple(path), value)

    def has(self, *path: str | int) -> bool:
        value: Any = self.data
        for key in path:
            if isinstance(value, dict) and key in value:
                value = value[key]
            elif isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
                value = value[key]
            else:
                return False
        return True

    def _any_file(self) -> str:
        return ", ".join(self.files) if self.files else "<config>"

    def error(self, path: JsonPath, detail: str, hint: str | None = None) -> ConfigError:
        return ConfigError(detail, source=self.source_of(path) or self._any_file(),
                           field=format_path(path), hint=hint)


def load_config(paths: Sequence[str | Path]) -> FlintConfig:
    """Read and merge config files in command-line order, as `moja.cli --config ...` does."""
    documents = []
    for path in paths:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError("file not found", source=str(path)) from None
        except OSError as err:
            raise ConfigError(f"cannot read file: {err.strerror}", source=str(path)) from err
        except UnicodeDecodeError as err:
            raise ConfigError("not a UTF-8 text file", source=str(path)) from err
        documents.append((path.name, parse_json_text(text, path.name)))
    return FlintConfig.from_documents(documents)


_TYPE_NAMES = {dict: "an object", list: "an array", str: "a string", bool: "true or false"}


def _describe(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, dict | list) else _TYPE_NAMES[type(value)]


@dataclass(frozen=True)
class ConfigView:
    """A value inside a FlintConfig with its JSON path, offering typed, error-reporting access."""

    config: FlintConfig
    path: JsonPath
    value: Any

    def error(self, detail: str, key: str | int | None = None, hint: str | None = None) -> ConfigError:
        path = self.path if key is None else (*self.path, key)
        return self.config.error(path, detail, hint)

    def __contains__(self, key: str) -> bool:
        return isinstance(self.value, dict) and key in self.value

    def child(self, key: str | int) -> ConfigView:
        try:
            return ConfigView(self.config, (*self.path, key), self.value[key])
        except (KeyError, IndexError, TypeError):
            raise self.error("required key is missing", key) from None

    def get(self, key: str, default: Any = _MISSING) -> Any:
        if isinstance(self.value, dict) and key in self.value:
            return self.value[key]
        if default is _MISSING:
            raise self.error("required key is missing", key)
        return default

    def items(self) -> Iterator[tuple[str, ConfigView]]:
        """The members of an object in FLINT's (alphabetical) iteration order."""
        obj = self.expect_object()
        for key in sorted(obj):
            yield key, ConfigView(self.config, (*self.path, key), obj[key])

    def elements(self) -> Iterator[ConfigView]:
        for index, item in enumerate(self.expect_array()):
            yield ConfigView(self.config, (*self.path, index), item)

    def expect_object(self) -> dict[str, Any]:
        if not isinstance(self.value, dict):
            raise self.error(f"expected an object, got {_describe(self.value)}")
        return self.value

    def expect_array(self) -> list[Any]:
        if not isinstance(self.value, list):
            raise self.error(f"expected an array, got {_describe(self.value)}")
        return self.value

    def number(self, key: str, default: Any = _MISSING) -> float:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"expected a number, got {_describe(value)}", key)
        return float(value)

    def integer(self, key: str, default: Any = _MISSING) -> int:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"expected an integer, got {_describe(value)}", key)
        return value

    def boolean(self, key: str, default: Any = _MISSING) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"expected true or false, got {_describe(value)}", key)
        return value

    def string(self, key: str, default: Any = _MISSING) -> str:
        value = self.get(key, default)
        if not isinstance(value, str):
            raise self.error(f"expected a string, got {_describe(value)}", key)
        return value

    def date(self, key: str) -> datetime:
        value = self.get(key)
        if isinstance(value, dict) and set(value) == {"$date"}:
            value = value["$date"]
        if not isinstance(value, str):
            raise self.error(f"expected a date 'YYYY/MM/DD', got {_describe(value)}", key)
        try:
            return parse_date(value)
        except ValueError as err:
            raise self.error(f"invalid date {value!r}: {err}", key,
                             hint="dates are written YYYY/MM/DD") from None
