"""Production settings pass `pbqms check --deploy`; the console script works from any folder."""

import os
import subprocess
import sys
from pathlib import Path


def _pbqms() -> str:
    return str(Path(sys.executable).parent / "pbqms")


def test_production_settings_pass_check_deploy(tmp_path):
    env = {**os.environ, "PBQMS_PRODUCTION": "1", "SECRET_KEY": "k" * 20 + "Q7#x" * 12,
           "ALLOWED_HOSTS": "pbqms.example.internal", "PBQMS_DATA_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests' fixture in this process
    out = subprocess.run([_pbqms(), "check", "--deploy", "--fail-level", "WARNING"], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_production_refuses_to_start_without_secret_key(tmp_path):
    env = {**os.environ, "PBQMS_PRODUCTION": "1", "PBQMS_DATA_DIR": str(tmp_path)}
    env.pop("SECRET_KEY", None)
    out = subprocess.run([_pbqms(), "check"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "SECRET_KEY" in out.stderr
