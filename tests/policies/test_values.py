"""The property readers on what pulumi_policy's analyzer really hands rules: proxies, floats, unknowns."""

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from genai_platform.policy_analyzer import ENGINE_UNKNOWN
from genai_platform.policies.values import as_list, each_mapping, engine_view, get, is_set, number, parse_json, peek, plain


def as_analyzer_hands_it(props: dict):
    """``props`` through a protobuf Struct and the analyzer's deserialisation, as in ``Analyze``."""
    struct = struct_pb2.Struct()
    struct.update(props)
    return engine_view(unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct))))


def test_lists_from_the_analyzer_are_lists_to_the_helpers():
    props = as_analyzer_hands_it({"cidrs": ["10.0.0.0/8", "0.0.0.0/0"], "rules": [{"port": 22}], "one": "x"})
    assert not isinstance(props["cidrs"], list)  # pulumi_policy's read-only proxy, not a list
    assert as_list(props["cidrs"]) == ["10.0.0.0/8", "0.0.0.0/0"]
    assert as_list(props["one"]) == ["x"] and as_list(None) == []
    assert [dict(rule) for rule in each_mapping(props["rules"])] == [{"port": 22}]


def test_numbers_read_as_written():
    props = as_analyzer_hands_it({"port": 22, "ratio": 0.5, "nested": {"ports": [80, 443]}})
    assert props["port"] == 22 and isinstance(props["port"], int) and f"{props['port']}" == "22"
    assert props["ratio"] == 0.5
    assert get(props, "nested.ports")[1] == 443 and f"{get(props, 'nested.ports')[1]}" == "443"
    assert number("7") == 7 and isinstance(number("7"), int) and number(True) is None
    assert plain(props) == {"port": 22, "ratio": 0.5, "nested": {"ports": [80, 443]}}


def test_unknown_values_raise_where_read_and_only_there():
    props = as_analyzer_hands_it({"policy": ENGINE_UNKNOWN, "bucket": {"name": ENGINE_UNKNOWN}, "known": True,
                                  "subscribers": [ENGINE_UNKNOWN]})
    assert get(props, "known") is True
    with pytest.raises(UnknownValueError):
        get(props, "policy")
    with pytest.raises(UnknownValueError):
        as_list(props["subscribers"])
    assert peek(props, "policy") == "[unknown]"
    # Presence: a value that is coming counts as set; a missing or empty one does not.
    assert is_set(props, "bucket.name") and is_set(props, "subscribers") and is_set(props, "policy")
    assert not is_set(props, "missing") and not is_set(as_analyzer_hands_it({"cidrs": []}), "cidrs")


def test_json_documents_parse_from_strings_and_proxies():
    assert parse_json('{"Statement": []}') == {"Statement": []}
    parsed = parse_json(as_analyzer_hands_it({"doc": {"Version": "2012-10-17"}})["doc"])
    assert dict(parsed) == {"Version": "2012-10-17"}
    assert parse_json("[secret]") is None and parse_json("not json") is None
