//! Bridges: records joined because some column is equal on them.
//!
//! Two records with equal cells in a column that determines an attribute share that attribute's
//! value, whatever else differs (their salts, other fields). Joining records through *every* such
//! column (union-find) gives components that are each part of one class of the attribute: a
//! salted first-name token joins records of one name within one month of birth, the unsalted
//! `first_name_year` blocking token joins the months of a year, and together they rebuild the
//! classes the salt was meant to hide.

use super::columns::{Columns, NONE};

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
                    filters: None,
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
                filters: None,
            }],
        };
        assert_eq!(components(&cols, &[0], &[]), vec![0, 0, 1, NONE]);
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
