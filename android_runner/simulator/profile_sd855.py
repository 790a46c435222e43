"""The Snapdragon 855 (SM8150) profile the simulator presents: getprop values and the sysfs trees.

Values follow shared/notes/toolchain-facts.md. `ro.edgekit.simulated=1` is ALWAYS present so a client can
label every number measured here as simulated; a real phone never has that property.
"""
from __future__ import annotations

from .heat import IDLE_MILLIC, LOAD_RISE_MILLIC, TAU_DOWN_S, TAU_UP_S  # noqa: F401 (this profile's constants)
from .heat import Thermal as _Heat

NAME = "sd855"

PROPS = {
    "ro.board.platform": "msmnile",
    "ro.product.model": "EdgekitSim SD855",
    "ro.product.name": "edgekit_sim_sd855",
    "ro.product.device": "edgekit_sim",
    "ro.product.brand": "edgekit",
    "ro.product.manufacturer": "edgekit",
    "ro.product.cpu.abi": "arm64-v8a",
    "ro.product.cpu.abilist": "arm64-v8a,armeabi-v7a,armeabi",
    "ro.build.version.sdk": "29",
    "ro.build.version.release": "10",
    "ro.hardware": "qcom",
    "ro.serialno": "EDGEKITSIM855",
    "ro.edgekit.simulated": "1",
}

# cpu index -> (max kHz, idle kHz); 4 x A55, 3 x A76, 1 x A76 prime
CPU_FREQS = {**{i: (1785600, 576000) for i in range(4)},
             **{i: (2419200, 710400) for i in range(4, 7)},
             7: (2841600, 825600)}
THERMAL_ZONES = ("cpu-0-0-usr", "cpu-1-0-usr", "cpu-1-4-usr", "skin-therm")


def static_files() -> dict[str, str]:
    """Device path -> content for the read-only /sys and /proc trees (dynamic ones refreshed by Thermal)."""
    files = {"/sys/devices/system/cpu/online": "0-7\n",
             "/sys/devices/system/cpu/possible": "0-7\n",
             "/proc/cpuinfo": "".join(
                 f"processor\t: {i}\nBogoMIPS\t: 38.40\nFeatures\t: fp asimd aes pmull sha1 sha2 crc32 atomics"
                 f" fphp asimdhp\nCPU implementer\t: 0x51\nCPU part\t: {'0x805' if i < 4 else '0x804'}\n\n"
                 for i in CPU_FREQS) + "Hardware\t: Qualcomm Technologies, Inc SM8150 (simulated)\n"}
    for i, (fmax, _) in CPU_FREQS.items():
        base = f"/sys/devices/system/cpu/cpu{i}/cpufreq/"
        files[base + "cpuinfo_max_freq"] = f"{fmax}\n"
        files[base + "cpuinfo_min_freq"] = "300000\n"
        files[base + "scaling_governor"] = "schedutil\n"
    for z, kind in enumerate(THERMAL_ZONES):
        files[f"/sys/class/thermal/thermal_zone{z}/type"] = kind + "\n"
    return files


def Thermal() -> _Heat:   # noqa: N802 (the server calls profile.Thermal() on every profile)
    """This profile's zones and clocks in the shared heat model (android_runner.simulator.heat)."""
    return _Heat(THERMAL_ZONES, CPU_FREQS)
