//! Encoding one record with the default schema (single thread).
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pseudolink::{Encoder, Schema, Secret};
use pseudolink_synth::{generate, SynthConfig};

fn bench_encode(c: &mut Criterion) {
    let schema = Schema::example();
    let secret = Secret::from_bytes(&[9u8; 32]).unwrap_or_else(|e| panic!("{e}"));
    let encoder = Encoder::new(&schema, &secret);
    let config = SynthConfig {
        people: 5_000,
        seed: 3,
        ..SynthConfig::default()
    };
    let data = generate(&config).unwrap_or_else(|e| panic!("{e}"));
    let rows: Vec<[String; 9]> = data.extracts[0]
        .1
        .iter()
        .map(|r| {
            [
                r.record_id.clone(),
                r.first_name.clone(),
                r.middle_name.clone(),
                r.last_name.clone(),
                r.date_of_birth.clone(),
                r.sex.clone(),
                r.postcode.clone(),
                r.address_line_1.clone(),
                r.nhs_number.clone(),
            ]
        })
        .collect();
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(rows.len() as u64));
    group.bench_function("record_to_csv_row", |b| {
        let mut scratch = encoder.scratch();
        let mut out = Vec::with_capacity(1 << 20);
        b.iter(|| {
            out.clear();
            for r in &rows {
                if let Ok((record, _)) = encoder.encode_values(r, &mut scratch) {
                    record.write_csv_row(encoder.layout(), &mut out);
                    out.push(b'\n');
                }
            }
            out.len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_encode);
criterion_main!(benches);
