"""Clusters and masks from per-core frequencies, temperature units, profile matching, cool-down."""
import time
import warnings

import pytest

from android_runner.device_info import DeviceInfo, mask_for, temp_celsius
from android_runner.profiles import DeviceMismatchWarning, resolve
from edge_kit.errors import EdgekitError

SD855 = {**{i: 1785600 for i in range(4)}, **{i: 2419200 for i in range(4, 7)}, 7: 2841600}
SD865_LIKE = {**{i: 1804800 for i in range(4)}, **{i: 2419200 for i in range(4, 7)}, 7: 2841600}


def _info(freqs, platform="msmnile", simulated=False):
    return DeviceInfo("Pixel", platform, "arm64-v8a", 29, simulated, freqs)


def test_masks_come_from_frequencies():
    info = _info(SD855)
    assert [c.cpus for c in info.clusters] == [[7], [4, 5, 6], [0, 1, 2, 3]]
    assert info.cluster_masks() == ["80", "70", "0f"]
    assert info.prime_mask() == "80" and info.big_mask() == "f0"


def test_other_topologies():
    # 2+6 (e.g. SD730): the prime 'cluster' is the two fast cores
    two_six = {**{i: 1804800 for i in range(6)}, 6: 2208000, 7: 2208000}
    assert _info(two_six).cluster_masks() == ["c0", "3f"]
    assert _info({0: 1, 1: 1}).big_mask() == "03"        # one cluster: all cores
    assert mask_for([0, 9]) == "201" and mask_for([0]) == "01"


def test_temperature_units():
    assert temp_celsius("35000") == 35.0      # millidegrees
    assert temp_celsius("41") == 41.0         # degrees
    assert temp_celsius("-273000") is None and temp_celsius("0") is None and temp_celsius("x") is None


def test_profile_match_and_auto():
    assert resolve("sd855", _info(SD855))[0] == "sd855"
    assert resolve("auto", _info(SD855))[0] == "sd855"
    assert resolve("auto", _info(SD855, simulated=True))[0] == "sd855-sim"
    assert resolve("auto", _info(SD865_LIKE, platform="kona"))[0] == "sd865"     # issue 15: a known SoC now
    assert resolve("auto", _info(SD865_LIKE, platform="mt9999"))[0] == "mt9999"  # unknown: named after its platform


def test_profile_mismatch_warns_and_is_not_filed_as_sd855():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        name, prof, notes = resolve("sd855", _info(SD865_LIKE, platform="kona"))
    assert name == "kona" and prof is None   # asked for sd855: never filed as sd855 (nor as sd865 unasked)
    assert any(issubclass(x.category, DeviceMismatchWarning) and "msmnile" in str(x.message) for x in w)
    # same platform but a different core layout (e.g. a misreported cpufreq) also warns
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        _, _, notes = resolve("sd855", _info({i: 1785600 for i in range(8)}))
    assert notes and "core clusters 8 (expected 1+3+4)" in notes[0]


def test_unknown_profile():
    with pytest.raises(EdgekitError, match="unknown device profile 'sd999'"):
        resolve("sd999", _info(SD855))


@pytest.mark.slow
def test_cool_down_waits_for_the_simulated_soc(tmp_path):
    server = pytest.importorskip("android_runner.simulator.server")
    from android_runner.device_info import read_device_info
    from android_runner.thermal import CoolDown, snapshot
    from android_runner.transport import AdbTransport

    with server.DeviceSimulator(port=0) as sim:
        t = AdbTransport(sim.serial, key_path=tmp_path / "adbkey").connect()
        try:
            info = read_device_info(t)
            sim.device.thermal.set_busy(True)          # as if a benchmark had been running
            time.sleep(1.5)
            hot = snapshot(t, info)
            sim.device.thermal.set_busy(False)
            assert hot["max_temp_c"] > 35.3 and set(hot["cur_freq_khz"].values()) >= {2841600}
            res = CoolDown(threshold_c=35.3, timeout_s=20, poll_s=0.25).wait(t, info)
            assert res["reached"] and res["waited_s"] > 0 and res["end_max_c"] < 35.3 <= res["start_max_c"]
            gave_up = CoolDown(threshold_c=20.0, timeout_s=0.5, poll_s=0.2).wait(t, info)
            assert gave_up["reached"] is False      # never cooler than idle: bounded, and says so
        finally:
            t.close()


class HostShell:
    """Runs the transport's exact command line with the host's /bin/sh: a real POSIX shell standing in
    for the phone's mksh, to check the batched sysfs reader's script."""

    label = "host-sh"
    no_sh_loop = False

    def shell(self, argv, timeout_s=60.0):
        import subprocess

        from android_runner.transport import RC_MARKER, quote_argv, split_exit_marker
        cmd = quote_argv(argv) + " 2>&1; echo " + RC_MARKER + "$?"
        return split_exit_marker(subprocess.run(["/bin/sh", "-c", cmd], capture_output=True).stdout, self.label)


def test_batched_reader_on_a_real_posix_shell(tmp_path):
    from android_runner.device_info import read_files
    (tmp_path / "a b").write_text("2841600\n")
    (tmp_path / "c").write_text("cpu-1-4-usr\nsecond line\n")
    (tmp_path / "empty").write_text("")
    paths = [str(tmp_path / n) for n in ("a b", "c", "empty", "missing; touch pwned")]
    t = HostShell()
    got = read_files(t, paths)
    assert got == {paths[0]: "2841600", paths[1]: "cpu-1-4-usr", paths[2]: None, paths[3]: None}
    assert t.no_sh_loop is False                       # one round trip, no fallback
    assert not (tmp_path / "pwned").exists()
