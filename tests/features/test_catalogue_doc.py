"""The catalogue page cannot drift from the registry; the catalogue groups are registered and enabled."""

from __future__ import annotations

from realname_guard.config import load_config
from realname_guard.features.catalogue import DOC_PATH, render_catalogue
from realname_guard.features.registry import registry

CATALOGUE_GROUPS = (
    "registry_checks", "id_profile", "usage_vs_id_region", "registry_name_detail", "cross_registry_names",
    "registration_limits", "holder_channels", "site_batches", "site_misuse", "site_vs_usage",
    "open_device_fanin", "txn_devices", "holder_devices", "border_roaming", "age_intensity", "network_components",
)


def test_committed_catalogue_is_the_rendered_one() -> None:
    """Regenerate with `python -m realname_guard.features.catalogue` when a group or an output changes."""
    assert DOC_PATH.read_text(encoding="utf-8") == render_catalogue()


def test_catalogue_lists_every_output_with_its_group() -> None:
    text = render_catalogue()
    for fdef in registry().values():
        for column, out in fdef.outputs.items():
            assert f"| `{column}` | {out.description.replace('|', chr(92) + '|')} |" in text
            assert f"| `{fdef.name}` | {fdef.level} |" in text


# Label-derived groups stay out of the base config until training computes them per label time.
NOT_ENABLED = {"site_misuse", "network_components"}


def test_catalogue_groups_are_enabled_in_base_config() -> None:
    enabled = [spec.name for spec in load_config(local_dir=None).features.enabled]
    assert set(CATALOGUE_GROUPS) - NOT_ENABLED <= set(enabled)
    assert not NOT_ENABLED & set(enabled)
    assert set(CATALOGUE_GROUPS) <= set(registry())
