"""Point-in-time: rows dated after the as-of date change none of the catalogue groups' features."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from realname_guard.core.config import FeatureSpec
from realname_guard.features.assemble import build_features
from tests.features.catalogue_literal import CTX, extended_world
from tests.features.literal import ACCOUNTS_DDL, ACTIVITY_DDL, LABELS_DDL, SIMS_DDL, TXNS_DDL, d, ts
from tests.features.test_catalogue_doc import CATALOGUE_GROUPS


def test_catalogue_groups_point_in_time(spark: SparkSession) -> None:
    """Rows after the as-of date (a SIM at o9, a device, usage abroad, a transaction, labels) change nothing."""
    t = extended_world(spark)
    later = t.with_(
        sims=t.sims.unionByName(
            spark.createDataFrame(
                [("13600000009", "MVNO01", "RESIDENT_ID", "D", "5301**44", dt.date(1990, 7, 15), "F", "530102",
                  "陈静", ts(1, month=7), "AGENT", "o9", "530102", False, "ACTIVE", None)],
                SIMS_DDL,
            )
        ),
        accounts=t.accounts.unionByName(
            spark.createDataFrame(
                [("acc-E9", "CMB", "PASSPORT", "E", "E1******", None, None, None, None, ts(2, month=7), None,
                  "310101", "MOBILE_APP", "II", "13800000002", "dev1", "ACTIVE", None)],
                ACCOUNTS_DDL,
            )
        ),
        activity=t.get("activity").unionByName(
            spark.createDataFrame(
                [("13600000002", d(1, month=7), "box1", "ABROAD", "MM", 90, 0, 9, 9, 0, 0, 0.0)], ACTIVITY_DDL
            )
        ),
        transactions=t.get("transactions").unionByName(
            spark.createDataFrame(
                [("t9", "acc-A1", ts(1, 1, month=7), Decimal("9"), "OUT", "x9", "ATM", "dev1", "ABROAD")], TXNS_DDL
            )
        ),
        labels=t.get("labels").unionByName(
            spark.createDataFrame(
                [("SIM", "13800000001", 1, ts(1, month=7), "POLICE_NOTICE"),
                 ("PERSON", "A", 1, ts(1, month=7), "POLICE_NOTICE")],
                LABELS_DDL,
            )
        ),
    )
    # Four rounds are enough for this world's components and keep the test fast.
    params = {"network_components": {"max_iterations": 4}}
    specs = tuple(FeatureSpec(name, params.get(name, {})) for name in CATALOGUE_GROUPS)
    before = build_features(t, CTX, specs)
    after = build_features(later, CTX, specs)
    assert before.built == CATALOGUE_GROUPS
    assertDataFrameEqual(after.frame, before.frame)
