//! `pseudolink keygen` and `pseudolink check-key`.

use std::path::Path;

use pseudolink::secret::{file_permission_warning, write_new_secret_file};
use pseudolink::{Error, Result, Secret};

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

/// Loads a secret file, warning when others can read it; with `strict` that is an error
/// (exit 5) and the file is not read.
pub fn load(path: &Path, strict: bool) -> Result<Secret> {
    if let Some(w) = file_permission_warning(path) {
        if strict {
            return Err(Error::Secret(format!("{w} (refused because of --strict)")));
        }
        eprintln!("pseudolink: warning: {w}");
    }
    Secret::from_file(path)
}

/// Prints the key check value of a secret file.
pub fn check(path: &Path, strict: bool) -> Result<()> {
    let secret = load(path, strict)?;
    println!("key check value: {}", secret.check_value());
    Ok(())
}
