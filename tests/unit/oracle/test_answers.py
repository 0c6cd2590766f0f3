"""Answer encoding, the contract's aggregation rules in Python, and answer signatures."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.oracle import (
    Mode,
    SignedAnswer,
    aggregate,
    agreement,
    decode_value,
    recover_answer_signer,
    sign_answer,
)
from ledgerlearn.oracle._answers import answer_domain, encode_value

INT256 = st.integers(min_value=-(2**255), max_value=2**255 - 1)


@given(st.lists(INT256, min_size=1, max_size=16))
def test_median_is_an_input_with_half_the_rest_on_each_side(values: list[int]) -> None:
    result = aggregate(Mode.MEDIAN, values)
    assert result in values
    below = sum(v < result for v in values)
    above = sum(v > result for v in values)
    assert below <= (len(values) - 1) // 2 and above <= len(values) // 2


@given(st.lists(st.integers(0, 4), min_size=1, max_size=16))
def test_majority_is_the_most_frequent_label_ties_to_the_smaller(values: list[int]) -> None:
    result = aggregate(Mode.MAJORITY, values)
    best = max(values.count(v) for v in values)
    assert values.count(result) == best
    assert result == min(v for v in values if values.count(v) == best)


def test_agreement_uses_tolerance_only_for_the_median() -> None:
    assert agreement(Mode.MEDIAN, [100, 102, 103], 100, 2) == [True, True, False]
    assert agreement(Mode.MAJORITY, [1, 2, 1], 1, 5) == [True, False, True]
    with pytest.raises(ValueError, match="no answers"):
        aggregate(Mode.MEDIAN, [])


def test_values_are_fixed_point_numbers_or_whole_labels() -> None:
    assert encode_value(Mode.MEDIAN, 1.5) == 1_500_000
    assert decode_value(Mode.MEDIAN, -2_250_000) == -2.25
    assert encode_value(Mode.MAJORITY, 3) == 3 == decode_value(Mode.MAJORITY, 3)
    with pytest.raises(ValueError, match="whole number"):
        encode_value(Mode.MAJORITY, 2.5)
    with pytest.raises(ValueError, match="finite"):
        encode_value(Mode.MEDIAN, float("nan"))
    assert Mode.parse("Median") is Mode.MEDIAN
    with pytest.raises(ValueError, match="median, majority, proven or optimistic"):
        Mode.parse("mean")


def test_a_signed_answer_recovers_its_signer_and_nothing_else() -> None:
    key = Secp256k1Key.from_secret(hashlib.sha256(b"provider").digest())
    domain = answer_domain(31337, "0x" + "11" * 20)
    model, data, out = (hashlib.sha256(x).digest() for x in (b"m", b"i", b"o"))
    answer = sign_answer(key, domain, 4, model, data, out, -7)
    assert SignedAnswer.from_json(answer.to_json()) == answer
    assert recover_answer_signer(domain, 4, model, data, answer) == key.address
    # Another request, chain or contract recovers some other address.
    assert recover_answer_signer(domain, 5, model, data, answer) != key.address
    other_chain = answer_domain(1, "0x" + "11" * 20)
    assert recover_answer_signer(other_chain, 4, model, data, answer) != key.address
    with pytest.raises(ValueError, match="int256"):
        sign_answer(key, domain, 4, model, data, out, 2**255)
