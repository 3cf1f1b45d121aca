"""span_shapes: a tagged span is cut to the value(s) its text can hold, or dropped."""
from distill.tasks.span_shapes import fit


def spans(text, *marked):
    """(substring, type) -> a span at the substring's first occurrence."""
    out = []
    for value, kind in marked:
        start = text.index(value)
        out.append({"start": start, "end": start + len(value), "type": kind, "text": value})
    return out


def values(text, *marked):
    return [(s["text"], s["type"]) for s in fit(text, spans(text, *marked))]


def test_an_email_span_is_tightened_to_the_address_or_dropped():
    text = "mail a.farouk@farouklaw.ae. Emirates ID, or (h.tanaka@kobe-ind.jp) at Harris & Finch Ltd"
    assert values(text, ("a.farouk@farouklaw.ae. Emirates", "EMAIL"), ("(h.tanaka@kobe-ind.jp", "EMAIL"),
                  ("Finch Ltd", "EMAIL")) == [("a.farouk@farouklaw.ae", "EMAIL"), ("h.tanaka@kobe-ind.jp", "EMAIL")]


def test_no_span_crosses_a_line_break():
    text = "Pls ring me back.\nGrüße\nKlaus Wendt"
    assert values(text, ("Grüße\nKlaus Wendt", "PERSON")) == [("Grüße", "PERSON"), ("Klaus Wendt", "PERSON")]


def test_names_joined_by_an_ampersand_and_date_ranges_are_two_values():
    text = "Laura & Dev stayed 12/03 - 14/03, ask J. Ortega - thanks"
    assert values(text, ("Laura & Dev", "PERSON"), ("12/03 - 14/03", "DATE"), ("J. Ortega -", "PERSON")) == [
        ("Laura", "PERSON"), ("Dev", "PERSON"), ("12/03", "DATE"), ("14/03", "DATE"), ("J. Ortega", "PERSON")]


def test_values_that_cannot_be_of_their_type_are_dropped():
    text = "Since January my acct (ref 42) and 2025 for R2D2 at 4421 9876"
    assert values(text, ("January", "DATE"), ("acct", "ID"), ("2025", "ADDRESS"), ("R2D2", "PERSON"),
                  ("42", "PHONE"), ("4421 9876", "CARD_NUMBER")) == []


def test_a_phone_keeps_its_bracketed_area_code_and_other_types_pass_unchanged():
    text = "Ligue (11) 98765-4321 sobre o ticket 'ABC'"
    assert values(text, ("(11) 98765-4321", "PHONE"), ("'ABC", "PRODUCT")) == [
        ("(11) 98765-4321", "PHONE"), ("ABC", "PRODUCT")]


def test_a_numeric_date_tagged_as_a_phone_is_a_date_when_the_recipe_has_dates():
    text = "charged on 2023-11-28 and 28/11/2023, call 2023-11-28"
    marked = spans(text, ("2023-11-28", "PHONE"), ("28/11/2023", "ID"))
    assert [s["type"] for s in fit(text, marked, {"PHONE", "ID", "DATE"})] == ["DATE", "DATE"]
    assert [s["type"] for s in fit(text, marked, {"PHONE", "ID"})] == ["PHONE", "ID"]


def test_a_number_grouped_like_a_payment_card_is_a_card_number_when_the_recipe_has_cards():
    text = "Visa 4024 0071 5532 8810, Amex 3782-822463-10005, ref 4410 2290 17, id 4024 0071 5532"
    marked = spans(text, ("4024 0071 5532 8810", "ID"), ("3782-822463-10005", "PHONE"), ("4410 2290 17", "PHONE"),
                   ("4024 0071 5532", "ID"))
    assert [s["type"] for s in fit(text, marked, {"PHONE", "ID", "CARD_NUMBER"})] == ["CARD_NUMBER", "CARD_NUMBER",
                                                                                     "PHONE", "ID"]
    assert [s["type"] for s in fit(text, marked, {"PHONE", "ID"})] == ["ID", "PHONE", "PHONE", "ID"]
