"""The card kinds the job lists, declared once: SIM cards and bank accounts today.

Everything that treats cards alike (the entity base of the feature table, the shared card shape,
the training set, label matching, the lists and their history, the person view) reads this
registry instead of spelling a kind. Feature groups about one kind's own behaviour (a SIM's
calls, an account's transactions) name it through these constants.

A new kind (a payment account, 支付账户, which the anti-fraud law also covers) is one
``register_kind`` call with its source table's contract; see ``tests/core/test_kinds.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from realname_guard.core.contract import (
    BANK_ACCOUNTS,
    SIM_REGISTRATIONS,
    TableContract,
    by_alias,
    register_table,
)


@dataclass(frozen=True)
class CardKind:
    """One kind of card: where it comes from, who receives its list, how it enters the model."""

    name: str  # the entity_type value in features, labels, scores ("SIM")
    table: str  # alias of the source table in the contract and in Tables ("sims")
    key: str  # the card's id column in the source table and in its list ("msisdn")
    recipient: str  # who receives the list: column of the source table and the list's partition
    list_name: str  # the output dataset of its flagged cards ("flagged_sims")
    plural: str  # word for counts in the person view: <plural>_held, <plural>_flagged ("sims")
    opened_at: str  # registration time column
    closed_status: str  # status value of a closed card
    closed_at: str  # time column of the closing
    restricted_status: str  # status value of a card restricted by its recipient (suspended, frozen)
    site: str  # where it was opened (outlet, branch)
    site_region: str
    channel: str = "channel"
    status: str = "status"
    face_verified: str | None = None  # column telling whether the face check passed, if the kind has one
    # Model input set to 1 on this kind's cards ("is_account"). None for the reference kind, whose
    # cards are those with every other kind's input at 0 (SIM).
    model_input: str | None = None
    description: str = ""  # the reason text of its model input
    description_zh: str = ""  # the same reason text in Chinese (the lists' reasons are read in Chinese)


SIM = CardKind(
    name="SIM",
    table=SIM_REGISTRATIONS.alias,
    key="msisdn",
    recipient="operator",
    list_name="flagged_sims",
    plural="sims",
    opened_at="reg_time",
    closed_status="CANCELLED",
    closed_at="cancel_time",
    restricted_status="SUSPENDED",
    site="outlet_id",
    site_region="outlet_region",
    face_verified="face_verified",
)

ACCOUNT = CardKind(
    name="ACCOUNT",
    table=BANK_ACCOUNTS.alias,
    key="account_id",
    recipient="bank_code",
    list_name="flagged_accounts",
    plural="accounts",
    opened_at="open_time",
    closed_status="CLOSED",
    closed_at="close_time",
    restricted_status="FROZEN",
    site="branch_id",
    site_region="branch_region",
    model_input="is_account",
    description="Card is a bank account",
    description_zh="该卡为银行账户",
)

_KINDS: dict[str, CardKind] = {k.name: k for k in (SIM, ACCOUNT)}


def register_kind(kind: CardKind, contract: TableContract | None = None) -> CardKind:
    """Add a card kind (and its source table to the contract, when given); names must be new."""
    if contract is not None:
        register_table(contract)
    source = by_alias(kind.table)
    needed = [kind.key, kind.recipient, kind.opened_at, kind.closed_at, kind.site, kind.site_region,
              kind.channel, kind.status, *([kind.face_verified] if kind.face_verified else [])]
    missing = [c for c in needed if c not in source.columns]
    if missing:
        raise ValueError(f"card kind {kind.name}: table {source.name} has no column(s) {', '.join(missing)}")
    if "id_number" not in source.columns:
        raise ValueError(f"card kind {kind.name}: table {source.name} must carry the holder's id_number")
    clash = [k.name for k in _KINDS.values() if k.name != kind.name and (
        k.table == kind.table or k.list_name == kind.list_name or (kind.model_input and k.model_input == kind.model_input))]
    if clash or (kind.name in _KINDS and _KINDS[kind.name] != kind):
        raise ValueError(f"card kind {kind.name} clashes with {', '.join(clash) or kind.name}")
    _KINDS[kind.name] = kind
    return kind


def kinds() -> tuple[CardKind, ...]:
    """Every card kind, the reference kind (SIM) first."""
    return tuple(_KINDS.values())


def kind_names() -> tuple[str, ...]:
    return tuple(_KINDS)


def model_inputs() -> tuple[str, ...]:
    """The kinds' model inputs (``is_account``, ...), in kind order."""
    return tuple(k.model_input for k in _KINDS.values() if k.model_input)


def kind_descriptions_zh() -> dict[str, str]:
    """Chinese reason text per kind input column, where the kind gives one."""
    return {k.model_input: k.description_zh for k in _KINDS.values() if k.model_input and k.description_zh}


def kind_descriptions() -> dict[str, str]:
    """Reason text per kind input column."""
    return {k.model_input: k.description or f"Card is a {k.name.lower()}" for k in _KINDS.values() if k.model_input}
