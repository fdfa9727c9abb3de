"""Pairwise evaluation shared by every tool in the quality benchmark.

A tool's output is a set of scored (left_id, right_id) pairs. Quality is measured pairwise against
all true left x right pairs: precision = TP / pairs returned, recall = TP / true pairs.

- `at_threshold`: the pairs a user would take (score >= threshold, or a given set of accepted
  pairs).
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
    for left, right, s in scored:
        k = (left, right)
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
            top = {
                "f1": f1,
                "precision": p,
                "recall": r,
                "threshold": s,
                "returned": i,
                "true_positives": tp,
            }
    return top


def evaluate_scored_duckdb(con, scored, truth_path, threshold):
    """Quality of a tool's scored pairs held in DuckDB, for data too large for Python sets.

    scored: the name of a table or view of (left_id, right_id, score, prob), one row per candidate
    pair a tool scored (a pair seen twice keeps its highest score). Returns (at_threshold, best,
    candidate_recall): the pairs with prob >= threshold scored as `score_pairs` does, the best F1
    over every cut 'score >= t' as `best_over_thresholds` does (ties kept together), and the share
    of true pairs among the candidates (the ceiling on recall that blocking leaves; needs the
    truth, like the best cut).
    """
    con.execute(
        "create or replace temp table bench_truth as select left_id::varchar as left_id, "
        "right_id::varchar as right_id from read_csv(?, header = true, all_varchar = true)",
        [truth_path],
    )
    n_true = con.execute("select count(*) from bench_truth").fetchall()[0][0]
    con.execute(f"""
        create or replace temp table bench_scored as
        select s.left_id, s.right_id, s.score, s.prob, (t.left_id is not null)::int as tp
        from (select left_id::varchar as left_id, right_id::varchar as right_id,
                     max(score) as score, max(prob) as prob
              from {scored} group by all) s
        left join bench_truth t using (left_id, right_id)""")
    n, tp_all = con.execute("select count(*), coalesce(sum(tp), 0) from bench_scored").fetchall()[0]
    returned, tp = con.execute(
        "select count(*), coalesce(sum(tp), 0) from bench_scored where prob >= ?", [threshold]
    ).fetchall()[0]
    at = _counts(int(tp), int(returned), n_true)
    row = con.execute(
        """
        with g as (select score, count(*) as n, sum(tp) as tp from bench_scored group by score),
        c as (select score, sum(n) over (order by score desc) as ret,
                     sum(tp) over (order by score desc) as tp from g)
        select score, ret, tp from c order by 2.0 * tp / (ret + ?) desc, score desc limit 1""",
        [n_true],
    ).fetchall()
    row = row[0] if row else None
    best = {"f1": 0.0, "precision": 0.0, "recall": 0.0, "threshold": None, "returned": 0}
    if row is not None and row[2]:
        p, r, f1 = prf(int(row[2]), int(row[1]), n_true)
        best = {
            "f1": f1,
            "precision": p,
            "recall": r,
            "threshold": float(row[0]),
            "returned": int(row[1]),
            "true_positives": int(row[2]),
        }
    return (
        at,
        best,
        {
            "candidate_pairs": int(n),
            "true_pairs_among_candidates": int(tp_all),
            "recall_ceiling": tp_all / n_true if n_true else 0.0,
        },
    )


def _counts(tp, returned, n_true):
    p, r, f1 = prf(tp, returned, n_true)
    return {
        "precision": p,
        "recall": r,
        "f1": f1,
        "true_positives": tp,
        "false_positives": returned - tp,
        "false_negatives": n_true - tp,
        "returned": returned,
    }
