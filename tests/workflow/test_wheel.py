"""The package as a wheel, installed outside the checkout, finds its data and runs.

The wheel is built from this checkout and installed (without dependencies) into a new venv
in a temporary folder; the dependencies come from this test's environment through a .pth
line. Commands then run from a folder outside the checkout, with no HELGENOM_SRC: what they
need (schemas, default rank models, phenotype resources) must come from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from helpers import REPO, TEST_DATA

FIXTURES = TEST_DATA / "genmod-fixtures"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv with only the helgenom wheel installed; its bin/ folder."""
    root = tmp_path_factory.mktemp("wheel")
    # Built from a copy of what the wheel is made of (an in-tree build leaves build/ here).
    source = root / "source"
    for name in ("pyproject.toml", "README.md"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "workflow" / "helgenom", source / "workflow" / "helgenom",
                    ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                            "--wheel-dir", str(root / "dist"), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    (wheel,) = (root / "dist").glob("helgenom-*.whl")
    venv.EnvBuilder(with_pip=False).create(root / "venv")
    python = root / "venv" / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # The dependencies (pandas, pyarrow, ...) from this environment, after the venv's own
    # site-packages: the wheel's helgenom is found first.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
                              "--no-compile", "--target", str(site), str(wheel)],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr
    script = root / "venv" / "bin" / "helgenom"
    script.write_text(f"#!{python}\nimport sys\nfrom helgenom.cli import main\n"
                      "sys.exit(main())\n")
    script.chmod(0o755)
    return root / "venv" / "bin"


def run(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if key not in ("HELGENOM_SRC", "PYTHONPATH")}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    return subprocess.run([str(bin_dir / "helgenom"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_the_wheel_carries_the_package_data(installed: Path, tmp_path: Path) -> None:
    python = installed / "python"
    probe = subprocess.run(
        [str(python), "-c", "import helgenom, helgenom.data as d; print(helgenom.__file__); "
         "print(d.data_path('schemas', 'config.schema.yaml')); "
         "print(d.data_path('rank_model', 'helgenom_snv_v1.ini')); "
         "print(d.data_path('phenotype', 'genes_to_disease.tsv.gz')); "
         "from importlib.resources import files; assets = files('helgenom.report') / 'assets'; "
         "print(assets / 'report.css'); print(assets / 'report.js')"],
        cwd=tmp_path, capture_output=True, text=True,
        env={k: v for k, v in os.environ.items() if k not in ("HELGENOM_SRC", "PYTHONPATH")})
    assert probe.returncode == 0, probe.stderr
    package, *data = map(Path, probe.stdout.split())
    assert installed.parent in package.parents, f"{package} is not the wheel's"
    for path in data:
        assert installed.parent in path.parents and path.is_file(), path


def test_validate_runs_from_the_wheel(installed: Path, small_demo: Path, tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(small_demo, demo)
    result = run(installed, "validate", "--config", str(demo / "config.yaml"),
                 "--workdir", str(demo), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "inputs are valid: 1 family, 3 samples" in result.stdout
    # The schemas are read: a value outside the schema is refused by the wheel's copy too.
    bad = demo / "bad.yaml"
    bad.write_text((demo / "config.yaml").read_text() + "\nnot_a_key: 1\n")
    refused = run(installed, "validate", "--config", str(bad), "--workdir", str(demo),
                  cwd=tmp_path)
    assert refused.returncode == 2 and "not_a_key" in refused.stderr


def test_rank_from_the_wheel_equals_the_checkout(installed: Path, tmp_path: Path) -> None:
    """The default rank models are the wheel's: the candidate list is the checkout's."""
    vcf, ped = FIXTURES / "test_vcf_regions.vcf", FIXTURES / "recessive_trio.ped"
    args = ("rank", "--vcf", str(vcf), "--ped", str(ped), "--chrx", "X", "--chry", "Y")
    wheel = run(installed, *args, "--out", str(tmp_path / "wheel" / "out"), cwd=tmp_path)
    assert wheel.returncode == 0, wheel.stderr
    checkout = subprocess.run([sys.executable, "-m", "helgenom.cli", *args, "--out",
                               str(tmp_path / "checkout" / "out")],
                              capture_output=True, text=True, timeout=600)
    assert checkout.returncode == 0, checkout.stderr
    ours = (tmp_path / "wheel" / "out.candidates.tsv").read_text()
    assert ours.count("\n") > 1, "no candidates"
    assert ours == (tmp_path / "checkout" / "out.candidates.tsv").read_text()
