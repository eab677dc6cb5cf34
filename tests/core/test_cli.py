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


def test_tucai_help_lists_the_photo_commands_too():
    r = subprocess.run([sys.executable, "-m", "tucai", "help"], capture_output=True, text=True)
    assert r.returncode == 0 and "photo" in r.stdout


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    # `tucai ... | head` printed a BrokenPipeError traceback.
    files = [str(tmp_path / f"missing-{i}.jpg") for i in range(3000)]      # ~400 KB of JSON lines, over a pipe's buffer
    p = subprocess.Popen([sys.executable, "-m", "tucai", "photo", "check", "--json", *files],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.read(100)
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 141 and "Traceback" not in err, err


def test_json_commands_answer_on_stdout_when_they_fail(db):
    import io
    import json

    import pytest
    from django.core.management import CommandError, call_command

    for cmd in (["progress", "--campaign", "nope", "--json"], ["handoff", "check", "--campaign", "nope", "--json"],
                ["fees", "summary", "--campaign", "nope", "--json"]):
        out = io.StringIO()
        with pytest.raises(CommandError):
            call_command(*cmd, stdout=out)
        err = json.loads(out.getvalue().strip().splitlines()[-1])["error"]
        assert err["code"] and "nope" in err["message"], (cmd, err)
