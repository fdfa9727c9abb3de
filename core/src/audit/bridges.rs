//! Bridges: records joined because some column is equal on them.
//!
//! Two records with equal cells in a column that determines an attribute share that attribute's
//! value, whatever else differs (the other keys of the token, other fields). Joining records
//! through *every* such column (union-find) gives components that are each part of one class of
//! the attribute. In encoding v3 every token holds several keys, each the salt of the others:
//! `first_name+date_of_birth` joins one name within one date of birth,
//! `postcode+first_name` the same name across dates within one postcode,
//! `date_of_birth.digit_masks+first_name` across dates one digit apart, and together they
//! rebuild the classes of first names that no single token shows. Comparable columns (one hash
//! signature: `first_name+date_of_birth` and `last_name+date_of_birth`) join one record's first
//! name with another's last name ([`components_across`]).

use rustc_hash::FxHashMap;

use super::columns::{Columns, NONE};
use super::meaning::Cross;

/// Disjoint sets of records.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<u32>,
}

impl UnionFind {
    /// `n` records, each alone.
    pub fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n as u32).collect(),
        }
    }

    /// The representative of `x`'s set.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    /// Joins the sets of `a` and `b`.
    pub fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // The smaller index becomes the root: deterministic.
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi as usize] = lo;
        }
    }
}

/// The component of every record when records are joined through the columns `cols` (indices
/// in [`Columns::columns`]) and the extra pairs `edges`; [`NONE`] for a record that none of them
/// joins to anything and that has no value in any of the columns. Components are numbered from
/// 0 in the order of their first record.
pub fn components(columns: &Columns, cols: &[usize], edges: &[(u32, u32)]) -> Vec<u32> {
    let n = columns.records();
    let mut uf = UnionFind::new(n);
    let mut touched = vec![false; n];
    for &c in cols {
        let Some(col) = columns.columns.get(c) else {
            continue;
        };
        let mut first = vec![NONE; col.classes.len()];
        for (r, seen) in touched.iter_mut().enumerate() {
            for &class in col.classes.of(r) {
                *seen = true;
                let f = &mut first[class as usize];
                if *f == NONE {
                    *f = r as u32;
                } else {
                    uf.union(*f, r as u32);
                }
            }
        }
    }
    for &(a, b) in edges {
        if (a as usize) < n && (b as usize) < n {
            uf.union(a, b);
            touched[a as usize] = true;
            touched[b as usize] = true;
        }
    }
    let mut number = vec![NONE; n];
    let mut next = 0u32;
    (0..n)
        .map(|r| {
            if !touched[r] {
                return NONE;
            }
            let root = uf.find(r as u32) as usize;
            if number[root] == NONE {
                number[root] = next;
                next += 1;
            }
            number[root]
        })
        .collect()
}

/// The component of every record's value of field `field` when values are joined through
/// columns and across fields of one key group (crosswise names): `fields` lists, for `field`
/// and every field joined to it, the columns that determine the attribute on that field;
/// `crosses` joins, for equal tokens of two comparable columns, the first column's field on one
/// record with the second's on the other; `edges` joins `field` on pairs of records. A record
/// whose value of `field` nothing joins and no column shows is [`NONE`]. Components are
/// numbered from 0 in the order of their first record.
pub fn components_across(
    columns: &Columns,
    field: usize,
    fields: &[(usize, Vec<usize>)],
    crosses: &[Cross],
    edges: &[(u32, u32)],
) -> Vec<u32> {
    let n = columns.records();
    let slot = |f: usize| fields.iter().position(|(g, _)| *g == f);
    let mut uf = UnionFind::new(n * fields.len());
    let mut touched = vec![false; n * fields.len()];
    let node = |s: usize, r: usize| (s * n + r) as u32;
    for (s, (_, cols)) in fields.iter().enumerate() {
        for &c in cols {
            let Some(col) = columns.columns.get(c) else {
                continue;
            };
            let mut first = vec![NONE; col.classes.len()];
            for r in 0..n {
                for &class in col.classes.of(r) {
                    touched[s * n + r] = true;
                    let f = &mut first[class as usize];
                    if *f == NONE {
                        *f = r as u32;
                    } else {
                        uf.union(node(s, *f as usize), node(s, r));
                    }
                }
            }
        }
    }
    for cross in crosses {
        let (Some(sa), Some(sb)) = (slot(cross.fields.0), slot(cross.fields.1)) else {
            continue;
        };
        let (Some(a), Some(b)) = (
            columns.columns.get(cross.columns.0),
            columns.columns.get(cross.columns.1),
        ) else {
            continue;
        };
        if a.shared.is_empty() || b.shared.is_empty() {
            continue;
        }
        let ids = a
            .shared
            .iter()
            .chain(&b.shared)
            .max()
            .map_or(0, |&m| m as usize + 1);
        let mut first = vec![NONE; ids];
        for r in 0..n {
            for &class in a.classes.of(r) {
                let f = &mut first[a.shared[class as usize] as usize];
                if *f == NONE {
                    *f = r as u32;
                }
            }
        }
        for r in 0..n {
            for &class in b.classes.of(r) {
                let f = first[b.shared[class as usize] as usize];
                if f != NONE {
                    touched[sa * n + f as usize] = true;
                    touched[sb * n + r] = true;
                    uf.union(node(sa, f as usize), node(sb, r));
                }
            }
        }
    }
    let Some(own) = slot(field) else {
        return vec![NONE; n];
    };
    for &(a, b) in edges {
        if (a as usize) < n && (b as usize) < n {
            uf.union(node(own, a as usize), node(own, b as usize));
            touched[own * n + a as usize] = true;
            touched[own * n + b as usize] = true;
        }
    }
    let mut number = FxHashMap::default();
    (0..n)
        .map(|r| {
            if !touched[own * n + r] {
                return NONE;
            }
            let root = uf.find(node(own, r));
            let next = number.len() as u32;
            *number.entry(root).or_insert(next)
        })
        .collect()
}

/// Number of distinct components (ignoring [`NONE`]).
#[cfg(test)]
pub fn count(components: &[u32]) -> usize {
    components
        .iter()
        .filter(|&&c| c != NONE)
        .max()
        .map_or(0, |&m| m as usize + 1)
}

#[cfg(test)]
mod tests {
    use super::super::columns::{Classes, Column};
    use super::*;

    fn columns(cells: &[&[Option<u128>]]) -> Columns {
        let n = cells[0].len();
        Columns {
            ids: (0..n).map(|i| i.to_string()).collect(),
            input: vec![0; n],
            columns: cells
                .iter()
                .map(|c| Column {
                    classes: Classes::from_cells(c.iter().copied()),
                    ..Column::default()
                })
                .collect(),
        }
    }

    #[test]
    fn bridges_join_what_each_column_alone_keeps_apart() {
        // Column 0: a salted token (equal within a salt); column 1: an unsalted blocking token.
        let cols = columns(&[
            &[Some(1), Some(1), Some(2), Some(2), None, None],
            &[Some(9), None, Some(9), None, None, Some(5)],
        ]);
        assert_eq!(components(&cols, &[0], &[]), vec![0, 0, 1, 1, NONE, NONE]);
        assert_eq!(components(&cols, &[0, 1], &[]), vec![0, 0, 0, 0, NONE, 1]);
        assert_eq!(components(&cols, &[0], &[(4, 5)]), vec![0, 0, 1, 1, 2, 2]);
        assert_eq!(count(&components(&cols, &[0, 1], &[])), 2);
    }

    #[test]
    fn a_set_valued_column_bridges_through_any_shared_token() {
        let cols = Columns {
            ids: (0..4).map(|i| i.to_string()).collect(),
            input: vec![0; 4],
            columns: vec![Column {
                classes: Classes::from_cells(vec![vec![1u32, 2], vec![2, 3], vec![4], vec![]]),
                ..Column::default()
            }],
        };
        assert_eq!(components(&cols, &[0], &[]), vec![0, 0, 1, NONE]);
    }

    #[test]
    fn comparable_columns_join_one_field_through_another() {
        // Column 0 is `first_name+dob`, column 1 `last_name+dob`, comparable: shared ids 0..
        // Records 0 and 1 have first names whose tokens equal record 2's last-name token, and
        // record 3 shares its last name with record 2 (column 1, same token).
        let mut cols = Columns {
            ids: (0..4).map(|i| i.to_string()).collect(),
            input: vec![0; 4],
            columns: vec![
                Column {
                    classes: Classes::from_cells([Some(7u128), Some(8), None, Some(9)]),
                    ..Column::default()
                },
                Column {
                    classes: Classes::from_cells([None, None, Some(7u128), Some(7)]),
                    ..Column::default()
                },
            ],
        };
        cols.columns[0].shared = vec![0, 1, 2];
        cols.columns[1].shared = vec![0];
        let cross = Cross {
            columns: (0, 1),
            fields: (10, 12),
        };
        let fields = vec![(10, vec![0]), (12, vec![1])];
        // First names: record 0 joins record 2's last name, which is record 3's; record 3's own
        // first name stays apart.
        let first = components_across(&cols, 10, &fields, &[cross], &[]);
        assert_eq!(first, vec![0, 1, NONE, 2]);
        let last = components_across(&cols, 12, &fields, &[cross], &[]);
        assert_eq!(last, vec![NONE, NONE, 0, 0]);
        // Without the cross, as `components`.
        assert_eq!(
            components_across(&cols, 10, &fields[..1], &[], &[]),
            components(&cols, &[0], &[])
        );
    }

    proptest::proptest! {
        /// Two records are in one component exactly when a chain of equal cells joins them.
        #[test]
        fn components_are_the_closure_of_equal_cells(
            a in proptest::collection::vec(proptest::option::of(0u128..4), 1..12),
            b_seed in proptest::collection::vec(proptest::option::of(0u128..4), 12),
        ) {
            let b: Vec<Option<u128>> = b_seed[..a.len()].to_vec();
            let cols = columns(&[&a, &b]);
            let comp = components(&cols, &[0, 1], &[]);
            let n = a.len();
            // Reference: repeated relaxation over the adjacency.
            let mut reach = vec![vec![false; n]; n];
            for i in 0..n {
                for j in 0..n {
                    reach[i][j] = i == j
                        || (a[i].is_some() && a[i] == a[j])
                        || (b[i].is_some() && b[i] == b[j]);
                }
            }
            for k in 0..n {
                for i in 0..n {
                    for j in 0..n {
                        if reach[i][k] && reach[k][j] {
                            reach[i][j] = true;
                        }
                    }
                }
            }
            for i in 0..n {
                let present = a[i].is_some() || b[i].is_some();
                proptest::prop_assert_eq!(comp[i] == NONE, !present);
                for j in 0..n {
                    if present && (a[j].is_some() || b[j].is_some()) {
                        proptest::prop_assert_eq!(comp[i] == comp[j], reach[i][j]);
                    }
                }
            }
        }
    }
}
