"""More simulated phones: the same simulator presenting other SoCs' getprop values, cpufreq trees and
thermal zone names, so farm tests can run several instances with different serials and profiles.

Clocks follow the vendors' public product briefs (android_runner.profiles has the core lists); zone
type names follow the vendors' kernels (Qualcomm `cpu-<cluster>-<core>-usr`, MediaTek `cpu_big0`/
`soc_max`, Samsung's TMU names BIG/MID/LITTLE). `unknown` is a SoC no profile knows, to check that
edgekit measures it with the topology it reads from sysfs instead of refusing it.
Every profile sets `ro.edgekit.simulated=1`: nothing measured here passes for a phone figure.
"""
from __future__ import annotations

from .heat import Thermal


def _freqs(*clusters: tuple[int, int, int]) -> dict[int, tuple[int, int]]:
    """(n cores, max kHz, idle kHz) per cluster, lowest cpu numbers first (little cores are cpu0..)."""
    out, cpu = {}, 0
    for n, fmax, fidle in clusters:
        for _ in range(n):
            out[cpu] = (fmax, fidle)
            cpu += 1
    return out


class SocSim:
    def __init__(self, name: str, platform: str, model: str, hardware: str, cpu_freqs: dict, zones: tuple,
                 abi: str = "arm64-v8a"):
        self.NAME, self.CPU_FREQS, self.THERMAL_ZONES = name, cpu_freqs, zones
        self.hardware = hardware
        self.PROPS = {
            "ro.board.platform": platform, "ro.product.model": model, "ro.product.name": f"edgekit_sim_{name}",
            "ro.product.device": "edgekit_sim", "ro.product.brand": "edgekit", "ro.product.manufacturer": "edgekit",
            "ro.product.cpu.abi": abi, "ro.product.cpu.abilist": f"{abi},armeabi-v7a,armeabi",
            "ro.build.version.sdk": "33", "ro.build.version.release": "13", "ro.hardware": platform,
            "ro.serialno": f"EDGEKITSIM{name.upper()}", "ro.edgekit.simulated": "1",
        }

    def static_files(self) -> dict[str, str]:
        n = len(self.CPU_FREQS)
        files = {"/sys/devices/system/cpu/online": f"0-{n - 1}\n", "/sys/devices/system/cpu/possible": f"0-{n - 1}\n",
                 "/proc/cpuinfo": "".join(f"processor\t: {i}\nBogoMIPS\t: 38.40\n\n" for i in self.CPU_FREQS)
                 + f"Hardware\t: {self.hardware} (simulated)\n"}
        for i, (fmax, _) in self.CPU_FREQS.items():
            base = f"/sys/devices/system/cpu/cpu{i}/cpufreq/"
            files[base + "cpuinfo_max_freq"] = f"{fmax}\n"
            files[base + "cpuinfo_min_freq"] = "300000\n"
            files[base + "scaling_governor"] = "schedutil\n"
        for z, kind in enumerate(self.THERMAL_ZONES):
            files[f"/sys/class/thermal/thermal_zone{z}/type"] = kind + "\n"
        return files

    def Thermal(self) -> Thermal:   # noqa: N802 (the server calls profile.Thermal(), as on profile_sd855)
        return Thermal(self.THERMAL_ZONES, self.CPU_FREQS)


_QCOM_ZONES = ("cpu-0-0-usr", "cpu-1-0-usr", "cpu-1-4-usr", "cpu-1-7-usr", "battery", "skin-therm")
SOCS = {
    "sd865": SocSim("sd865", "kona", "EdgekitSim SD865", "Qualcomm Technologies, Inc SM8250",
                    _freqs((4, 1804800, 691200), (3, 2419200, 710400), (1, 2841600, 844800)), _QCOM_ZONES),
    "sd888": SocSim("sd888", "lahaina", "EdgekitSim SD888", "Qualcomm Technologies, Inc SM8350",
                    _freqs((4, 1804800, 691200), (3, 2419200, 710400), (1, 2841600, 844800)), _QCOM_ZONES),
    "sd8gen2": SocSim("sd8gen2", "kalama", "EdgekitSim SD8Gen2", "Qualcomm Technologies, Inc SM8550",
                      _freqs((3, 2016000, 595200), (4, 2803200, 633600), (1, 3187200, 787200)), _QCOM_ZONES),
    "dimensity9000": SocSim("dimensity9000", "mt6983", "EdgekitSim D9000", "MT6983",
                            _freqs((4, 1800000, 500000), (3, 2850000, 650000), (1, 3050000, 700000)),
                            ("cpu_little0", "cpu_big0", "cpu_big1", "soc_max", "battery")),
    "exynos2100": SocSim("exynos2100", "exynos2100", "EdgekitSim E2100", "Samsung Exynos 2100",
                         _freqs((4, 2210000, 400000), (3, 2808000, 500000), (1, 2912000, 600000)),
                         ("BIG", "MID", "LITTLE", "G3D", "battery")),
    # a SoC no profile knows: two clusters of four
    "unknown": SocSim("unknown", "edgekit_x9", "EdgekitSim X9", "Edgekit X9",
                      _freqs((4, 1500000, 400000), (4, 2200000, 500000)), ("cpu0-thermal", "cpu4-thermal")),
}
