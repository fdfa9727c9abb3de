//! The Dice kernel on packed Bloom filters, and the popcount bound that skips hopeless pairs.
//!
//! `Dice(A, B) = 2|A∩B| / (|A| + |B|)`. Since `|A∩B| <= min(|A|, |B|)`, a pair whose
//! [`upper_bound`] is below the lowest Dice band cannot reach any band and is not intersected at
//! all. Both are computed with the same floating-point expression over exact integer counts, so
//! the bound is never below the Dice value it bounds (division is monotone in its numerator).
//!
//! ```
//! use pseudolink::link::dice;
//! let a = [0b1011u64, 0];
//! let b = [0b0011u64, 1];
//! let both = dice::intersection_count(&a, &b);
//! assert_eq!(both, 2);
//! assert_eq!(dice::dice(both, 3, 3), 2.0 * 2.0 / 6.0);
//! assert!(dice::upper_bound(3, 3) >= dice::dice(both, 3, 3));
//! ```

/// `|A∩B|`: the popcount of the word-wise AND of two filters (extra words of the longer one are
/// ignored; filters of one field always have the same length).
#[inline]
pub fn intersection_count(a: &[u64], b: &[u64]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x & y).count_ones()).sum()
}

/// `|A|`: the popcount of a filter (the machine's limit for a kernel that reads every word).
#[inline]
pub fn popcount(a: &[u64]) -> u32 {
    a.iter().map(|x| x.count_ones()).sum()
}

/// The Dice coefficient from the intersection count and the two popcounts; 0 when both are empty.
#[inline]
pub fn dice(both: u32, count_a: u32, count_b: u32) -> f64 {
    let total = u64::from(count_a) + u64::from(count_b);
    if total == 0 {
        0.0
    } else {
        2.0 * f64::from(both) / total as f64
    }
}

/// The largest Dice coefficient two filters with these popcounts can have:
/// `2 min(|A|, |B|) / (|A| + |B|)`.
#[inline]
pub fn upper_bound(count_a: u32, count_b: u32) -> f64 {
    dice(count_a.min(count_b), count_a, count_b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(bits: &[bool]) -> Vec<u64> {
        let mut w = vec![0u64; bits.len().div_ceil(64).max(1)];
        for (i, b) in bits.iter().enumerate() {
            if *b {
                w[i / 64] |= 1 << (i % 64);
            }
        }
        w
    }

    proptest! {
        #[test]
        fn kernel_matches_the_bitwise_definition(a in proptest::collection::vec(any::<bool>(), 1024),
                                                 b in proptest::collection::vec(any::<bool>(), 1024)) {
            let (wa, wb) = (words(&a), words(&b));
            let both = a.iter().zip(&b).filter(|(x, y)| **x && **y).count() as u32;
            let ca = a.iter().filter(|x| **x).count() as u32;
            let cb = b.iter().filter(|x| **x).count() as u32;
            prop_assert_eq!(intersection_count(&wa, &wb), both);
            prop_assert_eq!(popcount(&wa), ca);
            let d = dice(both, ca, cb);
            let reference = crate::encode::Bloom(wa.into_boxed_slice()).dice(&crate::encode::Bloom(wb.into_boxed_slice()));
            prop_assert_eq!(d, reference);
        }

        #[test]
        fn bound_never_skips_a_pair_that_reaches_a_band(ca in 0u32..600, cb in 0u32..600, frac in 0.0f64..=1.0, t in 0.01f64..=1.0) {
            // Any achievable intersection count: 0..=min(ca, cb).
            let both = ((f64::from(ca.min(cb))) * frac).floor() as u32;
            let d = dice(both, ca, cb);
            if d >= t {
                prop_assert!(upper_bound(ca, cb) >= t, "bound {} < t {} although dice {}", upper_bound(ca, cb), t, d);
            }
            prop_assert!(upper_bound(ca, cb) >= d);
        }
    }

    #[test]
    fn bound_is_exact_for_nested_filters() {
        // B ⊂ A: the intersection is B and Dice equals the bound.
        let a = [0xFFu64];
        let b = [0x0Fu64];
        let both = intersection_count(&a, &b);
        assert_eq!(dice(both, 8, 4), upper_bound(8, 4));
        assert_eq!(dice(0, 0, 0), 0.0);
        assert_eq!(upper_bound(0, 5), 0.0);
    }
}
