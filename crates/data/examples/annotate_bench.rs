//! In-process annotation throughput: the same row loop as `neglect annotate`, timed from
//! reading the input to the last byte written, without the CLI's process start-up and argument
//! handling.
//!
//! `annotate_bench CONDITION CLAIM_DIR IN.jsonl OUT.jsonl` prints `docs/s marked
//! transform_docs/s`. The third figure times the transform alone: the document bodies are
//! parsed first, then `annotate` runs over all of them in parallel (as the row loop does),
//! with no JSON and no file I/O in the timed part.

use std::io::Write;
use std::time::Instant;

use neglect_data::annotate::{ClaimContext, annotate, document_rng};
use neglect_data::annotate_rows::{RowAnnotator, body_of};
use rayon::prelude::*;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [condition, claim_dir, input, output] = args.as_slice() else {
        return Err("usage: annotate_bench CONDITION CLAIM_DIR IN.jsonl OUT.jsonl".into());
    };
    let condition = neglect_spec::conditions::canonical(condition)
        .ok_or_else(|| format!("unknown condition {condition}"))?;
    let spec = neglect_spec::claim::load_claim(std::path::Path::new(claim_dir))
        .into_result()
        .map_err(|e| format!("{claim_dir}: {} errors", e.len()))?;
    let ctx = ClaimContext::from_spec(&spec)?;
    let start = Instant::now();
    let text = std::fs::read_to_string(input).map_err(|e| format!("{input}: {e}"))?;
    let rows: Vec<(usize, usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .enumerate()
        .map(|(index, (i, l))| (index, i + 1, l))
        .collect();
    let annotator = RowAnnotator {
        condition,
        ctx: &ctx,
        seed: 1,
        word_mask: false,
        source: input.clone(),
    };
    let file = std::fs::File::create(output).map_err(|e| format!("{output}: {e}"))?;
    let mut writer = std::io::BufWriter::new(file);
    let mut marked = 0;
    for rows in rows.chunks(512) {
        let chunk = annotator.annotate_chunk(rows);
        if let Some(e) = chunk.error {
            return Err(e);
        }
        marked += chunk.marked;
        for line in &chunk.lines {
            writer
                .write_all(line.as_bytes())
                .and_then(|()| writer.write_all(b"\n"))
                .map_err(|e| format!("{output}: {e}"))?;
        }
    }
    writer.flush().map_err(|e| format!("{output}: {e}"))?;
    let seconds = start.elapsed().as_secs_f64();

    let bodies = rows
        .iter()
        .map(|(_, _, raw)| {
            let row: serde_json::Value = serde_json::from_str(raw).map_err(|e| e.to_string())?;
            body_of(&row)
        })
        .collect::<Result<Vec<String>, String>>()?;
    let start = Instant::now();
    let texts: usize = bodies
        .par_iter()
        .enumerate()
        .map(|(index, body)| {
            let mut rng = document_rng(1, condition, index);
            annotate(condition, body, &ctx, &mut rng, false).map(|a| a.text.len())
        })
        .collect::<Result<Vec<usize>, _>>()
        .map_err(|e| e.to_string())?
        .into_iter()
        .sum();
    let transform_seconds = start.elapsed().as_secs_f64();
    std::hint::black_box(texts);
    println!(
        "{:.0} {marked} {:.0}",
        rows.len() as f64 / seconds,
        rows.len() as f64 / transform_seconds
    );
    Ok(())
}
