//! The Dice kernel against a popcount-only loop (the machine's limit: every word read once), on
//! 1024-bit filters. `cargo bench -p pseudolink --bench dice`.

#![allow(missing_docs)] // criterion_group! generates an undocumented function

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use pseudolink::link::dice;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const FILTERS: usize = 4096;
const WORDS: usize = 1024 / 64;

fn filters() -> Vec<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    // About 30 % of bits set, like a filter of a short address with 10 hashes per bigram.
    (0..FILTERS * WORDS)
        .map(|_| {
            rng.gen::<u64>() & rng.gen::<u64>()
                | (rng.gen::<u64>() & rng.gen::<u64>() & rng.gen::<u64>())
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let f = filters();
    let counts: Vec<u32> = f.chunks_exact(WORDS).map(dice::popcount).collect();
    let mut g = c.benchmark_group("dice_1024_bits");
    g.throughput(Throughput::Elements(FILTERS as u64 - 1));
    g.bench_function("dice_kernel", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            for k in 1..FILTERS {
                let (x, y) = (
                    &f[(k - 1) * WORDS..k * WORDS],
                    &f[k * WORDS..(k + 1) * WORDS],
                );
                let both = dice::intersection_count(black_box(x), black_box(y));
                acc += dice::dice(both, counts[k - 1], counts[k]);
            }
            acc
        })
    });
    g.bench_function("popcount_only", |b| {
        b.iter(|| {
            let mut acc = 0u32;
            for k in 1..FILTERS {
                acc += dice::popcount(black_box(&f[k * WORDS..(k + 1) * WORDS]));
            }
            acc
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
