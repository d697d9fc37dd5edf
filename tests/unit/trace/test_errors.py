"""The domain error base: English templates and parameters, said in any language at the edge."""

from __future__ import annotations

import pickle

import pytest

from ocop.trace.errors import (
    PASSED_ON,
    InvalidRecord,
    Joined,
    NotFound,
    Phrase,
    as_phrase,
    either,
)

# A stand-in catalogue: Vietnamese for the templates these tests use.
VI = {
    "no lot with code %(code)r": "không có lô nào mang mã %(code)r",
    "not a stamp code: %(reason)s": "không phải mã tem: %(reason)s",
    "empty": "đang để trống",
    "must be %(what)s": "phải là %(what)s",
    "%(some)s or %(last)s": "%(some)s hoặc %(last)s",
    "no lot to receive: %(why)s": "không có lô nào để nhận: %(why)s",
    "lot %(lot)s failed": "lô %(lot)s không đạt",
}


def vietnamese(template: str) -> str:
    return VI.get(template, template)


def test_the_english_line_is_the_template_filled_in() -> None:
    error = NotFound("no lot with code %(code)r", code="BC-1")
    assert str(error) == "no lot with code 'BC-1'"
    assert error.template == "no lot with code %(code)r"
    assert error.params == {"code": "BC-1"}
    assert error.args == ("no lot with code 'BC-1'",)


def test_render_translates_the_template_and_keeps_the_parameters() -> None:
    error = NotFound("no lot with code %(code)r", code="Bánh <cáy>")
    assert error.render(vietnamese) == "không có lô nào mang mã 'Bánh <cáy>'"
    # A template the catalogue does not know is said in English.
    assert NotFound("no such thing").render(vietnamese) == "no such thing"


def test_a_template_without_parameters_is_not_formatted() -> None:
    # A percent sign in a parameterless message must not break it.
    assert str(NotFound("100% sure")) == "100% sure"


def test_nested_reasons_are_said_in_the_same_language() -> None:
    from ocop.stamps.errors import MalformedToken

    error = MalformedToken("empty")
    assert str(error) == "not a stamp code: empty"
    assert error.render(vietnamese) == "không phải mã tem: đang để trống"
    assert error.reason == "empty"  # the reason still reads as text


def test_an_error_passed_on_keeps_its_translation() -> None:
    from ocop.stamps.errors import MalformedToken
    from ocop.workflows.errors import RequestRefused

    wrapped = RequestRefused(MalformedToken("empty"), "count")
    assert (wrapped.template, wrapped.field) == (PASSED_ON, "count")
    assert str(wrapped) == "not a stamp code: empty"
    assert wrapped.render(vietnamese) == "không phải mã tem: đang để trống"


def test_a_phrase_is_its_english_text_and_carries_its_template() -> None:
    phrase = Phrase("must be %(what)s", what="a string")
    assert phrase == "must be a string" and "string" in phrase
    assert phrase.render(vietnamese) == "phải là a string"
    # Code that passes a reason on as text passes the translation on with it.
    moved = InvalidRecord(phrase, "$.lots[0].code")
    assert str(moved) == "$.lots[0].code: must be a string"
    assert moved.render(vietnamese) == "$.lots[0].code: phải là a string"
    assert moved.reason.template == "must be %(what)s"


def test_invalid_record_says_the_path_as_is_and_translates_the_reason() -> None:
    error = InvalidRecord("no lot with code %(code)r", "$.events[0].lots[1].lot", code="X")
    assert error.path == "$.events[0].lots[1].lot"
    assert str(error) == "$.events[0].lots[1].lot: no lot with code 'X'"
    assert error.render(vietnamese) == "$.events[0].lots[1].lot: không có lô nào mang mã 'X'"
    assert error.reason == "no lot with code 'X'"
    assert str(InvalidRecord("empty")) == "empty"


def test_joined_messages_and_either_are_translated_part_by_part() -> None:
    reasons = Joined([Phrase("lot %(lot)s failed", lot="A"), Phrase("lot %(lot)s failed", lot="B")])
    error = NotFound("no lot to receive: %(why)s", why=reasons)
    assert str(error) == "no lot to receive: lot A failed; lot B failed"
    assert error.render(vietnamese) == "không có lô nào để nhận: lô A không đạt; lô B không đạt"
    assert either(["8", "12", "13", "14"]).render(vietnamese) == "8, 12, 13 hoặc 14"
    assert either(["13"]) == "13"


def test_parameters_with_a_message_passed_on_are_a_mistake() -> None:
    with pytest.raises(TypeError):
        NotFound(NotFound("empty"), code="x")
    with pytest.raises(TypeError):
        as_phrase(Phrase("empty"), {"x": 1})


def test_every_error_survives_a_process_boundary() -> None:
    # QR encoding runs in a process pool: its errors come back pickled.
    from ocop.keys.errors import InvalidJWK, InvalidTrustList, KeyFileCorrupt
    from ocop.stamps.errors import InvalidSerial, MalformedToken, QrTooLarge
    from ocop.workflows.errors import InvalidInput

    errors = [
        InvalidJWK("x", "must be %(what)s", what="32 bytes"),
        InvalidTrustList("keys[0]", Phrase("must be %(what)s", what="an object")),
        KeyFileCorrupt("/k/a.pem", "empty"),
        MalformedToken("empty"),
        InvalidSerial("empty"),
        QrTooLarge("%(length)s characters do not fit any QR symbol: %(problem)s", length=9,
                   problem="x"),
        InvalidInput("empty", field="name"),
        InvalidRecord("must be %(what)s", "$.a", what="b"),
    ]
    for error in errors:
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error)
        assert str(back) == str(error)
        assert back.render(vietnamese) == error.render(vietnamese)
        assert vars(back).keys() == vars(error).keys()


def test_a_broken_translation_falls_back_to_english() -> None:
    # The catalogue's test keeps placeholders right; should one slip, the reader
    # still gets a sentence, not a server error.
    def broken(template: str) -> str:
        return "không có lô %(ma)s" if template == "no lot with code %(code)r" else template

    error = NotFound("no lot with code %(code)r", code="X")
    assert error.render(broken) == "no lot with code 'X'"
    assert Phrase("no lot with code %(code)r", code="X").render(broken) == "no lot with code 'X'"
