//! The Dice kernel on packed Bloom filters, and the popcount bound that skips hopeless pairs.
//!
//! `Dice(A, B) = 2|A∩B| / (|A| + |B|)`. Since `|A∩B| <= min(|A|, |B|)`, a pair whose
//! [`upper_bound`] is below the lowest Dice band cannot reach any band and is not intersected at
//! all. Both are computed with the same floating-point expression over exact integer counts, so
//! the bound is never below the Dice value it bounds (division is monotone in its numerator).
//!
//! ```
//! use pseudolink::internals::dice;
//! let a = [0b1011u64, 0];
//! let b = [0b0011u64, 1];
//! let both = dice::intersection_count(&a, &b);
//! assert_eq!(both, 2);
//! assert_eq!(dice::dice(both, 3, 3), 2.0 * 2.0 / 6.0);
//! assert!(dice::upper_bound(3, 3) >= dice::dice(both, 3, 3));
//! ```
//!
//! Public (unlike the other stages) for the benchmarks (`benches/benches/dice.rs`) and for the fuzz
//! target that checks the unsafe kernels against the portable reference (`tests/src/fuzz.rs`).

/// `|A∩B|`: the popcount of the word-wise AND of two filters (extra words of the longer one are
/// ignored; filters of one field always have the same length).
///
/// Chooses at run time the best kernel the CPU has (AVX-512 VPOPCNTDQ, else the POPCNT
/// instruction, else portable code: the x86-64 baseline the library is built for has no POPCNT,
/// so `count_ones` alone would be emulated). Every kernel gives the same count.
#[inline]
pub fn intersection_count(a: &[u64], b: &[u64]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        match x86::kernel() {
            x86::Kernel::Avx512 => return x86::intersection_avx512(a, b),
            x86::Kernel::Popcnt => return x86::intersection_popcnt(a, b),
            x86::Kernel::Portable => {}
        }
    }
    intersection_portable(a, b)
}

/// [`intersection_count`] of `a` with each of the filters in `many` (consecutive filters of
/// `a.len()` words each; a partial last one is ignored), written to `out` (as many as fit). The
/// loop runs inside the chosen kernel, so there is no dispatch per pair: for comparing one filter
/// against a block of others.
pub fn intersection_counts(a: &[u64], many: &[u64], out: &mut [u32]) {
    let words = a.len();
    if words == 0 {
        out.iter_mut().for_each(|o| *o = 0);
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        match x86::kernel() {
            x86::Kernel::Avx512 => return x86::intersections_avx512(a, many, out),
            x86::Kernel::Popcnt => return x86::intersections_popcnt(a, many, out),
            x86::Kernel::Portable => {}
        }
    }
    for (o, b) in out.iter_mut().zip(many.chunks_exact(words)) {
        *o = intersection_portable(a, b);
    }
}

/// The filters of `many` (consecutive filters of `a.len()` words, with popcounts `counts`) whose
/// Dice coefficient with `a` (popcount `count_a`) is at least `threshold`: appends their indices
/// and coefficients to `out`, in order; returns how many were appended. Exactly the pairs, and
/// the coefficients, of testing `dice(intersection_count(a, b), count_a, count_b) >= threshold`
/// for each: a cheap screen (with a margin that can only let more pairs through)
/// runs over all of them inside the chosen kernel, and the few that pass get the exact test. For
/// all-pairs candidate search (what anonlink does) and the all-pairs benchmark.
///
/// ```
/// use pseudolink::internals::dice;
/// let a = [0b1111u64];
/// let many = [0b1111u64, 0b0111, 0b1000_0000];
/// let counts = [4, 3, 1];
/// let mut found = Vec::new();
/// assert_eq!(dice::dice_at_least(&a, 4, &many, &counts, 0.8, &mut found), 2);
/// assert_eq!(found, vec![(0, 1.0), (1, 6.0 / 7.0)]);
/// ```
pub fn dice_at_least(
    a: &[u64],
    count_a: u32,
    many: &[u64],
    counts: &[u32],
    threshold: f64,
    out: &mut Vec<(u32, f64)>,
) -> usize {
    let words = a.len();
    let before = out.len();
    if words == 0 {
        return 0;
    }
    let n = (many.len() / words).min(counts.len());
    // 2|A∩B| >= screen (|A| + |B|) in f32 for every pair whose exact Dice reaches the threshold:
    // f32 products of these small integers are off by at most 2^-24 relative, far inside the
    // margin.
    #[cfg(target_arch = "x86_64")]
    if x86::kernel() == x86::Kernel::Avx512 && (words == 8 || words == 16) {
        let (many, counts) = (&many[..n * words], &counts[..n]);
        let screen = threshold * (1.0 - 1e-5);
        if words == 8 {
            x86::at_least_fixed::<1>(a, count_a, many, counts, screen, threshold, out);
        } else {
            x86::at_least_fixed::<2>(a, count_a, many, counts, screen, threshold, out);
        }
        return out.len() - before;
    }
    let screen = (threshold * (1.0 - 1e-5)) as f32;
    let mut both = [0u32; CHUNK];
    let mut pass = [0u8; CHUNK];
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let len = end - start;
        let chunk = &many[start * words..end * words];
        #[cfg(target_arch = "x86_64")]
        let screened = x86::kernel() == x86::Kernel::Avx512 && {
            x86::screen_avx512(
                a,
                count_a,
                chunk,
                &counts[start..end],
                screen,
                &mut both[..len],
                &mut pass[..len],
            );
            true
        };
        #[cfg(not(target_arch = "x86_64"))]
        let screened = false;
        if !screened {
            intersection_counts(a, chunk, &mut both[..len]);
            screen_counts(
                count_a,
                &both[..len],
                &counts[start..end],
                screen,
                &mut pass[..len],
            );
        }
        // Most filters fail the screen: look at the flags eight at a time.
        for (w, flags) in pass[..len].chunks(8).enumerate() {
            let mut word = [0u8; 8];
            word[..flags.len()].copy_from_slice(flags);
            if u64::from_le_bytes(word) == 0 {
                continue;
            }
            for (k, _) in flags.iter().enumerate().filter(|(_, p)| **p != 0) {
                let j = start + w * 8 + k;
                let d = dice(both[w * 8 + k], count_a, counts[j]);
                if d >= threshold {
                    out.push((u32::try_from(j).unwrap_or(u32::MAX), d));
                }
            }
        }
    }
    out.len() - before
}

/// `pass[k]`: 1 if `2 both[k] >= screen (count_a + counts[k])` in f32, else 0.
#[inline(always)]
fn screen_counts(count_a: u32, both: &[u32], counts: &[u32], screen: f32, pass: &mut [u8]) {
    let ca = count_a as f32;
    for ((p, &b), &cb) in pass.iter_mut().zip(both).zip(counts) {
        *p = u8::from(2.0 * b as f32 >= screen * (ca + cb as f32));
    }
}

/// Filters per batch of [`dice_at_least`].
const CHUNK: usize = 256;

/// Filters of one length laid out for [`dice_at_least_block`]: word `k` of eight consecutive
/// filters stored together, so that a kernel ANDs one word of the query with one word of eight
/// filters at once and gets eight counts without any horizontal sum. Made once for a block of
/// filters that many queries are compared against (the right side of an all-pairs run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterBlock {
    words: usize,
    len: usize,
    /// Groups of eight filters, each `words` rows of eight words (zero filters pad the last).
    transposed: Vec<u64>,
    /// The filters' popcounts (zero for the padding).
    counts: Vec<u32>,
}

impl FilterBlock {
    /// The block of the consecutive filters of `words` words each in `filters` (a partial last
    /// one is ignored).
    pub fn new(filters: &[u64], words: usize) -> FilterBlock {
        let len = filters.len().checked_div(words).unwrap_or(0);
        let groups = len.div_ceil(8);
        let mut transposed = vec![0u64; groups * words * 8];
        let mut counts = vec![0u32; groups * 8];
        for (j, f) in filters.chunks_exact(words.max(1)).take(len).enumerate() {
            let (g, lane) = (j / 8, j % 8);
            for (k, &w) in f.iter().enumerate() {
                transposed[(g * words + k) * 8 + lane] = w;
            }
            counts[j] = popcount(f);
        }
        FilterBlock {
            words,
            len,
            transposed,
            counts,
        }
    }

    /// Number of filters.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the block holds no filter.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Words per filter.
    pub fn words(&self) -> usize {
        self.words
    }
}

/// [`dice_at_least`] against a [`FilterBlock`]: the indices (into the block) and Dice
/// coefficients of its filters whose Dice with `a` (popcount `count_a`) is at least `threshold`,
/// appended to `out` in order; returns how many. `a` must have the block's number of words (else
/// nothing is found).
///
/// ```
/// use pseudolink::internals::dice::{dice_at_least_block, FilterBlock};
/// let block = FilterBlock::new(&[0b1111u64, 0b0111, 0b1000_0000], 1);
/// let mut found = Vec::new();
/// assert_eq!(dice_at_least_block(&[0b1111u64], 4, &block, 0.8, &mut found), 2);
/// assert_eq!(found, vec![(0, 1.0), (1, 6.0 / 7.0)]);
/// ```
pub fn dice_at_least_block(
    a: &[u64],
    count_a: u32,
    block: &FilterBlock,
    threshold: f64,
    out: &mut Vec<(u32, f64)>,
) -> usize {
    let before = out.len();
    if a.len() != block.words || block.len == 0 {
        return 0;
    }
    let screen = threshold * (1.0 - 1e-5);
    #[cfg(target_arch = "x86_64")]
    if x86::kernel() == x86::Kernel::Avx512 && (block.words == 8 || block.words == 16) {
        if block.words == 8 {
            x86::block_at_least::<8>(a, count_a, block, screen, threshold, out);
        } else {
            x86::block_at_least::<16>(a, count_a, block, screen, threshold, out);
        }
        return out.len() - before;
    }
    let words = block.words;
    for (g, group) in block.transposed.chunks_exact(words * 8).enumerate() {
        for lane in 0..8 {
            let j = g * 8 + lane;
            if j >= block.len {
                break;
            }
            let both: u32 = a
                .iter()
                .enumerate()
                .map(|(k, x)| (x & group[k * 8 + lane]).count_ones())
                .sum();
            let cb = block.counts[j];
            if 2.0 * f64::from(both) >= screen * (f64::from(count_a) + f64::from(cb)) {
                let d = dice(both, count_a, cb);
                if d >= threshold {
                    out.push((u32::try_from(j).unwrap_or(u32::MAX), d));
                }
            }
        }
    }
    out.len() - before
}

/// The portable kernel (the reference the others are tested against).
#[inline]
pub fn intersection_portable(a: &[u64], b: &[u64]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x & y).count_ones()).sum()
}

/// Kernels for x86-64 CPUs with POPCNT or AVX-512 VPOPCNTDQ, chosen at run time. The only unsafe
/// code of the core library: calling a function compiled for CPU features the CPU was just
/// checked to have, and unaligned vector loads inside slice bounds.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    use std::arch::x86_64::{
        __m512d, __m512i, _mm256_loadu_si256, _mm512_add_epi64, _mm512_add_pd, _mm512_and_si512,
        _mm512_cmp_pd_mask, _mm512_cvtepi32_pd, _mm512_cvtepi64_epi32, _mm512_loadu_si512,
        _mm512_mul_pd, _mm512_popcnt_epi64, _mm512_reduce_add_epi64, _mm512_set1_epi64,
        _mm512_set1_pd, _mm512_setzero_si512, _mm512_shuffle_i64x2, _mm512_storeu_si512,
        _mm512_unpackhi_epi64, _mm512_unpacklo_epi64, _CMP_GE_OQ,
    };
    use std::sync::atomic::{AtomicU8, Ordering};

    /// Which kernel this CPU runs.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub(super) enum Kernel {
        Portable,
        Popcnt,
        Avx512,
    }

    /// 0: not yet detected; else 1 + the kernel's index.
    static KERNEL: AtomicU8 = AtomicU8::new(0);

    #[inline]
    pub(super) fn kernel() -> Kernel {
        match KERNEL.load(Ordering::Relaxed) {
            1 => Kernel::Portable,
            2 => Kernel::Popcnt,
            3 => Kernel::Avx512,
            _ => detect(),
        }
    }

    #[cold]
    fn detect() -> Kernel {
        let k = if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vpopcntdq")
            && std::arch::is_x86_feature_detected!("popcnt")
        {
            Kernel::Avx512
        } else if std::arch::is_x86_feature_detected!("popcnt") {
            Kernel::Popcnt
        } else {
            Kernel::Portable
        };
        let code = match k {
            Kernel::Portable => 1,
            Kernel::Popcnt => 2,
            Kernel::Avx512 => 3,
        };
        KERNEL.store(code, Ordering::Relaxed);
        k
    }

    /// The POPCNT kernel. Only called when [`kernel`] found POPCNT.
    #[inline]
    pub(super) fn intersection_popcnt(a: &[u64], b: &[u64]) -> u32 {
        // SAFETY: `kernel()` returned Popcnt or Avx512, so the CPU has POPCNT.
        unsafe { popcnt_one(a, b) }
    }

    pub(super) fn intersections_popcnt(a: &[u64], many: &[u64], out: &mut [u32]) {
        // SAFETY: as above.
        unsafe { popcnt_many(a, many, out) }
    }

    /// The AVX-512 kernel. Only called when [`kernel`] found AVX-512F and VPOPCNTDQ.
    #[inline]
    pub(super) fn intersection_avx512(a: &[u64], b: &[u64]) -> u32 {
        // SAFETY: `kernel()` returned Avx512, so the CPU has AVX-512F, VPOPCNTDQ and POPCNT.
        unsafe { avx512_one(a, b) }
    }

    pub(super) fn intersections_avx512(a: &[u64], many: &[u64], out: &mut [u32]) {
        // SAFETY: as above.
        unsafe { avx512_many(a, many, out) }
    }

    #[target_feature(enable = "popcnt")]
    fn popcnt_one(a: &[u64], b: &[u64]) -> u32 {
        super::intersection_portable(a, b)
    }

    #[target_feature(enable = "popcnt")]
    fn popcnt_many(a: &[u64], many: &[u64], out: &mut [u32]) {
        for (o, b) in out.iter_mut().zip(many.chunks_exact(a.len())) {
            *o = super::intersection_portable(a, b);
        }
    }

    #[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
    fn avx512_one(a: &[u64], b: &[u64]) -> u32 {
        let n = a.len().min(b.len());
        let (a, b) = (&a[..n], &b[..n]);
        let mut acc = _mm512_setzero_si512();
        let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
        let (ar, br) = (ac.remainder(), bc.remainder());
        for (x, y) in ac.zip(bc) {
            // SAFETY: `x` and `y` are 8 u64 words (64 bytes) each: one unaligned 512-bit load.
            let (x, y) = unsafe {
                (
                    _mm512_loadu_si512(x.as_ptr().cast()),
                    _mm512_loadu_si512(y.as_ptr().cast()),
                )
            };
            acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_and_si512(x, y)));
        }
        // At most 64 * n bits are set, so the sum fits a u32 for any filter under 2^26 words.
        let vector = _mm512_reduce_add_epi64(acc) as u32;
        vector + super::intersection_portable(ar, br)
    }

    #[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
    fn avx512_many(a: &[u64], many: &[u64], out: &mut [u32]) {
        match a.len() {
            8 => avx512_many_fixed::<1>(a, many, out),
            16 => avx512_many_fixed::<2>(a, many, out),
            words => {
                for (o, b) in out.iter_mut().zip(many.chunks_exact(words)) {
                    *o = avx512_one(a, b);
                }
            }
        }
    }

    /// The counts of `a` against `many` and the screen of [`super::dice_at_least`], both in
    /// AVX-512 code. Only called when [`kernel`] found AVX-512F and VPOPCNTDQ.
    pub(super) fn screen_avx512(
        a: &[u64],
        count_a: u32,
        many: &[u64],
        counts: &[u32],
        screen: f32,
        both: &mut [u32],
        pass: &mut [u8],
    ) {
        // SAFETY: `kernel()` returned Avx512, so the CPU has AVX-512F, VPOPCNTDQ and POPCNT.
        unsafe { screen_avx512_inner(a, count_a, many, counts, screen, both, pass) }
    }

    #[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
    fn screen_avx512_inner(
        a: &[u64],
        count_a: u32,
        many: &[u64],
        counts: &[u32],
        screen: f32,
        both: &mut [u32],
        pass: &mut [u8],
    ) {
        avx512_many(a, many, both);
        super::screen_counts(count_a, both, counts, screen, pass);
    }

    /// `avx512_many` for filters of exactly `V` 512-bit vectors (512 or 1024 bits, the usual
    /// sizes): `a` is loaded once, each filter of `many` with `V` loads and no remainder loop.
    #[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
    fn avx512_many_fixed<const V: usize>(a: &[u64], many: &[u64], out: &mut [u32]) {
        if a.len() != V * 8 {
            return;
        }
        let av = load_filter::<V>(a);
        let n = out.len().min(many.len() / (V * 8));
        let groups = n / 8;
        for g in 0..groups {
            let totals = totals8::<V>(&av, &many[g * 8 * V * 8..(g + 1) * 8 * V * 8]);
            let mut t = [0u64; 8];
            // SAFETY: `t` is 8 u64 words: one unaligned 512-bit store.
            unsafe { _mm512_storeu_si512(t.as_mut_ptr().cast(), totals) };
            for (o, v) in out[g * 8..g * 8 + 8].iter_mut().zip(t) {
                *o = v as u32;
            }
        }
        for (o, b) in out[groups * 8..n]
            .iter_mut()
            .zip(many[groups * 8 * V * 8..].chunks_exact(V * 8))
        {
            *o = _mm512_reduce_add_epi64(partial::<V>(&av, b)) as u32;
        }
    }

    /// [`super::dice_at_least`] for filters of exactly `V` 512-bit vectors, all in AVX-512: eight
    /// filters at a time, their counts screened as one vector (`2|A∩B| >= screen (|A| + |B|)` in
    /// f64), and only those that pass tested exactly. Only called when [`kernel`] found AVX-512F
    /// and VPOPCNTDQ.
    pub(super) fn at_least_fixed<const V: usize>(
        a: &[u64],
        count_a: u32,
        many: &[u64],
        counts: &[u32],
        screen: f64,
        threshold: f64,
        out: &mut Vec<(u32, f64)>,
    ) {
        // SAFETY: only called when `kernel()` returned Avx512.
        unsafe { at_least_fixed_inner::<V>(a, count_a, many, counts, screen, threshold, out) }
    }

    #[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
    fn at_least_fixed_inner<const V: usize>(
        a: &[u64],
        count_a: u32,
        many: &[u64],
        counts: &[u32],
        screen: f64,
        threshold: f64,
        out: &mut Vec<(u32, f64)>,
    ) {
        if a.len() != V * 8 {
            return;
        }
        let av = load_filter::<V>(a);
        let n = counts.len().min(many.len() / (V * 8));
        let groups = n / 8;
        let mut exact = |j: usize, both: u32| {
            let d = super::dice(both, count_a, counts[j]);
            if d >= threshold {
                out.push((u32::try_from(j).unwrap_or(u32::MAX), d));
            }
        };
        let ca = _mm512_set1_pd(f64::from(count_a));
        let scr = _mm512_set1_pd(screen);
        let screened = |g: usize| {
            let totals = totals8::<V>(&av, &many[g * 8 * V * 8..(g + 1) * 8 * V * 8]);
            (totals, screen8(totals, &counts[g * 8..g * 8 + 8], ca, scr))
        };
        for_screened_groups(groups, screened, &mut exact);
        for (j, b) in (groups * 8..n).zip(many[groups * 8 * V * 8..].chunks_exact(V * 8)) {
            let both = _mm512_reduce_add_epi64(partial::<V>(&av, b)) as u32;
            if 2.0 * f64::from(both) >= screen * (f64::from(count_a) + f64::from(counts[j])) {
                exact(j, both);
            }
        }
    }

    /// [`super::dice_at_least_block`] in AVX-512 for filters of `W` words: the words of `a` are
    /// broadcast once; per group of eight filters each is ANDed with that word of the eight and
    /// the popcounts added lane by lane, so the eight counts come out in one vector; screened as
    /// in `at_least_fixed`. Only called when [`kernel`] found AVX-512F and VPOPCNTDQ.
    pub(super) fn block_at_least<const W: usize>(
        a: &[u64],
        count_a: u32,
        block: &super::FilterBlock,
        screen: f64,
        threshold: f64,
        out: &mut Vec<(u32, f64)>,
    ) {
        // SAFETY: only called when `kernel()` returned Avx512.
        unsafe { block_at_least_inner::<W>(a, count_a, block, screen, threshold, out) }
    }

    #[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
    fn block_at_least_inner<const W: usize>(
        a: &[u64],
        count_a: u32,
        block: &super::FilterBlock,
        screen: f64,
        threshold: f64,
        out: &mut Vec<(u32, f64)>,
    ) {
        if a.len() != W || block.words != W {
            return;
        }
        let mut ax = [_mm512_setzero_si512(); W];
        for (x, &w) in ax.iter_mut().zip(a) {
            *x = _mm512_set1_epi64(w as i64);
        }
        let ca = _mm512_set1_pd(f64::from(count_a));
        let scr = _mm512_set1_pd(screen);
        let groups = block.transposed.len() / (W * 8);
        let screened = |g: usize| {
            let rows = &block.transposed[g * W * 8..(g + 1) * W * 8];
            let (mut acc0, mut acc1) = (_mm512_setzero_si512(), _mm512_setzero_si512());
            for k in (0..W).step_by(2) {
                // SAFETY: rows has W * 8 words; rows k and k + 1 (k + 1 < W, W even) are inside.
                let (y0, y1) = unsafe {
                    (
                        _mm512_loadu_si512(rows.as_ptr().add(k * 8).cast()),
                        _mm512_loadu_si512(rows.as_ptr().add(k * 8 + 8).cast()),
                    )
                };
                acc0 = _mm512_add_epi64(acc0, _mm512_popcnt_epi64(_mm512_and_si512(ax[k], y0)));
                acc1 = _mm512_add_epi64(acc1, _mm512_popcnt_epi64(_mm512_and_si512(ax[k + 1], y1)));
            }
            let totals = _mm512_add_epi64(acc0, acc1);
            (
                totals,
                screen8(totals, &block.counts[g * 8..g * 8 + 8], ca, scr),
            )
        };
        for_screened_groups(groups, screened, |j, both| {
            // Lanes past the block's filters are padding.
            if j < block.len {
                let d = super::dice(both, count_a, block.counts[j]);
                if d >= threshold {
                    out.push((u32::try_from(j).unwrap_or(u32::MAX), d));
                }
            }
        });
    }

    /// The screen of eight counts: bit `k` set when `2 totals[k] >= scr (ca + counts[k])` (f64
    /// lanes). `counts` must hold 8 entries (else nothing passes).
    #[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
    #[inline]
    fn screen8(totals: __m512i, counts: &[u32], ca: __m512d, scr: __m512d) -> u8 {
        if counts.len() < 8 {
            return 0;
        }
        // SAFETY: `counts` holds at least 8 u32: one unaligned 256-bit load.
        let cb = unsafe { _mm256_loadu_si256(counts.as_ptr().cast()) };
        let both = _mm512_cvtepi32_pd(_mm512_cvtepi64_epi32(totals));
        let lhs = _mm512_add_pd(both, both);
        let rhs = _mm512_mul_pd(scr, _mm512_add_pd(ca, _mm512_cvtepi32_pd(cb)));
        _mm512_cmp_pd_mask::<_CMP_GE_OQ>(lhs, rhs)
    }

    /// Screens groups `0..groups` two per step (one test of both masks, so the groups' latency
    /// chains overlap) and calls `exact(j, |A∩B_j|)` for each filter `j` that passed.
    #[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
    #[inline]
    fn for_screened_groups(
        groups: usize,
        screened: impl Fn(usize) -> (__m512i, u8),
        mut exact: impl FnMut(usize, u32),
    ) {
        let mut hits = |g: usize, totals: __m512i, mask: u8| {
            let mut t = [0u64; 8];
            // SAFETY: `t` is 8 u64 words: one unaligned 512-bit store.
            unsafe { _mm512_storeu_si512(t.as_mut_ptr().cast(), totals) };
            for (k, &v) in t.iter().enumerate().filter(|(k, _)| mask & (1 << k) != 0) {
                exact(g * 8 + k, v as u32);
            }
        };
        let mut g = 0;
        while g + 1 < groups {
            let (t0, m0) = screened(g);
            let (t1, m1) = screened(g + 1);
            if (m0 | m1) != 0 {
                hits(g, t0, m0);
                hits(g + 1, t1, m1);
            }
            g += 2;
        }
        if g < groups {
            let (t0, m0) = screened(g);
            if m0 != 0 {
                hits(g, t0, m0);
            }
        }
    }

    /// The `V` 512-bit vectors of a filter of `V * 8` words.
    #[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
    #[inline]
    fn load_filter<const V: usize>(a: &[u64]) -> [__m512i; V] {
        let mut av = [_mm512_setzero_si512(); V];
        for (v, chunk) in av.iter_mut().zip(a.chunks_exact(8)) {
            // SAFETY: `chunk` is 8 u64 words: one unaligned 512-bit load.
            *v = unsafe { _mm512_loadu_si512(chunk.as_ptr().cast()) };
        }
        av
    }

    /// The 8 lanes of partial popcounts of `a` AND `b` (`b` of `V * 8` words).
    #[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
    #[inline]
    fn partial<const V: usize>(av: &[__m512i; V], b: &[u64]) -> __m512i {
        let mut acc: __m512i = _mm512_setzero_si512();
        for (x, y) in av.iter().zip(b.chunks_exact(8)) {
            // SAFETY: `y` is 8 u64 words: one unaligned 512-bit load.
            let y = unsafe { _mm512_loadu_si512(y.as_ptr().cast()) };
            acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_and_si512(*x, y)));
        }
        acc
    }

    /// `|A∩B|` of eight consecutive filters `group` (8 * V * 8 words), in order, as the 8 u64
    /// lanes of one vector: their partial-sum vectors are reduced together by a transposing add
    /// tree (3 levels instead of 8 separate horizontal sums).
    #[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
    #[inline]
    fn totals8<const V: usize>(av: &[__m512i; V], group: &[u64]) -> __m512i {
        let mut acc = [_mm512_setzero_si512(); 8];
        for (r, b) in acc.iter_mut().zip(group.chunks_exact(V * 8)) {
            *r = partial::<V>(av, b);
        }
        // Level 1: 128-bit lane j of pair(x, y) holds (sum of pair j of x, of y).
        let pair = |x: __m512i, y: __m512i| {
            _mm512_add_epi64(_mm512_unpacklo_epi64(x, y), _mm512_unpackhi_epi64(x, y))
        };
        // Levels 2 and 3: add 128-bit lanes (0+1, 2+3), then across the two halves.
        let fold = |x: __m512i, y: __m512i| {
            _mm512_add_epi64(
                _mm512_shuffle_i64x2::<0x88>(x, y),
                _mm512_shuffle_i64x2::<0xDD>(x, y),
            )
        };
        fold(
            fold(pair(acc[0], acc[1]), pair(acc[2], acc[3])),
            fold(pair(acc[4], acc[5]), pair(acc[6], acc[7])),
        )
    }
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

    /// A query of `words` words and `n` filters of as many words, every `near`-th filter (0:
    /// none) a near copy of the query (its words ANDed with random ones), from a xorshift stream.
    fn query_and_filters(seed: u64, words: usize, n: usize, near: usize) -> (Vec<u64>, Vec<u64>) {
        let mut x = seed | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let a: Vec<u64> = (0..words).map(|_| next() | next()).collect();
        let many = (0..words * n)
            .map(|i| {
                if near > 0 && (i / words).is_multiple_of(near) {
                    a[i % words] & (next() | next())
                } else {
                    next() & next()
                }
            })
            .collect();
        (a, many)
    }

    proptest! {
        #[test]
        fn every_kernel_gives_the_portable_count(
            words in prop_oneof![Just(8usize), Just(16usize), 0usize..40],
            seed in any::<u64>(),
            n in 0usize..40,
        ) {
            // Filters of any length (not only multiples of 8 words) and any bits.
            let (a, many) = query_and_filters(seed, words, n, 0);
            let mut out = vec![u32::MAX; n];
            intersection_counts(&a, &many, &mut out);
            for (k, b) in many.chunks_exact(words.max(1)).enumerate().take(n) {
                let want = intersection_portable(&a, b);
                prop_assert_eq!(intersection_count(&a, b), want);
                if words > 0 {
                    prop_assert_eq!(out[k], want);
                }
            }
            if words == 0 {
                prop_assert!(out.iter().all(|&o| o == 0));
            }
        }
    }

    proptest! {
        #[test]
        fn dice_at_least_finds_exactly_the_pairs_the_plain_test_finds(
            words in prop_oneof![Just(8usize), Just(16usize), 1usize..24],
            seed in any::<u64>(),
            n in 0usize..600,
            t in prop_oneof![0.0f64..=1.0, Just(0.8), Just(0.75), Just(1.0), Just(0.0)],
        ) {
            // Every third filter a near copy of `a`, so that some pairs reach high thresholds.
            let (a, many) = query_and_filters(seed, words, n, 3);
            let counts: Vec<u32> = many.chunks_exact(words).map(popcount).collect();
            let ca = popcount(&a);
            let mut got = vec![(u32::MAX, -1.0)];
            let added = dice_at_least(&a, ca, &many, &counts, t, &mut got);
            let want: Vec<(u32, f64)> = std::iter::once((u32::MAX, -1.0))
                .chain(many.chunks_exact(words).enumerate().filter_map(|(j, b)| {
                    let d = dice(intersection_portable(&a, b), ca, counts[j]);
                    (d >= t).then_some((j as u32, d))
                }))
                .collect();
            prop_assert_eq!(added, want.len() - 1);
            prop_assert_eq!(got, want);
        }
    }

    proptest! {
        #[test]
        fn a_filter_block_finds_what_dice_at_least_finds(
            words in prop_oneof![Just(8usize), Just(16usize), 1usize..24],
            seed in any::<u64>(),
            n in 0usize..100,
            t in prop_oneof![0.0f64..=1.0, Just(0.8), Just(0.0)],
        ) {
            let (a, many) = query_and_filters(seed, words, n, 2);
            let counts: Vec<u32> = many.chunks_exact(words).map(popcount).collect();
            let block = FilterBlock::new(&many, words);
            prop_assert_eq!(block.len(), n);
            let (mut got, mut want) = (Vec::new(), Vec::new());
            dice_at_least_block(&a, popcount(&a), &block, t, &mut got);
            dice_at_least(&a, popcount(&a), &many, &counts, t, &mut want);
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn dice_at_least_keeps_a_pair_exactly_at_the_threshold() {
        // 2 * 4 / (5 + 5) = 0.8 exactly as the f64 division rounds it.
        let a = [0b1_1111u64];
        let many = [0b0_1111u64 | 1 << 40];
        let mut found = Vec::new();
        dice_at_least(&a, 5, &many, &[5], dice(4, 5, 5), &mut found);
        assert_eq!(found, vec![(0, dice(4, 5, 5))]);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn each_x86_kernel_the_cpu_has_matches_the_portable_one() {
        let a: Vec<u64> = (0..16u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        let b: Vec<u64> = (0..16u64)
            .map(|i| !i.wrapping_mul(0xBF58_476D_1CE4_E5B9))
            .collect();
        let want = intersection_portable(&a, &b);
        if std::arch::is_x86_feature_detected!("popcnt") {
            assert_eq!(x86::intersection_popcnt(&a, &b), want);
        }
        if x86::kernel() == x86::Kernel::Avx512 {
            assert_eq!(x86::intersection_avx512(&a, &b), want);
            assert_eq!(
                x86::intersection_avx512(&a[..11], &b[..11]),
                intersection_portable(&a[..11], &b[..11])
            );
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
