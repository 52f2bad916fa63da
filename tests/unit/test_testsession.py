"""A pytest session's account (`model/testsession.py`) and the plan identity merge checks."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.model.shardplan import nothing_matrix, plan_origin, slim
from orchestrator.model.testsession import SessionAccount, incomplete_error, parse_account


def test_a_finished_session_that_ran_everything_is_complete() -> None:
    text = json.dumps({"given": 3, "not_run": 0, "rootdir": "/p", "finished": True})
    account = parse_account(text)
    assert account == SessionAccount(3, 0, None, "/p")
    assert incomplete_error(account, 0) is None


def test_a_session_that_stopped_early_says_why_and_how_many() -> None:
    text = json.dumps(
        {"given": 5, "not_run": 2, "stopped": "stopping after 1 failures", "finished": True}
    )
    assert incomplete_error(parse_account(text), 1) == (
        "stopped early (stopping after 1 failures): 2 of 5 tests did not run"
    )


def test_a_session_that_never_ended_names_the_test_it_was_in() -> None:
    text = "\n".join([json.dumps({"given": 4, "rootdir": "/p"}), "t.py::a", "t.py::b", ""])
    account = parse_account(text)
    assert account is not None and not account.finished
    assert (account.not_run, account.running) == (2, "t.py::b")
    assert incomplete_error(account, 139) == (
        "pytest ended before its session did (exit 139) while t.py::b ran: 2 of 4 tests "
        "never started"
    )


def test_no_account_is_no_pass_and_a_foreign_file_is_no_account() -> None:
    assert incomplete_error(None, 0) == (
        "pytest gave no account of its tests (exit 0): none is known to have run"
    )
    for text in ("", "not json", "[1, 2]", '{"given": -1}', '{"nothing": 1}'):
        assert parse_account(text) is None


@given(st.integers(0, 50), st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=60))
def test_a_running_account_never_counts_more_started_than_given(
    given_count: int, started: list[str]
) -> None:
    text = "\n".join([json.dumps({"given": given_count}), *started])
    account = parse_account(text)
    assert account is not None
    assert 0 <= account.not_run <= given_count
    assert account.not_run == max(0, given_count - len(set(started)))
    # A session that never ended is never complete, whatever it started.
    assert incomplete_error(account, 0) is not None


def test_the_plan_identity_ignores_predictions_and_sees_stages_and_splits() -> None:
    plan = {
        "include": [
            {"shard": "1/2", "lane": "heavy", "stages": ["unit[1/2]"], "predicted_s": 3.0},
            {"shard": "2/2", "lane": "heavy", "stages": ["lint", "unit[2/2]"], "predicted_s": 2.9},
        ]
    }
    origin = plan_origin(plan)
    assert origin.planned == {"1/2": ("unit[1/2]",), "2/2": ("lint", "unit[2/2]")}
    other_times = json.loads(json.dumps(plan))
    other_times["include"][0]["predicted_s"] = 9.0
    assert plan_origin(other_times).plan == origin.plan
    moved = json.loads(json.dumps(plan))
    moved["include"][1]["stages"] = ["unit[2/2]"]
    moved["include"][0]["stages"] += ["lint"]
    assert plan_origin(moved).plan != origin.plan
    split = json.loads(json.dumps(plan))
    split["include"][0]["splits"] = {"unit": {"parts": 2}}
    assert plan_origin(split).plan != origin.plan
    assert "splits" not in json.dumps(slim(split))


def test_nothing_to_check_is_one_empty_shard_per_runner() -> None:
    assert nothing_matrix(2) == {
        "include": [
            {"shard": "1/2", "lane": "none", "stages": [], "predicted_s": 0.0},
            {"shard": "2/2", "lane": "none", "stages": [], "predicted_s": 0.0},
        ]
    }
