"""Pairwise evaluation shared by every tool in the quality benchmark.

A tool's output is a set of scored (left_id, right_id) pairs. Quality is measured pairwise against
all true left x right pairs: precision = TP / pairs returned, recall = TP / true pairs.

- `at_threshold`: the pairs a user would take (score >= threshold, or a given set of accepted pairs).
- `best_over_thresholds`: the best F1 over every cut of the score, which needs the truth and is
  therefore NOT something a user can choose; it is reported separately and labelled as such.
"""

import csv


def read_truth(path):
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        return {(row["left_id"], row["right_id"]) for row in r}


def prf(tp, n_returned, n_true):
    p = tp / n_returned if n_returned else 0.0
    r = tp / n_true if n_true else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f1


def score_pairs(pairs, truth):
    """pairs: iterable of (left, right). Returns dict with precision, recall, f1, counts."""
    pairs = set(pairs)
    tp = len(pairs & truth)
    p, r, f1 = prf(tp, len(pairs), len(truth))
    return {
        "precision": p,
        "recall": r,
        "f1": f1,
        "true_positives": tp,
        "false_positives": len(pairs) - tp,
        "false_negatives": len(truth) - tp,
        "returned": len(pairs),
    }


def best_over_thresholds(scored, truth):
    """scored: iterable of (left, right, score), each pair once (the highest score kept).
    Returns the best F1 over all cuts 'score >= t' and the t that gives it."""
    best = {}
    for l, r, s in scored:
        k = (l, r)
        if k not in best or s > best[k]:
            best[k] = s
    items = sorted(best.items(), key=lambda kv: -kv[1])
    n_true = len(truth)
    tp = 0
    top = {"f1": 0.0, "precision": 0.0, "recall": 0.0, "threshold": None, "returned": 0}
    i = 0
    while i < len(items):
        s = items[i][1]
        # take every pair with this exact score together (a cut cannot split ties)
        while i < len(items) and items[i][1] == s:
            if items[i][0] in truth:
                tp += 1
            i += 1
        p, r, f1 = prf(tp, i, n_true)
        if f1 > top["f1"]:
            top = {"f1": f1, "precision": p, "recall": r, "threshold": s, "returned": i,
                   "true_positives": tp}
    return top
