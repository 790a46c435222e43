"""Device profiles: what `--device sd855` promises, checked against what the phone reports.

A mismatch is a warning, not an error: the user may knowingly bench another phone, but the numbers
must then not be filed as SD855 figures, so the device name becomes the detected platform.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Optional

from android_runner.device_info import DeviceInfo
from edge_kit.errors import EdgekitError


class DeviceMismatchWarning(UserWarning):
    pass


@dataclass(frozen=True)
class Profile:
    name: str
    platform: str             # getprop ro.board.platform
    topology: tuple[int, ...]  # cores per cluster, fastest first (SD855: 1 prime + 3 big + 4 little)
    soc: str


PROFILES = {
    "sd855": Profile("sd855", "msmnile", (1, 3, 4), "Snapdragon 855 (SM8150)"),
}


def detect(info: DeviceInfo) -> Optional[Profile]:
    for p in PROFILES.values():
        if info.platform == p.platform:
            return p
    return None


def mismatches(profile: Profile, info: DeviceInfo) -> list[str]:
    found = tuple(len(c.cpus) for c in info.clusters)
    out = []
    if info.platform != profile.platform:
        out.append(f"platform {info.platform or '?'!r} (expected {profile.platform!r})")
    if found != profile.topology:
        out.append(f"core clusters {'+'.join(map(str, found))} (expected {'+'.join(map(str, profile.topology))})")
    return out


def resolve(requested: str, info: DeviceInfo) -> tuple[str, Optional[Profile], list[str]]:
    """-> (device name recorded with results, matched profile or None, warnings issued).

    'auto' names the device after the detected profile, else after the platform. A named profile
    that the phone does not match warns and records the phone under its own platform name."""
    if requested != "auto" and requested not in PROFILES:
        raise EdgekitError(f"unknown device profile {requested!r}; known: auto, {', '.join(PROFILES)}")
    notes: list[str] = []
    if requested == "auto":
        prof = detect(info)
        name = prof.name if prof and not mismatches(prof, info) else (info.platform or "android")
    else:
        prof = PROFILES[requested]
        bad = mismatches(prof, info)
        if bad:
            notes.append(f"--device {requested}: the phone ({info.model or 'unknown model'}) reports "
                         f"{'; '.join(bad)}; its results are recorded as {info.platform or 'android'!r}, "
                         f"not as {requested}")
            name = info.platform or "android"
            prof = None
        else:
            name = prof.name
    for n in notes:
        warnings.warn(n, DeviceMismatchWarning, stacklevel=2)
    if info.simulated:
        name += "-sim"
    return name, prof, notes
