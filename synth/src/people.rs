//! The clean population: households, people, addresses and NHS numbers.

use crate::date::{Date, REFERENCE};
use crate::names::{
    feminine_surname, NameTables, BRITISH, INDIAN, MAIN_STREETS, ORIGINS, SECTORS, SIKH_SURNAMES,
    STREET_STEMS, STREET_TYPES, UNIT_LETTERS,
};
use crate::random::Rand;

/// Recorded sex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sex {
    Female,
    Male,
}

impl Sex {
    pub(crate) fn other(self) -> Sex {
        match self {
            Sex::Female => Sex::Male,
            Sex::Male => Sex::Female,
        }
    }
}

/// A household: everyone in it shares the address.
#[derive(Debug, Clone)]
pub(crate) struct Household {
    pub(crate) address: String,
    pub(crate) postcode: String,
    /// The household's other address (before or after a move).
    pub(crate) other_address: String,
    pub(crate) other_postcode: String,
}

/// One real (synthetic) person with their true values.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub(crate) household: u32,
    pub(crate) first: &'static str,
    pub(crate) middle: &'static str,
    pub(crate) last: String,
    /// An earlier surname (maiden name, or name before divorce).
    pub(crate) previous_last: Option<String>,
    pub(crate) dob: Date,
    pub(crate) sex: Sex,
    pub(crate) nhs: String,
}

/// The whole clean population.
#[derive(Debug, Clone, Default)]
pub(crate) struct Population {
    pub(crate) people: Vec<Person>,
    pub(crate) households: Vec<Household>,
}

/// One street with its postcode district and sector.
struct Street {
    name: String,
    district: u8,
    sector: u8,
    max_number: u16,
}

fn streets() -> Vec<Street> {
    let mut out = Vec::new();
    for (i, (name, district)) in MAIN_STREETS.iter().enumerate() {
        out.push(Street {
            name: (*name).to_string(),
            district: *district,
            sector: sector_for(*district, i),
            max_number: MAX_NUMBER as u16,
        });
    }
    for (i, stem) in STREET_STEMS.iter().enumerate() {
        for (j, (kind, max)) in STREET_TYPES.iter().enumerate() {
            let district = u8::try_from((i * 3 + j) % 7 + 1).unwrap_or(1);
            out.push(Street {
                name: format!("{stem} {kind}"),
                district,
                sector: sector_for(district, i + j),
                max_number: *max,
            });
        }
    }
    out
}

fn sector_for(district: u8, i: usize) -> u8 {
    let sectors = SECTORS.get(usize::from(district)).copied().unwrap_or(&[]);
    if sectors.is_empty() {
        1
    } else {
        sectors.get(i % sectors.len()).copied().unwrap_or(1)
    }
}

/// SplitMix64 finaliser: a fixed integer hash.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Highest house number on any street, and highest flat number.
const MAX_NUMBER: usize = 240;
const MAX_FLAT: usize = 24;

/// Makes unique addresses; neighbouring houses share a postcode unit.
struct AddressBook {
    streets: Vec<Street>,
    /// One bit per (street, number, flat) already given out.
    used: Vec<u64>,
    salt: u64,
}

impl AddressBook {
    fn new(salt: u64) -> Self {
        let streets = streets();
        let slots = streets.len() * (MAX_NUMBER + 1) * (MAX_FLAT + 1);
        AddressBook {
            streets,
            used: vec![0; slots / 64 + 1],
            salt,
        }
    }

    /// Marks an address as used; false if it already was.
    fn claim(&mut self, (street, number, flat): (u32, u16, u16)) -> bool {
        let slot = (street as usize * (MAX_NUMBER + 1) + usize::from(number).min(MAX_NUMBER))
            * (MAX_FLAT + 1)
            + usize::from(flat).min(MAX_FLAT);
        match self.used.get_mut(slot / 64) {
            Some(word) => {
                let bit = 1u64 << (slot % 64);
                let fresh = *word & bit == 0;
                *word |= bit;
                fresh
            }
            None => true,
        }
    }

    fn address(&mut self, rng: &mut Rand) -> (String, String) {
        let mut choice = (0u32, 1u16, 0u16);
        for _ in 0..12 {
            let s = rng.below(u32::try_from(self.streets.len()).unwrap_or(1));
            let max = self
                .streets
                .get(s as usize)
                .map_or(100, |st| u32::from(st.max_number));
            let number = u16::try_from(rng.range(1, max)).unwrap_or(1);
            let flat = if rng.chance(0.2) {
                u16::try_from(rng.range(1, MAX_FLAT as u32)).unwrap_or(1)
            } else {
                0
            };
            choice = (s, number, flat);
            if self.claim(choice) {
                break;
            }
        }
        let (s, number, flat) = choice;
        let Some(street) = self.streets.get(s as usize) else {
            return (String::new(), String::new());
        };
        let line = if flat > 0 {
            format!("Flat {flat}, {number} {}", street.name)
        } else {
            format!("{number} {}", street.name)
        };
        let h = mix(self.salt ^ (u64::from(s) << 20) ^ u64::from(number / 12));
        let n = UNIT_LETTERS.len() as u64;
        let a = UNIT_LETTERS.get((h % n) as usize).copied().unwrap_or(b'A');
        let b = UNIT_LETTERS
            .get(((h / n) % n) as usize)
            .copied()
            .unwrap_or(b'B');
        let postcode = format!(
            "CV{} {}{}{}",
            street.district,
            street.sector,
            char::from(a),
            char::from(b)
        );
        (line, postcode)
    }
}

/// The NHS modulus-11 check digit for the first nine digits, or `None` when
/// the check value would be 10 (such numbers are never issued).
pub(crate) fn nhs_check_digit(first_nine: &[u32]) -> Option<u32> {
    if first_nine.len() != 9 {
        return None;
    }
    let sum: u32 = first_nine
        .iter()
        .zip((2..=10).rev())
        .map(|(d, w)| d * w)
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        c => Some(c),
    }
}

/// Whether `s` is ten digits with a correct modulus-11 check digit.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn is_valid_nhs_number(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 10 || s.chars().count() != 10 {
        return false;
    }
    let (body, check) = digits.split_at(9);
    nhs_check_digit(body).is_some_and(|c| check.first() == Some(&c))
}

/// Unique NHS numbers that cannot belong to a real patient.
///
/// Numbers issued to patients begin with 3, 4, 6 or 7 (England, Wales and
/// the Isle of Man), 010-311 (Scottish CHI) or 320-399 (Northern Ireland);
/// 999 000 0000 - 999 999 9999 is reserved for testing. Numbers are taken
/// from that test range first (about 909,000 of them have a valid check
/// digit) and then from the likewise never-issued 998, 997, ... blocks.
/// Within a block the six free digits are visited in a seeded
/// pseudo-random order (an affine permutation), and bodies whose check
/// value would be 10 are skipped.
struct NhsNumbers {
    multiplier: u64,
    offset: u64,
    next: u64,
}

/// Size of one three-digit block (six free digits).
const NHS_BLOCK: u64 = 1_000_000;
/// Blocks 999 down to 900.
const NHS_BLOCKS: u64 = 100;

impl NhsNumbers {
    fn new(rng: &mut Rand) -> Self {
        // An odd multiplier not divisible by 5 is coprime with 10^6.
        let mut multiplier = (rng.u64() % NHS_BLOCK) | 1;
        if multiplier.is_multiple_of(5) {
            multiplier += 2;
        }
        NhsNumbers {
            multiplier,
            offset: rng.u64() % NHS_BLOCK,
            next: 0,
        }
    }

    fn take(&mut self) -> String {
        while self.next < NHS_BLOCK * NHS_BLOCKS {
            let block = 999 - self.next / NHS_BLOCK;
            let within = self.next % NHS_BLOCK;
            self.next += 1;
            let x = (self.multiplier * within + self.offset) % NHS_BLOCK;
            let body = block * NHS_BLOCK + x;
            let mut digits = [0u32; 9];
            for (i, d) in digits.iter_mut().enumerate() {
                let place = 10u64.pow(8 - i as u32);
                *d = u32::try_from(body / place % 10).unwrap_or(0);
            }
            if let Some(check) = nhs_check_digit(&digits) {
                return format!("{body:09}{check}");
            }
        }
        String::new()
    }
}

/// The largest population generated (memory, not NHS numbers, is the limit:
/// the 9xx blocks hold about 90 million valid numbers).
pub(crate) const MAX_PEOPLE: usize = 10_000_000;

struct Builder<'a> {
    rng: Rand,
    names: &'a NameTables,
    addresses: AddressBook,
    pop: Population,
}

impl Builder<'_> {
    /// A date of birth for someone aged `age` on the reference date.
    fn dob(&mut self, age: u32) -> Date {
        let year = REFERENCE.year - 1 - i32::try_from(age).unwrap_or(0);
        let days_in_year = if crate::date::is_leap(year) { 366 } else { 365 };
        let start = Date {
            year,
            month: 1,
            day: 1,
        }
        .to_days();
        Date::from_days(start + i64::from(self.rng.below(days_in_year)))
    }

    fn person_origin(&mut self, household_origin: usize) -> usize {
        if self.rng.chance(0.08) {
            self.names.origin(&mut self.rng)
        } else {
            household_origin
        }
    }

    /// A first name, mostly from the person's own heritage.
    fn first_name(&mut self, origin: usize, sex: Sex, born: i32) -> &'static str {
        // Families of other heritage often give children British names;
        // less so for the parents' generation.
        let assimilated = if born >= 2000 { 0.15 } else { 0.04 };
        let from = if origin != BRITISH && self.rng.chance(assimilated) {
            BRITISH
        } else if origin == BRITISH && self.rng.chance(0.04) {
            self.names.origin(&mut self.rng)
        } else {
            origin
        };
        self.names
            .first_name(&mut self.rng, from, sex == Sex::Female, born)
    }

    fn middle_name(&mut self, origin: usize, sex: Sex, born: i32, first: &str) -> &'static str {
        if !self.rng.chance(0.5) {
            return "";
        }
        for _ in 0..4 {
            // Middle names come from the person's own heritage group.
            let m = self
                .names
                .first_name(&mut self.rng, origin, sex == Sex::Female, born);
            if m != first {
                return m;
            }
        }
        ""
    }

    /// The surname form for `sex` in a given heritage.
    fn surname_form(origin: usize, surname: &str, sex: Sex) -> String {
        let gendered = ORIGINS.get(origin).is_some_and(|o| o.gendered_surnames);
        if gendered && sex == Sex::Female {
            feminine_surname(surname)
        } else if origin == INDIAN && surname == "Kaur" && sex == Sex::Male {
            "Singh".to_string()
        } else {
            surname.to_string()
        }
    }

    fn household_surname(&mut self, origin: usize) -> String {
        let s = self.names.surname(&mut self.rng, origin);
        // Kaur is a woman's name; a family drawn as "Kaur" is a Singh family.
        if s == "Kaur" {
            "Singh".to_string()
        } else {
            s.to_string()
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_person(
        &mut self,
        household: u32,
        origin: usize,
        family_origin: usize,
        sex: Sex,
        dob: Date,
        last: String,
        previous_last: Option<String>,
        avoid_first: Option<&'static str>,
    ) -> &'static str {
        // `previous_last` is already in its final (gendered) form.
        let mut first = self.first_name(origin, sex, dob.year);
        if let Some(avoid) = avoid_first {
            for _ in 0..8 {
                if first != avoid {
                    break;
                }
                first = self.first_name(origin, sex, dob.year);
            }
        }
        let mut middle = self.middle_name(origin, sex, dob.year, first);
        let mut last = Self::surname_form(family_origin, &last, sex);
        // Sikh women in a Singh family are often recorded as Kaur, and many
        // Sikhs carry Singh or Kaur as a middle name.
        if family_origin == INDIAN && last == "Singh" && sex == Sex::Female && self.rng.chance(0.5)
        {
            last = "Kaur".to_string();
        }
        if family_origin == INDIAN
            && SIKH_SURNAMES.contains(&last.as_str())
            && last != "Singh"
            && self.rng.chance(0.5)
        {
            middle = if sex == Sex::Female { "Kaur" } else { "Singh" };
        }
        self.pop.people.push(Person {
            household,
            first,
            middle,
            last,
            previous_last,
            dob,
            sex,
            nhs: String::new(),
        });
        first
    }

    fn household(&mut self, room: usize) {
        let household = u32::try_from(self.pop.households.len()).unwrap_or(u32::MAX);
        let (address, postcode) = self.addresses.address(&mut self.rng);
        let (other_address, other_postcode) = self.addresses.address(&mut self.rng);
        self.pop.households.push(Household {
            address,
            postcode,
            other_address,
            other_postcode,
        });
        let origin = self.names.origin(&mut self.rng);
        let kind = self.rng.below(100);
        // 15% single adults, 10% couples, 45% couples with children,
        // 30% lone parents with children.
        let (adults, with_children) = match kind {
            0..=14 => (1, false),
            15..=24 => (2, false),
            25..=69 => (2, true),
            _ => (1, true),
        };

        // Children's ages: the eldest 0-18, then gaps of 1-4 years; each later
        // child is the previous one's twin with probability 0.034.
        let mut ages: Vec<u32> = Vec::new();
        let mut twins_at: Option<usize> = None;
        if with_children {
            let count = match self.rng.below(100) {
                0..=29 => 1,
                30..=64 => 2,
                65..=84 => 3,
                85..=94 => 4,
                _ => 5,
            };
            let mut age = self.rng.range(0, 18);
            ages.push(age);
            for i in 1..count {
                if twins_at.is_none() && self.rng.chance(0.034) {
                    twins_at = Some(i);
                    ages.push(age);
                    continue;
                }
                let gap = self.rng.range(1, 4);
                if gap > age {
                    break;
                }
                age -= gap;
                ages.push(age);
            }
        }
        let eldest = ages.first().copied();

        // Adults.
        let first_age = match eldest {
            Some(e) => (e + self.rng.range(19, 42)).min(80),
            None => self.rng.range(19, 80),
        };
        let min_partner = eldest.map_or(19, |e| e + 19).min(80);
        let partner_age = (first_age + self.rng.range(0, 10))
            .saturating_sub(5)
            .clamp(min_partner, 80);
        let lone_female = self.rng.chance(0.88);
        let (first_sex, partner_sex) = if adults == 1 {
            let s = if with_children {
                if lone_female {
                    Sex::Female
                } else {
                    Sex::Male
                }
            } else if self.rng.chance(0.5) {
                Sex::Female
            } else {
                Sex::Male
            };
            (s, s)
        } else if self.rng.chance(0.04) {
            let s = if self.rng.chance(0.5) {
                Sex::Female
            } else {
                Sex::Male
            };
            (s, s)
        } else {
            (Sex::Male, Sex::Female)
        };

        let family_surname = self.household_surname(origin);
        let mut children_surname = family_surname.clone();
        let mut remaining = room;

        if remaining == 0 {
            return;
        }
        if adults == 1 {
            let mut previous = None;
            let own = family_surname.clone();
            if with_children && first_sex == Sex::Female && self.rng.chance(0.4) {
                // The children carry their father's surname; the mother
                // sometimes went back to her own after separating.
                children_surname = self.household_surname(origin);
                if self.rng.chance(0.5) {
                    previous = Some(children_surname.clone());
                }
            } else if first_sex == Sex::Female && first_age >= 30 && self.rng.chance(0.3) {
                // A widow or divorcee with her married name, or a previous one.
                let maiden = self.household_surname(origin);
                previous = Some(maiden);
            }
            if previous.as_deref() == Some(own.as_str()) {
                previous = None;
            }
            let previous = previous.map(|p| Self::surname_form(origin, &p, first_sex));
            let dob = self.dob(first_age);
            let po = self.person_origin(origin);
            self.add_person(household, po, origin, first_sex, dob, own, previous, None);
            remaining -= 1;
        } else {
            // Couples: 75% share a surname (one partner took the other's, and
            // so has a previous surname); otherwise children take the father's
            // surname (80%), the mother's (10%) or both, hyphenated (10%).
            let partner_origin = if self.rng.chance(0.08) {
                self.names.origin(&mut self.rng)
            } else {
                origin
            };
            let shared = self.rng.chance(0.75);
            let double_barrelled = shared && self.rng.chance(0.04);
            let partner_own = self.household_surname(partner_origin);
            let (first_last, partner_last, partner_previous) = if shared {
                let name = if double_barrelled && partner_own != family_surname {
                    format!("{family_surname}-{partner_own}")
                } else {
                    family_surname.clone()
                };
                let previous = (partner_own != name)
                    .then(|| Self::surname_form(partner_origin, &partner_own, partner_sex));
                (name.clone(), name, previous)
            } else {
                (family_surname.clone(), partner_own.clone(), None)
            };
            children_surname = if shared {
                first_last.clone()
            } else {
                match self.rng.below(10) {
                    0 => partner_last.clone(),
                    1 if partner_last != first_last => format!("{first_last}-{partner_last}"),
                    _ => first_last.clone(),
                }
            };
            let dob = self.dob(first_age);
            let po = self.person_origin(origin);
            self.add_person(
                household, po, origin, first_sex, dob, first_last, None, None,
            );
            remaining -= 1;
            if remaining > 0 {
                let dob = self.dob(partner_age);
                let family = if shared { origin } else { partner_origin };
                self.add_person(
                    household,
                    partner_origin,
                    family,
                    partner_sex,
                    dob,
                    partner_last,
                    partner_previous,
                    None,
                );
                remaining -= 1;
            }
        }

        // Children share the household surname and address.
        let mut previous: Option<(Date, Sex, &'static str)> = None;
        for (i, age) in ages.iter().enumerate() {
            if remaining == 0 {
                break;
            }
            let sex = if self.rng.chance(0.5) {
                Sex::Female
            } else {
                Sex::Male
            };
            let (dob, avoid) = match (twins_at == Some(i), previous) {
                (true, Some((twin_dob, _, twin_first))) => (twin_dob, Some(twin_first)),
                _ => (self.dob(*age), None),
            };
            let first = self.add_person(
                household,
                origin,
                origin,
                sex,
                dob,
                children_surname.clone(),
                None,
                avoid,
            );
            previous = Some((dob, sex, first));
            remaining -= 1;
        }
    }
}

/// Generates `people` people in households, on the seed's stream 0.
pub(crate) fn population(people: usize, seed: u64, names: &NameTables) -> Population {
    let mut rng = Rand::new(seed, 0);
    let salt = rng.u64();
    let mut nhs = NhsNumbers::new(&mut rng);
    let mut b = Builder {
        rng,
        names,
        addresses: AddressBook::new(salt),
        pop: Population {
            people: Vec::with_capacity(people),
            households: Vec::with_capacity(people / 3 + 1),
        },
    };
    while b.pop.people.len() < people {
        let room = people - b.pop.people.len();
        b.household(room);
    }
    for p in &mut b.pop.people {
        p.nhs = nhs.take();
    }
    b.pop
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn check_digit_examples() {
        // 943 476 5919 is the NHS Digital documentation example.
        assert!(is_valid_nhs_number("9434765919"));
        assert!(!is_valid_nhs_number("9434765918"));
        assert!(!is_valid_nhs_number("943476591"));
        assert!(!is_valid_nhs_number("943 476 5919"));
        assert_eq!(nhs_check_digit(&[9, 4, 3, 4, 7, 6, 5, 9, 1]), Some(9));
        assert_eq!(nhs_check_digit(&[1, 2]), None);
    }

    #[test]
    fn nhs_numbers_are_unique_valid_test_numbers() {
        let mut rng = Rand::new(5, 0);
        let mut gen = NhsNumbers::new(&mut rng);
        let mut seen = HashSet::new();
        for i in 0..1_000_000 {
            let n = gen.take();
            assert!(n.starts_with(if i < 900_000 { "999" } else { "99" }), "{n}");
            assert!(is_valid_nhs_number(&n), "{n}");
            assert!(seen.insert(n));
        }
    }

    #[test]
    fn population_shape() {
        let names = NameTables::new();
        let pop = population(20_000, 11, &names);
        assert_eq!(pop.people.len(), 20_000);
        let children = pop
            .people
            .iter()
            .filter(|p| p.dob.year >= REFERENCE.year - 19)
            .count();
        let share = children as f64 / pop.people.len() as f64;
        assert!((0.4..0.6).contains(&share), "children {share}");
        let with_middle = pop.people.iter().filter(|p| !p.middle.is_empty()).count();
        let share = with_middle as f64 / pop.people.len() as f64;
        assert!((0.4..0.6).contains(&share), "middle {share}");
        for p in &pop.people {
            assert!(p.dob >= Date::new(1945, 1, 1).expect("valid"));
            assert!(p.dob < REFERENCE);
            assert!(is_valid_nhs_number(&p.nhs));
            assert!(!p.first.is_empty() && !p.last.is_empty());
            let h = &pop.households[p.household as usize];
            assert!(h.postcode.starts_with("CV"));
        }
        let addresses: HashSet<&str> = pop.households.iter().map(|h| h.address.as_str()).collect();
        assert!(addresses.len() as f64 > pop.households.len() as f64 * 0.99);
    }

    #[test]
    fn twins_share_dob_and_surname_but_not_first_name() {
        let names = NameTables::new();
        let pop = population(30_000, 3, &names);
        let mut twins = 0;
        for w in pop.people.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            if a.household == b.household && a.dob == b.dob && a.dob.year >= REFERENCE.year - 19 {
                twins += 1;
                assert_ne!(a.first, b.first);
            }
        }
        assert!(twins > 20, "{twins}");
    }

    #[test]
    fn postcodes_are_valid_uk_format() {
        let mut book = AddressBook::new(1);
        let mut rng = Rand::new(1, 1);
        for _ in 0..2000 {
            let (line, pc) = book.address(&mut rng);
            assert!(!line.is_empty());
            let (outward, inward) = pc.split_once(' ').expect("space");
            assert!(outward.starts_with("CV"));
            let district: u32 = outward[2..].parse().expect("district");
            assert!((1..=7).contains(&district));
            let b = inward.as_bytes();
            assert_eq!(b.len(), 3);
            assert!(b[0].is_ascii_digit());
            for c in &b[1..] {
                assert!(UNIT_LETTERS.contains(c), "{pc}");
                assert!(!b"CIKMOV".contains(c));
            }
        }
    }
}
