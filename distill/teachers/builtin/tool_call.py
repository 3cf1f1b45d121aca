"""Built-in teacher for tool calling: requests from each tool's phrasings, every argument written
the way people say it — dates as "next Friday" or "Dec 3", durations as "an hour and a half",
amounts as "50 bucks", enum values by their synonyms, booleans in words — with values drawn from
the Recipe's examples and, about half the time, from what the teacher knows (lexicon.py), then
dressed in a register (voice.py). The target is the typed call the API takes (read from those
words by tasks/normalise.py, so the two always agree) plus the words each argument came from.
The "none" shard holds chit-chat and requests for capabilities the catalog does not have.
"""
import datetime as dt
import functools
import re
from collections.abc import Set

from ...tasks.common import parse_phrasing
from ...tasks.normalise import TEMPERATURE_SCALES, enum_values, in_scale
from ...tasks.normalise import value as normalised_value
from ...tasks.shortlist import stem, words
from ...tasks.tool_call import TEACHING_TODAY
from . import plan_rng
from .lexicon import CITIES, COMPANIES, COUNTRIES, FIRST_NAMES, LAST_NAMES, MONTHS, MONTHS_SHORT, WEEKDAYS
from .values import map_address
from .voice import ASSISTANT_CONTEXT, dress, join

VERSION = 13  # 4: typed values in people's words, unlisted values, no-call requests, registers; 5: cues;
#             6: out-of-catalog actions as verb x object combinations; 7: quoted values, to-do items,
#             no-call requests carrying dates and times, an assistant's context sentences; 8: no-call
#             questions of fact, games, trading and social requests; 9: near misses that slot-only
#             phrasings used to veto ("book a flight to Denver"), alarms, removing from a list, and
#             families the catalog's names or descriptions say it serves are skipped; 10: bookings and
#             money requests checked one by one ("book a haircut" beside a table-booking tool);
#             11: where the Recipe lists a street address, unlisted values are street addresses too;
#             12: small talk put together from parts; a request's verb names a tool only as a tool's
#             verb, and generic verbs none ("text Jake that...", "send 20 dollars"); cars, pairing,
#             tickets, apps and health requests; 13: changes checked against what the catalog's tool
#             for that verb acts on ("cancel the reminder about the dentist" beside cancel_meeting),
#             tickets and apps one request at a time, emails and bookings changed

# ---------------------------------------------------------------- how people write typed values


def date_words(rng, today: dt.date) -> str:
    day = today + dt.timedelta(days=rng.randint(0, 120))
    suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}.get(day.day, "th")
    weekday = WEEKDAYS[rng.randrange(7)]
    return rng.choice(["today", "tomorrow", "tomorrow", "tmrw", weekday, weekday.lower(), f"on {weekday}",
                       f"next {weekday}", f"this {weekday}", f"{MONTHS[day.month - 1]} {day.day}",
                       f"{MONTHS_SHORT[day.month - 1]} {day.day}{suffix}", f"{day.day}{suffix} of {MONTHS[day.month - 1]}",
                       f"the {day.day}{suffix}", f"{day.day} {MONTHS[day.month - 1]}", day.isoformat(),
                       f"in {rng.randint(2, 9)} days", f"{MONTHS[day.month - 1].lower()} {day.day}{suffix}"])


def time_words(rng) -> str:
    hour, minute = rng.randint(1, 12), rng.choice([0, 0, 0, 15, 30, 45])
    clock = f"{hour}:{minute:02d}" if minute else str(hour)
    return rng.choice([f"{clock}pm", f"{clock} pm", f"{clock}am", f"{clock} am", f"{hour + 12 if hour < 12 else hour}:{minute:02d}",
                       "noon", "midday", f"{clock} in the evening" if hour < 12 else "noon", f"{clock} in the morning",
                       f"{clock}PM", f"{hour}:{minute:02d}", f"{clock} tonight" if 5 <= hour <= 11 else f"{clock}pm"])


def duration_words(rng, low: int, high: int) -> str:
    minutes = rng.choice([rng.randint(low, min(high, 60)), rng.choice([5, 10, 15, 20, 25, 30, 45, 60, 90, 120])])
    hours = minutes // 60
    options = [f"{minutes} minutes", f"{minutes} min", f"{minutes} mins", f"{minutes}m"]
    if minutes == 30:
        options += ["half an hour", "30 minutes"]
    if minutes == 60:
        options += ["an hour", "one hour", "1 hour", "60 minutes"]
    if minutes == 90:
        options += ["an hour and a half", "1.5 hours", "90 mins", "1h30"]
    if minutes % 60 == 0 and hours > 1:
        options += [f"{hours} hours", f"{_word(hours)} hours"]
    if minutes <= 20:
        options += [f"{_word(minutes)} minutes"]
    return rng.choice(options)


def temperature_words(rng, param: dict) -> str:
    """A temperature as people write it: in the parameter's scale, bare or marked ("21C", "21
    degrees"), or in the other one ("70F" for celsius), which the call converts."""
    said = number_words(rng, param)
    if not said.isdigit():
        return said
    scale, degrees = param["unit"], int(said)
    if rng.random() < 0.3:
        scale = next(other for other in TEMPERATURE_SCALES if other != scale)
        degrees = round(in_scale(degrees, scale))
    letter = scale[0].upper()
    return rng.choice([f"{degrees}", f"{degrees} degrees", f"{degrees}{letter}", f"{degrees} {letter}", f"{degrees}°{letter}",
                       f"{degrees} degrees {scale}", f"{degrees} {scale}"])


NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]


def _word(n: int) -> str:
    return NUMBER_WORDS[n] if n < len(NUMBER_WORDS) else str(n)


def number_words(rng, param: dict) -> str:
    low, high = param.get("minimum", 1), param.get("maximum", 100)
    integer = param["type"] == "integer"
    low = int(max(low, 1 if low >= 0 else low))
    small = rng.random() < 0.6  # people ask for 2 tickets more often than for 87; a range from 50 up has no "small"
    value = rng.randint(low, int(min(high, max(low, 50)) if small and low < 50 else high))
    if not integer and rng.random() < 0.3:
        value = round(rng.uniform(max(low, 1), min(high, 2000)), 2)
    if integer and value <= 12 and rng.random() < 0.35:
        return _word(value)
    if value >= 1000 and rng.random() < 0.5:
        return f"{value:,}"
    return str(value)


URL_SITES = ["nytimes.com", "bbc.co.uk/news", "github.com", "wikipedia.org", "reddit.com/r/cooking", "espn.com",
             "weather.com", "youtube.com", "gov.uk/passport", "amazon.com/orders", "news.ycombinator.com",
             "docs.python.org/3", "maps.google.com", "linkedin.com/in/me", "example.org/login", "theguardian.com"]

TRUE_WORDS = {"urgent": ["urgent", "as urgent", "high priority", "urgently", "important"],
              "shuffle": ["on shuffle", "shuffled", "with shuffle on", "shuffle on", "in random order"]}
FALSE_WORDS = {"urgent": ["not urgent", "low priority", "no rush"],
               "shuffle": ["shuffle off", "without shuffle", "in order", "no shuffle"]}

# values the teacher knows for common parameter names, beyond a Recipe's lists
FRESH = {
    "city": CITIES, "place": CITIES, "location": CITIES,
    "room": ["attic", "loft", "den", "study", "guest room", "kids room", "laundry room", "conservatory", "porch",
             "master bedroom", "upstairs bathroom", "back garden", "home office", "playroom"],
    "dish": ["ramen", "falafel", "a veggie burger", "lasagna", "fish and chips", "chicken shawarma", "dumplings",
             "a caesar salad", "poke", "tacos al pastor", "butter chicken", "a calzone", "bibimbap", "nachos",
             "crème brûlée", "jalapeño poppers", "an açaí bowl", "phở bò", "bánh xèo", "paella", "pierogi",
             "spring rolls", "smørrebrød", "two large pepperoni pizzas", "a döner kebab"],
    # restaurants are often named after places: "Istanbul Grill" is not a forecast for Istanbul
    "restaurant": ["Golden Dragon", "Mama Rosa's", "The Curry House", "Burger Barn", "El Toro", "Noodle Bar",
                   "Sushi Zen", "Pizza Express", "Nando's", "Wagamama", "Five Guys", "Taco Bell",
                   "Istanbul Grill", "Bombay Palace", "Little Lisbon", "Hanoi Kitchen", "Cafe Roma",
                   "Texas Smokehouse", "Peking Garden", "Napoli Pizzeria", "Seoul Food", "Casa México"],
    "title": ["call with the accountant", "dinner at Marco's", "kids' soccer practice", "team retro", "car service",
              "vet appointment", "interview with Acme", "book club", "date night", "quarterly planning"],
    "subject": ["the lease renewal", "tomorrow's meeting", "my invoice", "holiday plans", "the broken boiler",
                "weekend schedule", "our contract", "the school trip", "budget for Q3", "feedback on the draft"],
    "text": ["buy a birthday card", "renew the car insurance", "email the landlord", "book a haircut", "return the library books",
             "feed the fish", "move the car", "call grandma", "cancel the gym membership", "submit my timesheet"],
    "query": ["best pizza near me", "how to tie a tie", "cheap flights to Lisbon", "weather radar", "remote jobs in Berlin",
              "banana bread recipe", "how tall is the Eiffel Tower", "symptoms of flu", "used cars under 5000"],
    "destination": ["the train station", "the nearest gas station", "downtown", "the mall", "Union Station",
                    "the beach", "my gym", "the hospital", "JFK airport", "the closest Starbucks", "Main Street",
                    "walmart", "ikea", "trader joe's", "home depot", "the apple store", "whole foods", "target"],
    "label": ["laundry", "pasta", "oven", "tea", "meditation", "study break", "parking", "pizza", "kids"],
    "to": FIRST_NAMES[:40] + [f"{first.lower()}.{last.lower()}@example.com" for first, last in
                              zip(FIRST_NAMES[40:60], LAST_NAMES[40:60])] + ["my boss", "HR", "the team"],
    "ticker": ["AMD", "ORCL", "PYPL", "UBER", "SHOP", "BABA", "JPM", "V", "WMT", "PFE", "XOM", "CRM", "ADBE", "SBUX",
               "GE", "F", "T", "DIS", "NKE", "BRK.A", "BF.B"],
    "items": ["bananas", "toilet paper", "olive oil", "coffee beans", "yogurt", "rice", "tomatoes", "cat food",
              "light bulbs", "shampoo", "butter", "oat milk", "tortillas", "garlic"],
    "list_name": ["groceries", "camping list", "christmas list", "work to-do list", "costco list", "todo",
                  "chores list", "errands", "house list", "weekend to-dos"],
}
FRESH["company"] = COMPANIES
# a to-do list holds tasks, not only groceries ("add 'renew my passport' to the to-do list"):
# items of a request that names a list
LIST_TASKS = ["renew my passport", "clean the gutters", "pay the water bill", "mow the lawn", "book flu shots",
              "return the parcel", "water the plants", "back up the laptop", "sort the recycling", "wrap the presents"]
# where a parameter's name means different things in different tools
FRESH_BY_TOOL = {"play_music.query": ["Arctic Monkeys", "Beyoncé", "chill jazz", "Kendrick Lamar", "Adele", "90s rock",
                                      "Ludovico Einaudi", "The Beatles", "reggaeton", "Bad Bunny", "study music", "Coldplay",
                                      "Nina Simone", "Hans Zimmer", "country hits", "Queen", "Dua Lipa", "Vivaldi"]}


def lists_street_addresses(examples) -> bool:
    """The Recipe's own examples include a street address ("42 Elm Street"): so do people's values."""
    return any(re.match(r"\d+\w* [A-Z][a-z]+ [A-Z][a-z]+", str(example)) for example in examples)


def string_words(rng, name: str, param: dict, tool: str = "") -> str:
    listed = param.get("examples") or []
    if lists_street_addresses(listed) and rng.random() < 0.25:
        return map_address(rng)
    fresh = FRESH_BY_TOOL.get(f"{tool}.{name}", FRESH.get(name))
    if fresh and (not listed or rng.random() < 0.5):
        return rng.choice(fresh)
    if listed:
        return rng.choice(listed)
    return rng.choice(fresh or [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"])


def words_for(rng, name: str, param: dict, tool: str = "", names_a_list: bool = False) -> tuple:
    """(the words a person writes, what goes into the call) for one argument."""
    kind = param["type"]
    if kind == "enum":
        member, synonyms = rng.choice(sorted(enum_values(param).items()))  # the key sorts mappings too
        return rng.choice([member, member] + list(synonyms)), member
    if kind == "boolean":
        value = rng.random() < 0.6
        return rng.choice((TRUE_WORDS if value else FALSE_WORDS).get(name, [name] if value else [f"no {name}"])), value
    if kind == "array":
        pool = list(dict.fromkeys((param.get("examples") or []) + FRESH.get(name, [])
                                  + (LIST_TASKS if names_a_list and name == "items" else [])))
        items = rng.sample(pool, min(len(pool), rng.choice([1, 1, 2, 2, 3])))
        said = items[0] if len(items) == 1 else ", ".join(items[:-1]) + rng.choice([" and ", ", "]) + items[-1]
        return said, items
    if kind == "date":
        words_ = date_words(rng, TEACHING_TODAY)
    elif kind == "time":
        words_ = time_words(rng)
    elif kind == "datetime":
        words_ = f"{date_words(rng, TEACHING_TODAY)} at {time_words(rng)}"
    elif kind in ("integer", "number") and param.get("words") and rng.random() < 0.3:
        words_ = rng.choice(sorted(param["words"]))  # "halfway": the parameter's own word for 50
    elif kind in ("integer", "number") and param.get("unit") == "minutes":
        words_ = duration_words(rng, int(param.get("minimum", 1)), int(param.get("maximum", 240)))
    elif kind in ("integer", "number") and param.get("unit") in TEMPERATURE_SCALES:
        words_ = temperature_words(rng, param)
    elif kind in ("integer", "number"):
        words_ = number_words(rng, param)
    elif kind == "url":
        words_ = rng.choice(["", "", "www.", "https://"]) + rng.choice(URL_SITES)
    elif kind == "email":
        words_ = f"{rng.choice(FIRST_NAMES).lower()}.{rng.choice(LAST_NAMES).lower()}@example.com"
    else:
        words_ = string_words(rng, name, param, tool)
    value = normalised_value(param, words_, TEACHING_TODAY)
    return (words_, value) if value is not None and _fits(param, value) else words_for(rng, name, param, tool, names_a_list)


def _fits(param, value) -> bool:
    if param["type"] in ("integer", "number"):
        return param.get("minimum", float("-inf")) <= value <= param.get("maximum", float("inf"))
    return True


# ---------------------------------------------------------------- requests no tool serves

# What assistants are asked that a catalog may not serve: an action on a thing, each written
# several ways. Combined with people, places and numbers they give thousands of distinct requests,
# many of them near misses of real tools ("turn on the fan" beside control_lights).
OTHER_ACTIONS = {
    "switch": (["turn on {gadget}", "turn off {gadget}", "switch {gadget} on", "can you switch off {gadget}",
                "{gadget} off please", "enable {gadget}", "disable {gadget}", "start {gadget}"],
               ["bluetooth", "the wifi", "the TV", "the fan", "do not disturb", "airplane mode", "the robot vacuum",
                "the dishwasher", "the coffee maker", "the sprinklers", "the alarm system", "the washing machine",
                "the hotspot", "location services", "the air purifier", "the oven"]),
    "message": (["text {person} that {news}", "call {person}", "message {person}: {news}", "facetime {person}",
                 "tell {person} {news}", "send a whatsapp to {person} saying {news}", "ring {person}",
                 "leave {person} a voicemail"],
                ["I'm running late", "I'll be there in {a} minutes", "dinner is ready", "the meeting moved",
                 "I landed", "happy birthday", "call me back", "I'm {a} minutes behind", "I'll call in an hour"]),
    "money": (["venmo {person} {a} bucks for {thing}", "pay {person} back {a} dollars", "send {a} dollars to {person}",
               "pay my {bill}", "what's my bank balance", "transfer {a} to my savings", "split the bill with {person}",
               "how much did I spend on {thing} this month"],
              ["pizza", "rent", "gas", "groceries", "the concert tickets", "coffee"]),
    "book": (["book {booking}", "book me {booking}", "reserve {booking}", "can you get me {booking}", "I need {booking}",
              "find me {booking}"],
             ["a flight to {city}", "a hotel in {city}", "a table for two at {restaurant}", "a rental car",
              "train tickets to {city}", "an uber to the airport", "a haircut on saturday", "tickets for the game"]),
    "change": (["cancel {existing}", "delete {existing}", "move {existing} to friday", "reschedule {existing}",
                "what time is {existing}", "snooze {existing}", "edit {existing}"],
               ["my dentist appointment", "the reminder about the dentist", "my last reminder", "the 3pm meeting",
                "my alarm", "my food order", "the timer", "tomorrow's standup meeting", "that email from {person}",
                "the last email I got", "my hotel booking", "the haircut on saturday"]),
    "unlist": (["remove {item} from {list}", "take {item} off {list}", "cross {item} off {list}",
                "delete {item} from {list}", "clear {list}", "empty {list}"], None),
    "device": (["turn up the volume", "pause the music", "skip this song", "take a selfie", "find my phone",
                "read my messages", "unlock the front door", "lock the car", "open the garage door",
                "record a voice memo", "share my location with {person}", "take a screenshot", "charge the car",
                "what's my battery at", "restart my phone"], None),
    "alarm": (["wake me up at {clock}", "alarm for {clock}", "I need an alarm at {clock}", "set an alarm for {clock}"],
              None),
    "ask": (["what time is it", "what's {a} times {b}", "what's {a} plus {b}", "how do you spell {word}",
             "what's the date today", "rate this app", "what can you do", "what's on my calendar today",
             "call an ambulance", "who are you"], None),
    "facts": (["what's the capital of {country}", "who wrote {book}", "how many calories are in {food}",
               "what does {word} mean", "when was {company} founded", "who won {contest}", "how tall is {landmark}",
               "is {food} good for you", "how old is {landmark}", "why is the sky blue"], None),
    "games": (["flip a coin", "roll a die", "roll two dice", "pick a number between 1 and {a}", "heads or tails",
               "let's play {game}", "give me a riddle", "rock paper scissors", "tell me a fun fact"], None),
    "finance": (["buy {a} shares of {company}", "sell {a} shares of {company}", "what's my credit score",
                 "open a savings account", "apply for a credit card", "how much do I owe on my card",
                 "is {company} a good investment"], None),
    "car": (["start the car", "warm up the car", "where did I park", "how much charge does the car have",
             "honk the horn", "is the car locked", "preheat the car"], None),
    "pair": (["connect my {device}", "pair my {device}", "disconnect my {device}", "check my {device} connection",
              "why won't my {device} connect"], ["bluetooth headphones", "airpods", "smartwatch", "speaker", "earbuds",
                                                  "printer", "keyboard"]),
    "tickets": (["get me tickets for {event}", "buy two tickets to {event}", "are there tickets left for {event}",
                 "how much are tickets for {event}"], ["the Lakers game", "Hamilton", "the Coldplay concert",
                                                      "the 7:30 showing of Dune", "the museum", "the match on Saturday"]),
    "apps": (["download {app}", "update my apps", "uninstall {app}", "install {app}", "log me out of {app}",
              "clear the cache of {app}"], ["TikTok", "Duolingo", "Zoom", "WhatsApp", "Candy Crush", "Strava"]),
    "health": (["how many steps did I take today", "log {a} glasses of water", "track my sleep tonight",
                "what was my heart rate this morning", "start a {a} minute meditation", "how active was I today"],
               None),
    "social": (["post this photo to instagram", "like {person}'s last post", "follow {person} on tiktok",
                "tweet that {news}", "who viewed my profile", "update my facebook status"],
               ["I'm running late", "dinner is ready", "I landed", "happy birthday"]),
}
# A family a tool of the catalog would serve is not "no call" there: questions of fact go to a
# search tool, "wake me up at 7" to an alarm tool, when the catalog has one (one of these words in
# its tool names or descriptions).
SERVED_BY = {"facts": {"search", "lookup", "wiki", "answer"},
             "message": {"message", "messaging", "sms", "call", "phone", "whatsapp", "voicemail", "facetime"},
             "alarm": {"alarm", "wake"},
             "social": {"post", "social", "instagram", "facebook", "tweet", "twitter", "tiktok", "profile"},
             "finance": {"invest", "investment", "trade", "trading", "broker", "portfolio", "sell"},
             "switch": {"appliance", "device", "gadget", "plug", "power"},
             "pair": {"bluetooth", "pair"},
             "health": {"fitness", "steps", "sleep", "heart"}}
# Families only a tool named for them serves: a description's "train tickets" or "notes app" serves
# no "tickets for the Lakers game" or "download TikTok" (those are checked one by one, BY_REQUEST).
NAMED_BY = {"tickets": {"ticket"}, "apps": {"app", "install"}}
# Small talk, put together from parts so that no few dozen sentences stand for all of it: a model
# that learnt "hello" and "thanks!" still calls a tool for "sorry, wrong button".
SMALL_TALK = {
    "greet": (["{hello}", "{hello}!", "{hello} there", "{hello}, {assistant}", "{bye}", "{bye}, {assistant}"], None),
    "react": (["{reaction}", "{reaction}!", "{reaction}, {reaction}", "{reaction}, {thanks}", "{thanks}",
               "{thanks}, {assistant}", "{oops}", "{oops}, {never_mind}", "{never_mind}"], None),
    "meta": (["what can you do", "what are all the things you can help me with", "who made you", "are you a robot",
              "are you a real person", "are you listening", "can you hear me", "do you ever get tired of {chores}",
              "what's your favourite {topic}", "do you like {topic}", "how old are you", "how do you work",
              "what's your name", "do you dream", "are you smarter than {person}", "do you have feelings"], None),
    "feel": (["I'm {feeling}", "I feel {feeling} today", "I had a {judgement} day", "today was {judgement}",
              "ugh, {judgement} day at work", "we're going on vacation tomorrow", "it's my birthday today",
              "my {relative} is visiting this weekend", "I can't sleep", "I passed my driving test",
              "I just got a new puppy", "{person} and I broke up"], None),
    "chat": (["tell me a joke", "say something funny", "sing me a song", "tell me a story", "let's chat",
              "talk to me", "I'm bored", "entertain me", "give me a compliment", "cheer me up", "motivate me",
              "what's the meaning of life", "what do you think about {topic}", "is {topic} overrated",
              "would you rather have {topic} or {topic}"], None),
}
TALK_FILLERS = {
    "hello": ["hello", "hi", "hey", "hiya", "yo", "good morning", "good afternoon", "good evening", "howdy", "heyyy",
              "hey hey", "morning"],
    "bye": ["bye", "good night", "see you later", "talk later", "that's all", "that's it for now", "goodbye", "night"],
    "assistant": ["assistant", "buddy", "my friend", "you", "robot", "pal"],
    "reaction": ["ok", "okay", "cool", "nice", "great", "perfect", "awesome", "lol", "haha", "hmm", "wow", "got it",
                 "fine", "sure", "whatever", "interesting", "oh really", "no way", "yes", "no", "not now"],
    "thanks": ["thanks", "thank you", "thank you so much", "cheers", "thx", "ty", "much appreciated",
               "thanks, that's all"],
    "oops": ["sorry", "oops", "my bad", "sorry, wrong button", "ignore that", "I didn't mean to press that",
             "didn't mean to say that", "that was a mistake"],
    "never_mind": ["never mind", "forget it", "forget I asked", "cancel that", "stop", "no thanks", "scratch that"],
    "chores": ["answering questions", "people asking you stuff", "working", "being polite"],
    "topic": ["pizza", "music", "cats", "dogs", "summer", "movies", "chocolate", "football", "coffee", "the weekend",
              "pineapple on pizza", "mondays"],
    "feeling": ["bored", "tired", "so happy", "sad", "stressed out", "hungry", "lonely", "excited", "exhausted",
                "in a great mood"],
    "judgement": ["rough", "great", "long", "terrible", "weird", "good", "crazy", "boring"],
    "relative": ["mum", "mom", "dad", "sister", "brother", "grandma", "aunt", "cousin"],
}


def small_talk(rng) -> str:
    """A line of small talk: a greeting, a reaction, a question about the assistant, a feeling."""
    text = rng.choice(SMALL_TALK[rng.choice(sorted(SMALL_TALK))][0])
    while "{" in text:
        slot = text[text.index("{") + 1:text.index("}")]
        text = text.replace("{" + slot + "}", rng.choice(FIRST_NAMES if slot == "person" else TALK_FILLERS[slot]), 1)
    return text


# Fillers of no_call_words' shapes; None: filled from the family's own objects (OTHER_ACTIONS).
FILLERS = {"gadget": None, "news": None, "device": None, "event": None, "app": None,
           "thing": ["pizza", "rent", "gas", "groceries", "coffee", "lunch"],
           "bill": ["credit card bill", "phone bill", "electric bill", "water bill", "internet bill"],
           "booking": None, "existing": None, "word": ["necessary", "rhythm", "Wednesday", "bureaucracy", "onomatopoeia"],
           "book": ["Pride and Prejudice", "the Hobbit", "1984", "Dune", "Beloved", "the Odyssey"],
           "food": ["an avocado", "a banana", "a Big Mac", "oatmeal", "a glass of wine", "dark chocolate"],
           "contest": ["the World Cup", "the Super Bowl", "the last election", "Eurovision", "the Oscars"],
           "landmark": ["the Eiffel Tower", "Mount Everest", "the Burj Khalifa", "Big Ben", "the Statue of Liberty"],
           "game": ["trivia", "20 questions", "hangman", "tic tac toe", "would you rather"],
           "item": ["eggs", "milk", "bread", "batteries", "paper towels", "call the plumber", "the dentist"],
           "list": ["my shopping list", "the grocery list", "my to-do list", "the packing list", "my list"]}
# Families that change what exists: only their verb is checked against the tool names, and then
# their object against what the tools with that verb act on (no_call_words).
CHANGE_FAMILIES = {"change", "unlist"}
# Verbs that start tools of every kind: "send 20 dollars to Sam" is no call beside send_email, "let's
# play trivia" beside play_music. Whether a booking or a payment is served is asked of its object.
GENERIC_VERBS = {"get", "set", "send", "open", "find", "show", "make", "create", "add", "play", "book", "start"}
# Families whose requests differ by what they ask for: beside a tool that books tables, "book a
# haircut" is still no call and "book a table" is not; beside one that books train tickets, "tickets
# for the Lakers game" is still no call. A request of these is skipped when its object (a booking, an
# event, an app) or its words, or what they stand for ("uber" for a ride-share tool), are in the
# catalog's names or descriptions.
BY_REQUEST = {"book", "money", "tickets", "apps"}
OBJECT_SLOTS = ("booking", "event", "app")
STANDS_FOR = {"uber": "ride", "lyft": "ride", "taxi": "ride", "cab": "ride", "venmo": "money", "paypal": "money",
              "zelle": "money", "bucks": "money", "dollars": "money", "pay": "money", "transfer": "money",
              "savings": "account", "bank": "account"}


def served_request(asked: str, catalog_words: frozenset) -> bool:
    """Whether what a request asks for (a booking, or its whole text) is in the catalog's words."""
    said = words(asked)
    return bool(({stem(w) for w in said + [STANDS_FOR[w] for w in said if w in STANDS_FOR]} - GENERIC_VERBS) & catalog_words)


@functools.lru_cache(maxsize=8)  # one catalog per Mash, asked for every no-call request
def catalog_vocabulary(tool_names: tuple[str, ...], descriptions: tuple[str, ...]) -> tuple[frozenset, frozenset, frozenset]:
    """The stems of the tool names, of the names and descriptions together, and the families the
    catalog serves (SERVED_BY, NAMED_BY). One-letter pieces ("user's" gives "s") are no words of a description."""
    tool_words = frozenset(stem(w) for name in tool_names for w in words(name))
    catalog_words = tool_words | {stem(w) for text in descriptions for w in words(text) if len(w) > 1}
    served = frozenset(family for family, cues in SERVED_BY.items() if {stem(w) for w in cues} & catalog_words)
    served |= {family for family, cues in NAMED_BY.items() if {stem(w) for w in cues} & tool_words}
    return tool_words, catalog_words, served


@functools.lru_cache(maxsize=8)
def tool_objects(tool_names: tuple[str, ...]) -> dict[str, frozenset]:
    """Each tool's verb (the word its own name starts with after its namespace: "cancel" of
    office.cancel_meeting) and what the tools starting with it act on: {"cancel": {"meet"}}."""
    objects = {}
    for name in tool_names:
        said = [stem(w) for w in words(name.rsplit(".", 1)[-1])]
        if said:
            objects.setdefault(said[0], set()).update(said[1:])
    return {verb: frozenset(acted_on) for verb, acted_on in objects.items()}


def changes_what_a_tool_acts_on(text: str, verb: str, acted_on: dict[str, frozenset]) -> bool:
    """Whether a change ("cancel the 3pm meeting") is one a tool with that verb makes: beside
    cancel_meeting, "cancel the reminder about the dentist" is no call (unless a phrasing of the
    catalog could have written it). A verb no tool starts with keeps names_a_tool's answer."""
    verb = stem(verb)
    return verb not in acted_on or bool(({stem(w) for w in words(text)} - {verb}) & acted_on[verb])


def names_a_tool(text: str, verb: str, tool_words: frozenset, verbs: Set[str]) -> bool:
    """Whether a request's words name one of the catalog's tools. The request's own verb counts only
    as a tool's verb ("text Jake" names no translate_text, "lock the car" does name lock_door), and
    verbs that start tools of every kind (GENERIC_VERBS) name none by themselves."""
    said = {stem(w) for w in words(text)}
    verb = stem(verb)
    shared = ((said - {verb}) & tool_words) | ({verb} & verbs)
    return bool(shared - GENERIC_VERBS)


def no_call_words(rng, tool_names: list[str], phrasings: list[str] = (), descriptions: list[str] = ()) -> str:
    """A request none of this catalog's tools serves: families the catalog serves (its names and
    descriptions say so), actions whose words name a tool, and requests one of the catalog's
    phrasings could have written are skipped."""
    tool_words, catalog_words, served_families = catalog_vocabulary(tuple(tool_names), tuple(descriptions))
    acted_on = tool_objects(tuple(tool_names))
    verbs = acted_on.keys()
    shapes_of_tools, lead_words = catalog_shapes(tuple(phrasings))
    if rng.random() < 0.15:  # small talk is learnt from few examples; near misses need many
        return small_talk(rng)
    for _ in range(20):
        family = rng.choice(sorted(OTHER_ACTIONS))
        if family in served_families:
            continue
        shapes, objects = OTHER_ACTIONS[family]
        text = shape = rng.choice(shapes)
        chosen = {}
        for slot in (name for name, pool in FILLERS.items() if pool is None):
            if "{" + slot + "}" in text:
                chosen[slot] = rng.choice(objects)
                text = text.replace("{" + slot + "}", chosen[slot])
        fillers = {name: rng.choice(pool) for name, pool in FILLERS.items() if pool}
        text = text.format(city=rng.choice(CITIES), person=rng.choice(FIRST_NAMES), a=rng.randint(2, 99),
                           b=rng.randint(2, 99), restaurant=rng.choice(FRESH["restaurant"]),
                           country=rng.choice(COUNTRIES), company=rng.choice(COMPANIES), clock=time_words(rng),
                           **fillers)
        # changing what exists (cancel, delete, move) is no call even when it names a tool's
        # object ("delete the reminder"), unless the catalog has a tool for that verb and that object
        checked = shape.split("{")[0] if family in CHANGE_FAMILIES else text
        verb = re.match(r"[a-z]*", shape.lower()).group()  # its first word, said first: "text {person} ..."
        served = names_a_tool(checked, verb, tool_words, verbs)
        if served and family in CHANGE_FAMILIES:
            served = changes_what_a_tool_acts_on(text, verb, acted_on)
        if served or any(p.fullmatch(unframed(text)) for p in shapes_of_tools):
            continue
        asked = next((chosen[slot] for slot in OBJECT_SLOTS if slot in chosen), text)
        if family in BY_REQUEST and served_request(asked, catalog_words):
            continue
        # a date after a verb the catalog's phrasings start with reads as that tool ("book X for Friday")
        if family in WHEN_FAMILIES and text.split()[0].lower() not in lead_words and rng.random() < 0.35:
            text += when_words(rng)
        return text
    return small_talk(rng)


@functools.lru_cache(maxsize=8)  # one catalog per Mash, asked for every no-call request
def catalog_shapes(phrasings: tuple[str, ...]) -> tuple[list[re.Pattern], set[str]]:
    """What the catalog's phrasings can write, and the words they start with. A phrasing made of
    slots and function words alone ("{amount} {from} to {to}") would match almost any request with a
    "to" in it ("book a flight to Denver"), so only phrasings with a word of their own count."""
    anchored = [p for p in phrasings if words(literal_text(parse_phrasing(p)))]
    return [phrasing_pattern(p) for p in anchored], {p.split()[0].lower() for p in phrasings if p[:1].isalpha()}


def literal_text(pieces) -> str:
    """The words a phrasing always writes, whatever fills its slots."""
    return " ".join(value for kind, value in pieces if kind == "text")


def phrasing_pattern(phrasing: str) -> re.Pattern:
    """What a phrasing can write, any words in its slots."""
    def pattern(pieces):
        return "".join(re.escape(v.lower()) if kind == "text" else ".+" if kind == "slot" else f"(?:{pattern(v)})?"
                       for kind, v in pieces)
    return re.compile(pattern(parse_phrasing(phrasing)).strip(), re.S)


def unframed(text: str) -> str:
    return re.sub(r"^(?:can you|could you|please|i need you to)\s+", "", text.lower().strip())


# Requests no tool serves carry dates and times too ("book a flight to Denver next Friday"): a date
# must not be read as a sign of the weather or the calendar.
WHEN_FAMILIES = {"switch", "message", "book", "change"}


def when_words(rng) -> str:
    day, clock = date_words(rng, TEACHING_TODAY), time_words(rng)
    return " " + rng.choice([day, day, f"at {clock}", f"{day} at {clock}"])


# ---------------------------------------------------------------- one planned example


def plan(tool: dict, seed: int, temperature: float, sample: int, item: int) -> dict:
    """Everything about one example, derived from where it sits in the Mash."""
    rng = plan_rng("tool_call", seed, tool["name"], sample, item)
    if tool["name"] == "none":
        request = no_call_words(rng, tool.get("tools", []), tool.get("phrasings", []), tool.get("descriptions", []))
        segments, _ = dress(rng, [(request, None)], temperature,
                            register=rng.choice(["plain", "plain", "lower", "polite", "texting", "typos", "shouting"]),
                            sign_name=False)
        text, _ = join(segments)
        return {"text": text, "phrasing": "none", "target": {"name": None}}
    index = rng.randrange(len(tool["phrasings"]))
    said, segments = [], []  # (parameter, typed value) per slot, in order

    def render(pieces):
        for kind, value in pieces:
            if kind == "text":
                segments.append((_without_unit(value) if said_a_word() else value, None))
            elif kind == "slot":
                param = tool["parameters"][value]
                words_, typed = words_for(rng, value, param, tool["name"], names_a_list)
                said.append((value, typed))
                said_words = (", ".join(words_) if isinstance(words_, list) else words_, value)
                quote = quote_mark(rng, param, typed)
                segments.extend([(quote, None), said_words, (quote, None)] if quote else [said_words])
            elif rng.random() < 0.5:  # optional segment: include its arguments half the time
                render(value)

    def said_a_word():  # the last slot was a number said as one of its words: "blinds halfway", not "halfway percent"
        return bool(segments) and segments[-1][1] is not None and segments[-1][0] in tool["parameters"][segments[-1][1]].get("words", {})

    names_a_list = "list" in tool["phrasings"][index].lower()
    render(parse_phrasing(tool["phrasings"][index]))
    segments, _ = dress(rng, segments, temperature, register=rng.choice(
        ["plain", "plain", "plain", "terse", "polite", "lower", "texting", "typos", "context", "non_native", "shouting"]),
        sign_name=False, context=ASSISTANT_CONTEXT)
    text, _ = join(segments)
    if rng.random() < 0.3 and text[-1:].isalnum():
        text += rng.choice(["?", ".", "!", " please", " thanks"])
    target = typed_call(tool, said, [piece for piece, kind in segments if kind is not None])
    return {"text": text, "phrasing": f"{tool['name']}#{index}", "target": target}


def _without_unit(text: str) -> str:
    """Text after a number said as a word, without the unit the phrasing puts after digits."""
    return re.sub(r"^\s*(?:%|percent\b|per cent\b)", "", text)


def quote_mark(rng, param: dict, typed) -> str:
    """People sometimes quote a free value ("add 'fix the fence' to my list"); the value is what is inside."""
    free = param["type"] == "string" or (param["type"] == "array" and len(typed) == 1)
    return rng.choice(["'", '"']) if free and rng.random() < 0.1 else ""


def typed_call(tool: dict, said: list, final_words: list[str]) -> dict:
    """The call and the words each argument was read from, as the words stand in the final text (a
    register may have changed their case: "LISBON" is what a shouting user typed)."""
    arguments, surfaces = {}, {}
    for (name, typed), words_ in zip(said, final_words):
        param = tool["parameters"][name]
        if param["type"] in ("enum", "boolean"):
            arguments[name], surfaces[name] = typed, words_  # the words are the value's cue
        elif param["type"] == "array":
            items = [w for w in words_.replace(" and ", ", ").split(", ") if w]
            arguments[name] = surfaces[name] = items if len(items) == len(typed) else [w.strip() for w in typed]
        else:
            arguments[name] = normalised_value(param, words_, TEACHING_TODAY)
            surfaces[name] = words_
    return {"name": tool["name"], "arguments": {k: arguments[k] for k in sorted(arguments)},
            "surfaces": {k: surfaces[k] for k in sorted(surfaces)}}


def inputs(request: dict, seed: int, temperature: float) -> dict:
    spec = request["spec"]
    return {"utterances": [
        {k: v for k, v in plan(spec["tool"], seed, temperature, request["sample"], item).items()
         if k != "target"} for item in range(spec["count"])]}


def replan(origin: dict, seed: int, temperature: float) -> dict:
    return plan(origin["tool"], seed, temperature, origin["sample"], origin["item"])
