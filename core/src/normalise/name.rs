#![allow(missing_docs)]
use super::*;
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameOptions {
    pub drop_titles: bool,
}
pub fn normalise_name(raw: &str, _o: &NameOptions) -> Normalised<String> {
    let s = raw.trim().to_lowercase();
    if s.is_empty() {
        Err(MissingReason::Empty)
    } else {
        Ok(s)
    }
}
