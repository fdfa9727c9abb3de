#![allow(missing_docs)]
use super::*;
pub fn normalise_nhs_number(raw: &str) -> Normalised<String> {
    let s: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
    if s.len() == 10 {
        Ok(s)
    } else {
        Err(MissingReason::Invalid)
    }
}
