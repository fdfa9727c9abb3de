//! `pseudolink keygen` and `pseudolink check-key`.

use std::path::Path;

use pseudolink::secret::{load_secret_file, write_new_secret_file};
use pseudolink::{Result, Secret};

/// Writes a new secret file and prints its key check value (never the secret).
pub fn run(output: &Path) -> Result<()> {
    let kcv = write_new_secret_file(output)?;
    println!(
        "wrote a new 256-bit secret to {} (mode 0600)",
        output.display()
    );
    println!("key check value: {kcv}");
    println!("share it only as the Information Sharing Agreement says, out of band; never by email with the data");
    Ok(())
}

/// Loads a secret file, warning on stderr when others can read it; with `strict` that is an
/// error (exit 5) and the file is not read. The check is the core's ([`load_secret_file`]), the
/// same the Python and C bindings make.
pub fn load(path: &Path, strict: bool) -> Result<Secret> {
    let loaded = load_secret_file(path, strict)?;
    for w in &loaded.warnings {
        eprintln!("pseudolink: warning: {w}");
    }
    Ok(loaded.secret)
}

/// Prints the key check value of a secret file.
pub fn check(path: &Path, strict: bool) -> Result<()> {
    let secret = load(path, strict)?;
    println!("key check value: {}", secret.check_value());
    Ok(())
}
