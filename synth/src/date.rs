//! Proleptic Gregorian calendar dates with integer-only arithmetic.

/// A calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Date {
    pub(crate) year: i32,
    pub(crate) month: u32,
    pub(crate) day: u32,
}

/// The fixed reference date ages are computed against, so that output does
/// not depend on when the generator runs.
pub(crate) const REFERENCE: Date = Date {
    year: 2026,
    month: 1,
    day: 1,
};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Date {
    /// The date if it exists.
    pub(crate) fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        (day >= 1 && day <= days_in_month(year, month)).then_some(Date { year, month, day })
    }

    /// Days since 1970-01-01.
    pub(crate) fn to_days(self) -> i64 {
        let m = i64::from(self.month);
        let d = i64::from(self.day);
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01.
    pub(crate) fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }

    /// `2014-03-09`.
    pub(crate) fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `09/03/2014`.
    pub(crate) fn uk(self) -> String {
        format!("{:02}/{:02}/{:04}", self.day, self.month, self.year)
    }

    /// `9/3/2014`.
    pub(crate) fn uk_unpadded(self) -> String {
        format!("{}/{}/{:04}", self.day, self.month, self.year)
    }

    /// `9/3/14`.
    pub(crate) fn uk_short(self) -> String {
        format!(
            "{}/{}/{:02}",
            self.day,
            self.month,
            self.year.rem_euclid(100)
        )
    }

    /// `9 Mar 2014`.
    pub(crate) fn long(self) -> String {
        format!("{} {} {:04}", self.day, self.month_abbrev(), self.year)
    }

    /// `09-MAR-2014`.
    pub(crate) fn oracle(self) -> String {
        format!(
            "{:02}-{}-{:04}",
            self.day,
            self.month_abbrev().to_uppercase(),
            self.year
        )
    }

    fn month_abbrev(self) -> &'static str {
        usize::try_from(self.month)
            .ok()
            .and_then(|m| m.checked_sub(1))
            .and_then(|m| MONTHS.get(m))
            .copied()
            .unwrap_or("???")
    }
}

/// Whether `year` is a leap year.
pub(crate) fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in a month (0 for an invalid month).
pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_days() {
        assert_eq!(Date::new(1970, 1, 1).map(Date::to_days), Some(0));
        assert_eq!(REFERENCE.to_days(), 20_454);
        for days in -30_000..30_000 {
            let d = Date::from_days(days);
            assert_eq!(d.to_days(), days);
            assert!(Date::new(d.year, d.month, d.day).is_some());
        }
    }

    #[test]
    fn formats() {
        let d = Date::new(2014, 3, 9).expect("valid");
        assert_eq!(d.iso(), "2014-03-09");
        assert_eq!(d.uk(), "09/03/2014");
        assert_eq!(d.uk_unpadded(), "9/3/2014");
        assert_eq!(d.uk_short(), "9/3/14");
        assert_eq!(d.long(), "9 Mar 2014");
        assert_eq!(d.oracle(), "09-MAR-2014");
        assert!(Date::new(2023, 2, 29).is_none());
        assert!(Date::new(2024, 2, 29).is_some());
        assert!(Date::new(2024, 13, 1).is_none());
    }
}
