import subprocess
import sys


def test_tucai_help_lists_commands():
    r = subprocess.run([sys.executable, "-m", "tucai", "help"], capture_output=True, text=True)
    assert r.returncode == 0
    assert "run" in r.stdout and "worker" in r.stdout


def test_worker_refuses_without_database_backend(tmp_path):
    import os

    env = {**os.environ, "TUCAI_DATA_DIR": str(tmp_path), "TUCAI_TASKS": "immediate"}
    r = subprocess.run([sys.executable, "-m", "tucai", "worker", "--batch"], capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "TUCAI_TASKS=database" in r.stderr
