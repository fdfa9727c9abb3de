//! The levels of a comparison vector: one `u8` per comparison, the index of the level the pair
//! reaches among the comparison's levels, or one of the two special levels below. A leaf module:
//! comparison writes these vectors; sampling, EM, training, the model and the scans read them.

/// The level index of a comparison whose fields are missing on either side.
pub const MISSING: u8 = u8::MAX;

/// The level index of a comparison nothing of which could be seen: not compared, no weight.
pub const UNKNOWN: u8 = u8::MAX - 1;

/// Whether `level` is one of the two levels that carry no weight and no information.
#[inline]
pub fn is_uncompared(level: u8) -> bool {
    level >= UNKNOWN
}
