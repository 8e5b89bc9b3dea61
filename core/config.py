"""Typed configuration: YAML under conf/ becomes frozen dataclasses once, at the entry point.

Each file in a config directory is one section (``conf/base/model.yaml`` -> ``Config.model``).
Layers, later wins: ``conf/base`` -> ``conf/local`` (git-ignored) -> ``--config FILE`` (any
sections as top-level keys) -> ``key=value`` overrides (``model.max_depth=4``). Unknown keys
and bad values fail with the file and the dotted key named, before Spark starts.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass

from realname_guard.core.generator_config import GeneratorConfig

STRICT = ConfigDict(extra="forbid")
LOCAL_DIR = Path.cwd() / "conf" / "local"


def base_dir() -> Path | Traversable:
    """conf/base: beside the packages in a checkout or an installed wheel (setup.py ships it),
    or inside the zip when the wheel is passed to spark-submit --py-files."""
    beside = Path(__file__).resolve().parent.parent / "conf" / "base"
    if beside.is_dir():
        return beside
    return resources.files("realname_guard") / "conf" / "base"


def is_uri(path: str) -> bool:
    """``scheme://...`` (hdfs, s3a, file, ...), as opposed to a plain local path."""
    return "://" in path and path.split("://", 1)[0].replace("+", "").replace(".", "").replace("-", "").isalnum()


class ConfigError(ValueError):
    """A config file or override is wrong; the message names the file and the key."""


@dataclass(frozen=True, config=STRICT)
class MlflowConfig:
    tracking_uri: str | None = None  # None: sqlite:///<output>/mlflow/mlflow.db
    experiment: str = "realname-guard"
    model_name: str = "realname-guard"
    alias: str = "champion"
    challenger_alias: str = "challenger"  # every newly trained version; the gate moves `alias`


@dataclass(frozen=True, config=STRICT)
class RunConfig:
    input: str = "data/input"
    output: str = "out"
    run_date: dt.date | None = None  # None: today in `timezone`, read once by the CLI
    timezone: str = "Asia/Shanghai"
    csv_encoding: Literal["UTF-8", "GB18030", "GBK"] = "UTF-8"
    hash_key_env: str = "REALNAME_GUARD_HASH_KEY"
    # Rows dated after the run date: "quarantine" (an extract taken that day cannot hold them),
    # "cut" (set aside and counted apart: a backfilled day from a later extract did not know them;
    # `backfill` always cuts) or "ignore" (kept; features, training and measures still read only
    # what the run date knew).
    future_rows: Literal["quarantine", "cut", "ignore"] = "quarantine"
    mlflow: MlflowConfig = Field(default_factory=MlflowConfig)


@dataclass(frozen=True, config=STRICT)
class SparkConfig:
    master: str = "local[*]"  # ignored under spark-submit, which sets the master itself
    app_name: str = "realname-guard"
    shuffle_partitions: int = Field(default=8, ge=1)
    driver_memory: str = "8g"  # local mode only
    conf: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True, config=STRICT)
class ExpectationSpec:
    """One Great Expectations expectation; ``row`` ones also quarantine the rows they reject."""

    type: str
    column: str | None = None
    kwargs: dict[str, Any] = Field(default_factory=dict)
    row_condition: str | None = None  # Spark SQL: the expectation applies only where true
    level: Literal["row", "table"] = "row"
    reason: str | None = None  # words for the quarantine; default derived from type


@dataclass(frozen=True, config=STRICT)
class QualityConfig:
    max_bad_row_share: float = Field(default=0.05, ge=0.0, le=1.0)
    max_bad_row_share_per_table: dict[str, float] = Field(default_factory=dict)
    tables: dict[str, tuple[ExpectationSpec, ...]] = Field(default_factory=dict)
    data_docs: bool = True


@dataclass(frozen=True, config=STRICT)
class FeatureSpec:
    name: str
    params: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True, config=STRICT)
class FeaturesConfig:
    activity_window_days: int = Field(default=30, ge=1)
    enabled: tuple[FeatureSpec, ...] = ()


@dataclass(frozen=True, config=STRICT)
class XgbParams:
    max_depth: int = Field(default=5, ge=1)
    learning_rate: float = Field(default=0.1, gt=0)
    n_estimators: int = Field(default=300, ge=1)
    # None: always n_estimators rounds. Early stopping on a ranking metric stops after a handful
    # of rounds, before the scores reach the fixed tier thresholds (policy.tiers).
    early_stopping_rounds: int | None = Field(default=None, ge=1)
    subsample: float = Field(default=0.9, gt=0, le=1)
    colsample_bytree: float = Field(default=0.9, gt=0, le=1)
    min_child_weight: float = Field(default=1.0, ge=0)
    reg_lambda: float = Field(default=1.0, ge=0)
    tree_method: Literal["hist", "approx", "exact"] = "hist"


@dataclass(frozen=True, config=STRICT)
class PointInTimeConfig:
    """Training rows from feature snapshots taken before each label arrived (models/dataset.py).

    A labelled card trains on the latest snapshot dated before its label's day, so nothing the
    label caused (a freeze, silence, a closed account) reaches the model. Labels older than the
    oldest snapshot train on the oldest one (``oldest``), are left out (``drop``), or take the run
    date's row when nothing was done to the card (``unaffected``; models.dataset.snapshot_for).
    """

    snapshot_days_back: tuple[int, ...] = (14, 28)
    older_labels: Literal["oldest", "drop", "unaffected", "untouched"] = "unaffected"
    # Where unlabelled negatives are drawn: ``oldest``, the oldest snapshot only, among the cards
    # still unlabelled on the as-of date: cards that had that long to be confirmed (labels lag by
    # weeks; a card misused since last week is unlabelled today whatever it is); ``labels``, each
    # snapshot in proportion to the positives placed there.
    negatives_from: Literal["labels", "oldest"] = "oldest"

    @field_validator("snapshot_days_back")
    @classmethod
    def _positive_distinct(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(d < 1 for d in value) or len(set(value)) != len(value):
            raise ValueError("snapshot_days_back: distinct whole days, each at least 1")
        return tuple(sorted(value))


@dataclass(frozen=True, config=STRICT)
class BacktestConfig:
    """Train on what was known `horizon_days` before the run date, score as of then, and measure
    on the cards first confirmed since (models/backtest.py)."""

    horizon_days: int = Field(default=14, ge=1)
    min_positives: int = Field(default=5, ge=1)  # fewer new confirmations: no measurement, fixed tiers
    # Feature columns of the naive baseline kept beside every backtest (labelled rows only).
    baseline_features: tuple[str, ...] = ()


@dataclass(frozen=True, config=STRICT)
class Candidate:
    """One setting of the training choices the backtest compares (unset: the configured value)."""

    name: str
    negatives_per_positive: float | None = Field(default=None, ge=0)
    class_weight: Literal["balanced", "none"] | None = None
    max_depth: int | None = Field(default=None, ge=1)
    n_estimators: int | None = Field(default=None, ge=1)
    learning_rate: float | None = Field(default=None, gt=0)
    older_labels: Literal["oldest", "drop", "unaffected", "untouched"] | None = None
    negatives_from: Literal["labels", "oldest"] | None = None
    views: bool | None = None  # false: one classifier over every input instead of model.views
    monotone: bool | None = None  # false: no monotone constraints (model.monotone_increasing unused)


@dataclass(frozen=True, config=STRICT)
class TuningConfig:
    """Choose the training setting per run by the backtest on the deployment's own labels."""

    enabled: bool = True
    # A candidate replaces the configured setting only when its backtest average precision beats
    # the configured one's in at least this share of paired bootstrap resamples.
    min_win_share: float = Field(default=0.9, gt=0.5, le=1.0)
    # Fewer cards confirmed in the backtest's window than this: the configured setting, whatever
    # the resamples say (they cannot show what a handful of confirmations leaves out).
    min_confirmations: int = Field(default=30, ge=1)
    time_budget_minutes: float = Field(default=18.0, gt=0)  # bounds the backtest (jobs.backtest.run_within_budget)
    candidates: tuple[Candidate, ...] = ()

    @field_validator("candidates")
    @classmethod
    def _unique(cls, value: tuple[Candidate, ...]) -> tuple[Candidate, ...]:
        names = [c.name for c in value]
        if len(set(names)) != len(names):
            raise ValueError(f"candidate names must be unique: {names}")
        return value


@dataclass(frozen=True, config=STRICT)
class GateConfig:
    """When a newly trained model (registered as the challenger) becomes the champion that scores.

    It is refused when its backtest's average precision falls more than ``tolerance`` below the
    champion's on the same window and the champion ranks the window's confirmations better in at
    least ``confidence`` of paired bootstrap resamples (noise alone does not refuse), when today's
    share of open cards at MEDIUM lies outside [``min_listed_share``, ``max_listed_share``], or
    when the backtest measured nothing to compare (too few confirmations). A person can promote any
    version (``realname-guard promote``). Off: every new model becomes the champion.
    """

    enabled: bool = True
    tolerance: float = Field(default=0.0, ge=0, le=1)
    confidence: float = Field(default=0.9, gt=0.5, le=1)
    min_listed_share: float = Field(default=0.0, ge=0, le=1)
    max_listed_share: float = Field(default=0.1, gt=0, le=1)


@dataclass(frozen=True, config=STRICT)
class ModelConfig:
    seed: int = 42
    xgb: XgbParams = Field(default_factory=XgbParams)
    # balanced: scale_pos_weight = negatives / positives of the training rows; none: 1.
    class_weight: Literal["balanced", "none"] = "balanced"
    point_in_time: PointInTimeConfig = Field(default_factory=PointInTimeConfig)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)
    tuning: TuningConfig = Field(default_factory=TuningConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    num_workers: int | Literal["auto"] = "auto"
    # The report names model inputs whose population stability index between the champion's
    # training day and today passes this (0.1-0.25: a shift worth a look; above: a major one).
    drift_psi_threshold: float = Field(default=0.25, gt=0)
    validation_fraction: float = Field(default=0.2, gt=0, lt=1)
    # Unlabelled cards enter training as negatives (PU learning): confirmed 0s are rare and
    # biased towards cards that were already suspicious. With negatives_per_positive set, the
    # sampling rate is chosen so that about that many unlabelled cards enter per positive label
    # (capped at all of them); unlabeled_negative_rate is then unused. Every unlabelled misused
    # card drawn teaches the model that its pattern is honest, so fewer is better for the quiet
    # typologies, as long as the honest variety is still covered.
    negatives_per_positive: float | None = Field(default=6.0, ge=0)  # 0: labelled rows only
    unlabeled_negative_rate: float = Field(default=0.2, ge=0, le=1)
    # Unlabelled cards eligible for an ANOMALY listing (policy.anomaly's rule, on the snapshot they
    # are drawn from) are not drawn as negatives: they are no reliable negatives.
    skip_far_out_negatives: bool = True
    person_labels_apply_to_cards: bool = True
    # A PERSON label 1 trains on the holder's cards opened within this many days of a card of theirs
    # confirmed as misuse (their spree); their other cards are left out of training. None: every card.
    person_label_window_days: int | None = Field(default=30, ge=0)
    min_positives: int = Field(default=20, ge=1)
    reasons_top_k: int = Field(default=3, ge=1, le=10)
    register: bool = True  # register the trained model and move the alias to it
    # One classifier per view of the evidence, the score their noisy-OR (models.train.ViewEnsemble):
    # view name -> the feature families (feature modules) it reads. None or empty: one classifier
    # over every input. Every enabled feature's family must be in some view.
    views: dict[str, tuple[str, ...]] | None = None
    # Inputs whose larger values can never make a card look more honest, the rest held fixed (more
    # IDs sharing a handset, more cards over a limit): XGBoost's monotone constraints. Unlabelled
    # cards drawn as negatives (PU learning) include misuse nobody confirmed; a tight cluster of it
    # (a SIM-box farm's fan-in of 30 where the labelled cards show 3-8) otherwise teaches the trees
    # that the extreme is honest. Domain knowledge, not fitted: names only, checked against the
    # feature registry; the backtest candidate `unconstrained` compares.
    monotone_increasing: tuple[str, ...] = ()

    @field_validator("views")
    @classmethod
    def _views_disjoint(cls, value: dict[str, tuple[str, ...]] | None) -> dict[str, tuple[str, ...]] | None:
        seen: dict[str, str] = {}
        for view, families in (value or {}).items():
            if not families:
                raise ValueError(f"view {view!r} names no feature family")
            for fam in families:
                if fam in seen:
                    raise ValueError(f"feature family {fam!r} is in two views: {seen[fam]!r} and {view!r}")
                seen[fam] = view
        return value


@dataclass(frozen=True, config=STRICT)
class TierConfig:
    # "model": thresholds reached at target precisions on the validation split, stored with
    # the model version; "fixed": the numbers below.
    source: Literal["model", "fixed"] = "fixed"
    high: float = Field(default=0.95, gt=0, lt=1)
    medium: float = Field(default=0.8, gt=0, lt=1)
    high_precision: float = Field(default=0.9, gt=0, le=1)
    medium_precision: float = Field(default=0.7, gt=0, le=1)
    # Capacity guard: when more than this share of the open cards reaches MEDIUM, this run's
    # thresholds rise until about this share is listed (policy.lists.capped_thresholds). None: no cap.
    max_listed_share: float | None = Field(default=0.02, gt=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> TierConfig:
        if self.medium > self.high:
            raise ValueError(f"medium ({self.medium}) must not exceed high ({self.high})")
        if self.medium_precision > self.high_precision:
            raise ValueError("medium_precision must not exceed high_precision")
        return self


@dataclass(frozen=True, config=STRICT)
class DisciplinaryConfig:
    """Who is proposed for the 失信惩戒 list (policy.disciplinary); confirmed outcomes only."""

    min_cards: int = Field(default=3, ge=1)  # cards confirmed sold, rented or lent
    min_occasions: int = Field(default=3, ge=1)  # distinct days with a confirmation
    proposed_years: int = Field(default=2, ge=1, le=5)  # the period proposed (2 or 3 years; at most 5)


# The measures of a listing, mildest first (反电信网络诈骗法 Art. 11, 18; policy.lists).
ACTIONS = ("REVERIFY", "RESTRICT", "SUSPEND", "REVOKE")


@dataclass(frozen=True, config=STRICT)
class RuleSpec:
    name: str
    params: dict[str, Any] = Field(default_factory=dict)


def _rule_spec(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


@dataclass(frozen=True, config=STRICT)
class AnomalyConfig:
    """Listing on the unsupervised score (models.anomaly): what the supervised model cannot know yet.

    A card the model leaves unlisted is listed ``ANOMALY`` (REVERIFY only, for a person to review)
    when it lies beyond ``extreme_tail`` of its kind on at least ``min_extreme_features`` signals of
    ``features`` and among the farthest out by the ECOD sum, at most ``max_listed_share`` of its
    kind's open cards.
    """

    enabled: bool = True
    # Inputs where larger is stranger for a card held by its real holder (right tails only).
    features: tuple[str, ...] = ()
    # Groups of features that are columns of one fact: beyond the tail together they count once
    # towards min_extreme_features.
    same_signal: tuple[tuple[str, ...], ...] = ()
    extreme_tail: float = Field(default=0.01, gt=0, lt=0.5)
    min_extreme_features: int = Field(default=2, ge=1)
    max_listed_share: float = Field(default=0.005, gt=0, le=0.1)


@dataclass(frozen=True, config=STRICT)
class PolicyConfig:
    tiers: TierConfig = Field(default_factory=TierConfig)
    list_ttl_days: int = Field(default=90, ge=1)
    reverify_deadline_days: int = Field(default=15, ge=1)
    # 一证五户: at most five numbers per ID per operator (MIIT); MVNOs may be given their own.
    sims_per_operator_limit: int = Field(default=5, ge=1)
    sims_per_operator_limit_overrides: dict[str, int] = Field(default_factory=dict)
    sims_total_limit: int = Field(default=10, ge=1)
    # 一人一行一类户: one Class-I account per person per bank (PBoC, 2016).
    accounts_class_i_per_bank_limit: int = Field(default=1, ge=1)
    # Rules reported in rule_hits: a name, or {name, params} with params its function takes.
    rules: tuple[RuleSpec, ...] = ()
    list_on_rules: tuple[str, ...] = ("CONFIRMED_MISUSE",)
    # What a notice to the holder cites: the provisions each measure rests on (one text per
    # action), and how to appeal, per recipient (operator or bank code) with a ``default``.
    legal_basis: dict[str, str] = Field(default_factory=dict)
    appeal_channels: dict[str, str] = Field(default_factory=dict)
    disciplinary: DisciplinaryConfig = Field(default_factory=DisciplinaryConfig)
    anomaly: AnomalyConfig = Field(default_factory=AnomalyConfig)

    @field_validator("rules", mode="before")
    @classmethod
    def _rule_names(cls, value: Any) -> Any:
        return [_rule_spec(v) for v in value] if isinstance(value, list | tuple) else value

    @field_validator("legal_basis")
    @classmethod
    def _every_action(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            return value
        unknown = sorted(set(value) - set(ACTIONS))
        missing = [a for a in ACTIONS if not value.get(a)]
        if unknown or missing:
            raise ValueError(
                f"legal_basis needs a text for each action {', '.join(ACTIONS)}"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                + (f"; missing: {', '.join(missing)}" if missing else "")
            )
        return value

    @field_validator("appeal_channels")
    @classmethod
    def _has_default(cls, value: dict[str, str]) -> dict[str, str]:
        if value and not value.get("default"):
            raise ValueError("appeal_channels needs a 'default' entry (for recipients not named)")
        return value


@dataclass(frozen=True, config=STRICT)
class Config:
    run: RunConfig = Field(default_factory=RunConfig)
    spark: SparkConfig = Field(default_factory=SparkConfig)
    expectations: QualityConfig = Field(default_factory=QualityConfig)
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    generator: GeneratorConfig = Field(default_factory=GeneratorConfig)

    # -- derived paths -------------------------------------------------------------------
    @property
    def output(self) -> str:
        return self.run.output.rstrip("/")

    def output_path(self, *parts: str) -> str:
        return "/".join([self.output, *parts])

    @property
    def output_is_uri(self) -> bool:
        """The output root names a file system by scheme (hdfs://, s3a://, abfss://), not a local path."""
        return is_uri(self.output) and not self.output.startswith("file:")

    @property
    def tracking_uri(self) -> str:
        if self.run.mlflow.tracking_uri:
            return self.run.mlflow.tracking_uri
        if self.output_is_uri:
            raise ConfigError(f"run.output {self.output} is not a local path, so the default SQLite tracking store "
                              "cannot live under it: set run.mlflow.tracking_uri (a tracking server, e.g. "
                              "http://mlflow:5000, or sqlite:////local/path/mlflow.db)")
        return "sqlite:///" + str(Path(self.output_path("mlflow", "mlflow.db")).resolve())

    @property
    def artifact_root(self) -> str | None:
        """Where new experiments keep their artifacts: under the output root, as a URI there when
        the output is one (MLflow writes hdfs:// and s3a:// artifact stores itself). With a
        tracking server and a local output, None: the server's own artifact store (proxied over
        HTTP), since the driver's disk is not where anyone else reads them."""
        root = self.output_path("mlflow", "artifacts")
        if is_uri(root):
            return root
        if self.run.mlflow.tracking_uri and self.run.mlflow.tracking_uri.startswith(("http://", "https://")):
            return None
        return str(Path(root).resolve())

    @property
    def run_date(self) -> dt.date:
        if self.run.run_date is None:
            raise ConfigError("run.run_date is not set (pass --run-date YYYY-MM-DD)")
        return self.run.run_date


SECTIONS = tuple(Config.__dataclass_fields__)
# A check across registries: the problems it finds in a loaded config, as (dotted key, message).
ConfigCheck = Callable[[Config], Iterable[tuple[str, str]]]


def _read_yaml(path: Path | Traversable) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _layer_dir(directory: Path | Traversable, raw: dict[str, Any], origin: dict[str, str]) -> dict[str, Any]:
    if not directory.is_dir():
        return raw
    for path in sorted((p for p in directory.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name):
        section = path.name.removesuffix(".yaml")
        if section not in SECTIONS:
            raise ConfigError(f"{path}: no config section {section!r}; sections: {', '.join(SECTIONS)}")
        data = _read_yaml(path)
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping of keys at the top level")
        raw = _merge(raw, {section: data})
        origin[section] = str(path)
    return raw


def parse_override(text: str) -> tuple[list[str], Any]:
    """``a.b.c=value`` -> (["a","b","c"], value parsed as a YAML scalar or flow collection)."""
    if "=" not in text:
        raise ConfigError(f"override {text!r}: expected key=value, e.g. model.xgb.max_depth=4")
    key, _, value = text.partition("=")
    parts = [p for p in key.strip().split(".") if p]
    if not parts or parts[0] not in SECTIONS:
        raise ConfigError(f"override {text!r}: key must start with one of {', '.join(SECTIONS)}")
    try:
        parsed = yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"override {text!r}: value is not valid YAML: {exc}") from exc
    return parts, parsed


def load_config(
    config_file: str | os.PathLike[str] | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    base: Path | Traversable | None = None,
    local_dir: Path | None = LOCAL_DIR,
    checks: Sequence[ConfigCheck] = (),
) -> Config:
    """Load and validate the layered configuration; raise ConfigError naming file and key.

    `checks` look across registries core does not know (features, rules): each returns the
    problems it finds as (dotted key, message); they are reported with the file that set the key.
    """
    origin: dict[str, str] = {}
    raw: dict[str, Any] = _layer_dir(base if base is not None else base_dir(), {}, origin)
    if local_dir is not None:
        raw = _layer_dir(local_dir, raw, origin)
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(f"--config {path}: no such file")
        data = _read_yaml(path)
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping of sections at the top level")
        for section in data:
            if section not in SECTIONS:
                raise ConfigError(f"{path}: no config section {section!r}; sections: {', '.join(SECTIONS)}")
            origin[section] = str(path)
        raw = _merge(raw, data)
    for text in overrides:
        parts, value = parse_override(text)
        nested: Any = value
        for part in reversed(parts):
            nested = {part: nested}
        raw = _merge(raw, nested)
        origin[parts[0]] = f"override {text!r}"
    try:
        cfg = Config(**raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            where = origin.get(loc[0], "defaults") if loc else "config"
            lines.append(f"{where}: {'.'.join(loc)}: {err['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None
    except TypeError as exc:  # pragma: no cover - pydantic reports most problems above
        raise ConfigError(f"invalid configuration: {exc}") from None
    problems = [problem for check in checks for problem in check(cfg)]
    if problems:
        lines = [f"{origin.get(key.split('.')[0], 'defaults')}: {key}: {msg}" for key, msg in problems]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    return cfg
