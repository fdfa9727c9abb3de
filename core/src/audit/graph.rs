//! Graph matching (attack 6), after Vidanage, Ranbaduge, Christen and Schnell (2020), "A graph
//! matching attack on privacy-preserving record linkage" (CIKM).
//!
//! Dice similarity survives encoding by design, so the graph of similarities between encoded
//! values looks like the graph of similarities between plain values. The attack builds both:
//!
//! - the **encoded graph**: nodes are the distinct filters of an unsalted column (the most
//!   frequent [`MAX_NODES`]), edges their Dice above [`MIN_SIMILARITY`];
//! - the **plain graph**: nodes are the most frequent reference values, edges the Dice their
//!   filters are expected to have, computed from their q-gram sets and the public filter
//!   settings (length `m`, positions per q-gram `k`: a bit is in both filters when a common
//!   q-gram sets it, or both sides' own q-grams do), so no regression is needed;
//!
//! describes every node by the same features (frequency, number of q-grams estimated from the
//! filter's weight, degree at several similarities, largest and mean similarity, neighbours'
//! frequency), and matches nodes whose features are mutually nearest among nodes of about the
//! same number of q-grams. Records of a matched filter get the plain value. (The paper uses more
//! structural features and an assignment solver; this is the same attack with a lighter match.)
//! Salted columns are not attacked this way: their graph splits into one small graph per salt.

use rayon::prelude::*;

use super::columns::NONE;
use super::filters::FilterColumn;
use super::lsh::{dice_of, intersection};
use super::score::{Board, Family};
use super::target::Target;

/// Nodes per graph at most (the most frequent).
pub const MAX_NODES: usize = 2500;

/// Edges below this similarity are left out.
pub const MIN_SIMILARITY: f64 = 0.5;

const THRESHOLDS: [f64; 4] = [0.5, 0.6, 0.7, 0.8];

/// Expected Dice of the filters of two q-gram sets with `common` q-grams in common and `a`, `b`
/// of their own, in a filter of `m` bits with `k` positions per q-gram.
pub fn expected_dice(common: usize, a: usize, b: usize, m: f64, k: f64) -> f64 {
    let miss = |n: usize| (1.0 - 1.0 / m).powf(k * n as f64);
    let c = 1.0 - miss(common);
    let both = c + (1.0 - c) * (1.0 - miss(a)) * (1.0 - miss(b));
    let wa = 1.0 - miss(common + a);
    let wb = 1.0 - miss(common + b);
    if wa + wb == 0.0 {
        0.0
    } else {
        2.0 * both / (wa + wb)
    }
}

/// Number of q-grams estimated from a filter's weight.
pub fn grams_from_weight(weight: f64, m: f64, k: f64) -> f64 {
    let fill = (weight / m).min(1.0 - 1e-9);
    (1.0 - fill).ln() / (k * (1.0 - 1.0 / m).ln())
}

fn features(count: f64, grams: f64, sims: &[f64], neighbour_counts: f64) -> Vec<f64> {
    let mut f = vec![(1.0 + count).ln(), grams];
    for t in THRESHOLDS {
        f.push(sims.iter().filter(|&&s| s >= t).count() as f64);
    }
    f.push(sims.iter().copied().fold(0.0, f64::max));
    f.push(if sims.is_empty() {
        0.0
    } else {
        sims.iter().sum::<f64>() / sims.len() as f64
    });
    f.push(if sims.is_empty() {
        0.0
    } else {
        neighbour_counts / sims.len() as f64
    });
    f
}

/// Similarities of every node to the others (above [`MIN_SIMILARITY`]) and the sum of the
/// neighbours' log-counts.
fn neighbourhoods(
    n: usize,
    sim: impl Fn(usize, usize) -> f64 + Sync,
    logc: &[f64],
) -> Vec<(Vec<f64>, f64)> {
    (0..n)
        .into_par_iter()
        .map(|i| {
            let mut sims = Vec::new();
            let mut nc = 0.0;
            for (j, &lc) in logc.iter().enumerate().take(n) {
                if i != j {
                    let s = sim(i, j);
                    if s >= MIN_SIMILARITY {
                        sims.push(s);
                        nc += lc;
                    }
                }
            }
            (sims, nc)
        })
        .collect()
}

/// Runs the graph matching attack on every unsalted single-field filter column.
pub fn run(target: &Target<'_>, board: &mut Board) {
    for c in 0..target.meanings.columns.len() {
        let Some(col) = FilterColumn::new(target, c) else {
            continue;
        };
        if col.salted || col.slots.len() != 1 {
            continue;
        }
        attack(target, &col, board);
    }
}

fn attack(target: &Target<'_>, col: &FilterColumn<'_>, board: &mut Board) {
    let classes = &target.columns.columns[col.column].classes;
    let n_records = target.columns.records();
    let m = f64::from(col.meaning.raw_bits);
    let k = f64::from(col.meaning.fields[0].1);
    // Encoded nodes: a filter of each class, the most frequent classes.
    let mut rep = vec![NONE; classes.len()];
    for r in 0..n_records {
        let cl = classes.single(r);
        if cl != NONE && rep[cl as usize] == NONE {
            rep[cl as usize] = r as u32;
        }
    }
    let mut enc: Vec<u32> = (0..classes.len() as u32).collect();
    enc.sort_unstable_by(|a, b| {
        classes.sizes[*b as usize]
            .cmp(&classes.sizes[*a as usize])
            .then(a.cmp(b))
    });
    enc.truncate(MAX_NODES);
    // Plain nodes: the most frequent reference values.
    let mut plain: Vec<u32> = (0..col.candidates.len() as u32)
        .filter(|&c| col.candidates.weight[c as usize] > 0)
        .collect();
    plain.sort_unstable_by(|a, b| {
        col.candidates.weight[*b as usize]
            .cmp(&col.candidates.weight[*a as usize])
            .then(a.cmp(b))
    });
    plain.truncate(MAX_NODES);
    if enc.len() < 10 || plain.len() < 10 {
        return;
    }
    let reference_rows: u64 = col.candidates.weight.iter().sum();
    let scale = classes.present() as f64 / reference_rows.max(1) as f64;
    let filters = col.filters;
    let enc_filter = |i: usize| filters.get(rep[enc[i] as usize] as usize).unwrap_or(&[]);
    let enc_logc: Vec<f64> = enc
        .iter()
        .map(|&e| (1.0 + f64::from(classes.sizes[e as usize])).ln())
        .collect();
    let plain_logc: Vec<f64> = plain
        .iter()
        .map(|&p| (1.0 + col.candidates.weight[p as usize] as f64 * scale).ln())
        .collect();
    let enc_n = neighbourhoods(
        enc.len(),
        |i, j| {
            let (a, b) = (enc_filter(i), enc_filter(j));
            let wa: u32 = a.iter().map(|w| w.count_ones()).sum();
            let wb: u32 = b.iter().map(|w| w.count_ones()).sum();
            dice_of(intersection(a, b), wa, wb)
        },
        &enc_logc,
    );
    let grams = |i: usize| &col.candidates.grams[plain[i] as usize];
    let plain_n = neighbourhoods(
        plain.len(),
        |i, j| {
            let (a, b) = (grams(i), grams(j));
            let common = a.iter().filter(|g| b.binary_search(g).is_ok()).count();
            expected_dice(common, a.len() - common, b.len() - common, m, k)
        },
        &plain_logc,
    );
    let enc_grams: Vec<f64> = (0..enc.len())
        .map(|i| {
            let w: u32 = enc_filter(i).iter().map(|w| w.count_ones()).sum();
            grams_from_weight(f64::from(w), m, k)
        })
        .collect();
    let mut fe: Vec<Vec<f64>> = (0..enc.len())
        .map(|i| {
            features(
                f64::from(classes.sizes[enc[i] as usize]),
                enc_grams[i],
                &enc_n[i].0,
                enc_n[i].1,
            )
        })
        .collect();
    let mut fp: Vec<Vec<f64>> = (0..plain.len())
        .map(|i| {
            features(
                col.candidates.weight[plain[i] as usize] as f64 * scale,
                grams(i).len() as f64,
                &plain_n[i].0,
                plain_n[i].1,
            )
        })
        .collect();
    // Standardise with the pooled mean and spread of each feature.
    let dims = fe[0].len();
    for d in 0..dims {
        let all: Vec<f64> = fe.iter().chain(&fp).map(|f| f[d]).collect();
        let mean = all.iter().sum::<f64>() / all.len() as f64;
        let sd = (all.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / all.len() as f64).sqrt();
        let sd = if sd > 0.0 { sd } else { 1.0 };
        for f in fe.iter_mut().chain(fp.iter_mut()) {
            f[d] = (f[d] - mean) / sd;
        }
    }
    let distance =
        |a: &[f64], b: &[f64]| -> f64 { a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum() };
    let plain_grams: Vec<f64> = (0..plain.len()).map(|i| grams(i).len() as f64).collect();
    let nearest =
        |from: &[Vec<f64>], from_g: &[f64], to: &[Vec<f64>], to_g: &[f64]| -> Vec<Option<usize>> {
            from.par_iter()
                .zip(from_g)
                .map(|(f, &g)| {
                    (0..to.len())
                        .filter(|&j| (to_g[j] - g).abs() <= 1.5)
                        .map(|j| (distance(f, &to[j]), j))
                        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                        .map(|x| x.1)
                })
                .collect()
        };
    let e2p = nearest(&fe, &enc_grams, &fp, &plain_grams);
    let p2e = nearest(&fp, &plain_grams, &fe, &enc_grams);
    let mut value_of_class = vec![NONE; classes.len()];
    let mut matched = 0;
    for (i, p) in e2p.iter().enumerate() {
        if let Some(p) = *p {
            if p2e[p] == Some(i) {
                value_of_class[enc[i] as usize] = col.candidates.values[plain[p] as usize][0];
                matched += 1;
            }
        }
    }
    let guesses: Vec<u32> = (0..n_records)
        .map(|r| {
            let cl = classes.single(r);
            if cl == NONE {
                NONE
            } else {
                value_of_class[cl as usize]
            }
        })
        .collect();
    let how = format!(
        "similarity graphs of the {} most frequent filters and {} most frequent reference values (edges Dice >= {MIN_SIMILARITY}), {matched} nodes matched by mutually nearest features",
        enc.len(),
        plain.len()
    );
    let a = col.slots[0];
    let f = target.finding(
        Family::GraphMatching,
        a,
        None,
        how,
        vec![col.name.clone()],
        &guesses,
    );
    target.record_unknowing(board, f, guesses);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_dice_and_weights() {
        // Identical q-gram sets: Dice 1; disjoint small sets in a large filter: near 0.
        assert!((expected_dice(5, 0, 0, 512.0, 15.0) - 1.0).abs() < 1e-12);
        assert!(expected_dice(0, 5, 5, 4096.0, 5.0) < 0.02);
        let half = expected_dice(3, 3, 3, 512.0, 15.0);
        assert!(half > 0.5 && half < 0.6, "{half}");
        // The weight of n q-grams' filter gives n back.
        let (m, k, n) = (1024.0f64, 10.0, 17.0);
        let w = m * (1.0 - (1.0 - 1.0 / m).powf(k * n));
        assert!((grams_from_weight(w, m, k) - n).abs() < 1e-6);
    }
}
