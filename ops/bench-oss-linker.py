#!/usr/bin/env python3
"""The open-source linker row of `ops/bench link` (issue 14).

Links the incoming records renkei-bench exported to its residents with the `recordlinkage`
package, used as its documentation shows for unsupervised linking and not tuned to any data
set: candidate pairs from blocking on the birth date and a sorted neighbourhood on the name and
on the address (their union), Jaro-Winkler string comparisons at 0.85 and exact comparisons for
the birth date and sex, classified by the ECM algorithm (Fellegi-Sunter by EM, no labels).
A field empty in either file is left out.

Usage: bench-oss-linker.py residents.csv records.csv
  residents.csv: id,name,name_kana,birth_date,sex,address,twin (twin: another resident's id)
  records.csv:   id,name,name_kana,birth_date,sex,address,truth (truth: the resident's id)

Precision, recall and F1 count predicted (resident, record) pairs against the true pairs, as
`recordlinkage`'s own evaluation does; "wrong" counts predicted pairs that are not true pairs,
"twins" those that join a record to its resident's twin. A second result reduces the same
prediction to each record's most probable resident, as the bench's linker links a record to one
resident at most. Each result is a line `result label=… precision=… … note=…`, which
renkei-bench reads (underscores in the label stand for spaces).
"""

import sys
import time
import warnings

import pandas as pd
import recordlinkage as rl

STRING_FIELDS = ["name", "name_kana", "address"]
EXACT_FIELDS = ["birth_date", "sex"]


def read(path, last):
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, index_col="id")
    frame.index = frame.index.astype(int)
    frame = frame.mask(frame == "")
    frame[last] = pd.to_numeric(frame[last])
    return frame


def main():
    warnings.simplefilter("ignore")
    residents = read(sys.argv[1], "twin")
    records = read(sys.argv[2], "truth")
    start = time.monotonic()

    present = [f for f in STRING_FIELDS + EXACT_FIELDS if residents[f].notna().any() and records[f].notna().any()]
    indexer = rl.Index()
    if "birth_date" in present:
        indexer.block("birth_date")
    for field in ("name", "address"):
        if field in present:
            indexer.sortedneighbourhood(field, window=9)
    pairs = indexer.index(residents, records)

    compare = rl.Compare()
    for field in present:
        if field in STRING_FIELDS:
            compare.string(field, field, method="jarowinkler", threshold=0.85, label=field)
        else:
            compare.exact(field, field, label=field)
    features = compare.compute(pairs, residents, records)

    classifier = rl.ECMClassifier(binarize=0.8)
    predicted = classifier.fit_predict(features)
    seconds = time.monotonic() - start

    truth = records["truth"].dropna().astype(int)
    true_set = set(zip(truth.values, truth.index.values))
    found = set(zip(pairs.get_level_values(0), pairs.get_level_values(1)))
    blocked = len(true_set & found)
    twin_of = residents["twin"].dropna().astype(int).to_dict()
    record_truth = truth.to_dict()
    predicted_set = set(zip(predicted.get_level_values(0), predicted.get_level_values(1)))
    several = int((pd.Series(predicted.get_level_values(1)).value_counts() > 1).sum())
    fields = ", ".join(present)
    print(
        result("recordlinkage ECM", predicted_set, true_set, twin_of, record_truth,
               f"recordlinkage {rl.__version__}, fields {fields}; {len(pairs)} candidate pairs holding {blocked} "
               f"of {len(true_set)} true pairs; {len(predicted_set)} pairs predicted, {several} records in more "
               f"than one; {seconds:.1f} s")
    )
    # The bench's linker makes at most one link per record: the same prediction reduced to the
    # resident with the highest ECM match probability for each record (ties: the lowest id).
    probability = classifier.prob(features).loc[predicted].rename("p").reset_index()
    probability.columns = ["resident", "record", "p"]
    best = probability.sort_values(["record", "p", "resident"], ascending=[True, False, True]).drop_duplicates("record")
    best_set = set(zip(best["resident"], best["record"]))
    print(
        result("recordlinkage ECM, best resident per record", best_set, true_set, twin_of, record_truth,
               "the pairs above, each record's most probable resident only")
    )


def result(label, predicted, true_set, twin_of, record_truth, note):
    """One result line: pair counts against the truth."""
    hits = len(predicted & true_set)
    twins = sum(1 for resident, record in predicted if twin_of.get(record_truth.get(record, -1)) == resident)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(true_set) if true_set else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return (
        f"result label={label.replace(' ', '_')} precision={precision:.6f} recall={recall:.6f} f1={f1:.6f} "
        f"links={len(predicted)} wrong={len(predicted) - hits} twins={twins} note={note}"
    )

if __name__ == "__main__":
    main()
