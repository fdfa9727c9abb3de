//! What each column of an encoded extract says about the cleartext, in one place.
//!
//! The attacks of the red team never look at column names: they ask this module which
//! *attributes* a column reveals. An attribute is a part of a field's normalised value
//! ([`Attribute`]: `first_name` whole, `first_name.initial`, `date_of_birth.year`,
//! `postcode.district`...). For every column, [`ColumnMeaning`] says
//!
//! - what it **encodes** before any salt (a name token encodes the whole name; `block.rule`
//!   encodes the rule's keys; a level token its level);
//! - what it **determines**: attributes that are equal on two records whenever the column is
//!   equal on them. That is the closure of what it encodes *and of its salt* (a salted column
//!   is equal only within one salt value, so it determines the salt's attributes too): equal
//!   whole values have equal parts ([`Part::implies`]). Every column that determines an
//!   attribute is a **bridge** for it: two records equal on it share the attribute's value;
//! - what it only **suggests**: the other parts of the fields it encodes (a Soundex token
//!   makes some whole names likely; a set of deletion variants makes a name likely);
//! - its **context**: the salt's attributes.
//!
//! # Adding a column kind
//!
//! A new kind of column (a field encoded under several contexts, a set-valued token column,
//! masked-digit variants of a date) plugs in here and in [`columns`](super::columns) only:
//! map its layout entry to a [`ColumnMeaning`] in [`Meanings::new`] (what it encodes, under
//! which context, whether a cell holds several tokens: [`Encoding::Tokens`] `multi`), add a
//! [`Part`] with its [`Part::text`] if it reveals a part not listed yet, and have the adapter
//! produce its cells. Every attack then uses it: bridges through what it determines,
//! frequency alignment, known plaintext, and (for filters) the filter attacks.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::encode::layout::{Layout, Slot};
use crate::encode::Value;
use crate::schema::{FieldKind, KeyRef, Level, Schema};

/// A part of a field's value that a column can reveal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Part {
    /// The whole normalised value.
    Whole,
    /// Year and month of a date (`2014-03`).
    YearMonth,
    /// Year of a date.
    Year,
    /// Postcode sector (`CV1 2`).
    Sector,
    /// Postcode district (`CV1`).
    District,
    /// Postcode area (`CV`).
    Area,
    /// Soundex code of a name.
    Soundex,
    /// First letter of a name.
    Initial,
}

impl Part {
    /// The name used in reports (`whole`, `year_month`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Whole => "whole",
            Part::YearMonth => "year_month",
            Part::Year => "year",
            Part::Sector => "sector",
            Part::District => "district",
            Part::Area => "area",
            Part::Soundex => "soundex",
            Part::Initial => "initial",
        }
    }

    /// The part a level token holds; `None` for [`Level::Swapped`], which holds the whole date
    /// (day and month exchanged).
    pub fn of_level(level: Level) -> Option<Part> {
        match level {
            Level::Swapped => None,
            Level::YearMonth => Some(Part::YearMonth),
            Level::Year => Some(Part::Year),
            Level::Sector => Some(Part::Sector),
            Level::District => Some(Part::District),
            Level::Area => Some(Part::Area),
            Level::Soundex => Some(Part::Soundex),
            Level::Initial => Some(Part::Initial),
        }
    }

    /// The level that computes this part (`None` for the whole value).
    pub fn level(self) -> Option<Level> {
        match self {
            Part::Whole => None,
            Part::YearMonth => Some(Level::YearMonth),
            Part::Year => Some(Level::Year),
            Part::Sector => Some(Level::Sector),
            Part::District => Some(Level::District),
            Part::Area => Some(Level::Area),
            Part::Soundex => Some(Level::Soundex),
            Part::Initial => Some(Level::Initial),
        }
    }

    /// The parts a field of `kind` has, the whole value first.
    pub fn of_kind(kind: FieldKind) -> &'static [Part] {
        match kind {
            FieldKind::Name => &[Part::Whole, Part::Soundex, Part::Initial],
            FieldKind::Date => &[Part::Whole, Part::YearMonth, Part::Year],
            FieldKind::Postcode => &[Part::Whole, Part::Sector, Part::District, Part::Area],
            FieldKind::Text | FieldKind::NhsNumber | FieldKind::Sex => &[Part::Whole],
        }
    }

    /// The parts whose equality follows from the equality of this one (itself included), for
    /// a field of `kind`: the whole value implies every part, a year and month its year, a
    /// sector its district and area, a Soundex code its initial (the code starts with the
    /// initial, upper-cased, for every name that starts with a letter a-z).
    pub fn implies(self, kind: FieldKind) -> &'static [Part] {
        match self {
            Part::Whole => Part::of_kind(kind),
            Part::YearMonth => &[Part::YearMonth, Part::Year],
            Part::Sector => &[Part::Sector, Part::District, Part::Area],
            Part::District => &[Part::District, Part::Area],
            Part::Soundex => &[Part::Soundex, Part::Initial],
            Part::Year => &[Part::Year],
            Part::Area => &[Part::Area],
            Part::Initial => &[Part::Initial],
        }
    }

    /// This part of a normalised value, as text (`None` when the value has no such part).
    pub fn text(self, value: &Value) -> Option<String> {
        match self.level() {
            None => Some(value.canonical().to_string()),
            Some(level) => value.level(level).map(|t| t.to_string()),
        }
    }
}

/// A part of one field: what an attack tries to recover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Attribute {
    /// Index of the field in the schema.
    pub field: usize,
    /// The part.
    pub part: Part,
}

impl Attribute {
    /// The whole value of `field`.
    pub fn whole(field: usize) -> Attribute {
        Attribute {
            field,
            part: Part::Whole,
        }
    }

    /// `first_name` for a whole value, `first_name.initial` for a part.
    pub fn name(&self, schema: &Schema) -> String {
        let field = schema
            .fields
            .get(self.field)
            .map_or("?", |f| f.name.as_str());
        match self.part {
            Part::Whole => field.to_string(),
            p => format!("{field}.{}", p.as_str()),
        }
    }

    /// Whether the verdict treats this attribute as a whole value (a name, an address, a date
    /// of birth, a postcode, an NHS number) rather than a partial one (an initial, a Soundex
    /// code, a year or year and month, a postcode sector, district or area, and sex, which has
    /// two values).
    pub fn is_whole_value(&self, schema: &Schema) -> bool {
        self.part == Part::Whole
            && schema
                .fields
                .get(self.field)
                .is_some_and(|f| f.kind != FieldKind::Sex)
    }

    /// This attribute and every attribute its equality implies.
    pub fn closure(&self, schema: &Schema) -> Vec<Attribute> {
        let Some(f) = schema.fields.get(self.field) else {
            return vec![*self];
        };
        self.part
            .implies(f.kind)
            .iter()
            .map(|&part| Attribute {
                field: self.field,
                part,
            })
            .collect()
    }
}

/// The settings of a Bloom-filter column that the attacks use (all public: in the schema).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterMeaning {
    /// Length in bits as written.
    pub bits: u32,
    /// Length in bits before folding and balancing.
    pub raw_bits: u32,
    /// q-gram length.
    pub q: u8,
    /// The fields whose q-grams it holds, each with its positions per q-gram (one field for a
    /// field-level filter, several for a record-level one).
    pub fields: Vec<(usize, u16)>,
    /// Folded or balanced: a q-gram's positions are no longer simply set bits.
    pub hardened: bool,
}

/// How a column's cells are encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encoding {
    /// Keyed tokens; `multi` when a cell may hold several (a set of variants).
    Tokens {
        /// Whether a cell may hold several tokens.
        multi: bool,
    },
    /// A Bloom filter of q-grams.
    Filter(FilterMeaning),
}

/// What one column of an encoded extract reveals (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMeaning {
    /// The column's name in the extract.
    pub name: String,
    /// Where its cells live in an encoded record.
    pub slot: Slot,
    /// Its encoding.
    pub encoding: Encoding,
    /// What it encodes before any salt, in key order.
    pub encodes: Vec<Attribute>,
    /// Attributes equal on two records whenever the column is (sorted).
    pub determines: Vec<Attribute>,
    /// Attributes it makes likely without determining them (sorted).
    pub suggests: Vec<Attribute>,
    /// The salt's attributes (sorted; empty when unsalted).
    pub context: Vec<Attribute>,
    /// Whether it is a blocking-key column.
    pub blocking: bool,
}

impl ColumnMeaning {
    fn new(
        schema: &Schema,
        name: String,
        slot: Slot,
        encoding: Encoding,
        encodes: Vec<Attribute>,
        context: Vec<Attribute>,
        blocking: bool,
    ) -> ColumnMeaning {
        let mut determines = BTreeSet::new();
        for a in encodes.iter().chain(&context) {
            determines.extend(a.closure(schema));
        }
        let mut suggests = BTreeSet::new();
        for a in &encodes {
            if let Some(f) = schema.fields.get(a.field) {
                for &part in Part::of_kind(f.kind) {
                    let s = Attribute {
                        field: a.field,
                        part,
                    };
                    if !determines.contains(&s) {
                        suggests.insert(s);
                    }
                }
            }
        }
        let context: BTreeSet<Attribute> = context.iter().flat_map(|a| a.closure(schema)).collect();
        ColumnMeaning {
            name,
            slot,
            encoding,
            encodes,
            determines: determines.into_iter().collect(),
            suggests: suggests.into_iter().collect(),
            context: context.into_iter().collect(),
            blocking,
        }
    }

    /// Whether equality of this column implies equality of `attribute`.
    pub fn determines(&self, attribute: Attribute) -> bool {
        self.determines.binary_search(&attribute).is_ok()
    }

    /// Whether this column suggests `attribute` (without determining it).
    pub fn suggests(&self, attribute: Attribute) -> bool {
        self.suggests.binary_search(&attribute).is_ok()
    }

    /// Whether this column determines any part of `field`.
    pub fn touches_field(&self, field: usize) -> bool {
        self.determines.iter().any(|a| a.field == field)
    }

    /// The filter settings, for a filter column.
    pub fn filter(&self) -> Option<&FilterMeaning> {
        match &self.encoding {
            Encoding::Filter(f) => Some(f),
            Encoding::Tokens { .. } => None,
        }
    }

    /// Whether a cell holds at most one token or filter.
    pub fn single_valued(&self) -> bool {
        !matches!(self.encoding, Encoding::Tokens { multi: true })
    }
}

/// The meaning of every column of an extract, in the layout's column order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meanings {
    /// One per column, in file order (after `record_id`).
    pub columns: Vec<ColumnMeaning>,
    /// Every attribute some column determines or suggests (sorted).
    pub attributes: Vec<Attribute>,
}

fn attribute_of_key(key: KeyRef) -> Attribute {
    match key.level {
        None | Some(Level::Swapped) => Attribute::whole(key.field),
        Some(l) => Attribute {
            field: key.field,
            part: Part::of_level(l).unwrap_or(Part::Whole),
        },
    }
}

impl Meanings {
    /// The meanings of the columns of extracts encoded under `schema`.
    pub fn new(schema: &Schema) -> Meanings {
        let layout = Layout::new(schema);
        let salt_of = |field: usize| -> Vec<Attribute> {
            schema
                .fields
                .get(field)
                .and_then(|f| f.salt.as_deref())
                .and_then(|s| schema.parse_key(s))
                .map(attribute_of_key)
                .into_iter()
                .collect()
        };
        let mut columns = Vec::with_capacity(layout.columns.len());
        // Which field (and level) owns each slot.
        for col in &layout.columns {
            let meaning = match col.slot {
                Slot::Token(t) => {
                    if let Some(rule) = layout.blocks.iter().position(|&b| b == t) {
                        let encodes = schema
                            .blocking
                            .get(rule)
                            .map(|r| {
                                r.keys
                                    .iter()
                                    .filter_map(|k| schema.parse_key(k))
                                    .map(attribute_of_key)
                                    .collect()
                            })
                            .unwrap_or_default();
                        ColumnMeaning::new(
                            schema,
                            col.name.clone(),
                            col.slot,
                            Encoding::Tokens { multi: false },
                            encodes,
                            Vec::new(),
                            true,
                        )
                    } else {
                        let owner = layout.fields.iter().enumerate().find_map(|(f, s)| {
                            if s.token == Some(t) {
                                Some((f, None))
                            } else {
                                s.levels
                                    .iter()
                                    .find(|(_, slot)| *slot == t)
                                    .map(|(l, _)| (f, Some(*l)))
                            }
                        });
                        let Some((field, level)) = owner else {
                            continue;
                        };
                        let encodes = vec![attribute_of_key(KeyRef { field, level })];
                        ColumnMeaning::new(
                            schema,
                            col.name.clone(),
                            col.slot,
                            Encoding::Tokens { multi: false },
                            encodes,
                            salt_of(field),
                            false,
                        )
                    }
                }
                Slot::Bloom { index, bits } => {
                    if layout.record_bloom == Some(index) {
                        let Some(spec) = &schema.record_bloom else {
                            continue;
                        };
                        let fields: Vec<(usize, u16)> = spec
                            .fields
                            .iter()
                            .filter_map(|f| Some((schema.field_index(&f.field)?, f.hashes)))
                            .collect();
                        let encodes = fields.iter().map(|(f, _)| Attribute::whole(*f)).collect();
                        let context = fields.iter().flat_map(|(f, _)| salt_of(*f)).collect();
                        ColumnMeaning::new(
                            schema,
                            col.name.clone(),
                            col.slot,
                            Encoding::Filter(FilterMeaning {
                                bits,
                                raw_bits: spec.bits,
                                q: spec.q,
                                fields,
                                hardened: spec.xor_fold || spec.balanced,
                            }),
                            encodes,
                            context,
                            false,
                        )
                    } else {
                        let Some(field) = layout.fields.iter().position(|s| s.bloom == Some(index))
                        else {
                            continue;
                        };
                        let Some(spec) = schema.fields[field].bloom else {
                            continue;
                        };
                        ColumnMeaning::new(
                            schema,
                            col.name.clone(),
                            col.slot,
                            Encoding::Filter(FilterMeaning {
                                bits,
                                raw_bits: spec.bits,
                                q: spec.q,
                                fields: vec![(field, spec.hashes)],
                                hardened: spec.xor_fold || spec.balanced,
                            }),
                            vec![Attribute::whole(field)],
                            salt_of(field),
                            false,
                        )
                    }
                }
            };
            columns.push(meaning);
        }
        let attributes: BTreeSet<Attribute> = columns
            .iter()
            .flat_map(|c| c.determines.iter().chain(&c.suggests).copied())
            .collect();
        Meanings {
            columns,
            attributes: attributes.into_iter().collect(),
        }
    }

    /// Indices of the columns that determine `attribute`.
    pub fn determining(&self, attribute: Attribute) -> Vec<usize> {
        (0..self.columns.len())
            .filter(|&c| self.columns[c].determines(attribute))
            .collect()
    }

    /// Indices of the columns that suggest `attribute`.
    pub fn suggesting(&self, attribute: Attribute) -> Vec<usize> {
        (0..self.columns.len())
            .filter(|&c| self.columns[c].suggests(attribute))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'m>(m: &'m Meanings, name: &str) -> &'m ColumnMeaning {
        m.columns.iter().find(|c| c.name == name).expect(name)
    }

    fn names(schema: &Schema, attrs: &[Attribute]) -> Vec<String> {
        attrs.iter().map(|a| a.name(schema)).collect()
    }

    #[test]
    fn the_default_schema_columns_mean_what_they_encode_and_their_salt() {
        let schema = Schema::example();
        let m = Meanings::new(&schema);
        assert_eq!(m.columns.len(), Layout::new(&schema).columns.len());
        let first = find(&m, "first_name");
        assert_eq!(
            names(&schema, &first.determines),
            [
                "first_name",
                "first_name.soundex",
                "first_name.initial",
                "date_of_birth.year_month",
                "date_of_birth.year"
            ]
        );
        assert_eq!(
            names(&schema, &first.context),
            ["date_of_birth.year_month", "date_of_birth.year"]
        );
        assert!(first.suggests.is_empty());
        let initial = find(&m, "first_name.initial");
        assert_eq!(
            names(&schema, &initial.suggests),
            ["first_name", "first_name.soundex"]
        );
        assert!(initial.determines(Attribute {
            field: 3,
            part: Part::Year
        }));
        // The blocking token that bridges salted first names: first name and year, no salt.
        let block = find(&m, "block.first_name_year");
        assert!(block.blocking && block.context.is_empty());
        assert_eq!(
            names(&schema, &block.determines),
            [
                "first_name",
                "first_name.soundex",
                "first_name.initial",
                "date_of_birth.year"
            ]
        );
        let soundex = find(&m, "block.name_soundex");
        assert_eq!(
            names(&schema, &soundex.determines),
            [
                "first_name.soundex",
                "first_name.initial",
                "last_name.soundex",
                "last_name.initial"
            ]
        );
        let swapped = find(&m, "date_of_birth.swapped");
        assert!(swapped.determines(Attribute::whole(3)));
        let address = find(&m, "address_line_1.bloom");
        let f = address.filter().unwrap();
        assert_eq!((f.bits, f.q, f.fields.clone()), (1024, 2, vec![(6, 10)]));
        assert!(address.context.is_empty() && !f.hardened);
        let district = find(&m, "postcode.district");
        assert_eq!(
            names(&schema, &district.determines),
            ["postcode.district", "postcode.area"]
        );
        assert_eq!(
            names(&schema, &district.suggests),
            ["postcode", "postcode.sector"]
        );
        // Every part of every encoded field is an attribute to attack.
        let all = names(&schema, &m.attributes);
        for want in [
            "first_name",
            "middle_name.soundex",
            "date_of_birth.year",
            "sex",
            "postcode.area",
            "address_line_1",
            "nhs_number",
        ] {
            assert!(all.contains(&want.to_string()), "{want}: {all:?}");
        }
        assert_eq!(m.determining(Attribute::whole(4)).len(), 1);
    }

    #[test]
    fn a_record_level_filter_determines_its_fields_and_their_salts() {
        let mut value: serde_json::Value = serde_json::from_str(Schema::example_json()).unwrap();
        value["record_bloom"] = serde_json::json!({
            "bits": 1024, "balanced": true,
            "fields": [ { "field": "first_name", "hashes": 10 }, { "field": "last_name", "hashes": 8 } ]
        });
        let schema = Schema::from_json(&value.to_string()).unwrap();
        let m = Meanings::new(&schema);
        let record = find(&m, "record.bloom");
        let f = record.filter().unwrap();
        assert_eq!(f.fields, vec![(0, 10), (2, 8)]);
        assert!(f.hardened);
        assert_eq!(f.bits, 2048);
        assert!(record.determines(Attribute::whole(0)) && record.determines(Attribute::whole(2)));
        assert!(record.context.contains(&Attribute {
            field: 3,
            part: Part::YearMonth
        }));
    }

    #[test]
    fn parts_of_values() {
        use crate::normalise::date::Date;
        let d = Value::Date(Date::new(2014, 3, 9).unwrap());
        assert_eq!(Part::Whole.text(&d).unwrap(), "2014-03-09");
        assert_eq!(Part::YearMonth.text(&d).unwrap(), "2014-03");
        assert_eq!(Part::Year.text(&d).unwrap(), "2014");
        assert_eq!(Part::Initial.text(&d), None);
        let n = Value::Text("oliver".into());
        assert_eq!(Part::Soundex.text(&n).unwrap(), "O416");
        assert_eq!(Part::Initial.text(&n).unwrap(), "o");
        for kind in [
            FieldKind::Name,
            FieldKind::Date,
            FieldKind::Postcode,
            FieldKind::Text,
        ] {
            for p in Part::of_kind(kind) {
                assert!(p.implies(kind).contains(p));
                assert!(Part::Whole.implies(kind).contains(p));
            }
        }
    }
}
