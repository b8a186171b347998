"""Unified social credit codes (统一社会信用代码) and company-name keys for de-duplication.

Pure functions, no models and no database, so they can be used from forms, model validators,
importers and the demo-data generator alike.

References:
- GB 32100-2015 《法人和其他组织统一社会信用代码编码规则》: 18 characters, alphabet of 31
  characters (digits and upper-case letters without I, O, S, V, Z, which are too easily confused
  with 1, 0, 5, U and 2), position 1 the registering authority, position 2 the entity type,
  positions 3-8 the GB/T 2260 region code, positions 9-17 the GB 11714 organisation code and
  position 18 a check character computed with ISO 7064-style weighted sums modulo 31.
- GB/T 17710 describes the hybrid MOD 31 check scheme; the weights below are 3^i mod 31.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

__all__ = [
    "LEGAL_FORM_SUFFIXES",
    "USCC_ALPHABET",
    "USCC_FIRST_CHARS",
    "USCC_LENGTH",
    "USCC_WEIGHTS",
    "make_uscc",
    "normalize_company_name",
    "normalize_uscc",
    "uscc_check_char",
    "validate_uscc",
]

# GB 32100-2015 table: the code characters and their numeric values are the positions in this
# string (0-9 → 0-9, A → 10, ..., Y → 30). I, O, S, V and Z are deliberately absent.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_LENGTH = 18
_MODULUS = len(USCC_ALPHABET)  # 31
_VALUES = {char: value for value, char in enumerate(USCC_ALPHABET)}

# Weight of position i (0-based, over the first 17 characters) is 3^i mod 31, as published in
# GB 32100-2015: 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28.
USCC_WEIGHTS: tuple[int, ...] = tuple(pow(3, i, _MODULUS) for i in range(USCC_LENGTH - 1))

# Position 1 is the registering-authority code: 1 机构编制, 2 外交, 3 司法行政, 4 文化,
# 5 民政, 6 旅游, 7 宗教, 8 工会, 9 市场监管 (formerly 工商), A 中央军委改革和编制办公室,
# N 农业, Y 其他. python-stdnum's cn.uscc only accepts digits here and so wrongly rejects
# genuine codes issued by the A, N and Y authorities; we accept them.
USCC_FIRST_CHARS = frozenset("123456789ANY")

# Legal-form suffixes stripped from company names before comparing them (longest first, so that
# 股份有限公司 is not left as 股份 after stripping 有限公司).
LEGAL_FORM_SUFFIXES: tuple[str, ...] = ("股份有限公司", "有限责任公司", "有限公司")

# Invisible characters that survive copy-paste from web pages and Word documents.
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"


def _check_value(first17: str) -> int:
    """Check value for 17 already-validated upper-case alphabet characters."""
    total = sum(_VALUES[char] * weight for char, weight in zip(first17, USCC_WEIGHTS, strict=True))
    # GB 32100-2015: C18 = 31 - MOD(sum(Ci * Wi), 31); a result of 31 is written as 0.
    return (_MODULUS - total % _MODULUS) % _MODULUS


def _require_body(first17: str) -> str:
    """Upper-case ``first17`` and make sure it is 17 alphabet characters, else ValueError."""
    body = first17.upper()
    if len(body) != USCC_LENGTH - 1:
        raise ValueError(f"expected 17 characters, got {len(body)}: {first17!r}")
    bad = [char for char in body if char not in _VALUES]
    if bad:
        raise ValueError(f"characters not in the USCC alphabet: {''.join(bad)!r}")
    return body


def uscc_check_char(first17: str) -> str:
    """Return the 18th (check) character for the first 17 characters of a USCC.

    Raises ValueError if ``first17`` is not 17 characters of :data:`USCC_ALPHABET`
    (lower case is accepted).
    """
    return USCC_ALPHABET[_check_value(_require_body(first17))]


def normalize_uscc(value: str | None) -> str:
    """Return the storage form of a USCC as typed or pasted by a user.

    Strips surrounding whitespace (``str.strip`` covers the full-width space U+3000 and the
    no-break space) and invisible zero-width characters, applies NFKC so that full-width
    digits and letters typed with a Chinese IME become ASCII, and upper-cases.
    Returns "" for None or blank input. Inner characters are not removed: a code with a space in
    the middle is reported as invalid rather than silently changed.
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    text = text.strip().strip(_INVISIBLE).strip()
    return text.upper()


def _invalid(message: str, **params: object) -> ValidationError:
    return ValidationError(message, code="invalid_uscc", params=params or None)


def validate_uscc(value: str) -> None:
    """Raise ValidationError (code ``invalid_uscc``) unless ``value`` is a valid USCC.

    Checks, in this order, so the user gets the most useful message first: the length, the
    alphabet, the registering-authority character in position 1, and the check character.
    Position 2 (entity type) is only checked against the alphabet: its meaning depends on the
    registering authority and authorities have added categories over time, so stricter checks
    reject real codes. The value is normalised first, so lower case and surrounding spaces pass.
    """
    code = normalize_uscc(value)

    if len(code) != USCC_LENGTH:
        raise _invalid(
            gettext("A unified social credit code has 18 characters; this one has %(length)d."),
            length=len(code),
        )

    # The check character is left to the last test so that a wrong one (even an impossible one
    # such as Z) gets the more useful "should be 3, not Z" message.
    for position, char in enumerate(code[:-1], start=1):
        if char not in _VALUES:
            raise _invalid(
                gettext(
                    "Character %(char)s at position %(position)d is not allowed "
                    "(I, O, S, V, Z are never used)."
                ),
                char=char,
                position=position,
            )

    if code[0] not in USCC_FIRST_CHARS:
        raise _invalid(gettext("Position 1 (registering authority) must be 1-9, A, N or Y."))

    expected = USCC_ALPHABET[_check_value(code[:-1])]
    if code[-1] != expected:
        raise _invalid(
            gettext("The check character should be %(expected)s, not %(actual)s."),
            expected=expected,
            actual=code[-1],
        )


def make_uscc(first17: str) -> str:
    """Return ``first17`` (upper-cased) followed by its check character.

    Used to generate valid codes for demo data and tests. Raises ValueError if ``first17`` is
    not 17 characters of :data:`USCC_ALPHABET`. It does not check position 1, so callers can
    also build codes that fail only on the registering authority.
    """
    body = _require_body(first17)
    return body + USCC_ALPHABET[_check_value(body)]


# Unicode general categories removed from names: punctuation (P*: ASCII and CJK brackets,
# commas, full stops, 、, ·, dashes, underscores...), symbols (S*: ®, ™, +, ~...), control and
# format characters (Cc, Cf: zero-width spaces, BOM) and separators (Z*: all kinds of space).
_DROPPED_CATEGORIES = ("P", "S", "Cc", "Cf", "Z")
_WHITESPACE = re.compile(r"\s+")


def normalize_company_name(name: str | None) -> str:
    """Return a comparison key for a company name (DOMAIN.md, de-duplication).

    Two spellings of one company registered name must give the same key, so staff see the
    撞单 (two people chasing the same company) warning:

    1. NFKC (Unicode UAX #15) folds full-width letters, digits, brackets and spaces to their
       ASCII forms (full-width brackets become ASCII brackets, full-width A1 becomes A1);
    2. lower-case, so ``ABC科技`` and ``abc科技`` match;
    3. drop all whitespace, punctuation and symbols, ASCII and CJK alike;
    4. strip one trailing legal-form suffix (股份有限公司, 有限责任公司 or 有限公司), because the
       same company is often written with the wrong or no legal form. 集团 is kept: a group
       and its operating company are different legal persons.

    The suffix is kept when stripping it would leave nothing. Returns "" for None or blank.
    """
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", name).lower()
    text = _WHITESPACE.sub("", text)
    text = "".join(
        char for char in text if not unicodedata.category(char).startswith(_DROPPED_CATEGORIES)
    )
    for suffix in LEGAL_FORM_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    return text
