"""Identifiers of the world: regions, names, ID numbers (GB 11643), msisdns, IMEIs, account ids, fingerprints.

Everything is vectorised over numpy arrays; the few Python loops run over small dirty subsets only.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

StrArray = npt.NDArray[np.str_]
IntArray = npt.NDArray[np.int64]
Rng = np.random.Generator

# (code, weight, kind). kind: city = destination of migration; inland = origin; hotspot = domestic gang base
# (areas named in public 断卡 campaigns); border = Yunnan/Guangxi border counties.
REGIONS: tuple[tuple[str, float, str], ...] = (
    ("110105", 3.0, "city"), ("110108", 2.5, "city"), ("120101", 1.5, "inland"), ("130102", 1.5, "inland"),
    ("140105", 1.0, "inland"), ("150102", 0.8, "inland"), ("210102", 1.2, "inland"), ("220102", 0.9, "inland"),
    ("230102", 1.0, "inland"), ("310104", 2.0, "city"), ("310115", 3.0, "city"), ("320106", 1.5, "city"),
    ("320505", 1.8, "city"), ("330106", 1.5, "city"), ("330108", 1.2, "city"), ("330782", 1.0, "city"),
    ("340104", 1.2, "inland"), ("341221", 1.5, "inland"), ("350203", 1.2, "city"), ("350524", 0.8, "hotspot"),
    ("350583", 0.8, "hotspot"), ("360102", 1.0, "inland"), ("360603", 0.6, "hotspot"), ("370102", 1.5, "inland"),
    ("370212", 1.0, "inland"), ("410105", 1.5, "inland"), ("411723", 1.5, "inland"), ("420111", 1.8, "city"),
    ("430104", 1.5, "inland"), ("431321", 0.8, "hotspot"), ("440106", 2.5, "city"), ("440305", 2.5, "city"),
    ("440306", 2.5, "city"), ("441900", 2.5, "city"), ("440904", 0.8, "hotspot"), ("440983", 0.8, "hotspot"),
    ("445281", 0.8, "hotspot"), ("450103", 1.0, "inland"), ("450126", 0.7, "hotspot"), ("451481", 0.3, "border"),
    ("450681", 0.3, "border"), ("460105", 0.8, "inland"), ("460400", 0.6, "hotspot"), ("500103", 2.0, "city"),
    ("510107", 2.0, "city"), ("511623", 1.5, "inland"), ("520102", 1.2, "inland"), ("530102", 1.2, "inland"),
    ("533102", 0.4, "border"), ("530926", 0.3, "border"), ("532823", 0.3, "border"), ("610113", 1.5, "city"),
    ("620102", 0.8, "inland"), ("630104", 0.4, "inland"), ("640104", 0.4, "inland"), ("650102", 0.9, "inland"),
)
REGION_CODES: StrArray = np.array([r[0] for r in REGIONS])
REGION_WEIGHTS = np.array([r[1] for r in REGIONS]) / sum(r[1] for r in REGIONS)
REGION_KIND: StrArray = np.array([r[2] for r in REGIONS])


def regions_of(kind: str) -> tuple[StrArray, npt.NDArray[np.float64]]:
    """Codes of one kind with their normalised weights."""
    m = REGION_KIND == kind
    w = REGION_WEIGHTS[m]
    return REGION_CODES[m], w / w.sum()


def pick_regions(rng: Rng, n: int, kind: str | None = None) -> StrArray:
    """n region codes, population-weighted, optionally of one kind."""
    if kind is None:
        return rng.choice(REGION_CODES, size=n, p=REGION_WEIGHTS)
    codes, w = regions_of(kind)
    return rng.choice(codes, size=n, p=w)


SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何",
            "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田",
            "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚",
            "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏", "韦", "付", "方", "欧阳",
            "上官")
_SURNAME_W = np.r_[np.linspace(7.0, 0.6, len(SURNAMES) - 2), [0.05, 0.02]]
GIVEN = tuple("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕鹏辉斌宇浩凯健俊帆帅旭宁龙林欣"
              "佳怡梓涵子轩雨萱思博文嘉琪一诺晨阳浩然宏志建国国庆海波春梅秋菊兰云飞丹凤新民永德天翔雪梅")
UYGHUR = ("买买提", "艾力", "阿不都", "热依拉", "古丽", "吐尔逊", "努尔", "阿依")
TRAD = str.maketrans({"陈": "陳", "刘": "劉", "张": "張", "杨": "楊", "黄": "黃", "赵": "趙", "吴": "吳", "许": "許",
                      "郑": "鄭", "谢": "謝", "华": "華", "伟": "偉", "丽": "麗", "军": "軍", "杰": "傑", "涛": "濤",
                      "红": "紅", "燕": "燕", "鹏": "鵬", "辉": "輝", "龙": "龍", "国": "國", "庆": "慶", "云": "雲",
                      "飞": "飛", "凤": "鳳", "兰": "蘭", "梦": "夢", "东": "東", "卢": "盧", "邓": "鄧", "冯": "馮"})


def chinese_names(rng: Rng, n: int, hukou: StrArray) -> StrArray:
    """Simplified Chinese names; a few Uyghur-style names (with ·) for Xinjiang hukou."""
    sur = rng.choice(np.array(SURNAMES), size=n, p=_SURNAME_W / _SURNAME_W.sum())
    g = np.array(GIVEN)
    g1 = rng.choice(g, size=n)
    g2 = np.where(rng.random(n) < 0.7, rng.choice(g, size=n), "")
    names = np.char.add(np.char.add(sur, g1), g2)
    xj = (np.char.startswith(hukou, "65")) & (rng.random(n) < 0.4)
    if xj.any():
        u = np.array(UYGHUR)
        names[xj] = np.char.add(np.char.add(rng.choice(u, size=xj.sum()), "·"), rng.choice(u, size=xj.sum()))
    return names.astype(object).astype(str)


def latin_names(rng: Rng, n: int) -> StrArray:
    """Passport names as printed (surname given)."""
    s = np.array(["SMITH", "NGUYEN", "KIM", "TANAKA", "PATEL", "MULLER", "GARCIA", "IVANOV", "SILVA", "LEE"])
    g = np.array(["JOHN", "ANNA", "MINH", "JI HOON", "YUKI", "RAHUL", "LENA", "CARLOS", "OLGA", "DAVID"])
    return np.char.add(np.char.add(rng.choice(s, n), " "), rng.choice(g, n))


def dirty_names(rng: Rng, names: StrArray, rate: float) -> StrArray:
    """Spaces, full-width spaces or traditional characters in a share of names, as registrations deliver them."""
    out = names.astype(object)
    idx = np.flatnonzero(rng.random(len(names)) < rate)
    kinds = rng.integers(0, 4, len(idx))
    for i, k in zip(idx, kinds, strict=True):
        s = str(out[i])
        if k == 0 and len(s) > 1:
            out[i] = s[0] + " " + s[1:]
        elif k == 1:
            out[i] = s + "\u3000"
        elif k == 2:
            out[i] = s.translate(TRAD)
        else:
            out[i] = " " + s
    return out.astype(str)


_W17 = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK = np.array(list("10X98765432"))


def _digits(s: StrArray, width: int) -> npt.NDArray[np.int64]:
    b = np.asarray(s, dtype=f"S{width}")
    return (np.frombuffer(b.tobytes(), dtype=np.uint8).reshape(len(b), width) - 48).astype(np.int64)


def id_check_digit(body17: StrArray) -> StrArray:
    """GB 11643-1999 ISO 7064 MOD 11-2 check character for 17-digit bodies."""
    return _CHECK[(_digits(body17, 17) @ _W17) % 11]


def resident_ids(rng: Rng, region: StrArray, birth: npt.NDArray[np.datetime64], male: npt.NDArray[np.bool_]
                 ) -> StrArray:
    """Unique 18-character resident ID numbers: region + birth date + sequence (odd = male) + check character."""
    n = len(region)
    ymd = np.datetime_as_string(birth.astype("datetime64[D]"), unit="D")
    ymd = np.char.replace(ymd, "-", "")
    seq = rng.integers(0, 500, n) * 2 + male.astype(np.int64)
    for _ in range(20):
        body = np.char.add(np.char.add(region, ymd), np.char.zfill(seq.astype(str), 3))
        _, first = np.unique(body, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        seq[dup] = rng.integers(0, 500, dup.sum()) * 2 + male[dup].astype(np.int64)
    return np.char.add(body, id_check_digit(body))


_FW = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def dirty_ids(rng: Rng, ids: StrArray, rate: float) -> StrArray:
    """A share of ID numbers as counters type them: lower-case x, full-width digits, spaces."""
    out = ids.astype(object)
    idx = np.flatnonzero(rng.random(len(ids)) < rate)
    kinds = rng.integers(0, 4, len(idx))
    for i, k in zip(idx, kinds, strict=True):
        s = str(out[i])
        if len(s) != 18:
            continue
        if k == 0 and s.endswith("X"):
            out[i] = s[:-1] + "x"
        elif k <= 1:
            out[i] = s.translate(_FW)
        elif k == 2:
            out[i] = f"{s[:6]} {s[6:14]} {s[14:]}"
        else:
            out[i] = s + " "
    return out.astype(str)


def non_resident_ids(rng: Rng, n: int) -> tuple[StrArray, StrArray]:
    """(id_type, id_number) for passport and HK/Macau/Taiwan permit holders."""
    hmt = rng.random(n) < 0.6
    num = np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8)
    pre = np.where(hmt, rng.choice(np.array(["H", "M", "T"]), n, p=[0.6, 0.2, 0.2]),
                   rng.choice(np.array(["E", "G", "P", "X"]), n))
    return np.where(hmt, "HMT_PERMIT", "PASSPORT"), np.char.add(pre, num)


def _luhn_digit(body: StrArray, width: int) -> StrArray:
    d = _digits(body, width)[:, ::-1]
    dbl = d[:, 0::2] * 2
    dbl = np.where(dbl > 9, dbl - 9, dbl)
    total = dbl.sum(axis=1) + d[:, 1::2].sum(axis=1)
    return ((10 - total % 10) % 10).astype(str)


def unique_numbers(rng: Rng, prefixes: StrArray, digits: int) -> StrArray:
    """prefix + `digits` random digits, all distinct."""
    n = len(prefixes)
    tail = rng.integers(0, 10**digits, n)
    for _ in range(50):
        s = np.char.add(prefixes, np.char.zfill(tail.astype(str), digits))
        _, first = np.unique(s, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            return s
        tail[dup] = rng.integers(0, 10**digits, dup.sum())
    raise RuntimeError("could not draw distinct numbers")


def msisdns(rng: Rng, operators: StrArray, prefixes: dict[str, tuple[str, ...]]) -> StrArray:
    """Distinct 11-digit numbers whose 3-digit prefix belongs to each row's operator."""
    pre = np.empty(len(operators), dtype="U3")
    for op in np.unique(operators):
        m = operators == op
        pre[m] = rng.choice(np.array(prefixes[str(op)]), m.sum())
    return unique_numbers(rng, pre, 8)


_TACS = np.array(["86891603", "35332811", "86756104", "35875011", "86612305", "35391110", "86978604", "35209900",
                  "86407105", "35698107", "86101706", "35466911"])
_MODULE_TACS = np.array(["86711003", "86430905", "86920506"])  # IoT modules and SIM-box boards


def imeis(rng: Rng, n: int, *, module: npt.NDArray[np.bool_] | None = None) -> StrArray:
    """n distinct 15-digit IMEIs (TAC + serial + Luhn); `module` rows get module/board TACs."""
    tac = rng.choice(_TACS, n)
    if module is not None and module.any():
        tac[module] = rng.choice(_MODULE_TACS, module.sum())
    body = unique_numbers(rng, tac, 6)
    return np.char.add(body, _luhn_digit(body, 14))


def odd_imeis(rng: Rng, imei: StrArray, rate: float) -> StrArray:
    """A share delivered without check digit (14) or as IMEISV (16 digits); consistent per device."""
    if rate <= 0:
        return imei
    out = imei.astype(object)
    u = rng.random(len(imei))
    short = u < rate / 2
    sv = (u >= rate / 2) & (u < rate)
    out[short] = np.char.ljust(np.char.rstrip(imei[short].astype(str)), 15)
    out[short] = [s[:14] for s in out[short]]
    out[sv] = [s[:14] + "01" for s in imei[sv]]
    return out.astype(str)


def account_ids(rng: Rng, banks: StrArray, bins: dict[str, str], style: str) -> StrArray:
    """Distinct account ids: 19-digit card numbers (BIN + 12 + Luhn) or bank-hex ids."""
    n = len(banks)
    if style == "card19":
        bin_ = np.array([bins[str(b)] for b in banks]) if n else np.empty(0, dtype="U6")
        body = unique_numbers(rng, bin_, 12)
        return np.char.add(body, _luhn_digit(body, 18))
    hexes = np.char.mod("%012x", rng.integers(0, 2**47, n))
    out = np.char.add(np.char.add(banks.astype(str), "-"), hexes)
    if len(np.unique(out)) != n:
        return account_ids(rng, banks, bins, style)
    return out


def fingerprints(idx: IntArray, salt: int) -> StrArray:
    """Stable app-device fingerprints for device indices (the bank's view of a phone; not its IMEI)."""
    h = (idx.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt)) & np.uint64(2**63 - 1)
    return np.char.add("dfp", np.char.mod("%016x", h.astype(np.int64)))


def external_accounts(rng: Rng, n: int, tag: str) -> StrArray:
    """Accounts outside the delivered banks (other banks, payment institutions), as counterparties."""
    return np.char.add(f"X{tag}", np.char.zfill(rng.integers(0, 10**11, n).astype(str), 11))
