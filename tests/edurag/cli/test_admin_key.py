"""`edurag serve` generates an admin key on first run, stores it with mode 600 and reuses it."""

from edurag.cli import ensure_admin_key
from edurag.settings import Settings


def test_admin_key_is_generated_once_and_reused(tmp_path):
    first = ensure_admin_key(Settings(data_dir=tmp_path))
    key_file = tmp_path / "admin.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert first.admin_key.get_secret_value() == key_file.read_text().strip() and len(key_file.read_text()) >= 32
    assert ensure_admin_key(Settings(data_dir=tmp_path)).admin_key.get_secret_value() == first.admin_key.get_secret_value()


def test_configured_admin_key_wins(tmp_path):
    settings = ensure_admin_key(Settings(data_dir=tmp_path, admin_key="set-by-env"))
    assert settings.admin_key.get_secret_value() == "set-by-env" and not (tmp_path / "admin.key").exists()
