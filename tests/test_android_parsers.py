"""The on-device tools' verbatim output -> Measurement (ms); garbage -> one clear error."""
import pytest

from android_runner.parsers import (ToolOutputError, parse_paddlelite_benchmark, parse_tflite_benchmark,
                                    parse_tool_output)

TFLITE_OUT = """\
STARTING!
Log parameter values verbosely: [0]
Num threads: [1]
Graph: [/data/local/tmp/edgekit/0123456789abcdef/mobilenet_v3.tflite]
Loaded model /data/local/tmp/edgekit/0123456789abcdef/mobilenet_v3.tflite
The input model file size (MB): 2.54
Initialized session in 26.063ms.
Running benchmark for at least 10 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
count=12 first=85963 curr=80511 min=79002 max=85963 avg=84306.2 std=1733

Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
count=50 first=79449 curr=81350 min=77385 max=88213 avg=79732 std=1929

Inference timings in us: Init: 26063, First inference: 85963, Warmup (avg): 84306.2, Inference (avg): 79732
Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE to the actual memory footprint of the model at runtime. Take the information at your discretion.
Memory footprint delta from the start of the tool (MB): init=3.82031 overall=10.3906
Overall peak memory footprint (MB) via periodic monitoring: 12.6328
"""

PADDLE_OUT = """\
======= Device Info =======
Brand: Xiaomi
Device: cepheus
Model: MI 9
Android Version: 10
Android API Level: 29

======= Model Info =======
optimized_model_file: /data/local/tmp/edgekit/abcdef0123456789/model.nb
input_shape: 1,3,224,224

======= Runtime Info =======
benchmark_bin version: acf6614
threads: 1
power_mode: 3
warmup: 10
repeats: 20
result_path:

======= Backend Info =======
backend: arm
cpu precision: fp32

======= Perf Info =======
Time(unit: ms):
init  = 15.305      
first = 43.670      
min   = 32.577      
max   = 32.895      
avg   = 32.723      

Memory Usage(unit: MB):
init  = 21.5        
peak  = 48.25       
"""


def test_tflite_takes_last_stat_line_and_converts_us_to_ms():
    m = parse_tflite_benchmark(TFLITE_OUT)
    assert m.count == 50                       # not the warmup line's 12
    assert m.min_ms == pytest.approx(77.385)
    assert m.max_ms == pytest.approx(88.213)
    assert m.mean_ms == pytest.approx(79.732)
    assert m.std_ms == pytest.approx(1.929)
    assert m.median_ms is None                 # the tool does not report one: never invented
    assert m.init_ms == pytest.approx(26.063)
    assert m.first_ms == pytest.approx(85.963)
    assert m.extra["warmup_avg_ms"] == pytest.approx(84.3062)
    assert m.extra["memory_delta_mb"] == {"init": pytest.approx(3.82031), "overall": pytest.approx(10.3906)}
    assert m.peak_rss_mb == pytest.approx(12.6328)


def test_tflite_info_log_prefix_of_newer_builds():
    text = "".join("INFO: " + ln + "\n" for ln in TFLITE_OUT.splitlines())
    m = parse_tflite_benchmark(text)
    assert m.count == 50 and m.mean_ms == pytest.approx(79.732) and m.init_ms == pytest.approx(26.063)
    assert m.peak_rss_mb == pytest.approx(12.6328)


def test_tflite_all_same_form():
    text = ("Running benchmark for at least 1 iterations\ncount=1 curr=81000\n\n"
            "Running benchmark for at least 3 iterations\ncount=3 curr=81350(all same)\n"
            "Inference timings in us: Init: 100, First inference: 81350, Warmup (avg): 81000, Inference (avg): 81350\n")
    m = parse_tflite_benchmark(text)
    assert m.count == 3
    assert m.min_ms == m.max_ms == m.mean_ms == pytest.approx(81.35)
    assert m.std_ms == 0.0
    assert m.extra["all_same"] is True
    assert m.peak_rss_mb is None and "memory_delta_mb" not in m.extra


def test_tflite_ignores_op_profiling_timings_after_summary():
    text = TFLITE_OUT + ("Profiling Info for Benchmark Initialization:\n"
                         "============================== Run Order ==============================\n"
                         "count=1 curr=999999\n"
                         "Timings (microseconds): count=50 first=1 curr=1 min=1 max=1 avg=1 std=0\n")
    m = parse_tflite_benchmark(text)
    assert m.count == 50 and m.mean_ms == pytest.approx(79.732)


def test_paddlelite_perf_block_with_trailing_spaces_and_memory_block():
    m = parse_paddlelite_benchmark(PADDLE_OUT)
    assert (m.init_ms, m.first_ms, m.min_ms, m.max_ms, m.mean_ms) == pytest.approx(
        (15.305, 43.670, 32.577, 32.895, 32.723))
    assert m.count == 20                       # from Runtime Info's repeats
    assert m.init_ms == pytest.approx(15.305)  # the Memory block's `init  =` did not overwrite it
    assert m.extra["memory_mb"] == {"init": 21.5, "peak": 48.25}
    assert m.peak_rss_mb == 48.25
    assert m.extra["device_info"]["Model"] == "MI 9"
    assert m.std_ms is None


def test_paddlelite_memory_kb_not_supported_yet():
    text = PADDLE_OUT.split("Memory Usage")[0] + (
        "Memory Usage(unit: kB):\ninit  = Not supported yet\navg   = Not supported yet\n")
    m = parse_paddlelite_benchmark(text)
    assert m.init_ms == pytest.approx(15.305) and m.mean_ms == pytest.approx(32.723)
    assert m.extra["memory_mb"] == {"init": None, "avg": None}
    assert m.peak_rss_mb is None


def test_paddlelite_kb_memory_is_converted_to_mb():
    text = PADDLE_OUT.split("Memory Usage")[0] + "Memory Usage(unit: kB):\ninit  = 2048\npeak  = 4096\n"
    assert parse_paddlelite_benchmark(text).extra["memory_mb"] == {"init": 2.0, "peak": 4.0}


@pytest.mark.parametrize("tool,text,quoted", [
    ("benchmark_model", "Segmentation fault\nsomething else\n", "Segmentation fault | something else"),
    ("benchmark_model", "", "<empty output>"),
    ("benchmark_bin", "CANNOT LINK EXECUTABLE \"benchmark_bin\": library \"libc++_shared.so\" not found\n",
     "CANNOT LINK EXECUTABLE"),
    ("benchmark_bin", "======= Perf Info =======\nTime(unit: ms):\ninit  = 1.0\n", "lacks min, max, avg"),
])
def test_garbage_raises_clear_error_quoting_output(tool, text, quoted):
    with pytest.raises(ToolOutputError) as ei:
        parse_tool_output(tool, text)
    msg = str(ei.value)
    assert "\n" not in msg and tool in msg
    assert quoted in msg


def test_unknown_tool():
    with pytest.raises(ToolOutputError, match="no parser"):
        parse_tool_output("trtexec", "x")
