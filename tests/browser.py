"""Headless Chromium (Debian's `chromium`, installed by `make test`) with the network switched off."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def chromium() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("headless Chromium not found: `make test` installs Debian's chromium (apt-get install chromium)")


def _offline() -> list[str]:
    """A prefix that runs the browser in a network namespace of its own (no network at all), where
    this user may make one; else nothing (the proxy flags below still block every remote fetch)."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode == 0:
        return [unshare, "-rn"]
    return []


def screenshot(page: Path, png: Path, width: int = 1200, height: int = 4000) -> Path:
    """Render `page` offline and write a PNG of it."""
    cmd = [*_offline(), chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--no-first-run",
           f"--window-size={width},{height}", f"--screenshot={png}", page.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or not png.is_file():
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return png


def dump_dom(page: Path) -> str:
    """The page's DOM after its scripts ran, rendered offline."""
    cmd = [*_offline(), chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--virtual-time-budget=5000",
           "--dump-dom", page.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def colour_share(png: Path, rgb: tuple[int, int, int], tolerance: int = 12) -> float:
    """Share of the screenshot's pixels within `tolerance` of colour `rgb` (0..255 each)."""
    import matplotlib.image as mpimg

    pixels = mpimg.imread(str(png))[..., :3]
    pixels = (pixels * 255 if pixels.dtype.kind == "f" else pixels).astype(int)
    close = np.all(np.abs(pixels - np.array(rgb)) <= tolerance, axis=-1)
    return float(close.mean())
