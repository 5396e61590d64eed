"""The command line the package is compared with: ``$OPTISCAPE_BIN``, else the binary that
``cargo build --release`` / ``cargo test --release`` left in ``$CARGO_TARGET_DIR`` (or ``target``). Without one the
comparisons fail: they are the point of these tests."""

import json
import os
import subprocess
from pathlib import Path

# SciPy's BFGS and Nelder-Mead are compared with ours iterate by iterate, evaluation counts
# included; their dot products run in NumPy's OpenBLAS, whose kernels round differently per CPU
# (on an AVX-512 machine its SkylakeX kernels change one line search's evaluation count on
# `seed` by 2). The reference is its Haswell kernels (AVX2 with fused multiply-adds), which our
# BFGS follows; set before NumPy loads OpenBLAS. docs/methods.md, "BFGS".
os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _binary() -> Path:
    if os.environ.get("OPTISCAPE_BIN"):
        return Path(os.environ["OPTISCAPE_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    for profile in ("release", "debug"):
        p = target / profile / "optiscape"
        if p.exists():
            return p
    raise RuntimeError(
        "no optiscape binary to compare with: run `cargo build --release` first or set OPTISCAPE_BIN"
    )


class Cli:
    def __init__(self, binary: Path):
        self.binary = binary

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.binary), *args], capture_output=True, text=True, timeout=600
        )

    def out(self, *args: str) -> str:
        r = self.run(*args)
        assert r.returncode == 0, f"optiscape {' '.join(args)}: {r.stderr}"
        return r.stdout

    def json(self, *args: str):
        return json.loads(self.out(*args))

    def error(self, *args: str) -> str:
        """The one-line message of a refused command (exit 2)."""
        r = self.run(*args)
        assert r.returncode == 2, f"optiscape {' '.join(args)} exited {r.returncode}: {r.stderr}"
        line = r.stderr.strip()
        assert line.startswith("optiscape: error: "), line
        return line[len("optiscape: error: ") :]


@pytest.fixture(scope="session")
def cli() -> Cli:
    return Cli(_binary())
