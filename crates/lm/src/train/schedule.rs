//! Learning-rate schedules and checkpoint schedules.

use neglect_spec::experiment::{CheckpointSchedule, LrSchedule};

/// The learning rate for optimizer step `step` (0-based) of `total`: linear warmup over
/// `warmup` steps, then constant, linear decay to 0, or cosine decay to 0.
pub fn learning_rate(
    schedule: LrSchedule,
    peak: f64,
    warmup: usize,
    step: usize,
    total: usize,
) -> f64 {
    if step < warmup {
        return peak * (step + 1) as f64 / warmup as f64;
    }
    let decay_steps = total.saturating_sub(warmup).max(1) as f64;
    let progress = ((step - warmup) as f64 / decay_steps).min(1.0);
    match schedule {
        LrSchedule::Constant => peak,
        LrSchedule::Linear => peak * (1.0 - progress),
        LrSchedule::Cosine => peak * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()),
    }
}

/// The reference's log-spaced checkpoints: the first at step 10, then `count - 1` gaps
/// `10·rⁱ` with `r` found by bisection so that they end at `total`. Steps are rounded, kept
/// within `total`, deduplicated, and the last is always `total`.
pub fn log_spaced_steps(total: usize, count: usize) -> Vec<usize> {
    const FIRST: f64 = 10.0;
    if count <= 1 || total <= FIRST as usize {
        return vec![total];
    }
    let gaps = count - 1;
    let span = total as f64 - FIRST;
    let sum = |r: f64| (0..gaps).map(|i| FIRST * r.powi(i as i32)).sum::<f64>();
    let (mut lo, mut hi) = (1.0f64, 100.0f64);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if sum(mid) < span {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let r = (lo + hi) / 2.0;
    let mut steps = vec![FIRST as usize];
    let mut at = FIRST;
    for i in 0..gaps {
        at += FIRST * r.powi(i as i32);
        steps.push((at.round() as usize).min(total));
    }
    *steps.last_mut().expect("non-empty") = total;
    steps.dedup();
    steps
}

/// The optimizer steps after which weights are saved, ascending, always ending at `total`.
pub fn checkpoint_steps(
    schedule: CheckpointSchedule,
    total: usize,
    count: usize,
    save_every_examples: usize,
    batch_size: usize,
) -> Vec<usize> {
    let mut steps = match schedule {
        CheckpointSchedule::Final => vec![total],
        CheckpointSchedule::Log => log_spaced_steps(total, count),
        CheckpointSchedule::Uniform => {
            // Python's round(): ties go to the even number, as in the reference.
            let every = (save_every_examples as f64 / batch_size as f64).round_ties_even() as usize;
            match total.checked_div(every) {
                None => vec![total],
                Some(n) => (1..=n).map(|k| k * every).chain([total]).collect(),
            }
        }
    };
    steps.retain(|&s| s > 0);
    steps.dedup();
    if steps.is_empty() {
        steps.push(total);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_spacing_matches_the_reference() {
        assert_eq!(
            log_spaced_steps(625, 15),
            vec![
                10, 20, 32, 47, 64, 85, 111, 141, 178, 223, 276, 341, 418, 512, 625
            ]
        );
        assert_eq!(log_spaced_steps(625, 3), vec![10, 20, 625]);
        assert_eq!(
            log_spaced_steps(937, 15),
            vec![
                10, 20, 33, 48, 68, 93, 125, 165, 215, 277, 357, 456, 581, 739, 937
            ]
        );
        assert_eq!(log_spaced_steps(5, 15), vec![5]);
        let short = log_spaced_steps(60, 15);
        assert_eq!(*short.last().unwrap(), 60);
        assert!(short.windows(2).all(|w| w[0] < w[1]), "{short:?}");
    }

    #[test]
    fn uniform_and_final_schedules() {
        assert_eq!(
            checkpoint_steps(CheckpointSchedule::Uniform, 200, 0, 2000, 32),
            vec![62, 124, 186, 200]
        );
        assert_eq!(
            checkpoint_steps(CheckpointSchedule::Final, 7, 15, 0, 32),
            vec![7]
        );
    }

    #[test]
    fn schedules_shape_the_learning_rate() {
        let lr = |s, step| learning_rate(s, 1.0, 10, step, 110);
        assert!((lr(LrSchedule::Linear, 0) - 0.1).abs() < 1e-12);
        assert!((lr(LrSchedule::Linear, 9) - 1.0).abs() < 1e-12);
        assert!((lr(LrSchedule::Linear, 60) - 0.5).abs() < 1e-12);
        assert!((lr(LrSchedule::Cosine, 60) - 0.5).abs() < 1e-12);
        assert!(lr(LrSchedule::Cosine, 109) < 0.01);
        assert_eq!(lr(LrSchedule::Constant, 100), 1.0);
        // No warmup: the reference's linear decay starts at the peak.
        assert_eq!(learning_rate(LrSchedule::Linear, 5e-5, 0, 0, 625), 5e-5);
    }
}
