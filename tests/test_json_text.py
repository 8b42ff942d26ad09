"""seedkit's JSON text is json.dumps's, character for character, only faster."""

from __future__ import annotations

import json

import pytest

from seedkit.json_text import dumps, jsonb_dumps

VALUES = [
    {"zeta": 1, "a": [1, {"bb": None, "c": "x"}], "mid": True},
    [1, 0.5, "é ☕ \u2028", {"b": 2.0, "aa": -1e-7}, (3, 4)],
    'tab\tquote"back\\slash',
    5,
    -0.0,
    float("nan"),
    None,
    {},
    12345678901234567890,
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_the_text_is_json_dumps_text(value):
    assert dumps(value) == json.dumps(value)
    assert jsonb_dumps(value) == json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def test_what_json_cannot_hold_fails_as_json_dumps_does():
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        dumps({"tags": {1, 2}})
