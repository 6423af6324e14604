"""`flintcloud gcbm build-db`: writes the database, or one error line and exit code 2."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing

from tests.gcbm.inputs.conftest import cbm_defaults

YIELDS = ("Classifier1,Classifier2,species,0,10,20,30\n"
          "BF,7,Balsam fir,0,5,12,30\n"
          "BF,7,Trembling aspen,0,2,6,10\n"
          "JP,?,Lodgepole pine,0,3,9,20\n")


def _build_db(tmp_path, *extra) -> subprocess.CompletedProcess:
    (tmp_path / "yields.csv").write_text(YIELDS)
    args = ["gcbm", "build-db", "--yield-table", tmp_path / "yields.csv",
            "--admin-boundary", "British Columbia", "--eco-boundary", "Taiga Plains",
            "--output", tmp_path / "gcbm_input.db", "--cbm-defaults", cbm_defaults(), *extra]
    return subprocess.run([sys.executable, "-m", "flintcloud", *map(str, args)],
                          capture_output=True, text=True, check=False)


def test_build_db_writes_the_database(tmp_path):
    done = _build_db(tmp_path, "--classifier", "Classifier2", "--classifier", "Classifier1")
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith(f"wrote {tmp_path / 'gcbm_input.db'}: 2 growth curves "
                                  "(3 components), spatial unit 38 = British Columbia / Taiga "
                                  "Plains")
    with closing(sqlite3.connect(tmp_path / "gcbm_input.db")) as db:
        assert db.execute("SELECT name FROM classifier ORDER BY id").fetchall() == [
            ("Classifier2",), ("Classifier1",)]
        assert db.execute("SELECT description FROM growth_curve ORDER BY id").fetchall() == [
            ("7,BF",), ("?,JP",)]


def test_build_db_bad_input_is_one_line_exit_2(tmp_path):
    done = _build_db(tmp_path, "--classifier", "Leading")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {tmp_path / 'yields.csv'}: Leading: no such "
                                  "classifier column")
    assert not (tmp_path / "gcbm_input.db").exists()
