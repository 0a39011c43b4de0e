"""The tiny checkpoints' cache key follows what their tokenizers learn from (every prompts/*.txt)."""

import shutil

import tts.prompts
from tts.testing.tiny import _corpus, corpus_key


def test_adding_a_prompt_file_changes_the_cache_key(tmp_path, monkeypatch):
    before = corpus_key(_corpus())
    copy = tmp_path / "prompts"
    shutil.copytree(tts.prompts.prompts_dir(), copy)
    monkeypatch.setattr(tts.prompts, "prompts_dir", lambda: copy)
    assert corpus_key(_corpus()) == before
    (copy / "new_prompt.txt").write_text("A new instruction.\n", encoding="utf-8")
    assert corpus_key(_corpus()) != before
