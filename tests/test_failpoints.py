"""common/failpoints.py: inert unless armed; armed in process or from the environment."""
import pytest

from common import failpoints
from common.failpoints import FailpointError, failpoint


def test_an_unarmed_failpoint_does_nothing():
    failpoint("nothing.here")


def test_an_armed_failpoint_fires_on_its_hit_and_is_disarmed_after():
    with failpoints.armed("step.two", failpoints.Raise(at=2)) as action:
        failpoint("step.two")
        with pytest.raises(FailpointError, match="step.two"):
            failpoint("step.two")
        failpoint("step.two")  # fired once
        assert action.hits == 3
    failpoint("step.two")


def test_a_failpoint_can_raise_a_chosen_error_or_call_a_function():
    seen = []
    with failpoints.armed("a", failpoints.Raise(ValueError("boom"))), failpoints.armed("b", failpoints.Call(seen.append)):
        with pytest.raises(ValueError, match="boom"):
            failpoint("a")
        failpoint("b")
    assert seen == ["b"]


def test_recording_lists_the_points_reached_in_order():
    with failpoints.recording() as names:
        failpoint("op.first")
        failpoint("op.second")
    failpoint("op.third")
    assert names == ["op.first", "op.second"]


def test_arming_from_the_environment(monkeypatch):
    monkeypatch.setenv(failpoints.ENVIRONMENT_VARIABLE, "x.one=raise@2, x.two=kill")
    failpoints.arm_from_environment()
    try:
        assert isinstance(failpoints._armed["x.two"], failpoints.Kill)
        failpoint("x.one")
        with pytest.raises(FailpointError):
            failpoint("x.one")
    finally:
        failpoints.disarm()
    with pytest.raises(ValueError, match="unknown action"):
        failpoints.arm_from_environment("x=explode")
    failpoints.disarm()
