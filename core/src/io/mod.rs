//! Files: raw extracts in (CSV text, Excel workbooks, Parquet), encoded extracts and manifests out, and back in for linking.

pub(crate) mod atomic;
pub mod cells;
pub mod encoded;
pub(crate) mod encoded_parquet;
pub mod manifest;
pub(crate) mod parquet;
pub(crate) mod raw;
pub(crate) mod sheet;
pub(crate) mod table;
pub mod text;

pub use cells::InputKind;
pub use encoded::{read_encoded, EncodedExtract, ReadOptions};
pub use manifest::{manifest_path, Manifest};
pub use raw::{add_column, column_map_with, parse_column_arg, read_column_map, ColumnMap};
