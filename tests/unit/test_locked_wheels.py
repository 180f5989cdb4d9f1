"""Every locked runtime dependency has a wheel the python3.11 Lambda runtime accepts.

The runtime is Amazon Linux 2 (glibc 2.26), arm64 as template.yaml builds it and x86_64 as
the repository's tests import it; a wheel tagged manylinux_2_27 or later (or musllinux only)
fails `sam build` or, forced in, fails at run time. The next bump that breaks this names the
package here.
"""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GLIBC = (2, 26)
LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def _runtime_packages() -> set[str]:
    lines = (ROOT / "layers/common/requirements.txt").read_text().splitlines()
    return {
        re.split(r"[=<>\[; ]", line, maxsplit=1)[0].lower().replace("_", "-")
        for line in lines
        if line and not line.startswith((" ", "#"))
    }


def _accepts(wheel: str, arch: str) -> bool:
    tags = wheel.removesuffix(".whl").split("-")
    python, abi, platforms = tags[-3], tags[-2], tags[-1].split(".")
    if not ({"py3", "cp311", "py311"} & set(python.split("."))) and "abi3" not in abi:
        return False
    for platform in platforms:
        if platform == "any":
            return True
        match = re.fullmatch(r"manylinux_(\d+)_(\d+)_(\w+)", platform)
        if match and match[3] == arch and (int(match[1]), int(match[2])) <= GLIBC:
            return True
        legacy, _, rest = platform.partition("_")
        if legacy in LEGACY and rest == arch and LEGACY[legacy] <= GLIBC:
            return True
    return False


@pytest.mark.parametrize("arch", ["aarch64", "x86_64"])
def test_every_locked_runtime_package_has_a_wheel_for_the_lambda_runtime(arch: str) -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages = {p["name"]: p for p in lock["package"]}
    runtime = _runtime_packages()
    assert runtime, "layers/common/requirements.txt lists no package"
    unfit = sorted(
        f"{name}=={packages[name]['version']}"
        for name in runtime
        if not any(_accepts(Path(w["url"]).name, arch) for w in packages[name].get("wheels", []))
    )
    assert not unfit, f"no wheel for python3.11 on glibc 2.26 {arch}: {unfit}"


def test_a_wheel_needing_a_newer_glibc_or_musl_is_refused() -> None:
    assert not _accepts(
        "pillow-13.0.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", "x86_64"
    )
    assert not _accepts("pillow-13.0.0-cp311-cp311-musllinux_1_2_aarch64.whl", "aarch64")
    assert _accepts(
        "pillow-12.2.0-cp311-cp311-manylinux2014_aarch64.manylinux_2_17_aarch64.whl", "aarch64"
    )
