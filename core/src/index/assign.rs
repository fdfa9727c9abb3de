//! Assigning new records to the persons of the index, with the link stages of [`crate::link`].
//!
//! 1. **Candidates**: the stored records sharing a block key ([`super::store::BlockKeys`]) with
//!    a new record, skipping keys held by more than the schema's `max_block_size` records (as
//!    blocking skips oversized blocks);
//! 2. **Persons**: every record of every person a candidate belongs to, so that the clustering
//!    guard sees whole persons;
//! 3. those records and the new ones are pooled ([`Pool`]) by source, as `link` pools its
//!    inputs, and blocked, compared and scored with the stored model (`block`, `compare`,
//!    `model::Scorer`), competing links included when the model has them (standings among the
//!    pairs of this pool: a stored record's pairs with records outside it are not seen);
//! 4. **Clustering** (`resolve::cluster_seeded`): the stored persons are the starting clusters,
//!    so they can only grow or merge, never split; a merge is refused by the same guard as in
//!    `link` unless the pairs across the two clusters are mostly supported;
//! 5. **Decisions**: a cluster holding one stored person gives its id to the new records that
//!    joined it; several stored persons are merged into the oldest; a cluster of new records only
//!    is a new person. The same pairs clustered from single records (`resolve::cluster`) tell
//!    where the evidence would now divide a stored person: listed as a split for review.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use redb::{ReadableMultimapTable, ReadableTable};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::encode::layout::Layout;
use crate::encode::EncodedRecord;
use crate::error::Result;
use crate::link::block;
use crate::link::compare::Comparator;
use crate::link::model::{Model, Scorer};
use crate::link::pool::{pack_pair, unpack_pair, Pool};
use crate::link::probability::probability;
use crate::link::resolve::{self, ScoredPairs};
use crate::link::term_frequency::TermFrequencies;
use crate::schema::Schema;

use super::store::{parse_rows, store_error, BlockKeys, Evidence, Settings, MAX_EVIDENCE};
use super::AssignBand;

/// A person: one already in the index (its number), or the `k`-th new one of this batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum PersonRef {
    Existing(u64),
    New(u64),
}

/// The decision for one new record.
#[derive(Debug, Clone)]
pub(crate) struct Decision {
    pub person: PersonRef,
    pub band: AssignBand,
    pub probability: Option<f64>,
    pub candidate: Option<PersonRef>,
}

/// What a batch of new records does to the index.
#[derive(Debug, Clone, Default)]
pub(crate) struct Planned {
    /// Per new record, in input order.
    pub decisions: Vec<Decision>,
    /// New persons made (`PersonRef::New(0..new_persons)`).
    pub new_persons: u64,
    /// (retired, surviving, evidence), person numbers.
    pub merges: Vec<(u64, u64, Vec<Evidence>)>,
    /// (person, parts as `source:record_id`).
    pub splits: Vec<(u64, Vec<Vec<String>>)>,
}

/// Where a pooled record comes from.
#[derive(Debug, Clone, Copy)]
enum Origin {
    Stored { person: u64, source: u16 },
    New(usize),
}

/// What [`plan`] reads besides the tables.
pub(crate) struct Context<'a> {
    pub schema: &'a Schema,
    pub layout: &'a Layout,
    pub model: &'a Model,
    pub settings: &'a Settings,
    /// The index file, for messages.
    pub path: &'a std::path::Path,
}

type RecordValue = (u64, u16, &'static str, &'static [u8]);

/// Decides where the records `new` of source number `source` go (see the module documentation).
/// Reads the tables, writes nothing.
pub(crate) fn plan(
    ctx: &Context<'_>,
    records: &impl ReadableTable<u64, RecordValue>,
    persons: &impl ReadableMultimapTable<u64, u64>,
    blocks: &impl ReadableMultimapTable<u64, u64>,
    recent: &impl ReadableMultimapTable<u64, u64>,
    source: u16,
    new: &[EncodedRecord],
) -> Result<Planned> {
    let err = |e: redb::StorageError| store_error("read", ctx.path, e);
    if new.is_empty() {
        return Ok(Planned::default());
    }
    // 1. Candidates. The keys and records are looked up in order, so that neighbouring lookups
    // share the store's pages.
    let max = ctx.schema.link.max_block_size as u64;
    let keys_of = BlockKeys::new(ctx.schema, ctx.layout);
    let mut keys: Vec<u64> = new.iter().flat_map(|r| keys_of.of(r)).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut candidates: Vec<u64> = Vec::new();
    for k in keys {
        // A key's records: those of `blocks` and of `recent_blocks` (see `store`).
        let (old, young) = (blocks.get(k).map_err(err)?, recent.get(k).map_err(err)?);
        if old.len() + young.len() > max {
            continue;
        }
        for v in old.chain(young) {
            candidates.push(v.map_err(err)?.value());
        }
    }
    candidates.sort_unstable();
    candidates.dedup();
    // 2. Their persons, whole.
    let mut touched: BTreeSet<u64> = BTreeSet::new();
    for c in &candidates {
        if let Some(g) = records.get(*c).map_err(err)? {
            touched.insert(g.value().0);
        }
    }
    let mut members: BTreeSet<u64> = BTreeSet::new();
    for p in &touched {
        for v in persons.get(*p).map_err(err)? {
            members.insert(v.map_err(err)?.value());
        }
    }
    let mut stored_rows = Vec::with_capacity(members.len());
    let mut stored_origin = Vec::with_capacity(members.len());
    for no in &members {
        let g = records
            .get(*no)
            .map_err(err)?
            .ok_or_else(|| store_error("read", ctx.path, "a person lists a missing record"))?;
        let (person, src, _, row) = g.value();
        stored_rows.push(row.to_vec());
        stored_origin.push(Origin::Stored {
            person,
            source: src,
        });
    }
    let stored = parse_rows(ctx.layout, &stored_rows, ctx.path)?;
    drop(stored_rows);

    // 3. The pool: by source as `link` pools its inputs (one source when deduplicating).
    let n_sources = if ctx.settings.dedupe {
        1
    } else {
        ctx.settings.sources.len()
    };
    let slot = |s: u16| if ctx.settings.dedupe { 0 } else { s as usize };
    let mut per: Vec<Vec<(Origin, EncodedRecord)>> = (0..n_sources).map(|_| Vec::new()).collect();
    for (o, r) in stored_origin.into_iter().zip(stored) {
        if let Origin::Stored { source: s, .. } = o {
            per[slot(s).min(n_sources - 1)].push((o, r));
        }
    }
    for (k, r) in new.iter().enumerate() {
        per[slot(source).min(n_sources - 1)].push((Origin::New(k), r.clone()));
    }
    let mut origins = Vec::new();
    let mut sources = Vec::with_capacity(n_sources);
    for (s, v) in per.into_iter().enumerate() {
        let name = if ctx.settings.dedupe {
            "index".to_string()
        } else {
            ctx.settings.sources[s].clone()
        };
        let mut recs = Vec::with_capacity(v.len());
        for (o, r) in v {
            origins.push(o);
            recs.push(r);
        }
        sources.push((name, recs));
    }
    let mut pool = Pool::new(sources, ctx.layout.n_blooms)?;
    pool.prepare(ctx.schema);
    let name_of = |i: u32| -> String {
        let src = match origins[i as usize] {
            Origin::Stored { source, .. } => source,
            Origin::New(_) => source,
        };
        let s = ctx
            .settings
            .sources
            .get(src as usize)
            .map_or("?", String::as_str);
        format!("{s}:{}", pool.record(i).id)
    };

    // Block, compare, score with the stored model.
    let (pairs, weights) = score(ctx, &pool)?;
    let sp = ScoredPairs {
        pairs: &pairs,
        weights: &weights,
    };
    let review = ctx.settings.review_threshold;
    let threshold = ctx.settings.threshold;

    // 4. Clustering from the stored persons.
    let group_of_person: FxHashMap<u64, u32> = touched
        .iter()
        .enumerate()
        .map(|(g, p)| (*p, g as u32 + 1))
        .collect();
    let seed: Vec<u32> = origins
        .iter()
        .map(|o| match o {
            Origin::Stored { person, .. } => group_of_person.get(person).copied().unwrap_or(0),
            Origin::New(_) => 0,
        })
        .collect();
    let support = ctx.settings.cluster_support;
    let seeded = resolve::cluster_seeded(&pool, sp, threshold, review, support, &seed);

    // 5. Decisions. A record's final group: its cluster, or itself alone.
    let n = pool.len();
    let group = |i: usize| -> i64 {
        match seeded.cluster_of[i] {
            0 => -(i as i64) - 1,
            c => i64::from(c),
        }
    };
    let mut persons_of_group: BTreeMap<i64, BTreeSet<u64>> = BTreeMap::new();
    let mut has_new: FxHashSet<i64> = FxHashSet::default();
    for (i, o) in origins.iter().enumerate() {
        match o {
            Origin::Stored { person, .. } => {
                persons_of_group
                    .entry(group(i))
                    .or_default()
                    .insert(*person);
            }
            Origin::New(_) => {
                has_new.insert(group(i));
            }
        }
    }
    let mut out = Planned::default();
    let mut target: FxHashMap<i64, PersonRef> = FxHashMap::default();
    for (g, ps) in &persons_of_group {
        let mut it = ps.iter();
        let Some(&surviving) = it.next() else {
            continue;
        };
        target.insert(*g, PersonRef::Existing(surviving));
        let retired: Vec<u64> = it.copied().collect();
        if retired.is_empty() {
            continue;
        }
        let label = |i: u32| -> (u8, u64) {
            match origins[i as usize] {
                Origin::Stored { person, .. } => (0, person),
                Origin::New(k) => (1, k as u64),
            }
        };
        let mut joining: Vec<(f64, u32, u32)> = (0..pairs.len())
            .filter_map(|k| {
                let (a, b) = unpack_pair(pairs[k]);
                (group(a as usize) == *g
                    && group(b as usize) == *g
                    && label(a) != label(b)
                    && sp.probability(k) >= threshold)
                    .then_some((weights[k], a, b))
            })
            .collect();
        joining.sort_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
        let evidence: Vec<Evidence> = joining
            .iter()
            .take(MAX_EVIDENCE)
            .map(|(w, a, b)| Evidence {
                a: name_of(*a),
                b: name_of(*b),
                probability: probability(*w),
            })
            .collect();
        for r in retired {
            out.merges.push((r, surviving, evidence.clone()));
        }
    }
    // New persons, numbered in the order of their first new record.
    let index_of_new: Vec<usize> = {
        let mut v = vec![0usize; new.len()];
        for (i, o) in origins.iter().enumerate() {
            if let Origin::New(k) = o {
                v[*k] = i;
            }
        }
        v
    };
    for &i in &index_of_new {
        let g = group(i);
        if let std::collections::hash_map::Entry::Vacant(e) = target.entry(g) {
            e.insert(PersonRef::New(out.new_persons));
            out.new_persons += 1;
        }
    }
    // Best pair of each new record inside its group, and outside it.
    let mut best_in: Vec<Option<f64>> = vec![None; n];
    let mut best_out: Vec<Option<(f64, u32)>> = vec![None; n];
    for k in 0..pairs.len() {
        let (a, b) = unpack_pair(pairs[k]);
        let w = weights[k];
        for (x, y) in [(a, b), (b, a)] {
            if !matches!(origins[x as usize], Origin::New(_)) {
                continue;
            }
            if group(x as usize) == group(y as usize) {
                let e = &mut best_in[x as usize];
                if e.is_none_or(|v| w > v) {
                    *e = Some(w);
                }
            } else {
                let e = &mut best_out[x as usize];
                if e.is_none_or(|(v, _)| w > v) {
                    *e = Some((w, y));
                }
            }
        }
    }
    for &i in &index_of_new {
        let g = group(i);
        let person = target[&g];
        let decision = if seeded.cluster_of[i] != 0 {
            Decision {
                person,
                band: AssignBand::Match,
                probability: best_in[i].map(probability),
                candidate: None,
            }
        } else if let Some((w, y)) = best_out[i] {
            Decision {
                person,
                band: AssignBand::Review,
                probability: Some(probability(w)),
                candidate: target.get(&group(y as usize)).copied(),
            }
        } else {
            Decision {
                person,
                band: AssignBand::New,
                probability: None,
                candidate: None,
            }
        };
        out.decisions.push(decision);
    }

    // Splits: stored persons of the groups new records joined, divided by plain clustering.
    let plain = resolve::cluster(&pool, sp, threshold, review, support);
    let mut listed: BTreeSet<u64> = BTreeSet::new();
    for g in &has_new {
        if let Some(ps) = persons_of_group.get(g) {
            listed.extend(ps.iter().copied());
        }
    }
    for p in listed {
        let mut parts: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (i, o) in origins.iter().enumerate() {
            if let Origin::Stored { person, .. } = o {
                if *person == p {
                    let label = match plain.cluster_of[i] {
                        0 => -(i as i64) - 1,
                        c => i64::from(c),
                    };
                    parts.entry(label).or_default().push(name_of(i as u32));
                }
            }
        }
        if parts.len() > 1 {
            let mut parts: Vec<Vec<String>> = parts.into_values().collect();
            for part in &mut parts {
                part.sort();
            }
            parts.sort();
            out.splits.push((p, parts));
        }
    }
    Ok(out)
}

/// The pairs of `pool` that blocking gives, compared and scored with the stored model, kept when
/// at or above the review threshold: packed pairs (sorted) and their match weights, with the
/// model's competing-links weights added as [`crate::link::link_pool`] adds them.
pub(crate) fn score(ctx: &Context<'_>, pool: &Pool) -> Result<(Vec<u64>, Vec<f64>)> {
    let comparator = Comparator::new(ctx.schema, false)?;
    ctx.model.check_fits(ctx.schema, &comparator)?;
    let scorer = Scorer::new(
        ctx.model,
        &comparator,
        TermFrequencies::new(pool, &comparator),
    );
    let blocking = block::candidate_pairs(ctx.schema, pool, None)?;
    let review = ctx.settings.review_threshold;
    let mut scored: Vec<(u64, f64)> = blocking
        .plan
        .tasks()
        .par_iter()
        .map(|t| {
            let mut levels = vec![0u8; comparator.n_fields()];
            let mut out = Vec::new();
            blocking.plan.for_each_pair(pool, t, |a, ra, b, rb| {
                comparator.compare_rows(pool, (a, ra), (b, rb), &mut levels);
                let w = scorer.weight(&levels, a);
                if probability(w) >= review {
                    out.push((pack_pair(a, b), w));
                }
            });
            out
        })
        .flatten()
        .collect();
    scored.par_sort_unstable_by_key(|x| x.0);
    let (pairs, mut weights): (Vec<u64>, Vec<f64>) = scored.into_iter().unzip();
    // Competing links, as `link` weighs them: standings among the pairs of this pool (the new
    // records and the whole persons they touch), read before any weight is added.
    if let Some(c) = ctx.model.competition.as_ref().filter(|_| !pool.is_dedupe()) {
        c.apply(pool, &pairs, &mut weights);
    }
    Ok((pairs, weights))
}

/// The parts the records `members` of one person (each with its source number) fall into when
/// only pairs at or above the match threshold join them (connected components; pairs found and
/// scored as [`plan`] finds them), each part as sorted `source:record_id`s, the parts sorted.
/// One part when the evidence still holds the person together.
pub(crate) fn connected_parts(
    ctx: &Context<'_>,
    members: Vec<(u16, EncodedRecord)>,
) -> Result<Vec<Vec<String>>> {
    let n_sources = if ctx.settings.dedupe {
        1
    } else {
        ctx.settings.sources.len().max(1)
    };
    let slot = |s: u16| {
        if ctx.settings.dedupe {
            0
        } else {
            (s as usize).min(n_sources - 1)
        }
    };
    let source_name = |s: u16| {
        ctx.settings
            .sources
            .get(s as usize)
            .map_or("?", String::as_str)
            .to_string()
    };
    let mut per: Vec<Vec<(u16, EncodedRecord)>> = (0..n_sources).map(|_| Vec::new()).collect();
    for (s, r) in members {
        per[slot(s)].push((s, r));
    }
    let mut names = Vec::new();
    let mut sources = Vec::with_capacity(n_sources);
    for (s, v) in per.into_iter().enumerate() {
        let name = if ctx.settings.dedupe {
            "index".to_string()
        } else {
            source_name(s as u16)
        };
        let mut recs = Vec::with_capacity(v.len());
        for (src, r) in v {
            names.push(format!("{}:{}", source_name(src), r.id));
            recs.push(r);
        }
        sources.push((name, recs));
    }
    if names.len() < 2 {
        return Ok(vec![names]);
    }
    let mut pool = Pool::new(sources, ctx.layout.n_blooms)?;
    pool.prepare(ctx.schema);
    let (pairs, weights) = score(ctx, &pool)?;
    // Union-find over the links.
    let mut parent: Vec<usize> = (0..names.len()).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for (pair, w) in pairs.iter().zip(&weights) {
        if probability(*w) < ctx.settings.threshold {
            continue;
        }
        let (a, b) = unpack_pair(*pair);
        let (ra, rb) = (root(&mut parent, a as usize), root(&mut parent, b as usize));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut parts: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (i, name) in names.into_iter().enumerate() {
        let r = root(&mut parent, i);
        parts.entry(r).or_default().push(name);
    }
    let mut parts: Vec<Vec<String>> = parts.into_values().collect();
    for part in &mut parts {
        part.sort();
    }
    parts.sort();
    Ok(parts)
}
