"""The pipeline stages over a run directory: problems → sample → score → grade → select → report.

Each stage reads the records of the stages before it, appends its own records in small durable batches,
and skips every key already on disk, so re-running the same command resumes where it stopped.
"""

from tts.stages.grade import grade_run
from tts.stages.problems import add_problems
from tts.stages.report import build_report
from tts.stages.sample import sample
from tts.stages.score import score
from tts.stages.select import select_run

__all__ = ["add_problems", "build_report", "grade_run", "sample", "score", "select_run"]
