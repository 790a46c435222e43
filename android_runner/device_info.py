"""What the phone says about itself: getprop, per-core max frequency -> clusters and taskset masks,
thermal zones, current frequencies. Clusters come from the phone's own cpufreq files, never a table:
the same 'SD855' name covers phones with different prime-core clocks.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional

CPU_DIR = "/sys/devices/system/cpu"
THERMAL_DIR = "/sys/class/thermal"

# One constant script; the paths travel as positional arguments ("$@"), each quoted by the transport,
# so reading 80 thermal zones is one round trip instead of 80 and no path is ever spliced into code.
_READ_FILES = 'for f in "$@"; do printf "%s\\t" "$f"; (head -n 1 "$f" 2>/dev/null || echo) | tr -d "\\n"; echo; done'


def read_files(t, paths: list[str]) -> dict[str, Optional[str]]:
    """First line of each file (None when unreadable), in one shell call."""
    if not paths:
        return {}
    got: dict[str, Optional[str]] = {p: None for p in paths}
    out, rc = ("", 1) if getattr(t, "no_sh_loop", False) else t.shell(["sh", "-c", _READ_FILES, "sh", *paths])
    seen = 0
    for ln in out.splitlines():
        path, sep, value = ln.partition("\t")
        if sep and path in got:
            got[path] = value.strip() or None
            seen += 1
    if rc != 0 or seen == 0:
        # A minimal shell without `sh -c` loops (the simulator's): one `cat` per file, and remember.
        t.no_sh_loop = True
        for p in paths:
            text, rc = t.shell(["cat", p])
            got[p] = (text.splitlines() or [""])[0].strip() or None if rc == 0 else None
    return got


def list_dir(t, path: str) -> list[str]:
    out, rc = t.shell(["ls", path])
    return out.split() if rc == 0 else []


def getprop(t, name: str) -> str:
    out, _ = t.shell(["getprop", name])
    return out.strip()


def mask_for(cpus) -> str:
    """taskset mask in hex, two digits at least: cpu7 -> '80', cpus 0-3 -> '0f'."""
    v = 0
    for c in cpus:
        v |= 1 << c
    return format(v, "02x")


@dataclass
class Cluster:
    cpus: list[int]
    max_khz: int

    @property
    def mask(self) -> str:
        return mask_for(self.cpus)


@dataclass
class DeviceInfo:
    model: str
    platform: str
    abi: str
    sdk: int
    simulated: bool
    max_khz: dict[int, int]                   # cpu -> cpuinfo_max_freq
    thermal_zones: dict[str, str] = field(default_factory=dict)  # temp file path -> zone type
    gate_zones: Optional[dict[str, str]] = None   # the profile's CPU zones the cool-down watches (None: all)

    @property
    def n_cores(self) -> int:
        return len(self.max_khz)

    @property
    def clusters(self) -> list[Cluster]:
        return clusters_from_freqs(self.max_khz)

    def cluster_masks(self) -> list[str]:
        """Fastest cluster first: SD855 -> ['80', '70', '0f']."""
        return [c.mask for c in self.clusters]

    def prime_mask(self) -> str:
        return self.clusters[0].mask

    def big_mask(self) -> str:
        """Every core except the slowest cluster (SD855: cpu4-7 -> 'f0'); all cores on a 1-cluster chip."""
        cl = self.clusters
        cpus = [c for k in (cl[:-1] if len(cl) > 1 else cl) for c in k.cpus]
        return mask_for(cpus)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["clusters"] = [{"cpus": c.cpus, "max_khz": c.max_khz, "mask": c.mask} for c in self.clusters]
        d["thermal_zone_count"] = len(self.thermal_zones)
        d.pop("thermal_zones")
        d["gate_zones"] = sorted(self.gate_zones.values()) if self.gate_zones else "all"
        return d


def clusters_from_freqs(max_khz: dict[int, int]) -> list[Cluster]:
    """Cores grouped by max frequency, fastest first. A prime core is its own cluster because its
    max clock differs from its siblings (2.84 vs 2.42 GHz on SD855)."""
    by: dict[int, list[int]] = {}
    for cpu, f in sorted(max_khz.items()):
        by.setdefault(f, []).append(cpu)
    return [Cluster(cpus, f) for f, cpus in sorted(by.items(), key=lambda kv: -kv[0])]


def _cpu_ids(t) -> list[int]:
    ids = []
    for name in list_dir(t, CPU_DIR):
        if name.startswith("cpu") and name[3:].isdigit():
            ids.append(int(name[3:]))
    return sorted(ids)


def read_max_freqs(t) -> dict[int, int]:
    cpus = _cpu_ids(t)
    paths = {c: f"{CPU_DIR}/cpu{c}/cpufreq/cpuinfo_max_freq" for c in cpus}
    vals = read_files(t, list(paths.values()))
    return {c: int(vals[p]) for c, p in paths.items() if vals[p] and vals[p].isdigit()}


def read_cur_freqs(t, cpus) -> dict[int, Optional[int]]:
    paths = {c: f"{CPU_DIR}/cpu{c}/cpufreq/scaling_cur_freq" for c in cpus}
    vals = read_files(t, list(paths.values()))
    return {c: (int(vals[p]) if vals[p] and vals[p].isdigit() else None) for c, p in paths.items()}


def read_thermal_zone_types(t) -> dict[str, str]:
    zones = [z for z in list_dir(t, THERMAL_DIR) if z.startswith("thermal_zone")]
    types = read_files(t, [f"{THERMAL_DIR}/{z}/type" for z in zones])
    return {f"{THERMAL_DIR}/{z}/temp": (types[f"{THERMAL_DIR}/{z}/type"] or z) for z in zones}


def temp_celsius(raw: Optional[str]) -> Optional[float]:
    """Zones report millidegrees (35000), a few report degrees (35). Disabled sensors report 0 or
    negative values; those are dropped rather than allowed to hide a hot zone."""
    try:
        v = float(raw)
    except (TypeError, ValueError):
        return None
    c = v / 1000.0 if abs(v) >= 1000 else v
    return c if 0 < c < 150 else None


def read_temps(t, zones: dict[str, str]) -> dict[str, float]:
    vals = read_files(t, list(zones))
    out = {}
    for path, zone_type in zones.items():
        c = temp_celsius(vals.get(path))
        if c is not None:
            key = zone_type if zone_type not in out else f"{zone_type}@{path.split('/')[-2]}"
            out[key] = c
    return out


def read_device_info(t) -> DeviceInfo:
    sdk = getprop(t, "ro.build.version.sdk")
    max_khz = read_max_freqs(t)
    if not max_khz:
        from android_runner.transport import DeviceError
        raise DeviceError(f"{t.label}: no readable {CPU_DIR}/cpu*/cpufreq/cpuinfo_max_freq; is this an Android device?")
    return DeviceInfo(
        model=getprop(t, "ro.product.model"),
        platform=getprop(t, "ro.board.platform"),
        abi=getprop(t, "ro.product.cpu.abi"),
        sdk=int(sdk) if sdk.isdigit() else 0,
        simulated=getprop(t, "ro.edgekit.simulated") == "1",
        max_khz=max_khz,
        thermal_zones=read_thermal_zone_types(t),
    )
