//! The oracle: an all-pairs linker, slow and written straight from the definitions, sharing no
//! comparison or scoring code with the fast path (it uses `Bloom::dice`, no popcount bound, no
//! pattern aggregation, naive term frequencies).

use std::collections::HashMap;

use crate::encode::layout::Layout;
use crate::encode::{EncodedRecord, Token};
use crate::schema::{Level, Schema};

use super::compare::{similarity, MISSING, SALT_DIFFERS};
use super::model::Model;
use super::pool::Pool;

fn tok(r: &EncodedRecord, slot: Option<usize>) -> Option<Token> {
    slot.and_then(|s| r.tokens.get(s).copied().flatten())
}

fn eq(a: Option<Token>, b: Option<Token>) -> bool {
    a.is_some() && a == b
}

/// The token slot of salt `key`, straight from the layout.
fn salt_slot(schema: &Schema, layout: &Layout, key: Option<&String>) -> Option<usize> {
    let key = schema.parse_key(key?)?;
    let s = &layout.fields[key.field];
    match key.level {
        None => s.token,
        Some(l) => s.levels.iter().find(|(x, _)| *x == l).map(|(_, t)| *t),
    }
}

/// The salt slot a comparison of field `i` is gated on: its salt's, unless it is compared in
/// cleartext by a string comparator.
fn field_gate(schema: &Schema, layout: &Layout, clear: bool, i: usize) -> Option<usize> {
    let f = &schema.fields[i];
    if clear && f.compare.as_ref().is_some_and(|c| c.clear.is_some()) {
        return None;
    }
    salt_slot(schema, layout, f.salt.as_ref())
}

/// The salt slot the record-level filter is gated on: the salt of its fields when they all have
/// the same one.
fn record_gate(schema: &Schema, layout: &Layout) -> Option<usize> {
    let rf = schema.record_bloom.as_ref()?;
    let salts: Vec<Option<&String>> = rf
        .fields
        .iter()
        .map(|f| {
            schema
                .field_index(&f.field)
                .and_then(|i| schema.fields[i].salt.as_ref())
        })
        .collect();
    let first = (*salts.first()?)?;
    if salts.iter().all(|s| *s == Some(first)) {
        salt_slot(schema, layout, Some(first))
    } else {
        None
    }
}

/// Every pair the pool may form, `(i, j)` with `i < j`.
pub(crate) fn all_pairs(pool: &Pool) -> Vec<(u32, u32)> {
    let n = pool.len() as u32;
    let mut out = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            if pool.pair_allowed(i, j) {
                out.push((i, j));
            }
        }
    }
    out
}

/// Whether `a` and `b` share the token of some blocking rule.
pub(crate) fn shares_block(schema: &Schema, pool: &Pool, a: u32, b: u32) -> bool {
    let layout = Layout::new(schema);
    layout
        .blocks
        .iter()
        .any(|s| eq(tok(pool.record(a), Some(*s)), tok(pool.record(b), Some(*s))))
}

/// The comparison vector of `(a, b)`, from the definition in `compare`'s documentation.
pub(crate) fn levels(schema: &Schema, pool: &Pool, clear: bool, a: u32, b: u32) -> Vec<u8> {
    let layout = Layout::new(schema);
    let (ra, rb) = (pool.record(a), pool.record(b));
    let mut out = Vec::new();
    for (i, f) in schema.fields.iter().enumerate() {
        let Some(c) = &f.compare else { continue };
        let slots = &layout.fields[i];
        let present = |r: &EncodedRecord| {
            if slots.token.is_some() {
                tok(r, slots.token).is_some()
            } else if let Some(bl) = slots.bloom {
                r.blooms[bl].is_some()
            } else {
                slots.levels.iter().any(|(_, s)| tok(r, Some(*s)).is_some())
            }
        };
        if !present(ra) || !present(rb) {
            out.push(MISSING);
            continue;
        }
        if let Some(salt) = field_gate(schema, &layout, clear, i) {
            if !eq(tok(ra, Some(salt)), tok(rb, Some(salt))) {
                out.push(SALT_DIFFERS);
                continue;
            }
        }
        let mut candidates: Vec<bool> = Vec::new();
        if slots.token.is_some() {
            candidates.push(eq(tok(ra, slots.token), tok(rb, slots.token)));
        }
        match (&c.clear, slots.bloom) {
            (Some(cl), _) if clear => {
                let sim = match (pool.clear_value(a, i), pool.clear_value(b, i)) {
                    (Some(x), Some(y)) => Some(similarity(cl.metric, x, y)),
                    _ => None,
                };
                for t in &cl.thresholds {
                    candidates.push(sim.is_some_and(|s| s >= *t));
                }
            }
            (_, Some(bl)) if !c.dice.is_empty() => {
                let d = match (&ra.blooms[bl], &rb.blooms[bl]) {
                    (Some(x), Some(y)) => Some(x.dice(y)),
                    _ => None,
                };
                for t in &c.dice {
                    candidates.push(d.is_some_and(|d| d >= *t));
                }
            }
            _ => {}
        }
        for l in &c.levels {
            let Some(s) = slots.level(*l) else { continue };
            if *l == Level::Swapped {
                candidates.push(
                    eq(tok(ra, Some(s)), tok(rb, slots.token))
                        || eq(tok(ra, slots.token), tok(rb, Some(s))),
                );
            } else {
                candidates.push(eq(tok(ra, Some(s)), tok(rb, Some(s))));
            }
        }
        if let (Some(other), Some(_)) = (&c.cross_with, slots.token) {
            let o = schema
                .field_index(other)
                .and_then(|o| layout.fields[o].token);
            candidates
                .push(eq(tok(ra, slots.token), tok(rb, o)) || eq(tok(ra, o), tok(rb, slots.token)));
        }
        candidates.push(true); // else
        out.push(candidates.iter().position(|x| *x).unwrap_or(0) as u8);
    }
    // The record-level filter, compared last, in its Dice bands.
    if let (Some(rf), Some(bl)) = (&schema.record_bloom, layout.record_bloom) {
        if let Some(c) = rf.compare.as_ref().filter(|c| !c.dice.is_empty()) {
            let gate = record_gate(schema, &layout);
            match (&ra.blooms[bl], &rb.blooms[bl]) {
                (Some(_), Some(_))
                    if gate.is_some_and(|g| !eq(tok(ra, Some(g)), tok(rb, Some(g)))) =>
                {
                    out.push(SALT_DIFFERS)
                }
                (Some(x), Some(y)) => {
                    let d = x.dice(y);
                    let band = c.dice.iter().position(|t| d >= *t);
                    out.push(band.unwrap_or(c.dice.len()) as u8);
                }
                _ => out.push(MISSING),
            }
        }
    }
    out
}

/// The match weight of `(a, b)` under `model`, naively (`clear`: cleartext comparison).
pub(crate) fn weight(
    schema: &Schema,
    model: &Model,
    pool: &Pool,
    clear: bool,
    v: &[u8],
    a: u32,
) -> f64 {
    let layout = Layout::new(schema);
    let mut w = (model.lambda / (1.0 - model.lambda)).log2();
    let compared: Vec<usize> = schema
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.compare.is_some())
        .map(|(i, _)| i)
        .collect();
    // The compared schema fields, then the record-level filter (never term-frequency adjusted).
    for (k, (fm, &level)) in model.fields.iter().zip(v).enumerate() {
        if level == MISSING || level == SALT_DIFFERS {
            continue;
        }
        let lm = &fm.levels[level as usize];
        let mut u = lm.u;
        // Term-frequency adjusted when the schema asks for it and the field is not compared
        // within a salt.
        let adjusted = compared.get(k).is_some_and(|&fi| {
            schema.fields[fi]
                .compare
                .as_ref()
                .is_some_and(|c| c.term_frequency)
                && layout.fields[fi].token.is_some()
                && field_gate(schema, &layout, clear, fi).is_none()
        });
        assert_eq!(adjusted, fm.term_frequency, "{}", fm.field);
        if let (true, true, Some(&fi)) = (adjusted, lm.level == "exact", compared.get(k)) {
            let slot = layout.fields[fi].token;
            let mut counts: HashMap<Token, usize> = HashMap::new();
            let mut present = 0;
            for r in pool.records() {
                if let Some(t) = tok(r, slot) {
                    *counts.entry(t).or_default() += 1;
                    present += 1;
                }
            }
            let t = tok(pool.record(a), slot).unwrap_or_default();
            let freq = counts.get(&t).copied().unwrap_or(0) as f64 / present as f64;
            u = (freq as f32 as f64).clamp(1e-6, 1.0 - 1e-6);
        }
        w += (lm.m / u).log2();
    }
    w
}
