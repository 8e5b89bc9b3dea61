"""Dataset declarations: the shipped one matches its table; a wrong one fails naming the column."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from realname_guard.core.config import ConfigError
from realname_guard.core.datasets import (
    check_columns,
    input_names,
    load_dataset,
    local_columns,
    spark_column_names,
)

# 500 rows of the public table, header as published (tests/data/README.md)
SICHUAN = Path(__file__).resolve().parents[1] / "data" / "sichuan2020_sample.csv"


def write_decl(tmp_path: Path, **changes: object) -> Path:
    decl, origin = load_dataset("sichuan2020")
    raw = yaml.safe_load(Path(origin).read_text(encoding="utf-8"))
    raw.update(changes)
    path = tmp_path / "decl.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_the_shipped_declaration_matches_the_sichuan_table() -> None:
    decl, _ = load_dataset("sichuan2020")
    columns = local_columns(str(SICHUAN), "csv")
    assert columns is not None and columns[:2] == ["_c0", "phone_no_m"]  # the unnamed index column
    check_columns(decl, str(SICHUAN), columns, with_label=True)  # raises if not
    assert decl.model_name == "realname-guard-sichuan2020"
    assert decl.features["arup_null"] == "boolean" and decl.features["city_name"] == "categorical"


def test_columns_missing_or_undeclared_are_named() -> None:
    decl, _ = load_dataset("sichuan2020")
    # the table lost one declared column (flow) and renamed another (idcard_cnt)
    columns = [c for c in decl.declared_columns if c not in ("flow", "idcard_cnt")] + ["idcard_count"]
    with pytest.raises(ConfigError) as err:
        check_columns(decl, "t.csv", columns, with_label=True)
    text = str(err.value)
    assert "declared but not in the table: 'idcard_cnt', 'flow'" in text
    assert "not declared (add it to features or drop): 'idcard_count'" in text
    # scoring needs no label column
    no_label = [c for c in ["_c0", *decl.declared_columns] if c != decl.label]
    check_columns(decl, "t.csv", no_label, with_label=False)
    with pytest.raises(ConfigError, match="'label'"):
        check_columns(decl, "t.csv", no_label, with_label=True)


def test_declarations_are_checked_when_they_load(tmp_path: Path) -> None:
    bad_derived = write_decl(tmp_path, derived=[{"name": "x", "op": "ratio", "columns": ["flow", "nope"]}])
    with pytest.raises(ConfigError, match="column 'nope' is not a numeric or boolean feature"):
        load_dataset(str(bad_derived))
    arity = write_decl(tmp_path, derived=[{"name": "x", "op": "ratio", "columns": ["flow"]}])
    with pytest.raises(ConfigError, match="ratio takes exactly 2 columns, got 1"):
        load_dataset(str(arity))
    twice = write_decl(tmp_path, drop=["_c0", "flow"])
    with pytest.raises(ConfigError, match="column 'flow' is both in features and drop"):
        load_dataset(str(twice))
    unknown_key = write_decl(tmp_path, labels="label")
    with pytest.raises(ConfigError, match="labels"):
        load_dataset(str(unknown_key))
    with pytest.raises(ConfigError, match=r"no declaration of that name \(known: .*sichuan2020"):
        load_dataset("no-such-dataset")


def test_an_empty_header_name_is_sparks_positional_name() -> None:
    assert spark_column_names(["", "a", "", "b"]) == ["_c0", "a", "_c2", "b"]


def test_a_wrong_column_fails_before_spark_starts(tmp_path: Path) -> None:
    decl, origin = load_dataset("sichuan2020")
    raw = yaml.safe_load(Path(origin).read_text(encoding="utf-8"))
    raw["features"]["idcard_cnt_typo"] = raw["features"].pop("idcard_cnt")
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    code = (
        "import sys\n"
        "from realname_guard.cli import main\n"
        f"rc = main(['train-table', '--dataset', {str(path)!r}, '--input', {str(SICHUAN)!r}, "
        f"'--output', {str(tmp_path / 'out')!r}])\n"
        "from pyspark import SparkContext\n"
        "assert SparkContext._active_spark_context is None, 'Spark started'\n"
        "sys.exit(rc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "declared but not in the table: 'idcard_cnt_typo'" in done.stderr
    assert "'idcard_cnt'" in done.stderr
    assert not (tmp_path / "out").exists()


def test_model_input_names_may_not_clash(tmp_path: Path) -> None:
    decl, _ = load_dataset("sichuan2020")
    assert input_names(decl)["ratio(send/receive)"] == "ratio_send_receive_"
    clash = write_decl(tmp_path, features={**decl.features, "arpu 201908": "numeric"})
    with pytest.raises(ConfigError, match=r"feature 'arpu 201908' becomes model input 'arpu_201908', which is "
                                          r"already feature 'arpu_201908'"):
        input_names(load_dataset(str(clash))[0])
    reserved = write_decl(tmp_path, features={**decl.features, "score": "numeric"})
    with pytest.raises(ConfigError, match="'score', which is already the job's own columns"):
        input_names(load_dataset(str(reserved))[0])
    bad_name = write_decl(tmp_path, derived=[{"name": "a.b", "op": "is_null", "columns": ["flow"]}])
    with pytest.raises(ConfigError, match="derived name 'a.b': a plain identifier"):
        load_dataset(str(bad_name))
    assert input_names(load_dataset(str(write_decl(tmp_path, features={**decl.features, "城市": "numeric"})))[0])[
        "城市"] == "城市"
