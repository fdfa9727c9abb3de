//! What each column of an encoded extract says about the cleartext, in one place.
//!
//! The attacks of the red team never look at column names: they ask this module which
//! *attributes* a column reveals. An attribute is a part of a field's normalised value
//! ([`Attribute`]: `first_name` whole, `first_name.initial`, `date_of_birth.year`,
//! `postcode.district`...).
//!
//! A token column (encoding v3) is a keyed hash of a **list of keys** (`first_name+date_of_birth`,
//! `date_of_birth.digit_masks+first_name`): its meaning is the conjunction of its keys. Two
//! records with equal tokens agree on every key together, so the column determines the first
//! name *given* the date of birth and the date of birth given the first name: a joint key, each
//! key acting as the salt of the others. It is modelled without a privileged salt: the column
//! **encodes** the attribute of every key, and **determines** the closure of every key that is
//! not a set. A *set* key (`first_name.deletions`, `date_of_birth.digit_masks`) gives a cell of
//! several tokens, one per variant; two records sharing one of them agree on a variant only
//! (names within one edit, dates within one digit), so a set key determines nothing of its field
//! and only suggests it. For every column, [`ColumnMeaning`] says
//!
//! - what it **encodes**: the attribute of each key, in key order;
//! - what it **determines**: attributes that are equal on two records whenever the column (one
//!   token of its cell, for a set) is equal on them: the closure of its non-set keys (equal
//!   whole values have equal parts, [`Part::implies`]) and, for a filter, of its `context` keys
//!   (a filter salted by a context is comparable only within one context value). Every column
//!   that determines an attribute is a **bridge** for it: two records equal on it share the
//!   attribute's value;
//! - what it only **suggests**: the other parts of the fields it encodes (a Soundex token makes
//!   some whole names likely; a set of deletion variants makes a name likely);
//! - its **context**: a filter's salt attributes (token columns have none: every key is salt);
//! - its **signature**: tokens of equal signature are hashed under one key, so a token of one
//!   column can be compared with a token of another (`first_name+date_of_birth` with
//!   `last_name+date_of_birth`: crosswise names). [`Meanings::comparable`] lists such pairs of
//!   columns and [`ColumnMeaning::position_determines`] what each key position then bridges:
//!   equal tokens in two comparable columns say that the keys at each position are equal across
//!   the two records (the first name of one is the last name of the other, and they share their
//!   date of birth).
//!
//! # Adding a column kind
//!
//! A new kind of column plugs in here and in [`columns`](super::columns) only: map its layout
//! entry to a [`ColumnMeaning`] in [`Meanings::new`] (what its keys encode and determine,
//! whether a cell holds several tokens: [`Encoding::Tokens`] `multi`), add a [`Part`] with its
//! [`Part::text`] if it reveals a part not listed yet, and have the adapter produce its cells.
//! Every attack then uses it: bridges through what it determines, frequency alignment, known
//! plaintext, and (for filters) the filter attacks.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::encode::layout::{Layout, Slot};
use crate::encode::Value;
use crate::schema::{FieldKind, Key, Schema, Transform};

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
    /// House number and street of an address line (`45 far gosford street`).
    NumberStreet,
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
            Part::NumberStreet => "number_street",
        }
    }

    /// The transform that computes this part (`None` for the whole value).
    pub fn transform(self) -> Option<Transform> {
        match self {
            Part::Whole => None,
            Part::YearMonth => Some(Transform::YearMonth),
            Part::Year => Some(Transform::Year),
            Part::Sector => Some(Transform::Sector),
            Part::District => Some(Transform::District),
            Part::Area => Some(Transform::Area),
            Part::Soundex => Some(Transform::Soundex),
            Part::Initial => Some(Transform::Initial),
            Part::NumberStreet => Some(Transform::NumberStreet),
        }
    }

    /// The parts a field of `kind` has, the whole value first.
    pub fn of_kind(kind: FieldKind) -> &'static [Part] {
        match kind {
            FieldKind::Name => &[Part::Whole, Part::Soundex, Part::Initial],
            FieldKind::Date => &[Part::Whole, Part::YearMonth, Part::Year],
            FieldKind::Postcode => &[Part::Whole, Part::Sector, Part::District, Part::Area],
            FieldKind::Text => &[Part::Whole, Part::NumberStreet],
            FieldKind::NhsNumber | FieldKind::Sex => &[Part::Whole],
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
            Part::NumberStreet => &[Part::NumberStreet],
        }
    }

    /// This part of a normalised value, as text (`None` when the value has no such part).
    pub fn text(self, value: &Value) -> Option<String> {
        match self.transform() {
            None => Some(value.canonical().to_string()),
            Some(t) => value.level(t).map(|t| t.to_string()),
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
    /// of birth, a postcode, an NHS number; the house number and street of an address, which
    /// is the address but for a flat number) rather than a partial one (an initial, a Soundex
    /// code, a year or year and month, a postcode sector, district or area, and sex, which has
    /// two values).
    pub fn is_whole_value(&self, schema: &Schema) -> bool {
        matches!(self.part, Part::Whole | Part::NumberStreet)
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

    /// Whether equality of this attribute implies equality of `other`.
    pub fn implies(&self, other: Attribute, schema: &Schema) -> bool {
        self.closure(schema).contains(&other)
    }
}

/// The attribute a key encodes: a one-valued transform's part (the year of
/// `date_of_birth.year`), the year of an unordered date (its day and month may be exchanged),
/// the whole value for the field itself, a swapped date and the variants of a set key.
pub fn key_attribute(key: Key) -> Attribute {
    let part = match key.transform {
        None
        | Some(
            Transform::Swapped | Transform::Deletions | Transform::DigitMasks | Transform::Nickname,
        ) => Part::Whole,
        Some(Transform::Unordered) => Part::Year,
        Some(Transform::YearMonth) => Part::YearMonth,
        Some(Transform::Year) => Part::Year,
        Some(Transform::Sector) => Part::Sector,
        Some(Transform::District) => Part::District,
        Some(Transform::Area) => Part::Area,
        Some(Transform::Soundex) => Part::Soundex,
        Some(Transform::Initial) => Part::Initial,
        Some(Transform::NumberStreet) => Part::NumberStreet,
    };
    Attribute {
        field: key.field,
        part,
    }
}

/// The attribute that agreement on `key` determines: [`key_attribute`], or `None` for a set key
/// (a shared variant is not a shared value).
pub fn key_determines(key: Key) -> Option<Attribute> {
    (!key.is_set()).then(|| key_attribute(key))
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
    /// What it encodes, in key order (for a filter: its fields).
    pub encodes: Vec<Attribute>,
    /// Attributes equal on two records whenever the column is (sorted).
    pub determines: Vec<Attribute>,
    /// Attributes it makes likely without determining them (sorted).
    pub suggests: Vec<Attribute>,
    /// A filter's salt attributes (sorted; empty when unsalted and for token columns).
    pub context: Vec<Attribute>,
    /// Whether a blocking rule of the schema uses it.
    pub blocking: bool,
    /// A token column's keys, in the canonical order they are hashed in (empty for a filter).
    pub keys: Vec<Key>,
    /// A token column's hash signature (`None` for a filter): tokens of columns of equal
    /// signature can be compared with each other.
    pub signature: Option<String>,
}

impl ColumnMeaning {
    #[allow(clippy::too_many_arguments)]
    fn new(
        schema: &Schema,
        name: String,
        slot: Slot,
        encoding: Encoding,
        encodes: Vec<Attribute>,
        determining: Vec<Attribute>,
        context: Vec<Attribute>,
        keys: Vec<Key>,
        signature: Option<String>,
        blocking: bool,
    ) -> ColumnMeaning {
        let mut determines = BTreeSet::new();
        for a in determining.iter().chain(&context) {
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
            keys,
            signature,
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

    /// The attribute that equality of a token of this column with a token of a comparable
    /// column determines at key position `position`, on this column's side: `None` for a set
    /// key, or when the other column's key there is of another transform (a date and a swapped
    /// date are hashed alike, but their equality is no bridge).
    pub fn position_determines(&self, other: &ColumnMeaning, position: usize) -> Option<Attribute> {
        let (a, b) = (*self.keys.get(position)?, *other.keys.get(position)?);
        if a.transform != b.transform {
            return None;
        }
        key_determines(a)
    }
}

/// The meaning of every column of an extract, in the layout's column order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meanings {
    /// One per column, in file order (after `record_id`).
    pub columns: Vec<ColumnMeaning>,
    /// Every attribute some column determines or suggests (sorted).
    pub attributes: Vec<Attribute>,
    /// Pairs of distinct token columns of equal signature, `(a, b)` with `a < b`: a token of
    /// one can be compared with a token of the other.
    pub comparable: Vec<(usize, usize)>,
}

impl Meanings {
    /// The meanings of the columns of extracts encoded under `schema`.
    pub fn new(schema: &Schema) -> Meanings {
        let layout = Layout::new(schema);
        // Every column a blocking rule joins on (a crossed rule's two).
        let blocking: Vec<Vec<Key>> = schema
            .link
            .blocking
            .iter()
            .flat_map(|r| std::iter::once(r.keys.clone()).chain(r.crossed_keys()))
            .map(|keys| {
                let mut keys: Vec<Key> = keys.iter().filter_map(|k| schema.parse_key(k)).collect();
                keys.sort();
                keys
            })
            .collect();
        let mut columns = Vec::with_capacity(layout.columns.len());
        let mut tokens = layout.tokens.iter();
        let mut filters = schema.filters.iter();
        for col in &layout.columns {
            let meaning = match col.slot {
                Slot::Token(_) | Slot::Set(_) => {
                    let Some(t) = tokens.next() else { continue };
                    let encodes: Vec<Attribute> =
                        t.keys.iter().map(|&k| key_attribute(k)).collect();
                    let determining = t.keys.iter().filter_map(|&k| key_determines(k)).collect();
                    let mut sorted = t.keys.clone();
                    sorted.sort();
                    ColumnMeaning::new(
                        schema,
                        col.name.clone(),
                        col.slot,
                        Encoding::Tokens {
                            multi: matches!(col.slot, Slot::Set(_)),
                        },
                        encodes,
                        determining,
                        Vec::new(),
                        t.keys.clone(),
                        Some(t.signature.clone()),
                        blocking.contains(&sorted),
                    )
                }
                Slot::Bloom { bits, .. } => {
                    let Some(spec) = filters.next() else { continue };
                    let fields: Vec<(usize, u16)> = spec
                        .fields
                        .iter()
                        .filter_map(|f| Some((schema.field_index(&f.field)?, f.hashes)))
                        .collect();
                    let encodes: Vec<Attribute> =
                        fields.iter().map(|(f, _)| Attribute::whole(*f)).collect();
                    let context = spec
                        .context
                        .iter()
                        .filter_map(|k| schema.parse_key(k))
                        .filter_map(key_determines)
                        .collect();
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
                        encodes.clone(),
                        encodes,
                        context,
                        Vec::new(),
                        None,
                        false,
                    )
                }
            };
            columns.push(meaning);
        }
        let attributes: BTreeSet<Attribute> = columns
            .iter()
            .flat_map(|c| c.determines.iter().chain(&c.suggests).copied())
            .collect();
        let mut comparable = Vec::new();
        for a in 0..columns.len() {
            for b in a + 1..columns.len() {
                if columns[a].signature.is_some() && columns[a].signature == columns[b].signature {
                    comparable.push((a, b));
                }
            }
        }
        Meanings {
            columns,
            attributes: attributes.into_iter().collect(),
            comparable,
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

    /// The crosswise bridges of `attribute`: for every pair of comparable columns and key
    /// position whose equality determines `attribute` on a field on each side,
    /// `(column, field, other column, other field)`. A same-field pair (`first_name` in both)
    /// joins records like a column that determines the attribute; a pair of two fields of one
    /// key group (`first_name` and `last_name`) joins one record's first name with another's
    /// last name.
    pub fn crosses(&self, attribute: Attribute, schema: &Schema) -> Vec<Cross> {
        let mut out = Vec::new();
        for &(a, b) in &self.comparable {
            let (ca, cb) = (&self.columns[a], &self.columns[b]);
            for p in 0..ca.keys.len() {
                let (Some(x), Some(y)) =
                    (ca.position_determines(cb, p), cb.position_determines(ca, p))
                else {
                    continue;
                };
                let on = |d: Attribute| {
                    x.part == y.part
                        && d.implies(
                            Attribute {
                                field: d.field,
                                part: attribute.part,
                            },
                            schema,
                        )
                };
                if on(x) && on(y) {
                    out.push(Cross {
                        columns: (a, b),
                        fields: (x.field, y.field),
                    });
                }
            }
        }
        out
    }
}

/// Equal tokens in two comparable columns join a field of one record with a field of the other
/// (see [`Meanings::crosses`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cross {
    /// The two columns.
    pub columns: (usize, usize),
    /// The field joined on each side.
    pub fields: (usize, usize),
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
    fn the_default_schema_columns_mean_the_conjunction_of_their_keys() {
        let schema = Schema::example();
        let m = Meanings::new(&schema);
        assert_eq!(m.columns.len(), Layout::new(&schema).columns.len());
        // A name with the date of birth: both determined, neither a salt of the other.
        let first = find(&m, "first_name+date_of_birth");
        assert_eq!(
            names(&schema, &first.determines),
            [
                "first_name",
                "first_name.soundex",
                "first_name.initial",
                "date_of_birth",
                "date_of_birth.year_month",
                "date_of_birth.year"
            ]
        );
        assert!(first.context.is_empty() && first.suggests.is_empty());
        assert!(first.blocking && first.single_valued());
        // A set key determines nothing of its field: a shared variant is no shared name.
        let deletions = find(&m, "first_name.deletions+date_of_birth");
        assert!(!deletions.single_valued() && !deletions.blocking);
        assert_eq!(
            names(&schema, &deletions.determines),
            [
                "date_of_birth",
                "date_of_birth.year_month",
                "date_of_birth.year"
            ]
        );
        assert_eq!(
            names(&schema, &deletions.suggests),
            ["first_name", "first_name.soundex", "first_name.initial"]
        );
        // The date's digit masks with the first and last names: a bridge for both names.
        let masks = find(&m, "date_of_birth.digit_masks+first_name+last_name");
        assert!(masks.determines(Attribute::whole(0)));
        assert!(masks.determines(Attribute::whole(2)));
        assert!(!masks.determines(Attribute::whole(3)));
        assert!(masks.suggests(Attribute::whole(3)));
        // An initial with the last name and date of birth.
        let initial = find(&m, "first_name.initial+last_name+date_of_birth");
        assert!(!initial.blocking);
        assert!(initial.determines(Attribute {
            field: 0,
            part: Part::Initial
        }));
        assert!(initial.determines(Attribute::whole(2)));
        assert_eq!(
            names(&schema, &initial.suggests),
            ["first_name", "first_name.soundex"]
        );
        // An unordered date reveals its year only.
        let unordered = find(&m, "date_of_birth.unordered+first_name");
        assert!(unordered.determines(Attribute {
            field: 3,
            part: Part::Year
        }));
        assert!(!unordered.determines(Attribute {
            field: 3,
            part: Part::YearMonth
        }));
        // No filter in the default schema.
        assert!(m.columns.iter().all(|c| c.filter().is_none()));
        // Every part of every encoded field is an attribute to attack.
        let all = names(&schema, &m.attributes);
        for want in [
            "first_name",
            "middle_name.soundex",
            "date_of_birth.year",
            "sex",
            "postcode.area",
            "address_line_1",
            "address_line_1.number_street",
            "nhs_number",
        ] {
            assert!(all.contains(&want.to_string()), "{want}: {all:?}");
        }
        // Sex only ever with the last name and date of birth.
        assert_eq!(
            names(&schema, &find(&m, "sex+last_name+date_of_birth").determines)[..1],
            ["last_name"]
        );
        assert_eq!(m.determining(Attribute::whole(4)).len(), 1);
    }

    #[test]
    fn names_of_one_key_group_are_comparable_crosswise() {
        let schema = Schema::example();
        let m = Meanings::new(&schema);
        let col = |name: &str| m.columns.iter().position(|c| c.name == name).unwrap();
        let (first, middle, last) = (
            col("first_name+date_of_birth"),
            col("middle_name+date_of_birth"),
            col("last_name+date_of_birth"),
        );
        for pair in [(first, middle), (first, last), (middle, last)] {
            assert!(m.comparable.contains(&pair), "{pair:?}");
        }
        // Soundex tokens are comparable with each other, not with whole names.
        let (fs, ls) = (
            col("first_name.soundex+date_of_birth"),
            col("last_name.soundex+date_of_birth"),
        );
        assert!(m.comparable.contains(&(fs.min(ls), fs.max(ls))));
        assert!(!m.comparable.contains(&(first.min(fs), first.max(fs))));
        // A token of one first name equal to another record's last-name token: the first name of
        // one is the last name of the other.
        let crosses = m.crosses(Attribute::whole(0), &schema);
        assert!(crosses.contains(&Cross {
            columns: (first, last),
            fields: (0, 2)
        }));
        // The initial: the Soundex crosses bridge it too.
        let initial = m.crosses(
            Attribute {
                field: 0,
                part: Part::Initial,
            },
            &schema,
        );
        assert!(initial
            .iter()
            .any(|x| x.columns == (fs.min(ls), fs.max(ls))));
    }

    #[test]
    fn a_filter_determines_its_fields_and_its_context() {
        let mut value: serde_json::Value = serde_json::from_str(Schema::example_json()).unwrap();
        value["filters"] = serde_json::json!([{
            "name": "record", "bits": 1024, "balanced": true,
            "context": ["date_of_birth.year_month"],
            "fields": [ { "field": "first_name", "hashes": 10 }, { "field": "last_name", "hashes": 8 } ]
        }]);
        let schema = Schema::from_json(&value.to_string()).unwrap();
        let m = Meanings::new(&schema);
        let record = find(&m, "record.bloom");
        let f = record.filter().unwrap();
        assert_eq!(f.fields, vec![(0, 10), (2, 8)]);
        assert!(f.hardened);
        assert_eq!(f.bits, 2048);
        assert!(record.determines(Attribute::whole(0)) && record.determines(Attribute::whole(2)));
        assert_eq!(
            names(&schema, &record.context),
            ["date_of_birth.year_month", "date_of_birth.year"]
        );
        assert!(record.signature.is_none() && record.keys.is_empty());
    }

    #[test]
    fn the_old_default_salts_names_by_month_of_birth() {
        let schema = Schema::example_v1();
        let m = Meanings::new(&schema);
        let filters: Vec<&ColumnMeaning> =
            m.columns.iter().filter(|c| c.filter().is_some()).collect();
        assert!(!filters.is_empty());
        let first = find(&m, "first_name.bloom");
        assert_eq!(
            names(&schema, &first.context),
            ["date_of_birth.year_month", "date_of_birth.year"]
        );
        // The blocking token of first name and year of birth: no month.
        let block = find(&m, "first_name+date_of_birth.year");
        assert!(block.blocking);
        // Some token bridges the first name without the month of birth.
        let bridges = m.determining(Attribute::whole(0));
        assert!(bridges.iter().any(|&c| !m.columns[c].determines(Attribute {
            field: 3,
            part: Part::YearMonth
        })));
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

    #[test]
    fn first_name_tokens_bridge_the_first_name() {
        let schema = Schema::example();
        let meanings = Meanings::new(&schema);
        // Tokens of the first name with the postcode, the address or the date of birth (or one
        // digit of it masked) all bridge the first name: equal on two records, the names are
        // equal.
        let bridges: Vec<&str> = meanings
            .determining(Attribute::whole(0))
            .into_iter()
            .map(|c| meanings.columns[c].name.as_str())
            .collect();
        assert!(bridges.contains(&"postcode+first_name"));
        assert!(bridges.contains(&"date_of_birth.digit_masks+first_name+last_name"));
        assert_eq!(
            Attribute {
                field: 0,
                part: Part::Initial
            }
            .closure(&schema)
            .len(),
            1
        );
    }
}
