"""Benchmarks: each bench_*.py has main() printing ratios against plain PyTorch (or absolute
times for editor targets) measured in the same run. Run all with `make benchmarks`."""
