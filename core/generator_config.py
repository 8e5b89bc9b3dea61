"""Parameters of the synthetic world generator (conf/base/generator.yaml).

Shares are fractions of persons unless named otherwise. Every typology and confounder with a
share above zero gets at least one person in each chunk, so that small worlds still hold them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator
from pydantic.dataclasses import dataclass

Share = float


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class GeneratorConfig:
    # -- size, seed, window ------------------------------------------------------------
    persons: int = Field(default=20_000, ge=1_000, le=1_000_000)
    seed: int = 7
    chunk_persons: int = Field(default=50_000, ge=1_000)
    activity_days: int = Field(default=30, ge=7, le=400)
    misuse_recent_days: int = Field(default=180, ge=14, le=3_650)

    # -- population --------------------------------------------------------------------
    migrant_share: Share = Field(default=0.18, ge=0, le=0.6)
    local_mover_share: Share = Field(default=0.12, ge=0, le=0.6)
    traditional_name_share: Share = Field(default=0.03, ge=0, le=0.5)
    foreign_id_share: Share = Field(default=0.005, ge=0, le=0.1)
    sims_per_person_weights: tuple[float, float, float] = (0.6, 0.3, 0.1)
    accounts_per_person_weights: tuple[float, float, float, float] = (0.35, 0.35, 0.2, 0.1)
    mvno_share: Share = Field(default=0.03, ge=0, le=0.5)
    id_registry_coverage: Share = Field(default=0.97, ge=0, le=1)
    registry_lost_share: Share = Field(default=0.003, ge=0, le=0.1)
    registry_expired_share: Share = Field(default=0.02, ge=0, le=0.2)
    registry_deceased_share: Share = Field(default=0.002, ge=0, le=0.1)
    sim_cancelled_share: Share = Field(default=0.05, ge=0, le=0.5)
    sim_suspended_share: Share = Field(default=0.01, ge=0, le=0.5)
    account_closed_share: Share = Field(default=0.04, ge=0, le=0.5)
    account_frozen_share: Share = Field(default=0.003, ge=0, le=0.5)
    reserved_stale_share: Share = Field(default=0.03, ge=0, le=0.5)
    reserved_null_share: Share = Field(default=0.03, ge=0, le=0.5)

    # -- confounders (honest, ground truth 0) -------------------------------------------
    student_share: Share = Field(default=0.05, ge=0, le=0.3)
    family_plan_share: Share = Field(default=0.06, ge=0, le=0.3)
    corporate_share: Share = Field(default=0.0015, ge=0, le=0.05)
    corporate_sims_median: int = Field(default=40, ge=1)
    corporate_sims_max: int = Field(default=600, ge=1)
    corporate_uscc_share: Share = Field(default=0.5, ge=0, le=1)
    merchant_share: Share = Field(default=0.03, ge=0, le=0.3)
    traveller_share: Share = Field(default=0.04, ge=0, le=0.3)
    # Ordinary SIMs seen on one day in a shop's or repair desk's handset (activation, a test, moving
    # contacts), shop_handset_sims of them per handset: many holders' SIMs in one handset, no SIM box.
    # A share of the ordinary SIMs (truth typology shop_handset), not of persons; 0: none.
    shop_handset_share: Share = Field(default=0.0, ge=0, le=0.5)
    shop_handset_sims: int = Field(default=40, ge=2)

    # -- misuse typologies (ground truth 1 on the misused cards) -------------------------
    card_farmer_share: Share = Field(default=0.004, ge=0, le=0.1)
    farmer_group_min: int = Field(default=4, ge=1)
    farmer_group_max: int = Field(default=12, ge=1)
    farmer_gang_reserved_share: Share = Field(default=0.6, ge=0, le=1)
    stolen_id_share: Share = Field(default=0.003, ge=0, le=0.1)
    stolen_reported_lost_share: Share = Field(default=0.4, ge=0, le=1)
    stolen_name_off_share: Share = Field(default=0.3, ge=0, le=1)
    dormant_mule_share: Share = Field(default=0.004, ge=0, le=0.1)
    dormant_reserved_changed_share: Share = Field(default=0.3, ge=0, le=1)
    elderly_id_share: Share = Field(default=0.003, ge=0, le=0.1)
    elderly_group_min: int = Field(default=3, ge=1)
    elderly_group_max: int = Field(default=10, ge=1)
    # Of the misused SIMs of stolen and elderly IDs, the share a 接码 platform uses instead of a caller:
    # they receive verification codes for other people's app accounts and hardly call. 0: none.
    code_receiving_share: Share = Field(default=0.0, ge=0, le=1)
    # Never labelled (no label rate): measured only through the ground truth, by the unsupervised score.
    simbox_farm_share: Share = Field(default=0.005, ge=0, le=0.1)
    simbox_farm_ids_min: int = Field(default=15, ge=1)
    simbox_farm_ids_max: int = Field(default=40, ge=1)
    rented_account_share: Share = Field(default=0.003, ge=0, le=0.1)
    rented_room_min: int = Field(default=8, ge=1)
    rented_room_max: int = Field(default=25, ge=1)

    # -- activity volume ----------------------------------------------------------------
    sim_active_day_share: Share = Field(default=0.3, gt=0, le=1)
    txns_per_account_per_day: float = Field(default=0.2, ge=0, le=5)
    dormant_account_share: Share = Field(default=0.15, ge=0, le=1)
    merchant_txns_per_day: float = Field(default=2.0, ge=0, le=50)
    mule_pairs_per_day: float = Field(default=0.5, ge=0, le=20)

    # -- labels (partial, biased, delayed) ------------------------------------------------
    label_rate_card_farmer: Share = Field(default=0.35, ge=0, le=0.49)
    label_rate_stolen_id: Share = Field(default=0.25, ge=0, le=0.49)
    label_rate_dormant_mule: Share = Field(default=0.25, ge=0, le=0.49)
    label_rate_elderly_id: Share = Field(default=0.1, ge=0, le=0.49)
    label_delay_min_days: int = Field(default=3, ge=0)
    label_delay_max_days: int = Field(default=45, ge=1)
    person_label_share: Share = Field(default=0.3, ge=0, le=1)
    negative_label_ratio: float = Field(default=0.4, ge=0, le=5)
    negative_on_confounder_share: Share = Field(default=0.8, ge=0, le=1)
    labelled_cards_closed_share: Share = Field(default=0.5, ge=0, le=1)
    # The 失信惩戒 list: card farmers listed by the authorities, some before they opened their
    # cards here (those cards fall inside the period), the others after.
    disciplinary_share: Share = Field(default=0.3, ge=0, le=1)
    disciplinary_before_cards_share: Share = Field(default=0.5, ge=0, le=1)

    # -- dirty rows ---------------------------------------------------------------------
    dirty_row_share: Share = Field(default=0.01, ge=0, le=0.2)
    dirty_fixable_fraction: Share = Field(default=0.6, ge=0, le=1)

    # -- code formats (generator/codes.py) -----------------------------------------------
    # plain: MVNO01, ICBC, 15-digit IMEIs; varied: the formats other senders use (MVNO_170, CNAPS
    # bank codes, outlet ids with a Chinese prefix, prefixed device ids). The contract fixes neither.
    code_style: Literal["plain", "varied"] = "plain"

    @model_validator(mode="after")
    def _consistent(self) -> GeneratorConfig:
        roles = (
            self.student_share + self.family_plan_share + self.corporate_share + self.merchant_share
            + self.traveller_share + self.card_farmer_share + self.stolen_id_share
            + self.dormant_mule_share + self.elderly_id_share + self.simbox_farm_share
            + self.rented_account_share
        )
        if roles > 0.6:
            raise ValueError(f"typology and confounder shares add up to {roles:.3f}; at most 0.6")
        if self.farmer_group_min > self.farmer_group_max:
            raise ValueError("farmer_group_min must not exceed farmer_group_max")
        if self.elderly_group_min > self.elderly_group_max:
            raise ValueError("elderly_group_min must not exceed elderly_group_max")
        if self.simbox_farm_ids_min > self.simbox_farm_ids_max:
            raise ValueError("simbox_farm_ids_min must not exceed simbox_farm_ids_max")
        if self.rented_room_min > self.rented_room_max:
            raise ValueError("rented_room_min must not exceed rented_room_max")
        if self.label_delay_min_days > self.label_delay_max_days:
            raise ValueError("label_delay_min_days must not exceed label_delay_max_days")
        if self.corporate_sims_median > self.corporate_sims_max:
            raise ValueError("corporate_sims_median must not exceed corporate_sims_max")
        for name in ("sims_per_person_weights", "accounts_per_person_weights"):
            weights = getattr(self, name)
            if min(weights) < 0 or sum(weights) <= 0:
                raise ValueError(f"{name}: weights must be non-negative and not all zero")
        return self
