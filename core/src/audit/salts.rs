//! Salt-partition detection: in a salted filter column, two filters under different salts are
//! unrelated (each q-gram sets other bits), so their Dice stays at what random filters reach.
//! A pair above that level shares its salt. The attacker calibrates the level on random pairs
//! (nearly all of them differ in salt), finds the pairs above it with LSH, and uses them as
//! bridges for the salt's attributes: records it can now group by salt even where no column
//! shows the salt (when every record's salt shows, there is nothing to gain and no pair is
//! searched). Where some column does show the salt on both records of a pair, the attacker
//! checks its pairs there and raises the level until 99% of the checked pairs agree (many
//! random pairs pass the highest of 20,000 random ones); the truth is never used.

use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::bridges::components;
use super::columns::{Columns, NONE};
use super::lsh::{dice_of, intersection, Index, MinHash};
use super::meaning::Meanings;
use super::target::{Bridge, ExtraBridges};
use super::values::Values;

/// Random pairs sampled to calibrate the different-salt level.
pub const BASELINE_PAIRS: usize = 20_000;

/// What salt-partition detection found in one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SaltDetection {
    /// The salted filter column.
    pub column: String,
    /// The 99.9th percentile of the Dice of random pairs.
    pub baseline: f64,
    /// The level used: pairs above it are taken to share their salt.
    pub threshold: f64,
    /// Pairs found above it.
    pub pairs: u64,
    /// Of the pairs whose salt the truth shows on both records, the share that truly share it.
    pub truly_same_salt: Option<f64>,
    /// The attributes bridged.
    pub bridges: Vec<String>,
    /// Other columns show the salt of every record: no pair was needed (nor searched).
    pub not_needed: bool,
}

/// Finds same-salt pairs in every salted filter column.
pub fn detect(
    meanings: &Meanings,
    columns: &Columns,
    values: &Values,
    seed: u64,
) -> (ExtraBridges, Vec<SaltDetection>) {
    let mut extra = ExtraBridges::default();
    let mut report = Vec::new();
    for (c, m) in meanings.columns.iter().enumerate() {
        if m.context.is_empty() {
            continue;
        }
        let Some(filters) = columns.columns[c].filters.as_ref() else {
            continue;
        };
        let members: Vec<u32> = (0..filters.len() as u32)
            .filter(|&r| filters.get(r as usize).is_some())
            .collect();
        if members.len() < 2 {
            continue;
        }
        // The salt as other columns show it (columns of the salted field itself only join equal
        // values): where it shows on every record, the attacker has nothing to gain from pairs.
        let own: Vec<usize> = m.encodes.iter().map(|a| a.field).collect();
        let shown: Vec<Vec<u32>> = m
            .context
            .iter()
            .map(|a| {
                let cols: Vec<usize> = meanings
                    .determining(*a)
                    .into_iter()
                    .filter(|&c| {
                        !meanings.columns[c]
                            .encodes
                            .iter()
                            .any(|e| own.contains(&e.field))
                    })
                    .collect();
                components(columns, &cols, &[])
            })
            .collect();
        let seen = |r: u32| -> Option<Vec<u32>> {
            let t: Vec<u32> = shown.iter().map(|s| s[r as usize]).collect();
            (!shown.is_empty() && !t.contains(&NONE)).then_some(t)
        };
        let hidden = members.iter().filter(|&&r| seen(r).is_none()).count();
        if hidden == 0 {
            report.push(SaltDetection {
                column: m.name.clone(),
                baseline: 0.0,
                threshold: 0.0,
                pairs: 0,
                truly_same_salt: None,
                bridges: Vec::new(),
                not_needed: true,
            });
            continue;
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ c as u64);
        // The 99.9th percentile of random pairs of different filters (equal filters are joined
        // anyway; the maximum may be a duplicate record).
        let classes = &columns.columns[c].classes;
        let mut sample: Vec<f64> = Vec::with_capacity(BASELINE_PAIRS);
        for _ in 0..BASELINE_PAIRS {
            let a = members[rng.gen_range(0..members.len())] as usize;
            let b = members[rng.gen_range(0..members.len())] as usize;
            if classes.single(a) == classes.single(b) {
                continue;
            }
            if let (Some(x), Some(y)) = (filters.get(a), filters.get(b)) {
                sample.push(dice_of(
                    intersection(x, y),
                    filters.weight[a],
                    filters.weight[b],
                ));
            }
        }
        sample.sort_by(f64::total_cmp);
        let mut threshold = sample
            .get(sample.len() * 999 / 1000)
            .copied()
            .unwrap_or(1.0);
        let baseline = threshold;
        let hash = MinHash::new(filters.bits(), 24, 3, seed ^ 0x5a17 ^ c as u64);
        let index = Index::new(&hash, filters, &members, 100);
        let mut found: Vec<(f64, u32, u32)> = index
            .pairs()
            .into_iter()
            .filter(|&(a, b)| classes.single(a as usize) != classes.single(b as usize))
            .filter_map(|(a, b)| {
                let (x, y) = (filters.get(a as usize)?, filters.get(b as usize)?);
                let d = dice_of(
                    intersection(x, y),
                    filters.weight[a as usize],
                    filters.weight[b as usize],
                );
                (d > baseline).then_some((d, a, b))
            })
            .collect();
        found.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
        let (mut checked, mut agree) = (0u64, 0u64);
        threshold = baseline + 0.1;
        for &(d, a, b) in &found {
            if let (Some(x), Some(y)) = (seen(a), seen(b)) {
                checked += 1;
                agree += u64::from(x == y);
                if agree * 100 >= checked * 99 {
                    threshold = d;
                }
            }
        }
        let pairs: Vec<(u32, u32)> = found
            .iter()
            .filter(|p| p.0 >= threshold)
            .map(|p| (p.1, p.2))
            .collect();
        // Measure: the salt's values on both records, where the truth has them.
        let salt_attrs: Vec<usize> = m
            .context
            .iter()
            .filter_map(|a| values.position(*a))
            .collect();
        let (mut checked, mut same) = (0u64, 0u64);
        for &(a, b) in &pairs {
            let ta: Vec<u32> = salt_attrs
                .iter()
                .map(|&i| values.attributes[i].truth[a as usize])
                .collect();
            let tb: Vec<u32> = salt_attrs
                .iter()
                .map(|&i| values.attributes[i].truth[b as usize])
                .collect();
            if ta.contains(&NONE) || tb.contains(&NONE) {
                continue;
            }
            checked += 1;
            if ta == tb {
                same += 1;
            }
        }
        let how = format!("same-salt pairs of {} (Dice above {threshold:.3})", m.name);
        for a in &m.context {
            extra.edges.push(Bridge {
                attribute: *a,
                pairs: pairs.clone(),
                how: how.clone(),
            });
        }
        report.push(SaltDetection {
            column: m.name.clone(),
            baseline,
            threshold,
            pairs: pairs.len() as u64,
            truly_same_salt: (checked > 0).then(|| same as f64 / checked as f64),
            bridges: salt_attrs
                .iter()
                .map(|&i| values.attributes[i].name.clone())
                .collect(),
            not_needed: false,
        });
    }
    (extra, report)
}
