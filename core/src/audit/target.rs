//! What every attack works on: the schema's meanings, the columns, the values, the bridged
//! components of every attribute and the low-cardinality columns that split records into
//! groups.
//!
//! **Groups.** A token column with few values (a year of birth, sex, a postcode district) splits
//! the records into groups. The attacker is assumed to know which group is which (generous: in
//! practice it would have to infer it from the population pyramid or a map): each group is
//! labelled with the true value of what the column determines (its most common one among the
//! group's records), and attacks within groups align against the reference rows with that label.

use std::collections::HashMap;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::schema::Schema;

use super::bridges::{components, components_across};
use super::columns::{Columns, NONE};
use super::meaning::{Attribute, Cross, Meanings};
use super::score::{known_accuracy, Board, Finding, Score};
use super::values::{KnownSet, Values};

/// Token columns with at most this many distinct values are tried as groups.
pub const MAX_GROUPS: usize = 2000;

/// ... and only if their groups hold this many records on average: in smaller groups
/// frequencies show nothing.
pub const MIN_GROUP_SIZE: usize = 20;

/// A low-cardinality column whose classes split the records into labelled groups.
#[derive(Debug, Clone)]
pub struct GroupColumn {
    /// Index of the column.
    pub column: usize,
    /// Its name.
    pub name: String,
    /// The group (class of the column) of each record, [`NONE`] when missing.
    pub of_record: Vec<u32>,
    /// The label of each group ([`NONE`] when no record of it has a complete true label).
    pub label_of_group: Vec<u32>,
    /// The label of each reference row ([`NONE`] when incomplete).
    pub label_of_row: Vec<u32>,
}

impl GroupColumn {
    /// The number of labels: one more than the largest label of a group or a reference row.
    pub fn label_count(&self) -> usize {
        self.label_of_row
            .iter()
            .chain(&self.label_of_group)
            .filter(|&&l| l != NONE)
            .max()
            .map_or(0, |&m| m as usize + 1)
    }
}

/// A group column and an attribute.
type PairKey = (usize, usize);

/// The attacks' common input.
#[derive(Debug)]
pub struct Target<'a> {
    /// The schema.
    pub schema: &'a Schema,
    /// What each column means.
    pub meanings: &'a Meanings,
    /// The columns.
    pub columns: &'a Columns,
    /// The values.
    pub values: &'a Values,
    /// What insiders know, one set per scenario (none for an outsider).
    pub knowns: &'a [KnownSet],
    /// The single class of each record in each single-valued column (empty for set-valued
    /// columns).
    pub singles: Vec<Vec<u32>>,
    /// Columns usable as groups.
    pub groups: Vec<GroupColumn>,
    /// Per attribute (as [`Values::attributes`]): the component of each record when joined
    /// through every column that determines it (and the extra bridges).
    pub components: Vec<Vec<u32>>,
    /// Per attribute: the columns joined.
    pub bridges: Vec<Vec<usize>>,
    /// Per attribute: the extra bridges used (salt-partition detection), for reports.
    pub extra_bridges: Vec<Vec<String>>,
    /// Reference rankings within groups: `(group, attribute) -> ranking per label`.
    rankings: FxHashMap<(usize, usize), Vec<Vec<u32>>>,
}

/// Pairs of records known to share an attribute (from salt-partition detection).
#[derive(Debug, Clone)]
pub struct Bridge {
    /// The attribute they share.
    pub attribute: Attribute,
    /// The pairs of records.
    pub pairs: Vec<(u32, u32)>,
    /// How they were found.
    pub how: String,
}

/// Extra bridges, beyond equal columns.
#[derive(Debug, Clone, Default)]
pub struct ExtraBridges {
    /// The bridges.
    pub edges: Vec<Bridge>,
}

impl<'a> Target<'a> {
    /// Prepares the groups and the bridged components.
    pub fn new(
        schema: &'a Schema,
        meanings: &'a Meanings,
        columns: &'a Columns,
        values: &'a Values,
        knowns: &'a [KnownSet],
        extra: &ExtraBridges,
    ) -> Target<'a> {
        let groups = group_columns(meanings, columns, values);
        let bridges: Vec<Vec<usize>> = values
            .attributes
            .iter()
            .map(|a| meanings.determining(a.attribute))
            .collect();
        let edges: Vec<Bridge> = values
            .attributes
            .iter()
            .map(|a| {
                let mut joined = Bridge {
                    attribute: a.attribute,
                    pairs: Vec::new(),
                    how: String::new(),
                };
                let mut how = Vec::new();
                for b in extra.edges.iter().filter(|b| b.attribute == a.attribute) {
                    joined.pairs.extend_from_slice(&b.pairs);
                    how.push(b.how.clone());
                }
                joined.how = how.join("; ");
                joined
            })
            .collect();
        let crosses: Vec<Vec<Cross>> = values
            .attributes
            .iter()
            .map(|a| joined_fields(schema, meanings, a.attribute).1)
            .collect();
        let components = values
            .attributes
            .par_iter()
            .zip(&bridges)
            .zip(&edges)
            .zip(&crosses)
            .map(|(((a, cols), bridge), crosses)| {
                if crosses.is_empty() {
                    return components(columns, cols, &bridge.pairs);
                }
                let (fields, crosses) = joined_fields(schema, meanings, a.attribute);
                let fields: Vec<(usize, Vec<usize>)> = fields
                    .into_iter()
                    .map(|f| {
                        let at = Attribute {
                            field: f,
                            part: a.attribute.part,
                        };
                        (f, meanings.determining(at))
                    })
                    .collect();
                components_across(columns, a.attribute.field, &fields, &crosses, &bridge.pairs)
            })
            .collect();
        let mut rankings = FxHashMap::default();
        let pairs: Vec<(usize, usize)> = (0..groups.len())
            .flat_map(|g| (0..values.attributes.len()).map(move |a| (g, a)))
            .filter(|&(g, a)| {
                let field = values.attributes[a].attribute.field;
                !meanings.columns[groups[g].column].touches_field(field)
            })
            .collect();
        let computed: Vec<(PairKey, Vec<Vec<u32>>)> = pairs
            .par_iter()
            .map(|&(g, a)| ((g, a), rank_by_label(&groups[g], values, a)))
            .collect();
        rankings.extend(computed);
        let singles = meanings
            .columns
            .par_iter()
            .zip(&columns.columns)
            .map(|(m, c)| {
                if m.single_valued() {
                    c.classes.singles()
                } else {
                    Vec::new()
                }
            })
            .collect();
        Target {
            schema,
            meanings,
            columns,
            values,
            knowns,
            singles,
            groups,
            components,
            bridges,
            extra_bridges: edges
                .into_iter()
                .zip(&crosses)
                .map(|(e, crosses)| {
                    let mut out: Vec<String> = crosses
                        .iter()
                        .map(|x| {
                            format!(
                                "{}~{}",
                                meanings.columns[x.columns.0].name,
                                meanings.columns[x.columns.1].name
                            )
                        })
                        .collect();
                    if !e.how.is_empty() {
                        out.push(e.how);
                    }
                    out
                })
                .collect(),
            rankings,
        }
    }

    /// The reference ranking of attribute `a` among the rows labelled `label` of group column
    /// `g` (`None` when the pair is not attacked or the label has no rows).
    pub fn ranking(&self, g: usize, a: usize, label: u32) -> Option<&[u32]> {
        let per_label = self.rankings.get(&(g, a))?;
        per_label
            .get(label as usize)
            .map(Vec::as_slice)
            .filter(|r| !r.is_empty())
    }

    /// Whether group column `g` may be used against attribute `a` (it reveals nothing of `a`'s
    /// field).
    pub fn group_allowed(&self, g: usize, a: usize) -> bool {
        self.rankings.contains_key(&(g, a))
    }

    /// Measures a variant of an attack that uses no known record and records it on `board`,
    /// with its accuracy on each scenario's known records (for the attacker's own choice).
    pub fn record_unknowing(&self, board: &mut Board, finding: Finding, guesses: Vec<u32>) {
        let a = finding.attribute;
        let mut scenarios = vec![(None, None)];
        for k in self.knowns {
            scenarios.push((Some(k.k), Some(known_accuracy(a, &guesses, k))));
        }
        board.add(finding, guesses, &scenarios);
    }

    /// Measures a variant of an attack that uses the known records of `known` and records it.
    pub fn record_knowing(
        &self,
        board: &mut Board,
        known: &KnownSet,
        finding: Finding,
        guesses: Vec<u32>,
    ) {
        let accuracy = known_accuracy(finding.attribute, &guesses, known);
        board.add(finding, guesses, &[(Some(known.k), Some(accuracy))]);
    }

    /// A finding of `family` on attribute `a`, scored (over the records not in `known`).
    pub fn finding(
        &self,
        family: super::score::Family,
        a: usize,
        known: Option<&KnownSet>,
        how: String,
        columns: Vec<String>,
        guesses: &[u32],
    ) -> Finding {
        Finding {
            family,
            attribute: a,
            k: known.map(|k| k.k),
            how,
            columns,
            score: Score::measure(&self.values.attributes[a], guesses, known),
            prior: 0,
        }
    }

    /// Names of the columns bridged for attribute `a`.
    pub fn bridge_names(&self, a: usize) -> Vec<String> {
        self.bridges[a]
            .iter()
            .map(|&c| self.meanings.columns[c].name.clone())
            .chain(self.extra_bridges[a].iter().cloned())
            .collect()
    }
}

/// The fields whose values comparable columns join with `attribute`'s field (itself first) and
/// the crosses that join them; no cross when no pair of comparable columns determines the
/// attribute on both sides.
pub fn joined_fields(
    schema: &Schema,
    meanings: &Meanings,
    attribute: Attribute,
) -> (Vec<usize>, Vec<Cross>) {
    let all = meanings.crosses(attribute, schema);
    let mut fields = vec![attribute.field];
    loop {
        let before = fields.len();
        for x in &all {
            let (a, b) = x.fields;
            if fields.contains(&a) && !fields.contains(&b) {
                fields.push(b);
            } else if fields.contains(&b) && !fields.contains(&a) {
                fields.push(a);
            }
        }
        if fields.len() == before {
            break;
        }
    }
    let crosses = all
        .into_iter()
        .filter(|x| fields.contains(&x.fields.0))
        .collect();
    (fields, crosses)
}

fn group_columns(meanings: &Meanings, columns: &Columns, values: &Values) -> Vec<GroupColumn> {
    let n = columns.records();
    let mut out = Vec::new();
    for (c, m) in meanings.columns.iter().enumerate() {
        if !m.single_valued() || m.filter().is_some() {
            continue;
        }
        let classes = &columns.columns[c].classes;
        let present = classes.present();
        let k = classes.len();
        if !(2..=MAX_GROUPS).contains(&k) || present * 2 < n || present < MIN_GROUP_SIZE * k {
            continue;
        }
        let attributes: Vec<usize> = m
            .determines
            .iter()
            .filter_map(|a| values.position(*a))
            .collect();
        if attributes.is_empty() {
            continue;
        }
        let of_record = classes.singles();
        // Labels: tuples of values of the attributes, numbered.
        let mut labels: HashMap<Vec<u32>, u32> = HashMap::new();
        let label_of = |tuple: Vec<u32>, labels: &mut HashMap<Vec<u32>, u32>| -> u32 {
            if tuple.contains(&NONE) {
                return NONE;
            }
            let next = labels.len() as u32;
            *labels.entry(tuple).or_insert(next)
        };
        let label_of_row: Vec<u32> = (0..values.reference_rows)
            .map(|row| {
                let t = attributes
                    .iter()
                    .map(|&a| values.attributes[a].reference[row])
                    .collect();
                label_of(t, &mut labels)
            })
            .collect();
        // Each group's label: its most common complete true tuple.
        let mut tally: FxHashMap<(u32, Vec<u32>), u32> = FxHashMap::default();
        for (r, &g) in of_record.iter().enumerate() {
            if g == NONE {
                continue;
            }
            let t: Vec<u32> = attributes
                .iter()
                .map(|&a| values.attributes[a].truth[r])
                .collect();
            if !t.contains(&NONE) {
                *tally.entry((g, t)).or_default() += 1;
            }
        }
        let mut best: Vec<Option<(u32, Vec<u32>)>> = vec![None; k];
        let mut tallied: Vec<((u32, Vec<u32>), u32)> = tally.into_iter().collect();
        tallied.sort_unstable();
        for ((g, t), count) in tallied {
            let slot = &mut best[g as usize];
            if slot.as_ref().is_none_or(|(c, _)| count > *c) {
                *slot = Some((count, t));
            }
        }
        let label_of_group = best
            .into_iter()
            .map(|b| match b {
                Some((_, t)) => label_of(t, &mut labels),
                None => NONE,
            })
            .collect();
        out.push(GroupColumn {
            column: c,
            name: m.name.clone(),
            of_record,
            label_of_group,
            label_of_row,
        });
    }
    out
}

fn rank_by_label(group: &GroupColumn, values: &Values, a: usize) -> Vec<Vec<u32>> {
    let attr = &values.attributes[a];
    let labels = group.label_count();
    let mut counts: Vec<FxHashMap<u32, u64>> = vec![FxHashMap::default(); labels];
    for (row, &label) in group.label_of_row.iter().enumerate() {
        let v = attr.reference[row];
        if label != NONE && v != NONE {
            *counts[label as usize].entry(v).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|c| attr.rank(c.into_iter()))
        .collect()
}
