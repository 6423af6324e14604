"""Output files of a run, written atomically: a failed run leaves nothing that looks complete."""

from __future__ import annotations

import os
import sys
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from flintcloud.flint.config import ConfigView


class OutputFiles:
    """Opens output files as hidden temporaries and renames them into place only on success."""

    def __init__(self, output_dir: str | Path | None = None, screen: TextIO | None = None) -> None:
        self.output_dir = Path(output_dir) if output_dir is not None else Path.cwd()
        self.screen = screen if screen is not None else sys.stdout
        self._open: list[tuple[TextIO, Path, Path]] = []
        self.written: list[Path] = []

    def resolve(self, name: str, settings: ConfigView, key: str) -> Path:
        """A configured file name inside the output directory; '..' and absolute paths are refused."""
        relative = PurePosixPath(name.replace("\\", "/"))
        if not name or relative.is_absolute() or ".." in relative.parts:
            raise settings.error(f"output file name {name!r} must be a relative path inside the "
                                 "output directory", key)
        return self.output_dir / relative

    def open_text(self, name: str, settings: ConfigView, key: str) -> TextIO:
        final = self.resolve(name, settings, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        # Upstream deleted the old file at SystemInit; here it stays until `commit` replaces
        # it, so a run that fails leaves the previous run's outputs untouched.
        temporary = final.with_name(f".{final.name}.partial")
        handle = temporary.open("w", encoding="utf-8", newline="\n")
        self._open.append((handle, temporary, final))
        return handle

    def commit(self) -> list[Path]:
        for handle, temporary, final in self._open:
            handle.close()
            os.replace(temporary, final)
            self.written.append(final)
        self._open = []
        return self.written

    def discard(self) -> None:
        for handle, temporary, _ in self._open:
            handle.close()
            temporary.unlink(missing_ok=True)
        self._open = []
