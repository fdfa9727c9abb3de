//! Probability arithmetic shared by EM, the u estimate, the model and scoring: the bounds every
//! estimated probability is clamped to, the smoothing pseudo-count, and the match probability of a
//! match weight. A leaf module.

/// Smallest probability a model holds.
pub const P_MIN: f64 = 1e-6;
/// Largest probability a model holds.
pub const P_MAX: f64 = 1.0 - 1e-6;
/// Pseudo-count added to each level in each M-step and in the u estimate.
pub const PSEUDO_COUNT: f64 = 0.5;

/// Clamps a probability to [`P_MIN`, `P_MAX`] (NaN becomes `P_MIN`).
#[inline]
pub fn clamp_probability(p: f64) -> f64 {
    if p.is_nan() {
        P_MIN
    } else {
        p.clamp(P_MIN, P_MAX)
    }
}

/// `2^w / (1 + 2^w)`, computed without overflow.
#[inline]
pub fn probability(weight: f64) -> f64 {
    if weight >= 0.0 {
        1.0 / (1.0 + (-weight).exp2())
    } else {
        let e = weight.exp2();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probability_is_the_logistic_of_base_two() {
        assert_eq!(probability(0.0), 0.5);
        assert!((probability(1.0) - 2.0 / 3.0).abs() < 1e-12);
        assert!((probability(-1.0) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(probability(5000.0), 1.0);
        assert_eq!(probability(-5000.0), 0.0);
    }
}
