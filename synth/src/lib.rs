//! Synthetic agency extracts with known truth, for trying pseudolink and
//! benchmarking linkage quality without any real personal data.
//!
//! [`generate`] builds a population of households in Coventry and, for
//! each of two or more agencies, an extract of the people that agency holds,
//! each record an independently corrupted copy of the person's true details.
//! [`write()`] saves the extracts as CSV files together with the true matches.
//!
//! ```
//! use pseudolink_synth::{generate, SynthConfig};
//!
//! let config = SynthConfig { people: 200, seed: 7, ..SynthConfig::default() };
//! let data = generate(&config)?;
//! assert_eq!(data.extracts.len(), 2);
//! assert_eq!(data.extracts[0].0, "agency_a");
//! for (left, right) in data.true_pairs(0, 1) {
//!     assert_eq!(data.person_of(0, &left), data.person_of(1, &right));
//! }
//! # Ok::<(), pseudolink_synth::SynthError>(())
//! ```
//!
//! # The population
//!
//! * Households: 15% single adults, 10% couples, 45% couples with children
//!   and 30% lone parents with children (one to five, eldest aged 0-18, gaps
//!   of 1-4 years). About half of all people are children aged 0-18; adults
//!   are 19-80. Everyone in a household shares its address and postcode.
//!   Each child after the first has a 3.4% chance of being the twin of the
//!   one before (at most one pair per household; about 1 household in 25
//!   with children has twins): the same date of birth, surname and address,
//!   different first names.
//! * Names come from embedded, rank-weighted (Zipf-like) lists of about 300
//!   first names per sex and 500 surnames in nine heritage groups weighted
//!   roughly like Coventry's population: British, Irish and Caribbean (58%);
//!   Indian Sikh and Hindu (10%); Pakistani and Bangladeshi (7%); West and
//!   Southern African (7%); Polish (5%); Romanian, Baltic, Czech and other
//!   Eastern European (4%); Arabic, Turkish, Kurdish, Somali and Iranian
//!   (3%); Chinese and East Asian (3%); Western European (3%). Households
//!   mostly keep to one group, with mixing: about 8% of partners come from
//!   another group, and 15% of children and 4% of adults of other heritage
//!   have a British first name. Names include accents (Zoë, Łukasz,
//!   Małgorzata, Dvořák, Müller, Ó Briain), apostrophes (O'Neil) and
//!   hyphens (Smith-Jones). British first names depend on birth year (Susan
//!   and Gary for parents, Amelia and Noah for children). About half of
//!   people have a middle name. Polish, Czech and Baltic surnames take their
//!   feminine form (Kowalski, Kowalska); in Sikh families women are often
//!   Kaur and men Singh, as surname or middle name.
//! * Surnames: 75% of couples share a surname and the partner who took it
//!   keeps a previous (maiden) surname; 4% of those are double-barrelled.
//!   Children of unmarried couples mostly take the father's surname, and
//!   some lone mothers have a different surname from their children.
//! * Dates of birth are relative to the fixed reference date 2026-01-01, so
//!   output never depends on when it is generated.
//! * Addresses are `12 Holyhead Road` or `Flat 3, 45 Far Gosford Street`,
//!   on about 100 real Coventry roads and 1,500 made-up side streets, with
//!   postcodes in districts CV1-CV7 in the UK format (`CV3 4FJ`, unit letters
//!   never C, I, K, M, O or V); neighbouring houses share a postcode. Each
//!   household also has a second address, used for house moves.
//! * NHS numbers are unique, ten digits with a valid modulus-11 check digit,
//!   and never a real patient's: they come from the 999 000 0000 -
//!   999 999 9999 range reserved for testing (enough for about 900,000
//!   people), then from the 998, 997, ... blocks, which are likewise outside
//!   every range issued to patients (3xx-4xx and 6xx-7xx in England, Wales
//!   and the Isle of Man, 010-311 in Scotland, 320-399 in Northern Ireland).
//!
//! # The agencies
//!
//! | extract | imitates | record id | date of birth | sex | names | NHS number |
//! |---|---|---|---|---|---|---|
//! | `agency_a` | children's services | `CS012345` | `2014-03-09` | `M`/`F` | as entered | 20%, `999 123 4567` |
//! | `agency_b` | NHS trust | `NHS-04F2A1` | `09/03/2014` | `Male`/`Female` | UPPER CASE, address too | 95% |
//! | `agency_c` | schools | `SCH07812` | `09/03/2014`, 10% `9 Mar 2014`, 10% `9/3/14` | `1`/`2` | SURNAME in upper case | 20% |
//! | `agency_d` | police | `POL0123456` | `09-MAR-2014` | `M`/`F` | UPPER CASE, address too | 20% |
//! | `agency_e` | housing | `HSG/012345` | `9/3/2014` | `Male`/`Female` | naive title case (`Mcdonald`) | 20% |
//!
//! Agencies after the fifth reuse these conventions with the agency letter
//! added to the id prefix (`CSF012345`). Each person is in each agency with
//! probability `coverage`, and recorded twice there with probability
//! `duplicate_rate` (a second record with its own id and its own errors).
//! Records are sorted by record id, which is unrelated to the person.
//!
//! # Errors
//!
//! Each copy of a person gets independent errors. The default probability
//! of each kind, per copy, is listed by [`default_error_probabilities`];
//! all of them are multiplied by `error_rate` (0 gives clean copies that
//! differ only by the agency's formatting and by which agencies record the
//! NHS number).
//!
//! | error | default |
//! |---|---|
//! | first name typo (insertion, deletion, keyboard-neighbour substitution, transposition) | 0.03 |
//! | first name nickname or variant (Elizabeth -> Liz, Mohammed -> Muhammad), when it has one | 0.08 |
//! | middle name blank, when there is one | 0.3 |
//! | middle name used as first name, when there is one | 0.02 |
//! | first and last names swapped | 0.01 |
//! | accents dropped (Zoë -> Zoe), when there are any | 0.4 |
//! | last name typo | 0.03 |
//! | part of a hyphenated or two-word surname dropped, or the hyphen lost, when compound | 0.3 |
//! | earlier surname (marriage, divorce), adults who have one | 0.15 |
//! | first name blank | 0.005 |
//! | last name blank | 0.002 |
//! | date of birth: day and month swapped, when valid | 0.01 |
//! | date of birth: one digit wrong | 0.01 |
//! | date of birth: year off by one | 0.005 |
//! | date of birth blank | 0.01 |
//! | sex wrong | 0.003 |
//! | sex blank | 0.01 |
//! | house move (the household's other address and postcode) | 0.08 |
//! | address written differently (Rd, St, 3/45, flat left out) | 0.1 |
//! | address typo | 0.03 |
//! | address blank | 0.02 |
//! | postcode typo (keyboard neighbour or look-alike 0/O, 1/I, 5/S) | 0.02 |
//! | postcode without space, lower case or double space | 0.05 |
//! | postcode blank | 0.02 |
//! | NHS number: one digit changed or two adjacent digits swapped | 0.01 |
//! | whitespace or punctuation noise, per text field | 0.02 |
//! | names typed in lower case, per record | 0.01 |
//!
//! # Determinism
//!
//! Every random choice comes from `ChaCha8Rng::seed_from_u64(seed)` (the
//! population on stream 0, agency `k` on stream `k + 1`) through 32-bit
//! integer draws; no hash-map iteration order and no platform-dependent
//! floating point is involved, so a seed gives byte-identical files on every
//! platform. Because each agency has its own stream, adding agencies does
//! not change the earlier agencies' extracts.

#![forbid(unsafe_code)]

mod agency;
mod date;
mod errors;
mod names;
mod output;
mod people;
mod random;

use std::path::PathBuf;

pub use output::write;

use crate::people::{Population, Sex, MAX_PEOPLE};

/// The largest population [`generate`] accepts (bounded by the size of the
/// NHS test-number range).
pub const MAX_POPULATION: usize = MAX_PEOPLE;

/// The largest `error_rate` [`generate`] accepts: every error probability
/// times this is capped at 1.
pub const MAX_ERROR_RATE: f64 = 3.0;

/// The most agencies [`generate`] accepts (`agency_a` to `agency_z`).
pub const MAX_AGENCIES: usize = 26;

/// The largest `people * agencies` [`generate`] accepts, which keeps the
/// data in memory (about 450 bytes per person and agency) under about
/// 14 GB: for example 10 million people in 3 agencies, or 1 million in 26.
pub const MAX_PEOPLE_TIMES_AGENCIES: usize = 30_000_000;

/// Settings for one synthetic population.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    /// Size of the population (0 to [`MAX_POPULATION`]).
    pub people: usize,
    /// Seed: the same seed and settings always give the same data.
    pub seed: u64,
    /// Number of agency extracts, 2 to [`MAX_AGENCIES`] (default 2);
    /// named `agency_a`, `agency_b`, `agency_c`...
    pub agencies: usize,
    /// Probability that a person appears in a given agency (default 0.7,
    /// so the extracts overlap partially).
    pub coverage: f64,
    /// Probability that a person recorded in an agency is recorded twice
    /// there (default 0.03).
    pub duplicate_rate: f64,
    /// Overall corruption intensity in 0..=[`MAX_ERROR_RATE`]: every per-field
    /// error probability is multiplied by it and capped at 1 (default 1.0,
    /// realistic; 0.0 gives clean copies; 2.5 is the benchmarks' "heavy
    /// errors" profile).
    pub error_rate: f64,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            people: 1000,
            seed: 0,
            agencies: 2,
            coverage: 0.7,
            duplicate_rate: 0.03,
            error_rate: 1.0,
        }
    }
}

impl SynthConfig {
    /// Checks the settings: `agencies` in 2..=26, `people` at most
    /// [`MAX_POPULATION`], `people * agencies` at most
    /// [`MAX_PEOPLE_TIMES_AGENCIES`], `coverage` and `duplicate_rate` in
    /// 0..=1 and `error_rate` in 0..=[`MAX_ERROR_RATE`].
    pub fn validate(&self) -> Result<(), SynthError> {
        if self.agencies < 2 || self.agencies > MAX_AGENCIES {
            return Err(SynthError::Config(format!(
                "agencies must be between 2 and {MAX_AGENCIES}, not {}",
                self.agencies
            )));
        }
        if self.people > MAX_POPULATION {
            return Err(SynthError::Config(format!(
                "people must be at most {MAX_POPULATION}, not {}",
                self.people
            )));
        }
        if self.people.saturating_mul(self.agencies) > MAX_PEOPLE_TIMES_AGENCIES {
            return Err(SynthError::Config(format!(
                "people x agencies must be at most {MAX_PEOPLE_TIMES_AGENCIES}, not {} x {}",
                self.people, self.agencies
            )));
        }
        for (name, value, max) in [
            ("coverage", self.coverage, 1.0),
            ("duplicate_rate", self.duplicate_rate, 1.0),
            ("error_rate", self.error_rate, MAX_ERROR_RATE),
        ] {
            if !(0.0..=max).contains(&value) {
                return Err(SynthError::Config(format!(
                    "{name} must be between 0 and {max}, not {value}"
                )));
            }
        }
        Ok(())
    }
}

/// Error for invalid settings or I/O.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SynthError {
    /// The settings are invalid.
    #[error("invalid synthetic data settings: {0}")]
    Config(String),
    /// A file or directory could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A CSV record could not be written.
    #[error("cannot write {path}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// One record of one agency, in the input layout pseudolink reads. Every
/// field is a string; an empty string means missing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SynthRecord {
    /// The agency's own record id, unique within its extract.
    pub record_id: String,
    /// First (given) name.
    pub first_name: String,
    /// Middle name(s).
    pub middle_name: String,
    /// Last name (surname).
    pub last_name: String,
    /// Date of birth, in the agency's format.
    pub date_of_birth: String,
    /// Sex, in the agency's coding.
    pub sex: String,
    /// UK postcode.
    pub postcode: String,
    /// First line of the address.
    pub address_line_1: String,
    /// NHS number, where the agency records it.
    pub nhs_number: String,
}

/// The CSV header of an agency extract.
pub const RECORD_HEADER: [&str; 9] = [
    "record_id",
    "first_name",
    "middle_name",
    "last_name",
    "date_of_birth",
    "sex",
    "postcode",
    "address_line_1",
    "nhs_number",
];

/// One kind of error with its default per-copy probability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorProbability {
    /// Short identifier, e.g. `first_name_typo`.
    pub name: &'static str,
    /// Probability at `error_rate` 1.0.
    pub default: f64,
    /// What the error does and when it applies.
    pub description: &'static str,
}

/// What kind of agency extract `index` imitates (`agency_a` is children's
/// services, `agency_b` an NHS trust, `agency_c` schools, `agency_d` police,
/// `agency_e` housing; later agencies repeat the cycle).
pub fn agency_kind(index: usize) -> &'static str {
    agency::profile(index).kind
}

/// The default probability of every kind of error (at `error_rate` 1.0).
pub fn default_error_probabilities() -> Vec<ErrorProbability> {
    errors::Probs::table()
}

/// A generated population: the agency extracts and the truth behind them.
#[derive(Debug, Clone)]
pub struct SynthData {
    /// `(agency name, records in file order)` for each agency.
    pub extracts: Vec<(String, Vec<SynthRecord>)>,
    /// The person behind each record, parallel to `extracts`.
    persons: Vec<Vec<u64>>,
    population: Population,
}

impl SynthData {
    /// Every `(left record_id, right record_id)` pair of records of the same
    /// person in extracts `left` and `right`, sorted. With `left == right`,
    /// the within-file duplicate pairs (each pair once, smaller id first).
    /// Empty for an agency index out of range.
    pub fn true_pairs(&self, left: usize, right: usize) -> Vec<(String, String)> {
        let (Some(l), Some(r)) = (
            self.extract_with_persons(left),
            self.extract_with_persons(right),
        ) else {
            return Vec::new();
        };
        let mut by_person: Vec<(u64, &str)> = r.map(|(id, p)| (p, id)).collect();
        by_person.sort_unstable();
        let mut pairs = Vec::new();
        for (left_id, person) in l {
            let start = by_person.partition_point(|&(p, _)| p < person);
            for &(p, right_id) in by_person.get(start..).unwrap_or(&[]) {
                if p != person {
                    break;
                }
                if left != right || left_id < right_id {
                    pairs.push((left_id, right_id));
                }
            }
        }
        pairs.sort_unstable();
        pairs
            .into_iter()
            .map(|(l, r)| (l.to_string(), r.to_string()))
            .collect()
    }

    fn extract_with_persons(&self, agency: usize) -> Option<impl Iterator<Item = (&str, u64)>> {
        let (_, records) = self.extracts.get(agency)?;
        let persons = self.persons.get(agency)?;
        Some(
            records
                .iter()
                .zip(persons.iter())
                .map(|(r, p)| (r.record_id.as_str(), *p)),
        )
    }

    /// The person id behind `record_id` in extract `agency`, if there is
    /// such a record.
    pub fn person_of(&self, agency: usize, record_id: &str) -> Option<u64> {
        let (_, records) = self.extracts.get(agency)?;
        let persons = self.persons.get(agency)?;
        // Generated extracts are sorted by id; fall back to a scan in case
        // the caller reordered them.
        let position = records
            .binary_search_by(|r| r.record_id.as_str().cmp(record_id))
            .ok()
            .or_else(|| records.iter().position(|r| r.record_id == record_id))?;
        persons.get(position).copied()
    }

    /// The person ids behind the records of extract `agency`, in file order.
    pub fn person_ids(&self, agency: usize) -> Option<&[u64]> {
        self.persons.get(agency).map(Vec::as_slice)
    }

    /// Number of people in the population (person ids are `0..people()`).
    pub fn people(&self) -> usize {
        self.population.people.len()
    }

    /// The household (shared address) a person belongs to.
    pub fn household_of(&self, person: u64) -> Option<u64> {
        let p = self.population.people.get(usize::try_from(person).ok()?)?;
        Some(u64::from(p.household))
    }

    /// A person's true details, uncorrupted: record id `P` and the person
    /// id, names as given, ISO date of birth, sex `M`/`F`, current address
    /// and the NHS number.
    pub fn clean_record(&self, person: u64) -> Option<SynthRecord> {
        let p = self.population.people.get(usize::try_from(person).ok()?)?;
        let h = self.population.households.get(p.household as usize);
        Some(SynthRecord {
            record_id: format!("P{person}"),
            first_name: p.first.to_string(),
            middle_name: p.middle.to_string(),
            last_name: p.last.clone(),
            date_of_birth: p.dob.iso(),
            sex: match p.sex {
                Sex::Female => "F",
                Sex::Male => "M",
            }
            .to_string(),
            postcode: h.map(|h| h.postcode.clone()).unwrap_or_default(),
            address_line_1: h.map(|h| h.address.clone()).unwrap_or_default(),
            nhs_number: p.nhs.clone(),
        })
    }
}

/// Generates a population and its agency extracts; fails only for invalid
/// settings (see [`SynthConfig::validate`]).
pub fn generate(config: &SynthConfig) -> Result<SynthData, SynthError> {
    config.validate()?;
    let names = names::NameTables::new();
    let population = people::population(config.people, config.seed, &names);
    let probs = errors::Probs::scaled(config.error_rate);
    let mut extracts = Vec::with_capacity(config.agencies);
    let mut persons = Vec::with_capacity(config.agencies);
    for k in 0..config.agencies {
        let (records, ids) = agency::extract(k, &population, config, &probs);
        extracts.push((agency::agency_name(k), records));
        persons.push(ids);
    }
    Ok(SynthData {
        extracts,
        persons,
        population,
    })
}

#[cfg(test)]
mod tests;
