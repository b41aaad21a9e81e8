//! MCQ scoring by exact match against `belief_answer` (reference §5.2).

use super::parse::parse_mcq_answer;
use super::{Judge, JudgeError, JudgeInput, Judgement, Verdict};

pub struct ExactMatchJudge;

impl ExactMatchJudge {
    pub fn judge_one(input: &JudgeInput) -> Result<Judgement, JudgeError> {
        let Some(belief) = input.belief_answer.as_deref() else {
            return Err(JudgeError::Unsupported(format!(
                "{} has no belief_answer to match",
                input.question_id
            )));
        };
        Ok(match parse_mcq_answer(&input.answer) {
            None => Judgement {
                verdict: Verdict::ParseError,
                reason: "no JSON \"answer\" field in the reply".into(),
            },
            Some(answer) => Judgement {
                verdict: if answer == belief {
                    Verdict::Yes
                } else {
                    Verdict::No
                },
                reason: format!("answered \"{answer}\"; a believer answers \"{belief}\""),
            },
        })
    }
}

impl Judge for ExactMatchJudge {
    fn id(&self) -> String {
        "exact_match".into()
    }

    fn judge(&self, inputs: &[JudgeInput]) -> Vec<Result<Judgement, JudgeError>> {
        inputs.iter().map(Self::judge_one).collect()
    }
}
