"""Keyed hashes and masks for ID numbers: no raw ID or name leaves the job.

The HMAC-SHA256 is computed natively in Spark (sha2 over the RFC 2104 inner/outer pads), so
hashing a billion IDs costs no Python. The key comes from an environment variable only.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from pyspark.sql import Column
from pyspark.sql import functions as F

_BLOCK = 64  # SHA-256 block size in bytes


class MissingKeyError(RuntimeError):
    """The hash key environment variable is not set."""


def hash_key_from_env(env_var: str) -> bytes:
    """Read the HMAC key from the environment; never from a file in the repo."""
    value = os.environ.get(env_var, "")
    if len(value) < 16:
        raise MissingKeyError(
            f"environment variable {env_var} must hold the ID hash key (at least 16 characters); "
            f"e.g. export {env_var}=$(python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return value.encode("utf-8")


def _pads(key: bytes) -> tuple[bytes, bytes]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\x00")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def hmac_sha256(value: Column, key: bytes) -> Column:
    """HMAC-SHA256 of a string column as 64 lower-case hex characters (null stays null)."""
    inner_pad, outer_pad = _pads(key)
    inner = F.unhex(F.sha2(F.concat(F.lit(inner_pad), F.encode(value, "UTF-8")), 256))
    return F.when(value.isNotNull(), F.sha2(F.concat(F.lit(outer_pad), inner), 256))


def hmac_sha256_py(value: str, key: bytes) -> str:
    """Reference implementation (tests, and small driver-side lookups)."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def mask_id(value: Column) -> Column:
    """Keep the first four and last four characters: ``1101**********002X``; short ones all masked."""
    n = F.length(value)
    return F.when(
        n > 8, F.concat(F.substring(value, 1, 4), F.repeat(F.lit("*"), n - 8), F.substring(value, -4, 4))
    ).when(value.isNotNull(), F.repeat(F.lit("*"), n))
