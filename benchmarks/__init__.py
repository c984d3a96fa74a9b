"""learnscope's benchmark suite (issue 9): `python -m benchmarks [--quick] [--end-to-end]`."""
