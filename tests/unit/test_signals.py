"""Signal names and exit codes for every signal number, real-time ones included."""

from __future__ import annotations

import signal

from orchestrator.model.errors import ExitCode, Interrupted, signal_exit_code, signal_name


def test_a_real_time_signal_is_named_from_sigrtmin() -> None:
    assert signal_name(signal.SIGRTMIN + 6) == "SIGRTMIN+6"
    assert signal_name(signal.SIGKILL) == "SIGKILL"
    assert signal_name(200) == "signal 200"


def test_an_interrupt_by_a_real_time_signal_is_an_interrupt() -> None:
    stopped = Interrupted(signal.SIGRTMIN + 6)
    assert stopped.exit_code is ExitCode.SIGINT
    assert str(stopped) == "interrupted by SIGRTMIN+6"
    assert signal_exit_code(signal.SIGTERM) is ExitCode.SIGTERM
