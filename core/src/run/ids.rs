//! The duplicate record id check of the encoders, in bounded memory.
//!
//! A row is rejected as `duplicate_record_id` when it passed the other row checks and an earlier
//! row that passed them had the same record id (compared by its 128-bit hash, [`id_hash`]); the
//! first such row is kept. A row's verdict therefore depends only on the rows before it.
//!
//! The check keeps the hashes of the accepted ids in a hash set while the set fits in its memory
//! budget ([`EncodeOptions::id_memory`](super::EncodeOptions::id_memory)). When the next
//! new id would not fit, and the input is a regular file (file-to-file encoding), the set is freed
//! and the input is read once more from the start, through the [`Reread`] its source hands the
//! check, with the same row checks:
//! the (id hash, row number) of every row that passes them are sorted on disk in runs of bounded
//! size ([`spill`](super::spill)); merging the runs gives, for each hash, every row after its
//! first: the duplicates. Their row numbers, sorted the same way, are then read in step with the
//! rows being encoded. Rows before the switch were decided by the set, rows from it on by the
//! scan; both apply the same rule, so the outputs are the same bytes whichever decided.
//!
//! The temporary files hold id hashes and row numbers, never record ids, and are anonymous
//! (removed by the operating system when closed, even if the process is killed). The input is read
//! twice after a switch: if its keyed hash differs between the two readings (the file changed),
//! the run fails instead of writing an extract whose rejects might not match it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use csv::ByteRecord;
use rustc_hash::FxHashSet;

use crate::encode::message;
use crate::error::{Error, Location, Result};
use crate::io::raw::RawLayout;
use crate::secret::DerivedKey;

use super::spill::{Disk, Fixed, Sorted, Sorter};
use crate::control::{Progress, RunControl};

/// Default memory budget of the duplicate record id check, in bytes (64 MiB): about 1.8 million
/// distinct ids are checked in memory; beyond that the check goes to disk (file to file only).
pub const DEFAULT_ID_MEMORY: usize = 64 << 20;

/// Largest budget that can be asked for, in MiB (1 TiB).
pub const MAX_ID_MEMORY_MIB: u64 = 1 << 20;

/// The budget in bytes of `mib` MiB (as `--id-memory MIB` takes it): from 1 to
/// [`MAX_ID_MEMORY_MIB`], else an invalid-argument error.
///
/// ```
/// use pseudolink::run::id_memory_from_mib;
/// assert_eq!(id_memory_from_mib(64).unwrap(), 64 << 20);
/// assert!(id_memory_from_mib(0).is_err());
/// ```
pub fn id_memory_from_mib(mib: u64) -> crate::Result<usize> {
    if !(1..=MAX_ID_MEMORY_MIB).contains(&mib) {
        return Err(crate::Error::Invalid(format!(
            "the id memory must be from 1 to {MAX_ID_MEMORY_MIB} MiB, not {mib}"
        )));
    }
    usize::try_from(mib << 20).map_err(|_| {
        crate::Error::Invalid(format!(
            "{mib} MiB does not fit this machine's address space"
        ))
    })
}

/// What a budget allows each part of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Limits {
    /// Ids held in the in-memory set.
    pub(super) in_memory: usize,
    /// (hash, row) entries per sorted run of the scan.
    pub(super) scan_run: usize,
    /// Row numbers per sorted run of duplicates.
    pub(super) duplicate_run: usize,
    /// Runs merged at once.
    pub(super) fan_in: usize,
    /// Buffer of each temporary file reader or writer, in bytes.
    pub(super) io_buffer: usize,
}

/// Fewest values per sorted run, whatever the budget (a budget under 2 KiB is only for tests).
const MIN_RUN: usize = 64;

/// Bytes of one (hash, row) entry in memory and on disk.
const ENTRY_BYTES: usize = 24;

impl Limits {
    /// The limits that keep the check within `bytes`: the in-memory set including the moment it
    /// grows (old and new tables both allocated); then the readers of one merge (`fan_in` I/O
    /// buffers, at most a quarter of the budget) and, while scanning, the scan's buffer, or, while
    /// finding duplicates, the readers of a second merge and the duplicates' buffer. The run being
    /// written adds one I/O buffer (at most 64 KiB). Budgets under about 8 KiB are for tests: the
    /// runs and merges then have floors of their own.
    pub(super) fn for_budget(bytes: usize) -> Limits {
        let io_buffer = (bytes / 128).clamp(512, 64 << 10);
        let fan_in = (bytes / 4 / io_buffer).clamp(2, 64);
        let readers = fan_in * io_buffer;
        Limits {
            in_memory: ids_in_memory(bytes),
            scan_run: (bytes.saturating_sub(readers) / ENTRY_BYTES).max(MIN_RUN),
            duplicate_run: (bytes.saturating_sub(2 * readers) / 8).max(MIN_RUN),
            fan_in,
            io_buffer,
        }
    }
}

/// The most ids a `FxHashSet<u128>` may hold within `budget` bytes, growth included. Its table
/// (hashbrown) has a power of two of buckets, each 16 bytes of value and one control byte (plus 16
/// control bytes), holds up to 7/8 of them (buckets - 1 below 8), and doubles when full, both
/// tables allocated while it moves.
fn ids_in_memory(budget: usize) -> usize {
    let table = |buckets: usize| buckets.saturating_mul(17).saturating_add(16);
    let capacity = |buckets: usize| {
        if buckets < 8 {
            buckets - 1
        } else {
            buckets / 8 * 7
        }
    };
    let mut best = 0;
    let mut buckets = 4usize;
    while buckets <= usize::MAX / 64 && table(buckets).saturating_add(table(buckets / 2)) <= budget
    {
        best = capacity(buckets);
        buckets *= 2;
    }
    best
}

/// A second reading of the input, from its first row: what the source of a run hands the check
/// so that it can go to disk (a CSV file can be read again; a table in memory need not be).
pub(super) trait Reread: Sync {
    /// The input, for messages.
    fn path(&self) -> &Path;
    /// Whether the input can be read a second time (a regular file, not a pipe).
    fn can_reread(&self) -> Result<bool>;
    /// How far the run's own reading of the input has got, in bytes.
    fn bytes_read(&self) -> u64;
    /// Reads the input again from its first row, giving each row with the column mapping of
    /// that reading to `row`, in order. Returns the keyed hash and size of the whole input when
    /// the reading reached its end, `None` when it stopped at a reading error (where the run's
    /// own reading stops too, if the file is unchanged); an error of `row` stops it and is
    /// returned.
    fn reread(
        &self,
        row: &mut dyn FnMut(&RawLayout, &ByteRecord) -> Result<()>,
    ) -> Result<Option<(String, u64)>>;
}

/// The stage's name in [`Timings`](super::Timings).
const STAGE: &str = "record id check on disk";

/// What a switch to disk needs: the input to read again, where to put the temporary files, the
/// run's control.
struct Rescan<'a> {
    reread: &'a dyn Reread,
    temp_dir: PathBuf,
    budget: usize,
    control: RunControl<'a>,
}

/// The duplicate record id check of one run.
pub(super) struct IdCheck<'a> {
    seen: FxHashSet<u128>,
    limits: Limits,
    rescan: Option<Rescan<'a>>,
    plan: Option<Duplicates<'a>>,
}

impl<'a> IdCheck<'a> {
    /// A check held in memory whatever the number of ids (the in-memory encoders, which hold
    /// the whole extract anyway).
    pub(super) fn unbounded() -> Self {
        IdCheck {
            seen: FxHashSet::default(),
            limits: Limits {
                in_memory: usize::MAX,
                ..Limits::for_budget(0)
            },
            rescan: None,
            plan: None,
        }
    }

    /// A check within `budget` bytes that goes on on disk, in `temp_dir`, reading the input
    /// again through `reread`.
    pub(super) fn bounded(
        budget: usize,
        temp_dir: PathBuf,
        reread: &'a dyn Reread,
        control: RunControl<'a>,
    ) -> Self {
        IdCheck {
            seen: FxHashSet::default(),
            limits: Limits::for_budget(budget),
            rescan: Some(Rescan {
                reread,
                temp_dir,
                budget,
                control,
            }),
            plan: None,
        }
    }

    /// Whether the id of [`id_hash`] `hash` is used here for the first time, for the `row`-th row
    /// of the input (1-based, counting every row read) at `line`, which passed the other row
    /// checks. Called in row order.
    pub(super) fn first_use(&mut self, hash: u128, row: u64, line: u64) -> Result<bool> {
        if let Some(plan) = &mut self.plan {
            return plan.is_duplicate(row, line).map(|d| !d);
        }
        // A set that cannot grow (out of memory) goes to disk like a full one. With room, one
        // lookup both checks and records the id.
        if self.seen.len() < self.limits.in_memory && self.seen.try_reserve(1).is_ok() {
            return Ok(self.seen.insert(hash));
        }
        if self.seen.contains(&hash) {
            return Ok(false);
        }
        let Some(rescan) = self.rescan.take() else {
            return Err(Error::Invalid(
                "the record id check has no memory and no way to go to disk".into(),
            ));
        };
        // Free the set before the scan takes its own memory.
        self.seen = FxHashSet::default();
        let limits = &self.limits;
        let mut plan = rescan
            .control
            .time(STAGE, || scan(&rescan, limits, row, line))?;
        let duplicate = plan.is_duplicate(row, line)?;
        self.plan = Some(plan);
        Ok(!duplicate)
    }

    /// At the end of the input, whose keyed hash and size are given: fails if the check went to
    /// disk and the scan read other bytes (the file changed between the two readings).
    pub(super) fn check_input(&self, blake3: &str, bytes: u64) -> Result<()> {
        match &self.plan {
            Some(plan) => match &plan.whole {
                Some((b, n)) if b == blake3 && *n == bytes => Ok(()),
                _ => Err(changed(&plan.input, None)),
            },
            None => Ok(()),
        }
    }

    /// Whether the check went to disk.
    pub(super) fn on_disk(&self) -> bool {
        self.plan.is_some()
    }
}

fn changed(input: &Path, line: Option<u64>) -> Error {
    Error::input(
        Location {
            file: Some(input.to_path_buf()),
            line,
            field: None,
        },
        "the file changed while it was being encoded (it is read twice when its record ids are \
         too many to check in memory); encode it again when nothing is writing to it",
    )
}

/// The duplicates found by a scan: row numbers, in order, read in step with the encoding.
struct Duplicates<'a> {
    rows: Sorted<'a, u64>,
    next: Option<u64>,
    /// Rows the scan read (all of them when it reached the end).
    scanned: u64,
    /// The keyed hash and size of the input, when the scan read all of it.
    whole: Option<(String, u64)>,
    input: PathBuf,
}

impl Duplicates<'_> {
    fn is_duplicate(&mut self, row: u64, line: u64) -> Result<bool> {
        if row > self.scanned {
            // The scan stopped at a reading error before this row, where encoding would stop too.
            return Err(changed(&self.input, Some(line)));
        }
        while let Some(next) = self.next {
            if next > row {
                break;
            }
            self.next = self.rows.next()?;
            if next == row {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// A scanned row that passed the checks: its id hash (two halves) and row number. Sorting puts
/// equal hashes together, first row first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    high: u64,
    low: u64,
    row: u64,
}

impl Fixed for Entry {
    fn put(self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        self.high.put(out)?;
        self.low.put(out)?;
        self.row.put(out)
    }
    fn get(input: &mut impl std::io::Read) -> std::io::Result<Self> {
        Ok(Entry {
            high: u64::get(input)?,
            low: u64::get(input)?,
            row: u64::get(input)?,
        })
    }
}

/// Reads the whole input again and finds the duplicate rows; `line` is where the switch happened.
fn scan<'a>(rescan: &Rescan<'a>, limits: &Limits, row: u64, line: u64) -> Result<Duplicates<'a>> {
    let input = rescan.reread.path();
    if !rescan.reread.can_reread()? {
        return Err(Error::input(
            Location::at(Some(input), line),
            format!(
                "more than {} different record ids: more than the record id check holds in its \
                 memory ({} MiB), and the input is not a regular file (a pipe?), so it cannot be \
                 read a second time to check the rest on disk; save it to a file first, or give \
                 the check more memory (--id-memory)",
                limits.in_memory,
                rescan.budget >> 20
            ),
        ));
    }
    let control = rescan.control;
    let disk = Disk {
        dir: rescan.temp_dir.clone(),
        fan_in: limits.fan_in,
        io_buffer: limits.io_buffer,
        cancel: control.cancel_flag(),
    };
    // Encoding waits while the input is read again: the reports say how far that reading is.
    let report = |id_scan_bytes: u64| {
        control.report(Progress::encoding(
            rescan.reread.bytes_read(),
            row.saturating_sub(1),
            true,
            id_scan_bytes,
        ));
    };
    let mut entries = Sorter::new(limits.scan_run, disk.clone());
    let mut scanned = 0u64;
    let whole = rescan.reread.reread(&mut |raw, record| {
        scanned += 1;
        if scanned.is_multiple_of(1 << 16) {
            if control.cancelled() {
                return Err(Error::Cancelled);
            }
            report(record.position().map_or(1, |p| p.byte().max(1)));
        }
        let at = record.position().map(|p| p.line()).unwrap_or(0);
        if raw.check_row(record, at).is_ok() {
            let hash = id_hash(raw.record_id(record));
            entries.push(Entry {
                high: (hash >> 64) as u64,
                low: hash as u64,
                row: scanned,
            })?;
        }
        Ok(())
    })?;
    // Read to the end; the sorting that follows is shown as a full bar.
    if let Some((_, bytes)) = &whole {
        report((*bytes).max(1));
    }
    let mut duplicates = Sorter::new(limits.duplicate_run, disk);
    let mut sorted = entries.finish()?;
    let mut first: Option<(u64, u64)> = None;
    while let Some(e) = sorted.next()? {
        if first == Some((e.high, e.low)) {
            duplicates.push(e.row)?;
        } else {
            first = Some((e.high, e.low));
        }
    }
    drop(sorted);
    let mut rows = duplicates.finish()?;
    let next = rows.next()?;
    Ok(Duplicates {
        rows,
        next,
        scanned,
        whole,
        input: input.to_path_buf(),
    })
}

/// The key of [`id_hash`]: public, as the hashes only stand in for the ids within one run.
fn id_key() -> &'static DerivedKey {
    static KEY: OnceLock<DerivedKey> = OnceLock::new();
    KEY.get_or_init(|| DerivedKey::public("pseudolink record id check"))
}

/// The 128-bit hash by which the duplicate record id check compares ids: the first 16 bytes of
/// keyed BLAKE3 (under a public key) of the id's [`message`].
pub(super) fn id_hash(id: &str) -> u128 {
    hash_prefix(&message::hash(id_key(), id.as_bytes()))
}

/// [`id_hash`] of many ids at once, hashing those of one block side by side (about 11 ns an id
/// instead of 60), with its working memory kept from call to call.
#[derive(Default)]
pub(super) struct IdHashes {
    blocks: Vec<[u8; 64]>,
    hashes: Vec<[u8; 32]>,
    out: Vec<u128>,
}

impl IdHashes {
    /// [`id_hash`] of each of `ids`, in order.
    pub(super) fn of(&mut self, ids: &[&str]) -> &[u128] {
        self.blocks.clear();
        for id in ids {
            // A long id gets a placeholder here and its own hash below.
            self.blocks
                .push(message::one_block(id.as_bytes()).unwrap_or([0; 64]));
        }
        self.hashes.resize(self.blocks.len(), [0; 32]);
        id_key().hash_blocks(&self.blocks, &mut self.hashes);
        self.out.clear();
        for (id, hash) in ids.iter().zip(&self.hashes) {
            self.out.push(if id.len() <= message::ONE_BLOCK_INPUT {
                hash_prefix(hash)
            } else {
                id_hash(id)
            });
        }
        &self.out
    }
}

fn hash_prefix(hash: &[u8; 32]) -> u128 {
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash[..16]);
    u128::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::Encoder;
    use crate::io::Manifest;
    use crate::run::source::CsvSource;
    use crate::run::{encode_file, EncodeOptions, Rejects, RunControl};
    use crate::{Schema, Secret};
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn the_in_memory_set_stays_within_its_budget() {
        assert_eq!(ids_in_memory(0), 0);
        // 4 buckets (3 ids): 84 bytes, with the 2-bucket table it grew from 134.
        assert_eq!(ids_in_memory(133), 0);
        assert_eq!(ids_in_memory(134), 3);
        // The default: 2^21 buckets, 1,835,008 ids, 35.7 MB (53.5 MB while growing).
        assert_eq!(ids_in_memory(DEFAULT_ID_MEMORY), 1_835_008);
        assert!(ids_in_memory(usize::MAX) > 0);
        // What the set really allocates when filled to the limit.
        for budget in [1000, 8 << 10, 1 << 20] {
            let n = ids_in_memory(budget);
            let mut set = FxHashSet::default();
            for i in 0..n as u128 {
                set.insert(i.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835));
            }
            let buckets = (set.capacity() * 8 / 7).next_power_of_two();
            assert!(
                buckets * 17 + 16 + (buckets / 2) * 17 + 16 <= budget,
                "{budget}"
            );
        }
    }

    #[test]
    fn limits_fit_the_budget() {
        for budget in [8 << 10, 1 << 20, DEFAULT_ID_MEMORY, 1 << 30] {
            let l = Limits::for_budget(budget);
            let readers = l.fan_in * l.io_buffer;
            assert!(readers <= budget / 4, "{budget}");
            assert!(readers + l.scan_run * ENTRY_BYTES <= budget, "{budget}");
            assert!(readers + l.scan_run * ENTRY_BYTES > budget - ENTRY_BYTES);
            assert!(2 * readers + l.duplicate_run * 8 <= budget, "{budget}");
        }
        let l = Limits::for_budget(DEFAULT_ID_MEMORY);
        assert_eq!((l.fan_in, l.io_buffer), (64, 64 << 10));
        assert_eq!(l.scan_run, 2_621_440);
        let tiny = Limits::for_budget(0);
        assert_eq!(
            (tiny.in_memory, tiny.fan_in, tiny.scan_run),
            (0, 2, MIN_RUN)
        );
    }

    fn encoder() -> Encoder {
        Encoder::new(&Schema::example(), &Secret::from_bytes(&[5u8; 32]).unwrap())
    }

    /// Few columns the schema reads, without names: fast to encode in a debug build.
    const HEADER: &str = "record_id,sex,date_of_birth\n";

    /// One row of a generated input: a valid row for `id`, or a row rejected for another reason
    /// whose id is `id` too.
    fn row(kind: u8, id: &str, i: usize) -> Vec<u8> {
        let mut r = match kind {
            // Wrong cell count.
            0 => format!("{id},F").into_bytes(),
            // Invalid UTF-8 in a cell the schema reads.
            1 => {
                let mut b = format!("{id},F").into_bytes();
                b.extend_from_slice(b"\xff,2001-02-03");
                b
            }
            // Empty id.
            2 => format!(" ,F,2001-02-{:02}", i % 28 + 1).into_bytes(),
            // NUL byte in the id.
            3 => format!("{id}\0,F,2001-02-03").into_bytes(),
            // Valid, the id padded with spaces (the same id once trimmed).
            4 => format!("  {id} ,M,1990-01-{:02}", i % 28 + 1).into_bytes(),
            // Valid, a quoted cell over two lines.
            5 => format!("{id},\"F\nx\",1980-12-{:02}", i % 28 + 1).into_bytes(),
            // Valid.
            _ => format!(
                "{id},{},19{:02}-0{}-1{}",
                ["F", "M", ""][i % 3],
                i % 100,
                i % 9 + 1,
                i % 9
            )
            .into_bytes(),
        };
        r.push(b'\n');
        r
    }

    /// A file of `rows` rows whose ids are drawn from `ids` distinct values (so duplicates are
    /// spread over the whole file), one row in 10 rejected for another reason; its first row's id
    /// comes back as the last row.
    fn generated(path: &Path, rows: usize, ids: usize, seed: u64) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut text = HEADER.as_bytes().to_vec();
        for i in 0..rows {
            let id = if i + 1 == rows {
                "id0".to_string()
            } else {
                format!("id{}", if i == 0 { 0 } else { rng.gen_range(0..ids) })
            };
            let kind = if i == 0 || i + 1 == rows {
                9
            } else {
                rng.gen_range(0u8..60)
            };
            text.extend(row(kind, &id, i));
        }
        std::fs::write(path, text).unwrap();
    }

    /// The outputs of one run: extract, rejects, manifest (without times and paths) or error.
    #[derive(Debug, Clone, PartialEq)]
    enum Outcome {
        Done {
            extract: Vec<u8>,
            rejects: Option<Vec<u8>>,
            manifest: Box<Manifest>,
        },
        Failed(String),
    }

    /// Encodes `input` file to file within `budget`; says whether the id check went to disk.
    fn encode_on(input: &Path, budget: Option<usize>, keep_rejects: bool) -> (Outcome, bool) {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        let rejects = dir.path().join("rejects.csv");
        let on_disk = AtomicBool::new(false);
        let reports = std::sync::Mutex::new(Vec::new());
        let progress = |p: crate::run::Progress| {
            if p.ids_on_disk {
                on_disk.store(true, Ordering::Relaxed);
            }
            reports.lock().unwrap().push(p);
        };
        let options = EncodeOptions {
            rejects: Rejects::from(keep_rejects.then(|| rejects.clone())),
            id_memory: budget,
            ..EncodeOptions::default()
        };
        let control = RunControl::new().progress(&progress);
        let result = encode_file(&encoder(), input, &out, &options, &control);
        // A run that went to disk reported its second reading (at its end, at least), and the
        // chunks encoded after it report no second reading.
        let reports = reports.lock().unwrap().clone();
        if let Some(at) = reports.iter().position(|p| p.id_scan_bytes > 0) {
            assert!(reports[at..].iter().all(|p| p.ids_on_disk));
            assert!(reports[at..]
                .iter()
                .skip_while(|p| p.id_scan_bytes > 0)
                .all(|p| p.id_scan_bytes == 0));
        } else if result.is_ok() {
            assert!(!on_disk.load(Ordering::Relaxed), "{reports:?}");
        }
        let outcome = outcome(result, dir.path(), &out, keep_rejects.then_some(&rejects));
        (outcome, on_disk.load(Ordering::Relaxed))
    }

    fn encode(input: &Path, budget: Option<usize>, keep_rejects: bool) -> Outcome {
        encode_on(input, budget, keep_rejects).0
    }

    fn outcome(
        result: Result<Manifest>,
        dir: &Path,
        out: &Path,
        rejects: Option<&PathBuf>,
    ) -> Outcome {
        let keep_rejects = rejects.is_some();
        // Nothing but the outputs is left behind: temporary files are anonymous.
        let mut left: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        match result {
            Ok(mut manifest) => {
                let expected: &[&str] = if keep_rejects {
                    &["out.csv", "out.csv.manifest.json", "rejects.csv"]
                } else {
                    &["out.csv", "out.csv.manifest.json"]
                };
                assert_eq!(left, expected);
                manifest.run.started_at.clear();
                manifest.run.finished_at.clear();
                manifest.output.path.clear();
                manifest.rejects = None;
                Outcome::Done {
                    extract: std::fs::read(out).unwrap(),
                    rejects: rejects.map(|r| std::fs::read(r).unwrap()),
                    manifest: Box::new(manifest),
                }
            }
            Err(e) => {
                assert!(left.is_empty(), "{left:?}");
                Outcome::Failed(e.to_string())
            }
        }
    }

    /// Distinct ids of the rows that pass the other checks.
    fn accepted_ids(outcome: &Outcome) -> u64 {
        match outcome {
            Outcome::Done { manifest, .. } => manifest.counts.encoded,
            Outcome::Failed(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_tiny_budget_gives_the_bytes_of_the_unbounded_check() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        generated(&input, 20_000, 15_000, 1);
        let unbounded = encode(&input, Some(usize::MAX), true);
        let encoded = accepted_ids(&unbounded);
        let Outcome::Done { manifest, .. } = &unbounded else {
            unreachable!()
        };
        let dups = manifest.rejected_by_reason["duplicate_record_id"];
        assert!(dups > 3_000, "{dups}");
        assert!(manifest.rejected_by_reason.len() >= 4, "{manifest:?}");
        // The default budget keeps these ids in memory; it gives the same bytes too.
        assert_eq!(encode_on(&input, None, true), (unbounded.clone(), false));
        // 0: every id on disk from the first row, runs of 64 rows merged two at a time (8
        // levels); 8 KiB: 224 ids in memory, runs of 256 rows merged four at a time, 512
        // duplicates per run; 64 KiB: 1,792 ids, runs of 2,048 rows.
        for budget in [0, 8 << 10, 64 << 10] {
            let limits = Limits::for_budget(budget);
            assert!((limits.in_memory as u64) < encoded);
            assert!(limits.scan_run < 20_000 / 4);
            assert_eq!(
                encode_on(&input, Some(budget), true),
                (unbounded.clone(), true),
                "{budget}"
            );
        }
    }

    #[test]
    fn without_rejects_the_same_first_bad_row_stops_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        // 3,000 good rows, then a duplicate of row 2 (line 3): the first bad row.
        let mut text = HEADER.as_bytes().to_vec();
        for i in 0..3_000 {
            text.extend(row(9, &format!("id{i}"), i));
        }
        text.extend(row(4, "id1", 0));
        text.extend(row(0, "id7", 0));
        std::fs::write(&input, &text).unwrap();
        let unbounded = encode(&input, Some(usize::MAX), false);
        let Outcome::Failed(e) = &unbounded else {
            panic!("{unbounded:?}")
        };
        assert!(
            e.contains("line 3002") && e.contains("'id1' was already used"),
            "{e}"
        );
        assert_eq!(encode(&input, Some(8 << 10), false), unbounded);
        assert_eq!(encode(&input, Some(0), false), unbounded);
        // With rejects both rows are set aside, the same way.
        let kept = encode(&input, Some(usize::MAX), true);
        assert_eq!(accepted_ids(&kept), 3_000);
        assert_eq!(encode(&input, Some(8 << 10), true), kept);
    }

    #[test]
    fn a_malformed_row_after_the_switch_stops_the_run_the_same_way() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        let mut text = HEADER.as_bytes().to_vec();
        for i in 0..2_000 {
            text.extend(row(9, &format!("id{}", i % 1_500), i));
        }
        // An unbalanced quote (fatal), then more rows.
        text.extend(b"id9,\"Ann,Lee,2001-02-03\nid10,Bo,Day,1990-01-01\n");
        for i in 0..500 {
            text.extend(row(9, &format!("x{i}"), i));
        }
        std::fs::write(&input, &text).unwrap();
        let unbounded = encode(&input, Some(usize::MAX), true);
        assert!(matches!(&unbounded, Outcome::Failed(e) if e.contains("unbalanced_quote")));
        assert_eq!(encode(&input, Some(4 << 10), true), unbounded);
    }

    /// A CSV file's second reading, the run's own reading said to be at `.1` bytes.
    struct At<'a>(CsvSource<'a>, u64);

    impl Reread for At<'_> {
        fn path(&self) -> &Path {
            Reread::path(&self.0)
        }
        fn can_reread(&self) -> Result<bool> {
            self.0.can_reread()
        }
        fn bytes_read(&self) -> u64 {
            self.1
        }
        fn reread(
            &self,
            row: &mut dyn FnMut(&RawLayout, &ByteRecord) -> Result<()>,
        ) -> Result<Option<(String, u64)>> {
            self.0.reread(row)
        }
    }

    /// The check driven row by row: the switch to disk happens, and the verdicts are those of a
    /// set of every id.
    #[test]
    fn the_check_goes_to_disk_and_agrees_with_a_set() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let ids: Vec<String> = (0..3_000)
            .map(|_| format!("p{}", rng.gen_range(0..2_000)))
            .collect();
        let mut text = HEADER.to_string();
        for id in &ids {
            text.push_str(&format!("{id},F,2000-01-01\n"));
        }
        std::fs::write(&input, text).unwrap();
        let enc = encoder();
        let reports = std::sync::Mutex::new(Vec::new());
        let progress = |p: Progress| reports.lock().unwrap().push(p);
        let format = Default::default();
        let source = At(CsvSource::new(&enc, &input, &format), 12_345);
        let control = RunControl::new().progress(&progress);
        let mut check = IdCheck::bounded(2 << 10, dir.path().to_path_buf(), &source, control);
        let mut set = std::collections::HashSet::new();
        let mut switched = None;
        for (i, id) in ids.iter().enumerate() {
            let row = i as u64 + 1;
            assert_eq!(
                check.first_use(id_hash(id), row, row + 1).unwrap(),
                set.insert(id.clone()),
                "row {row}"
            );
            if check.on_disk() && switched.is_none() {
                switched = Some(row);
            }
        }
        assert!(check.on_disk());
        // The second reading was reported once it reached the end of the input (the file is
        // too short for the reports every 65,536 rows), with the run's own position.
        let reports = reports.lock().unwrap().clone();
        let size = std::fs::metadata(&input).unwrap().len();
        assert_eq!(reports.len(), 1, "{reports:?}");
        let r = reports[0];
        assert_eq!(
            (r.id_scan_bytes, r.ids_on_disk, r.bytes_read, r.rows),
            (size, true, 12_345, switched.unwrap() - 1)
        );
        let hash = {
            let (mut reader, _) = source.0.open_csv().unwrap();
            let mut r = ByteRecord::new();
            while reader.read_byte_record(&mut r).unwrap() {}
            reader.get_ref().finish()
        };
        check.check_input(&hash.0, hash.1).unwrap();
        // Another file (or the same one changed) is refused.
        let e = check.check_input(&hash.0, hash.1 + 1).unwrap_err();
        assert!(
            e.to_string().contains("changed while it was being encoded"),
            "{e}"
        );
    }

    #[test]
    #[cfg(unix)]
    fn an_input_that_cannot_be_read_twice_is_refused_when_the_memory_is_full() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("pipe.csv");
        let made = std::process::Command::new("mkfifo")
            .arg(&input)
            .status()
            .unwrap();
        assert!(made.success());
        let enc = encoder();
        let format = Default::default();
        let source = CsvSource::new(&enc, &input, &format);
        let control = RunControl::new();
        let mut check = IdCheck::bounded(0, dir.path().to_path_buf(), &source, control);
        let e = check.first_use(id_hash("a"), 1, 2).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("pipe.csv, line 2: "), "{text}");
        assert!(text.contains("not a regular file"), "{text}");
        // The in-memory encoders never go to disk.
        let mut unbounded = IdCheck::unbounded();
        for i in 0..10_000u64 {
            assert!(unbounded
                .first_use(id_hash(&i.to_string()), i + 1, i + 2)
                .unwrap());
        }
        assert!(!unbounded.on_disk());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Any sequence of rows (ids from a small pool, some rows rejected for other reasons)
        /// under any small budget gives the outputs of the unbounded check.
        #[test]
        fn any_rows_under_any_budget_give_the_unbounded_outputs(
            rows in proptest::collection::vec((0u8..12, 0usize..40), 1..250),
            budget in 0usize..3_000,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let input = dir.path().join("in.csv");
            let mut text = HEADER.as_bytes().to_vec();
            for (i, (kind, id)) in rows.iter().enumerate() {
                text.extend(row(*kind, &format!("i{id}"), i));
            }
            std::fs::write(&input, &text).unwrap();
            let (unbounded, on_disk) = encode_on(&input, Some(usize::MAX), true);
            prop_assert!(!on_disk);
            let (bounded, on_disk) = encode_on(&input, Some(budget), true);
            prop_assert_eq!(&bounded, &unbounded);
            if let Outcome::Done { manifest, .. } = &bounded {
                // More distinct accepted ids than the set holds: the check went to disk.
                let limit = Limits::for_budget(budget).in_memory as u64;
                prop_assert_eq!(on_disk, manifest.counts.encoded > limit);
            }
        }
    }

    proptest! {
        #[test]
        fn batched_id_hashes_are_the_id_hashes(ids in proptest::collection::vec("\\PC{0,70}", 0..40)) {
            // Ids of one block and longer (over 60 bytes), more than one SIMD group.
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let mut hashes = IdHashes::default();
            hashes.of(&["left from an earlier call"; 50]);
            let expected: Vec<u128> = ids.iter().map(|id| id_hash(id)).collect();
            prop_assert_eq!(hashes.of(&ids), &expected[..]);
        }
    }

    #[test]
    fn id_hashes_tell_ids_apart() {
        let ids = ["a", "b", "a ", "", &"x".repeat(61), &"x".repeat(62)];
        let mut hashes = IdHashes::default();
        let distinct: std::collections::HashSet<u128> = hashes.of(&ids).iter().copied().collect();
        assert_eq!(distinct.len(), ids.len());
    }
}
