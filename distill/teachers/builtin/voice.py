"""How people actually write to a support desk or an assistant: registers, framing and noise.

The built-in teacher writes each example as a list of segments, (text, entity type or None), and
this module dresses it in a register — terse, polite, angry, rambling, shouting, lower-case and
unpunctuated, texting, misspelt, a formal email, non-native phrasing — with greetings, context
sentences and sign-offs around it. Noise (typos, abbreviations) never touches an entity's value;
case changes apply to the whole text, values included, as they do when people type that way.
Everything is drawn from the rng it is given, so a plan is reproducible.
"""
import re

from .lexicon import FIRST_NAMES, LAST_NAMES

GREETINGS = ["Hi", "Hi,", "Hello", "Hello,", "Hey", "Hey there,", "Hiya", "Good morning,", "Good afternoon.",
             "Good evening", "Dear Sir or Madam,", "To whom it may concern,", "Dear support team,", "Hi team,",
             "Hello again,", "Morning!", "Yo", "Greetings,", "Hi there!", "Dear Customer Service,"]
SIGN_OFFS = ["Thanks", "Thanks!", "Thank you.", "Many thanks", "Cheers", "Regards", "Kind regards",
             "Best", "Best wishes", "Thx", "ty", "Appreciate it", "Thanks in advance", "Sent from my iPhone",
             "Sent from my Galaxy", "Looking forward to hearing from you.", "Please advise.", "Sincerely"]
CONTEXT = [
    "I've been a customer for years.", "Sorry if this is the wrong place to ask.", "Quick question.",
    "I tried the app first but it didn't help.", "This is the second time I'm writing about this.",
    "I'm travelling at the moment.", "My husband usually deals with this.", "Not very good with technology, sorry.",
    "I called yesterday but the line was busy.", "Hope you're well.", "I need this sorted today.",
    "I've been on hold for 40 minutes.", "Just moved here recently.", "I'm writing on behalf of my mother.",
    "It's a bit urgent.", "No rush on this.", "I read the FAQ but couldn't find the answer.",
    "My friend recommended I message you.", "Long story short:", "OK so here's the thing.",
    "Apologies for the long message.", "I'm at work so can't call.", "The website keeps timing out.",
    "I'm new to all this.", "Following up on my earlier message.", "Before the weekend if possible.",
]
# what people say around a request to an assistant (a support desk's CONTEXT would read oddly there)
ASSISTANT_CONTEXT = [
    "quick one:", "before I forget,", "ok so", "one more thing:", "while I remember,", "for later:", "hey,",
    "not sure you can do this but", "I'm heading out soon,", "so,", "random question,", "when you get a sec,",
    "I was wondering,", "right,", "real quick,", "need a favour:", "ok last thing,", "I'm in the car,",
    "I'm thinking about it,", "it's been a long day,", "can you help,", "my hands are full,",
]
AFTERTHOUGHTS = ["Thanks for your help.", "Please get back to me asap.", "This is really frustrating.",
                 "Let me know if you need anything else.", "I can be reached any time.", "Hope that makes sense.",
                 "Is that possible?", "Any help appreciated.", "Sorry for the trouble.", "Please hurry.",
                 "Not happy about this at all.", "Thanks a lot.", "Appreciate the quick reply."]
ANGRY = ["This is ridiculous.", "Absolutely unacceptable!", "I'm so fed up with this.", "Sort it out!!",
         "Worst service ever.", "I've had enough.", "Why is this so hard???", "Seriously?!", "Unbelievable."]
NON_NATIVE = ["Please I want to {x}", "Kindly {x}", "I am requesting to {x}", "Sir, {x}", "Please do the needful, {x}",
              "I want that you {x}", "Kindly assist: {x}", "Dear, {x}"]
POLITE = ["Could you please help me? {x}", "Would it be possible to help with this: {x}", "{x}, if you don't mind",
          "I'd be grateful for your help. {x}", "Sorry to bother you, {x}", "Please could you help, {x}"]
TEXTING = [(r"\byou\b", "u"), (r"\byour\b", "ur"), (r"\bplease\b", "pls"), (r"\bthanks\b", "thx"), (r"\bare\b", "r"),
           (r"\bbecause\b", "cos"), (r"\btomorrow\b", "tmrw"), (r"\btoday\b", "2day"), (r"\bI'm\b", "im"),
           (r"\bdon't\b", "dont"), (r"\bcan't\b", "cant"), (r"\bwhat\b", "wat"), (r"\bmessage\b", "msg"),
           (r"\bbalance\b", "bal"), (r"\baccount\b", "acct"), (r"\bcheck\b", "chk"), (r"\btransfer\b", "xfer"),
           (r"\bnumber\b", "no."), (r"\bpayment\b", "pymt"), (r"\bwith\b", "w/"), (r"\binformation\b", "info"),
           (r"\bminutes\b", "mins"), (r"\bas soon as possible\b", "asap"), (r"\bthough\b", "tho")]
FUNCTION_WORDS = {"i", "my", "me", "the", "a", "an", "to", "please", "can", "could", "you", "would", "like", "want",
                  "is", "it", "that", "for", "of", "do", "how", "i'd", "i'm", "just", "so", "and", "with", "on"}
REGISTERS = ["plain", "plain", "terse", "polite", "angry", "rambling", "shouting", "lower", "texting", "typos",
             "email", "non_native", "context"]


def person_name(rng) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def typo(rng, word: str) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == 1:
        return word[:i] + word[i + 1:]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeiourstn") + word[i + 1:]


def _map_plain(segments, fn):
    """Apply fn to the text of the segments that are not entity values."""
    return [(fn(text) if kind is None else text, kind) for text, kind in segments]


def _map_all(segments, fn):
    return [(fn(text), kind) for text, kind in segments]


def noisy(rng, segments, rate: float):
    def words(text):
        return " ".join(typo(rng, w) if rng.random() < rate else w for w in text.split(" "))
    return _map_plain(segments, words)


def _terse(segments):
    """Keywords only ("lost debit card"): function words go, the spaces between pieces stay."""
    def keep(text):
        kept = [w for w in text.split() if w.lower().strip(",.!?") not in FUNCTION_WORDS]
        lead = " " if text[:1].isspace() else ""
        trail = " " if text[-1:].isspace() else ""
        return lead + " ".join(kept) + trail if kept else (" " if text.strip() != text or not text else "")
    out = _map_plain(segments, keep)
    return [(t, k) for t, k in out if t or k]


def _texting(segments):
    def sub(text):
        for pattern, short in TEXTING:
            text = re.sub(pattern, short, text, flags=re.I)
        return text.lower()
    out = _map_plain(segments, sub)
    return _map_all(out, str.lower)


def _frame(rng, segments, templates):
    """Put the message inside a template around {x}: text before and after, as plain segments."""
    before, _, after = rng.choice(templates).partition("{x}")
    return ([(before, None)] if before else []) + segments + ([(after, None)] if after else [])


def _lowercase_first(segments):
    if segments and segments[0][1] is None and segments[0][0][:1].isupper() and segments[0][0][1:2].islower():
        text = segments[0][0]
        return [(text[0].lower() + text[1:], None)] + segments[1:]
    return segments


def dress(rng, segments, temperature: float = 0.9, register: str | None = None, sign_name: bool = True,
          context: list[str] = CONTEXT):
    """One message in one register (drawn when not given); returns (segments, register). Context
    sentences (the "context" and "rambling" registers) are drawn from `context`."""
    register = register or rng.choice(REGISTERS)
    if register == "terse":
        segments = _terse(segments)
    elif register == "polite":
        segments = _frame(rng, _lowercase_first(segments), POLITE)
    elif register == "non_native":
        segments = _frame(rng, _lowercase_first(segments), NON_NATIVE)
    elif register == "angry":
        segments = segments + [(" " + rng.choice(ANGRY), None)]
        if rng.random() < 0.5:
            segments = _map_plain(segments, lambda t: t.replace(".", "!"))
    elif register in ("rambling", "context"):
        segments = [(rng.choice(context) + " ", None)] + segments
        if register == "rambling":
            segments = [(rng.choice(context) + " ", None)] + segments + [(". " + rng.choice(AFTERTHOUGHTS), None)]
    elif register == "email":
        greeting = rng.choice([g for g in GREETINGS if g.endswith(",")])
        closing = rng.choice(["Kind regards", "Best regards", "Regards", "Thanks", "Many thanks", "Sincerely"])
        segments = [(greeting + "\n\n", None)] + segments + [(".\n\n" + closing + ",\n", None)]
        if sign_name:
            segments.append((person_name(rng), "PERSON"))
    noise = {"typos": 0.18, "texting": 0.05}.get(register, 0.04) * temperature
    segments = noisy(rng, segments, noise)
    if register == "texting":
        segments = _texting(segments)
    elif register == "shouting":
        segments = _map_all(segments, str.upper)
    elif register == "lower":
        segments = _map_all(_map_plain(segments, lambda t: re.sub(r"[.,!?;:]", "", t)), str.lower)
    if register not in ("email",) and rng.random() < 0.25:
        segments = [(rng.choice(GREETINGS) + " ", None)] + segments
    if register not in ("email", "terse") and rng.random() < 0.2:
        segments = segments + [(" " + rng.choice(SIGN_OFFS), None)]
    return segments, register


def join(segments) -> tuple[str, list[dict]]:
    """The text and its spans (start, end, type, text); whitespace runs inside plain text collapse."""
    text, spans = "", []
    for piece, kind in segments:
        if kind is None:
            piece = re.sub(r"[ \t]+", " ", piece)
            if text.endswith((" ", "\n")) and piece.startswith(" "):
                piece = piece.lstrip(" ")
        if kind is not None:
            spans.append({"start": len(text), "end": len(text) + len(piece), "type": kind, "text": piece})
        text += piece
    stripped = text.strip()
    shift = len(text) - len(text.lstrip())
    spans = [{**s, "start": s["start"] - shift, "end": s["end"] - shift} for s in spans]
    return stripped, spans
