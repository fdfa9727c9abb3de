#![allow(missing_docs)]
use super::*;
pub fn normalise_text(raw: &str) -> Normalised<String> {
    let s = raw.trim().to_lowercase();
    if s.is_empty() {
        Err(MissingReason::Empty)
    } else {
        Ok(s)
    }
}
