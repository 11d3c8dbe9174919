"""Dates and times."""

from __future__ import annotations

import re

from kokoro_pipe.text.numwords import cardinal, counted, ordinal, year

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
MONTH_ABBREVIATIONS = {m[:3].lower(): m for m in MONTHS} | {"sept": "September"}
MONTH_NAME = r"(?:" + "|".join(MONTHS) + r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)"
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
SLASH_DATE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?![\d/])")
MONTH_DAY = re.compile(rf"\b({MONTH_NAME})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}})\b)?")
DAY_MONTH = re.compile(
    rf"(?:\bthe\s+)?\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTH_NAME})(?:,?\s+(\d{{4}})\b)?"
)
MONTH_YEAR = re.compile(rf"\b({MONTH_NAME})\s+(\d{{4}})\b")


def _month(name_or_number: str) -> str | None:
    if name_or_number.isdigit():
        n = int(name_or_number)
        return MONTHS[n - 1] if 1 <= n <= 12 else None
    return MONTH_ABBREVIATIONS.get(name_or_number.rstrip(".").lower()[:4].rstrip("t")) or (
        name_or_number if name_or_number in MONTHS else None
    )


def _date(month: str, day: int, year_: str | None, day_first: bool) -> str:
    said = f"the {ordinal(day)} of {month}" if day_first else f"{month} {ordinal(day)}"
    return f"{said} {year(int(year_))}" if year_ else said


def dates(text: str, day_first: bool = False) -> str:
    """2024-03-05, 3/5/2024 (5/3/2024 when day_first, as in British English),
    March 5th, 2024, 5 March 2024 -> 'March fifth twenty twenty four'."""

    def iso(m: re.Match) -> str:
        month, day = _month(m.group(2)), int(m.group(3))
        if month is None or not 1 <= day <= 31:
            return m.group()
        return _date(month, day, m.group(1), day_first)

    def slashed(m: re.Match) -> str:
        a, b, y = int(m.group(1)), int(m.group(2)), m.group(3)
        month_n, day = (b, a) if day_first or a > 12 else (a, b)
        if not (1 <= month_n <= 12 and 1 <= day <= 31):
            return m.group()
        y = y if len(y) == 4 else str(2000 + int(y) if int(y) < 50 else 1900 + int(y))
        return _date(MONTHS[month_n - 1], day, y, day_first)

    def month_day(m: re.Match) -> str:
        month, day = _month(m.group(1)), int(m.group(2))
        if month is None or not 1 <= day <= 31:
            return m.group()
        return _date(month, day, m.group(3), False)

    def day_month(m: re.Match) -> str:
        month, day = _month(m.group(2)), int(m.group(1))
        if month is None or not 1 <= day <= 31:
            return m.group()
        return _date(month, day, m.group(3), True)

    def month_year(m: re.Match) -> str:
        month = _month(m.group(1))
        return f"{month} {year(int(m.group(2)))}" if month else m.group()

    text = ISO_DATE.sub(iso, text)
    text = SLASH_DATE.sub(slashed, text)
    text = DAY_MONTH.sub(day_month, text)
    text = MONTH_DAY.sub(month_day, text)
    return MONTH_YEAR.sub(month_year, text)


# am, pm, a.m., p.m.; the period after is kept when it also ends the sentence.
MERIDIEM = r"\s*(?P<half>[AaPp])(?P<dotted>\.)?[Mm]\b(?P<stop>\.)?"
CLOCK = re.compile(
    rf"(?<![\d:.])([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(?![\d:])(?:{MERIDIEM})?")
HOUR_MERIDIEM = re.compile(rf"(?<![\d:.])(1[0-2]|0?[1-9]){MERIDIEM}")


def _meridiem(m: re.Match) -> str:
    """' PM' for 'pm' or 'p.m.'; ' PM.' for 'pm.', and for 'p.m.' before the
    next sentence ('at 5 p.m. Then')."""
    if not m.group("half"):
        return ""
    said = f" {m.group('half').upper()}M"
    after = m.string[m.end():]
    ends = after[:1].isspace() and after.lstrip()[:1].isupper()
    return said + ("." if m.group("stop") and (not m.group("dotted") or ends) else "")


def times(text: str) -> str:
    """7:45 -> 'seven forty five', 10:30 am -> 'ten thirty AM', 7:05 -> 'seven oh
    five', 9:00 -> "nine o'clock", 14:00 -> 'fourteen hundred', 10pm -> 'ten PM'."""

    def clock(m: re.Match) -> str:
        hour, minute, second, meridiem = int(m.group(1)), int(m.group(2)), m.group(3), m["half"]
        if minute == 0:
            said = cardinal(hour) + ("" if meridiem else " o'clock" if hour <= 12 else " hundred")
        elif minute < 10:
            said = f"{cardinal(hour)} oh {cardinal(minute)}"
        else:
            said = f"{cardinal(hour)} {cardinal(minute)}"
        if second and int(second):
            said += " and " + counted(cardinal(int(second)), "second", "seconds")
        return said + _meridiem(m)

    text = CLOCK.sub(clock, text)
    return HOUR_MERIDIEM.sub(lambda m: cardinal(int(m.group(1))) + _meridiem(m), text)
