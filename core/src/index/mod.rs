//! The person index: linked records kept by the linkage unit, each with a **stable person id**,
//! to which new encoded records are assigned as they come (`pseudolink index`).
//!
//! [`PersonIndex::create`] links encoded extracts as [`crate::run::link::link`] does and gives
//! every cluster (and every record left alone) a person id; [`PersonIndex::add_file`] assigns the
//! records of a new extract to the stored persons with the stored model (see `assign`);
//! [`PersonIndex::match_record`] asks where one record would go without storing it;
//! [`PersonIndex::remove`] withdraws records so that no trace of them is left in the index file;
//! [`PersonIndex::export`] lists every record's person id; [`PersonIndex::compact`] moves the
//! block keys of the records added since the last compaction into the main blocking table (a
//! separate step, so that adds stay fast; an add recommends it past [`RECENT_BLOCKS_BOUND`]).
//!
//! Invariants:
//! - a record's person id changes only when its person is merged into an older one, and every
//!   merge is logged (`merges.csv`: retired id, surviving id, when, evidence); persons are never
//!   split automatically: a person the evidence no longer holds together is listed in
//!   `splits.csv` for review;
//! - every change is one redb write transaction, so a crash or a kill leaves the last committed
//!   state, readable; a withdrawal then rewrites the file from scratch (under a temporary name,
//!   renamed into place) so that the withdrawn record's bytes are not left in free pages;
//! - the schema fingerprint, encoding version, extract format and key check value are fixed at
//!   creation, and extracts that differ are refused;
//! - the same inputs, added in the same order, give the same person ids: an index can be rebuilt
//!   from its inputs.
//!
//! ```no_run
//! use pseudolink::index::{CreateOptions, PersonIndex};
//! use pseudolink::Schema;
//! use std::path::Path;
//!
//! let schema = Schema::example();
//! let options = CreateOptions {
//!     inputs: vec!["school.enc.csv".into(), "family_hub.enc.csv".into()],
//!     ..CreateOptions::default()
//! };
//! let (mut index, _report) = PersonIndex::create(Path::new("index"), &schema, options).unwrap();
//! let added = index.add_file(Path::new("school_june.enc.csv"), None).unwrap();
//! for a in &added.assignments {
//!     println!("{} {} {:?}", a.record_id, a.person_id.as_deref().unwrap_or(""), a.band);
//! }
//! ```

mod assign;
mod store;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use redb::{
    Database, ReadableDatabase, ReadableMultimapTable, ReadableTable, ReadableTableMetadata,
};

use crate::control::{Progress, RunControl};
use crate::encode::layout::Layout;
use crate::encode::EncodedRecord;
use crate::error::{Error, Location, Result};
use crate::io::atomic::{write_atomic, AtomicFile};
use crate::io::encoded::{read_encoded, ReadOptions};
use crate::io::manifest::Manifest;
use crate::io::raw::RejectReason;
use crate::link::model::Model;
use crate::link::{Band, LinkOptions};
use crate::run::{RejectedRow, Rejects, REJECTS_HEADER};
use crate::schema::Schema;

use assign::{Context, PersonRef, Planned};
use store::{
    block_keys, person_id, row_of, store_error, BlockKeys, Counters, Settings, BLOCKS, IDS, MERGES,
    META, PERSONS, RECENT_BLOCKS, RECORDS, SPLITS,
};
pub use store::{
    Evidence, Merge, Split, INDEX_FORMAT, INDEX_FORMAT_VERSION, MAX_EVIDENCE, RECENT_BLOCKS_BOUND,
    RECENT_BLOCKS_LIMIT,
};

/// Entries moved by [`PersonIndex::compact`] between two progress reports (and cancel checks).
const COMPACT_CHUNK: u64 = 65_536;

/// Records stored by [`PersonIndex::create`] between two progress reports (and cancel checks).
const STORE_CHUNK: u32 = 65_536;

/// The index file inside the index folder.
pub const INDEX_FILE: &str = "index.redb";
/// The merge log inside the index folder.
pub const MERGES_FILE: &str = "merges.csv";
/// The list of persons to review for a split, inside the index folder.
pub const SPLITS_FILE: &str = "splits.csv";

/// How a record was assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum AssignBand {
    /// It links (at or above the match threshold) to the records of its person.
    Match,
    /// It was given a person of its own, but a pair in the review band links it to another
    /// person ([`Assignment::candidate_person_id`]): for clerical review.
    Review,
    /// Nothing links it: a new person.
    New,
}

impl AssignBand {
    /// `match`, `review` or `new`.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignBand::Match => "match",
            AssignBand::Review => "review",
            AssignBand::New => "new",
        }
    }
}

/// Where a record went (or would go).
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// The record's source.
    pub source: String,
    /// The record's id.
    pub record_id: String,
    /// Its person id; `None` only from [`PersonIndex::match_record`] when it would be a new
    /// person.
    pub person_id: Option<String>,
    /// The match probability of its best pair with its person's records ([`AssignBand::Match`])
    /// or with the candidate person's ([`AssignBand::Review`]).
    pub match_probability: Option<f64>,
    /// The band.
    pub band: AssignBand,
    /// For [`AssignBand::Review`]: the person it may belong to (`None` when that is another
    /// new person not stored, from [`PersonIndex::match_record`]).
    pub candidate_person_id: Option<String>,
}

impl Assignment {
    /// The assignment as a row of `assigned.csv` (no newline): `record_id,source,person_id,
    /// match_probability,band,candidate_person_id`, the probability with six decimals, absent
    /// values empty.
    pub fn csv_row(&self) -> String {
        let p = self
            .match_probability
            .map(|p| format!("{p:.6}"))
            .unwrap_or_default();
        let mut out = Vec::new();
        for (i, cell) in [
            self.record_id.as_str(),
            self.source.as_str(),
            self.person_id.as_deref().unwrap_or(""),
            p.as_str(),
            self.band.as_str(),
            self.candidate_person_id.as_deref().unwrap_or(""),
        ]
        .iter()
        .enumerate()
        {
            if i > 0 {
                out.push(b',');
            }
            crate::encode::record::write_csv_cell(cell, &mut out);
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// What [`PersonIndex::add_file`] and [`PersonIndex::add_records`] did.
#[derive(Debug, Clone, Default)]
pub struct AddReport {
    /// One per record added, in input order.
    pub assignments: Vec<Assignment>,
    /// Persons made.
    pub new_persons: u64,
    /// Merges made (also in `merges.csv`).
    pub merges: Vec<Merge>,
    /// Persons listed for review (also in `splits.csv`).
    pub splits: Vec<Split>,
    /// The rows not added, in input order, when rejects were kept ([`AddOptions::rejects`]): a
    /// record id repeated in the extract, or one its source already has in the index (reason
    /// `duplicate_record_id`, field `record_id`). Rows read = assignments + rejected.
    pub rejected: Vec<RejectedRow>,
    /// Entries of the table of recent block keys after the add (0 if the add compacted).
    pub recent_blocks: u64,
    /// Whether that table holds more than [`RECENT_BLOCKS_BOUND`] entries: run
    /// [`PersonIndex::compact`] (`pseudolink index compact`) before the next add.
    pub compact_recommended: bool,
    /// Entries the add moved into the main blocking table itself because the recent table
    /// outgrew [`RECENT_BLOCKS_LIMIT`] (0 normally: adds leave that to
    /// [`PersonIndex::compact`]).
    pub compacted: u64,
}

/// What [`PersonIndex::compact`] did.
#[derive(Debug, Clone, Default)]
pub struct CompactReport {
    /// Block key entries moved from the recent table into the main blocking table (0: nothing
    /// to do, and nothing was written).
    pub moved: u64,
    /// Entries of the main blocking table after the compaction.
    pub blocks: u64,
}

impl AddReport {
    /// Rows of the extract: those assigned plus those rejected.
    pub fn rows(&self) -> u64 {
        (self.assignments.len() + self.rejected.len()) as u64
    }
}

/// Options of [`PersonIndex::add_file_with`] and [`PersonIndex::add_file_to`].
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// The source name of the new records; by default [`source_name`] of the file.
    pub source: Option<String>,
    /// Rows that cannot be added (see [`AddReport::rejected`]): the first stops the add with an
    /// error naming its file, line and field and nothing changes ([`Rejects::Fail`], the
    /// default); or they are set aside and the other rows added, kept in
    /// [`AddReport::rejected`] ([`Rejects::Keep`]) and also written to a file
    /// ([`Rejects::File`]: the rejects file of `pseudolink encode`, header
    /// [`REJECTS_HEADER`], written under a temporary name and put in place only when the index
    /// has committed).
    pub rejects: Rejects,
}

/// What [`PersonIndex::create`] made.
#[derive(Debug, Clone, Default)]
pub struct CreateReport {
    /// Records stored.
    pub records: u64,
    /// Persons.
    pub persons: u64,
    /// Sources, in input order.
    pub sources: Vec<String>,
}

/// What [`PersonIndex::remove`] did.
#[derive(Debug, Clone, Default)]
pub struct RemoveReport {
    /// Records removed.
    pub removed: u64,
    /// Persons listed for review (also in `splits.csv`): persons a withdrawn record belonged to
    /// whose other records the links at or above the match threshold no longer connect.
    pub splits: Vec<Split>,
}

/// One line of [`PersonIndex::export`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Member {
    /// The source.
    pub source: String,
    /// The record id.
    pub record_id: String,
    /// The person id.
    pub person_id: String,
}

/// Options of [`PersonIndex::create`].
#[derive(Default)]
pub struct CreateOptions<'a> {
    /// The encoded extracts, in order (each with its manifest): one to deduplicate, more to link.
    pub inputs: Vec<PathBuf>,
    /// Source names, one per input; by default each file's name without `.enc.csv`,
    /// `.encoded.csv` or `.csv`.
    pub sources: Vec<String>,
    /// Thresholds and clustering guard (`one_to_one` is refused: an index clusters).
    pub link: LinkOptions,
    /// A trained model; without one, a model is trained as `link` trains it.
    pub model: Option<Model>,
    /// Cancel flag (set to stop: nothing is written and [`Error::Cancelled`] returned),
    /// progress and timings: the stages of the linking (see [`Progress`]), then `storing`
    /// (`done` of `total` records written to the index).
    pub control: RunControl<'a>,
}

/// A person index in a folder (see the module documentation).
pub struct PersonIndex {
    dir: PathBuf,
    path: PathBuf,
    db: Database,
    settings: Settings,
    counters: Counters,
    schema: Schema,
    model: Model,
    layout: Layout,
    /// [`RECENT_BLOCKS_BOUND`] (lower in tests).
    recent_bound: u64,
    /// [`RECENT_BLOCKS_LIMIT`] (lower in tests).
    recent_limit: u64,
}

impl fmt::Debug for PersonIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonIndex")
            .field("dir", &self.dir)
            .field("sources", &self.settings.sources)
            .field("records", &self.counters.next_record)
            .finish_non_exhaustive()
    }
}

/// The source name of an extract file: its name without `.enc.csv`, `.encoded.csv` or `.csv`.
pub fn source_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for suffix in [".enc.csv", ".encoded.csv", ".csv"] {
        if let Some(stem) = name.strip_suffix(suffix) {
            if !stem.is_empty() {
                return stem.to_string();
            }
        }
    }
    name
}

/// The number of source `source` in `settings`, added when new (the name checked first).
fn source_number(settings: &mut Settings, source: &str) -> Result<u16> {
    check_source_name(source)?;
    let n = match settings.sources.iter().position(|s| s == source) {
        Some(s) => s,
        None => {
            settings.sources.push(source.to_string());
            settings.sources.len() - 1
        }
    };
    u16::try_from(n).map_err(|_| Error::Invalid("an index holds at most 65,535 sources".into()))
}

fn check_source_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains(':') || name.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "source name '{name}' must be non-empty, without ':' or control characters"
        )));
    }
    Ok(())
}

fn db_error(path: &Path, e: redb::DatabaseError) -> Error {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => store_error(
            "open",
            path,
            "the index is in use by another process (one command at a time)",
        ),
        other => store_error("open", path, other),
    }
}

impl PersonIndex {
    /// Links the encoded extracts of `options` under `schema` and stores them as a new index in
    /// `dir` (created if needed; refused if it already holds an index). Nothing is left in `dir`
    /// unless the whole creation succeeds.
    pub fn create(
        dir: &Path,
        schema: &Schema,
        options: CreateOptions<'_>,
    ) -> Result<(PersonIndex, CreateReport)> {
        if options.inputs.is_empty() {
            return Err(Error::Invalid("no input to create the index from".into()));
        }
        if options.link.one_to_one {
            return Err(Error::Invalid(
                "an index clusters its records: one-to-one assignment is not available".into(),
            ));
        }
        let path = dir.join(INDEX_FILE);
        if path.exists() {
            return Err(Error::Invalid(format!(
                "{} already holds a person index: add to it (pseudolink index add) or choose another folder",
                dir.display()
            )));
        }
        let names: Vec<String> = if options.sources.is_empty() {
            options.inputs.iter().map(|p| source_name(p)).collect()
        } else if options.sources.len() == options.inputs.len() {
            options.sources.clone()
        } else {
            return Err(Error::Invalid(format!(
                "{} source names for {} inputs",
                options.sources.len(),
                options.inputs.len()
            )));
        };
        for (i, n) in names.iter().enumerate() {
            check_source_name(n)?;
            if names[..i].contains(n) {
                return Err(Error::Invalid(format!(
                    "two inputs have the source name '{n}': rename one (or give --source names)"
                )));
            }
        }
        let manifests: Vec<Manifest> = options
            .inputs
            .iter()
            .map(|p| Manifest::read_for(p))
            .collect::<Result<_>>()?;
        let first = &manifests[0];
        let linked = crate::run::link(
            schema,
            crate::run::LinkRun {
                inputs: options
                    .inputs
                    .iter()
                    .map(|p| crate::run::LinkInput::EncodedFile(p.clone()))
                    .collect(),
                link: options.link.clone(),
                model: options.model.clone(),
                model_source: None,
                allow_unverified: false,
                agreement: None,
                purpose: None,
            },
            &options.control,
        )?;
        let linkage = linked.linkage();
        let pool = linkage.pool();
        let n = pool.len();
        let mut cluster_of = vec![0u32; n];
        for l in linkage.links() {
            if l.band == Band::Match && l.cluster != 0 {
                cluster_of[l.left as usize] = l.cluster;
                cluster_of[l.right as usize] = l.cluster;
            }
        }
        let settings = Settings {
            format: INDEX_FORMAT.into(),
            format_version: INDEX_FORMAT_VERSION,
            library_version: crate::VERSION.into(),
            created_at: crate::timestamp::now_rfc3339(),
            schema: schema.to_json_pretty(),
            schema_fingerprint: schema.fingerprint(),
            model: linkage.model().to_json(),
            key_check_value: first.key_check_value.clone(),
            encoding_version: first.encoding_version,
            extract_format_version: first.format_version,
            dedupe: options.inputs.len() == 1,
            sources: names.clone(),
            threshold: options.link.threshold,
            review_threshold: options.link.review_threshold,
            cluster_support: options.link.cluster_support,
        };
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        let partial = dir.join(format!("{INDEX_FILE}.partial"));
        let _ = std::fs::remove_file(&partial);
        let layout = Layout::new(schema);
        let mut counters = Counters::default();
        let result = (|| -> Result<()> {
            let db = new_database(&partial)?;
            let we = |e: redb::Error| store_error("write", &partial, e);
            let txn = db.begin_write().map_err(|e| we(e.into()))?;
            {
                let mut records = txn.open_table(RECORDS).map_err(|e| we(e.into()))?;
                let mut ids = txn.open_table(IDS).map_err(|e| we(e.into()))?;
                let mut persons = txn.open_multimap_table(PERSONS).map_err(|e| we(e.into()))?;
                let mut blocks = txn.open_multimap_table(BLOCKS).map_err(|e| we(e.into()))?;
                txn.open_multimap_table(RECENT_BLOCKS)
                    .map_err(|e| we(e.into()))?;
                txn.open_table(MERGES).map_err(|e| we(e.into()))?;
                txn.open_table(SPLITS).map_err(|e| we(e.into()))?;
                let mut person_of_cluster: BTreeMap<u32, u64> = BTreeMap::new();
                let keys_of = BlockKeys::new(schema, &layout);
                // Inserted in key order at the end: random inserts would touch a page each.
                let mut block_entries: Vec<(u64, u64)> = Vec::new();
                let control = &options.control;
                control.report(Progress::stage("storing", 0, n as u64));
                let started = std::time::Instant::now();
                for i in 0..n as u32 {
                    if i % STORE_CHUNK == 0 && i > 0 {
                        control.check_cancel()?;
                        control.report(Progress::stage("storing", u64::from(i), n as u64));
                    }
                    let person = match cluster_of[i as usize] {
                        0 => {
                            counters.next_person += 1;
                            counters.next_person
                        }
                        c => *person_of_cluster.entry(c).or_insert_with(|| {
                            counters.next_person += 1;
                            counters.next_person
                        }),
                    };
                    let record = pool.record(i);
                    let source = pool.source(i);
                    counters.next_record += 1;
                    let no = counters.next_record;
                    let row = row_of(&layout, record);
                    records
                        .insert(no, (person, source, record.id.as_str(), row.as_slice()))
                        .map_err(|e| we(e.into()))?;
                    ids.insert((source, record.id.as_str()), no)
                        .map_err(|e| we(e.into()))?;
                    persons.insert(person, no).map_err(|e| we(e.into()))?;
                    block_entries.extend(keys_of.of(record).into_iter().map(|k| (k, no)));
                }
                block_entries.sort_unstable();
                for (k, no) in block_entries {
                    blocks.insert(k, no).map_err(|e| we(e.into()))?;
                }
                let mut meta = txn.open_table(META).map_err(|e| we(e.into()))?;
                meta.insert("settings", json(&settings)?.as_str())
                    .map_err(|e| we(e.into()))?;
                meta.insert("counters", json(&counters)?.as_str())
                    .map_err(|e| we(e.into()))?;
                control.report(Progress::stage("storing", n as u64, n as u64));
                control.record("storing", started.elapsed());
            }
            txn.commit().map_err(|e| we(e.into()))?;
            drop(db);
            sync_file(&partial)?;
            std::fs::rename(&partial, &path).map_err(|e| Error::io("rename", &partial, e))?;
            sync_dir(dir);
            Ok(())
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
        let index = PersonIndex::open(dir)?;
        index.write_logs()?;
        let report = CreateReport {
            records: n as u64,
            persons: counters.next_person,
            sources: names,
        };
        Ok((index, report))
    }

    /// Opens the index in `dir`. One process at a time: a second gets an error saying the index
    /// is in use.
    pub fn open(dir: &Path) -> Result<PersonIndex> {
        let path = dir.join(INDEX_FILE);
        if !path.is_file() {
            return Err(Error::Invalid(format!(
                "{} holds no person index (no {INDEX_FILE}): create one with `pseudolink index create`",
                dir.display()
            )));
        }
        // A rewrite interrupted before its rename left this; the index itself is intact.
        let _ = std::fs::remove_file(dir.join(format!("{INDEX_FILE}.rewrite")));
        let db = Database::open(&path).map_err(|e| db_error(&path, e))?;
        let re = |e: redb::Error| store_error("read", &path, e);
        let (settings, counters) = {
            let txn = db.begin_read().map_err(|e| re(e.into()))?;
            let meta = txn.open_table(META).map_err(|e| re(e.into()))?;
            let get = |k: &str| -> Result<String> {
                meta.get(k)
                    .map_err(|e| re(e.into()))?
                    .map(|g| g.value().to_string())
                    .ok_or_else(|| store_error("read", &path, format!("no {k} in the index")))
            };
            let settings: Settings = serde_json::from_str(&get("settings")?)
                .map_err(|e| store_error("read", &path, e))?;
            let counters: Counters = serde_json::from_str(&get("counters")?)
                .map_err(|e| store_error("read", &path, e))?;
            (settings, counters)
        };
        let settings = if settings.format == INDEX_FORMAT && settings.format_version == 1 {
            migrate_from_1(&db, &path, settings)?
        } else {
            settings
        };
        if settings.format != INDEX_FORMAT || settings.format_version != INDEX_FORMAT_VERSION {
            return Err(Error::Mismatch(format!(
                "{} is {} version {}; this pseudolink reads {INDEX_FORMAT} version {INDEX_FORMAT_VERSION}: rebuild the index from its inputs",
                path.display(),
                settings.format,
                settings.format_version
            )));
        }
        let schema = Schema::from_json(&settings.schema)?;
        if schema.fingerprint() != settings.schema_fingerprint {
            return Err(store_error(
                "read",
                &path,
                "the stored schema does not match its fingerprint",
            ));
        }
        let model = Model::from_json(&settings.model)?;
        let layout = Layout::new(&schema);
        Ok(PersonIndex {
            dir: dir.to_path_buf(),
            path,
            db,
            settings,
            counters,
            schema,
            model,
            layout,
            recent_bound: RECENT_BLOCKS_BOUND,
            recent_limit: RECENT_BLOCKS_LIMIT,
        })
    }

    /// The schema the index was made under.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The model records are scored with.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The source names, in the order they joined the index.
    pub fn sources(&self) -> &[String] {
        &self.settings.sources
    }

    /// Records in the index.
    pub fn len(&self) -> Result<u64> {
        let re = |e: redb::Error| store_error("read", &self.path, e);
        let txn = self.db.begin_read().map_err(|e| re(e.into()))?;
        let t = txn.open_table(IDS).map_err(|e| re(e.into()))?;
        t.len().map_err(|e| re(e.into()))
    }

    /// Whether the index holds no record.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Checks an extract's manifest against the index: encoding version, extract format, schema
    /// and secret (key check value, compared in constant time).
    fn check_manifest(&self, what: &str, m: &Manifest) -> Result<()> {
        let s = &self.settings;
        if m.schema_fingerprint != s.schema_fingerprint {
            return Err(Error::Mismatch(format!(
                "{what} was encoded under schema {} but the index under schema {}: encode with the index's schema",
                m.schema_fingerprint, s.schema_fingerprint
            )));
        }
        if m.encoding_version != s.encoding_version || m.format_version != s.extract_format_version
        {
            return Err(Error::Mismatch(format!(
                "{what} is encoding version {} (format {}) but the index holds version {} (format {}): rebuild the index or re-encode",
                m.encoding_version, m.format_version, s.encoding_version, s.extract_format_version
            )));
        }
        if m.key_check_value != s.key_check_value {
            return Err(Error::Mismatch(format!(
                "{what} was encoded with key check value {} but the index holds records of key check value {}: it comes from another secret and cannot be linked to this index",
                m.key_check_value, s.key_check_value
            )));
        }
        Ok(())
    }

    /// Reads the encoded extract at `path` (checked against its manifest and the index: the same
    /// schema, encoding and secret, or it is refused) and adds its records under source `source`
    /// (by default [`source_name`] of the file). See [`PersonIndex::add_records`].
    pub fn add_file(&mut self, path: &Path, source: Option<&str>) -> Result<AddReport> {
        self.add_file_with(
            path,
            &AddOptions {
                source: source.map(str::to_string),
                ..AddOptions::default()
            },
        )
    }

    /// [`PersonIndex::add_file`] with options: the source name, and what to do with rows that
    /// cannot be added ([`AddOptions::rejects`]). The extract itself must pass its checks (its
    /// manifest, the index's schema and secret): a file that fails them is refused whole.
    pub fn add_file_with(&mut self, path: &Path, options: &AddOptions) -> Result<AddReport> {
        let rejects_file = match &options.rejects {
            Rejects::File(p) => Some(AtomicFile::create(p)?),
            _ => None,
        };
        let extract = read_encoded(path, &self.schema, ReadOptions::default())?;
        let manifest = extract
            .manifest
            .as_ref()
            .ok_or_else(|| Error::Mismatch(format!("{} has no manifest", path.display())))?;
        self.check_manifest(&path.display().to_string(), manifest)?;
        let name = options.source.clone().unwrap_or_else(|| source_name(path));
        let keep = options.rejects != Rejects::Fail;
        let report = self.add_inner(&name, extract.records, Some(path), keep)?;
        if let Some(mut f) = rejects_file {
            let mut bytes = format!("{REJECTS_HEADER}\n").into_bytes();
            for r in &report.rejected {
                bytes.extend_from_slice(&r.csv_row());
            }
            f.write_all(&bytes)?;
            f.commit()?;
        }
        Ok(report)
    }

    /// Adds `records` of source `source` (a new source joins the index) and assigns each a person
    /// id: an existing one when it links, a new one otherwise; merges and splits found are logged.
    /// All in one transaction: on any error nothing changes. A record id the source already has in
    /// the index is refused (remove it first to replace it), as is one repeated in `records`.
    ///
    /// `file` names the input in messages (lines counted with the header as line 1). The caller
    /// has checked that the records were encoded under the index's schema and secret
    /// ([`PersonIndex::add_file`] and [`PersonIndex::check_extract`] do).
    pub fn add_records(
        &mut self,
        source: &str,
        records: Vec<EncodedRecord>,
        file: Option<&Path>,
    ) -> Result<AddReport> {
        self.add_inner(source, records, file, false)
    }

    /// [`PersonIndex::add_records`], but the records that cannot be added (a record id repeated
    /// in `records`, or one the source already has in the index) are set aside in
    /// [`AddReport::rejected`] (line: position + 2, as in a CSV file with a header) and the
    /// others added.
    pub fn add_records_keeping_rejects(
        &mut self,
        source: &str,
        records: Vec<EncodedRecord>,
        file: Option<&Path>,
    ) -> Result<AddReport> {
        self.add_inner(source, records, file, true)
    }

    /// Adds `records`; with `keep`, records that cannot be added are set aside, otherwise the
    /// first is an error.
    fn add_inner(
        &mut self,
        source: &str,
        records: Vec<EncodedRecord>,
        file: Option<&Path>,
        keep: bool,
    ) -> Result<AddReport> {
        let mut settings = self.settings.clone();
        let source_no = source_number(&mut settings, source)?;
        let path = self.path.clone();
        let we = |e: redb::Error| store_error("write", &path, e);
        let mut rejected: Vec<RejectedRow> = Vec::new();
        let mut reject = |k: usize, id: &str, message: String| -> Result<()> {
            let line = k as u64 + 2;
            if !keep {
                return Err(Error::input(
                    Location::at(file, line).field("record_id"),
                    message,
                ));
            }
            rejected.push(RejectedRow {
                line,
                reason: RejectReason::DuplicateRecordId,
                field: Some("record_id".into()),
                message,
                record_id: id.to_string(),
            });
            Ok(())
        };
        let mut accepted = vec![true; records.len()];
        {
            let mut seen = rustc_hash::FxHashSet::default();
            for (k, r) in records.iter().enumerate() {
                if !seen.insert(r.id.as_str()) {
                    reject(k, &r.id, format!("record id '{}' appears twice", r.id))?;
                    accepted[k] = false;
                }
            }
        }
        let txn = self.db.begin_write().map_err(|e| we(e.into()))?;
        let mut counters = self.counters;
        let when = crate::timestamp::now_rfc3339();
        let (report, planned, full) = {
            let mut rec_t = txn.open_table(RECORDS).map_err(|e| we(e.into()))?;
            let mut ids_t = txn.open_table(IDS).map_err(|e| we(e.into()))?;
            let mut per_t = txn.open_multimap_table(PERSONS).map_err(|e| we(e.into()))?;
            let mut blk_t = txn.open_multimap_table(BLOCKS).map_err(|e| we(e.into()))?;
            let mut new_t = txn
                .open_multimap_table(RECENT_BLOCKS)
                .map_err(|e| we(e.into()))?;
            for (k, r) in records.iter().enumerate() {
                if accepted[k]
                    && ids_t
                        .get((source_no, r.id.as_str()))
                        .map_err(|e| we(e.into()))?
                        .is_some()
                {
                    reject(
                        k,
                        &r.id,
                        format!(
                            "record id '{}' of source '{source}' is already in the index (remove it first to replace it)",
                            r.id
                        ),
                    )?;
                    accepted[k] = false;
                }
            }
            let records: Vec<EncodedRecord> = records
                .into_iter()
                .zip(&accepted)
                .filter_map(|(r, ok)| ok.then_some(r))
                .collect();
            let ctx = Context {
                schema: &self.schema,
                layout: &self.layout,
                model: &self.model,
                settings: &settings,
                path: &self.path,
            };
            let planned = assign::plan(&ctx, &rec_t, &per_t, &blk_t, &new_t, source_no, &records)?;
            let number = |p: PersonRef| match p {
                PersonRef::Existing(n) => n,
                PersonRef::New(k) => counters.next_person + 1 + k,
            };
            // Merges: the retired person's records move to the surviving one.
            let mut merges = Vec::new();
            let mut log_t = txn.open_table(MERGES).map_err(|e| we(e.into()))?;
            for (retired, surviving, evidence) in &planned.merges {
                let moved: Vec<u64> = per_t
                    .remove_all(*retired)
                    .map_err(|e| we(e.into()))?
                    .map(|v| v.map(|v| v.value()))
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| we(e.into()))?;
                for no in moved {
                    let value = {
                        let g = rec_t
                            .get(no)
                            .map_err(|e| we(e.into()))?
                            .ok_or_else(|| we(redb::Error::Corrupted("missing record".into())))?;
                        let (_, s, id, row) = g.value();
                        (s, id.to_string(), row.to_vec())
                    };
                    rec_t
                        .insert(
                            no,
                            (*surviving, value.0, value.1.as_str(), value.2.as_slice()),
                        )
                        .map_err(|e| we(e.into()))?;
                    per_t.insert(*surviving, no).map_err(|e| we(e.into()))?;
                }
                let m = Merge {
                    retired: person_id(*retired),
                    surviving: person_id(*surviving),
                    when: when.clone(),
                    evidence: evidence.clone(),
                };
                counters.next_log += 1;
                log_t
                    .insert(counters.next_log, json(&m)?.as_str())
                    .map_err(|e| we(e.into()))?;
                merges.push(m);
            }
            // Splits listed for review (once per person and parts).
            let mut split_t = txn.open_table(SPLITS).map_err(|e| we(e.into()))?;
            let mut splits = SplitLog::read(&split_t, &we)?;
            for (p, parts) in &planned.splits {
                let split = Split {
                    person: person_id(*p),
                    when: when.clone(),
                    parts: parts.clone(),
                };
                splits.list(&mut split_t, &mut counters.next_log, split, &we)?;
            }
            // The new records (their block keys inserted in key order at the end).
            let keys_of = BlockKeys::new(&self.schema, &self.layout);
            let mut block_entries: Vec<(u64, u64)> = Vec::new();
            let mut person_entries: Vec<(u64, u64)> = Vec::new();
            let mut assignments = Vec::with_capacity(records.len());
            for (r, d) in records.iter().zip(&planned.decisions) {
                let person = number(d.person);
                counters.next_record += 1;
                let no = counters.next_record;
                let row = row_of(&self.layout, r);
                rec_t
                    .insert(no, (person, source_no, r.id.as_str(), row.as_slice()))
                    .map_err(|e| we(e.into()))?;
                ids_t
                    .insert((source_no, r.id.as_str()), no)
                    .map_err(|e| we(e.into()))?;
                person_entries.push((person, no));
                block_entries.extend(keys_of.of(r).into_iter().map(|k| (k, no)));
                assignments.push(Assignment {
                    source: source.to_string(),
                    record_id: r.id.clone(),
                    person_id: Some(person_id(person)),
                    match_probability: d.probability,
                    band: d.band,
                    candidate_person_id: d.candidate.map(|c| person_id(number(c))),
                });
            }
            person_entries.sort_unstable();
            for (person, no) in person_entries {
                per_t.insert(person, no).map_err(|e| we(e.into()))?;
            }
            block_entries.sort_unstable();
            for (k, no) in block_entries {
                new_t.insert(k, no).map_err(|e| we(e.into()))?;
            }
            let recent = new_t.len().map_err(|e| we(e.into()))?;
            let full = recent > self.recent_limit;
            let compacted = if full {
                copy_entries(&new_t, &mut blk_t, &RunControl::new(), recent, &we)?
            } else {
                0
            };
            counters.next_person += planned.new_persons;
            let mut meta = txn.open_table(META).map_err(|e| we(e.into()))?;
            meta.insert("settings", json(&settings)?.as_str())
                .map_err(|e| we(e.into()))?;
            meta.insert("counters", json(&counters)?.as_str())
                .map_err(|e| we(e.into()))?;
            (
                AddReport {
                    assignments,
                    new_persons: planned.new_persons,
                    merges,
                    splits: splits.listed,
                    rejected: Vec::new(),
                    recent_blocks: if full { 0 } else { recent },
                    compact_recommended: !full && recent > self.recent_bound,
                    compacted,
                },
                planned,
                full,
            )
        };
        if full {
            // Moved into `blocks` above: emptied.
            txn.delete_multimap_table(RECENT_BLOCKS)
                .map_err(|e| we(e.into()))?;
            txn.open_multimap_table(RECENT_BLOCKS)
                .map_err(|e| we(e.into()))?;
        }
        let mut report = report;
        rejected.sort_by_key(|r| r.line);
        report.rejected = rejected;
        drop(planned);
        crash_point("before-commit");
        txn.commit().map_err(|e| we(e.into()))?;
        self.settings = settings;
        self.counters = counters;
        self.write_logs()?;
        Ok(report)
    }

    /// Entries of the table of recent block keys: those of the records added since the last
    /// compaction (see [`PersonIndex::compact`]).
    pub fn recent_blocks(&self) -> Result<u64> {
        let re = |e: redb::Error| store_error("read", &self.path, e);
        let txn = self.db.begin_read().map_err(|e| re(e.into()))?;
        let t = txn
            .open_multimap_table(RECENT_BLOCKS)
            .map_err(|e| re(e.into()))?;
        t.len().map_err(|e| re(e.into()))
    }

    /// Moves the block keys of the records added since the last compaction from the small
    /// recent table into the main blocking table, and empties the recent table. Adds insert
    /// their keys into the recent table only, so that they stay fast; once it holds more than
    /// [`RECENT_BLOCKS_BOUND`] entries, an add says so ([`AddReport::compact_recommended`]) and
    /// this should be run (after each month's add, or nightly). Past [`RECENT_BLOCKS_LIMIT`] an
    /// add compacts itself.
    ///
    /// Persons, ids, assignments and lookups are the same before and after: a key's records are
    /// those of both tables. Safe to run at any time: one write transaction, so a crash or a kill
    /// leaves the index as it was before or after, never in between. `control` gives a cancel
    /// flag (looked at every 65,536 entries: nothing is written and [`Error::Cancelled`]
    /// returned) and progress (stage `compacting`, `done` of `total` entries moved).
    pub fn compact(&mut self, control: &RunControl<'_>) -> Result<CompactReport> {
        let path = self.path.clone();
        let we = |e: redb::Error| store_error("write", &path, e);
        let started = std::time::Instant::now();
        let txn = self.db.begin_write().map_err(|e| we(e.into()))?;
        let (moved, blocks) = {
            let new_t = txn
                .open_multimap_table(RECENT_BLOCKS)
                .map_err(|e| we(e.into()))?;
            let mut blk_t = txn.open_multimap_table(BLOCKS).map_err(|e| we(e.into()))?;
            let total = new_t.len().map_err(|e| we(e.into()))?;
            if total == 0 {
                let blocks = blk_t.len().map_err(|e| we(e.into()))?;
                drop((new_t, blk_t));
                txn.abort().map_err(|e| we(e.into()))?;
                return Ok(CompactReport { moved: 0, blocks });
            }
            control.report(Progress::stage("compacting", 0, total));
            let moved = copy_entries(&new_t, &mut blk_t, control, total, &we)?;
            (moved, blk_t.len().map_err(|e| we(e.into()))?)
        };
        txn.delete_multimap_table(RECENT_BLOCKS)
            .map_err(|e| we(e.into()))?;
        txn.open_multimap_table(RECENT_BLOCKS)
            .map_err(|e| we(e.into()))?;
        control.check_cancel()?;
        crash_point("before-compact-commit");
        txn.commit().map_err(|e| we(e.into()))?;
        control.report(Progress::stage("compacting", moved, moved));
        control.record("compacting", started.elapsed());
        Ok(CompactReport { moved, blocks })
    }

    /// Checks that an extract with manifest `manifest` may be added (schema, encoding, secret).
    pub fn check_extract(&self, name: &str, manifest: &Manifest) -> Result<()> {
        self.check_manifest(name, manifest)
    }

    /// Where `record` of source `source` would go, without storing it: its person id (`None`
    /// when it would be a new person), probability and band. What a case-management system asks
    /// when it creates a record.
    pub fn match_record(&self, source: &str, record: &EncodedRecord) -> Result<Assignment> {
        let mut settings = self.settings.clone();
        let source_no = source_number(&mut settings, source)?;
        let re = |e: redb::Error| store_error("read", &self.path, e);
        let txn = self.db.begin_read().map_err(|e| re(e.into()))?;
        let rec_t = txn.open_table(RECORDS).map_err(|e| re(e.into()))?;
        let per_t = txn.open_multimap_table(PERSONS).map_err(|e| re(e.into()))?;
        let blk_t = txn.open_multimap_table(BLOCKS).map_err(|e| re(e.into()))?;
        let new_t = txn
            .open_multimap_table(RECENT_BLOCKS)
            .map_err(|e| re(e.into()))?;
        let ctx = Context {
            schema: &self.schema,
            layout: &self.layout,
            model: &self.model,
            settings: &settings,
            path: &self.path,
        };
        let planned: Planned = assign::plan(
            &ctx,
            &rec_t,
            &per_t,
            &blk_t,
            &new_t,
            source_no,
            std::slice::from_ref(record),
        )?;
        let d = planned
            .decisions
            .first()
            .ok_or_else(|| Error::Invalid("no decision for the record".into()))?;
        let name = |p: PersonRef| match p {
            PersonRef::Existing(n) => Some(person_id(n)),
            PersonRef::New(_) => None,
        };
        Ok(Assignment {
            source: source.to_string(),
            record_id: record.id.clone(),
            person_id: name(d.person),
            match_probability: d.probability,
            band: d.band,
            candidate_person_id: d.candidate.and_then(name),
        })
    }

    /// [`PersonIndex::match_record`] of one encoded row (the columns of the index's encoded
    /// extracts, no header, no newline: what `pseudolink encode` writes and `pl_encode_record`
    /// gives).
    pub fn match_row(&self, source: &str, row: &[u8]) -> Result<Assignment> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(row);
        let mut record = csv::ByteRecord::new();
        let bad = |m: String| Error::input(Location::at(None, 1), m);
        if !reader
            .read_byte_record(&mut record)
            .map_err(|e| bad(format!("not an encoded row: {e}")))?
        {
            return Err(bad("the encoded row is empty".into()));
        }
        let parsed = crate::io::encoded::parse_row(&self.layout, &record)
            .map_err(|(field, m)| Error::input(Location::at(None, 1).field(field), m))?;
        if reader
            .read_byte_record(&mut record)
            .map_err(|e| bad(format!("not an encoded row: {e}")))?
        {
            return Err(bad("give one encoded row, not several".into()));
        }
        self.match_record(source, &parsed)
    }

    /// Every record with its person id, sorted by source and record id.
    pub fn export(&self) -> Result<Vec<Member>> {
        let re = |e: redb::Error| store_error("read", &self.path, e);
        let txn = self.db.begin_read().map_err(|e| re(e.into()))?;
        let t = txn.open_table(RECORDS).map_err(|e| re(e.into()))?;
        let mut out = Vec::new();
        for e in t.iter().map_err(|e| re(e.into()))? {
            let (_, v) = e.map_err(|e| re(e.into()))?;
            let (person, s, id, _) = v.value();
            out.push(Member {
                source: self.source_of(s),
                record_id: id.to_string(),
                person_id: person_id(person),
            });
        }
        out.sort();
        Ok(out)
    }

    fn source_of(&self, s: u16) -> String {
        self.settings
            .sources
            .get(s as usize)
            .cloned()
            .unwrap_or_default()
    }

    /// Writes [`PersonIndex::export`] to `path` (`source,record_id,person_id`), atomically.
    pub fn write_export(&self, path: &Path) -> Result<u64> {
        let members = self.export()?;
        let mut w = csv::Writer::from_writer(Vec::new());
        let ce = |e: csv::Error| store_error("write", path, e);
        w.write_record(["source", "record_id", "person_id"])
            .map_err(ce)?;
        for m in &members {
            w.write_record([&m.source, &m.record_id, &m.person_id])
                .map_err(ce)?;
        }
        let bytes = w.into_inner().map_err(|e| store_error("write", path, e))?;
        write_atomic(path, &bytes)?;
        Ok(members.len() as u64)
    }

    /// The merge log, oldest first.
    pub fn merges(&self) -> Result<Vec<Merge>> {
        self.read_log(MERGES)
    }

    /// The persons listed for review for a split, oldest first.
    pub fn splits(&self) -> Result<Vec<Split>> {
        self.read_log(SPLITS)
    }

    fn read_log<T: serde::de::DeserializeOwned>(
        &self,
        table: redb::TableDefinition<u64, &str>,
    ) -> Result<Vec<T>> {
        let re = |e: redb::Error| store_error("read", &self.path, e);
        let txn = self.db.begin_read().map_err(|e| re(e.into()))?;
        let t = txn.open_table(table).map_err(|e| re(e.into()))?;
        let mut out = Vec::new();
        for e in t.iter().map_err(|e| re(e.into()))? {
            let (_, v) = e.map_err(|e| re(e.into()))?;
            out.push(
                serde_json::from_str(v.value()).map_err(|e| store_error("read", &self.path, e))?,
            );
        }
        Ok(out)
    }

    /// Writes `merges.csv` and `splits.csv` from the index (each atomically). They are views of
    /// the index, rewritten after every change.
    fn write_logs(&self) -> Result<()> {
        let merges: Vec<Merge> = self.merges()?;
        let path = self.dir.join(MERGES_FILE);
        let ce = |e: csv::Error| store_error("write", &path, e);
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "retired_person_id",
            "surviving_person_id",
            "merged_at",
            "evidence",
        ])
        .map_err(ce)?;
        for m in &merges {
            let evidence = if m.evidence.is_empty() {
                "(withdrawn)".to_string()
            } else {
                m.evidence
                    .iter()
                    .map(|e| format!("{}~{} p={:.6}", e.a, e.b, e.probability))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            w.write_record([&m.retired, &m.surviving, &m.when, &evidence])
                .map_err(ce)?;
        }
        let bytes = w.into_inner().map_err(|e| store_error("write", &path, e))?;
        write_atomic(&path, &bytes)?;

        let splits: Vec<Split> = self.splits()?;
        let path = self.dir.join(SPLITS_FILE);
        let ce = |e: csv::Error| store_error("write", &path, e);
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["person_id", "listed_at", "parts"])
            .map_err(ce)?;
        for s in &splits {
            let parts = s
                .parts
                .iter()
                .map(|p| p.join(" "))
                .collect::<Vec<_>>()
                .join(" | ");
            w.write_record([&s.person, &s.when, &parts]).map_err(ce)?;
        }
        let bytes = w.into_inner().map_err(|e| store_error("write", &path, e))?;
        write_atomic(&path, &bytes)
    }

    /// Withdraws the records `record_ids` of source `source`: each is deleted with its blocking
    /// entries, and struck from the merge evidence and the split list; then the index file is
    /// rewritten from scratch so that no byte of them is left in it. All or nothing: an id not in
    /// the index is an error and nothing is removed.
    ///
    /// A person a withdrawn record belonged to keeps its id, but when the links at or above the
    /// match threshold among its remaining records (found and scored as [`PersonIndex::add_file`]
    /// finds them) no longer connect them all, it is listed for a split review (`splits.csv`), as
    /// additions list them: never split automatically.
    pub fn remove(&mut self, source: &str, record_ids: &[String]) -> Result<RemoveReport> {
        let source_no = self
            .settings
            .sources
            .iter()
            .position(|s| s == source)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "the index has no source '{source}' (its sources: {})",
                    self.settings.sources.join(", ")
                ))
            })?;
        let source_no = u16::try_from(source_no).unwrap_or(u16::MAX);
        let path = self.path.clone();
        let we = |e: redb::Error| store_error("write", &path, e);
        let txn = self.db.begin_write().map_err(|e| we(e.into()))?;
        let mut gone: Vec<String> = Vec::new();
        let mut affected: std::collections::BTreeSet<u64> = std::collections::BTreeSet::new();
        let listed;
        let mut counters = self.counters;
        {
            let mut rec_t = txn.open_table(RECORDS).map_err(|e| we(e.into()))?;
            let mut ids_t = txn.open_table(IDS).map_err(|e| we(e.into()))?;
            let mut per_t = txn.open_multimap_table(PERSONS).map_err(|e| we(e.into()))?;
            let mut blk_t = txn.open_multimap_table(BLOCKS).map_err(|e| we(e.into()))?;
            let mut new_t = txn
                .open_multimap_table(RECENT_BLOCKS)
                .map_err(|e| we(e.into()))?;
            for id in record_ids {
                let no = ids_t
                    .remove((source_no, id.as_str()))
                    .map_err(|e| we(e.into()))?
                    .map(|g| g.value())
                    .ok_or_else(|| {
                        Error::Invalid(format!(
                            "record '{id}' of source '{source}' is not in the index (nothing was removed)"
                        ))
                    })?;
                let (person, row) = {
                    let g = rec_t
                        .remove(no)
                        .map_err(|e| we(e.into()))?
                        .ok_or_else(|| we(redb::Error::Corrupted("missing record".into())))?;
                    let (person, _, _, row) = g.value();
                    (person, row.to_vec())
                };
                let record = store::parse_rows(&self.layout, &[row], &self.path)?
                    .pop()
                    .ok_or_else(|| we(redb::Error::Corrupted("empty record".into())))?;
                for k in block_keys(&self.schema, &self.layout, &record) {
                    // In one of the two tables (see `store`): removed from both.
                    blk_t.remove(k, no).map_err(|e| we(e.into()))?;
                    new_t.remove(k, no).map_err(|e| we(e.into()))?;
                }
                per_t.remove(person, no).map_err(|e| we(e.into()))?;
                affected.insert(person);
                gone.push(format!("{source}:{id}"));
            }
            // Strike them from the logs.
            let mut log_t = txn.open_table(MERGES).map_err(|e| we(e.into()))?;
            let mut updates: Vec<(u64, Option<String>)> = Vec::new();
            for e in log_t.iter().map_err(|e| we(e.into()))? {
                let (k, v) = e.map_err(|e| we(e.into()))?;
                let mut m: Merge =
                    serde_json::from_str(v.value()).map_err(|e| store_error("read", &path, e))?;
                let before = m.evidence.len();
                m.evidence
                    .retain(|e| !gone.contains(&e.a) && !gone.contains(&e.b));
                if m.evidence.len() != before {
                    updates.push((k.value(), Some(json(&m)?)));
                }
            }
            for (k, v) in &updates {
                if let Some(v) = v {
                    log_t.insert(*k, v.as_str()).map_err(|e| we(e.into()))?;
                }
            }
            let mut split_t = txn.open_table(SPLITS).map_err(|e| we(e.into()))?;
            let mut updates: Vec<(u64, Option<String>)> = Vec::new();
            for e in split_t.iter().map_err(|e| we(e.into()))? {
                let (k, v) = e.map_err(|e| we(e.into()))?;
                let mut s: Split =
                    serde_json::from_str(v.value()).map_err(|e| store_error("read", &path, e))?;
                let before: usize = s.parts.iter().map(Vec::len).sum();
                for p in &mut s.parts {
                    p.retain(|r| !gone.contains(r));
                }
                s.parts.retain(|p| !p.is_empty());
                let after: usize = s.parts.iter().map(Vec::len).sum();
                if after != before {
                    updates.push((
                        k.value(),
                        (s.parts.len() > 1).then(|| json(&s)).transpose()?,
                    ));
                }
            }
            for (k, v) in &updates {
                match v {
                    Some(v) => {
                        split_t.insert(*k, v.as_str()).map_err(|e| we(e.into()))?;
                    }
                    None => {
                        split_t.remove(*k).map_err(|e| we(e.into()))?;
                    }
                }
            }
            // The persons the withdrawn records leave no longer held together.
            let mut splits = SplitLog::read(&split_t, &we)?;
            let ctx = Context {
                schema: &self.schema,
                layout: &self.layout,
                model: &self.model,
                settings: &self.settings,
                path: &self.path,
            };
            let when = crate::timestamp::now_rfc3339();
            for person in affected {
                let mut members = Vec::new();
                let mut rows = Vec::new();
                for v in per_t.get(person).map_err(|e| we(e.into()))? {
                    let no = v.map_err(|e| we(e.into()))?.value();
                    let g = rec_t
                        .get(no)
                        .map_err(|e| we(e.into()))?
                        .ok_or_else(|| we(redb::Error::Corrupted("missing record".into())))?;
                    let (_, s, _, row) = g.value();
                    members.push(s);
                    rows.push(row.to_vec());
                }
                if members.len() < 2 {
                    continue;
                }
                let records = store::parse_rows(&self.layout, &rows, &self.path)?;
                let parts =
                    assign::connected_parts(&ctx, members.into_iter().zip(records).collect())?;
                if parts.len() < 2 {
                    continue;
                }
                let split = Split {
                    person: person_id(person),
                    when: when.clone(),
                    parts,
                };
                splits.list(&mut split_t, &mut counters.next_log, split, &we)?;
            }
            listed = splits.listed;
            let mut meta = txn.open_table(META).map_err(|e| we(e.into()))?;
            meta.insert("counters", json(&counters)?.as_str())
                .map_err(|e| we(e.into()))?;
        }
        txn.commit().map_err(|e| we(e.into()))?;
        self.counters = counters;
        self.rewrite()?;
        self.write_logs()?;
        Ok(RemoveReport {
            removed: gone.len() as u64,
            splits: listed,
        })
    }

    /// Copies every table into a fresh file and renames it over the index, so that freed pages
    /// (which may hold withdrawn records) are not carried over.
    fn rewrite(&mut self) -> Result<()> {
        let tmp = self.dir.join(format!("{INDEX_FILE}.rewrite"));
        let _ = std::fs::remove_file(&tmp);
        let result = (|| -> Result<()> {
            let re = |e: redb::Error| store_error("read", &self.path, e);
            let we = |e: redb::Error| store_error("write", &tmp, e);
            let fresh = new_database(&tmp)?;
            let rtxn = self.db.begin_read().map_err(|e| re(e.into()))?;
            let wtxn = fresh.begin_write().map_err(|e| we(e.into()))?;
            {
                let src = rtxn.open_table(META).map_err(|e| re(e.into()))?;
                let mut dst = wtxn.open_table(META).map_err(|e| we(e.into()))?;
                for e in src.iter().map_err(|e| re(e.into()))? {
                    let (k, v) = e.map_err(|e| re(e.into()))?;
                    dst.insert(k.value(), v.value()).map_err(|e| we(e.into()))?;
                }
                let src = rtxn.open_table(RECORDS).map_err(|e| re(e.into()))?;
                let mut dst = wtxn.open_table(RECORDS).map_err(|e| we(e.into()))?;
                for e in src.iter().map_err(|e| re(e.into()))? {
                    let (k, v) = e.map_err(|e| re(e.into()))?;
                    dst.insert(k.value(), v.value()).map_err(|e| we(e.into()))?;
                }
                let src = rtxn.open_table(IDS).map_err(|e| re(e.into()))?;
                let mut dst = wtxn.open_table(IDS).map_err(|e| we(e.into()))?;
                for e in src.iter().map_err(|e| re(e.into()))? {
                    let (k, v) = e.map_err(|e| re(e.into()))?;
                    dst.insert(k.value(), v.value()).map_err(|e| we(e.into()))?;
                }
                // `recent_blocks` is moved into `blocks` (and left empty) on the way.
                wtxn.open_multimap_table(RECENT_BLOCKS)
                    .map_err(|e| we(e.into()))?;
                for (table, into) in [
                    (PERSONS, PERSONS),
                    (BLOCKS, BLOCKS),
                    (RECENT_BLOCKS, BLOCKS),
                ] {
                    let src = rtxn.open_multimap_table(table).map_err(|e| re(e.into()))?;
                    let mut dst = wtxn.open_multimap_table(into).map_err(|e| we(e.into()))?;
                    for e in src.iter().map_err(|e| re(e.into()))? {
                        let (k, vs) = e.map_err(|e| re(e.into()))?;
                        for v in vs {
                            let v = v.map_err(|e| re(e.into()))?;
                            dst.insert(k.value(), v.value()).map_err(|e| we(e.into()))?;
                        }
                    }
                }
                for table in [MERGES, SPLITS] {
                    let src = rtxn.open_table(table).map_err(|e| re(e.into()))?;
                    let mut dst = wtxn.open_table(table).map_err(|e| we(e.into()))?;
                    for e in src.iter().map_err(|e| re(e.into()))? {
                        let (k, v) = e.map_err(|e| re(e.into()))?;
                        dst.insert(k.value(), v.value()).map_err(|e| we(e.into()))?;
                    }
                }
            }
            wtxn.commit().map_err(|e| we(e.into()))?;
            drop(rtxn);
            drop(fresh);
            sync_file(&tmp)?;
            std::fs::rename(&tmp, &self.path).map_err(|e| Error::io("rename", &tmp, e))?;
            sync_dir(&self.dir);
            Ok(())
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        self.db = Database::open(&self.path).map_err(|e| db_error(&self.path, e))?;
        Ok(())
    }

    /// The text of `assigned.csv`: the header
    /// `record_id,source,person_id,match_probability,band,candidate_person_id`, then one
    /// [`Assignment::csv_row`] per line.
    pub fn assignments_csv(assignments: &[Assignment]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(
            b"record_id,source,person_id,match_probability,band,candidate_person_id\n",
        );
        for a in assignments {
            out.extend_from_slice(a.csv_row().as_bytes());
            out.push(b'\n');
        }
        out
    }

    /// [`PersonIndex::add_file_with`], then its assignments written to `output`: the output is
    /// written under a temporary name before the index commits and renamed into place after.
    pub fn add_file_to(
        &mut self,
        input: &Path,
        output: &Path,
        options: &AddOptions,
    ) -> Result<AddReport> {
        let out = AtomicFile::create(output)?;
        let report = self.add_file_with(input, options)?;
        let mut out = out;
        out.write_all(&Self::assignments_csv(&report.assignments))?;
        out.commit()?;
        Ok(report)
    }
}

/// The splits listed for review in one write transaction: those listed before it (read once)
/// and those it lists.
struct SplitLog {
    known: Vec<Split>,
    listed: Vec<Split>,
}

impl SplitLog {
    /// Reads the splits already listed in `table`.
    fn read(
        table: &redb::Table<u64, &str>,
        we: &impl Fn(redb::Error) -> Error,
    ) -> Result<SplitLog> {
        let mut known = Vec::new();
        for e in table.iter().map_err(|e| we(e.into()))? {
            let (_, v) = e.map_err(|e| we(e.into()))?;
            if let Ok(s) = serde_json::from_str::<Split>(v.value()) {
                known.push(s);
            }
        }
        Ok(SplitLog {
            known,
            listed: Vec::new(),
        })
    }

    /// Lists `split` under the next log number, unless the same person with the same parts is
    /// listed already.
    fn list(
        &mut self,
        table: &mut redb::Table<u64, &str>,
        next_log: &mut u64,
        split: Split,
        we: &impl Fn(redb::Error) -> Error,
    ) -> Result<()> {
        let seen = |k: &Split| k.person == split.person && k.parts == split.parts;
        if self.known.iter().chain(&self.listed).any(seen) {
            return Ok(());
        }
        *next_log += 1;
        table
            .insert(*next_log, json(&split)?.as_str())
            .map_err(|e| we(e.into()))?;
        self.listed.push(split);
        Ok(())
    }
}

/// Inserts every entry of `from` (`recent_blocks`, `total` entries) into `into` (`blocks`), in
/// key order, reporting progress and looking at the cancel flag every [`COMPACT_CHUNK`] entries;
/// returns the entries copied.
fn copy_entries(
    from: &redb::MultimapTable<u64, u64>,
    into: &mut redb::MultimapTable<u64, u64>,
    control: &RunControl<'_>,
    total: u64,
    we: &impl Fn(redb::Error) -> Error,
) -> Result<u64> {
    let mut copied = 0u64;
    for e in from.iter().map_err(|e| we(e.into()))? {
        let (k, vs) = e.map_err(|e| we(e.into()))?;
        for v in vs {
            let v = v.map_err(|e| we(e.into()))?;
            into.insert(k.value(), v.value())
                .map_err(|e| we(e.into()))?;
            copied += 1;
            if copied.is_multiple_of(COMPACT_CHUNK) {
                control.check_cancel()?;
                control.report(Progress::stage("compacting", copied, total));
            }
        }
    }
    Ok(copied)
}

/// Moves an index of format version 1 (without `recent_blocks`) to the current version: the
/// table is created, empty, and the version written, in one transaction.
fn migrate_from_1(db: &Database, path: &Path, mut settings: Settings) -> Result<Settings> {
    let we = |e: redb::Error| store_error("write", path, e);
    settings.format_version = INDEX_FORMAT_VERSION;
    let txn = db.begin_write().map_err(|e| we(e.into()))?;
    {
        txn.open_multimap_table(RECENT_BLOCKS)
            .map_err(|e| we(e.into()))?;
        let mut meta = txn.open_table(META).map_err(|e| we(e.into()))?;
        meta.insert("settings", json(&settings)?.as_str())
            .map_err(|e| we(e.into()))?;
    }
    txn.commit().map_err(|e| we(e.into()))?;
    Ok(settings)
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Invalid(format!("cannot serialise: {e}")))
}

/// A new, empty database file readable by its owner only (it holds pseudonymised personal data),
/// created exclusively.
fn new_database(path: &Path) -> Result<Database> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(path)
        .map_err(|e| Error::io("create", path, e))?;
    Database::builder()
        .create_file(file)
        .map_err(|e| db_error(path, e))
}

fn sync_file(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("sync", path, e))
}

fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// For the crash-safety test: with `PSEUDOLINK_INDEX_TEST_PAUSE=<point>` in the environment, the
/// process stops at `point` for ten seconds (the test kills it there). Nothing else reads it.
fn crash_point(point: &str) {
    if std::env::var("PSEUDOLINK_INDEX_TEST_PAUSE").is_ok_and(|p| p == point) {
        eprintln!("pseudolink: paused at {point}");
        std::thread::sleep(std::time::Duration::from_secs(10));
    }
}
