//! Tests of the person index: stable ids across adds, merges in the log, withdrawal, refusal of
//! foreign extracts, rebuilding, and `match_record` agreeing with `add`. (The crash test kills
//! the CLI mid-add: `cli/tests/e2e/index.rs`.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::run::{encode_file, EncodeOptions, RunControl};
use crate::{Encoder, Secret};

const SECRET: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// Synthetic extracts: agency a whole, agency b in two halves (`b1` first, `b2` later), each
/// encoded with its manifest.
struct Setup {
    dir: tempfile::TempDir,
    schema: Schema,
}

impl Setup {
    fn new(people: usize, seed: u64, duplicate_rate: f64) -> Setup {
        use pseudolink_synth::{generate, SynthConfig};
        let data = generate(&SynthConfig {
            people,
            seed,
            duplicate_rate,
            ..SynthConfig::default()
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let schema = Schema::example();
        let secret = Secret::from_hex(SECRET).unwrap();
        let encoder = Encoder::new(&schema, &secret);
        let csv = |rows: &[pseudolink_synth::SynthRecord]| {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([
                "record_id",
                "first_name",
                "middle_name",
                "last_name",
                "date_of_birth",
                "sex",
                "postcode",
                "address_line_1",
                "nhs_number",
            ])
            .unwrap();
            for r in rows {
                w.write_record([
                    &r.record_id,
                    &r.first_name,
                    &r.middle_name,
                    &r.last_name,
                    &r.date_of_birth,
                    &r.sex,
                    &r.postcode,
                    &r.address_line_1,
                    &r.nhs_number,
                ])
                .unwrap();
            }
            w.into_inner().unwrap()
        };
        let a = &data.extracts[0].1;
        let b = &data.extracts[1].1;
        let half = b.len() / 2;
        for (name, rows) in [("a", &a[..]), ("b1", &b[..half]), ("b2", &b[half..])] {
            let raw = dir.path().join(format!("{name}.csv"));
            std::fs::write(&raw, csv(rows)).unwrap();
            let out = dir.path().join(format!("{name}.enc.csv"));
            encode_file(
                &encoder,
                &raw,
                &out,
                &EncodeOptions::default(),
                &RunControl::default(),
            )
            .unwrap();
        }
        Setup { dir, schema }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn create(&self, folder: &str) -> PersonIndex {
        let options = CreateOptions {
            inputs: vec![self.path("a.enc.csv"), self.path("b1.enc.csv")],
            sources: vec!["a".into(), "b".into()],
            ..CreateOptions::default()
        };
        PersonIndex::create(&self.path(folder), &self.schema, options)
            .unwrap()
            .0
    }
}

fn by_record(members: &[Member]) -> BTreeMap<(String, String), String> {
    members
        .iter()
        .map(|m| ((m.source.clone(), m.record_id.clone()), m.person_id.clone()))
        .collect()
}

/// Follows the merge log from `id` to the person it ended in.
fn surviving(merges: &[Merge], id: &str) -> String {
    let mut id = id.to_string();
    while let Some(m) = merges.iter().find(|m| m.retired == id) {
        id = m.surviving.clone();
    }
    id
}

#[test]
fn ids_stay_stable_across_adds_and_every_change_is_a_logged_merge() {
    let s = Setup::new(600, 11, 0.1);
    let mut index = s.create("idx");
    let before = by_record(&index.export().unwrap());
    let report = index.add_file(&s.path("b2.enc.csv"), Some("b")).unwrap();
    let after = by_record(&index.export().unwrap());
    let merges = index.merges().unwrap();
    assert!(!merges.is_empty(), "duplicates within a source make merges");
    assert_eq!(report.merges, merges);
    for (record, old) in &before {
        let new = &after[record];
        assert_eq!(
            new,
            &surviving(&merges, old),
            "{record:?} changed id without a logged merge"
        );
    }
    for m in &merges {
        assert!(m.surviving < m.retired, "the older id survives: {m:?}");
        assert!(!m.evidence.is_empty());
        assert!(m.evidence.iter().all(|e| e.probability >= 0.9));
        assert!(!after.values().any(|p| p == &m.retired));
    }
    // Every record of b2 got an id; the records are all there, once.
    assert_eq!(report.assignments.len() + before.len(), after.len());
    for a in &report.assignments {
        let id = a.person_id.as_deref().unwrap();
        assert_eq!(
            after[&(a.source.clone(), a.record_id.clone())],
            surviving(&merges, id)
        );
        match a.band {
            AssignBand::Match => assert!(a.match_probability.unwrap() >= 0.9),
            AssignBand::Review => {
                let p = a.match_probability.unwrap();
                assert!((0.5..0.9).contains(&p), "{p}");
                assert!(a.candidate_person_id.is_some());
            }
            AssignBand::New => assert!(a.match_probability.is_none()),
        }
    }
    assert!(report
        .assignments
        .iter()
        .any(|a| a.band == AssignBand::Match));
    // The log files show the same.
    let log = std::fs::read_to_string(s.path("idx").join(MERGES_FILE)).unwrap();
    assert_eq!(log.lines().count(), merges.len() + 1);
    assert!(log.contains(&format!("{},{}", merges[0].retired, merges[0].surviving)));
    // A second add of other records keeps every id again.
    let before = after;
    let more = index.export().unwrap().len();
    assert_eq!(more, before.len());
}

#[test]
fn the_same_inputs_in_the_same_order_give_the_same_ids() {
    let s = Setup::new(300, 5, 0.1);
    let mut one = s.create("one");
    let mut two = s.create("two");
    one.add_file(&s.path("b2.enc.csv"), Some("b")).unwrap();
    two.add_file(&s.path("b2.enc.csv"), Some("b")).unwrap();
    assert_eq!(one.export().unwrap(), two.export().unwrap());
    let strip = |m: Vec<Merge>| -> Vec<(String, String)> {
        m.into_iter().map(|m| (m.retired, m.surviving)).collect()
    };
    assert_eq!(strip(one.merges().unwrap()), strip(two.merges().unwrap()));
}

#[test]
fn match_record_answers_as_add_would() {
    let s = Setup::new(300, 8, 0.0);
    let mut index = s.create("idx");
    let extract = read_encoded(&s.path("b2.enc.csv"), &s.schema, ReadOptions::default()).unwrap();
    let mut seen = [0usize; 3];
    for r in extract.records.iter().take(40) {
        let asked = index.match_record("b", r).unwrap();
        let added = index
            .add_records("b", vec![r.clone()], None)
            .unwrap()
            .assignments
            .remove(0);
        assert_eq!(asked.band, added.band, "{}", r.id);
        assert_eq!(asked.match_probability, added.match_probability);
        match asked.person_id {
            Some(p) => assert_eq!(Some(p), added.person_id),
            None => assert_ne!(asked.band, AssignBand::Match),
        }
        seen[asked.band as usize] += 1;
    }
    assert!(seen[AssignBand::Match as usize] > 0, "{seen:?}");
}

#[test]
fn a_record_already_in_the_index_or_repeated_is_refused_and_nothing_changes() {
    let s = Setup::new(200, 3, 0.0);
    let mut index = s.create("idx");
    let n = index.len().unwrap();
    let e = index
        .add_file(&s.path("b1.enc.csv"), Some("b"))
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Input { .. }), "{msg}");
    assert!(
        msg.contains("b1.enc.csv") && msg.contains("line 2") && msg.contains("record_id"),
        "{msg}"
    );
    assert_eq!(index.len().unwrap(), n);
    // Under another source name the same ids are other records.
    index.add_file(&s.path("b1.enc.csv"), Some("c")).unwrap();
    assert!(index.len().unwrap() > n);
}

#[test]
fn extracts_of_another_secret_or_schema_are_refused() {
    let s = Setup::new(200, 4, 0.0);
    let mut index = s.create("idx");
    let n = index.len().unwrap();
    let other = Secret::generate().unwrap();
    let foreign = s.path("foreign.enc.csv");
    encode_file(
        &Encoder::new(&s.schema, &other),
        &s.path("b2.csv"),
        &foreign,
        &EncodeOptions::default(),
        &RunControl::default(),
    )
    .unwrap();
    let e = index.add_file(&foreign, None).unwrap_err();
    assert!(matches!(e, Error::Mismatch(_)), "{e}");
    assert!(e.to_string().contains("key check value"), "{e}");

    let mut json: serde_json::Value = serde_json::from_str(Schema::example_json()).unwrap();
    json["fields"][3]["normalise"]["century_pivot"] = 30.into();
    let schema2 = Schema::from_json(&json.to_string()).unwrap();
    assert_ne!(schema2.fingerprint(), s.schema.fingerprint());
    let secret = Secret::from_hex(SECRET).unwrap();
    let other_schema = s.path("schema2.enc.csv");
    encode_file(
        &Encoder::new(&schema2, &secret),
        &s.path("b2.csv"),
        &other_schema,
        &EncodeOptions::default(),
        &RunControl::default(),
    )
    .unwrap();
    let e = index.add_file(&other_schema, None).unwrap_err();
    assert!(matches!(e, Error::Mismatch(_)), "{e}");
    assert!(e.to_string().contains("schema"), "{e}");
    assert_eq!(index.len().unwrap(), n);
    assert_eq!(index.sources(), ["a", "b"]);
}

#[test]
fn a_withdrawn_record_leaves_no_trace() {
    let s = Setup::new(600, 11, 0.1);
    let mut index = s.create("idx");
    index.add_file(&s.path("b2.enc.csv"), Some("b")).unwrap();
    let merges = index.merges().unwrap();
    let rows: Vec<(String, String)> =
        [("a", "a.enc.csv"), ("b", "b1.enc.csv"), ("b", "b2.enc.csv")]
            .iter()
            .flat_map(|(source, f)| {
                std::fs::read_to_string(s.path(f))
                    .unwrap()
                    .lines()
                    .skip(1)
                    .map(|l| (source.to_string(), l.to_string()))
                    .collect::<Vec<_>>()
            })
            .collect();
    // A record named in merge evidence with a cell no other record holds (duplicates may share
    // every cell but the id).
    let mut chosen = None;
    'search: for m in &merges {
        for e in &m.evidence {
            for named in [&e.a, &e.b] {
                let (source, id) = named.split_once(':').unwrap();
                let Some((_, row)) = rows
                    .iter()
                    .find(|(s, l)| s == source && l.starts_with(&format!("{id},")))
                else {
                    continue;
                };
                let own = row.split(',').skip(1).find(|c| {
                    c.len() >= 16 && !rows.iter().any(|(_, o)| o != row && o.contains(*c))
                });
                if let Some(cell) = own {
                    chosen = Some((named.clone(), cell.to_string()));
                    break 'search;
                }
            }
        }
    }
    let (named, token) = chosen.expect("a record of merge evidence with a cell of its own");
    let (source, id) = named.split_once(':').unwrap();
    let db = s.path("idx").join(INDEX_FILE);
    let contains = |path: &Path, needle: &str| {
        let bytes = std::fs::read(path).unwrap();
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
    };
    let n = index.len().unwrap();
    // Two withdrawals of one record: the second finds nothing and changes nothing.
    assert_eq!(index.remove(source, &[id.to_string()]).unwrap().removed, 1);
    let e = index.remove(source, &[id.to_string()]).unwrap_err();
    assert!(e.to_string().contains("not in the index"), "{e}");
    assert_eq!(index.len().unwrap(), n - 1);
    assert!(!index
        .export()
        .unwrap()
        .iter()
        .any(|m| m.source == source && m.record_id == id));
    for f in [MERGES_FILE, SPLITS_FILE] {
        assert!(!contains(&s.path("idx").join(f), &named), "{f}");
    }
    assert!(
        !contains(&db, &format!("{id},")),
        "the record's row is in the file"
    );
    assert!(!contains(&db, &token), "the record's token is in the file");
    drop(index);
    let reopened = PersonIndex::open(&s.path("idx")).unwrap();
    assert_eq!(reopened.len().unwrap(), n - 1);
}

#[test]
fn one_process_at_a_time_and_a_folder_without_index_is_named() {
    let s = Setup::new(100, 2, 0.0);
    let _index = s.create("idx");
    let e = PersonIndex::open(&s.path("idx")).unwrap_err();
    assert!(e.to_string().contains("in use"), "{e}");
    let e = PersonIndex::open(&s.path("nothing")).unwrap_err();
    assert!(e.to_string().contains("holds no person index"), "{e}");
    let options = CreateOptions {
        inputs: vec![s.path("a.enc.csv")],
        ..CreateOptions::default()
    };
    let e = PersonIndex::create(&s.path("idx"), &s.schema, options).unwrap_err();
    assert!(e.to_string().contains("already holds"), "{e}");
}

#[test]
fn source_names_come_from_file_names() {
    assert_eq!(source_name(Path::new("x/school.enc.csv")), "school");
    assert_eq!(source_name(Path::new("gp.encoded.csv")), "gp");
    assert_eq!(source_name(Path::new("police.csv")), "police");
    assert_eq!(source_name(Path::new(".csv")), ".csv");
}

#[test]
fn a_withdrawal_that_leaves_a_person_apart_lists_a_split_for_review() {
    // Duplicates within agency a join only through agency b's record: a-a pairs are not compared
    // when linking two sources, so withdrawing b's record leaves a's records unconnected.
    let s = Setup::new(600, 11, 0.1);
    let mut index = s.create("idx");
    let members = index.export().unwrap();
    let mut persons: BTreeMap<&str, Vec<&Member>> = BTreeMap::new();
    for m in &members {
        persons.entry(m.person_id.as_str()).or_default().push(m);
    }
    let of = |p: &[&Member], source: &str| p.iter().filter(|m| m.source == source).count();
    let (person, records) = persons
        .iter()
        .find(|(_, p)| of(p, "a") == 2 && of(p, "b") == 1)
        .expect("a person of two records of a and one of b");
    let bridge = records.iter().find(|m| m.source == "b").unwrap();
    let mut rest: Vec<String> = records
        .iter()
        .filter(|m| m.source == "a")
        .map(|m| format!("a:{}", m.record_id))
        .collect();
    rest.sort();
    let report = index
        .remove("b", std::slice::from_ref(&bridge.record_id))
        .unwrap();
    assert_eq!(report.removed, 1);
    assert_eq!(report.splits.len(), 1, "{:?}", report.splits);
    let split = &report.splits[0];
    assert_eq!(split.person, *person);
    assert_eq!(
        split.parts,
        vec![vec![rest[0].clone()], vec![rest[1].clone()]]
    );
    // Never split automatically: both keep the person id; and the list is in splits.csv.
    let after = by_record(&index.export().unwrap());
    for r in &rest {
        let (source, id) = r.split_once(':').unwrap();
        assert_eq!(after[&(source.to_string(), id.to_string())], *person);
    }
    assert!(index.splits().unwrap().contains(split));
    let listed = std::fs::read_to_string(s.path("idx").join(SPLITS_FILE)).unwrap();
    assert!(
        listed.contains(person) && listed.contains(&rest[0]),
        "{listed}"
    );

    // A person of two records, one withdrawn: nothing is left to hold together.
    let (_, pair) = persons
        .iter()
        .find(|(p, r)| *p != person && r.len() == 2)
        .expect("a person of two records");
    let report = index
        .remove(&pair[0].source, std::slice::from_ref(&pair[0].record_id))
        .unwrap();
    assert!(report.splits.is_empty(), "{:?}", report.splits);
}

#[test]
fn rows_that_cannot_be_added_go_to_the_rejects_with_line_field_and_reason() {
    let s = Setup::new(200, 3, 0.0);
    let mut index = s.create("idx");
    let n = index.len().unwrap();
    // Three rows already in the index, five new, one repeated. Without rejects nothing is added.
    let extract = read_encoded(&s.path("b1.enc.csv"), &s.schema, ReadOptions::default()).unwrap();
    let mut records = extract.records[..3].to_vec();
    let b2 = read_encoded(&s.path("b2.enc.csv"), &s.schema, ReadOptions::default()).unwrap();
    records.extend(b2.records[..5].iter().cloned());
    records.push(b2.records[0].clone());
    let file = s.path("month.enc.csv");
    assert!(index
        .add_records("b", records.clone(), Some(&file))
        .is_err());
    assert_eq!(index.len().unwrap(), n);
    let report = index
        .add_records_keeping_rejects("b", records, Some(&file))
        .unwrap();
    assert_eq!(report.rows(), 9);
    assert_eq!(report.assignments.len(), 5);
    let lines: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 3, 4, 10]);
    for r in &report.rejected {
        assert_eq!(r.reason, RejectReason::DuplicateRecordId);
        assert_eq!(r.field.as_deref(), Some("record_id"));
    }
    assert!(report.rejected[0].message.contains("already in the index"));
    assert!(report.rejected[3].message.contains("appears twice"));
    assert_eq!(report.rejected[3].record_id, b2.records[0].id);
    assert_eq!(index.len().unwrap(), n + 5);

    // From a file, to a rejects file (the format of `encode`'s), counts in = assigned + rejected.
    let rejects = s.path("b1.rejects.csv");
    let options = AddOptions {
        source: Some("b".into()),
        rejects: Rejects::File(rejects.clone()),
    };
    let report = index
        .add_file_to(&s.path("b1.enc.csv"), &s.path("assigned.csv"), &options)
        .unwrap();
    assert!(report.assignments.is_empty());
    assert_eq!(report.rejected.len(), extract.records.len());
    let text = std::fs::read_to_string(&rejects).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(REJECTS_HEADER));
    let first = lines.next().unwrap();
    assert!(
        first.starts_with("2,duplicate_record_id,record_id,")
            && first.ends_with(&format!(",{}", extract.records[0].id)),
        "{first}"
    );
    assert_eq!(lines.count() + 1, extract.records.len());
}

#[test]
fn create_reports_its_stages_and_storing_progress() {
    use std::sync::Mutex;
    let s = Setup::new(100, 5, 0.0);
    let seen: Mutex<Vec<(&'static str, u64, u64)>> = Mutex::new(Vec::new());
    let progress =
        |p: crate::control::Progress| seen.lock().unwrap().push((p.stage, p.done, p.total));
    let options = CreateOptions {
        inputs: vec![s.path("a.enc.csv"), s.path("b1.enc.csv")],
        control: RunControl::new().progress(&progress),
        ..CreateOptions::default()
    };
    let (_, report) = PersonIndex::create(&s.path("idx"), &s.schema, options).unwrap();
    let seen = seen.into_inner().unwrap();
    assert!(
        seen.iter().any(|(stage, _, _)| *stage == "comparing"),
        "{seen:?}"
    );
    assert_eq!(
        seen.last(),
        Some(&("storing", report.records, report.records))
    );
}

/// Entries of `blocks` and of `recent_blocks`.
fn block_entries(index: &PersonIndex) -> (u64, u64) {
    let txn = index.db.begin_read().unwrap();
    let old = txn.open_multimap_table(BLOCKS).unwrap().len().unwrap();
    let young = txn
        .open_multimap_table(RECENT_BLOCKS)
        .unwrap()
        .len()
        .unwrap();
    (old, young)
}

#[test]
fn recent_block_keys_give_the_same_persons_and_withdrawal_removes_them() {
    // `one` keeps its adds' block keys in `recent_blocks`; `two` moves them into `blocks` at
    // every add (past its limit, 0 here): the same persons and merges either way.
    let s = Setup::new(600, 11, 0.1);
    let mut one = s.create("one");
    let mut two = s.create("two");
    two.recent_limit = 0;
    let created = block_entries(&one);
    assert_eq!(created.1, 0, "create fills `blocks` only");
    let extract = read_encoded(&s.path("b2.enc.csv"), &s.schema, ReadOptions::default()).unwrap();
    let half = extract.records.len() / 2;
    for part in [&extract.records[..half], &extract.records[half..]] {
        let a = one.add_records("b", part.to_vec(), None).unwrap();
        let b = two.add_records("b", part.to_vec(), None).unwrap();
        assert_eq!(a.assignments, b.assignments);
        // Past the hard limit the add compacts itself and says so.
        assert!(b.compacted > 0 && b.recent_blocks == 0 && !b.compact_recommended);
        assert_eq!(a.compacted, 0);
    }
    assert_eq!(one.export().unwrap(), two.export().unwrap());
    let strip = |m: Vec<Merge>| -> Vec<(String, String)> {
        m.into_iter().map(|m| (m.retired, m.surviving)).collect()
    };
    assert_eq!(strip(one.merges().unwrap()), strip(two.merges().unwrap()));
    let (old, young) = block_entries(&one);
    assert_eq!(old, created.0, "adds leave `blocks` alone");
    assert!(young > 0);
    assert_eq!(block_entries(&two), (old + young, 0));

    // A record in `recent_blocks`, withdrawn: its keys leave with it, and the rewrite moves the
    // rest into `blocks`.
    let gone = &extract.records[0];
    let keys = block_keys(&one.schema, &one.layout, gone).len() as u64;
    one.remove("b", std::slice::from_ref(&gone.id)).unwrap();
    assert_eq!(block_entries(&one), (old + young - keys, 0));
    two.remove("b", std::slice::from_ref(&gone.id)).unwrap();
    assert_eq!(block_entries(&two), (old + young - keys, 0));
    let rest = extract.records[1..].to_vec();
    let a = one.match_record("c", &rest[0]).unwrap();
    assert_eq!(a, two.match_record("c", &rest[0]).unwrap());
}

#[test]
fn an_index_of_format_1_is_moved_to_format_2_when_opened() {
    let s = Setup::new(200, 3, 0.0);
    let index = s.create("idx");
    let n = index.len().unwrap();
    {
        // Back to what format 1 wrote: no `recent_blocks`, version 1.
        let mut settings = index.settings.clone();
        settings.format_version = 1;
        let txn = index.db.begin_write().unwrap();
        assert!(txn.delete_multimap_table(RECENT_BLOCKS).unwrap());
        txn.open_table(META)
            .unwrap()
            .insert("settings", json(&settings).unwrap().as_str())
            .unwrap();
        txn.commit().unwrap();
    }
    drop(index);
    let mut index = PersonIndex::open(&s.path("idx")).unwrap();
    assert_eq!(index.settings.format_version, INDEX_FORMAT_VERSION);
    assert_eq!(block_entries(&index).1, 0);
    index.add_file(&s.path("b2.enc.csv"), Some("b")).unwrap();
    assert!(index.len().unwrap() > n);
    drop(index);
    let index = PersonIndex::open(&s.path("idx")).unwrap();
    assert!(block_entries(&index).1 > 0);
}

#[test]
fn adds_below_and_above_the_bound_do_not_move_and_compact_changes_no_answer() {
    let s = Setup::new(600, 13, 0.1);
    let mut index = s.create("idx");
    index.recent_bound = 50;
    let created = block_entries(&index);
    let extract = read_encoded(&s.path("b2.enc.csv"), &s.schema, ReadOptions::default()).unwrap();
    let half = extract.records.len() / 2;
    // Below the bound: kept in `recent_blocks`, no recommendation.
    let few = index
        .add_records("b", extract.records[..2].to_vec(), None)
        .unwrap();
    assert!(few.recent_blocks > 0 && few.recent_blocks <= 50);
    assert!(!few.compact_recommended);
    assert_eq!(few.compacted, 0);
    assert_eq!(block_entries(&index), (created.0, few.recent_blocks));
    // Above it: still not moved, but compaction recommended.
    let more = index
        .add_records("b", extract.records[2..half].to_vec(), None)
        .unwrap();
    assert!(more.recent_blocks > 50);
    assert!(more.compact_recommended);
    assert_eq!(more.compacted, 0);
    assert_eq!(block_entries(&index), (created.0, more.recent_blocks));
    assert_eq!(index.recent_blocks().unwrap(), more.recent_blocks);

    let before = index.export().unwrap();
    let probe: Vec<Assignment> = extract.records[half..]
        .iter()
        .map(|r| index.match_record("b", r).unwrap())
        .collect();
    let progress = std::sync::Mutex::new(Vec::new());
    let report_progress = |p: crate::control::Progress| progress.lock().unwrap().push(p.done);
    let report = index
        .compact(&RunControl::new().progress(&report_progress))
        .unwrap();
    assert_eq!(report.moved, more.recent_blocks);
    assert_eq!(report.blocks, created.0 + more.recent_blocks);
    assert_eq!(progress.lock().unwrap().last(), Some(&report.moved));
    assert_eq!(block_entries(&index), (report.blocks, 0));
    assert_eq!(index.export().unwrap(), before);
    for (r, p) in extract.records[half..].iter().zip(&probe) {
        assert_eq!(&index.match_record("b", r).unwrap(), p);
    }
    // Nothing left to move: nothing written.
    assert_eq!(index.compact(&RunControl::new()).unwrap().moved, 0);

    // The rest added to the compacted index and to a copy never compacted: the same persons.
    let mut other = s.create("other");
    other.recent_bound = 50;
    other
        .add_records("b", extract.records[..2].to_vec(), None)
        .unwrap();
    other
        .add_records("b", extract.records[2..half].to_vec(), None)
        .unwrap();
    let a = index
        .add_records("b", extract.records[half..].to_vec(), None)
        .unwrap();
    let b = other
        .add_records("b", extract.records[half..].to_vec(), None)
        .unwrap();
    assert_eq!(a.assignments, b.assignments);
    assert_eq!(index.export().unwrap(), other.export().unwrap());
    drop(index);
    let index = PersonIndex::open(&s.path("idx")).unwrap();
    assert_eq!(index.recent_blocks().unwrap(), a.recent_blocks);

    // Cancelled: nothing changes.
    let mut other = other;
    let cancel = std::sync::atomic::AtomicBool::new(true);
    let recent = other.recent_blocks().unwrap();
    assert!(matches!(
        other.compact(&RunControl::new().cancel(&cancel)),
        Err(Error::Cancelled)
    ));
    assert_eq!(other.recent_blocks().unwrap(), recent);
}

/// `Setup`'s schema with competing links on or off.
fn with_competition(schema: &Schema, on: bool) -> Schema {
    let mut json: serde_json::Value = serde_json::to_value(schema).unwrap();
    json["link"]["competition"] = serde_json::json!(on);
    Schema::from_json(&json.to_string()).unwrap()
}

#[test]
fn an_add_weighs_competing_links_as_link_does_on_its_pool() {
    use crate::link::competition::{standings, Standing};
    use crate::link::Pool;
    let s = Setup::new(300, 5, 0.1);
    let schema = with_competition(&s.schema, true);
    let options = CreateOptions {
        inputs: vec![s.path("a.enc.csv"), s.path("b1.enc.csv")],
        sources: vec!["a".into(), "b".into()],
        ..CreateOptions::default()
    };
    let (index, _) = PersonIndex::create(&s.path("idx"), &schema, options).unwrap();
    let c = index
        .model()
        .competition
        .clone()
        .expect("trained with competing links");
    assert!(c.weight(Standing::Outranked) < 0.0);

    // A pool as an add builds it: stored records of both sources and new ones of b.
    let read = |f: &str| read_encoded(&s.path(f), &schema, ReadOptions::default()).unwrap();
    let (a, b1, b2) = (read("a.enc.csv"), read("b1.enc.csv"), read("b2.enc.csv"));
    let pool = || {
        let b: Vec<_> = b1.records.iter().chain(&b2.records).cloned().collect();
        let mut p = Pool::new(
            vec![("a".into(), a.records.clone()), ("b".into(), b)],
            index.layout.n_blooms,
        )
        .unwrap();
        p.prepare(&schema);
        p
    };
    let score = |model: &Model| {
        let ctx = assign::Context {
            schema: &schema,
            layout: &index.layout,
            model,
            settings: &index.settings,
            path: &index.path,
        };
        assign::score(&ctx, &pool()).unwrap()
    };
    let (pairs, weights) = score(index.model());
    let mut plain = index.model().clone();
    plain.competition = None;
    let (plain_pairs, plain_weights) = score(&plain);
    assert_eq!(pairs, plain_pairs);
    let standing = standings(&pool(), &pairs, &plain_weights);
    for ((w, w0), st) in weights.iter().zip(&plain_weights).zip(&standing) {
        assert_eq!(*w, w0 + c.weight(*st));
    }
    assert!(
        standing.contains(&Standing::Outranked),
        "some pair is outranked"
    );

    // `link` with the index's model on the same pool scores the same review pairs alike.
    let linked = crate::link::link_pool(
        &schema,
        pool(),
        false,
        LinkOptions {
            model: Some(index.model().clone()),
            ..LinkOptions::default()
        },
        &RunControl::default(),
    )
    .unwrap();
    assert_eq!(linked.review_pairs, pairs);
    assert_eq!(linked.review_weights, weights);
}
