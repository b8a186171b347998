"""How the product writes numbers and money: one place, for every page and export.

Money is kept in two units (fields ending in _wan hold 万元, _yuan and the fund amounts hold
元) and shown in one: 万元, with thousands separators, on every screen. 亿元 appears only on a
headline figure that says so. In English the units read "CNY 10k" and "CNY 100M", the same
figures as in Chinese, so a leader and a foreign investor reading the same page see the same
numbers. Decimal all the way: a float never touches money.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

EMPTY = "—"
TEN_THOUSAND = Decimal("10000")
HUNDRED_MILLION = Decimal("100000000")
# A yuan amount shown in 万元 keeps up to this many decimals, so an approved 123,456.78 元
# reads 12.345678 万元 (exact) rather than 12.35 (a cent-level figure rounded away).
EXACT_WAN_PLACES = 6

# Per yuan: what one unit of the stored figure is worth.
SOURCE_UNITS = {"yuan": Decimal(1), "wan": TEN_THOUSAND, "yi": HUNDRED_MILLION}


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def format_number(value, places: int = 2) -> str:
    """12345.6 -> '12,345.60'; '—' for nothing. For areas, rates and plain figures."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    places = int(places)
    number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{number:,.{places}f}"


def unit_label(scale: str = "wan") -> str:
    """The unit's name in the active language: 万元 / CNY 10k, 亿元 / CNY 100M."""
    if scale == "yi":
        return pgettext("money unit", "CNY 100M")
    return pgettext("money unit", "CNY 10k")


def money_in(value, *, unit: str = "wan", scale: str = "wan") -> Decimal | None:
    """The stored figure (in `unit`) expressed in `scale` (万元 or 亿元), exactly."""
    number = _decimal(value)
    if number is None:
        return None
    return number * SOURCE_UNITS[unit] / SOURCE_UNITS[scale]


def format_money(value, *, unit: str = "wan", scale: str = "wan", places: int | None = None,
                 with_unit: bool = True) -> str:
    """A money figure for a screen: '12,345.60 万元' ('12,345.60 CNY 10k' in English); bare
    (no unit) under a column header that names it. Two decimals unless `places` says; from 元
    without `places`, the 万元 figure keeps the decimals it needs to stay exact (up to
    EXACT_WAN_PLACES)."""
    number = money_in(value, unit=unit, scale=scale)
    if number is None:
        return EMPTY
    if places is None:
        places = 2
        if unit == "yuan" and scale == "wan":
            exponent = number.normalize().as_tuple().exponent
            places = max(2, min(EXACT_WAN_PLACES, -exponent))
    text = format_number(number, places)
    return f"{text} {unit_label(scale)}" if with_unit else text


def parse_money_spec(spec: str) -> dict:
    """The template filter's argument: words among 'yuan' (stored in 元), 'yi' (show 亿元),
    'bare' (no unit) and a number of decimals, e.g. "yuan bare" or "yi 1"."""
    options = {"unit": "wan", "scale": "wan", "with_unit": True}
    for word in str(spec or "").replace(",", " ").split():
        if word == "yuan":
            options["unit"] = "yuan"
        elif word == "yi":
            options["scale"] = "yi"
        elif word == "bare":
            options["with_unit"] = False
        elif word.isdigit():
            options["places"] = int(word)
        else:
            raise ValueError(_("Unknown money format %(word)r") % {"word": word})
    return options
