"""Training: the loop (``train_run``) and the recorder that writes the run record while it trains."""

from learnscope.train.loop import train_run
from learnscope.train.recorder import PER_STEP, Recorder, record_schedule

__all__ = ["PER_STEP", "Recorder", "record_schedule", "train_run"]
