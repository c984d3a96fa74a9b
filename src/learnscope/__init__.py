"""learnscope: train networks under different learning rules, record how they learn, and reproduce
the figures of five published studies from those records.

Sub-packages by concern: ``data`` (datasets behind one interface), ``models``, ``rules`` (learning
rules), ``train`` (loop + recorder), ``record`` (the HDF5 run format), ``analysis`` (one module per
method) and ``figures`` (one module per study). ``learnscope.cli`` exposes each step to Snakemake.
"""

__version__ = "0.1.0"
