//! A quick speed check, not a timed test: run with
//! `cargo test --release --test json_perf -- --ignored --nocapture`.

use std::time::Instant;

use sealant::store::json::{self, Indent};

#[test]
#[ignore = "speed check; run in release with --ignored --nocapture"]
fn parse_12_mb() {
    let mut text = String::from("{\n");
    let mut i = 0;
    while text.len() < 12 << 20 {
        text.push_str(&format!(
            "\t\"service_{i}\": {{\n\t\t\"password\": \"ENC[AES256_GCM,data:c2VjcmV0IHZhbHVlIG51bWJlciB{i},iv:Q2hvb3NlIGEgcmFuZG9tIElWIGhlcmUgcGxlYXNl,tag:dGFnIHRhZyB0YWcgdGFn,type:str]\",\n\t\t\"port\": {},\n\t\t\"ratio\": {}.25e-3,\n\t\t\"enabled\": true,\n\t\t\"note\": \"caf\\u00e9 \\\"quoted\\\" \\n line\",\n\t\t\"tags\": [\"a\", \"b\", null, {{}}, []]\n\t}},\n",
            1000 + i % 60000,
            i
        ));
        i += 1;
    }
    text.push_str("\t\"last\": 0\n}\n");
    let mb = text.len() as f64 / (1 << 20) as f64;
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let parsed = json::parse(&text, "big.json").unwrap();
        let ms = start.elapsed().as_secs_f64() * 1e3;
        best = best.min(ms);
        std::hint::black_box(parsed);
    }
    let parsed = json::parse(&text, "big.json").unwrap();
    let start = Instant::now();
    let out = json::emit(&parsed.docs[0], None, Indent::Tab).unwrap();
    let emit_ms = start.elapsed().as_secs_f64() * 1e3;
    assert!(out.len() > text.len() / 2);
    println!("parse {mb:.1} MB ({i} objects): best {best:.1} ms; emit {emit_ms:.1} ms");
}
