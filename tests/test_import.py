import subprocess
import sys


def test_import_tts_does_not_import_heavy_backends():
    code = (
        "import sys, tts, tts.records, tts.rundir, tts.engines, tts.critics, tts.stages, tts.api, tts.cli, tts.benchmarks;"
        "heavy=[m for m in ('torch','transformers','vllm','datasets','math_verify','sympy') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
