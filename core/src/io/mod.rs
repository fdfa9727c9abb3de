//! Files: raw extracts in, encoded extracts and manifests out, and back in for linking.

pub mod atomic;
pub mod encoded;
pub mod manifest;
pub mod raw;
pub mod text;

pub use atomic::AtomicFile;
pub use manifest::{manifest_path, Manifest};
