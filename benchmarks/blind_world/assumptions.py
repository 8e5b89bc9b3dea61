"""The world's assumptions as frozen data: group shares, typology strengths, label rates and delays, formats.

Each variant is one `Assumptions` value in `VARIANTS`; `harsh` is derived from `default` with `dataclasses.replace`
so that the two differ only where the variant says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

# Honest base profiles. Every person has exactly one; the confounders are the ones that look like misuse.
HONEST_GROUPS: tuple[str, ...] = (
    "honest",  # plain subscriber: one or two SIMs, one to three accounts
    "student",  # 18-23, campus outlets and branches in September batches, many small AA transfers
    "elderly",  # 65+, low use, old registrations without face check, pension account
    "family_plan",  # one ID holds 3-5 SIMs used by family members in their own phones (亲情号)
    "migrant_worker",  # lives far from hukou, accounts in several provinces, monthly remittance home
    "traveller",  # frequent trips abroad (HK, MO, JP, TH, SG ... and some KH/VN business trips)
    "small_merchant",  # QR-code shop: many small inbound from many payers, bulk outbound to suppliers, many callees
    "multi_account",  # 5-9 accounts across banks, moves money between them
    "second_hand_phone",  # bought a used phone: its IMEI was seen earlier with another holder's SIM
    "corporate_iot",  # company contact: 10-40 CORPORATE data-only SIMs in IoT modules
    "non_resident",  # PASSPORT / HMT_PERMIT holders, not in the ID registry
)

# Misuse typologies. Cards of these are truth is_misuse=1; the person keeps their own honest cards.
MISUSE_TYPOLOGIES: tuple[str, ...] = (
    "student_rental",
    "card_seller",
    "stolen_id",
    "elderly_agent",
    "dormant_mule",
    "cross_border",
    "corrupt_outlet",
    "quiet_lender",
    "simbox_farm",
)

LABEL_SOURCES: tuple[str, ...] = ("POLICE_NOTICE", "REVERIFY_FAILED", "REVERIFY_PASSED", "APPEAL", "COMPLAINT")


@dataclass(frozen=True)
class TypologyParams:
    """How common a typology is, how loud it is, and how (and how late) it gets confirmed.

    `rate` is the share of eligible persons for person typologies, and units per 10,000 persons for the
    unit typologies (`corrupt_outlet`: outlets, `simbox_farm`: farms). `strength` in [0, 1] blends the
    misuse behaviour between an ordinary subscriber (0) and the textbook pattern (1).
    """

    rate: float
    p_label: float
    p_person_label: float
    delay_median_days: float
    strength: float
    sources: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Formats:
    """Codes and formats the world writes; variants differ here so that a job cannot lean on one spelling."""

    operators: tuple[str, ...]
    operator_weights: tuple[float, ...]
    operator_prefixes: Mapping[str, tuple[str, ...]]
    mvno_codes: tuple[str, ...]  # subset of operators that are MVNOs (170/171/162/165/167 numbers)
    banks: tuple[str, ...]
    bank_weights: tuple[float, ...]
    bank_bins: Mapping[str, str]
    outlet_style: str  # "dash": CMCC-440106-0031, "compact": 440106Y0031
    account_style: str  # "card19": 19-digit card number with Luhn digit, "hex": bank + '-' + 12 hex
    dirty_id_rate: float
    dirty_name_rate: float
    imei_null_rate: float
    imei_odd_rate: float  # share of IMEIs delivered as 14 digits (no check digit) or 16 digits (IMEISV)


def _ro(d: dict[str, float]) -> Mapping[str, float]:
    return MappingProxyType(d)


@dataclass(frozen=True)
class Assumptions:
    """One variant of the world."""

    name: str
    group_share: Mapping[str, float]
    typology: Mapping[str, TypologyParams]
    cleared_rate: Mapping[str, float]  # per honest card, by group: chance of a label 0 (REVERIFY_PASSED/APPEAL)
    false_label_rate: Mapping[str, float]  # per honest card, by group: chance of a wrong label 1
    appeal_share: float  # of cleared honest cards, share cleared on APPEAL after an earlier label 1
    misuse_cleared_rate: float  # misuse card whose holder passes re-verification himself (label 0)
    p_stop_on_label: float  # labelled card suspended / frozen / cancelled / closed at label time
    sims_per_gang_device: float
    gang_rotation: float  # daily chance a gang SIM sits in another gang device than its usual one
    abroad_gang_share: float  # of domestic-typology cards, share worked from gangs abroad
    face_bypass: float  # misuse SIM registered remotely or by a corrupt clerk without a face check
    mule_out_delay_minutes: float  # median minutes from an inbound to its outbound at full strength
    label_window_days: int  # earliest label is about this many days before the run date
    seller_sims: tuple[int, int]  # a card seller opens between these many SIMs (low inclusive, high exclusive)
    formats: Formats = field(repr=False)


_TIER1 = {
    "CMCC": ("134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158", "159", "178",
             "182", "183", "184", "187", "188", "198"),
    "CUCC": ("130", "131", "132", "145", "155", "156", "166", "175", "176", "185", "186"),
    "CTCC": ("133", "149", "153", "173", "177", "180", "181", "189", "199"),
    "CBN": ("192",),
}

DEFAULT_FORMATS = Formats(
    operators=("CMCC", "CUCC", "CTCC", "CBN", "MVNO_SNAIL", "MVNO_JD", "MVNO_ALI"),
    operator_weights=(0.56, 0.19, 0.19, 0.02, 0.015, 0.015, 0.01),
    operator_prefixes=MappingProxyType({
        **_TIER1,
        "MVNO_SNAIL": ("170", "171"),
        "MVNO_JD": ("170", "165"),
        "MVNO_ALI": ("171", "167"),
    }),
    mvno_codes=("MVNO_SNAIL", "MVNO_JD", "MVNO_ALI"),
    banks=("ICBC", "CCB", "ABC", "BOC", "PSBC", "BOCOM", "CMB", "CIB", "SPDB", "RCC_GD", "WEBANK", "MYBANK"),
    bank_weights=(0.18, 0.16, 0.15, 0.11, 0.1, 0.06, 0.07, 0.04, 0.03, 0.04, 0.03, 0.03),
    bank_bins=MappingProxyType({
        "ICBC": "622202", "CCB": "621700", "ABC": "622848", "BOC": "621661", "PSBC": "621799", "BOCOM": "622262",
        "CMB": "621483", "CIB": "622909", "SPDB": "622521", "RCC_GD": "621728", "WEBANK": "623299",
        "MYBANK": "623183",
    }),
    outlet_style="dash",
    account_style="card19",
    dirty_id_rate=0.02,
    dirty_name_rate=0.02,
    imei_null_rate=0.02,
    imei_odd_rate=0.0,
)

HARSH_FORMATS = replace(
    DEFAULT_FORMATS,
    operators=("CMCC", "CUCC", "CTCC", "CBN", "1705", "yd-mvno", "蜗牛"),
    operator_prefixes=MappingProxyType({
        **_TIER1, "1705": ("170",), "yd-mvno": ("165", "170"), "蜗牛": ("171",),
    }),
    mvno_codes=("1705", "yd-mvno", "蜗牛"),
    # CNAPS-style numeric bank codes instead of abbreviations
    banks=("102", "105", "103", "104", "403", "301", "308", "309", "310", "402", "323", "783"),
    bank_bins=MappingProxyType({
        "102": "622202", "105": "621700", "103": "622848", "104": "621661", "403": "621799", "301": "622262",
        "308": "621483", "309": "622909", "310": "622521", "402": "621728", "323": "623299", "783": "623183",
    }),
    outlet_style="compact",
    account_style="hex",
    dirty_id_rate=0.08,
    dirty_name_rate=0.06,
    imei_null_rate=0.10,
    imei_odd_rate=0.05,
)

_POLICE = (("POLICE_NOTICE", 1.0),)

DEFAULT = Assumptions(
    name="default",
    group_share=_ro({
        "student": 0.08, "elderly": 0.13, "family_plan": 0.06, "migrant_worker": 0.08, "traveller": 0.03,
        "small_merchant": 0.04, "multi_account": 0.04, "second_hand_phone": 0.02, "corporate_iot": 0.003,
        "non_resident": 0.015,
        # "honest" takes the rest
    }),
    typology=MappingProxyType({
        # 两卡 students renting out / selling bank cards and SIMs; share of students
        "student_rental": TypologyParams(0.12, 0.55, 0.25, 60, 0.7,
                                         (("POLICE_NOTICE", 0.7), ("REVERIFY_FAILED", 0.3))),
        # 卡农: opens many SIMs across operators and accounts across banks to sell; share of adults 20-45
        "card_seller": TypologyParams(0.006, 0.7, 0.4, 40, 1.0,
                                      (("POLICE_NOTICE", 0.6), ("REVERIFY_FAILED", 0.4))),
        # lost/stolen ID opened remotely by others; share of persons (victims)
        "stolen_id": TypologyParams(0.006, 0.5, 0.0, 50, 0.9,
                                    (("COMPLAINT", 0.5), ("REVERIFY_FAILED", 0.3), ("POLICE_NOTICE", 0.2))),
        # agent registers extra SIMs on elderly IDs (送鸡蛋 promotions), SIMs go to 接码 platforms; share of elderly
        "elderly_agent": TypologyParams(0.06, 0.15, 0.0, 120, 0.5,
                                        (("REVERIFY_FAILED", 0.7), ("COMPLAINT", 0.3))),
        # long-dormant account sold and re-activated as a pass-through mule; share of persons
        "dormant_mule": TypologyParams(0.008, 0.7, 0.1, 20, 1.0, _POLICE),
        # cards sold and carried to Myanmar / Cambodia / Laos / Philippines compounds; share of adults 18-35
        "cross_border": TypologyParams(0.01, 0.6, 0.3, 45, 1.0,
                                       (("POLICE_NOTICE", 0.8), ("REVERIFY_FAILED", 0.2))),
        # corrupt outlet adds a hidden second SIM on walk-in customers' IDs; outlets per 10k persons
        "corrupt_outlet": TypologyParams(3.0, 0.3, 0.0, 90, 0.8,
                                         (("REVERIFY_FAILED", 0.6), ("COMPLAINT", 0.4))),
        # lends an account to a friend for 刷单 / small laundering; weak; share of persons
        "quiet_lender": TypologyParams(0.008, 0.1, 0.0, 100, 0.3, _POLICE),
        # 猫池 SIM-box farm: dozens of SIMs of unrelated holders in a few devices; farms per 10k; never labelled
        "simbox_farm": TypologyParams(3.0, 0.0, 0.0, 0, 1.0, ()),
    }),
    cleared_rate=_ro({
        "honest": 0.002, "student": 0.01, "elderly": 0.005, "family_plan": 0.04, "migrant_worker": 0.02,
        "traveller": 0.05, "small_merchant": 0.05, "multi_account": 0.03, "second_hand_phone": 0.03,
        "corporate_iot": 0.05, "non_resident": 0.02,
    }),
    false_label_rate=_ro({
        "honest": 0.0005, "student": 0.001, "elderly": 0.004, "family_plan": 0.001, "migrant_worker": 0.003,
        "traveller": 0.002, "small_merchant": 0.003, "multi_account": 0.001, "second_hand_phone": 0.002,
        "corporate_iot": 0.001, "non_resident": 0.002,
    }),
    appeal_share=0.25,
    misuse_cleared_rate=0.03,
    p_stop_on_label=0.65,
    sims_per_gang_device=2.5,
    gang_rotation=0.06,
    abroad_gang_share=0.25,
    face_bypass=0.6,
    mule_out_delay_minutes=15.0,
    label_window_days=300,
    seller_sims=(4, 11),
    formats=DEFAULT_FORMATS,
)


def _scaled(base: Mapping[str, TypologyParams], *, label: float, person: float, delay: float,
            strength: float) -> Mapping[str, TypologyParams]:
    return MappingProxyType({
        k: replace(v, p_label=v.p_label * label, p_person_label=v.p_person_label * person,
                   delay_median_days=v.delay_median_days * delay, strength=v.strength * strength)
        for k, v in base.items()
    })


HARSH = replace(
    DEFAULT,
    name="harsh",
    group_share=_ro({k: v * 1.5 for k, v in DEFAULT.group_share.items()}),
    typology=_scaled(DEFAULT.typology, label=0.6, person=0.5, delay=1.5, strength=0.55),
    cleared_rate=_ro({k: min(0.2, v * 2.0) for k, v in DEFAULT.cleared_rate.items()}),
    false_label_rate=DEFAULT.false_label_rate,  # same rate, but on more confounders and fewer true labels
    misuse_cleared_rate=0.08,
    p_stop_on_label=0.45,
    sims_per_gang_device=1.4,
    gang_rotation=0.02,
    abroad_gang_share=0.15,
    face_bypass=0.3,
    mule_out_delay_minutes=240.0,
    label_window_days=420,
    seller_sims=(2, 6),  # more sellers' IDs, fewer cards each: below per-operator limits
    formats=HARSH_FORMATS,
)

VARIANTS: Mapping[str, Assumptions] = MappingProxyType({a.name: a for a in (DEFAULT, HARSH)})


def variant(name: str) -> Assumptions:
    """The named variant, or a clear error listing the known ones."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown variant {name!r}; known: {', '.join(sorted(VARIANTS))}") from None
