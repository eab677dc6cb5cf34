import os

import pytest

from tucai.core.errors import TucaiError
from tucai.core.files import write_atomic


def test_write_atomic_replaces_whole_file_and_sets_mode(tmp_path):
    out = tmp_path / "x.csv"
    out.write_bytes(b"old")
    write_atomic(out, b"new contents", mode=0o600)
    assert out.read_bytes() == b"new contents"
    assert oct(os.stat(out).st_mode & 0o777) == oct(0o600)
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]      # no temp file left


@pytest.mark.parametrize("target,code", [("missing/x.pdf", "output.dir_not_found"), ("", "output.is_dir")])
def test_write_atomic_refuses_without_creating_anything(tmp_path, target, code):
    with pytest.raises(TucaiError) as ei:
        write_atomic(tmp_path / target, b"data")
    assert ei.value.code == code
    assert not (tmp_path / "missing").exists()
