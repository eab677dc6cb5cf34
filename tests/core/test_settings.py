import os
import subprocess
import sys

import pytest


def test_default_language_is_simplified_chinese(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [c for c, _ in settings.LANGUAGES] == ["zh-hans", "en"]


@pytest.mark.django_db
def test_home_requires_login(client):
    r = client.get("/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_production_profile_passes_check_deploy(tmp_path):
    env = {
        **os.environ,
        "TUCAI_DATA_DIR": str(tmp_path),
        "TUCAI_DEBUG": "0",
        "TUCAI_SECRET_KEY": "x" * 20 + "-production-secret-key-with-enough-entropy-1234567890",
        "TUCAI_ALLOWED_HOSTS": "tucai.example.edu.cn",
    }
    env.pop("TUCAI_DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    r = subprocess.run([sys.executable, "-m", "tucai", "check", "--deploy", "--fail-level", "WARNING"],
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_embedded_secret_key_is_generated_once_and_kept(tmp_path):
    env = {**os.environ, "TUCAI_DATA_DIR": str(tmp_path)}
    env.pop("TUCAI_SECRET_KEY", None)
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    runs = [subprocess.run([sys.executable, "-c", f"import django,os;os.environ['DJANGO_SETTINGS_MODULE']='tucai.settings';django.setup();{code}"],
                           env=env, capture_output=True, text=True).stdout.strip() for _ in range(2)]
    assert runs[0] and runs[0] == runs[1]
    assert (tmp_path / "secret_key").read_text().strip() == runs[0]
