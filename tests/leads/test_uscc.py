"""USCC validation, company-name keys and the reference data (no database needed)."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

# Runs with or without pytest-django: without a settings module, configure a minimal one so that
# gettext (called when a ValidationError is raised) works. Harmless when settings are loaded.
if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
    settings.configure(USE_I18N=False)

from leads.reference.chain import CHAIN, CHAIN_NODES, COMPANY_CHAIN_ROLES
from leads.reference.industries import DIVISIONS, GROUPS, SECTIONS
from leads.uscc import (
    USCC_ALPHABET,
    USCC_WEIGHTS,
    make_uscc,
    normalize_company_name,
    normalize_uscc,
    uscc_check_char,
    validate_uscc,
)


def _error(value: str) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validate_uscc(value)
    assert info.value.code == "invalid_uscc"
    return info.value


# --- USCC ---------------------------------------------------------------------------------


def test_alphabet_and_weights_match_gb_32100() -> None:
    assert len(USCC_ALPHABET) == 31
    assert not set("IOSVZ") & set(USCC_ALPHABET)
    assert USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("code", ["91110108551385082Q", "91350100M000100Y43"])
def test_domain_examples_are_valid(code: str) -> None:
    validate_uscc(code)
    assert uscc_check_char(code[:17]) == code[17]


def test_domain_example_with_wrong_check_char() -> None:
    error = _error("91350100M000100Y4Z")
    assert error.params == {"expected": "3", "actual": "Z"}
    message = error.messages[0]
    assert "3" in message and "Z" in message


def test_check_value_worked_example() -> None:
    # DOMAIN.md: the weighted sum is 999, 999 mod 31 = 7, 31 - 7 = 24 → Q.
    assert uscc_check_char("91110108551385082") == "Q"


@pytest.mark.parametrize(
    "raw",
    [
        "91110108551385082q",
        "  91110108551385082Q  ",
        "\u300091110108551385082Q\u3000",
        "\t91350100m000100y43\n",
        "\ufeff91350100M000100Y43",
        "９１１１０１０８５５１３８５０８２Ｑ",  # full-width, as typed with a Chinese IME
    ],
)
def test_lower_case_spaces_and_full_width_are_accepted(raw: str) -> None:
    validate_uscc(raw)
    normalized = normalize_uscc(raw)
    assert normalized in {"91110108551385082Q", "91350100M000100Y43"}
    validate_uscc(normalized)


@pytest.mark.parametrize("blank", [None, "", "   ", "\u3000"])
def test_normalize_blank(blank: str | None) -> None:
    assert normalize_uscc(blank) == ""


@pytest.mark.parametrize(
    "value", ["", "9111010855138508", "91110108551385082QQ", "9111 0108551385082Q"]
)
def test_wrong_length(value: str) -> None:
    error = _error(value)
    assert error.params == {"length": len(normalize_uscc(value))}
    assert str(len(normalize_uscc(value))) in error.messages[0]


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_forbidden_letters(letter: str) -> None:
    code = "91350100M000100Y43"
    bad = code[:8] + letter + code[9:]
    error = _error(bad)
    assert error.params == {"char": letter, "position": 9}
    assert letter in error.messages[0]


def test_non_alphanumeric_character_is_reported_with_its_position() -> None:
    error = _error("91350100-000100Y43")
    assert error.params == {"char": "-", "position": 9}


@pytest.mark.parametrize("first", ["0", "B", "X"])
def test_bad_registering_authority(first: str) -> None:
    # Even with a correct check character the first position is rejected.
    error = _error(make_uscc(first + "1350100M000100Y4"))
    assert error.params is None
    assert "1" in error.messages[0]


@pytest.mark.parametrize("first", ["A", "N", "Y", "1", "5"])
def test_other_registering_authorities_are_accepted(first: str) -> None:
    # python-stdnum's cn.uscc rejects A, N and Y; GB 32100-2015 allows them.
    validate_uscc(make_uscc(first + "1320583MA1N23456"))


def test_position_two_is_not_over_validated() -> None:
    validate_uscc(make_uscc("9Y320583MA1N23456"))


def test_make_uscc_round_trip() -> None:
    for first17 in ["91320583MA1N23456", "52320583509123456", "y1320583ma1n2345x"]:
        code = make_uscc(first17)
        assert code[:17] == first17.upper()
        assert len(code) == 18
        validate_uscc(code)
        assert make_uscc(code[:17]) == code


def test_every_check_character_is_reachable() -> None:
    seen = {make_uscc(f"913205830{n:08d}")[-1] for n in range(400)}
    assert seen == set(USCC_ALPHABET)


@pytest.mark.parametrize("bad", ["9132058300000000", "913205830000000000", "91320583O00000000"])
def test_make_uscc_rejects_bad_input(bad: str) -> None:
    with pytest.raises(ValueError):
        make_uscc(bad)
    with pytest.raises(ValueError):
        uscc_check_char(bad)


def test_single_character_typo_is_detected() -> None:
    code = "91110108551385082Q"
    for i in range(17):
        for char in USCC_ALPHABET:
            if char != code[i]:
                with pytest.raises(ValidationError):
                    validate_uscc(code[:i] + char + code[i + 1 :])


# --- company names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("昆山 元宇宙（科技）有限公司", "昆山元宇宙科技有限责任公司"),
        ("昆山元宇宙科技股份有限公司", "昆山元宇宙科技"),
        ("苏州ＡＢＣ光电有限公司", "苏州abc光电有限公司"),
        ("华为技术有限公司", "华为技术 有限 公司"),
        ("【昆山】元宇宙·数字-科技_有限公司。", "昆山元宇宙数字科技"),
        ("立讯精密工业股份有限公司", "立讯精密工业(股份)有限公司"),
        ("昆山\u3000元宇宙、科技，有限公司", "昆山元宇宙科技有限公司"),
        ("Kunshan Meta-Verse Co.", "kunshanmetaverseco"),
    ],
)
def test_name_normalisation_equal(a: str, b: str) -> None:
    assert normalize_company_name(a) == normalize_company_name(b)


def test_name_normalisation_result() -> None:
    assert normalize_company_name("昆山 元宇宙（科技）有限公司") == "昆山元宇宙科技"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("昆山元宇宙科技有限公司", "苏州元宇宙科技有限公司"),
        ("昆山元宇宙科技集团有限公司", "昆山元宇宙科技有限公司"),
        ("昆山元宇宙科技有限公司昆山分公司", "昆山元宇宙科技有限公司"),
        ("元宇宙一号有限公司", "元宇宙二号有限公司"),
    ],
)
def test_name_normalisation_different(a: str, b: str) -> None:
    assert normalize_company_name(a) != normalize_company_name(b)


def test_name_normalisation_edge_cases() -> None:
    assert normalize_company_name("") == ""
    assert normalize_company_name(None) == ""
    assert normalize_company_name("  ") == ""
    # Stripping the suffix must not leave an empty key.
    assert normalize_company_name("有限公司") == "有限公司"
    # Only one suffix is stripped.
    assert normalize_company_name("甲有限公司有限公司") == "甲有限公司"


# --- reference data -------------------------------------------------------------------------


def test_sections() -> None:
    codes = [code for code, _, _ in SECTIONS]
    assert codes == list("ABCDEFGHIJKLMNOPQRST")
    assert all(name_zh and name_en for _, name_zh, name_en in SECTIONS)


def test_divisions() -> None:
    codes = [row[0] for row in DIVISIONS]
    assert len(codes) == 97
    assert codes == [f"{n:02d}" for n in range(1, 98)]
    sections = {code for code, _, _ in SECTIONS}
    assert {row[1] for row in DIVISIONS} == sections
    by_code = {row[0]: row for row in DIVISIONS}
    assert by_code["39"][2] == "计算机、通信和其他电子设备制造业"
    assert by_code["63"][2] == "电信、广播电视和卫星传输服务"
    assert by_code["64"][2] == "互联网和相关服务"
    assert by_code["65"][2] == "软件和信息技术服务业"
    assert by_code["79"][1:3] == ("N", "土地管理业")
    assert by_code["97"][1] == "T"


@pytest.mark.parametrize(
    ("section", "first", "last"),
    [
        ("A", 1, 5), ("B", 6, 12), ("C", 13, 43), ("D", 44, 46), ("E", 47, 50),
        ("F", 51, 52), ("G", 53, 60), ("H", 61, 62), ("I", 63, 65), ("J", 66, 69),
        ("K", 70, 70), ("L", 71, 72), ("M", 73, 75), ("N", 76, 79), ("O", 80, 82),
        ("P", 83, 83), ("Q", 84, 85), ("R", 86, 90), ("S", 91, 96), ("T", 97, 97),
    ],
)  # fmt: skip
def test_division_ranges(section: str, first: int, last: int) -> None:
    codes = [int(row[0]) for row in DIVISIONS if row[1] == section]
    assert codes == list(range(first, last + 1))


def test_groups_belong_to_their_division() -> None:
    divisions = {row[0] for row in DIVISIONS}
    codes = [row[0] for row in GROUPS]
    assert len(codes) == len(set(codes))
    for code, division, name_zh, name_en in GROUPS:
        assert len(code) == 3 and code[:2] == division and division in divisions
        assert name_zh and name_en


def test_chain_nodes() -> None:
    assert CHAIN["code"] == "metaverse"
    codes = [node["code"] for node in CHAIN_NODES]
    assert 25 <= len(codes) <= 45
    assert len(codes) == len(set(codes))
    seen: set[str] = set()
    for node in CHAIN_NODES:
        assert node["code"].isascii() and node["code"] == node["code"].lower()
        assert node["position"] in {"upstream", "midstream", "downstream"}
        assert node["parent"] is None or node["parent"] in seen  # parents are listed first
        assert node["name_zh"] and node["name_en"]
        assert isinstance(node["order"], int)
        seen.add(node["code"])
    top = {node["name_zh"] for node in CHAIN_NODES if node["parent"] is None}
    assert top == {
        "近眼显示", "感知交互", "内容制作", "先进计算", "网络传输", "数字安全",
        "核心元器件", "终端设备与外设", "软件工具", "运营平台", "应用场景",
    }  # fmt: skip
    by_code = {node["code"]: node for node in CHAIN_NODES}
    for node in CHAIN_NODES:
        if node["parent"]:
            assert node["position"] == by_code[node["parent"]]["position"]


def test_company_chain_roles() -> None:
    assert [code for code, _, _ in COMPANY_CHAIN_ROLES] == [
        "leader",
        "core",
        "upstream",
        "midstream",
        "downstream",
    ]
