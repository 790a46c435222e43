"""Every argument reaching a device shell stays one literal word: checked with a real POSIX shell
(/bin/sh on this host) and with the device simulator's shell parser when it exists."""
import subprocess

import pytest

from android_runner.push import remote_path, safe_name
from android_runner.tools import RunSpec, ToolError, paddlelite_argv, tflite_argv
from android_runner.transport import RC_MARKER, quote_argv

NASTY = [
    "m; touch PWNED $(touch PWNED2).tflite",
    "a b  c",
    "it's \"quoted\"",
    "`touch PWNED3`",
    "$HOME ${PATH} $?",
    "x && touch PWNED4 || touch PWNED5",
    "> PWNED6",
    "back\\slash\ttab",
    "",
    "-rf",
]


def _sh_words(cmdline: str, cwd) -> list[str]:
    """Let /bin/sh parse cmdline as arguments to printf and return the words it saw."""
    out = subprocess.run(["/bin/sh", "-c", "printf '%s\\0' " + cmdline], cwd=cwd, capture_output=True, check=True)
    return out.stdout.decode().split("\0")[:-1]


def test_quote_argv_survives_a_real_shell_unchanged(tmp_path):
    assert _sh_words(quote_argv(NASTY), tmp_path) == NASTY
    assert list(tmp_path.iterdir()) == []      # nothing ran: no PWNED* files


def test_quote_argv_refuses_a_command_string():
    with pytest.raises(TypeError):
        quote_argv("ls /data; reboot")


def test_rc_marker_suffix_is_not_user_controlled():
    # The only unquoted text the transport adds is a constant; a user word cannot fake the marker's
    # exit code because the marker is matched at the very end of the output.
    assert RC_MARKER.isidentifier() or RC_MARKER.rstrip("=").replace("_", "").isalnum()


def test_builders_keep_model_path_as_one_argument(tmp_path):
    model = "/data/local/tmp/edgekit/abc/" + NASTY[0]
    spec = RunSpec(threads=1, warmup=3, repeats=7, cpu_mask="80")
    argv = tflite_argv("/data/local/tmp/edgekit/t/benchmark_model", model, spec)
    assert argv[:3] == ["taskset", "80", "/data/local/tmp/edgekit/t/benchmark_model"]
    assert f"--graph={model}" in argv
    assert {"--num_threads=1", "--warmup_runs=3", "--num_runs=7", "--min_secs=0", "--use_xnnpack=true"} <= set(argv)
    assert _sh_words(quote_argv(argv), tmp_path) == argv
    assert list(tmp_path.iterdir()) == []


def test_paddlelite_builder_flags():
    argv = paddlelite_argv("bb", "m.nb", "1,3,224,224", RunSpec(threads=4, warmup=10, repeats=50, cpu_mask="f0"))
    assert argv == ["taskset", "f0", "bb", "--optimized_model_file=m.nb", "--input_shape=1,3,224,224",
                    "--backend=arm", "--warmup=10", "--repeats=50", "--threads=4", "--power_mode=3"]
    # no mask: Lite binds to the big cluster itself (power_mode 0, HIGH)
    argv = paddlelite_argv("bb", "m.nb", "1,3,8,8", RunSpec(backend="opencl"))
    assert argv[0] == "bb" and "--power_mode=0" in argv and "--backend=opencl,arm" in argv


def test_tflite_gpu_delegate_flag():
    argv = tflite_argv("bm", "m.tflite", RunSpec(backend="gpu", min_secs=0.5))
    assert "--use_gpu=true" in argv and "--min_secs=0.5" in argv and "--use_xnnpack=true" not in argv


@pytest.mark.parametrize("bad", [
    dict(cpu_mask="80; reboot"), dict(cpu_mask=""), dict(threads=0), dict(repeats=0), dict(power_mode=7),
    dict(backend="cuda"),
])
def test_builders_reject_bad_settings(bad):
    with pytest.raises(ToolError):
        tflite_argv("bm", "m.tflite", RunSpec(**bad)) if bad.get("backend") != "cuda" else \
            paddlelite_argv("bb", "m.nb", "1", RunSpec(**bad))


def test_safe_remote_names():
    assert safe_name(NASTY[0]) == "m_touch_PWNED_touch_PWNED2_.tflite"
    assert safe_name("../../etc/passwd") == "_.._etc_passwd".lstrip(".-") or "/" not in safe_name("../../etc/passwd")
    assert "/" not in safe_name("../../etc/passwd") and not safe_name("..").startswith(".")
    assert safe_name("") == "file"
    p = remote_path("ab" * 32, "model v1.nb")
    assert p == "/data/local/tmp/edgekit/abababababababab/model_v1.nb"


def test_simulator_shell_parses_quoted_words_back():
    shell = pytest.importorskip("android_runner.simulator.shell")
    cmds = shell.parse(quote_argv(NASTY))
    assert len(cmds) == 1
    assert [shell.expand(w, {}, 0) for w in cmds[0].words] == NASTY
