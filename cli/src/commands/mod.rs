//! One module per subcommand.

pub mod audit;
pub mod encode;
pub mod keygen;
pub mod progress;
pub mod synth;
