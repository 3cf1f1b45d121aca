"""From the words a person used to the value an API takes: dates, times, durations, numbers,
money, enums with synonyms, booleans, URLs and plain strings.

A tool-calling Spirit copies a value's words from the request ("next Friday", "an hour and a
half", "50 bucks") and these rules turn them into the typed value ("2026-12-04", 90, 50). They
are deterministic and small on purpose: the same rules run wherever a Spirit is poured (and are
ported as they are to the browser bottle). A surface they cannot read is None, never a guess.
"""
import datetime as dt
import re

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAY_SHORT = {w[:3]: i for i, w in enumerate(WEEKDAYS)} | {"tues": 1, "thur": 3, "thurs": 3, "weds": 2}
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
MONTH_NUMBER = {m: i + 1 for i, m in enumerate(MONTHS)} | {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}
UNITS = {"zero": 0, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
         "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
         "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "couple": 2, "dozen": 12}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
SCALES = {"hundred": 100, "thousand": 1000, "k": 1000, "grand": 1000, "million": 1_000_000, "m": 1_000_000}
MINUTES_PER = {"second": 1 / 60, "sec": 1 / 60, "s": 1 / 60, "minute": 1, "min": 1, "m": 1, "hour": 60, "hr": 60,
               "h": 60, "day": 1440, "week": 10080}
TRUE_WORDS = {"true", "yes", "on", "urgent", "urgently", "important", "high priority", "priority", "asap", "shuffle",
              "shuffled", "shuffle on", "on shuffle", "random", "randomly", "mixed"}
FALSE_WORDS = {"false", "no", "off", "not urgent", "no rush", "low priority", "not important", "no shuffle",
               "shuffle off", "in order", "without shuffle", "don't shuffle", "unshuffled"}
ARTICLES = ("the ", "a ", "an ")


def _clean(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s:./$€£¥+-]", " ", text.lower()).split())


# ---------------------------------------------------------------- numbers


def words_to_number(text: str) -> float | None:
    """"twenty five" -> 25, "a dozen" -> 12, "1,200.50" -> 1200.5, "2k" -> 2000; None if it is not one."""
    text = text.lower().replace(",", "").strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(k|m|grand|thousand|million|hundred)?", text)
    if match:
        value = float(match.group(1))
        return value * SCALES[match.group(2)] if match.group(2) else value
    total, current, seen = 0.0, 0.0, False
    for word in re.split(r"[\s-]+", text.replace(" and ", " ")):
        if not word:
            continue
        if word in UNITS:
            current += UNITS[word]
        elif word in TENS:
            current += TENS[word]
        elif word in SCALES:
            current = max(current, 1) * SCALES[word]
            if SCALES[word] >= 1000:
                total, current = total + current, 0
        elif re.fullmatch(r"\d+(?:\.\d+)?", word):
            current += float(word)
        else:
            return None
        seen = True
    return total + current if seen else None


def number(surface: str, integer: bool = False, unit: str | None = None, words: dict | None = None) -> float | int | None:
    """A count or amount: one of the parameter's own `words` ("halfway": 50), digits, number words,
    money ($, €, bucks), a duration in `unit`, or a temperature in its `unit`'s scale ("68F" is 20
    in celsius)."""
    named = enum(surface, {word: [] for word in words}) if words else None
    if named is not None:
        return int(words[named]) if integer or words[named] == int(words[named]) else words[named]
    text = re.sub(r"(?<=\d)(?=[fc]\b)", " ", _clean(re.sub(r"(?<=\d),(?=\d{3}\b)", "", surface)))  # "68F"
    if unit == "minutes":
        value = minutes(text)
        if value is not None:
            return round(value) if integer else value
    if unit in TEMPERATURE_SCALES:
        return temperature(text, integer, unit)
    text = re.sub(r"^(?:about|around|roughly|approx(?:imately)?)\s+", "", text)
    text = re.sub(r"[$€£¥]|\b(?:usd|eur|gbp|jpy|dollars?|bucks|euros?|pounds?|quid|yen|rupees?|pesos?|reais|francs?)\b",
                  " ", text)
    text = re.sub(r"\b(?:degrees?|deg|f|c|fahrenheit|celsius|centigrade|percent|per cent|pct|x|times|of them|pcs|pieces|people|portions?)\b",
                  " ", text).strip()
    value = words_to_number(text)
    if value is None:
        return None
    if integer:
        return int(value) if value == int(value) else None
    return int(value) if value == int(value) else round(value, 2)


TEMPERATURE_SCALES = ("celsius", "fahrenheit")  # the units a temperature parameter may have
# the scale a temperature is said in, by the word or letter after it ("68F", "20 degrees celsius")
TEMPERATURE_UNITS = {"f": "fahrenheit", "fahrenheit": "fahrenheit", "c": "celsius", "celsius": "celsius",
                     "centigrade": "celsius"}


def temperature(text: str, integer: bool, unit: str) -> float | int | None:
    """A temperature in `unit` (celsius or fahrenheit), converted when said in the other scale."""
    said = {TEMPERATURE_UNITS[w] for w in re.findall(rf"\b({'|'.join(TEMPERATURE_UNITS)})\b", text)}
    value = number(text)
    if value is None or len(said) > 1:
        return None
    scale = said.pop() if said else unit
    if scale != unit:
        value = round(in_scale(value, unit), 1)
    return round(value) if integer else int(value) if value == int(value) else value


def in_scale(degrees: float, scale: str) -> float:
    """Degrees said in the other scale, in `scale` (celsius or fahrenheit)."""
    return (degrees - 32) * 5 / 9 if scale == "celsius" else degrees * 9 / 5 + 32


def minutes(text: str) -> float | None:
    """A duration in minutes: "an hour and a half" 90, "1h30" 90, "half an hour" 30, "20 mins" 20."""
    text = text.replace("half an hour", "30 minutes").replace("quarter of an hour", "15 minutes")
    text = re.sub(r"(\d+)\s*h\s*(\d+)(?:\s*m(?:in)?s?)?$", r"\1 hours \2 minutes", text)
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    total, found = 0.0, False
    for amount, unit in re.findall(r"((?:\d+(?:\.\d+)?|[a-z]+(?:[\s-][a-z]+)?)?)\s*"
                                   r"(seconds?|secs?|minutes?|mins?|m|hours?|hrs?|h|days?|weeks?)\b", text):
        value = words_to_number(amount) if amount.strip() else 1
        if value is None:
            return None
        total += value * MINUTES_PER[unit.rstrip("s") if unit not in ("s",) else unit]
        found = True
    if not found:
        return None
    if re.search(r"\band a half\b|\bhalf\b", text) and "half an" not in text:
        last_unit = re.findall(r"(hours?|minutes?|hrs?|mins?)", text)
        total += 30 if last_unit and last_unit[-1].startswith("h") else 0.5
    return total


# ---------------------------------------------------------------- dates and times


def _next_weekday(today: dt.date, weekday: int) -> dt.date:
    ahead = (weekday - today.weekday()) % 7 or 7
    return today + dt.timedelta(days=ahead)


def _month_day(today: dt.date, month: int, day: int, year: int | None) -> dt.date | None:
    try:
        if year is not None:
            return dt.date(year if year > 99 else 2000 + year, month, day)
        candidate = dt.date(today.year, month, day)
        return candidate if candidate >= today else dt.date(today.year + 1, month, day)
    except ValueError:
        return None


# days people name instead of dates (as _clean writes them: "new year's eve" is "new year s eve")
HOLIDAYS = {"christmas eve": (12, 24), "xmas eve": (12, 24), "christmas": (12, 25), "christmas day": (12, 25),
            "xmas": (12, 25), "boxing day": (12, 26), "new year s eve": (12, 31), "new years eve": (12, 31), "nye": (12, 31),
            "new year s day": (1, 1), "new years day": (1, 1), "new year s": (1, 1), "new years": (1, 1),
            "valentine s day": (2, 14), "valentines day": (2, 14), "valentines": (2, 14), "halloween": (10, 31)}

# how people misspell it: tomorow, tommorow, tommorrow, tomorrw, 2morrow, 2moro
MISSPELT_TOMORROW = r"\b(?:tomm?orr?o?w|2morr?ow|2moro)\b"


def date(surface: str, today: dt.date) -> str | None:
    """A day as YYYY-MM-DD: today, tomorrow, a weekday (the next one after today), "Dec 3",
    "3rd of December", "the 15th", "in 3 days", "2026-12-03", "03.12.2026", "christmas eve"."""
    text = _clean(surface)
    text = re.sub(r"^(?:on|for|by|this coming|this|next|coming|upcoming)\s+", "", text)
    text = re.sub(r"\s+(?:morning|afternoon|evening|night)$", "", text)
    text = re.sub(MISSPELT_TOMORROW, "tomorrow", text).replace("tonite", "tonight")
    relative = {"today": 0, "tonight": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1, "day after tomorrow": 2}
    if text in relative:
        return (today + dt.timedelta(days=relative[text])).isoformat()
    match = re.fullmatch(r"in (\w+(?: \w+)?) days?", text)
    if match and words_to_number(match.group(1)) is not None:
        return (today + dt.timedelta(days=int(words_to_number(match.group(1))))).isoformat()
    day_name = WEEKDAYS.index(text) if text in WEEKDAYS else WEEKDAY_SHORT.get(text)
    if day_name is not None:
        return _next_weekday(today, day_name).isoformat()
    if text in HOLIDAYS:
        return _month_day(today, *HOLIDAYS[text], None).isoformat()
    found = _absolute_date(text, today)
    return found.isoformat() if found else None


def _absolute_date(text: str, today: dt.date) -> dt.date | None:
    text = re.sub(r"^(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)\s*", "", text)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if match:
        return _month_day(today, int(match.group(2)), int(match.group(3)), int(match.group(1)))
    match = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{2,4})", text)
    if match:
        return _month_day(today, int(match.group(2)), int(match.group(1)), int(match.group(3)))
    months = "|".join(sorted(MONTH_NUMBER, key=len, reverse=True))
    day = r"(\d{1,2})(?:st|nd|rd|th)?"
    match = re.fullmatch(rf"(?:the )?{day}(?: of)? ({months})\.?(?: (\d{{2,4}}))?", text)
    if match:
        return _month_day(today, MONTH_NUMBER[match.group(2)], int(match.group(1)),
                          int(match.group(3)) if match.group(3) else None)
    match = re.fullmatch(rf"({months})\.? (?:the )?{day}(?: (\d{{2,4}}))?", text)
    if match:
        return _month_day(today, MONTH_NUMBER[match.group(1)], int(match.group(2)),
                          int(match.group(3)) if match.group(3) else None)
    match = re.fullmatch(rf"the {day}", text)
    if match:
        day_number = int(match.group(1))
        for months_ahead in range(0, 3):
            month = (today.month - 1 + months_ahead) % 12 + 1
            year = today.year + (today.month - 1 + months_ahead) // 12
            try:
                candidate = dt.date(year, month, day_number)
            except ValueError:
                continue
            if candidate >= today:
                return candidate
    return None


def time(surface: str) -> str | None:
    """A time of day as HH:MM: "3pm", "3:30 pm", "15:00", "noon", "7 in the evening", "9 o'clock am"."""
    text = _clean(surface).replace("o clock", "").replace("oclock", "").replace(".", ":")
    text = re.sub(r"^(?:at|around|by|about)\s+", "", text)
    if text in ("noon", "midday", "12 noon", "lunchtime"):
        return "12:00"
    if text == "midnight":
        return "00:00"
    text = _clock_words(text)
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm|a m|p m|in the morning|in the afternoon|in the evening|at night|"
                         r"tonight|this evening|this morning|this afternoon)?", text.strip())
    if not match:
        return None
    hour, minute, part = int(match.group(1)), int(match.group(2) or 0), (match.group(3) or "").replace(" ", "")
    if minute > 59 or hour > 23:
        return None
    evening = part in ("pm", "intheafternoon", "intheevening", "atnight", "tonight", "thisevening", "thisafternoon")
    if part and hour > 12:
        return None
    if evening and hour < 12:
        hour += 12
    if part in ("am", "inthemorning", "thismorning") and hour == 12:
        hour = 0
    if not part and match.group(2) is None and hour <= 12:
        return None  # "at 7": morning or evening? not a guess
    return f"{hour:02d}:{minute:02d}"


def _clock_words(text: str) -> str:
    """ "quarter past eight in the morning" -> "8:15 in the morning"; "half past 7pm" -> "7:30pm"."""
    match = re.fullmatch(r"(quarter|half|\d{1,2}|[a-z]+) (past|to) ([a-z]+|\d{1,2})(.*)", text)
    if not match:
        return text
    minutes_part = {"quarter": 15, "half": 30}.get(match.group(1)) or words_to_number(match.group(1))
    hour = words_to_number(match.group(3))
    if minutes_part is None or hour is None or not 1 <= hour <= 12:
        return text
    minutes_part, hour = int(minutes_part), int(hour)
    if match.group(2) == "to":
        hour, minutes_part = (hour - 1) or 12, 60 - minutes_part
    return f"{hour}:{minutes_part:02d}{match.group(4)}"


# ---------------------------------------------------------------- the rest


def datetime(surface: str, today: dt.date) -> str | None:
    """A day and a time as YYYY-MM-DDTHH:MM: "tomorrow at 3pm", "Friday 9am", "Dec 3 at 19:30"."""
    text = _clean(surface)
    match = re.fullmatch(r"(.+?)(?:\s+at|,)?\s+(\d{1,2}(?::\d{2})?\s*(?:am|pm)?|noon|midnight)", text)
    if not match:
        return None
    day, hour = date(match.group(1), today), time(match.group(2))
    return f"{day}T{hour}" if day and hour else None


def enum(surface: str, values: dict) -> str | None:
    """One of an enum's values, named by itself or by one of its synonyms (case and punctuation
    aside); else the one whose longest name stands as whole words in the surface ("japanese yen"
    is yen, "australian dollars" is AUD and not dollars); else the longest whose words stand there
    inflected ("my swim" is swimming, "dimmed" is dim, "how humid" is humidity)."""
    text = _clean(surface)
    names = [(_clean(name), member) for member, synonyms in values.items() for name in (member, *synonyms)]
    for name, member in names:
        if text == name:
            return member
    padded = f" {text} "
    inside = [(len(name), member) for name, member in names if name and f" {name} " in padded]
    if not inside:
        said = text.split()
        inside = [(len(name), member) for name, member in names if name and _inflected_in(name.split(), said)]
    return max(inside)[1] if inside else None


# endings that inflect or derive a word without changing what it names (swim-ming, dim-med, humid-ity)
WORD_ENDINGS = ("s", "es", "ed", "ing", "ity", "y")


def word_bases(word: str) -> set[str]:
    """What a word may be an inflection of, as English spells it: its last consonant doubled
    ("dimmed": dim) or its silent e dropped ("muting": mute); bases of 3+ letters only."""
    bases = {word}
    for ending in WORD_ENDINGS:
        base = word[:-len(ending)]
        if word.endswith(ending) and len(base) >= 3 and base.isalpha():
            bases |= {base, base + "e"}
            if base[-1] == base[-2] and base[-1] not in "aeiouy":
                bases.add(base[:-1])
    return {b for b in bases if len(b) >= 3}


def same_word(a: str, b: str) -> bool:
    """Whether two words are one word, inflected or not ("walked" and "walking", "dimmed" and "dim")."""
    return a == b or bool(word_bases(a) & word_bases(b))


def _inflected_in(name_words: list[str], said: list[str]) -> bool:
    """Whether the name's words stand, in order and side by side, among the words said, each inflected or not."""
    width = len(name_words)
    return any(all(same_word(n, w) for n, w in zip(name_words, said[i:i + width]))
               for i in range(len(said) - width + 1))


def boolean(surface: str) -> bool | None:
    text = _clean(surface)
    if text in FALSE_WORDS or text.startswith(("not ", "no ", "don't", "without")):
        return False
    if text in TRUE_WORDS or any(word in text.split() for word in ("urgent", "urgently", "shuffle", "shuffled")):
        return True
    return None


def url(surface: str) -> str | None:
    """An address with its scheme; scheme and host in lower case (they are case-blind), the path as said."""
    text = surface.strip().rstrip(".,!?")
    match = re.fullmatch(r"(https?://)?((?:www\.)?[\w-]+(?:\.[\w-]+)+)([/?#][^\s]*)?", text, re.I)
    if " " in text or not match:
        return None
    return (match.group(1) or "https://").lower() + match.group(2).lower() + (match.group(3) or "")


def string(surface: str) -> str:
    """A free value as the user wrote it, without a leading article."""
    text = surface.strip()
    for article in ARTICLES:
        if text.lower().startswith(article) and len(text) > len(article):
            return text[len(article):]
    return text


def value(param: dict, surface, today: dt.date):
    """The typed value of one parameter from its surface (enums and booleans come typed already)."""
    kind = param["type"]
    if kind == "array":
        items = surface if isinstance(surface, list) else [surface]
        out = [string(str(item)) for item in items]
        return out if out and all(out) else None
    if not isinstance(surface, str):
        return surface if kind == "boolean" and isinstance(surface, bool) else None
    if kind == "string":
        return (surface.strip() if param.get("literal") else string(surface)) or None
    if kind == "date":
        return date(surface, today)
    if kind == "time":
        return time(surface)
    if kind == "datetime":
        return datetime(surface, today)
    if kind in ("integer", "number"):
        return number(surface, integer=kind == "integer", unit=param.get("unit"), words=param.get("words"))
    if kind == "url":
        return url(surface)
    if kind == "email":
        text = surface.strip().strip(".,")
        return text if re.fullmatch(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text) else None
    if kind == "enum":
        return enum(surface, enum_values(param))
    if kind == "boolean":
        return boolean(surface)
    return None


def enum_values(param: dict) -> dict:
    """An enum's values as {value: [synonyms]}, from a list or a mapping."""
    values = param.get("values", [])
    return dict(values) if isinstance(values, dict) else {str(v): [] for v in values}
