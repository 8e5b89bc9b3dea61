"""A core of the feature groups, for whole-job tests where what is under test is not the features.

The groups the first model was built on (identity, cards, registration, names, reserved phones,
shared devices, usage, co-location, money flows), and the rules whose inputs they compute (the
limit rules need ``registration_limits``). A run with them builds its feature table in about half
the time of the shipped set; every group is tested on its own in tests/features.
"""

from __future__ import annotations

CORE_GROUPS = ("holder_identity", "holder_cards", "card_registration", "name_consistency", "reserved_phone",
               "device_sharing", "sim_usage", "sim_colocation", "account_flows")
CORE_OVERRIDES = (
    "features.enabled=[" + ", ".join(f"{{name: {g}}}" for g in CORE_GROUPS) + "]",
    "policy.rules=[CONFIRMED_MISUSE, HOLDER_CONFIRMED, COMPLAINT, ID_STATUS_INVALID, RESERVED_PHONE_OTHER_ID]",
    "policy.list_on_rules=[CONFIRMED_MISUSE, HOLDER_CONFIRMED]",
)
