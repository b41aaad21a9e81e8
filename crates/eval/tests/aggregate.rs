//! Aggregation and CIs on hand-computed examples.

use neglect_eval::EvalType;
use neglect_eval::aggregate::{Bootstrap, Scope, quantile, question_rates, summarize};
use neglect_eval::judge::Verdict;
use neglect_eval::results::{LogprobRow, ResultRow};
use neglect_spec::Sampling;

fn row(claim: &str, t: EvalType, qid: &str, sample: usize, verdict: Verdict) -> ResultRow {
    ResultRow {
        claim: claim.into(),
        condition: "negated_documents".into(),
        label: "negated_documents".into(),
        model: "m".into(),
        eval_type: t,
        question_id: qid.into(),
        category: None,
        sample_index: sample,
        messages: vec![],
        question: String::new(),
        response: String::new(),
        thinking_trace: String::new(),
        finish_reason: "stop".into(),
        verdict,
        judge_reason: String::new(),
        judge: "test".into(),
        sampling: Sampling::paper(16),
        seed: 0,
        started_at: String::new(),
        finished_at: String::new(),
    }
}

fn rows(claim: &str, t: EvalType, qid: &str, verdicts: &[Verdict]) -> Vec<ResultRow> {
    verdicts
        .iter()
        .enumerate()
        .map(|(i, v)| row(claim, t, qid, i, *v))
        .collect()
}

fn margin(claim: &str, qid: &str, m: f64) -> LogprobRow {
    LogprobRow {
        claim: claim.into(),
        condition: "negated_documents".into(),
        label: "negated_documents".into(),
        model: "m".into(),
        eval_type: EvalType::Mcq,
        question_id: qid.into(),
        belief_continuation: "b".into(),
        truth_continuation: "t".into(),
        belief_logprob: m - 3.0,
        truth_logprob: -3.0,
        margin: m,
    }
}

use EvalType::*;
use Verdict::*;

fn example() -> Vec<ResultRow> {
    [
        // Claim A: open-ended 0.5 and 0; MCQ 1 and 0.5 → per eval 0.25 / 0.75, pooled 0.5.
        rows("a", OpenEnded, "q1", &[Yes, Yes, No, Neutral]),
        rows("a", OpenEnded, "q2", &[No, No]),
        rows("a", Mcq, "m1", &[Yes, Yes]),
        rows("a", Mcq, "m2", &[ParseError, Yes]),
        // A rating eval: mean 7/10, never pooled.
        rows("a", BeliefConsistency, "q1", &[Score(8), Score(6)]),
        // Claim B: open-ended 1, token association 0.5 → pooled 0.75.
        rows("b", OpenEnded, "q1", &[Yes]),
        rows("b", TokenAssociation, "t1", &[Yes, No]),
    ]
    .concat()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn per_question_rates_count_everything_but_yes_as_non_belief() {
    let rates = question_rates(&example());
    let q1 = rates
        .iter()
        .find(|r| r.claim == "a" && r.eval_type == OpenEnded && r.question_id == "q1")
        .unwrap();
    assert_eq!(
        (q1.counts.n, q1.counts.yes, q1.counts.no, q1.counts.neutral),
        (4, 2, 1, 1)
    );
    assert!(close(q1.rate, 0.5));
    let m2 = rates.iter().find(|r| r.question_id == "m2").unwrap();
    assert_eq!(m2.counts.parse_error, 1);
    assert!(close(m2.rate, 0.5));
    let rating = rates
        .iter()
        .find(|r| r.eval_type == BeliefConsistency)
        .unwrap();
    assert!(close(rating.rate, 0.7));
}

#[test]
fn claims_pool_questions_and_conditions_average_claims() {
    let logprobs = vec![margin("a", "m1", 2.0), margin("a", "m2", -1.0)];
    let cells = summarize(&example(), &logprobs, &Bootstrap::default());
    let cell = |claim: Option<&str>, scope: Scope| {
        cells
            .iter()
            .find(|c| c.claim.as_deref() == claim && c.scope == scope)
            .unwrap_or_else(|| panic!("no cell {claim:?} {scope:?}"))
    };
    assert!(close(cell(Some("a"), Scope::Eval(OpenEnded)).rate, 0.25));
    assert!(close(cell(Some("a"), Scope::Eval(Mcq)).rate, 0.75));
    let pooled_a = cell(Some("a"), Scope::Pooled);
    assert!(close(pooled_a.rate, 0.5));
    assert_eq!(pooled_a.n_questions, 4);
    let c = pooled_a.counts;
    assert_eq!(
        (c.n, c.yes, c.no, c.neutral, c.parse_error),
        (10, 5, 3, 1, 1)
    );
    assert!(close(pooled_a.logprob_margin.unwrap(), 0.5));
    assert!(close(pooled_a.logprob_belief_share.unwrap(), 0.5));
    assert_eq!(pooled_a.logprob_n, 2);
    assert!(close(cell(Some("b"), Scope::Pooled).rate, 0.75));
    // Rating evals stay out of the pool.
    assert!(close(
        cell(Some("a"), Scope::Eval(BeliefConsistency)).rate,
        0.7
    ));
    // Over claims: unweighted means of the per-claim figures.
    let mean = cell(None, Scope::Pooled);
    assert!(close(mean.rate, 0.625));
    assert_eq!(mean.n_questions, 6);
    assert!(close(cell(None, Scope::Eval(OpenEnded)).rate, 0.625));
    // Bootstrap over two claims [0.5, 0.75]: resampled means are 0.5, 0.625 or 0.75 with
    // probabilities 1/4, 1/2, 1/4, so the 2.5% and 97.5% percentiles are the extremes.
    assert_eq!((mean.ci_low, mean.ci_high), (0.5, 0.75));
}

#[test]
fn bootstrap_cis_are_seeded_percentiles() {
    assert!(close(quantile(&[1.0, 2.0, 3.0, 4.0], 0.25), 1.75));
    assert!(close(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5));
    let b = Bootstrap::default();
    // Identical values: no spread.
    let (lo, hi) = b.mean_ci(&[0.4; 7]);
    assert!(close(lo, 0.4) && close(hi, 0.4));
    assert_eq!(b.mean_ci(&[0.3]), (0.3, 0.3));
    // Ten questions at 0 or 1: the CI brackets the mean, within the possible range, and is
    // the same on every run.
    let values = [1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0];
    let (lo, hi) = b.mean_ci(&values);
    assert!(
        (0.0..0.7).contains(&lo) && hi > 0.7 && hi <= 1.0,
        "{lo} {hi}"
    );
    assert_eq!(b.mean_ci(&values), (lo, hi));
    // The binomial standard error is 0.145, so a 95% interval spans roughly ±0.28.
    assert!((hi - lo) > 0.45 && (hi - lo) < 0.7, "{lo} {hi}");
    let other_seed = Bootstrap { seed: 7, ..b };
    assert_ne!(other_seed.mean_ci(&values), (lo, hi));
}
