"""Who may reach the app: bind/auth checks and the browser-id secret (rag/security.py)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest
from fake_llm import free_port

from rag.answering.engine import Engine
from rag.app import security
from rag.errors import ConfigError


def test_bind_requires_auth_beyond_loopback() -> None:
    assert security.check_bind("127.0.0.1", None) is None
    assert security.check_bind("0.0.0.0", "me:secret") == ("me", "secret")
    assert security.parse_auth("me:pa:ss") == ("me", "pa:ss")
    with pytest.raises(ConfigError, match="without a password"):
        security.check_bind("0.0.0.0", None)
    with pytest.raises(ConfigError, match="user:password"):
        security.check_bind("127.0.0.1", "nopassword")


def test_browser_secret_is_stable(tmp_path: Path) -> None:
    first = security.browser_secret(tmp_path / "state")
    assert security.browser_secret(tmp_path / "state") == first and len(first) > 20


# -- the login brake ------------------------------------------------------------------------


class FakeClock:
    """Time that only moves when the brake sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def attempts(clock: FakeClock, brake: security.LoginBrake, tries: list[str]) -> list[bool]:
    """Run login attempts (as client 10.0.0.9) through the real auth callable."""
    check = security.login_checker(("me", "right"), brake, sleep=clock.sleep)

    async def go() -> list[bool]:
        security.LOGIN_CLIENT.set("10.0.0.9")
        return [await check("me", password) for password in tries]

    return asyncio.run(go())


def test_forty_wrong_passwords_cost_far_more_than_half_a_second() -> None:
    clock = FakeClock()
    brake = security.LoginBrake(clock)
    assert attempts(clock, brake, ["wrong"] * 40) == [False] * 40
    assert clock.slept[:6] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0]  # after three free tries
    assert max(clock.slept) == security.MAX_DELAY
    assert sum(clock.slept) > 900  # 40 guesses: over a quarter of an hour, not 0.5 s
    assert brake.failures("10.0.0.9") == 40


def test_attempts_allowed_in_a_minute_are_few() -> None:
    clock = FakeClock()
    brake = security.LoginBrake(clock)
    started, allowed = clock.now, 0
    while clock.now - started < 60:
        attempts(clock, brake, ["wrong"])
        allowed += 1
    assert allowed <= 10


def test_right_password_after_typos_resets_and_other_clients_are_not_slowed() -> None:
    clock = FakeClock()
    brake = security.LoginBrake(clock)
    assert attempts(clock, brake, ["typo", "typo", "typo", "right"]) == [False] * 3 + [True]
    assert clock.slept == [0.5]  # three typos are free; the next attempt waits half a second
    assert brake.failures("10.0.0.9") == 0 and brake.delay("10.0.0.9") == 0
    brake.failed("10.0.0.9", "me")
    assert brake.delay("192.168.1.2") == 0  # per client
    assert not attempts(clock, brake, ["ME"])[0]  # user names are compared exactly too


def test_failures_are_forgotten_after_a_quiet_spell() -> None:
    clock = FakeClock()
    brake = security.LoginBrake(clock)
    for _ in range(8):
        brake.failed("10.0.0.9", "me")
    assert brake.delay("10.0.0.9") == 16.0
    clock.now += security.FORGET_AFTER + 1
    assert brake.delay("10.0.0.9") == 0.0


def test_failed_logins_are_logged_without_the_password(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    with caplog.at_level(logging.WARNING, logger="rag.app.security"):
        attempts(clock, security.LoginBrake(clock), ["hunter2-guess"])
    [record] = caplog.records
    assert "failed login for user 'me' from 10.0.0.9 (1 in a row)" in record.getMessage()
    assert "hunter2" not in caplog.text


def test_the_running_app_brakes_its_login_per_client_address(engine: Engine) -> None:
    """Through Gradio's real /login: the middleware names the client, the brake counts it."""
    import ui

    brake = security.LoginBrake()
    port = free_port()
    settings = engine.settings.model_copy(update={"auth": "me:right"})
    demo = ui.serve(settings, port=port, block=False, engine=engine, login_brake=brake)
    try:
        url = f"http://127.0.0.1:{port}/login"
        for _ in range(3):  # the free failures: no waiting, no timing in this test
            assert httpx.post(url, data={"username": "me", "password": "no"}).status_code == 400
        assert brake.failures("127.0.0.1") == 3
        assert brake.delay("127.0.0.1") == security.BASE_DELAY
        assert httpx.post(url, data={"username": "me", "password": "right"}).status_code == 200
        assert brake.failures("127.0.0.1") == 0
    finally:
        demo.close()
