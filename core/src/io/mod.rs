//! Files: raw extracts in, encoded extracts and manifests out, and back in for linking.

pub(crate) mod atomic;
pub mod encoded;
pub mod manifest;
pub(crate) mod raw;
pub(crate) mod table;
pub mod text;

pub use encoded::{read_encoded, EncodedExtract, ReadOptions};
pub use manifest::{manifest_path, Manifest};
pub use raw::{add_column, parse_column_arg, read_column_map, ColumnMap};
