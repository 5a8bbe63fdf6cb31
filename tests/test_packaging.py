"""A real, non-editable install: templates ship inside the package; the CLI works."""

from __future__ import annotations

import subprocess
import venv

from tests.helpers import REPO


def test_pip_install_into_a_fresh_venv_then_generate_elsewhere(tmp_path):
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    pip = env_dir / "bin" / "pip"
    subprocess.run(
        [str(pip), "install", "-q", "--disable-pip-version-check", str(REPO)],
        check=True,
        capture_output=True,
    )
    (site_packages,) = env_dir.glob("lib/python*/site-packages")
    assert (site_packages / "nnsym" / "templates" / "module.py.jinja").is_file()
    assert (site_packages / "nnsym" / "templates" / "module_loops.py.jinja").is_file()
    for shipped in ("iris.csv", "digits.csv.gz", "README.md"):
        assert (site_packages / "nnsym" / "datasets" / shipped).is_file()
    assert not (site_packages / "nnsym" / "__init__.py").is_symlink()
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    result = subprocess.run(
        [str(env_dir / "bin" / "nnsym"), "generate", "--arch", "2-2-1"],
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    written = workdir / "generated" / "mlp_2_2_1.py"
    assert written.read_bytes() == (REPO / "generated" / "mlp_2_2_1.py").read_bytes()
