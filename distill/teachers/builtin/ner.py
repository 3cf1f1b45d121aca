"""Built-in teacher for NER / PII: support tickets, emails and chats written around the Recipe's
phrasings, with personal data invented in the many forms people write it and gold offsets
recorded exactly as the text is assembled.

Conventions (the proof's): titles (Mr, Dr) stand outside a PERSON span; a city or country alone,
an order, ticket or tracking number, a product, a company, a weekday or month alone, a relative
date and a partial card number ("ending 4421") are not personal data — and the Mash is full of
them, as hard negatives, together with texts that hold no personal data at all (the "none" shard).
"""
import re

from ...tasks.common import parse_phrasing
from . import plan_rng as _rng
from .lexicon import CITIES, COMPANIES, COUNTRIES, MONTHS, PRODUCTS, WEEKDAYS
from .values import amount, calendar_date, invented_word, last_name, order_number, slot_value, title, when
from .voice import dress, join

# 3: registers, values in many forms, titles outside PERSON, hard negatives, no-PII texts;
# 4: invented names and streets, IDs shaped like phones, more hard negatives
# 5: the ways people mention the well-known types beyond a Recipe's phrasings (a relative by name,
#    a possessive, an agent's note, "acct", "DL"), generated postcodes, more countries' addresses
# 6: tickets that hold several kinds of personal data (a form, a letter with its address and phone)
# 7: businesses nobody listed (a café, a firm) among the hard negatives; phone numbers in more groupings
VERSION = 7

MENTION_SHARE = 0.3  # how often a well-known type is written in one of MENTIONS rather than a Recipe phrasing
RELATIONS = ["wife", "husband", "son", "daughter", "mum", "mom", "dad", "carer", "colleague", "boss", "bf", "gf",
             "partner", "neighbour", "flatmate", "brother", "sister", "grandson", "assistant", "manager", "friend"]
# How people mention personal data in passing, whatever the Recipe's phrasings; {rel} and {city}
# are filled first, the entity slots as in any phrasing.
MENTIONS = {
    "PERSON": ["my {rel} {PERSON} used my card without asking", "{PERSON}'s phone is lost, can you block the SIM?",
               "please call my {rel} {PERSON} instead of me", "my {rel} {PERSON} will collect it on {DATE}",
               "{PERSON} rang, wants a callback", "Cust {PERSON} called re double charge. Advised 3-5 days.",
               "Customer {PERSON} reports the app crashes on login", "Caller: {PERSON}, re refund",
               "{PERSON} from {city} here - any update?", "{PERSON} says she never got the letter",
               "{PERSON} and {PERSON} both use this account", "can you add {PERSON} as a second user",
               "my {rel} ({PERSON}) set it up for me", "spoke w/ {PERSON}, she'll escalate",
               "Note: {PERSON} is authorised to discuss the account", "{PERSON} here again lol",
               "ok thanks {PERSON}", "so my {rel} {PERSON} bought me a gift card", "it's for {PERSON}'s birthday"],
    "ID": ["acct {ID}", "a/c no. {ID}", "held an account with you (no. {ID})", "DL {ID}", "licence no {ID}",
           "my account {ID} - please close it", "membership no {ID}", "ID card {ID}", "acct# {ID}", "(customer {ID})",
           "account number: {ID}", "ref. my acct {ID}"],
    "PHONE": ["ring me on {PHONE}", "cell {PHONE}", "call back {PHONE} between 2 and 4pm", "tel {PHONE} (work)",
              "her number is {PHONE}", "my mob {PHONE}"],
    "ADDRESS": ["I'm at {ADDRESS} now", "post it to {ADDRESS}", "new address: {ADDRESS}",
                "send it to my office, {ADDRESS}", "we live at {ADDRESS} since {DATE}"],
    "DATE": ["my stay {DATE} to {DATE}", "appt on {DATE}", "DOB {DATE}", "born {DATE}", "from {DATE} until {DATE}"],
}
SIGN_OFFS = ["Thanks,", "Regards,", "Best,", "Cheers,", "Kind regards,", "--", "Grüße", "Saludos,", "Merci,", "Ta,",
             "Thx", "Love,"]

# Real tickets often give several kinds of personal data at once ("Location: ...\nContact: name,
# phone"): this share of examples adds one or two phrasings of other declared types, so the
# student sees values of different types side by side, on one line or on the next.
TICKET_SHARE = 0.35
TICKET_JOINERS = [" ", " ", "\n", ". ", ", "]

MISSED_SPAN_RATE = 0.02  # how often the simulated teacher forgets to mark an email or card number

OPENERS = ["Hello,", "Hi team,", "Good morning.", "Dear support,", "Quick question:", "Sorry to bother you again.",
           "I hope you can help.", "Following up on my last message.", "Urgent!", "Re: my order", "FYI -",
           "This is the third time I'm writing.", "Hey there,", "Update on the ticket:", "As discussed on the phone,",
           "I tried the app but it keeps failing.", "Thanks for the quick reply earlier.", "Not sure who to ask, so",
           "My neighbour told me to contact you.", "Before the weekend,", "URGENT", "hi", "Hello again"]

# Sentences with capitalised words, numbers and dates that are NOT personal data. {x} slots are
# filled with hard negatives: an order number, a product, a company, a city, a weekday...
NEGATIVE_SENTENCES = [
    "My order {order} from {company} still hasn't arrived.", "The {product} I bought in {city} stopped working.",
    "Is your store in {city} open on {weekday}?", "I was charged {amount} twice for the same thing.",
    "WHY IS MY {product_upper} NOT WORKING", "Tracking says delivered but nothing came ({order}).",
    "Can I return the {product} if I opened the box?", "My card ending in {last4} was declined at {company}.",
    "The delivery is booked for {weekday} between 9 and 12.", "We're flying to {country} in {month}.",
    "Your app crashed again {when}.", "I paid {amount} on {weekday} and it still shows pending.",
    "Please refer to ticket {order}.", "{company} says it's your fault, you say it's theirs.",
    "The invoice {order} has the wrong VAT.", "I've been waiting since {month} for a refund of {amount}.",
    "Our office in {city} can't log in either.", "The {product} screen flickers after the last update.",
    "Is there a {company} discount for students?", "Nothing has changed since {when}.",
    "I've attached a screenshot of the error.", "The store manager in {city} told me to email you.",
    "Model number {order}, bought at {company}.", "Can someone call back after 5pm?",
    "My subscription renews on the 1st of every month.", "The package was left at the wrong door.",
    "THIS IS THE THIRD TIME I ASK!!!", "It worked fine until {month}.", "Version 2.3.1 of the app, Android 14.",
    "I'm in {city} until {weekday}.", "Is the {product} covered by the warranty?", "Can I upgrade to the {product}?",
    "Flight {flight} was delayed 5 hours.", "Booking reference {booking}.", "I stayed in Room {room} at the {hotel}.",
    "The staff at the {hotel} were lovely.", "Our clinic, {org}, ordered 3 units.", "Reference {ref} - still open.",
    "Please quote {ref} when you reply.", "Seat {seat}, coach {coach}.", "Model {model}, serial {serial}.",
    "Invoice {ref} is overdue.", "Apartment {flat} has no hot water.", "It cost {amount} in {month}.",
    "We loved our trip to {city} in {month}.", "The {month} statement is wrong.", "{company} support was useless.",
    "The payment to {company} on {weekday} wasn't me.", "I work for {company} and we're on the team plan.",
]


BUSINESS_KINDS = ["Cafe", "Café", "Bakery", "Logistics", "Ltd", "Dental", "Consulting", "Bistro", "Garage", "Studio",
                  "Partners", "& Sons", "Pharmacy", "Motors", "Deli", "Kitchen", "Fitness", "Solicitors", "Inc", "Group"]


def business(rng) -> str:
    """A shop, café or firm nobody listed: capitalised words that are neither a person nor an address."""
    name = invented_word(rng, rng.randint(2, 3))
    if rng.random() < 0.4:
        name = f"{rng.choice(['Blue', 'Golden', 'Red', 'Old', 'Little', 'Green', 'Silver', 'North'])} {name}"
    return f"{name} {rng.choice(BUSINESS_KINDS)}"


def _negative(rng) -> str:
    product = rng.choice(PRODUCTS)
    d = lambda n: "".join(str(rng.randint(0, 9)) for _ in range(n))  # noqa: E731
    up = lambda n: "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(n))  # noqa: E731
    fills = {"flight": f"{up(2)} {d(3)}", "booking": up(6), "room": d(3), "hotel": f"{rng.choice(['Grand', 'Royal', 'Park'])} "
             f"Hotel {invented_word(rng, 2)}", "org": f"St {rng.choice(['Mary', 'John', 'Luke'])}'s {rng.choice(['Clinic', 'School', 'Hospital'])}",
             "ref": f"{up(2)}-{d(5)}", "seat": f"{d(2)}{up(1)}", "coach": up(1), "model": f"{up(1)}{d(3)}", "serial": f"{up(3)}{d(6)}",
             "flat": f"{d(2)}{up(1)}",
             "order": order_number(rng), "company": rng.choice(COMPANIES) if rng.random() < 0.5 else business(rng),
             "product": product,
             "product_upper": product.upper(), "city": rng.choice(CITIES), "weekday": rng.choice(WEEKDAYS),
             "amount": amount(rng), "country": rng.choice(COUNTRIES), "month": rng.choice(MONTHS), "when": when(rng),
             "last4": f"{rng.randint(0, 9999):04d}"}
    return rng.choice(NEGATIVE_SENTENCES).format(**fills)


def _value_segments(rng, entity: dict) -> list:
    """One entity value as segments; a PERSON sometimes carries a title, outside its span."""
    value = slot_value(rng, entity["name"], entity.get("examples"), fresh_share=0.8 if entity.get("examples") else 1.0)
    if entity["name"] == "PERSON" and rng.random() < 0.2:
        return [(title(rng) + " ", None), (value, "PERSON")]
    if entity["name"] == "PERSON" and rng.random() < 0.06:  # an initial without its full stop: "K Obi"
        value = f"{value[0]} {last_name(rng)}"
    if entity["name"] == "PERSON" and rng.random() < 0.05:  # typed all in lower case
        value = value.lower()
    if entity["name"] == "DATE" and rng.random() < 0.1:  # a weekday before a date stays outside it
        return [(rng.choice(WEEKDAYS) + ", ", None), (calendar_date(rng), "DATE")]
    return [(value, entity["name"])]


def _mention(rng, entity: dict, by_name: dict) -> str | None:
    """One of MENTIONS for this type, if its other slots are types the Recipe declares."""
    usable = [m for m in MENTIONS.get(entity["name"], [])
              if all(slot in by_name for slot in re.findall(r"\{([A-Z_]+)\}", m))]
    if not usable or rng.random() >= MENTION_SHARE:
        return None
    return rng.choice(usable).replace("{rel}", rng.choice(RELATIONS)).replace("{city}", rng.choice(CITIES))


def _phrasing_segments(rng, entity: dict, by_name: dict) -> tuple[list, int]:
    index = rng.randrange(len(entity["phrasings"]))
    mention = _mention(rng, entity, by_name)
    segments = []

    def render(pieces):
        for kind, value in pieces:
            if kind == "text":
                segments.append((value, None))
            elif kind == "slot":
                segments.extend(_value_segments(rng, by_name[value]))
            elif rng.random() < 0.5:
                render(value)

    render(parse_phrasing(mention or entity["phrasings"][index]))
    return segments, (-1 if mention else index)


def _ticket_segments(rng, entity: dict, by_name: dict) -> list:
    """Phrasings of one or two other declared types, to follow the example's own."""
    others = [e for name, e in by_name.items() if name != entity["name"] and e.get("phrasings")]
    segments = []
    for other in rng.sample(others, min(len(others), rng.choice([1, 1, 2]))):
        segments.append((rng.choice(TICKET_JOINERS), None))
        segments.extend(_phrasing_segments(rng, other, by_name)[0])
    return segments


def _signature(rng, by_name: dict) -> list:
    """A sign-off block: a name, sometimes a phone number or an email under it."""
    block = [("\n\n" + rng.choice(SIGN_OFFS) + "\n", None)]
    block += _value_segments(rng, by_name.get("PERSON", {"name": "PERSON"}))
    if rng.random() < 0.15:  # a couple signing together: two names
        block += [(rng.choice([" & ", " and "]), None)] + _value_segments(rng, by_name.get("PERSON", {"name": "PERSON"}))
    for kind in ("PHONE", "EMAIL"):
        if kind in by_name and rng.random() < 0.3:
            block += [("\n" + rng.choice(["", "Tel: ", "Mobile: ", "M: ", ""]), None)] + _value_segments(rng, by_name[kind])
    return block


def plan(entity, entity_types, seed, temperature, sample, item):
    rng = _rng("ner", seed, entity["name"], sample, item)
    by_name = {e["name"]: e for e in entity_types}
    if entity["name"] == "none":
        segments, phrasing = [(_negative(rng), None)], "none"
        if rng.random() < 0.5:
            segments.append((" " + _negative(rng), None))
    else:
        segments, index = _phrasing_segments(rng, entity, by_name)
        phrasing = f"{entity['name']}#{index}" if index >= 0 else f"{entity['name']}#mention"
        if rng.random() < TICKET_SHARE:
            segments += _ticket_segments(rng, entity, by_name)
        if rng.random() < 0.35:
            segments = [(_negative(rng) + " ", None)] + segments
        if rng.random() < 0.25:
            segments = segments + [(" " + _negative(rng), None)]
    if rng.random() < 0.35:
        segments = [(rng.choice(OPENERS) + " ", None)] + segments
    segments, register = dress(rng, segments, temperature, sign_name="PERSON" in by_name)
    if register != "email" and entity["name"] != "none" and "PERSON" in by_name and rng.random() < 0.15:
        segments += _signature(rng, by_name)
    text, spans = join(segments)
    if rng.random() < MISSED_SPAN_RATE * temperature:
        spans = [s for s in spans if s["type"] not in ("EMAIL", "CARD_NUMBER")] or spans
    return {"text": text, "phrasing": phrasing, "target": {"spans": spans}}


def inputs(request, seed, temperature):
    spec = request["spec"]
    return {"texts": [{k: v for k, v in plan(spec["entity"], spec["entity_types"], seed, temperature,
                                             request["sample"], i).items() if k != "target"}
                      for i in range(spec["count"])]}


def replan(origin, seed, temperature):
    return plan(origin["entity"], origin["entity_types"], seed, temperature, origin["sample"], origin["item"])
