//! STUB
#![allow(missing_docs, clippy::all)]
#[derive(Debug, Clone)]
pub struct SynthConfig {
    pub people: usize,
    pub seed: u64,
    pub agencies: usize,
    pub coverage: f64,
    pub duplicate_rate: f64,
    pub error_rate: f64,
}
impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            people: 0,
            seed: 0,
            agencies: 2,
            coverage: 0.7,
            duplicate_rate: 0.03,
            error_rate: 1.0,
        }
    }
}
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SynthError {
    #[error("{0}")]
    Config(String),
}
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SynthRecord {
    pub record_id: String,
}
pub struct SynthData {
    pub extracts: Vec<(String, Vec<SynthRecord>)>,
}
pub fn generate(_c: &SynthConfig) -> Result<SynthData, SynthError> {
    Err(SynthError::Config("stub".into()))
}
pub fn write(_d: &SynthData, _p: &std::path::Path) -> Result<Vec<std::path::PathBuf>, SynthError> {
    Ok(vec![])
}
