"""Migration 0012 upgrades a database whose phones have clear-text passwords: only digests remain, and
they are the ones Asterisk checks the same passwords against."""

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate as tortoise_migrate

from core.db import migrate, tortoise_config
from core.services.provisioning import sip_digest


async def test_clear_passwords_become_digests(tmp_path):
    url = f"sqlite://{tmp_path / 'upgrade.sqlite3'}"
    try:
        await tortoise_migrate(config=tortoise_config(url), target="pbx.0011_audit_address")
        for number, password in (("101", "pw-101-secret"), ("102", "an0ther-Secret")):
            await Tortoise.get_connection("default").execute_query(
                "INSERT INTO extension (number, name, enabled, dnd, outbound, recording, sip_password,"
                f" created_at) VALUES ('{number}', '', 1, 0, 'national', 'never', '{password}',"
                " '2024-01-01 00:00:00')"
            )
    finally:
        await Tortoise.close_connections()

    await migrate(url)

    await Tortoise.init(config=tortoise_config(url))
    try:
        connection = Tortoise.get_connection("default")
        rows = await connection.execute_query_dict("SELECT number, sip_digest FROM extension ORDER BY number")
        columns = await connection.execute_query_dict("PRAGMA table_info(extension)")
    finally:
        await Tortoise.close_connections()
    assert rows == [
        {"number": "101", "sip_digest": sip_digest("101", "pw-101-secret")},
        {"number": "102", "sip_digest": sip_digest("102", "an0ther-Secret")},
    ]
    assert "sip_password" not in {c["name"] for c in columns}  # the clear text is gone…
    for path in tmp_path.glob("upgrade.sqlite3*"):  # …from the file too (and its WAL)
        assert b"pw-101-secret" not in path.read_bytes(), path.name
