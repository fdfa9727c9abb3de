//! All-pairs Dice on 1024-bit Bloom filters against the machine's popcount limit, one core.
//!
//! `cargo bench -p pseudolink-benches --bench dice [--features avx512]` (sizes: `DICE_LEFT`, `DICE_RIGHT`, default
//! 100,000 x 10,000; `DICE_THRESHOLD`, default 0.8). A plain timing harness, not criterion: one
//! all-pairs pass is already a billion pairs. Every variant walks the same filters in the same
//! tiled order (a tile of 256 right filters, 32 KB, stays in L1 while every left filter passes over
//! it) and counts the pairs at or above the threshold, so that nothing is optimised away:
//!
//! - `pseudolink kernel (as built)`: `pseudolink::internals::dice::{intersection_count, dice}` with the
//!   popcounts of both sides precomputed, compiled for the target the release binary is built for
//!   (without `-C target-cpu`, x86-64 has no POPCNT instruction and `count_ones` is emulated);
//! - `pseudolink kernel (+popcnt)`: the same library functions inlined into a function compiled
//!   with the POPCNT instruction enabled (what a `target-cpu=native` build or a runtime-dispatched
//!   kernel would give);
//!   It chooses its kernel at run time (AVX-512 VPOPCNTDQ, POPCNT or portable), once per pair;
//! - `pseudolink batched kernel`: `dice::intersection_counts`, one left filter against a tile of
//!   256 right filters per call, so the chosen kernel loops over the tile without a dispatch per
//!   pair;
//! - `pseudolink dice_at_least`: `dice::dice_at_least`, the same tile per call with the library's
//!   own exact threshold test (the pairs at or above it collected, as a linker would);
//! - `pseudolink dice_at_least_block`: `dice::dice_at_least_block` against each tile laid out
//!   once as a `dice::FilterBlock` (word k of eight filters together: eight counts per vector
//!   with no horizontal sum; the layout is made inside the timed run);
//! - `pseudolink kernel + bound (as built)`: also skips pairs whose popcount bound is below the
//!   threshold, as the linker does;
//! - `popcount limit (scalar POPCNT)`: the least work that reads every word: AND and POPCNT of 16
//!   words, a compare, no Dice division; fixed-size arrays so the loop is fully unrolled;
//! - `popcount limit (AVX-512 VPOPCNTDQ)`: the same with two 512-bit vector popcounts per pair,
//!   where the CPU has them and the bench is built with `--features avx512` (Rust 1.89 or later).
//!
//! Prints one line per variant with million pairs per second and the ratio to the limits.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use pseudolink::internals::dice;

const WORDS: usize = 16; // 1024 bits
const TILE: usize = 256;

type Filter = [u64; WORDS];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// splitmix64: a fixed, dependency-free stream of random words.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Filters with about 3/8 of their bits set (ANDs of random words), like real name/address filters.
fn filters(n: usize, seed: u64) -> Vec<Filter> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let mut f = [0u64; WORDS];
            for w in &mut f {
                *w = rng.next() & (rng.next() | rng.next());
            }
            f
        })
        .collect()
}

fn counts(fs: &[Filter]) -> Vec<u32> {
    fs.iter().map(|f| dice::popcount(f)).collect()
}

/// The tiled all-pairs walk shared by every variant; `pair` returns 1 for a pair at or above
/// the threshold.
#[inline(always)]
fn walk(left: &[Filter], right: &[Filter], mut pair: impl FnMut(usize, usize) -> u64) -> u64 {
    let mut hits = 0u64;
    for start in (0..right.len()).step_by(TILE) {
        let end = (start + TILE).min(right.len());
        for i in 0..left.len() {
            for j in start..end {
                hits += pair(i, j);
            }
        }
    }
    hits
}

fn kernel_as_built(left: &[Filter], right: &[Filter], cl: &[u32], cr: &[u32], t: f64) -> u64 {
    walk(left, right, |i, j| {
        let both = dice::intersection_count(&left[i], &right[j]);
        u64::from(dice::dice(both, cl[i], cr[j]) >= t)
    })
}

/// One left filter against a tile of right filters per call of `dice::intersection_counts`
/// (the kernel chosen at run time loops over the tile; no dispatch per pair).
fn kernel_batched(left: &[Filter], right: &[Filter], cl: &[u32], cr: &[u32], t: f64) -> u64 {
    let t_num = (t * 1000.0).round() as f32;
    let mut hits = 0u64;
    let mut both = [0u32; TILE];
    for start in (0..right.len()).step_by(TILE) {
        let end = (start + TILE).min(right.len());
        let tile = right[start..end].as_flattened();
        for i in 0..left.len() {
            dice::intersection_counts(&left[i], tile, &mut both[..end - start]);
            // Dice >= t exactly: t is taken to thousandths (t_num / 1000), and
            // 2|A∩B| / (|A| + |B|) >= t_num / 1000  <=>  2000 |A∩B| >= t_num (|A| + |B|), whose
            // sides are integers below 2^24 for 1024-bit filters, so exact in f32 (which
            // vectorises on any x86-64; 32-bit integer multiplication needs SSE4.1).
            let ca = cl[i] as f32;
            let mut n = 0u32;
            for (&b, &cb) in both[..end - start].iter().zip(&cr[start..end]) {
                n += u32::from(2000.0 * b as f32 >= t_num * (ca + cb as f32));
            }
            hits += u64::from(n);
        }
    }
    hits
}

/// `dice::dice_at_least`: one left filter against a tile per call; the exact Dice threshold test
/// is the library's (a vectorised screen, then the exact test for the few that pass), and the pairs
/// found are collected as a linker would.
fn kernel_at_least(left: &[Filter], right: &[Filter], cl: &[u32], cr: &[u32], t: f64) -> u64 {
    let mut hits = 0u64;
    let mut found = Vec::new();
    for start in (0..right.len()).step_by(TILE) {
        let end = (start + TILE).min(right.len());
        let tile = right[start..end].as_flattened();
        for i in 0..left.len() {
            found.clear();
            hits +=
                dice::dice_at_least(&left[i], cl[i], tile, &cr[start..end], t, &mut found) as u64;
        }
    }
    hits
}

/// `dice::dice_at_least_block`: each tile of right filters laid out once as a `FilterBlock`
/// (word k of eight filters together; counted in the time), then every left filter against it.
fn kernel_block(left: &[Filter], right: &[Filter], cl: &[u32], t: f64) -> u64 {
    let blocks: Vec<dice::FilterBlock> = right
        .chunks(TILE)
        .map(|tile| dice::FilterBlock::new(tile.as_flattened(), WORDS))
        .collect();
    let mut hits = 0u64;
    let mut found = Vec::new();
    for block in &blocks {
        for i in 0..left.len() {
            found.clear();
            hits += dice::dice_at_least_block(&left[i], cl[i], block, t, &mut found) as u64;
        }
    }
    hits
}

fn kernel_bound_as_built(left: &[Filter], right: &[Filter], cl: &[u32], cr: &[u32], t: f64) -> u64 {
    walk(left, right, |i, j| {
        if dice::upper_bound(cl[i], cr[j]) < t {
            return 0;
        }
        let both = dice::intersection_count(&left[i], &right[j]);
        u64::from(dice::dice(both, cl[i], cr[j]) >= t)
    })
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn kernel_popcnt(left: &[Filter], right: &[Filter], cl: &[u32], cr: &[u32], t: f64) -> u64 {
    walk(left, right, |i, j| {
        let both = dice::intersection_count(&left[i], &right[j]);
        u64::from(dice::dice(both, cl[i], cr[j]) >= t)
    })
}

/// Scalar limit: AND + POPCNT of every word and one integer compare (2|A∩B| >= t(|A|+|B|) with
/// the right-hand side precomputed per pair is already more than the minimum, so compare the
/// intersection with a per-left-filter constant instead).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn limit_scalar(left: &[Filter], right: &[Filter], need: &[u32]) -> u64 {
    walk(left, right, |i, j| {
        let a = &left[i];
        let b = &right[j];
        let mut s = 0u32;
        for w in 0..WORDS {
            s += (a[w] & b[w]).count_ones();
        }
        u64::from(s >= need[i])
    })
}

/// Needs Rust 1.89 (AVX-512 intrinsics and target features), above the workspace's 1.87, so it is
/// behind the crate feature `avx512`.
#[cfg(all(target_arch = "x86_64", feature = "avx512"))]
#[allow(clippy::incompatible_msrv)]
#[target_feature(enable = "avx512f,avx512vpopcntdq")]
fn limit_avx512(left: &[Filter], right: &[Filter], need: &[u32]) -> u64 {
    use std::arch::x86_64::*;
    walk(left, right, |i, j| {
        let a = left[i].as_ptr();
        let b = right[j].as_ptr();
        // SAFETY: each filter is 16 u64 words = two 512-bit unaligned loads.
        let s = unsafe {
            let x0 = _mm512_and_si512(_mm512_loadu_si512(a.cast()), _mm512_loadu_si512(b.cast()));
            let x1 = _mm512_and_si512(
                _mm512_loadu_si512(a.add(8).cast()),
                _mm512_loadu_si512(b.add(8).cast()),
            );
            _mm512_reduce_add_epi64(_mm512_add_epi64(
                _mm512_popcnt_epi64(x0),
                _mm512_popcnt_epi64(x1),
            ))
        };
        u64::from(s as u32 >= need[i])
    })
}

fn time(label: &str, pairs: f64, f: impl FnOnce() -> u64) -> f64 {
    let start = Instant::now();
    let hits = black_box(f());
    let secs = start.elapsed().as_secs_f64();
    let rate = pairs / secs;
    println!(
        "{label:<40} {:>9.1} M pairs/s  ({secs:.2} s, {hits} pairs >= threshold)",
        rate / 1e6
    );
    rate
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter like criterion's.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let run = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    let n_left = env_usize("DICE_LEFT", 100_000);
    let n_right = env_usize("DICE_RIGHT", 10_000);
    let t: f64 = std::env::var("DICE_THRESHOLD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.8);
    let left = filters(n_left, 1);
    let right = filters(n_right, 2);
    let (cl, cr) = (counts(&left), counts(&right));
    let mean = cl.iter().map(|&c| f64::from(c)).sum::<f64>() / cl.len().max(1) as f64;
    // Intersection needed for Dice >= t against a right filter of average weight.
    let need: Vec<u32> = cl
        .iter()
        .map(|&c| (t * (f64::from(c) + mean) / 2.0).ceil() as u32)
        .collect();
    let pairs = n_left as f64 * n_right as f64;
    println!(
        "all-pairs Dice, {n_left} x {n_right} = {:.2e} pairs of 1024-bit filters (mean popcount {mean:.0}), threshold {t}, one thread",
        pairs
    );
    println!(
        "cpu: popcnt {}; built with popcnt {}, AVX-512 limit {}",
        std::is_x86_feature_detected!("popcnt"),
        cfg!(target_feature = "popcnt"),
        if cfg!(feature = "avx512") {
            "on"
        } else {
            "off (--features avx512)"
        }
    );
    let mut built = None;
    let mut batched = None;
    let mut at_least = None;
    let mut block = None;
    let mut built_popcnt = None;
    let mut scalar = None;
    #[allow(unused_mut)]
    let mut vector = None;
    if run("as_built") {
        built = Some(time("pseudolink kernel (as built)", pairs, || {
            kernel_as_built(&left, &right, &cl, &cr, t)
        }));
        time("pseudolink kernel + bound (as built)", pairs, || {
            kernel_bound_as_built(&left, &right, &cl, &cr, t)
        });
    }
    if run("batched") {
        batched = Some(time("pseudolink batched kernel", pairs, || {
            kernel_batched(&left, &right, &cl, &cr, t)
        }));
    }
    if run("at_least") {
        at_least = Some(time("pseudolink dice_at_least", pairs, || {
            kernel_at_least(&left, &right, &cl, &cr, t)
        }));
    }
    if run("block") {
        block = Some(time("pseudolink dice_at_least_block", pairs, || {
            kernel_block(&left, &right, &cl, t)
        }));
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("popcnt") {
        if run("popcnt") {
            // SAFETY: the CPU has POPCNT (checked above).
            built_popcnt = Some(time("pseudolink kernel (+popcnt)", pairs, || unsafe {
                kernel_popcnt(&left, &right, &cl, &cr, t)
            }));
        }
        if run("limit") {
            // SAFETY: as above.
            scalar = Some(time("popcount limit (scalar POPCNT)", pairs, || unsafe {
                limit_scalar(&left, &right, &need)
            }));
        }
        #[cfg(feature = "avx512")]
        if run("limit")
            && std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vpopcntdq")
        {
            // SAFETY: the CPU has AVX-512F and VPOPCNTDQ (checked above).
            vector = Some(time(
                "popcount limit (AVX-512 VPOPCNTDQ)",
                pairs,
                || unsafe { limit_avx512(&left, &right, &need) },
            ));
        }
    }
    for (name, k) in [
        ("pseudolink kernel (as built)", built),
        ("pseudolink batched kernel", batched),
        ("pseudolink dice_at_least", at_least),
        ("pseudolink dice_at_least_block", block),
        ("pseudolink kernel (+popcnt)", built_popcnt),
    ] {
        let Some(k) = k else { continue };
        for (lname, l) in [("scalar POPCNT", scalar), ("AVX-512", vector)] {
            if let Some(l) = l {
                println!("{name} / popcount limit ({lname}): {:.0}%", 100.0 * k / l);
            }
        }
    }
}
