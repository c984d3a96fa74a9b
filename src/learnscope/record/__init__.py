"""The run record: one HDF5 file per training run.

Layout (format ``learnscope-run/2``)::

    /                      attrs: format, config (resolved run config, JSON), run_id, code_digest,
                           versions (JSON), git_commit, status (complete | diverged), n_records,
                           diverged_at_step (-1 unless diverged), content_digest
    /record/step           (T,)              training step of each record point
    /scalars/<name>        (T,)              e.g. train_loss, train_acc, test_loss, test_acc
    /checkpoints/<name>    (T, *shape)       every state_dict entry (parameters and buffers) and any
                                             rule state (prefix ``rule.``)
    /activations/<layer>   (T, n_probe, ...) each recorded layer's output on the probe set
    /probe/index, /probe/labels              which test items the probe set is
    /per_step/<name>       (n_steps,)        per-step quantities (batch_loss, ...)
    /trajectories/...      online-task runs: hidden states over time on the probe set at some epochs
                           (``epoch`` (K,), ``hidden`` (K, M, T, H)); /probe then also holds x and cluster
    /trackers/<name>/...   (T, ...)          stateful trackers' float64 arrays per record point
                                             (e.g. symmetry/scale/conv1/{empirical,theory,gradient_flow})

Only the first ``n_records`` rows are valid (fewer than T when a run diverged). Every dataset carries
attribute ``sha256`` and the root ``content_digest`` covers them and every other root attribute
(``learnscope.record.integrity``); readers check both. Records are built in memory and written in one
atomic write when complete, without timestamps, so equal inputs give equal bytes.
"""

from learnscope.record.reader import RunRecord, open_run, verify_run
from learnscope.record.writer import FORMAT, RunWriter

__all__ = ["FORMAT", "RunRecord", "RunWriter", "open_run", "verify_run"]
