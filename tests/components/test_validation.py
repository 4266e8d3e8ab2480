import pytest

from genai_platform.components.validation import check_range


@pytest.mark.parametrize(("args", "message"), [
    (("retention_days", 40, 1, 35, " (AWS limit)"), "retention_days=40 is out of range: use 1 to 35 (AWS limit)."),
    (("zone_count", 0, 1, 8, " availability zones"), "zone_count=0 is out of range: use 1 to 8 availability zones."),
    (("min_replicas", -1, 0), "min_replicas=-1 is out of range: use 0 or more."),
    (("replicas", 2, 1, 1), "replicas=2 is out of range: use 1."),
])
def test_values_outside_the_range_name_argument_value_and_range(args, message):
    with pytest.raises(ValueError) as error:
        check_range(*args)
    assert str(error.value) == message


@pytest.mark.parametrize("args", [("x", 1, 1, 5), ("x", 5, 1, 5), ("x", 10**9, 0), ("x", 0.1, 0.1, 100)])
def test_values_inside_the_range_pass(args):
    check_range(*args)
