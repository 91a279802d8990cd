"""Value types and text transforms of field rules, each compiled once into a plain function.

A converter takes the cell's text (never empty: empty cells are handled before) and returns
the text Centra gets, or raises :class:`ValueProblem` with a message for the person fixing
the file.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation

Converter = Callable[[str], str]

TYPES = ("string", "integer", "decimal", "yesno", "truefalse", "date", "ean", "country")
TYPE_ALIASES = {"yes/no": "yesno", "true/false": "truefalse", "gtin": "ean", "int": "integer"}

_TRUE = frozenset({"yes", "y", "true", "t", "1", "x", "ja", "j", "oui", "si", "on", "active"})
_FALSE = frozenset({"no", "n", "false", "f", "0", "nej", "nein", "non", "off", "inactive"})

# ISO 3166-1 alpha-2 (officially assigned codes, 2024). "NA" is Namibia.
_COUNTRY_CODES = (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO "
    "BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ "
    "DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP "
    "GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG "
    "KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML "
    "MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE "
    "PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL "
    "SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM "
    "US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW "
)
COUNTRIES = frozenset(_COUNTRY_CODES.split())

# Letters NFKD does not take apart.
_FOLD_EXTRA = str.maketrans(
    {
        "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE",
        "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D",
        "ı": "i", "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "€": "EUR",
        "\u00a0": " ",
    }
)  # fmt: skip


class ValueProblem(ValueError):
    """A cell's value does not fit its rule; the message says what is wrong and how to fix it."""


def ascii_fold(text: str) -> str:
    """ "Ständer" -> "Stander": accents dropped, ß -> ss, other non-ASCII characters removed."""
    if text.isascii():
        return text
    text = text.translate(_FOLD_EXTRA)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii())


def gtin_check_digit(body: str) -> int:
    """The GS1 check digit for the digits ``body`` (all but the last of a GTIN)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def integer() -> Converter:
    def convert(text: str) -> str:
        cleaned = text.replace(" ", "").replace("\u00a0", "")
        if re.fullmatch(r"[+-]?\d+", cleaned):
            return str(int(cleaned))
        if re.fullmatch(r"[+-]?\d+[.,]0+", cleaned):
            return str(int(re.split(r"[.,]", cleaned)[0]))
        raise ValueProblem("is not a whole number")

    return convert


def decimal(separator: str | None, thousands: str | None, places: int | None) -> Converter:
    """Numbers written with ``separator`` (``None``: either, when unambiguous) -> ``123.45``."""
    quantum = Decimal(1).scaleb(-places) if places is not None else None

    def convert(text: str) -> str:
        cleaned = text.replace(" ", "").replace("\u00a0", "").replace("'", "")
        sep = separator
        if thousands:
            cleaned = cleaned.replace(thousands, "")
        if sep is None:
            commas, dots = cleaned.count(","), cleaned.count(".")
            if commas and dots:
                sep = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
                cleaned = cleaned.replace("." if sep == "," else ",", "")
            elif commas == 1 or dots == 1:
                sep = "," if commas else "."
                if re.fullmatch(r"[+-]?\d{1,3}[.,]\d{3}", cleaned):
                    raise ValueProblem(
                        "is ambiguous: is the separator a decimal point or a thousands separator?"
                        ' Set `decimal: ","` or `decimal: "."` on the rule or under `read:`'
                    )
            elif commas > 1 or dots > 1:
                raise ValueProblem("is not a number (more than one decimal separator)")
        if sep == ",":
            if "." in cleaned and not thousands:
                raise ValueProblem(
                    "is not a number with decimal comma (it has a '.'; set `thousands: \".\"`"
                    " if that is a thousands separator)"
                )
            cleaned = cleaned.replace(",", ".")
        elif sep == "." and "," in cleaned:
            raise ValueProblem(
                "is not a number with decimal point (it has a ','; set `decimal: \",\"` if the"
                " file uses decimal commas)"
            )
        if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", cleaned):
            raise ValueProblem("is not a number")
        try:
            number = Decimal(cleaned)
        except InvalidOperation as exc:  # pragma: no cover - the regex above guards
            raise ValueProblem("is not a number") from exc
        if quantum is not None:
            number = number.quantize(quantum)
        text_out = format(number, "f")
        return text_out[1:] if text_out.startswith("+") else text_out

    return convert


def boolean(true: str, false: str) -> Converter:
    def convert(text: str) -> str:
        folded = text.strip().casefold()
        if folded in _TRUE:
            return true
        if folded in _FALSE:
            return false
        raise ValueProblem(f"is not a yes/no value (write {true} or {false})")

    return convert


def date(inputs: Sequence[str], output: str) -> Converter:
    def convert(text: str) -> str:
        for fmt in inputs:
            try:
                return dt.datetime.strptime(text, fmt).strftime(output)
            except ValueError:
                continue
        shown = " or ".join(repr(f) for f in inputs)
        raise ValueProblem(f"is not a date in the format {shown} (set date_format on the rule)")

    return convert


def ean(check_digit: bool, pad_to: int | None) -> Converter:
    def convert(text: str) -> str:
        digits = text.replace(" ", "") if " " in text else text
        if not digits.isdigit():
            if re.fullmatch(r"\d+(\.\d+)?[eE][+]?\d+", digits):
                raise ValueProblem(
                    "is a number in scientific notation: Excel has rounded this code. Format "
                    "the column as Text (or Number without decimals) before exporting"
                )
            raise ValueProblem("is not an EAN/GTIN: it may only contain digits")
        if pad_to is not None and len(digits) < pad_to:
            digits = digits.zfill(pad_to)
        if len(digits) not in (8, 12, 13, 14):
            raise ValueProblem(
                f"is not an EAN/GTIN: it has {len(digits)} digits (8, 12, 13 or 14 expected)"
            )
        if check_digit:
            expected = gtin_check_digit(digits[:-1])
            if int(digits[-1]) != expected:
                raise ValueProblem(
                    f"has a wrong check digit: the last digit should be {expected}; "
                    "check the code for a typo"
                )
        return digits

    lengths = {n for n in (8, 12, 13, 14) if pad_to is None or n >= pad_to}

    def unchanged(texts: Sequence[str]) -> bool:
        # Every text is already a code this converter returns as it is (no digit to check).
        return not check_digit and all(map(str.isdigit, texts)) and set(map(len, texts)) <= lengths

    convert.unchanged = unchanged  # type: ignore[attr-defined]
    return convert


def country() -> Converter:
    def convert(text: str) -> str:
        code = text.strip().upper()
        if code in COUNTRIES:
            return code
        raise ValueProblem("is not an ISO 3166 two-letter country code (e.g. SE, DE, US, NA)")

    return convert


def max_length(limit: int, truncate: bool) -> Converter:
    def convert(text: str) -> str:
        if len(text) <= limit:
            return text
        if truncate:
            return text[:limit]
        raise ValueProblem(f"is {len(text)} characters long; at most {limit} are allowed")

    return convert


def chain(steps: Sequence[Converter]) -> Converter | None:
    """One function applying ``steps`` in order (None when there are none)."""
    if not steps:
        return None
    if len(steps) == 1:
        return steps[0]
    funcs = tuple(steps)

    def convert(text: str) -> str:
        for step in funcs:
            text = step(text)
        return text

    return convert
