"""ID numbers, names and hashes: column functions on literal rows, including dirty values."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from realname_guard.core.identity import (
    id_birth_date,
    id_checksum_ok,
    id_gender,
    id_region,
    id_valid,
    normalise_id,
)
from realname_guard.core.names import name_distance, normalise_name
from realname_guard.core.privacy import hmac_sha256, hmac_sha256_py, mask_id
from tests.conftest import TEST_HASH_KEY


def test_normalise_and_check_ids(spark: SparkSession) -> None:
    raw = spark.createDataFrame(
        [
            ("11010519491231002X",),  # the GB 11643 standard's own example
            ("11010519491231002x",),  # lower-case x
            ("１１０１０５１９４９１２３１００２Ｘ",),  # full-width digits and X
            (" 110105 19491231 002X ",),  # spaces
            ("110105194912310021",),  # wrong check character
            ("110105194902300027",),  # 30 February
            ("11010519491231002",),  # 17 characters
            (None,),
        ],
        "raw STRING",
    )
    norm = normalise_id(F.col("raw"))
    got = raw.select(
        norm.alias("id"),
        id_checksum_ok(norm).alias("ok"),
        id_birth_date(norm).alias("born"),
        id_gender(norm).alias("gender"),
        id_region(norm).alias("region"),
    )
    born = dt.date(1949, 12, 31)
    expected = spark.createDataFrame(
        [
            ("11010519491231002X", True, born, "F", "110105"),
            ("11010519491231002X", True, born, "F", "110105"),
            ("11010519491231002X", True, born, "F", "110105"),
            ("11010519491231002X", True, born, "F", "110105"),
            ("110105194912310021", False, born, "F", "110105"),
            ("110105194902300027", False, None, "F", "110105"),
            ("11010519491231002", False, born, "F", "110105"),
            (None, False, None, None, None),
        ],
        "id STRING, ok BOOLEAN, born DATE, gender STRING, region STRING",
    )
    assertDataFrameEqual(got, expected, checkRowOrder=True)


def test_the_driver_side_normalisation_matches_spark(spark: SparkSession) -> None:
    """A lookup by ID number hashes what ingest would have hashed."""
    from realname_guard.core.identity import normalise_id_py

    raw = ["11010519491231002x", "１１０１０５１９４９１２３１００２Ｘ", " 110105 19491231\u3000002X ", "ｘ12"]
    got = [r["id"] for r in spark.createDataFrame([(v,) for v in raw], "raw STRING").select(
        normalise_id(F.col("raw")).alias("id")).collect()]
    assert got == [normalise_id_py(v) for v in raw]


def test_id_valid_by_type(spark: SparkSession) -> None:
    df = spark.createDataFrame(
        [("RESIDENT_ID", "11010519491231002X"), ("RESIDENT_ID", "E12345678"), ("PASSPORT", "E12345678"),
         ("PASSPORT", None)],
        "id_type STRING, id STRING",
    )
    got = [r[0] for r in df.select(id_valid(F.col("id_type"), F.col("id"))).collect()]
    assert got == [True, False, True, False]


def test_names_normalise_traditional_full_width_and_spaces(spark: SparkSession) -> None:
    df = spark.createDataFrame(
        [("張 偉", "张伟"), ("ＬＩ　Ｍｉｎｇ", "LIMING"), ("阿卜杜•热合曼", "阿卜杜·热合曼"), ("李娜", "李那"), ("  ", None)],
        "a STRING, b STRING",
    )
    got = df.select(
        normalise_name(F.col("a")).alias("a"),
        normalise_name(F.col("b")).alias("b"),
        name_distance(normalise_name(F.col("a")), normalise_name(F.col("b"))).alias("dist"),
    )
    expected = spark.createDataFrame(
        [("张伟", "张伟", 0), ("LIMING", "LIMING", 0), ("阿卜杜·热合曼", "阿卜杜·热合曼", 0), ("李娜", "李那", 1),
         (None, None, None)],
        "a STRING, b STRING, dist INT",
    )
    assertDataFrameEqual(got, expected, checkRowOrder=True)


def test_hmac_matches_python_and_mask(spark: SparkSession) -> None:
    ids = ["11010519491231002X", "440106200102030011", "E12345678", None]
    df = spark.createDataFrame([(i,) for i in ids], "id STRING")
    got = df.select(hmac_sha256(F.col("id"), TEST_HASH_KEY).alias("h"), mask_id(F.col("id")).alias("m")).collect()
    assert [r["h"] for r in got] == [hmac_sha256_py(i, TEST_HASH_KEY) if i else None for i in ids]
    assert [r["m"] for r in got] == ["1101**********002X", "4401**********0011", "E123*5678", None]
    long_key = b"k" * 100  # keys longer than the block are hashed first (RFC 2104)
    h = df.select(hmac_sha256(F.col("id"), long_key)).first()[0]
    assert h == hmac_sha256_py(ids[0], long_key)
