//! `pseudolink synth`.

use std::path::PathBuf;

use pseudolink::Result;
use pseudolink_synth::{generate, write, SynthConfig};

use crate::exit::from_synth;

/// Arguments of `pseudolink synth`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Size of the population.
    #[arg(long)]
    pub people: usize,
    /// Random seed (the same seed gives the same files).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output folder (created).
    #[arg(long)]
    pub out: PathBuf,
    /// Number of agency extracts.
    #[arg(long, default_value_t = 2)]
    pub agencies: usize,
    /// Probability that a person appears in a given agency.
    #[arg(long)]
    pub coverage: Option<f64>,
    /// Probability that a person is recorded twice within one agency.
    #[arg(long)]
    pub duplicate_rate: Option<f64>,
    /// Scale of all error probabilities, 0 to 3 (0 = clean copies, 1 = realistic, 2.5 = heavy).
    #[arg(long)]
    pub error_rate: Option<f64>,
}

/// Runs the synth command.
pub fn run(args: &Args) -> Result<()> {
    let mut config = SynthConfig {
        people: args.people,
        seed: args.seed,
        agencies: args.agencies,
        ..SynthConfig::default()
    };
    if let Some(c) = args.coverage {
        config.coverage = c;
    }
    if let Some(d) = args.duplicate_rate {
        config.duplicate_rate = d;
    }
    if let Some(e) = args.error_rate {
        config.error_rate = e;
    }
    let data = generate(&config).map_err(from_synth)?;
    let paths = write(&data, &args.out).map_err(from_synth)?;
    for (name, records) in &data.extracts {
        println!("{name}: {} records", records.len());
    }
    for p in paths {
        println!("wrote {}", p.display());
    }
    Ok(())
}
