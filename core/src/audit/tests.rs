//! The red team against crafted and synthetic extracts whose truth is known.

use super::*;

/// Debugging aid on real files: `RT_DIR=/tmp/rt cargo test -p pseudolink --lib audit::tests::explore -- --ignored --nocapture`.
#[test]
#[ignore]
fn explore() {
    let Ok(dir) = std::env::var("RT_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let schema = Schema::from_file(&dir.join("default.json")).unwrap();
    let extract = read_encoded(
        &dir.join("a.enc.csv"),
        &schema,
        ReadOptions {
            allow_unverified: true,
        },
    )
    .unwrap();
    let truth = Cleartext::read(&dir.join("p20k/agency_a.csv"), &schema, true).unwrap();
    let reference = Reference::default_for(&schema).unwrap();
    let meanings = Meanings::new(&schema);
    let columns = Columns::new(&meanings, &[&extract]);
    let values = Values::new(&schema, &meanings, &columns, Some(&truth), &reference, &[]);
    let target = Target::new(
        &schema,
        &meanings,
        &columns,
        &values,
        &[],
        &target::ExtraBridges::default(),
    );
    for (a, v) in values.attributes.iter().enumerate() {
        let comps = &target.components[a];
        let mut sizes: std::collections::HashMap<u32, usize> = Default::default();
        for &c in comps {
            if c != columns::NONE {
                *sizes.entry(c).or_default() += 1;
            }
        }
        let mut s: Vec<usize> = sizes.values().copied().collect();
        s.sort_unstable_by(|a, b| b.cmp(a));
        // purity: share of records whose component majority truth equals theirs
        let mut maj: std::collections::HashMap<(u32, u32), usize> = Default::default();
        for (r, &c) in comps.iter().enumerate() {
            if c != columns::NONE && v.truth[r] != columns::NONE {
                *maj.entry((c, v.truth[r])).or_default() += 1;
            }
        }
        let mut best: std::collections::HashMap<u32, usize> = Default::default();
        for ((c, _), n) in &maj {
            let e = best.entry(*c).or_default();
            if *n > *e {
                *e = *n;
            }
        }
        let pure: usize = best.values().sum();
        let distinct_truth: std::collections::HashSet<u32> = v
            .truth
            .iter()
            .copied()
            .filter(|&t| t != columns::NONE)
            .collect();
        println!(
            "{:<28} comps {:>6} (truth values {:>6}) top {:?} purity {:.3}",
            v.name,
            sizes.len(),
            distinct_truth.len(),
            &s[..s.len().min(12)],
            pure as f64 / comps.iter().filter(|&&c| c != columns::NONE).count().max(1) as f64
        );
    }
}
