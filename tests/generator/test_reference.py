"""Identifier builders and reference tables."""

from __future__ import annotations

import numpy as np
from faker.providers.ssn.zh_CN import Provider as SsnProvider

from realname_guard.generator.reference import (
    account_ids,
    id_check_chars,
    id_checksum_ok,
    id_numbers,
    imeis,
    luhn_digit,
    msisdns,
    names,
    regions,
    to_traditional,
    uscc,
)


def test_id_check_character_of_published_examples() -> None:
    # GB 11643-1999 examples: 11010519491231002X and 440524188001010014
    assert id_check_chars(np.array([11010519491231002, 44052418800101001])).tolist() == ["X", "4"]
    ids = np.array(["11010519491231002X", "440524188001010014", "440524188001010015", "4405241880010100", None],
                   dtype=object)
    assert id_checksum_ok(ids).tolist() == [True, True, False, False, False]


def test_id_numbers_are_18_characters_and_valid() -> None:
    out = id_numbers(np.array([110105, 632524]), np.array([19900101, 20011231]), np.array([1, 998]))
    assert out.tolist()[0].startswith("11010519900101001") and len(out[1]) == 18
    assert id_checksum_ok(out).all()


def test_regions_are_real_county_codes() -> None:
    reg = regions(7)
    faker_codes = set(SsnProvider.area_codes)
    assert len(reg.codes) > 2_500
    assert set(reg.codes.tolist()) <= faker_codes
    assert not any(c.endswith("00") for c in reg.codes)
    assert abs(reg.weights.sum() - 1) < 1e-9


def test_luhn_imei_and_card_numbers() -> None:
    assert luhn_digit(np.array([7992739871]), 10).tolist() == [3]  # the classic Luhn example
    imei = imeis(np.arange(5), np.full(5, 35332509))
    assert all(len(v) == 15 for v in imei) and len(set(imei)) == 5
    cards = account_ids(np.array([0, 1]), np.array([0, 1]))
    assert [c[:6] for c in cards] == ["622202", "622848"] and all(len(c) == 19 for c in cards)
    nums = msisdns(np.array(["CMCC", "MVNO01"]), np.array([0, 1]), np.array([0, 0]), np.array([False, False]))
    assert nums.tolist()[0][:3] == "134" and nums.tolist()[1][:3] == "170"


def test_uscc_has_valid_check_character() -> None:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    for code in uscc(np.random.default_rng(0), np.array([110105, 440305])):
        total = sum(chars.index(c) * w for c, w in zip(code[:17], weights, strict=True))
        assert len(code) == 18 and chars[(31 - total % 31) % 31] == code[17]


def test_traditional_names_fold_back() -> None:
    nm = names()
    trad = to_traditional(np.array(["张伟", "刘丽", "王芳"], dtype=object)).tolist()
    assert trad[:2] == ["張偉", "劉麗"]
    table = str.maketrans(nm.s2t_dst, nm.s2t_src)
    assert [t.translate(table) for t in trad] == ["张伟", "刘丽", "王芳"]
