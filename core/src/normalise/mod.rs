//! STUB
#![allow(missing_docs, clippy::all)]
pub mod date;
pub mod name;
pub mod nhs;
pub mod postcode;
pub mod sex;
pub mod text;
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MissingReason {
    Empty,
    Invalid,
    Impossible,
    Implausible,
    Unknown,
}
impl MissingReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::Invalid => "invalid",
            Self::Impossible => "impossible",
            Self::Implausible => "implausible",
            Self::Unknown => "unknown",
        }
    }
}
pub type Normalised<T> = Result<T, MissingReason>;
