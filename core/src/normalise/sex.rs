#![allow(missing_docs)]
use super::*;
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
}
impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "m",
            Sex::Female => "f",
        }
    }
}
pub fn normalise_sex(raw: &str) -> Normalised<Sex> {
    match raw.trim() {
        "M" => Ok(Sex::Male),
        "F" => Ok(Sex::Female),
        "" => Err(MissingReason::Empty),
        _ => Err(MissingReason::Invalid),
    }
}
