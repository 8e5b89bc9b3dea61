"""Labelled tables from outside the contract, declared in YAML: one row per number or account.

An operator's or a bank's data scientists hold tables of their own (a key, a label from confirmed
cases, features from their warehouse). A declaration (``conf/base/datasets/<name>.yaml`` or any
file) names the key and label columns, every feature column with its type, the columns to drop,
and transformations of the declared columns (``derived``). ``train-table`` and ``score-table``
read the table against it; a column the declaration names and the table lacks, or one the table
has and the declaration does not mention, fails before Spark starts, naming the column.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass

from realname_guard.core.config import LOCAL_DIR, STRICT, ConfigError, base_dir

ColumnType = Literal["numeric", "boolean", "categorical"]
# Transformations of declared columns (features/declared.py computes them, each a Spark Column).
DerivedOp = Literal["ratio", "difference", "mean", "stddev", "slope", "is_null", "count_null"]
# How many columns each operation takes: exactly (ratio, difference, is_null) or at least.
_ARITY: dict[str, tuple[int, int | None]] = {
    "ratio": (2, 2),
    "difference": (2, 2),
    "is_null": (1, 1),
    "mean": (2, None),
    "stddev": (2, None),
    "slope": (3, None),
    "count_null": (1, None),
}
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
INPUT_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"  # a derived input's name: a plain identifier
CANDIDATE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$"  # it prefixes MLflow metric names
# Column names the jobs give their own columns: no model input may take one.
RESERVED = ("key", "label", "fold", "score", "flagged", "is_validation")


@dataclass(frozen=True, config=STRICT)
class Derived:
    """One model input computed from declared columns, in the columns' order (``slope``: the
    least-squares slope over their positions, oldest first)."""

    name: str
    op: DerivedOp
    columns: tuple[str, ...]
    description: str = ""

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not re.match(INPUT_PATTERN, value) or value in RESERVED:
            raise ValueError(f"derived name {value!r}: a plain identifier (letters, digits, '_'), not one of {RESERVED}")
        return value

    @model_validator(mode="after")
    def _arity(self) -> Derived:
        low, high = _ARITY[self.op]
        n = len(self.columns)
        if n < low or (high is not None and n > high):
            want = f"exactly {low}" if low == high else f"at least {low}"
            raise ValueError(f"derived {self.name!r}: {self.op} takes {want} columns, got {n}")
        return self


@dataclass(frozen=True, config=STRICT)
class TableCandidate:
    """One training setting cross-validation compares (unset: the declaration's training values)."""

    name: str
    max_depth: int | None = Field(default=None, ge=1)
    n_estimators: int | None = Field(default=None, ge=1)
    learning_rate: float | None = Field(default=None, gt=0)
    min_child_weight: float | None = Field(default=None, ge=0)
    class_weight: Literal["balanced", "none"] | None = None
    derived: bool | None = None  # with the declared derived inputs or without them

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.match(CANDIDATE_PATTERN, value):
            raise ValueError(f"candidate name {value!r}: letters, digits, '-' and '_' (it prefixes MLflow metrics)")
        return value


@dataclass(frozen=True, config=STRICT)
class TableTraining:
    """Cross-validation, the candidates it chooses among, and how the decision threshold is set."""

    folds: int = Field(default=5, ge=2, le=20)
    seed: int = 42
    # f1: the threshold maximising F1 on the out-of-fold scores; precision: the lowest threshold
    # whose out-of-fold precision reaches `precision` (the most recall at that precision).
    threshold: Literal["f1", "precision"] = "f1"
    precision: float | None = Field(default=None, gt=0, lt=1)
    # The first candidate is the reference; another replaces it only when its out-of-fold average
    # precision is higher in at least this share of paired bootstrap resamples of the positives.
    min_win_share: float = Field(default=0.9, gt=0.5, le=1.0)
    max_depth: int = Field(default=5, ge=1)
    n_estimators: int = Field(default=200, ge=1)
    learning_rate: float = Field(default=0.1, gt=0)
    min_child_weight: float = Field(default=1.0, ge=0)
    class_weight: Literal["balanced", "none"] = "none"
    derived: bool = True
    candidates: tuple[TableCandidate, ...] = ()

    @model_validator(mode="after")
    def _precision_set(self) -> TableTraining:
        if self.threshold == "precision" and self.precision is None:
            raise ValueError("threshold: precision needs training.precision (e.g. 0.9)")
        names = [c.name for c in self.candidates]
        if len(set(names)) != len(names):
            raise ValueError(f"candidate names must be unique: {names}")
        if "declared" in names:
            raise ValueError("'declared' is the name of the declaration's own setting; name the candidate otherwise")
        return self


@dataclass(frozen=True, config=STRICT)
class DatasetDecl:
    """A labelled table's declaration (see the module docstring)."""

    name: str
    description: str
    key: str
    label: str
    features: dict[str, ColumnType]
    drop: tuple[str, ...] = ()
    derived: tuple[Derived, ...] = ()
    true_values: tuple[str, ...] = ("TRUE", "T", "1", "YES", "Y")  # boolean columns, compared upper-cased
    false_values: tuple[str, ...] = ("FALSE", "F", "0", "NO", "N")
    training: TableTraining = Field(default_factory=TableTraining)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.match(NAME_PATTERN, value):
            raise ValueError(f"name {value!r}: lower-case letters, digits, '-' and '_' (it names the MLflow model)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DatasetDecl:
        if not self.features:
            raise ValueError("features: declare at least one feature column")
        roles = {"key": [self.key], "label": [self.label], "drop": list(self.drop)}
        seen: dict[str, str] = {c: "features" for c in self.features}
        for role, cols in roles.items():
            for col in cols:
                if col in seen:
                    raise ValueError(f"column {col!r} is both in {seen[col]} and {role}")
                seen[col] = role
        usable = {c for c, t in self.features.items() if t in ("numeric", "boolean")}
        for d in self.derived:
            if d.name in seen:
                raise ValueError(f"derived {d.name!r}: the name is already a column of the table ({seen[d.name]})")
            seen[d.name] = "derived"
            for col in d.columns:
                if col not in usable:
                    raise ValueError(
                        f"derived {d.name!r}: column {col!r} is not a numeric or boolean feature of the declaration"
                    )
        return self

    @property
    def declared_columns(self) -> tuple[str, ...]:
        return (self.key, self.label, *self.features, *self.drop)

    @property
    def model_name(self) -> str:
        """The registered MLflow model and the experiment: ``realname-guard-<name>``."""
        return f"realname-guard-{self.name}"


def dataset_dirs(base: Path | Traversable | None = None, local_dir: Path | None = LOCAL_DIR) -> list[Path | Traversable]:
    """Where named declarations are looked up: conf/local/datasets (wins), then conf/base/datasets."""
    dirs: list[Path | Traversable] = []
    if local_dir is not None:
        dirs.append(local_dir / "datasets")
    dirs.append((base if base is not None else base_dir()) / "datasets")
    return dirs


def known_datasets(dirs: Sequence[Path | Traversable]) -> list[str]:
    names: set[str] = set()
    for d in dirs:
        if d.is_dir():
            names.update(p.name.removesuffix(".yaml") for p in d.iterdir() if p.name.endswith(".yaml"))
    return sorted(names)


def load_dataset(name_or_file: str, dirs: Sequence[Path | Traversable] | None = None) -> tuple[DatasetDecl, str]:
    """The declaration a name (``conf/*/datasets/<name>.yaml``) or a YAML file's path names, and
    where it came from; a ConfigError names the file and the key of anything wrong."""
    dirs = list(dirs) if dirs is not None else dataset_dirs()
    path: Path | Traversable | None = None
    if name_or_file.endswith((".yaml", ".yml")) or "/" in name_or_file:
        path = Path(name_or_file)
        if not path.is_file():
            raise ConfigError(f"--dataset {name_or_file}: no such file")
    else:
        for d in dirs:
            candidate = d / f"{name_or_file}.yaml"
            if candidate.is_file():
                path = candidate
                break
        if path is None:
            known = ", ".join(known_datasets(dirs)) or "none"
            raise ConfigError(f"--dataset {name_or_file}: no declaration of that name (known: {known}); "
                              "or pass the path of a YAML file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    try:
        return DatasetDecl(**raw), str(path)
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in err['loc']) or 'declaration'}: {err['msg']}" for err in exc.errors()]
        raise ConfigError(f"{path}: invalid dataset declaration:\n  " + "\n  ".join(lines)) from None
    except TypeError as exc:
        raise ConfigError(f"{path}: invalid dataset declaration: {exc}") from None


def check_columns(decl: DatasetDecl, where: str, columns: Sequence[str], with_label: bool) -> None:
    """Fail, naming the columns, when the table's columns do not match the declaration.

    The label may be absent when `with_label` is false (scoring); every other declared column
    must be there, and every column of the table must be declared (a feature, the key, the label
    or dropped), so a renamed column in a new extract is caught rather than silently ignored.
    """
    have = set(columns)
    needed = [c for c in decl.declared_columns if c not in decl.drop and (with_label or c != decl.label)]
    missing = [c for c in needed if c not in have]
    known = set(decl.declared_columns)
    extra = [c for c in columns if c not in known]
    problems = []
    if missing:
        problems.append(f"declared but not in the table: {', '.join(repr(c) for c in missing)}")
    if extra:
        problems.append(f"in the table but not declared (add it to features or drop): {', '.join(repr(c) for c in extra)}")
    if problems:
        raise ConfigError(f"{where} does not match dataset {decl.name!r}: " + "; ".join(problems)
                          + f". The table's columns: {', '.join(columns)}")


def spark_column_names(header: Sequence[str]) -> list[str]:
    """Header names as Spark's CSV reader gives them: an empty name becomes ``_c<position>``."""
    return [name if name else f"_c{i}" for i, name in enumerate(header)]


def model_input_name(column: str) -> str:
    """A declared column's name as a model input: letters (any script), digits and '_'."""
    return re.sub(r"[^\w]", "_", column)


def input_names(decl: DatasetDecl) -> dict[str, str]:
    """Declared feature column -> model input name; a clash with another input, a derived input
    or a name the jobs use themselves fails naming both columns."""
    names: dict[str, str] = {}
    owner: dict[str, str] = {r: "the job's own columns" for r in RESERVED}
    owner.update({d.name: f"derived {d.name!r}" for d in decl.derived})
    for col in decl.features:
        name = model_input_name(col)
        if name in owner:
            raise ConfigError(f"dataset {decl.name!r}: feature {col!r} becomes model input {name!r}, "
                              f"which is already {owner[name]}")
        owner[name] = f"feature {col!r}"
        names[col] = name
    return names


def local_columns(path: str, fmt: str, encoding: str = "UTF-8") -> list[str] | None:
    """The columns of a local CSV or Parquet table (a file, or a folder of part files), read
    without Spark; None for a non-local URI (checked after Spark reads it)."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", path) and not path.startswith("file://"):
        return None
    p = Path(path.removeprefix("file://"))
    suffix = ".csv" if fmt == "csv" else ".parquet"
    if p.is_dir():
        parts = sorted(f for f in p.rglob(f"*{suffix}") if not f.name.startswith((".", "_")))
        if not parts:
            raise ConfigError(f"--input {path}: no {suffix} files in that folder")
        p = parts[0]
    elif not p.is_file():
        raise ConfigError(f"--input {path}: no such file or folder")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(p).names)
    try:
        with p.open(encoding="utf-8-sig" if encoding.upper() == "UTF-8" else encoding, newline="") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"--input {path}: the header of {p.name} is not {encoding} "
                          f"(set run.csv_encoding): {exc}") from None
    if not header:
        raise ConfigError(f"--input {path}: the CSV file {p.name} has no header line")
    return spark_column_names(header)


def table_format(path: str) -> str:
    """csv or parquet, from the path's suffix (a folder of part files: what it holds)."""
    low = path.lower().rstrip("/")
    if low.endswith(".csv"):
        return "csv"
    if low.endswith(".parquet"):
        return "parquet"
    p = Path(path.removeprefix("file://"))
    if p.is_dir() and any(p.rglob("*.csv")):
        return "csv"
    return "parquet"
