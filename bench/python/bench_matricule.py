"""Micro-benchmark: segur.check_matricule (and the is_valid_matricule fast path) per call.

    python bench/python/bench_matricule.py          # with the segur wheel installed
Target: <= 1 µs per call. Prints the best of 5 repeats, in ns per call.
"""

import timeit

import segur

N = 200_000
CASES = {
    'check_matricule("1810163220751")': lambda: segur.check_matricule("1810163220751"),
    'check_matricule("181016322075140")': lambda: segur.check_matricule("181016322075140"),
    'is_valid_matricule("181016322075140")': lambda: segur.is_valid_matricule("181016322075140"),
    'check_matricule(...).matricule': lambda: segur.check_matricule("1810163220751").matricule,
}

if __name__ == "__main__":
    worst = 0.0
    for name, fn in CASES.items():
        best = min(timeit.repeat(fn, number=N, repeat=5)) / N * 1e9
        worst = max(worst, best)
        print(f"{name:40s} {best:8.1f} ns/call")
    print(f"target <= 1000 ns/call: {'met' if worst <= 1000 else 'NOT met'}")
