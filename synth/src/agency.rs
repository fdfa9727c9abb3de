//! Agency profiles (record-id scheme and formatting conventions) and the
//! making of one agency's extract from the clean population.

use crate::date::Date;
use crate::errors::{
    address_variant, compound_surname_variant, name_variant, nhs_transcription, postcode_format,
    postcode_typo, strip_diacritics, swap_day_month, typo, whitespace_noise, wrong_digit,
    year_off_by_one, Probs,
};
use crate::people::{Household, Person, Population, Sex};
use crate::random::Rand;
use crate::{SynthConfig, SynthRecord};

/// How an agency writes dates of birth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateStyle {
    /// `2014-03-09`.
    Iso,
    /// `09/03/2014`.
    Uk,
    /// Mostly `09/03/2014`, one in ten `9 Mar 2014`, one in ten `9/3/14`.
    Mixed,
    /// `09-MAR-2014`.
    Oracle,
    /// `9/3/2014`.
    UkUnpadded,
}

/// How an agency codes sex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SexStyle {
    /// `M` / `F`.
    Letter,
    /// `Male` / `Female`.
    Word,
    /// `1` / `2` (ISO/IEC 5218: 1 male, 2 female).
    Digit,
}

/// How an agency writes names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameCase {
    /// As given (`McDonald`, `de Vries`).
    AsEntered,
    /// All upper case, from an old system.
    Upper,
    /// Surname in upper case, other names as given.
    SurnameUpper,
    /// Naive title case (`Mcdonald`, `De Vries`, `O'neil`).
    NaiveTitle,
}

/// One agency's conventions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Profile {
    /// What kind of agency this imitates.
    pub(crate) kind: &'static str,
    /// Record-id prefix.
    pub(crate) prefix: &'static str,
    /// Whether the record-id counter is written in hexadecimal.
    pub(crate) hex: bool,
    /// Minimum digits in the record id.
    pub(crate) width: usize,
    pub(crate) date: DateStyle,
    pub(crate) sex: SexStyle,
    pub(crate) case: NameCase,
    /// Whether address and postcode are stored in upper case.
    pub(crate) upper_address: bool,
    /// Share of records carrying the NHS number.
    pub(crate) nhs_share: f64,
    /// Whether the NHS number is written `999 123 4567`.
    pub(crate) nhs_spaced: bool,
}

/// The agency profiles; agency `k` uses `PROFILES[k % 5]`.
pub(crate) const PROFILES: [Profile; 5] = [
    Profile {
        kind: "children's services case management",
        prefix: "CS",
        hex: false,
        width: 6,
        date: DateStyle::Iso,
        sex: SexStyle::Letter,
        case: NameCase::AsEntered,
        upper_address: false,
        nhs_share: 0.20,
        nhs_spaced: true,
    },
    Profile {
        kind: "NHS trust patient administration system",
        prefix: "NHS-",
        hex: true,
        width: 6,
        date: DateStyle::Uk,
        sex: SexStyle::Word,
        case: NameCase::Upper,
        upper_address: true,
        nhs_share: 0.95,
        nhs_spaced: false,
    },
    Profile {
        kind: "schools information system",
        prefix: "SCH",
        hex: false,
        width: 5,
        date: DateStyle::Mixed,
        sex: SexStyle::Digit,
        case: NameCase::SurnameUpper,
        upper_address: false,
        nhs_share: 0.20,
        nhs_spaced: false,
    },
    Profile {
        kind: "police records",
        prefix: "POL",
        hex: false,
        width: 7,
        date: DateStyle::Oracle,
        sex: SexStyle::Letter,
        case: NameCase::Upper,
        upper_address: true,
        nhs_share: 0.20,
        nhs_spaced: false,
    },
    Profile {
        kind: "housing",
        prefix: "HSG/",
        hex: false,
        width: 6,
        date: DateStyle::UkUnpadded,
        sex: SexStyle::Word,
        case: NameCase::NaiveTitle,
        upper_address: false,
        nhs_share: 0.20,
        nhs_spaced: false,
    },
];

/// The profile of agency `k`.
pub(crate) fn profile(k: usize) -> &'static Profile {
    &PROFILES[k % PROFILES.len()]
}

/// The letter suffix of agency `k` (`a`, `b`, ...).
pub(crate) fn letter(k: usize) -> char {
    char::from(b'a' + u8::try_from(k % 26).unwrap_or(0))
}

/// `agency_a`, `agency_b`, ...
pub(crate) fn agency_name(k: usize) -> String {
    format!("agency_{}", letter(k))
}

/// Capitalises the first letter of each space- or hyphen-separated word and
/// lower-cases the rest, as a naive system does.
pub(crate) fn naive_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = c == ' ' || c == '-';
    }
    out
}

/// Upper case, in place when the text is ASCII.
fn upper(mut s: String) -> String {
    if s.is_ascii() {
        s.make_ascii_uppercase();
        s
    } else {
        s.to_uppercase()
    }
}

fn apply_case(case: NameCase, s: String, surname: bool) -> String {
    match case {
        NameCase::AsEntered => s,
        NameCase::Upper => upper(s),
        NameCase::SurnameUpper if surname => upper(s),
        NameCase::SurnameUpper => s,
        NameCase::NaiveTitle => naive_title(&s),
    }
}

/// Formats a date the agency's way.
pub(crate) fn format_date(rng: &mut Rand, style: DateStyle, d: Date) -> String {
    match style {
        DateStyle::Iso => d.iso(),
        DateStyle::Uk => d.uk(),
        DateStyle::Mixed => match rng.below(10) {
            0 => d.long(),
            1 => d.uk_short(),
            _ => d.uk(),
        },
        DateStyle::Oracle => d.oracle(),
        DateStyle::UkUnpadded => d.uk_unpadded(),
    }
}

/// Codes sex the agency's way.
pub(crate) fn format_sex(style: SexStyle, sex: Sex) -> &'static str {
    match (style, sex) {
        (SexStyle::Letter, Sex::Male) => "M",
        (SexStyle::Letter, Sex::Female) => "F",
        (SexStyle::Word, Sex::Male) => "Male",
        (SexStyle::Word, Sex::Female) => "Female",
        (SexStyle::Digit, Sex::Male) => "1",
        (SexStyle::Digit, Sex::Female) => "2",
    }
}

/// `9991234567` -> `999 123 4567`.
pub(crate) fn spaced_nhs(n: &str) -> String {
    let chars: Vec<char> = n.chars().collect();
    if chars.len() != 10 {
        return n.to_string();
    }
    let part = |a: usize, b: usize| chars.get(a..b).unwrap_or(&[]).iter().collect::<String>();
    format!("{} {} {}", part(0, 3), part(3, 6), part(6, 10))
}

/// One agency's copy of a person, with errors drawn from `p` and the
/// agency's formatting applied. The record id is filled in later.
pub(crate) fn copy_of(
    rng: &mut Rand,
    person: &Person,
    household: Option<&Household>,
    profile: &Profile,
    p: &Probs,
) -> SynthRecord {
    let mut first = person.first.to_string();
    let mut middle = person.middle.to_string();
    let mut last = person.last.clone();

    // Surname history and compound surnames.
    if let Some(previous) = &person.previous_last {
        if rng.chance(p.previous_surname) {
            last = previous.clone();
        }
    }
    if (last.contains('-') || last.contains(' ')) && rng.chance(p.hyphen_part_dropped) {
        if let Some(v) = compound_surname_variant(rng, &last) {
            last = v;
        }
    }

    // First and middle names.
    if !middle.is_empty() && rng.chance(p.middle_name_as_first) {
        first = std::mem::take(&mut middle);
    } else if rng.chance(p.first_name_variant) {
        if let Some(v) = name_variant(rng, &first) {
            first = v.to_string();
        }
    }
    if !middle.is_empty() && rng.chance(p.middle_name_missing) {
        middle.clear();
    }
    let accented = !(first.is_ascii() && middle.is_ascii() && last.is_ascii());
    if accented && rng.chance(p.diacritics_dropped) {
        first = strip_diacritics(&first);
        middle = strip_diacritics(&middle);
        last = strip_diacritics(&last);
    }
    if rng.chance(p.first_name_typo) {
        first = typo(rng, &first);
    }
    if rng.chance(p.last_name_typo) {
        last = typo(rng, &last);
    }
    if rng.chance(p.names_swapped) {
        std::mem::swap(&mut first, &mut last);
    }
    if rng.chance(p.first_name_missing) {
        first.clear();
    }
    if rng.chance(p.last_name_missing) {
        last.clear();
    }

    // Date of birth.
    let mut dob = Some(person.dob);
    if let Some(d) = dob {
        if rng.chance(p.dob_day_month_swapped) {
            dob = Some(swap_day_month(d).unwrap_or(d));
        }
    }
    if let Some(d) = dob {
        if rng.chance(p.dob_digit_wrong) {
            dob = Some(wrong_digit(rng, d));
        }
    }
    if let Some(d) = dob {
        if rng.chance(p.dob_year_off_by_one) {
            dob = Some(year_off_by_one(rng, d));
        }
    }
    if rng.chance(p.dob_missing) {
        dob = None;
    }

    // Sex.
    let mut sex = Some(person.sex);
    if rng.chance(p.sex_wrong) {
        sex = Some(person.sex.other());
    }
    if rng.chance(p.sex_missing) {
        sex = None;
    }

    // Address and postcode.
    let (mut address, mut postcode) = match household {
        Some(h) if rng.chance(p.moved_house) => (h.other_address.clone(), h.other_postcode.clone()),
        Some(h) => (h.address.clone(), h.postcode.clone()),
        None => (String::new(), String::new()),
    };
    if rng.chance(p.address_variant) {
        address = address_variant(rng, &address);
    }
    if rng.chance(p.address_typo) {
        address = typo(rng, &address);
    }
    if rng.chance(p.postcode_typo) {
        postcode = postcode_typo(rng, &postcode);
    }
    if rng.chance(p.postcode_format) {
        postcode = postcode_format(rng, &postcode);
    }
    if rng.chance(p.address_missing) {
        address.clear();
    }
    if rng.chance(p.postcode_missing) {
        postcode.clear();
    }

    // NHS number: recorded by some agencies far more than others.
    let mut nhs_number = String::new();
    if rng.chance(profile.nhs_share) {
        nhs_number = person.nhs.clone();
        if rng.chance(p.nhs_number_transcription) {
            nhs_number = nhs_transcription(rng, &nhs_number);
        }
        if profile.nhs_spaced {
            nhs_number = spaced_nhs(&nhs_number);
        }
    }

    // The agency's formatting conventions.
    let lowercase = rng.chance(p.lowercase_entry);
    let name = |s: String, surname: bool| {
        if lowercase {
            s.to_lowercase()
        } else {
            apply_case(profile.case, s, surname)
        }
    };
    let mut first = name(first, false);
    let mut middle = name(middle, false);
    let mut last = name(last, true);
    if profile.upper_address {
        address = upper(address);
        postcode = upper(postcode);
    }
    let date_of_birth = dob.map_or_else(String::new, |d| format_date(rng, profile.date, d));
    let sex = sex.map_or("", |s| format_sex(profile.sex, s)).to_string();

    // Stray whitespace and punctuation.
    for field in [&mut first, &mut middle, &mut last, &mut address] {
        if rng.chance(p.whitespace_noise) {
            *field = whitespace_noise(rng, field);
        }
    }

    SynthRecord {
        record_id: String::new(),
        first_name: first,
        middle_name: middle,
        last_name: last,
        date_of_birth,
        sex,
        postcode,
        address_line_1: address,
        nhs_number,
    }
}

/// Number of digits of `n` in base `radix`.
fn digits(mut n: u64, radix: u64) -> usize {
    let mut d = 1;
    while n >= radix {
        n /= radix;
        d += 1;
    }
    d
}

/// Builds agency `k`'s extract: the records in file order and the person
/// each one belongs to.
pub(crate) fn extract(
    k: usize,
    pop: &Population,
    config: &SynthConfig,
    probs: &Probs,
) -> (Vec<SynthRecord>, Vec<u64>) {
    let prof = profile(k);
    let mut rng = Rand::new(config.seed, 1 + u64::try_from(k).unwrap_or(0));
    let expected = pop.people.len() as f64 * config.coverage * (1.0 + config.duplicate_rate);
    let mut rows: Vec<(u64, SynthRecord)> = Vec::with_capacity(expected as usize + 1024);
    for (id, person) in pop.people.iter().enumerate() {
        if !rng.chance(config.coverage) {
            continue;
        }
        let copies = if rng.chance(config.duplicate_rate) {
            2
        } else {
            1
        };
        let household = pop.households.get(person.household as usize);
        for _ in 0..copies {
            let record = copy_of(&mut rng, person, household, prof, probs);
            rows.push((u64::try_from(id).unwrap_or(u64::MAX), record));
        }
    }
    rng.shuffle(&mut rows);

    // Record ids: the agency's own counter, starting somewhere in its range
    // and advancing by 1-3 (gaps from deleted or merged records), written
    // with a fixed width so that ids sort in file order.
    let radix = if prof.hex { 16 } else { 10 };
    let start_digits = u32::try_from(prof.width.saturating_sub(1)).unwrap_or(4);
    let low = radix_pow(radix, start_digits.saturating_sub(1));
    let mut counter = low + rng.u64() % (low * (radix - 1)).max(1);
    let last_possible = counter + 3 * u64::try_from(rows.len()).unwrap_or(u64::MAX / 4);
    let width = digits(last_possible, radix).max(prof.width);
    let suffix = if k >= PROFILES.len() {
        letter(k).to_ascii_uppercase().to_string()
    } else {
        String::new()
    };
    let mut records = Vec::with_capacity(rows.len());
    let mut persons = Vec::with_capacity(rows.len());
    for (person, mut record) in rows {
        counter += u64::from(rng.range(1, 3));
        record.record_id = if prof.hex {
            format!("{}{suffix}{counter:0width$X}", prof.prefix)
        } else {
            format!("{}{suffix}{counter:0width$}", prof.prefix)
        };
        records.push(record);
        persons.push(person);
    }
    (records, persons)
}

fn radix_pow(radix: u64, exp: u32) -> u64 {
    radix.checked_pow(exp).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_helpers() {
        assert_eq!(naive_title("McDonald"), "Mcdonald");
        assert_eq!(naive_title("de Vries"), "De Vries");
        assert_eq!(naive_title("O'Neil"), "O'neil");
        assert_eq!(naive_title("smith-jones"), "Smith-Jones");
        assert_eq!(spaced_nhs("9991234567"), "999 123 4567");
        assert_eq!(spaced_nhs("123"), "123");
        assert_eq!(format_sex(SexStyle::Digit, Sex::Female), "2");
        assert_eq!(agency_name(0), "agency_a");
        assert_eq!(agency_name(2), "agency_c");
        assert_eq!(digits(999_999, 10), 6);
        assert_eq!(digits(0x10_0000, 16), 6);
    }

    #[test]
    fn copies_without_errors_are_clean() {
        let mut rng = Rand::new(1, 1);
        let person = Person {
            household: 0,
            first: "Zoë",
            middle: "Anne",
            last: "Smith-Jones".to_string(),
            previous_last: Some("Kowalska".to_string()),
            dob: Date::new(2014, 3, 9).expect("valid"),
            sex: Sex::Female,
            nhs: "9434765919".to_string(),
        };
        let h = Household {
            address: "Flat 3, 45 Far Gosford Street".to_string(),
            postcode: "CV1 5DZ".to_string(),
            other_address: "12 Holyhead Road".to_string(),
            other_postcode: "CV1 3AA".to_string(),
        };
        let zero = Probs::scaled(0.0);
        let r = copy_of(&mut rng, &person, Some(&h), &PROFILES[1], &zero);
        assert_eq!(r.first_name, "ZOË");
        assert_eq!(r.last_name, "SMITH-JONES");
        assert_eq!(r.date_of_birth, "09/03/2014");
        assert_eq!(r.sex, "Female");
        assert_eq!(r.address_line_1, "FLAT 3, 45 FAR GOSFORD STREET");
        let r = copy_of(&mut rng, &person, Some(&h), &PROFILES[0], &zero);
        assert_eq!(r.first_name, "Zoë");
        assert_eq!(r.middle_name, "Anne");
        assert_eq!(r.date_of_birth, "2014-03-09");
        assert_eq!(r.sex, "F");
        assert_eq!(r.postcode, "CV1 5DZ");
        assert!(r.nhs_number.is_empty() || r.nhs_number == "943 476 5919");
    }
}
