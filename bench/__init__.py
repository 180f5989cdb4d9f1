"""Benchmarks of background posting on DynamoDB Local: `make bench` (`python -m bench.run`).

Every figure is a ratio of two timings taken side by side in the same process (or the same
interpreter), because the machines that run this are shared and noisy. See docs/performance.md,
"Performance", for what each figure means and the latest results.
"""

from infra.lambda_runtime import put_layers_on_path

put_layers_on_path()  # as Lambda does: the common layer's package imports by its own name
