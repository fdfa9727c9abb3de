#![allow(missing_docs)]
use super::*;
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Postcode {
    s: String,
    split: usize,
}
impl Postcode {
    pub fn as_str(&self) -> &str {
        &self.s
    }
    pub fn outward(&self) -> &str {
        &self.s[..self.split]
    }
    pub fn district(&self) -> &str {
        self.outward()
    }
    pub fn sector(&self) -> &str {
        &self.s[..self.split + 2]
    }
    pub fn area(&self) -> &str {
        &self.s[..2]
    }
}
pub fn normalise_postcode(raw: &str) -> Normalised<Postcode> {
    let c: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    if c.len() < 5 {
        return Err(MissingReason::Invalid);
    }
    let split = c.len() - 3;
    Ok(Postcode {
        s: format!("{} {}", &c[..split], &c[split..]),
        split,
    })
}
