"""Production settings pass `pbqms check --deploy`; the console script works from any folder."""

import os
import subprocess
import sys
from pathlib import Path


def _pbqms() -> str:
    return str(Path(sys.executable).parent / "pbqms")


def _production_env(tmp_path, **more: str) -> dict[str, str]:
    import pbqms

    env = {**os.environ, "PBQMS_PRODUCTION": "1", "SECRET_KEY": "k" * 20 + "Q7#x" * 12,
           "ALLOWED_HOSTS": "pbqms.example.internal", "PBQMS_DATA_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "PBQMS_FIELD_KEY": "f" * 44,
           # the code under test, wherever the console script was installed from
           "PYTHONPATH": str(Path(pbqms.__file__).resolve().parent.parent), **more}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests' fixture in this process
    return env


def _check_deploy(tmp_path, env):  # type: ignore[no-untyped-def]
    return subprocess.run([_pbqms(), "check", "--deploy", "--fail-level", "WARNING"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)


def test_production_settings_pass_check_deploy(tmp_path):
    out = _check_deploy(tmp_path, _production_env(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_check_deploy_warns_of_a_field_key_derived_from_secret_key(tmp_path):
    env = _production_env(tmp_path)
    env.pop("PBQMS_FIELD_KEY")
    out = _check_deploy(tmp_path, env)
    assert out.returncode != 0
    assert "pbqms.W001" in out.stderr + out.stdout and "derived from SECRET_KEY" in out.stderr + out.stdout


def test_check_deploy_warns_of_security_settings_turned_off(tmp_path):
    env = _production_env(tmp_path, PBQMS_CLIENT_ATTEMPTS="0", PBQMS_PUBLIC_API_DOCS="1")
    out = _check_deploy(tmp_path, env)
    text = out.stdout + out.stderr
    assert out.returncode != 0 and "pbqms.W002" in text and "pbqms.W006" in text


def test_production_refuses_to_start_without_secret_key(tmp_path):
    env = {**os.environ, "PBQMS_PRODUCTION": "1", "PBQMS_DATA_DIR": str(tmp_path)}
    env.pop("SECRET_KEY", None)
    out = subprocess.run([_pbqms(), "check"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "SECRET_KEY" in out.stderr
