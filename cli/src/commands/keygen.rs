//! `pseudolink keygen` and `pseudolink check-key`.

use std::path::Path;

use pseudolink::secret::{file_permission_warning, write_new_secret_file};
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

/// Loads a secret file, warning when others can read it.
pub fn load(path: &Path) -> Result<Secret> {
    if let Some(w) = file_permission_warning(path) {
        eprintln!("pseudolink: warning: {w}");
    }
    Secret::from_file(path)
}

/// Prints the key check value of a secret file.
pub fn check(path: &Path) -> Result<()> {
    let secret = load(path)?;
    println!("key check value: {}", secret.check_value());
    Ok(())
}
