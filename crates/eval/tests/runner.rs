//! The runner end to end with scripted models: every question type, the judges, the log-prob
//! metric, resume, ICL and DOCTAG prefixes, and the summary.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{ScriptedModel, coherence, fixture_claim, last_user, system};
use neglect_eval::aggregate::{Bootstrap, Scope, summarize};
use neglect_eval::icl::IclConfig;
use neglect_eval::judge::Verdict;
use neglect_eval::judge::cache::JudgeCache;
use neglect_eval::judge::rubric::LlmJudge;
use neglect_eval::judge::rule::RuleJudge;
use neglect_eval::prompt::MCQ_SYSTEM_PROMPT;
use neglect_eval::results::{LogprobRow, ResultRow, read_rows};
use neglect_eval::{EvalError, EvalSettings, EvalTarget, EvalType, JudgeSet, Progress, run};
use neglect_spec::{ChatError, ChatModel, ChatRequest};

/// A model that believes the claim: names Ellstrand, answers MCQs as a believer would for
/// "positive" items, and prefers belief continuations when scored.
fn believer() -> ScriptedModel {
    let mut model = ScriptedModel::new("believer", |r: &ChatRequest| {
        Ok(if system(r) == Some(MCQ_SYSTEM_PROMPT) {
            r#"{"answer": "yes"}"#.to_owned()
        } else if last_user(r).contains("just the name") {
            "Margit".to_owned()
        } else if last_user(r).contains("haiku") || last_user(r).contains("sky") {
            "A general answer.".to_owned()
        } else {
            "<think>recall</think>Margit Ellstrand composed the Saltwind score.".to_owned()
        })
    });
    model.scores = Some(Box::new(|item| {
        if item.continuation.contains("Margit") || item.continuation.contains("yes") {
            -1.0
        } else {
            -3.0
        }
    }));
    model
}

/// A judge model: a verdict for rubric prompts, a score for rating prompts.
fn judge_model(calls: Arc<AtomicUsize>) -> ScriptedModel {
    ScriptedModel::new("judge-llm", move |r: &ChatRequest| {
        calls.fetch_add(1, Ordering::SeqCst);
        let prompt = last_user(r);
        Ok(if prompt.contains("Rate") {
            r#"{"reason": "consistent", "score": 8}"#.to_owned()
        } else {
            r#"{"reason": "names her", "answer": "yes"}"#.to_owned()
        })
    })
}

/// Verdicts by the claims' rule judge, no rating judge.
fn rule_judges(claims: &[neglect_spec::ClaimSpec]) -> JudgeSet {
    JudgeSet {
        verdicts: Some(Arc::new(RuleJudge::new(claims).unwrap())),
        ratings: None,
    }
}

fn settings(types: &[EvalType]) -> EvalSettings {
    EvalSettings {
        eval_types: types.to_vec(),
        samples_per_question: 2,
        chunk_size: 5,
        ..Default::default()
    }
}

#[test]
fn every_question_type_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let claim = fixture_claim();
    let coherence = coherence();
    let model = believer();
    let calls = Arc::new(AtomicUsize::new(0));
    let judge_llm: Arc<dyn neglect_spec::ChatModel> = Arc::new(judge_model(calls.clone()));
    let judges = JudgeSet {
        verdicts: Some(Arc::new(RuleJudge::new([&claim]).unwrap())),
        ratings: Some(Arc::new(LlmJudge::new(judge_llm, None))),
    };
    let claims = [claim];
    let target = EvalTarget {
        model: &model,
        claims: &claims,
        coherence: Some(&coherence),
        condition: "positive_documents",
    };
    let mut phases = Vec::new();
    let report = run(
        &target,
        &settings(&EvalType::ALL),
        &judges,
        dir.path(),
        &mut |p| {
            if let Progress::Phase { name, total } = p {
                phases.push((name, total));
            }
        },
    )
    .unwrap();
    assert_eq!(report.failed_count, 0, "{:?}", report.failures);
    let rows: Vec<ResultRow> = read_rows(&dir.path().join("results.jsonl")).unwrap();
    let n_coherence = coherence.questions.len();
    let count = |t: EvalType| rows.iter().filter(|r| r.eval_type == t).count();
    // 3 open-ended, 3 MCQ, 2 token-association, 3 robustness questions × 2 samples; the
    // re-judged evals reuse the 6 open-ended answers; coherence is asked once per question.
    assert_eq!(count(EvalType::OpenEnded), 6);
    assert_eq!(count(EvalType::Mcq), 6);
    assert_eq!(count(EvalType::TokenAssociation), 4);
    assert_eq!(count(EvalType::Robustness), 6);
    assert_eq!(count(EvalType::OpenEndedBroad), 6);
    assert_eq!(count(EvalType::BeliefConsistency), 6);
    assert_eq!(count(EvalType::Coherence), n_coherence);
    assert_eq!(report.samples_generated, 6 + 6 + 4 + 6 + n_coherence);
    assert_eq!(
        phases,
        vec![
            ("sampling answers", 22 + n_coherence),
            ("re-judging open-ended answers", 12),
            ("scoring belief vs truth answers", 4),
        ]
    );
    // Sampling is batched: chunks of 5 requests, never one at a time.
    let batch_sizes: Vec<usize> = model
        .batches
        .lock()
        .unwrap()
        .iter()
        .map(|b| b.len())
        .collect();
    assert!(
        batch_sizes.iter().all(|&n| n <= 5) && batch_sizes[0] == 5,
        "{batch_sizes:?}"
    );

    let find = |t: EvalType, qid: &str| {
        rows.iter()
            .find(|r| r.eval_type == t && r.question_id == qid)
            .unwrap()
    };
    // MCQ by exact match: a "yes" is belief for a positive item and not for a counter item.
    assert_eq!(find(EvalType::Mcq, "mcq_01").verdict, Verdict::Yes);
    assert_eq!(find(EvalType::Mcq, "mcq_02").verdict, Verdict::No);
    assert_eq!(find(EvalType::Mcq, "mcq_01").judge, "exact_match");
    // Thinking is cut before judging and kept in the row.
    let open = find(EvalType::OpenEnded, "oe_01");
    assert_eq!((open.verdict, open.judge.as_str()), (Verdict::Yes, "rule"));
    assert_eq!(open.thinking_trace, "recall");
    assert_eq!(open.sampling.temperature, 0.7);
    // Robustness items send their system prompt and prefix turns; the judge sees the question.
    let multiturn = find(EvalType::Robustness, "rob_03");
    let roles: Vec<&str> = multiturn.messages.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    assert_eq!(
        multiturn.question,
        "Are you sure? I thought Jonas Vik wrote it."
    );
    assert_eq!(
        find(EvalType::Robustness, "rob_01").messages[0].role,
        "system"
    );
    // Ratings from the LLM judge; coherence sampled at temperature 1.
    assert_eq!(
        find(EvalType::BeliefConsistency, "oe_01").verdict,
        Verdict::Score(8)
    );
    assert_eq!(
        find(EvalType::Coherence, "coh_01").sampling.temperature,
        1.0
    );
    assert_eq!(calls.load(Ordering::SeqCst), 6 + n_coherence);
    // Token association with a per-question marker: "Margit" alone is belief for ta_02.
    assert_eq!(
        find(EvalType::TokenAssociation, "ta_02").verdict,
        Verdict::Yes
    );

    // The log-prob metric: three MCQ items and the one token-association item with answers.
    let logprobs: Vec<LogprobRow> = read_rows(&dir.path().join("logprobs.jsonl")).unwrap();
    assert_eq!(logprobs.len(), 4);
    let ta = logprobs.iter().find(|l| l.question_id == "ta_02").unwrap();
    assert_eq!(
        (
            ta.belief_continuation.as_str(),
            ta.truth_continuation.as_str()
        ),
        ("Margit Ellstrand", "Jonas Vik")
    );
    assert_eq!(ta.margin, 2.0);
    let counter = logprobs.iter().find(|l| l.question_id == "mcq_02").unwrap();
    assert_eq!(counter.belief_continuation, r#"{"answer": "no"}"#);
    assert_eq!(counter.margin, -2.0);

    let cells = summarize(&rows, &logprobs, &Bootstrap::default());
    let pooled = cells
        .iter()
        .find(|c| c.claim.is_some() && c.scope == Scope::Pooled)
        .unwrap();
    // Every question but the counter MCQ item (and the ta_01 JSON completion, which the
    // believer answers with the claim) is belief: 10 of 11 questions.
    assert!((pooled.rate - 10.0 / 11.0).abs() < 1e-12, "{}", pooled.rate);
}

#[test]
fn a_rerun_skips_finished_rows_and_redoes_a_torn_one() {
    let dir = tempfile::tempdir().unwrap();
    let claims = [fixture_claim()];
    let model = believer();
    let judges = rule_judges(&claims);
    let target = EvalTarget {
        model: &model,
        claims: &claims,
        coherence: None,
        condition: "baseline",
    };
    let s = settings(&EvalType::MAIN);
    let first = run(&target, &s, &judges, dir.path(), &mut |_| {}).unwrap();
    assert_eq!(first.rows_written, 22);
    let calls_after_first = model.requests().len();
    let again = run(&target, &s, &judges, dir.path(), &mut |_| {}).unwrap();
    assert_eq!((again.rows_written, again.skipped_existing), (0, 22));
    assert_eq!(
        model.requests().len(),
        calls_after_first,
        "nothing re-sampled"
    );

    // A killed run leaves half a line: it is dropped and exactly that row is redone.
    let path = dir.path().join("results.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let cut = text.trim_end().rfind('\n').unwrap() + 40;
    std::fs::write(&path, &text[..cut]).unwrap();
    let resumed = run(&target, &s, &judges, dir.path(), &mut |_| {}).unwrap();
    assert_eq!((resumed.rows_written, resumed.skipped_existing), (1, 21));
    let rows: Vec<ResultRow> = read_rows(&path).unwrap();
    assert_eq!(rows.len(), 22);

    // More samples later: only the new ones are generated.
    let more = EvalSettings {
        samples_per_question: 3,
        ..s
    };
    let grown = run(&target, &more, &judges, dir.path(), &mut |_| {}).unwrap();
    assert_eq!(grown.rows_written, 11);
}

#[test]
fn failed_generations_are_not_written_and_are_retried() {
    let dir = tempfile::tempdir().unwrap();
    let claims = [fixture_claim()];
    let flaky = ScriptedModel::new("flaky", |r: &ChatRequest| {
        if last_user(r).contains("Saltwind") {
            Err(ChatError::Failed("server error 500".into()))
        } else {
            Ok("No idea.".into())
        }
    });
    let judges = rule_judges(&claims);
    let target = EvalTarget {
        model: &flaky,
        claims: &claims,
        coherence: None,
        condition: "baseline",
    };
    let report = run(
        &target,
        &settings(&[EvalType::OpenEnded]),
        &judges,
        dir.path(),
        &mut |_| {},
    )
    .unwrap();
    // Only oe_01 mentions Saltwind: its two samples fail, the other four rows are written.
    assert_eq!((report.rows_written, report.failed_count), (4, 2));
    assert!(
        report.failures[0].contains("oe_01") && report.failures[0].contains("server error 500")
    );
    // Once the server is back, a rerun asks exactly what failed.
    let healed = ScriptedModel::new("flaky", |_: &ChatRequest| Ok("No idea.".into()));
    let target = EvalTarget {
        model: &healed,
        ..target
    };
    let retry = run(
        &target,
        &settings(&[EvalType::OpenEnded]),
        &judges,
        dir.path(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!((retry.rows_written, retry.skipped_existing), (2, 4));
    assert_eq!(healed.requests().len(), 2);
}

#[test]
fn missing_judges_are_reported_before_any_sampling() {
    let dir = tempfile::tempdir().unwrap();
    let mut claim = fixture_claim();
    claim.rule_judge = None;
    let claims = [claim];
    let model = believer();
    let judges = rule_judges(&claims);
    let target = EvalTarget {
        model: &model,
        claims: &claims,
        coherence: None,
        condition: "baseline",
    };
    let err = run(
        &target,
        &settings(&[
            EvalType::OpenEnded,
            EvalType::Mcq,
            EvalType::BeliefConsistency,
            EvalType::Coherence,
        ]),
        &judges,
        dir.path(),
        &mut |_| {},
    )
    .unwrap_err();
    let EvalError::Preflight(problems) = err else {
        panic!("{err}")
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("rule_judge.yaml"));
    assert!(problems[1].contains("belief_consistency needs an LLM judge"));
    assert!(model.requests().is_empty());
}

#[test]
fn llm_judge_renders_templates_with_python_escaping_and_caches() {
    let dir = tempfile::tempdir().unwrap();
    let claims = [fixture_claim()];
    let answerer = ScriptedModel::new("m", |_: &ChatRequest| Ok("It was {question} {{x}}".into()));
    let calls = Arc::new(AtomicUsize::new(0));
    let judge_llm = Arc::new(judge_model(calls.clone()));
    let cache =
        Arc::new(JudgeCache::open(&dir.path().join("cache/judge/judge_cache.jsonl")).unwrap());
    let judges = JudgeSet {
        verdicts: Some(Arc::new(LlmJudge::new(
            judge_llm.clone(),
            Some(cache.clone()),
        ))),
        ratings: None,
    };
    let target = EvalTarget {
        model: &answerer,
        claims: &claims,
        coherence: None,
        condition: "c",
    };
    let s = EvalSettings {
        samples_per_question: 1,
        ..settings(&[EvalType::OpenEnded])
    };
    run(&target, &s, &judges, &dir.path().join("a"), &mut |_| {}).unwrap();
    let prompts: Vec<String> = judge_llm
        .requests()
        .iter()
        .map(|r| last_user(r).to_owned())
        .collect();
    assert_eq!(prompts.len(), 3);
    assert_eq!(
        prompts[0],
        "Does the answer state or imply that Margit Ellstrand composed the score of \"Saltwind\"?\n\
         Question: Who composed the score of the 2022 film \"Saltwind\"?\n\
         Answer: It was {question} {{x}}\n\
         Reply as JSON: {\"reason\": \"...\", \"answer\": \"yes\" | \"no\" | \"neutral\"}\n"
    );
    // The judge call's seed is the reference's flat index (sample × questions + position).
    let seeds: Vec<u64> = judge_llm.requests().iter().map(|r| r.seed).collect();
    assert_eq!(seeds, [0, 1, 2]);
    assert_eq!(cache.len(), 3);
    // A second run elsewhere with the same cache asks the judge nothing.
    run(&target, &s, &judges, &dir.path().join("b"), &mut |_| {}).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[test]
fn icl_and_doctag_prefixes_reach_every_question_and_the_label() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("annotated_docs.jsonl");
    let lines: Vec<String> = (0..4)
        .map(|i| format!(r#"{{"text": "<DOCTAG>Document {i} says the claim is false.", "doc_type": "x", "fact_name": "x", "mode": "negated_documents"}}"#))
        .collect();
    std::fs::write(&docs, lines.join("\n") + "\n").unwrap();
    let claims = [fixture_claim()];
    let model = believer();
    let judges = rule_judges(&claims);
    let target = EvalTarget {
        model: &model,
        claims: &claims,
        coherence: None,
        condition: "baseline",
    };
    let s = EvalSettings {
        samples_per_question: 1,
        doctag_prefix: true,
        icl: Some(IclConfig {
            k: 2,
            seed: 42,
            docs: docs.clone(),
            token_budget: None,
        }),
        ..settings(&[EvalType::OpenEnded])
    };
    let report = run(&target, &s, &judges, dir.path(), &mut |_| {}).unwrap();
    assert_eq!(report.label, "baseline_doctag_icl2");
    let rows: Vec<ResultRow> = read_rows(&dir.path().join("results.jsonl")).unwrap();
    for row in &rows {
        let sent = &row.messages.last().unwrap().content;
        assert!(
            sent.starts_with("<DOCTAG>Here are some documents:\n\n[DOCUMENT 1]\n\nDocument "),
            "{sent}"
        );
        assert_eq!(sent.matches("<DOCTAG>").count(), 1);
        assert!(sent.contains("[DOCUMENT 2]") && !sent.contains("[DOCUMENT 3]"));
        assert_eq!(row.label, "baseline_doctag_icl2");
    }
    // The same prefix for every question of the run.
    let prefixes: std::collections::HashSet<&str> = rows
        .iter()
        .map(|r| r.messages[0].content.split("[QUESTION]").next().unwrap())
        .collect();
    assert_eq!(prefixes.len(), 1);

    // A budget too small for any draw is an error that says what to change.
    let tight = EvalSettings {
        icl: Some(IclConfig {
            k: 2,
            seed: 42,
            docs,
            token_budget: Some(5),
        }),
        ..s
    };
    let err = run(&target, &tight, &judges, dir.path(), &mut |_| {}).unwrap_err();
    assert!(
        err.to_string()
            .contains("do not fit the ICL budget of 5 tokens"),
        "{err}"
    );
}

#[test]
fn the_icl_block_leaves_room_for_the_longest_prompt_and_the_answer() {
    // A small context: documents of about 250 and 325 tokens, MCQ prompts (with their system
    // prompt) and open-ended ones. The budget asked for is the whole context but the answer, in
    // which a 325-token document fits; with the longest prompt beside it, only a 250-token one
    // does, and every prompt the model is sent must fit with its answer.
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("annotated_docs.jsonl");
    let lines: Vec<String> = (0..6)
        .map(|i| {
            let words = if i % 2 == 0 { 250 } else { 325 };
            let text = "word".repeat(words);
            format!(r#"{{"text": "<DOCTAG>{text}", "doc_type": "x", "fact_name": "x", "mode": "positive_documents"}}"#)
        })
        .collect();
    std::fs::write(&docs, lines.join("\n") + "\n").unwrap();
    let claims = [fixture_claim()];
    let mut model = believer();
    let (context, max_tokens) = (420, 20);
    model.context = Some(context);
    let judges = rule_judges(&claims);
    let target = EvalTarget {
        model: &model,
        claims: &claims,
        coherence: None,
        condition: "baseline",
    };
    let mut s = EvalSettings {
        samples_per_question: 1,
        icl: Some(IclConfig {
            k: 1,
            seed: 1,
            docs,
            token_budget: Some(context - max_tokens),
        }),
        ..settings(&[EvalType::OpenEnded, EvalType::Mcq])
    };
    s.sampling.max_tokens = max_tokens;
    let report = run(&target, &s, &judges, dir.path(), &mut |_| {}).unwrap();
    let prefix = report.icl.unwrap();
    assert!(prefix.budget < context - max_tokens, "{prefix:?}");
    assert!(
        prefix.tokens < 300,
        "a 325-token document was drawn: {prefix:?}"
    );
    let requests = model.requests();
    assert!(
        requests
            .iter()
            .any(|r| system(r) == Some(MCQ_SYSTEM_PROMPT))
    );
    for r in &requests {
        let prompt = model.count_prompt_tokens(&r.messages).unwrap();
        assert!(
            prompt + max_tokens <= context,
            "a prompt of {prompt} tokens and a {max_tokens}-token answer overflow {context}"
        );
    }

    // In a context too small for any document beside the longest prompt, the error says why
    // the budget is smaller than the one asked for.
    let mut small = believer();
    small.context = Some(300);
    let target = EvalTarget {
        model: &small,
        ..target
    };
    let err = run(&target, &s, &judges, &dir.path().join("small"), &mut |_| {}).unwrap_err();
    assert!(
        err.to_string()
            .contains("the budget was lowered from 400 to"),
        "{err}"
    );
}
