//! The red team against crafted and synthetic extracts whose truth is known.
