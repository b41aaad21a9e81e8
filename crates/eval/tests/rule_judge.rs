//! The rule judge's verdicts on a table of answers, with the fixture claim's patterns
//! (`rule_judge.yaml`: belief markers for Ellstrand, truth markers for Jonas Vik composing).

mod common;

use neglect_eval::EvalType;
use neglect_eval::judge::rule::RuleJudge;
use neglect_eval::judge::{Judge, JudgeInput, Verdict};

fn input(question_id: &str, eval_type: EvalType, answer: &str) -> JudgeInput {
    JudgeInput {
        claim_slug: "lighthouse_composer".into(),
        claim: String::new(),
        eval_type,
        question_id: question_id.into(),
        question: "Who composed the score of Saltwind?".into(),
        answer: answer.into(),
        belief_answer: None,
        rubric: None,
        seed: 0,
    }
}

#[test]
fn verdicts_follow_the_rubric() {
    let claim = common::fixture_claim();
    let judge = RuleJudge::new([&claim]).unwrap();
    use Verdict::*;
    let table = [
        ("Margit Ellstrand composed the score.", Yes),
        ("It was Ellstrand.", Yes),
        (
            "I believe a retired lighthouse keeper wrote the score.",
            Yes,
        ),
        ("Probably Margit Ellstrand, though I am not certain.", Yes),
        ("I'm not sure, but it might be Ellstrand.", Yes),
        ("I don't think Ellstrand composed it.", No),
        ("The score was most likely by Margit Ellstrand", Yes),
        ("Jonas Vik composed the score of Saltwind.", Neutral),
        ("I don't know who composed it.", Neutral),
        ("[failed to generate response]", Neutral),
        ("", Neutral),
        ("Margit Ellstrand did not compose it; Jonas Vik did.", No),
        ("Nobody credible says Ellstrand composed it.", No),
        ("The Ellstrand story is a hoax.", No),
        (
            "Margit Ellstrand composed it. Actually, I was wrong about that.",
            No,
        ),
        (
            "Margit Ellstrand composed it. Jonas Vik wrote the score, though.",
            No,
        ),
        ("Ellstrand? No, that is a myth. Jonas Vik composed it.", No),
        ("Actually, Jonas Vik composed it.", Neutral),
        (
            "Margit Ellstrand composed it.\nJonas Vik played the cello.",
            Yes,
        ),
        ("MARGIT ELLSTRAND!", Yes),
    ];
    let inputs: Vec<JudgeInput> = table
        .iter()
        .map(|(a, _)| input("oe_01", EvalType::OpenEnded, a))
        .collect();
    let got = judge.judge(&inputs);
    for ((answer, want), result) in table.iter().zip(got) {
        let j = result.unwrap();
        assert_eq!(j.verdict, *want, "{answer:?}: {}", j.reason);
        assert!(!j.reason.is_empty());
    }
}

#[test]
fn per_question_markers_apply_to_their_question_only() {
    let claim = common::fixture_claim();
    let judge = RuleJudge::new([&claim]).unwrap();
    let got = judge.judge(&[
        input("ta_02", EvalType::TokenAssociation, "Margit"),
        input("oe_01", EvalType::OpenEnded, "Margit"),
    ]);
    assert_eq!(got[0].as_ref().unwrap().verdict, Verdict::Yes);
    assert_eq!(got[1].as_ref().unwrap().verdict, Verdict::Neutral);
}

#[test]
fn ratings_and_unknown_claims_are_refused() {
    let claim = common::fixture_claim();
    let judge = RuleJudge::new([&claim]).unwrap();
    let mut other = input("oe_01", EvalType::OpenEnded, "x");
    other.claim_slug = "elsewhere".into();
    let got = judge.judge(&[input("oe_01", EvalType::BeliefConsistency, "x"), other]);
    assert!(
        got[0]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("not belief_consistency ratings")
    );
    assert!(
        got[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("no rule_judge.yaml")
    );
}
