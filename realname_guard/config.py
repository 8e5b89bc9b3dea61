"""The entry layer's config loader: core's layered load, then the checks across registries.

Core validates each section on its own and imports nothing above it. Whether a configured feature
group or rule exists and whether its parameters fit its function is known only to the feature and
rule registries, so those checks are passed in here, where every layer may be imported.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from pathlib import Path

from realname_guard.core.config import LOCAL_DIR, Config, ConfigCheck
from realname_guard.core.config import load_config as load_layered
from realname_guard.core.schema import ENTITY_COLUMNS
from realname_guard.features import registry as features
from realname_guard.policy import rules


def check_features(cfg: Config) -> Iterator[tuple[str, str]]:
    """Every enabled group is registered, enabled once, and given only parameters it takes."""
    known = features.known_features()
    seen: set[str] = set()
    for i, spec in enumerate(cfg.features.enabled):
        key = f"features.enabled[{i}]"
        if spec.name not in known:
            yield key, f"unknown feature {spec.name!r}; known: {', '.join(sorted(known))}"
            continue
        if spec.name in seen:
            yield key, f"feature {spec.name!r} is enabled twice"
        seen.add(spec.name)
        try:
            features.check_params(spec.name, spec.params)
        except ValueError as exc:
            yield f"{key}.params", str(exc)


def check_rules(cfg: Config) -> Iterator[tuple[str, str]]:
    """Every configured rule is registered, configured once, given only parameters it takes, and
    reads only columns that an enabled feature group (or the entity base) produces."""
    known = rules.known_rules()
    produced_by = {col: name for name, fdef in features.registry().items() for col in fdef.outputs}
    enabled = {spec.name for spec in cfg.features.enabled}
    seen: set[str] = set()
    configured = [(f"policy.rules[{i}]", spec.name, spec.params) for i, spec in enumerate(cfg.policy.rules)]
    configured += [(f"policy.list_on_rules[{i}]", name, {}) for i, name in enumerate(cfg.policy.list_on_rules)]
    for key, name, params in configured:
        if name not in known:
            yield key, f"unknown rule {name!r}; known: {', '.join(sorted(known))}"
            continue
        if key.startswith("policy.rules"):
            if name in seen:
                yield key, f"rule {name!r} is configured twice"
            seen.add(name)
            try:
                rules.check_params(name, params)
            except ValueError as exc:
                yield f"{key}.params", str(exc)
        for col in rules.rules()[name].needs:
            if col in ENTITY_COLUMNS:
                continue
            group = produced_by.get(col)
            if group is None:
                yield key, f"rule {name!r} reads column {col!r}, which no feature group produces"
            elif group not in enabled:
                yield key, (f"rule {name!r} reads {col!r} from feature group {group!r}, which is not enabled "
                            f"(enable it in features.enabled or drop the rule)")


def check_views(cfg: Config) -> Iterator[tuple[str, str]]:
    """With ``model.views``, every enabled group's family is in a view, and every family a view names
    exists."""
    views = cfg.model.views
    if not views:
        return
    groups = features.registry()
    known = sorted({features.family(fdef) for fdef in groups.values()})
    named = {fam for fams in views.values() for fam in fams}
    for view, fams in views.items():
        for fam in fams:
            if fam not in known:
                yield f"model.views.{view}", f"unknown feature family {fam!r}; families: {', '.join(known)}"
    for i, spec in enumerate(cfg.features.enabled):
        fdef = groups.get(spec.name)
        if fdef is not None and features.family(fdef) not in named:
            yield f"features.enabled[{i}]", (
                f"feature {spec.name!r} is of family {features.family(fdef)!r}, which no view of model.views "
                "reads: add the family to a view")


def check_feature_names(cfg: Config) -> Iterator[tuple[str, str]]:
    """Every input named in ``model.monotone_increasing`` and ``policy.anomaly.features`` is an output
    of some feature group."""
    outputs = {o for fdef in features.registry().values() for o in fdef.outputs}
    named = [(f"model.monotone_increasing[{i}]", n) for i, n in enumerate(cfg.model.monotone_increasing)]
    named += [(f"policy.anomaly.features[{i}]", n) for i, n in enumerate(cfg.policy.anomaly.features)]
    for where, name in named:
        if name not in outputs:
            close = difflib.get_close_matches(name, sorted(outputs), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            yield where, f"unknown feature output {name!r}{hint}"


def check_anomaly(cfg: Config) -> Iterator[tuple[str, str]]:
    """Every name in ``policy.anomaly.same_signal`` is one of ``policy.anomaly.features``, in one group."""
    anomaly = set(cfg.policy.anomaly.features)
    seen: dict[str, int] = {}
    for i, group in enumerate(cfg.policy.anomaly.same_signal):
        for j, name in enumerate(group):
            if name not in anomaly:
                yield f"policy.anomaly.same_signal[{i}][{j}]", f"{name!r} is not one of policy.anomaly.features"
            elif name in seen:
                yield f"policy.anomaly.same_signal[{i}][{j}]", f"{name!r} is already in same_signal[{seen[name]}]"
            else:
                seen[name] = i


CHECKS: tuple[ConfigCheck, ...] = (check_features, check_rules, check_views, check_feature_names,
                                   check_anomaly)


def load_config(
    config_file: str | os.PathLike[str] | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    base: Path | None = None,
    local_dir: Path | None = LOCAL_DIR,
) -> Config:
    """Load conf/base, conf/local, --config and overrides; check features and rules; or raise ConfigError."""
    return load_layered(config_file, overrides, base=base, local_dir=local_dir, checks=CHECKS)
