//! One module per subcommand.

pub mod audit;
pub mod encode;
pub mod evaluate;
pub mod index;
pub mod keygen;
pub mod link;
pub mod progress;
pub mod report;
pub mod synth;
