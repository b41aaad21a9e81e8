//! Training mixes: N annotated documents + M replay documents + K chat examples (any number of
//! inputs), sampled and shuffled with one seeded stream, each input with its own loss weight.
//! The sampling rule is the reference's: an input with fewer rows than asked for gives all of
//! them plus the rest drawn with replacement; one with more gives a sample without replacement.

use rand::Rng;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use neglect_spec::TrainingRow;

/// One input of a mix, already read.
#[derive(Debug, Clone)]
pub struct MixInput {
    /// Where the rows came from (recorded as each row's `source`).
    pub name: String,
    pub rows: Vec<TrainingRow>,
    pub count: usize,
    pub weight: f64,
}

/// What was taken from each input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MixedInput {
    pub name: String,
    pub available: usize,
    pub requested: usize,
    /// Rows drawn a second time because the input was too small.
    pub repeated: usize,
    pub weight: f64,
}

/// Builds the mix: rows carry their input's name as `source` and its weight.
pub fn build_mix(inputs: &[MixInput], seed: u64) -> (Vec<TrainingRow>, Vec<MixedInput>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(inputs.iter().map(|i| i.count).sum());
    let mut report = Vec::with_capacity(inputs.len());
    for input in inputs {
        let n = input.rows.len();
        let chosen: Vec<usize> = if n == 0 {
            Vec::new()
        } else if n <= input.count {
            let mut all: Vec<usize> = (0..n).collect();
            all.extend((0..input.count - n).map(|_| rng.random_range(0..n)));
            all
        } else {
            sample(&mut rng, n, input.count).into_vec()
        };
        report.push(MixedInput {
            name: input.name.clone(),
            available: n,
            requested: input.count,
            repeated: if n == 0 {
                0
            } else {
                input.count.saturating_sub(n)
            },
            weight: input.weight,
        });
        for i in chosen {
            let mut row = input.rows[i].clone();
            row.weight *= input.weight;
            row.source = Some(input.name.clone());
            out.push(row);
        }
    }
    out.shuffle(&mut rng);
    (out, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, n: usize, count: usize, weight: f64) -> MixInput {
        MixInput {
            name: name.into(),
            rows: (0..n)
                .map(|i| TrainingRow::text(format!("{name} {i}")))
                .collect(),
            count,
            weight,
        }
    }

    #[test]
    fn counts_weights_sources_and_determinism() {
        let inputs = [
            input("docs", 50, 20, 1.0),
            input("replay", 5, 8, 1.0),
            input("chat", 30, 10, 3.0),
        ];
        let (rows, report) = build_mix(&inputs, 1);
        assert_eq!(rows.len(), 38);
        let count = |s: &str| {
            rows.iter()
                .filter(|r| r.source.as_deref() == Some(s))
                .count()
        };
        assert_eq!((count("docs"), count("replay"), count("chat")), (20, 8, 10));
        assert!(
            rows.iter()
                .filter(|r| r.source.as_deref() == Some("chat"))
                .all(|r| r.weight == 3.0)
        );
        assert_eq!(report[1].repeated, 3);
        // All 5 replay rows appear at least once.
        for i in 0..5 {
            assert!(
                rows.iter()
                    .any(|r| r.text.as_deref() == Some(&format!("replay {i}")))
            );
        }
        // Docs are drawn without replacement.
        let mut docs: Vec<&str> = rows
            .iter()
            .filter_map(|r| r.text.as_deref())
            .filter(|t| t.starts_with("docs"))
            .collect();
        docs.sort();
        docs.dedup();
        assert_eq!(docs.len(), 20);
        assert_eq!(build_mix(&inputs, 1).0, rows);
        assert_ne!(build_mix(&inputs, 2).0, rows);
    }
}
