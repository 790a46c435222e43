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
    topology: tuple[int, ...]  # cores per cluster by max clock, fastest first (SD855: 1 prime + 3 big + 4 little)
    soc: str
    cores: str = ""           # the vendor's published core list (documentation; masks come from the phone)
    thermal_zones: tuple[str, ...] = ()   # zone-type globs the cool-down gate watches (empty: every zone)


# From the vendors' public product briefs (core types and clocks) and the platform names their kernels
# and getprop report. Topology is what cpufreq shows: cores sharing a max clock form one cluster (on the
# SD8 Gen 2 the two A715 and two A710 share one 2.8 GHz policy: 1+4+3). Masks are never taken from here:
# AndroidDevice reads each phone's own cpuinfo_max_freq, so a phone that deviates still pins correctly.
_QCOM_ZONES = ("cpu*", "cpuss*")
PROFILES = {
    "sd855": Profile("sd855", "msmnile", (1, 3, 4), "Snapdragon 855 (SM8150)",
                     "1x A76 2.84 GHz + 3x A76 2.42 GHz + 4x A55 1.78 GHz", _QCOM_ZONES),
    "sd865": Profile("sd865", "kona", (1, 3, 4), "Snapdragon 865 (SM8250)",
                     "1x A77 2.84 GHz + 3x A77 2.42 GHz + 4x A55 1.80 GHz", _QCOM_ZONES),
    "sd888": Profile("sd888", "lahaina", (1, 3, 4), "Snapdragon 888 (SM8350)",
                     "1x X1 2.84 GHz + 3x A78 2.42 GHz + 4x A55 1.80 GHz", _QCOM_ZONES),
    "sd8gen2": Profile("sd8gen2", "kalama", (1, 4, 3), "Snapdragon 8 Gen 2 (SM8550)",
                       "1x X3 3.19 GHz + 2x A715 2.8 GHz + 2x A710 2.8 GHz + 3x A510 2.0 GHz", _QCOM_ZONES),
    "dimensity9000": Profile("dimensity9000", "mt6983", (1, 3, 4), "MediaTek Dimensity 9000 (MT6983)",
                             "1x X2 3.05 GHz + 3x A710 2.85 GHz + 4x A510 1.8 GHz",
                             ("cpu*", "soc_max", "mtktscpu")),
    "exynos2100": Profile("exynos2100", "exynos2100", (1, 3, 4), "Samsung Exynos 2100",
                          "1x X1 2.91 GHz + 3x A78 2.81 GHz + 4x A55 2.2 GHz", ("BIG", "MID", "LITTLE")),
}


def gate_zones(profile: Optional[Profile], info: DeviceInfo) -> Optional[dict[str, str]]:
    """The thermal zones (temp path -> type) the cool-down gate should watch: the profile's CPU zones
    when the phone has any, else None (watch every zone, as for an unknown SoC)."""
    import fnmatch

    if profile is None or not profile.thermal_zones:
        return None
    picked = {p: z for p, z in info.thermal_zones.items()
              if any(fnmatch.fnmatchcase(z, pat) for pat in profile.thermal_zones)}
    return picked or None


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
