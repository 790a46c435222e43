"""Cool-down before a run and a record of temperatures and clocks around it.

A phone that is still hot from the previous model throttles the next one; published SD855 tables
sleep ~10 s between models (ncnn, mobile-ai-bench). We wait until the hottest zone is under a
threshold (bounded by a timeout), or for a fixed time when asked, and keep what we saw.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional

from android_runner.device_info import DeviceInfo, read_cur_freqs, read_temps


def snapshot(t, info: DeviceInfo) -> dict:
    temps = read_temps(t, info.thermal_zones)
    return {
        "temps_c": temps,
        "max_temp_c": max(temps.values()) if temps else None,
        "cur_freq_khz": read_cur_freqs(t, sorted(info.max_khz)),
    }


@dataclass
class CoolDown:
    threshold_c: Optional[float] = 45.0   # None: no temperature wait
    fixed_s: float = 0.0                  # always sleep this long first
    timeout_s: float = 120.0
    poll_s: float = 2.0

    def wait(self, t, info: DeviceInfo, sleep: Callable[[float], None] = time.sleep,
             clock: Callable[[], float] = time.monotonic) -> dict:
        """-> {waited_s, start_max_c, end_max_c, reached}. `reached` False means we gave up at the
        timeout: the run still happens, and the record says it started hot."""
        t0 = clock()
        if self.fixed_s > 0:
            sleep(self.fixed_s)
        start = end = read_max(t, info)
        reached = True
        if self.threshold_c is not None and end is not None:
            while end >= self.threshold_c:
                if clock() - t0 >= self.timeout_s:
                    reached = False
                    break
                sleep(self.poll_s)
                end = read_max(t, info)
        return {"waited_s": round(clock() - t0, 3), "start_max_c": start, "end_max_c": end,
                "threshold_c": self.threshold_c, "reached": reached}


def read_max(t, info: DeviceInfo) -> Optional[float]:
    temps = read_temps(t, info.gate_zones or info.thermal_zones)
    return max(temps.values()) if temps else None
