"""The wheel installs one namespace, realname_guard, and nothing generic beside it."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("core", "features", "models", "jobs", "pipelines", "policy", "quality", "generator")


def test_the_wheel_holds_realname_guard_only_and_imports_in_a_clean_venv(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(tmp_path),
         str(REPO)], check=True,
    )
    (wheel,) = tmp_path.glob("realname_guard-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"realname_guard"}
    for folder in FOLDERS:
        assert f"realname_guard/{folder}/__init__.py" in names
    assert "realname_guard/conf/base/policy.yaml" in names and "realname_guard/jobs/submit.py" in names
    assert "realname_guard/conf/base/datasets/sichuan2020.yaml" in names  # named declarations ship too
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "realname-guard = realname_guard.cli:main" in entry

    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    py = env / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)], check=True)
    check = (
        "import importlib, realname_guard, realname_guard.pipelines.steps as s\n"
        "assert realname_guard.__version__ and 'run_pipeline' in dir(realname_guard)\n"
        "assert s.commands()['run'] == ('validate', 'features', 'train', 'score')\n"
        f"for name in {FOLDERS!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ModuleNotFoundError:\n"
        "        continue\n"
        "    raise SystemExit(f'{name} is importable')\n"
        "print('ok')\n"
    )
    out = subprocess.run([py, "-c", check], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_public_api_names_resolve_to_the_internals() -> None:
    import realname_guard as rg
    from realname_guard.config import load_config
    from realname_guard.core.kinds import register_kind
    from realname_guard.features.registry import feature
    from realname_guard.pipelines.daily import run_pipeline
    from realname_guard.policy.rules import rule

    assert (rg.load_config, rg.feature, rg.rule, rg.run_pipeline, rg.register_kind) == (
        load_config, feature, rule, run_pipeline, register_kind
    )
    assert rg.RUN == ("validate", "features", "train", "score")
    assert set(rg.__all__) <= set(dir(rg))
    try:
        rg.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")
