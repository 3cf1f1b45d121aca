"""Values the built-in teacher invents, in the many surface forms people write them: amounts,
dates, phone numbers, addresses, card numbers, identifiers, names. A Recipe's own example values
are used too, but about half the time a value comes from here, so the Mash is not the Recipe's
lists over and over.

The upper-case slot generators (PERSON, ADDRESS, ...) are the NER teacher's: changing what one of
them writes changes that teacher's answers, so it bumps builtin/ner.py's VERSION."""
from .lexicon import (
    CA_PROVINCES,
    CITIES,
    COMPANIES,
    COUNTRIES,
    DE_STREETS,
    EMAIL_DOMAINS,
    ES_CITIES,
    FIRST_NAMES,
    FR_STREETS,
    IT_CITIES,
    LAST_NAMES,
    MONTHS,
    MONTHS_SHORT,
    RELATIVE_DAYS,
    STREET_NAMES,
    STREET_TYPES,
    TITLES,
    US_STATES,
    WEEKDAYS,
)


def amount(rng) -> str:
    n = rng.choice([rng.randint(1, 99), rng.randint(10, 999), rng.randint(100, 9999), rng.randint(1000, 50000)])
    cents = rng.choice(["", "", f".{rng.randint(0, 99):02d}"])
    grouped = f"{n:,}"
    return rng.choice([f"${grouped}{cents}", f"£{grouped}{cents}", f"€{n}{cents}", f"{n} euros", f"{n} dollars",
                       f"{n} pounds", f"{grouped} USD", f"{n} GBP", f"{n} bucks", f"{n} quid", f"${n / 1000:g}k",
                       f"{n}€", f"EUR {grouped}", f"¥{n * 100:,}", f"{n} CAD", f"A${n}", f"R$ {n}", f"{n:,} rupees"])


SYLLABLES = ["ka", "lo", "mi", "ra", "ven", "to", "sa", "ni", "dor", "el", "an", "ko", "ri", "ta", "mo", "zu", "be",
             "la", "fen", "gu", "shi", "ya", "nek", "bar", "os", "tu", "vi", "ha", "jo", "qui", "ma", "ul", "der", "ze"]
PARTICLES = ["van der", "de la", "van", "de", "da", "von", "Al-", "bin", "El-", "Mac", "O'", "di", "ben"]


def invented_word(rng, syllables: int) -> str:
    """A plausible word nobody listed (a surname, a street): the student must read the context,
    not remember the value."""
    return "".join(rng.choice(SYLLABLES) for _ in range(syllables)).capitalize()


def first_name(rng) -> str:
    return rng.choice(FIRST_NAMES) if rng.random() < 0.7 else invented_word(rng, rng.randint(2, 3))


def last_name(rng) -> str:
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(LAST_NAMES)
    if roll < 0.85:
        return invented_word(rng, rng.randint(2, 4))
    particle = rng.choice(PARTICLES)
    joiner = "" if particle.endswith(("-", "'")) or particle == "Mac" else " "
    return f"{particle}{joiner}{invented_word(rng, rng.randint(2, 3))}"


def person(rng) -> str:
    first, last = first_name(rng), last_name(rng)
    if rng.random() < 0.08:  # three names: "Nguyen Van Minh", "Maria José Costa"
        return f"{first} {first_name(rng)} {last}"
    return rng.choice([f"{first} {last}", f"{first} {last}", first, last, f"{first[0]}. {last}",
                       f"{first} {rng.choice(FIRST_NAMES)[0]}. {last}", f"{first}-{rng.choice(FIRST_NAMES)} {last}",
                       f"{first} {last}-{rng.choice(LAST_NAMES)}", f"{first.lower()} {last.lower()}"])


def title(rng) -> str:
    return rng.choice(TITLES)


def email(rng) -> str:
    first = rng.choice(FIRST_NAMES).lower().replace("é", "e").replace("ü", "u").replace("í", "i").replace("ó", "o")
    last = rng.choice(LAST_NAMES).lower().replace("'", "").replace(" ", "").replace("í", "i").replace("á", "a")
    user = rng.choice([f"{first}.{last}", f"{first}{rng.randint(1, 99)}", f"{first[0]}{last}", f"{last}.{first}",
                       f"{first}_{last}", f"{first}{last}{rng.randint(70, 99)}", f"{first}", "info", f"{last}.{first[0]}"])
    company_domain = "".join(ch for ch in rng.choice(COMPANIES).lower() if ch.isalnum()) + ".com"
    domain = rng.choice(EMAIL_DOMAINS + [company_domain])
    return f"{user}@{domain}".replace("&", "and").replace("+", "plus")


def phone(rng) -> str:
    d = lambda n: "".join(str(rng.randint(0, 9)) for _ in range(n))  # noqa: E731
    a = str(rng.randint(201, 989))
    return rng.choice([f"({a}) {d(3)}-{d(4)}", f"{a}-{d(3)}-{d(4)}", f"{a}.{d(3)}.{d(4)}", f"+1 {a} {d(3)} {d(4)}",
                       f"+1-{a}-{d(3)}-{d(4)}", f"07{d(3)} {d(6)}", f"+44 7{d(3)} {d(6)}", f"020 {d(4)} {d(4)}",
                       f"+44 (0)20 {d(4)} {d(4)}", f"+49 {d(3)} {d(7)}", f"0{d(3)} {d(7)}", f"+33 6 {d(2)} {d(2)} {d(2)} {d(2)}",
                       f"06 {d(2)} {d(2)} {d(2)} {d(2)}", f"+91 {d(5)} {d(5)}", f"+61 4{d(2)} {d(3)} {d(3)}",
                       f"+55 11 9{d(4)}-{d(4)}", f"{a}{d(7)}", f"+353 8{d(1)} {d(3)} {d(4)}", f"+254 7{d(2)} {d(6)}",
                       f"07{d(3)} {d(3)} {d(3)}", f"01{d(3)} {d(3)} {d(3)}", f"{a} {d(3)} {d(4)}", f"+1 ({a}) {d(3)}-{d(4)}"])


def uk_postcode(rng) -> str:
    letters = "ABCDEFGHJKLMNPRSTUWYZ"
    area = rng.choice(letters) + (rng.choice(letters) if rng.random() < 0.6 else "")
    district = str(rng.randint(1, 29)) + (rng.choice("ABEHMNPRVWXY") if rng.random() < 0.1 else "")
    return f"{area}{district} {rng.randint(0, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def ca_postcode(rng) -> str:
    letter, digit = (lambda: rng.choice("ABCEGHJKLMNPRSTVXY")), (lambda: str(rng.randint(0, 9)))
    return f"{letter()}{digit()}{letter()} {digit()}{letter()}{digit()}"


def street_address(rng) -> str:
    n = rng.randint(1, 2999)
    street_name = rng.choice(STREET_NAMES) if rng.random() < 0.6 else invented_word(rng, rng.randint(2, 3))
    street = f"{street_name} {rng.choice(STREET_TYPES)}"
    city = rng.choice(CITIES) if rng.random() < 0.7 else invented_word(rng, rng.randint(2, 3))
    if rng.random() < 0.25:  # the long, comma-laden forms of other countries and of named houses
        return rng.choice([
            f"Room {rng.randint(100, 2999)}, Building {rng.randint(1, 12)}, {n} {street_name} Avenue, {invented_word(rng, 2)}, {city} {d6(rng)}",
            f"{street_name} {rng.randint(1, 120)}, {rng.randint(100, 999)} {rng.randint(10, 99)} {city}, "
            f"{rng.choice(COUNTRIES).removeprefix('the ')}",
            f"Av. {street_name}, {n} - {invented_word(rng, 2)}, {city} - SP, {rng.randint(10000, 99999)}-{rng.randint(100, 999)}",
            f"The Old {rng.choice(['Rectory', 'Mill', 'Barn', 'School House', 'Forge'])}, {street_name} Lane, Little {invented_word(rng, 2)}, "
            f"{uk_postcode(rng)}",
            f"{rng.randint(1, 40)}/{rng.randint(1, 99)} {street_name} Rd, {city} NSW {rng.randint(2000, 2999)}",
            f"Flat {rng.randint(1, 9)}{rng.choice('ABCD')}, {n} {street}, {city}, {uk_postcode(rng)}, UK",
            f"{n} {street}, {rng.choice(['Apt', 'Suite', 'Unit'])} {rng.randint(1, 40)}{rng.choice(['', 'A', 'C'])}, {city}, "
            f"{rng.choice(CA_PROVINCES)} {ca_postcode(rng)}",
            f"Calle {rng.choice(['de ', 'del ', ''])}{invented_word(rng, 3).title()} {rng.randint(1, 200)}, {rng.randint(1, 9)}º "
            f"{rng.choice('ABCD')}, {rng.randint(1000, 52999):05d} {rng.choice(ES_CITIES)}",
            f"Via {invented_word(rng, 3).title()} {rng.randint(1, 150)}, {rng.randint(10, 98)}{rng.randint(100, 999)} {rng.choice(IT_CITIES)}",
            f"{invented_word(rng, 2).title()}straat {rng.randint(1, 300)}, {rng.randint(1000, 9999)} "
            f"{rng.choice('ABCDEFGHJKLMN')}{rng.choice('ABCDEFGHJKLMN')} {rng.choice(['Amsterdam', 'Utrecht', 'Rotterdam'])}",
            f"{invented_word(rng, 2).title()} {rng.randint(1, 90)}, {rng.randint(100, 999)} {rng.randint(10, 99)} "
            f"{rng.choice(['Athens', 'Thessaloniki'])}, Greece",
        ])
    unit = rng.choice(["", "", "", f"Apt {rng.randint(1, 40)}, ", f"Flat {rng.randint(1, 12)}, ", f"Unit {rng.randint(1, 9)}, "])
    return rng.choice([
        f"{n} {street}", f"{n} {street}, {city}", f"{unit}{n} {street}, {city}",
        f"{n} {rng.choice(['N', 'S', 'E', 'W'])} {street}, {city}, {rng.choice(US_STATES)} {rng.randint(10000, 99999)}",
        f"{n} {street}, Apt {rng.randint(1, 30)}, {city}, {rng.choice(US_STATES)} {rng.randint(10000, 99999)}",
        f"{unit}{rng.randint(1, 120)} {street}, {city} {uk_postcode(rng)}",
        f"{rng.choice(DE_STREETS)} {rng.randint(1, 99)}, {rng.randint(10000, 99999)} {rng.choice(['Berlin', 'Hamburg', 'München', 'Köln'])}",
        f"{rng.randint(1, 99)} {rng.choice(FR_STREETS)}, {rng.randint(75001, 75020)} Paris",
        f"PO Box {rng.randint(100, 9999)}, {city}", f"{n} {street}, {city}, {rng.choice(COUNTRIES).removeprefix('the ')}",
    ])


def map_address(rng) -> str:
    """A street address as people give one to a map: "1600 Amphitheatre Parkway", "42 Quay Rd, Leeds"."""
    street = rng.choice(STREET_NAMES) if rng.random() < 0.6 else invented_word(rng, rng.randint(2, 3))
    text = f"{rng.randint(1, 2999)} {street} {rng.choice(STREET_TYPES)}"
    return text + (f", {rng.choice(CITIES)}" if rng.random() < 0.3 else "")


def d6(rng) -> str:
    return str(rng.randint(100000, 999999))


def _luhn(digits: str) -> str:
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = int(d)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def card_number(rng) -> str:
    if rng.random() < 0.15:  # American Express: 15 digits, 4-6-5
        body = rng.choice(["34", "37"]) + "".join(str(rng.randint(0, 9)) for _ in range(12))
        number = body + _luhn(body)
        return rng.choice([number, f"{number[:4]} {number[4:10]} {number[10:]}", f"{number[:4]}-{number[4:10]}-{number[10:]}"])
    body = rng.choice(["4", "5", "6"]) + "".join(str(rng.randint(0, 9)) for _ in range(14))
    number = body + _luhn(body)
    groups = [number[i:i + 4] for i in range(0, 16, 4)]
    return rng.choice([number, " ".join(groups), "-".join(groups), "  ".join(groups)])


def calendar_date(rng) -> str:
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1940, 2027)
    suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(day, "th")
    m, ms = MONTHS[month - 1], MONTHS_SHORT[month - 1]
    return rng.choice([f"{day:02d}/{month:02d}/{year}", f"{month}/{day}/{year}", f"{year}-{month:02d}-{day:02d}",
                       f"{m} {day}, {year}", f"{day} {m} {year}", f"{m} {day}{suffix}", f"{day}{suffix} {m}",
                       f"{day}{suffix} of {m}", f"{ms} {day}, {str(year)[2:]}", f"{ms}. {day}", f"{day}.{month:02d}.{year}",
                       f"{day} {ms} {year}", f"{m} {day}{suffix}, {year}", f"{month}/{day}/{str(year)[2:]}",
                       f"{day}-{ms}-{year}"])


def identifier(rng) -> str:
    d = lambda n: "".join(str(rng.randint(0, 9)) for _ in range(n))  # noqa: E731
    up = lambda n: "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(n))  # noqa: E731
    if rng.random() < 0.3:  # national numbers shaped like phone or card numbers: the context decides
        return rng.choice([f"{d(3)} {d(3)} {d(4)}", f"{d(3)} {d(3)} {d(3)}", f"{d(4)} {d(4)} {d(4)}", f"{d(6)}/{d(4)}",
                           f"{d(3)}.{d(3)}.{d(3)}-{d(2)}", f"{d(3)}-{d(4)}-{d(7)}-{d(1)}", f"{d(4)}-{d(4)}-{d(2)}",
                           f"{up(1)}{d(3)}-{d(3)}-{d(2)}-{d(3)}-{d(1)}", f"{up(2)}{d(8)}", f"NL{d(2)} {up(4)} {d(4)} {d(4)} {d(2)}"])
    return rng.choice([f"{d(3)}-{d(2)}-{d(4)}", f"{up(2)}{d(6)}{up(1)}", f"{up(2)} {d(2)} {d(2)} {d(2)} {up(1)}",
                       f"{up(1)}{d(7)}", f"{up(2)}{d(7)}", d(8), d(10), f"ACC-{d(6)}", f"CUST{d(6)}", f"{d(4)} {d(4)} {d(2)}",
                       f"GB{d(2)} {up(4)} {d(4)} {d(4)} {d(4)} {d(2)}", f"DE{d(2)} {d(4)} {d(4)} {d(4)} {d(4)} {d(2)}",
                       f"{up(3)}{d(2)}{up(1)}{d(4)}", f"M-{d(7)}", f"{d(3)} {d(3)} {d(3)}", f"ID{d(8)}"])


def city(rng) -> str:
    return rng.choice(CITIES)


def company(rng) -> str:
    return rng.choice(COMPANIES)


def when(rng) -> str:
    return rng.choice(RELATIVE_DAYS + [f"on {w}" for w in WEEKDAYS] + ["last Tuesday", "this afternoon", "an hour ago"])


def order_number(rng) -> str:
    d = lambda n: "".join(str(rng.randint(0, 9)) for _ in range(n))  # noqa: E731
    return rng.choice([f"#{d(6)}", f"order {d(7)}", f"#A{d(5)}", f"{d(3)}-{d(7)}-{d(7)}", f"ticket #{d(5)}",
                       f"case {d(8)}", f"1Z{d(16)}", f"INV-{d(5)}", f"ref {rng.choice('ABCDEFGHJK')}{d(5)}"])


# a Recipe slot's name -> a generator of values beyond the Recipe's list
SLOT_GENERATORS = {"amount": amount, "merchant": company, "company": company, "when": when, "city": city,
                   "name": person, "person": person, "PERSON": person, "EMAIL": email, "PHONE": phone,
                   "ADDRESS": street_address, "CARD_NUMBER": card_number, "DATE": calendar_date, "ID": identifier}


def slot_value(rng, name: str, listed: list | None, fresh_share: float = 0.5) -> str:
    """A Recipe's listed value, or (fresh_share of the time, when the slot is one we know) a new one."""
    generator = SLOT_GENERATORS.get(name)
    if generator and (not listed or rng.random() < fresh_share):
        return generator(rng)
    return rng.choice(listed)
