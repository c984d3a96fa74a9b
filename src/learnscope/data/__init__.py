"""Every dataset behind one interface: train/test arrays, class labels and a fixed probe set.

``prepare(name, spec)`` builds a :class:`Dataset` from a ``data.<name>`` entry of params.yaml;
``save_prepared``/``load_prepared`` move it through ``data/prepared/<name>.h5``, the file each training
run reads (tracked by DVC).
"""

from learnscope.data.dataset import Dataset, load_prepared, save_prepared
from learnscope.data.prepare import KINDS, prepare

__all__ = ["Dataset", "KINDS", "load_prepared", "prepare", "save_prepared"]
