"""Settings: defaults, environment, TOML file, generated secrets, and clear errors."""

import os
import stat

import pytest

from core.config import ConfigError, ensure_secrets, load_settings, secrets_path


def test_defaults_bind_to_loopback(tmp_path):
    s = load_settings()
    assert s.asterisk.bind == "127.0.0.1"
    assert s.api.host == "127.0.0.1"
    assert s.db_url == f"sqlite://{tmp_path / 'data' / 'pbx.sqlite3'}?synchronous=NORMAL"
    assert s.asterisk.base_url == "http://127.0.0.1:8088/"


def test_environment_overrides_nested(monkeypatch):
    monkeypatch.setenv("PBX_ASTERISK__SIP_PORT", "5099")
    monkeypatch.setenv("PBX_CALLS__RING_TIMEOUT", "7")
    s = load_settings()
    assert (s.asterisk.sip_port, s.calls.ring_timeout) == (5099, 7)


def test_toml_file_is_read(tmp_path, monkeypatch):
    cfg = tmp_path / "pbx.toml"
    cfg.write_text("[api]\nport = 9000\n[asterisk]\nhttp_port = 8100\n")
    monkeypatch.setenv("PBX_CONFIG", str(cfg))
    s = load_settings()
    assert (s.api.port, s.asterisk.http_port) == (9000, 8100)


def test_corrupt_config_names_the_file(tmp_path, monkeypatch):
    cfg = tmp_path / "pbx.toml"
    cfg.write_text("[api\nport = ")
    monkeypatch.setenv("PBX_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match=r"pbx\.toml is not valid TOML"):
        load_settings()


@pytest.mark.parametrize(
    ("var", "value", "fragment"),
    [
        ("PBX_ASTERISK__SIP_PORT", "70000", "asterisk.sip_port"),
        ("PBX_ASTERISK__RTP_END", "9000", "rtp_end must be greater"),
        ("PBX_CALLS__RING_TIMEOUT", "soon", "calls.ring_timeout"),
        ("PBX_ASTERISK__APP", "pbx&x", "asterisk.app"),
    ],
)
def test_invalid_values_are_named(monkeypatch, var, value, fragment):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=fragment):
        load_settings()


def test_unknown_keys_are_rejected(tmp_path, monkeypatch):
    cfg = tmp_path / "pbx.toml"
    cfg.write_text("[asterisk]\nsip_prot = 5060\n")
    monkeypatch.setenv("PBX_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match="sip_prot"):
        load_settings()


def test_secrets_are_generated_once_and_private():
    s = ensure_secrets(load_settings())
    assert len(s.asterisk.ari_password) == 32 and len(s.api.token) == 48
    mode = stat.S_IMODE(os.stat(secrets_path()).st_mode)
    assert mode == 0o600
    again = ensure_secrets(load_settings())
    assert (again.asterisk.ari_password, again.api.token) == (s.asterisk.ari_password, s.api.token)


def test_configured_secret_is_not_overwritten(monkeypatch):
    monkeypatch.setenv("PBX_ASTERISK__ARI_PASSWORD", "given-by-admin")
    s = ensure_secrets(load_settings())
    assert s.asterisk.ari_password == "given-by-admin"


def test_security_defaults_and_validation(tmp_path, monkeypatch):
    s = load_settings()
    assert (s.security.ban_after, s.security.ban_window, s.security.ban_seconds) == (10, 300, 900)
    assert s.security.exempt_loopback is False and s.security.exempt == []
    assert s.security_log == tmp_path / "data" / "asterisk" / "instance" / "log" / "security.log"
    monkeypatch.setenv("PBX_SECURITY__EXEMPT", '["192.0.2.7/24", "2001:db8::1"]')
    assert load_settings().security.exempt == ["192.0.2.0/24", "2001:db8::1/128"]
    monkeypatch.setenv("PBX_SECURITY__EXEMPT", '["office"]')
    with pytest.raises(ConfigError, match=r"security\.exempt: 'office' is not an address or network"):
        load_settings()
    monkeypatch.delenv("PBX_SECURITY__EXEMPT")
    monkeypatch.setenv("PBX_SECURITY__BAN_AFTER", "0")
    with pytest.raises(ConfigError, match=r"security\.ban_after"):
        load_settings()
    monkeypatch.delenv("PBX_SECURITY__BAN_AFTER")
    monkeypatch.setenv("PBX_ASTERISK__MODE", "external")
    assert load_settings().security_log is None  # an external Asterisk's log must be named
    monkeypatch.setenv("PBX_SECURITY__LOG_FILE", "/var/log/asterisk/security.log")
    assert str(load_settings().security_log) == "/var/log/asterisk/security.log"
