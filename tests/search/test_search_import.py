import subprocess
import sys


def test_import_tts_search_stays_light() -> None:
    code = ("import sys, tts.search, tts.search.beam, tts.search.dvts, tts.search.particle;"
            "print(','.join(m for m in ('torch', 'transformers', 'vllm', 'datasets', 'PIL', 'sympy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
