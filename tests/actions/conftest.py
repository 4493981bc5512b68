import pytest


@pytest.fixture(autouse=True)
def isolated_var_dir(tmp_path, monkeypatch):
    """Actions write the review log and hand-offs under MADOGUCHI_VAR_DIR: keep tests out of var/."""
    monkeypatch.setenv("MADOGUCHI_VAR_DIR", str(tmp_path / "var"))
