#!/usr/bin/env python3
"""Ground-truth transferability for the wordnet-supersenses example.

For every features/<candidate>.npy: 5-fold stratified cross-validated accuracy
(StratifiedKFold(n_splits=5, shuffle=True, random_state=0), the same folds for
every candidate) of StandardScaler + LogisticRegression(max_iter=2000), fitted
inside each fold, for each C in C_GRID; the reported accuracy is the best mean
accuracy over C_GRID. Writes transfer.csv (header `model,accuracy`) and
transfer-details.csv (every C).

Usage (from the repository root):

    python examples/extract/transfer.py
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO / "examples" / "data" / "wordnet-supersenses"

C_GRID = [0.0001, 0.001, 0.01, 0.1, 1.0, 10.0]
N_SPLITS = 5
SEED = 0


def cv_accuracy(x, y, folds, c):
    accs = []
    not_converged = 0
    for train, test in folds:
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always", ConvergenceWarning)
            clf.fit(x[train], y[train])
        not_converged += sum(issubclass(i.category, ConvergenceWarning) for i in w)
        accs.append(float(np.mean(clf.predict(x[test]) == y[test])))
    return float(np.mean(accs)), float(np.std(accs)), not_converged


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args()

    y = np.load(args.data / "labels.npy")
    folds = list(StratifiedKFold(n_splits=N_SPLITS, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y))
    names = sorted(p.stem for p in (args.data / "features").glob("*.npy"))

    best = {}
    details = []
    t_all = time.perf_counter()
    for name in names:
        x = np.load(args.data / "features" / f"{name}.npy").astype(np.float64)
        t = time.perf_counter()
        for c in C_GRID:
            mean, std, nc = cv_accuracy(x, y, folds, c)
            details.append((name, c, mean, std, nc))
            if name not in best or mean > best[name][0]:
                best[name] = (mean, c)
        print(f"{name:20s} D={x.shape[1]:4d} acc={best[name][0]:.6f} (C={best[name][1]:g}) "
              f"{time.perf_counter() - t:.1f}s", flush=True)

    with open(args.data / "transfer.csv", "w") as f:
        f.write("model,accuracy\n")
        for name in names:
            f.write(f"{name},{best[name][0]:.6f}\n")
    with open(args.data / "transfer-details.csv", "w") as f:
        f.write("model,C,mean_accuracy,std_accuracy,folds_not_converged\n")
        for name, c, mean, std, nc in details:
            f.write(f"{name},{c:g},{mean:.6f},{std:.6f},{nc}\n")
    print(f"total {time.perf_counter() - t_all:.1f}s")


if __name__ == "__main__":
    sys.exit(main())
