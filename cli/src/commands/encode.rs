//! `pseudolink encode`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use pseudolink::io::manifest_path;
use pseudolink::io::text::TextEncoding;
use pseudolink::io::{self as raw, ColumnMap};
use pseudolink::run::{encode_file, EncodeOptions, Progress, Rejects, RunControl};
use pseudolink::{Encoder, Result, Schema};

use super::progress::{bytes_bar, cancel_flag};

/// Arguments of `pseudolink encode`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The schema file (JSON).
    #[arg(long)]
    pub schema: PathBuf,
    /// The secret file written by `pseudolink keygen`.
    #[arg(long)]
    pub secret_file: PathBuf,
    /// The cleartext extract: CSV text, an Excel workbook (.xlsx) or a Parquet file, told by
    /// its name (.xlsx, .parquet). Cells of a workbook or Parquet file are read as a CSV export shows them.
    #[arg(long)]
    pub input: PathBuf,
    /// The sheet of an Excel workbook to read (default: the first).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// The input's text encoding: utf-8 (the default), windows-1252, latin-1, utf-16 (Excel's
    /// "Unicode text"), utf-16le or utf-16be. A byte order mark at the start of the file wins.
    #[arg(long, value_name = "ENCODING", value_parser = parse_encoding)]
    pub encoding: Option<TextEncoding>,
    /// The input's delimiter: ',' (the default), ';', tab (or 'tab') or '|'.
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
    /// The input's name for a schema column, where it differs: SCHEMA_COLUMN=INPUT_COLUMN, e.g.
    /// first_name=forename. Repeatable.
    #[arg(long = "column", value_name = "SCHEMA=INPUT")]
    pub column: Vec<String>,
    /// A file of column names: a JSON object {"first_name": "forename", ...} (.json) or a CSV
    /// file with the header schema_column,input_column. --column entries are added to it.
    #[arg(long, value_name = "FILE")]
    pub columns: Option<PathBuf>,
    /// The agency's name for this source (e.g. council), recorded in the manifest; links name
    /// their sources by it.
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// The encoded extract to write (its manifest goes to OUTPUT.manifest.json): CSV, or a
    /// Parquet file when its name ends .parquet or .pq.
    #[arg(long)]
    pub output: PathBuf,
    /// Write rejected rows here (line, reason, field, message, record id) instead of failing on
    /// the first bad row. It holds record ids: keep it with the cleartext.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Information Sharing Agreement reference, recorded in the manifest.
    #[arg(long)]
    pub agreement: Option<String>,
    /// Purpose of processing, recorded in the manifest.
    #[arg(long)]
    pub purpose: Option<String>,
    /// Refuse a secret file that other users can read (exit 5) instead of warning.
    #[arg(long)]
    pub strict: bool,
    /// Memory for the duplicate record id check, in MiB (at least 1). The default, 64, checks
    /// about 1.8 million distinct ids in memory (a workbook's or Parquet file's are always checked
    /// in memory); past its limit the input is read a second time
    /// and id hashes are sorted on disk (24 bytes per row, in --temp-dir), with the same output.
    #[arg(long, value_name = "MIB",
          default_value_t = (pseudolink::run::DEFAULT_ID_MEMORY >> 20) as u64,
          value_parser = clap::value_parser!(u64).range(1..=pseudolink::run::MAX_ID_MEMORY_MIB))]
    pub id_memory: u64,
    /// Folder for the temporary files of the duplicate id check (default: the output's folder).
    /// They are removed when the run ends, even when it fails or is interrupted.
    #[arg(long, value_name = "DIR")]
    pub temp_dir: Option<PathBuf>,
}

fn parse_encoding(s: &str) -> std::result::Result<TextEncoding, String> {
    TextEncoding::parse(s).map_err(|e| e.to_string())
}

fn parse_delimiter(s: &str) -> std::result::Result<u8, String> {
    pseudolink::io::text::parse_delimiter(s).map_err(|e| e.to_string())
}

/// The column mapping of `--columns FILE` and every `--column`.
fn column_map(args: &Args) -> Result<ColumnMap> {
    let mut more = ColumnMap::new();
    for arg in &args.column {
        let (from, to) = raw::parse_column_arg(arg)?;
        raw::add_column(&mut more, from, to)?;
    }
    raw::column_map_with(args.columns.as_deref(), &more)
}

/// Runs the encode command.
pub fn run(args: &Args) -> Result<()> {
    let schema = Schema::from_file(&args.schema)?;
    let secret = super::keygen::load(&args.secret_file, args.strict)?;
    let encoder = Encoder::new(&schema, &secret);
    drop(secret);
    let total = std::fs::metadata(&args.input).map(|m| m.len()).unwrap_or(0);
    let bar = bytes_bar(total, "encoding");
    let cancel = cancel_flag();
    let ids_on_disk = AtomicBool::new(false);
    let progress = |p: Progress| {
        // While the id check reads the input a second time, the bar shows that reading.
        if p.id_scan_bytes > 0 {
            bar.set_message("checking record ids (second reading)");
            bar.set_position(p.id_scan_bytes);
        } else {
            bar.set_message("encoding");
            bar.set_position(p.bytes_read);
        }
        if p.ids_on_disk {
            ids_on_disk.store(true, Ordering::Relaxed);
        }
    };
    let options = EncodeOptions {
        rejects: Rejects::from(args.rejects.clone()),
        agreement: args.agreement.clone(),
        purpose: args.purpose.clone(),
        id_memory: Some(pseudolink::run::id_memory_from_mib(args.id_memory)?),
        temp_dir: args.temp_dir.clone(),
        encoding: args.encoding.unwrap_or_default(),
        delimiter: args.delimiter,
        sheet: args.sheet.clone(),
        columns: column_map(args)?,
        source: args.source.clone(),
        keep_sample: false,
    };
    let control = RunControl::new().cancel(&cancel).progress(&progress);
    let started = std::time::Instant::now();
    let result = encode_file(&encoder, &args.input, &args.output, &options, &control);
    bar.finish_and_clear();
    let manifest = result?;
    let secs = started.elapsed().as_secs_f64();
    let c = &manifest.counts;
    println!(
        "read {} rows from {}: {} encoded + {} rejected = {}",
        c.rows_read,
        args.input.display(),
        c.encoded,
        c.rejected,
        c.encoded + c.rejected
    );
    for (reason, n) in &manifest.rejected_by_reason {
        println!("  rejected {n} rows: {reason}");
    }
    if let Some(r) = &args.rejects {
        if c.rejected > 0 {
            println!("  rejected rows are listed in {}", r.display());
        }
    }
    if ids_on_disk.load(Ordering::Relaxed) {
        println!(
            "  record ids: more than --id-memory {} MiB holds in memory: checked on disk (the input was read twice)",
            args.id_memory
        );
    }
    for (field, reasons) in &manifest.missing {
        let parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
        if !parts.is_empty() {
            println!("  {field}: treated as missing: {}", parts.join(", "));
        }
    }
    for col in &manifest.absent_columns {
        println!(
            "  column '{col}' is absent from the input: treated as missing in every row (if the input names it otherwise: --column {col}=<its column>)"
        );
    }
    if !manifest.ignored_columns.is_empty() {
        println!(
            "  columns not used by the schema (not encoded): {}",
            manifest.ignored_columns.join(", ")
        );
    }
    if let Some(format) = &manifest.input.format {
        match &manifest.input.sheet {
            Some(sheet) => println!("  read as {format}, sheet '{sheet}'"),
            None => println!("  read as {format}"),
        }
    }
    if let Some(e) = &manifest.input.text_encoding {
        if e != "utf-8" || manifest.input.delimiter.as_deref() != Some(",") {
            println!(
                "  read as {e}, delimiter {}",
                manifest.input.delimiter.as_deref().unwrap_or(",")
            );
        }
    }
    println!(
        "wrote {} and {}",
        args.output.display(),
        manifest_path(&args.output).display()
    );
    println!(
        "schema {} | key check value {} | {:.2} s, {:.0} rows/s",
        manifest.schema_fingerprint,
        manifest.key_check_value,
        secs,
        c.rows_read as f64 / secs.max(1e-9)
    );
    Ok(())
}
