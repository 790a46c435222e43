"""The simulated phones' heat model, shared by every profile (profile_sd855, soc_profiles): a first-order
model in which each thermal zone approaches idle + rise while a tool runs and decays after, and the
cores run at their top clock while busy and idle clock otherwise."""
from __future__ import annotations

import math
import threading
import time

IDLE_MILLIC = 35000
LOAD_RISE_MILLIC = 9000     # how far a sustained benchmark warms the SoC
TAU_UP_S, TAU_DOWN_S = 6.0, 4.0   # short on purpose: tests can watch a rise and a fall in seconds
# zones of these kinds sit on the cores and take the whole rise; the others (skin, battery) lag: a share
_CORE_ZONES, _LAGGING_SHARE = ("cpu", "big", "mid", "little", "soc"), 0.4


class Thermal:
    def __init__(self, zones: tuple, cpu_freqs: dict):
        """zones: thermal zone type names in zone order; cpu_freqs: cpu index -> (max kHz, idle kHz)."""
        self.zones, self.cpu_freqs = zones, cpu_freqs
        self._lock = threading.Lock()
        self._heat, self._busy, self._t = 0.0, 0, time.monotonic()   # heat: 0..1 of LOAD_RISE_MILLIC

    def _advance(self) -> None:
        now = time.monotonic()
        dt, self._t = now - self._t, now
        if self._busy:
            self._heat += (1.0 - self._heat) * (1 - math.exp(-dt / TAU_UP_S))
        else:
            self._heat *= math.exp(-dt / TAU_DOWN_S)

    def set_busy(self, busy: bool) -> None:
        with self._lock:
            self._advance()
            self._busy += 1 if busy else -1

    def dynamic_files(self) -> dict[str, str]:
        with self._lock:
            self._advance()
            heat, busy = self._heat, self._busy > 0
        files = {}
        for z, kind in enumerate(self.zones):
            share = 1.0 if kind.lower().startswith(_CORE_ZONES) else _LAGGING_SHARE
            files[f"/sys/class/thermal/thermal_zone{z}/temp"] = f"{int(IDLE_MILLIC + share * LOAD_RISE_MILLIC * heat)}\n"
        for i, (fmax, fidle) in self.cpu_freqs.items():
            files[f"/sys/devices/system/cpu/cpu{i}/cpufreq/scaling_cur_freq"] = f"{fmax if busy else fidle}\n"
        return files
