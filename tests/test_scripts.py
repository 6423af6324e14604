"""The README's scripts: what they install and what they say when something is missing."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_test_sh_installs_chromium_without_recommends_and_names_ci_run(tmp_path):
    """Without root (or apt-get), test.sh says what will skip and that `bash .ci/run` runs it
    all; as root it installs Chromium with --no-install-recommends."""
    script = (ROOT / "test.sh").read_text()
    prelude = script[:script.index("source scripts/venv.sh")]
    assert "apt-get install -y -q --no-install-recommends chromium" in prelude
    bin_dir = tmp_path / "bin"  # a PATH without chromium, apt-get or id = 0
    bin_dir.mkdir()
    for tool in ("bash", "dirname"):
        (bin_dir / tool).symlink_to(next(Path(d) / tool for d in ("/usr/bin", "/bin")
                                         if (Path(d) / tool).exists()))
    (bin_dir / "id").write_text("#!/bin/sh\necho 1000\n")
    (bin_dir / "id").chmod(0o755)
    (tmp_path / "prelude.sh").write_text(prelude)
    done = subprocess.run(["bash", str(tmp_path / "prelude.sh")], capture_output=True, text=True,
                          env={"PATH": str(bin_dir)}, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert any("Chromium is missing" in line and "`bash .ci/run`" in line for line in lines)
    assert any("no PostgreSQL server" in line and "`bash .ci/run`" in line for line in lines)


def test_first_set_up_says_what_it_is_doing(tmp_path):
    """`./run.sh` on a fresh clone: scripts/venv.sh says it creates .venv and installs (here
    with a stand-in Python that only records what it is asked)."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "venv.sh").write_text((ROOT / "scripts" / "venv.sh").read_text())
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    stub = tmp_path / "python3"
    stub.write_text('#!/bin/sh\n# "-m venv DIR": a venv whose python accepts anything\n'
                    'if [ "$2" = venv ]; then mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; fi\n'
                    'echo "$@" >> "$(dirname "$0")/calls.log"\n')
    stub.chmod(0o755)
    done = subprocess.run(["bash", "-c", f'source "{tmp_path}/scripts/venv.sh" "dask,gcbm-db"'],
                          capture_output=True, text=True, check=False,
                          env={"PATH": "/usr/bin:/bin", "PYTHON": str(stub)})
    assert done.returncode == 0, done.stderr
    assert "first set-up: creating" in done.stderr
    assert "installing flintcloud[dask,gcbm-db]" in done.stderr
    assert "installed; .venv/bin/flintcloud is ready" in done.stderr
    again = subprocess.run(["bash", "-c", f'source "{tmp_path}/scripts/venv.sh" "dask,gcbm-db"'],
                           capture_output=True, text=True, check=False,
                           env={"PATH": "/usr/bin:/bin", "PYTHON": str(stub)})
    assert again.stderr == ""  # set up once: nothing to say the next time
