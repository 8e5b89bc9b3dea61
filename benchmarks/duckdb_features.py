"""The reference for the feature stage: the same feature groups as plain SQL for DuckDB.

Computes, from the validated and de-identified tables that ``jobs.ingest.ingest`` returns
(written to Parquet), exactly the frame ``features.assemble.build_features`` builds for the
groups in ``GROUPS``: every SIM and account known on the as-of date, the entity columns, and the
feature columns cast to double. It mirrors the Spark code line by line (as-of view in
``features/common.py``, null handling, ``try_divide``, window frames), so that the two can be
checked for equal values and timed side by side on the same Parquet and the same cores.

This module is a benchmark and test oracle only; the job itself runs on Spark. DuckDB is a
dev/bench dependency.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import duckdb

# The feature groups this reference covers, in the order of conf/base/features.yaml.
GROUPS: tuple[str, ...] = (
    "holder_identity",
    "holder_cards",
    "card_registration",
    "reserved_phone",
    "device_sharing",
    "sim_usage",
    "account_flows",
)
ENTITY_COLUMNS = ("entity_type", "entity_id", "recipient", "id_hash", "id_masked", "opened_at", "closed")
TABLES = ("sims", "accounts", "activity", "transactions", "registry")
TIMEZONE = "Asia/Shanghai"

_MACROS = """
-- province(): two-digit province prefix of a six-digit region code, else NULL (core/identity.py)
CREATE OR REPLACE TEMP MACRO province(r) AS CASE WHEN regexp_matches(r, '^[0-9]{6}$') THEN substr(r, 1, 2) END;
-- Spark's months_between(d, b) on dates: whole months when the days of month agree or both are the
-- last day of their month, else the day difference over 31; rounded to 8 digits.
CREATE OR REPLACE TEMP MACRO months_between_(d, b) AS round(
    (year(d) - year(b)) * 12 + (month(d) - month(b))
    + CASE WHEN day(d) = day(b) OR (d = last_day(d) AND b = last_day(b)) THEN 0.0
           ELSE (day(d) - day(b)) / 31.0::DOUBLE END, 8);
-- age_on(): whole years between a birth date and a date (core/identity.py)
CREATE OR REPLACE TEMP MACRO age_on(b, d) AS CAST(floor(months_between_(d, b) / 12) AS INTEGER);
-- Spark's try_divide: NULL when the divisor is zero
CREATE OR REPLACE TEMP MACRO try_div(a, b) AS CASE WHEN b <> 0 THEN a::DOUBLE / b END;
-- Spark's CAST(timestamp AS BIGINT): whole epoch seconds (local wall time here; only differences matter)
CREATE OR REPLACE TEMP MACRO secs(t) AS epoch_us(t) // 1000000;
"""

_VIEWS = """
-- as-of view (features/common.py::as_of_view)
CREATE OR REPLACE TEMP VIEW s AS SELECT * FROM raw_sims WHERE reg_time < $end;
CREATE OR REPLACE TEMP VIEW a AS SELECT * FROM raw_accounts WHERE open_time < $end;
CREATE OR REPLACE TEMP VIEW act AS SELECT * FROM raw_activity WHERE day <= $as_of AND day >= $start;
CREATE OR REPLACE TEMP VIEW tx AS
    SELECT * FROM raw_transactions WHERE ts < $end AND ts >= CAST($start AS TIMESTAMP);
CREATE OR REPLACE TEMP VIEW reg AS SELECT * FROM raw_registry;

-- cards(): SIMs and accounts in one shape
CREATE OR REPLACE TEMP VIEW cards AS
    SELECT 'SIM' AS entity_type, msisdn AS entity_id, operator AS recipient, id_hash,
           reg_time AS opened_at, channel, outlet_id AS site_id, outlet_region AS site_region, face_verified
    FROM s
    UNION ALL
    SELECT 'ACCOUNT', account_id, bank_code, id_hash, open_time, channel, branch_id, branch_region,
           CAST(NULL AS BOOLEAN)
    FROM a;

-- holders(): parsed ID attributes overridden by the registry's record
CREATE OR REPLACE TEMP VIEW holders AS
    WITH parsed AS (
        SELECT id_hash, min(id_region) AS id_region, min(id_birth_date) AS id_birth_date,
               min(id_gender) AS id_gender
        FROM (SELECT id_hash, id_region, id_birth_date, id_gender FROM s
              UNION ALL SELECT id_hash, id_region, id_birth_date, id_gender FROM a)
        GROUP BY id_hash)
    SELECT p.id_hash, coalesce(r.hukou_region, p.id_region) AS home_region,
           coalesce(r.birth_date, p.id_birth_date) AS birth_date, coalesce(r.gender, p.id_gender) AS gender,
           r.id_status
    FROM parsed p LEFT JOIN reg r ON r.id_hash = p.id_hash;

-- entity_base() of features/assemble.py
CREATE OR REPLACE TEMP VIEW entity_base AS
    SELECT 'SIM' AS entity_type, msisdn AS entity_id, operator AS recipient, id_hash, id_masked,
           reg_time AS opened_at, (status = 'CANCELLED') AND coalesce(cancel_time < $end, TRUE) AS closed,
           0 AS is_account
    FROM s
    UNION ALL
    SELECT 'ACCOUNT', account_id, bank_code, id_hash, id_masked, open_time,
           (status = 'CLOSED') AND coalesce(close_time < $end, TRUE), 1
    FROM a;
"""

# One SQL query per feature group; the key columns and output names match features/.
GROUP_SQL: dict[str, str] = {
    "holder_identity": """
        SELECT id_hash, age_on(birth_date, $as_of) AS holder_age,
               CAST(age_on(birth_date, $as_of) >= 65 AS INTEGER) AS holder_is_elderly,
               CASE WHEN id_status IS NULL THEN NULL ELSE CAST(id_status <> 'VALID' AS INTEGER) END
                   AS id_status_invalid
        FROM holders""",
    "holder_cards": """
        SELECT id_hash,
               sum(CAST(entity_type = 'SIM' AS INTEGER)) AS sims_total,
               count(DISTINCT CASE WHEN entity_type = 'SIM' THEN recipient END) AS sim_operators,
               sum(CAST(entity_type <> 'SIM' AS INTEGER)) AS accounts_total,
               count(DISTINCT CASE WHEN entity_type <> 'SIM' THEN recipient END) AS banks_distinct,
               sum(CAST(opened_at >= CAST($as_of AS TIMESTAMP) - INTERVAL 29 DAY AS INTEGER)) AS cards_opened_30d
        FROM cards GROUP BY id_hash""",
    "card_registration": """
        SELECT c.entity_type, c.entity_id,
               CASE WHEN c.entity_type = 'SIM' THEN c.same_op END AS sims_same_operator,
               c.cards_7d AS cards_opened_7d_before,
               CAST(c.channel = 'AGENT' AS INTEGER) AS opened_via_agent,
               CAST(c.channel IN ('ONLINE', 'MOBILE_APP') AS INTEGER) AS opened_remotely,
               CAST(c.channel = 'CORPORATE' AS INTEGER) AS opened_corporate,
               CASE WHEN c.entity_type = 'SIM' THEN CAST(NOT coalesce(c.face_verified, FALSE) AS INTEGER) END
                   AS no_face_check,
               CASE WHEN province(c.site_region) IS NOT NULL AND province(h.home_region) IS NOT NULL
                    THEN CAST(province(c.site_region) <> province(h.home_region) AS INTEGER) END
                   AS site_far_from_home,
               age_on(h.birth_date, CAST(c.opened_at AS DATE)) AS age_at_opening,
               date_diff('day', CAST(c.opened_at AS DATE), $as_of) AS card_age_days
        FROM (SELECT *,
                     count(*) OVER (PARTITION BY id_hash ORDER BY secs(opened_at)
                                    RANGE BETWEEN 604800 PRECEDING AND CURRENT ROW) - 1 AS cards_7d,
                     count(*) OVER (PARTITION BY id_hash, entity_type, recipient) AS same_op
              FROM cards) c
        LEFT JOIN holders h ON h.id_hash = c.id_hash""",
    "reserved_phone": """
        WITH pairs AS (SELECT DISTINCT reserved_msisdn, id_hash FROM a WHERE reserved_msisdn IS NOT NULL),
             per_phone AS (SELECT reserved_msisdn, count(*) AS n_ids FROM pairs GROUP BY reserved_msisdn)
        SELECT 'ACCOUNT' AS entity_type, a.account_id AS entity_id,
               CASE WHEN o.id_hash IS NOT NULL THEN CAST(o.id_hash <> a.id_hash AS INTEGER) END
                   AS reserved_phone_other_id,
               p.n_ids AS reserved_phone_ids,
               CAST(NULL AS BIGINT) AS sim_reserved_by_other_ids
        FROM a
        LEFT JOIN s o ON o.msisdn = a.reserved_msisdn
        LEFT JOIN per_phone p ON p.reserved_msisdn = a.reserved_msisdn
        UNION ALL
        SELECT 'SIM', s.msisdn, NULL, NULL, count(pairs.id_hash)
        FROM s LEFT JOIN pairs ON pairs.reserved_msisdn = s.msisdn AND pairs.id_hash <> s.id_hash
        GROUP BY s.msisdn""",
    "device_sharing": """
        WITH owned AS (
                 SELECT si.msisdn, si.imei, s.id_hash, si.days >= 2 AS stays
                 FROM (SELECT msisdn, imei, count(DISTINCT day) AS days FROM act WHERE imei IS NOT NULL
                       GROUP BY msisdn, imei) si
                 JOIN s ON s.msisdn = si.msisdn),
             per_imei AS (
                 SELECT imei, count(DISTINCT CASE WHEN stays THEN id_hash END) AS ids_on_imei,
                        count(*) FILTER (WHERE stays) AS sims_on_imei
                 FROM owned GROUP BY imei)
        SELECT 'SIM' AS entity_type, o.msisdn AS entity_id, count(*) AS imei_count,
               max(p.ids_on_imei) AS imei_max_ids, max(p.sims_on_imei) AS imei_max_sims
        FROM owned o JOIN per_imei p ON p.imei = o.imei
        GROUP BY o.msisdn""",
    "sim_usage": """
        WITH home AS (SELECT s.msisdn, h.home_region FROM s LEFT JOIN holders h ON h.id_hash = s.id_hash),
             rows_ AS (
                 SELECT act.*, home.home_region,
                        CASE WHEN act.cell_region = 'ABROAD'
                                  OR (province(act.cell_region) IS NOT NULL
                                      AND province(home.home_region) IS NOT NULL
                                      AND province(act.cell_region) <> province(home.home_region))
                             THEN 1 ELSE 0 END AS away
                 FROM act JOIN home ON home.msisdn = act.msisdn),
             agg AS (
                 SELECT msisdn, count(DISTINCT day) AS active_days,
                        sum(calls_out) AS calls_out, sum(calls_in) AS calls_in,
                        sum(call_out_seconds) AS call_secs, sum(distinct_callees) AS callees,
                        sum(sms_out) AS sms_out, sum(sms_in) AS sms_in, sum(data_mb) AS data_mb,
                        count(DISTINCT CASE WHEN away = 1 THEN day END) AS away_days,
                        count(DISTINCT CASE WHEN cell_region = 'ABROAD' THEN day END) AS days_abroad
                 FROM rows_ GROUP BY msisdn)
        SELECT 'SIM' AS entity_type, msisdn AS entity_id, active_days,
               try_div(calls_out, active_days::DOUBLE) AS calls_out_per_day,
               try_div(calls_out::DOUBLE, greatest(calls_in, 1)) AS call_out_in_ratio,
               try_div(callees, active_days::DOUBLE) AS callees_per_day,
               try_div(call_secs::DOUBLE, calls_out) AS avg_call_seconds,
               try_div(sms_out, active_days::DOUBLE) AS sms_out_per_day,
               try_div(sms_in, active_days::DOUBLE) AS sms_in_per_day,
               try_div(data_mb, active_days::DOUBLE) AS data_mb_per_day,
               try_div(away_days::DOUBLE, active_days::DOUBLE) AS share_days_away_from_home,
               days_abroad
        FROM agg""",
    "account_flows": """
        WITH home AS (
                 SELECT a.account_id, a.open_time, h.home_region
                 FROM a LEFT JOIN holders h ON h.id_hash = a.id_hash),
             t1 AS (
                 SELECT tx.account_id, tx.ts, tx.direction, tx.counterparty_account, tx.ip_region,
                        CAST(tx.amount AS DOUBLE) AS amount, home.home_region, home.open_time,
                        secs(tx.ts) AS secs
                 FROM tx LEFT JOIN home ON home.account_id = tx.account_id),
             t2 AS (
                 SELECT *,
                        sum(CASE WHEN direction = 'IN' THEN amount ELSE 0.0 END) OVER (
                            PARTITION BY account_id ORDER BY secs
                            RANGE BETWEEN 86400 PRECEDING AND CURRENT ROW) AS in_24h,
                        (secs - lag(secs) OVER (PARTITION BY account_id ORDER BY secs)) / 86400.0
                            AS gap_days
                 FROM t1),
             agg AS (
                 SELECT account_id,
                        count(*) AS txn_count,
                        sum(CASE WHEN NOT (direction = 'OUT') THEN amount ELSE 0.0 END) AS amount_in,
                        sum(CASE WHEN direction = 'OUT' THEN amount ELSE 0.0 END) AS amount_out,
                        sum(CAST(direction = 'OUT' AS INTEGER)) AS n_out,
                        sum(CAST(direction = 'OUT' AND in_24h >= amount AS INTEGER)) AS n_pass,
                        count(DISTINCT counterparty_account) AS counterparties,
                        sum(CAST(hour(ts) < 6 AS INTEGER)) AS n_night,
                        max(gap_days) AS max_gap_days,
                        sum(CAST(ts >= CAST($as_of - INTERVAL 6 DAY AS TIMESTAMP) AS INTEGER)) AS n_recent,
                        min(ts) AS first_ts,
                        max(open_time) AS open_time,
                        sum(CAST(ip_region = 'ABROAD'
                                 OR (province(ip_region) IS NOT NULL
                                     AND province(ip_region) <> coalesce(province(home_region), province(ip_region)))
                                 AS INTEGER)) AS n_away,
                        count(ip_region) AS n_ip
                 FROM t2 GROUP BY account_id)
        SELECT 'ACCOUNT' AS entity_type, account_id AS entity_id, txn_count, amount_in,
               try_div(amount_out, amount_in) AS out_in_amount_ratio,
               try_div(n_pass::DOUBLE, n_out) AS passthrough_share,
               counterparties,
               try_div(n_night::DOUBLE, txn_count::DOUBLE) AS night_share,
               max_gap_days,
               try_div(n_recent::DOUBLE, txn_count::DOUBLE) AS last7_share,
               greatest(date_diff('day', greatest($start, CAST(open_time AS DATE)), CAST(first_ts AS DATE)), 0)
                   AS quiet_days_before_first_txn,
               try_div(n_away::DOUBLE, n_ip) AS ip_away_share
        FROM agg""",
}

HOLDER_GROUPS = frozenset({"holder_identity", "holder_cards"})


def output_columns(group: str) -> list[str]:
    """The feature columns a group's SQL returns (its select list minus the keys)."""
    from realname_guard.features.registry import registry  # the Spark registry names the same outputs

    return list(registry()[group].outputs)


def connect(threads: int = 2, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection on `threads` threads, with local time in the job's time zone."""
    con = duckdb.connect()
    con.execute(f"SET threads={int(threads)}")
    con.execute(f"SET TimeZone='{TIMEZONE}'")
    if memory_limit:
        con.execute(f"SET memory_limit='{memory_limit}'")
    con.execute("SET preserve_insertion_order=false")
    return con


def _read_table(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> None:
    """``raw_<name>``: the Parquet table, with zoned timestamps turned into local wall time.

    Spark writes its (session-local) timestamps as UTC instants; Spark's functions such as
    ``to_date`` and ``hour`` then work in the session time zone. Casting to a naive timestamp in
    the same zone gives DuckDB the same wall-clock values.
    """
    pattern = f"{path.as_posix()}/**/*.parquet" if path.is_dir() else path.as_posix()
    cols = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{pattern}')").fetchall()
    select = ", ".join(
        f'CAST("{c}" AS TIMESTAMP) AS "{c}"' if t == "TIMESTAMP WITH TIME ZONE" else f'"{c}"' for c, t, *_ in cols
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW raw_{name} AS SELECT {select} FROM read_parquet('{pattern}')")


def features_sql(groups: tuple[str, ...] = GROUPS) -> str:
    """The whole feature query (unbound; see ``bind``): entity base left-joined with every group."""
    joins, cols = [], []
    for i, g in enumerate(groups):
        keys = "id_hash" if g in HOLDER_GROUPS else "entity_type, entity_id"
        joins.append(f"LEFT JOIN ({GROUP_SQL[g]}) g{i} USING ({keys})")
        cols += output_columns(g)
    select = ", ".join([*ENTITY_COLUMNS, "CAST(is_account AS DOUBLE) AS is_account"]
                       + [f"CAST({c} AS DOUBLE) AS {c}" for c in cols])
    return f"SELECT {select} FROM entity_base\n" + "\n".join(joins)


def prepare(con: duckdb.DuckDBPyConnection, tables: Mapping[str, Path], as_of: dt.date,
            activity_window_days: int = 30) -> None:
    """Register the Parquet tables, the macros and the as-of views on `con`."""
    for name in TABLES:
        _read_table(con, name, Path(tables[name]))
    con.execute(_MACROS)
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    start = as_of - dt.timedelta(days=activity_window_days - 1)
    views = (
        _VIEWS.replace("$end", f"TIMESTAMP '{end.isoformat(sep=' ')}'")
        .replace("$as_of", f"DATE '{as_of.isoformat()}'")
        .replace("$start", f"DATE '{start.isoformat()}'")
    )
    con.execute(views)


def bind(sql: str, as_of: dt.date, activity_window_days: int = 30) -> str:
    """Put the as-of date and the window start into a group's SQL as literals."""
    start = as_of - dt.timedelta(days=activity_window_days - 1)
    return sql.replace("$as_of", f"DATE '{as_of.isoformat()}'").replace("$start", f"DATE '{start.isoformat()}'")


def build(con: duckdb.DuckDBPyConnection, tables: Mapping[str, Path], as_of: dt.date,
          activity_window_days: int = 30, groups: tuple[str, ...] = GROUPS) -> str:
    """Prepare `con` and return the bound feature query."""
    prepare(con, tables, as_of, activity_window_days)
    return bind(features_sql(groups), as_of, activity_window_days)


def write_features(con: duckdb.DuckDBPyConnection, sql: str, out: Path) -> int:
    """Run the feature query and write it as one Parquet file; return its row count."""
    out.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({sql}) TO '{out.as_posix()}' (FORMAT parquet)")
    row = con.execute(f"SELECT count(*) FROM read_parquet('{out.as_posix()}')").fetchone()
    return int(row[0]) if row else 0
