"""Built-in teacher for NER / PII: realistic snippets from each entity type's phrasings, with
invented personal data inserted and gold offsets recorded exactly as the text is assembled."""
from ...tasks.common import parse_phrasing
from .tool_call import _rng

VERSION = 2  # 2: opening and closing sentences around each phrasing

FIRST = ["Maya", "Liam", "Aisha", "Chen", "Sofia", "Mateo", "Priya", "Jonas", "Amara", "Kenji", "Elena", "Omar",
         "Zoe", "Lucas", "Fatima", "Noah", "Ingrid", "Diego", "Hana", "Samuel", "Olivia", "Ravi", "Chloe", "Tariq"]
LAST = ["Okafor", "Lindqvist", "Garcia", "Nguyen", "Patel", "Kowalski", "Haddad", "Moreau", "Tanaka", "Silva",
        "Schmidt", "O'Brien", "Rossi", "Cohen", "Mensah", "Novak", "Fischer", "Ahmed", "Larsen", "Dubois"]
STREETS = ["Elm Street", "Maple Avenue", "Harbor Road", "Rue de la Paix", "King's Lane", "Sunset Blvd",
           "Birch Court", "Mill Road", "Station Square", "Oak Drive", "Canal Street", "Hillside Way"]
CITIES = ["Springfield", "Lisbon", "Toronto", "Leeds", "Austin", "Lyon", "Osaka", "Denver", "Porto", "Dublin"]
DOMAINS = ["example.com", "mail.net", "inbox.org", "corp.io", "post.de", "webmail.co.uk"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
# Surrounding sentences, so that ordinary words (not only the phrasings') are seen as non-PII.
OPENERS = ["Hello,", "Hi team,", "Good morning.", "Dear support,", "Quick question:", "Sorry to bother you again.",
           "I hope you can help.", "Following up on my last message.", "Urgent!", "Re: my order", "FYI -",
           "This is the third time I'm writing.", "Hey there,", "Update on the ticket:", "As discussed on the phone,",
           "I tried the app but it keeps failing.", "Thanks for the quick reply earlier.", "Not sure who to ask, so",
           "My neighbour told me to contact you.", "Before the weekend,"]
CLOSERS = ["Thanks!", "Best regards.", "Cheers", "Please advise.", "Let me know if you need anything else.",
           "This is really frustrating.", "Have a nice day.", "Looking forward to your answer.", "Sent from my phone",
           "Kind regards", "Appreciate it.", "No rush.", "I'll be travelling next week, so email is best.",
           "Can you confirm by tomorrow?", "Many thanks in advance.", "See the attached screenshot.",
           "The website was down again this morning.", "I already reset the router twice.", "Talk soon",
           "Is there a reference number for this?"]
MISSED_SPAN_RATE = 0.02  # how often the simulated teacher forgets to mark an email or card number


def _luhn_digit(digits):
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = int(d)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def _person(rng):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return rng.choice([f"{first} {last}", f"{first} {last}", first, f"Dr. {last}", f"{first[0]}. {last}"])


def _email(rng):
    first, last = rng.choice(FIRST).lower(), rng.choice(LAST).lower().replace("'", "")
    user = rng.choice([f"{first}.{last}", f"{first}{rng.randint(1, 99)}", f"{first[0]}{last}", f"{last}.{first}"])
    return f"{user}@{rng.choice(DOMAINS)}"


def _phone(rng):
    a, b, c = rng.randint(200, 989), rng.randint(200, 999), rng.randint(1000, 9999)
    return rng.choice([f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"+1 {a} {b} {c}", f"+44 20 {b} {c}", f"{a}.{b}.{c}"])


def _address(rng):
    return rng.choice([f"{rng.randint(1, 999)} {rng.choice(STREETS)}",
                       f"{rng.randint(1, 999)} {rng.choice(STREETS)}, {rng.choice(CITIES)}",
                       f"{rng.choice(STREETS)} {rng.randint(1, 99)}, {rng.choice(CITIES)}"])


def _card(rng):
    digits = [str(rng.choice([4, 5]))] + [str(rng.randint(0, 9)) for _ in range(14)]
    digits.append(_luhn_digit(digits))
    number = "".join(digits)
    return rng.choice([number, " ".join(number[i:i + 4] for i in range(0, 16, 4)),
                       "-".join(number[i:i + 4] for i in range(0, 16, 4))])


def _date(rng):
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1950, 2026)
    return rng.choice([f"{d:02d}/{m:02d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{MONTHS[m - 1]} {d}, {y}",
                       f"{d} {MONTHS[m - 1]} {y}"])


def _identifier(rng):
    return rng.choice([f"ID-{rng.randint(100000, 999999)}", f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
                       f"P{rng.randint(1000000, 9999999)}", f"ACC{rng.randint(10000000, 99999999)}"])


GENERATORS = {"PERSON": _person, "EMAIL": _email, "PHONE": _phone, "ADDRESS": _address, "CARD_NUMBER": _card,
              "DATE": _date, "ID": _identifier}


def _value(rng, entity):
    if entity.get("examples"):
        return rng.choice(entity["examples"])
    return GENERATORS[entity["name"]](rng)


def plan(entity, entity_types, seed, temperature, sample, item):
    rng = _rng("ner", seed, entity["name"], sample, item)
    by_name = {e["name"]: e for e in entity_types}
    index = rng.randrange(len(entity["phrasings"]))
    text, spans = "", []

    def render(pieces):
        nonlocal text
        for kind, value in pieces:
            if kind == "text":
                text += value
            elif kind == "slot":
                surface = _value(rng, by_name[value])
                spans.append({"start": len(text), "end": len(text) + len(surface), "type": value, "text": surface})
                text += surface
            elif rng.random() < 0.5:
                render(value)

    if rng.random() < 0.5:
        text = rng.choice(OPENERS) + " "
    render(parse_phrasing(entity["phrasings"][index]))
    if rng.random() < 0.5:
        text += " " + rng.choice(CLOSERS)
    if rng.random() < MISSED_SPAN_RATE * temperature:
        spans = [s for s in spans if s["type"] not in ("EMAIL", "CARD_NUMBER")] or spans
    return {"text": text, "phrasing": f"{entity['name']}#{index}", "target": {"spans": spans}}


def inputs(request, seed, temperature):
    spec = request["spec"]
    return {"texts": [{k: v for k, v in plan(spec["entity"], spec["entity_types"], seed, temperature,
                                             request["sample"], i).items() if k != "target"}
                      for i in range(spec["count"])]}


def replan(origin, seed, temperature):
    return plan(origin["entity"], origin["entity_types"], seed, temperature, origin["sample"], origin["item"])
