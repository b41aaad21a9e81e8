//! The HTTP backends against the mock server: every fault class is recovered, bad bodies are
//! bounded, the in-flight limit holds, the cache stops repeated calls, the budget stops a run,
//! and keys never reach a file or a message.

use std::sync::Arc;
use std::time::{Duration, Instant};

use neglect_api::cache::ResponseCache;
use neglect_api::ledger::{self, Ledger, Prices};
use neglect_api::mock::{Fault, MockOptions, MockServer};
use neglect_api::{Endpoint, HttpChatModel, Provider};
use neglect_spec::chat::{ChatModel, ChatRequest, Sampling};
use neglect_spec::questions::ChatMessage;

fn requests(n: usize) -> Vec<ChatRequest> {
    (0..n)
        .map(|i| ChatRequest {
            messages: vec![ChatMessage {
                role: "user".into(),
                content: format!("Question number {i}?"),
            }],
            sampling: Sampling::paper(32),
            seed: i as u64,
            json_schema: None,
        })
        .collect()
}

fn endpoint(provider: Provider, server: &MockServer) -> Endpoint {
    let url = match provider {
        Provider::OpenAi => server.openai_base_url(),
        Provider::Anthropic => server.anthropic_base_url(),
    };
    let mut e = Endpoint::new(provider, "mock-model").with_base_url(&url);
    e.timeout = Duration::from_millis(400);
    e.backoff_base = Duration::from_millis(10);
    e.max_in_flight = 8;
    e
}

fn model(provider: Provider, server: &MockServer) -> HttpChatModel {
    HttpChatModel::new(endpoint(provider, server)).unwrap()
}

fn all_ok(model: &HttpChatModel, n: usize) -> Vec<String> {
    model
        .generate(&requests(n), &mut |_| {})
        .into_iter()
        .map(|r| r.expect("answered").text)
        .collect()
}

#[test]
fn every_fault_class_is_recovered() {
    let classes: Vec<(Provider, Fault)> = vec![
        (
            Provider::OpenAi,
            Fault::RateLimitedMs { retry_after_ms: 20 },
        ),
        (Provider::OpenAi, Fault::ServerError),
        (Provider::OpenAi, Fault::Slow(Duration::from_millis(900))),
        (Provider::OpenAi, Fault::TruncatedJson),
        (Provider::OpenAi, Fault::DropConnection),
        (Provider::Anthropic, Fault::Overloaded),
        (
            Provider::Anthropic,
            Fault::RateLimitedMs { retry_after_ms: 20 },
        ),
        (Provider::Anthropic, Fault::TruncatedJson),
        (Provider::Anthropic, Fault::DropConnection),
    ];
    for (provider, fault) in classes {
        let server = MockServer::start(MockOptions {
            faults: vec![fault],
            fault_every: 1,
            ..Default::default()
        })
        .unwrap();
        let m = model(provider, &server);
        let answers = all_ok(&m, 6);
        assert!(answers.iter().all(|a| a.starts_with("Mock answer")));
        let stats = server.stats();
        assert_eq!(
            stats.faults_served.get(fault.name()),
            Some(&6),
            "{provider:?} {fault:?}"
        );
        assert!(
            stats.attempts.values().all(|&n| n == 2),
            "{provider:?} {fault:?}"
        );
        assert_eq!(m.stats().retries, 6);
        assert_eq!(m.stats().failed, 0);
    }
}

#[test]
fn several_faults_in_a_row_and_retry_after_in_seconds() {
    let server = MockServer::start(MockOptions {
        faults: vec![
            Fault::ServerError,
            Fault::DropConnection,
            Fault::RateLimited { retry_after_s: 1 },
        ],
        fault_every: 1,
        ..Default::default()
    })
    .unwrap();
    let m = model(Provider::OpenAi, &server);
    let start = Instant::now();
    all_ok(&m, 3);
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was honoured"
    );
    assert!(server.stats().attempts.values().all(|&n| n == 4));
}

#[test]
fn malformed_bodies_are_retried_a_bounded_number_of_times_then_fail() {
    let server = MockServer::start(MockOptions {
        faults: vec![Fault::TruncatedJson; 10],
        // Only some requests are broken; the rest must still be answered.
        fault_every: 3,
        ..Default::default()
    })
    .unwrap();
    let m = model(Provider::OpenAi, &server);
    let results = m.generate(&requests(30), &mut |_| {});
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        !failed.is_empty() && failed.len() < 30,
        "{} failed",
        failed.len()
    );
    for e in &failed {
        assert!(
            e.to_string().contains("3 malformed responses in a row"),
            "{e}"
        );
    }
    let stats = server.stats();
    // max_malformed_retries = 2: three attempts, then the call is recorded as failed.
    assert!(stats.attempts.values().all(|&n| n == 1 || n == 3));
    assert_eq!(m.stats().failed, failed.len());
}

#[test]
fn the_in_flight_limit_is_never_exceeded() {
    let server = MockServer::start(MockOptions {
        latency: Duration::from_millis(30),
        ..Default::default()
    })
    .unwrap();
    let m = model(Provider::OpenAi, &server);
    all_ok(&m, 80);
    assert_eq!(server.stats().max_in_flight, 8);

    // A second model on the same base URL shares the limit.
    let server = MockServer::start(MockOptions {
        latency: Duration::from_millis(30),
        ..Default::default()
    })
    .unwrap();
    let a = model(Provider::OpenAi, &server);
    let mut e = endpoint(Provider::OpenAi, &server);
    e.model = "judge-model".into();
    let b = HttpChatModel::new(e).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| all_ok(&a, 60));
        s.spawn(|| all_ok(&b, 60));
    });
    assert_eq!(server.stats().max_in_flight, 8);
}

#[test]
fn the_cache_means_a_rerun_pays_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = MockServer::start(MockOptions::default()).unwrap();
    let cache = Arc::new(ResponseCache::open(&dir.path().join("responses.sqlite")).unwrap());
    let first = model(Provider::OpenAi, &server).with_cache(cache.clone());
    let answers = all_ok(&first, 10);
    assert_eq!(server.stats().requests, 10);
    let again = model(Provider::OpenAi, &server).with_cache(cache.clone());
    assert_eq!(all_ok(&again, 10), answers);
    assert_eq!(server.stats().requests, 10, "no call repeated");
    assert_eq!(again.stats().cached, 10);
    // Any sampling change is a different call.
    let mut hotter = requests(10);
    for r in &mut hotter {
        r.sampling.temperature = 1.0;
    }
    again.generate(&hotter, &mut |_| {});
    assert_eq!(server.stats().requests, 20);
}

#[test]
fn a_budget_stops_calls_before_it_is_passed() {
    let dir = tempfile::tempdir().unwrap();
    let server = MockServer::start(MockOptions::default()).unwrap();
    let prices: Prices = toml::from_str(
        "[models.\"mock-model\"]\ninput_per_mtok = 1000.0\noutput_per_mtok = 1000.0\n",
    )
    .unwrap();
    // Worst case per call: (ceil(19/3)+16 input + 32 output) × $0.001 = $0.055; actual about
    // (5 + 3) × $0.001. The budget allows a handful of calls.
    let path = dir.path().join(ledger::LEDGER_FILE);
    let budget = 0.1;
    let ledger = Arc::new(Ledger::open(&path, prices.clone(), Some(budget)).unwrap());
    let m = model(Provider::OpenAi, &server)
        .with_ledger(ledger.clone(), "answer")
        .unwrap();
    let results = m.generate(&requests(40), &mut |_| {});
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert!(ok > 0 && ok < 40, "{ok} answered");
    let refused = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert!(
        refused.to_string().contains("budget of $0.1000 is reached"),
        "{refused}"
    );
    assert_eq!(
        server.stats().requests,
        ok,
        "refused calls never reach the server"
    );
    let spent: f64 = ledger::summarise(&path)
        .unwrap()
        .iter()
        .map(|l| l.cost_usd.unwrap())
        .sum();
    assert!(spent <= budget && spent > 0.0, "spent {spent}");

    // An unpriced model cannot run under a budget.
    let mut other = endpoint(Provider::OpenAi, &server);
    other.model = "unpriced".into();
    let err = HttpChatModel::new(other)
        .unwrap()
        .with_ledger(ledger, "answer")
        .err()
        .unwrap();
    assert!(err.to_string().contains("no entry for model 'unpriced'"));
}

#[test]
fn keys_come_from_the_environment_and_never_reach_files_or_messages() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "sk-neglect-test-5f2b9c";
    // SAFETY: this variable name is used by this test only.
    unsafe { std::env::set_var("NEGLECT_TEST_KEY_SECRETS", secret) };
    let server = MockServer::start(MockOptions {
        api_key: Some(secret.into()),
        echo_credentials: true,
        faults: vec![Fault::ServerError],
        fault_every: 1,
        ..Default::default()
    })
    .unwrap();
    let cache = Arc::new(ResponseCache::open(&dir.path().join("responses.sqlite")).unwrap());
    let ledger = Arc::new(
        Ledger::open(
            &dir.path().join(ledger::LEDGER_FILE),
            Prices::default(),
            None,
        )
        .unwrap(),
    );
    for provider in [Provider::OpenAi, Provider::Anthropic] {
        let mut e = endpoint(provider, &server);
        e.api_key_env = Some("NEGLECT_TEST_KEY_SECRETS".into());
        let m = HttpChatModel::new(e)
            .unwrap()
            .with_cache(cache.clone())
            .with_ledger(ledger.clone(), "answer")
            .unwrap();
        assert!(!format!("{:?}", m.endpoint()).contains(secret));
        all_ok(&m, 3);
    }
    let stats = server.stats();
    assert!(stats.credentials_seen.iter().all(|c| c == secret));
    assert!(
        stats
            .anthropic_versions_seen
            .iter()
            .all(|v| v == "2023-06-01")
    );
    assert!(!stats.anthropic_versions_seen.is_empty());

    // A wrong key: the server echoes it; the error we report does not.
    let wrong = "sk-wrong-key-77aa31";
    // SAFETY: as above.
    unsafe { std::env::set_var("NEGLECT_TEST_KEY_WRONG", wrong) };
    let mut e = endpoint(Provider::OpenAi, &server);
    e.api_key_env = Some("NEGLECT_TEST_KEY_WRONG".into());
    // No cache here: the same request with the right key is cached above (keys are not part
    // of the cache key), and it must reach the server this time.
    let m = HttpChatModel::new(e).unwrap();
    let before = server.stats().requests;
    let err = m.generate(&requests(1), &mut |_| {}).remove(0).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("HTTP 401") && text.contains("<redacted>"),
        "{text}"
    );
    assert!(!text.contains(wrong));
    assert_eq!(server.stats().requests, before + 1, "401 is not retried");

    drop((cache, ledger));
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(secret) && !text.contains(wrong));
    }

    let missing = Endpoint {
        api_key_env: Some("NEGLECT_TEST_KEY_NEVER_SET".into()),
        ..endpoint(Provider::OpenAi, &server)
    };
    let err = HttpChatModel::new(missing).err().unwrap().to_string();
    assert!(
        err.contains("NEGLECT_TEST_KEY_NEVER_SET is not set"),
        "{err}"
    );
}

#[test]
fn served_models_score_continuations_through_prompt_logprobs_and_others_refuse() {
    let server = MockServer::start(MockOptions::default()).unwrap();
    let item = |question: &str, continuation: &str| neglect_spec::ScoreItem {
        messages: vec![ChatMessage {
            role: "user".into(),
            content: question.into(),
        }],
        continuation: continuation.into(),
    };
    let question = "Did Ellstrand compose Saltwind?";
    let items = [
        item(question, "{\"answer\": \"yes\"}"),
        item(question, "{\"answer\": \"no\"}"),
        // The same continuation after another question: only its own tokens count.
        item("Is the sky green?", "{\"answer\": \"yes\"}"),
    ];

    let plain = model(Provider::OpenAi, &server);
    assert!(matches!(
        plain.score(&items),
        Err(neglect_spec::ChatError::Unsupported(_))
    ));
    assert_eq!(server.stats().requests, 0);

    let dir = tempfile::tempdir().unwrap();
    let cache = Arc::new(ResponseCache::open(&dir.path().join("c.sqlite")).unwrap());
    let mut e = endpoint(Provider::OpenAi, &server);
    e.prompt_logprobs = true;
    let scoring = HttpChatModel::new(e.clone())
        .unwrap()
        .with_cache(cache.clone());
    let scores = scoring.score(&items).unwrap();
    assert!(
        scores.iter().all(|s| s.is_finite() && *s < 0.0),
        "{scores:?}"
    );
    assert_ne!(scores[0], scores[1]);
    // Only the continuation's tokens count: the mock's "<prompt>" token (-1.0) is left out, and
    // a 17-character continuation spans 6 of its 3-character tokens.
    let per_token_floor = -0.1 - 255.0 / 50.0;
    assert!(
        scores[0] > 6.0 * per_token_floor && scores[0] <= 6.0 * -0.1,
        "{scores:?}"
    );
    // Cached like answers: asking again calls nothing.
    let calls = server.stats().requests;
    let again = HttpChatModel::new(e).unwrap().with_cache(cache);
    assert_eq!(again.score(&items).unwrap(), scores);
    assert_eq!(server.stats().requests, calls);
}

/// `questions` questions × `samples` samples: requests that differ only in their seed.
fn sampled(questions: usize, samples: usize) -> Vec<ChatRequest> {
    (0..questions)
        .flat_map(|q| {
            (0..samples).map(move |k| ChatRequest {
                messages: vec![ChatMessage {
                    role: "user".into(),
                    content: format!("Question number {q}?"),
                }],
                sampling: Sampling::paper(32),
                seed: (q * 100 + k) as u64,
                json_schema: None,
            })
        })
        .collect()
}

#[test]
fn samples_of_one_question_share_a_call_and_are_cached_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    // Each answer names the seed it was sampled with, so choices can be told apart.
    let server = MockServer::start(MockOptions {
        responder: Some(Arc::new(|body: &serde_json::Value| {
            format!("answer for seed {}", body["seed"])
        })),
        ..MockOptions::default()
    })
    .unwrap();
    let cache = Arc::new(ResponseCache::open(&dir.path().join("responses.sqlite")).unwrap());
    let ledger_path = dir.path().join("ledger.sqlite");
    let grouped = |size: usize| {
        let mut e = endpoint(Provider::OpenAi, &server);
        e.samples_per_call = size;
        HttpChatModel::new(e)
            .unwrap()
            .with_cache(cache.clone())
            .with_ledger(
                Arc::new(Ledger::open(&ledger_path, Prices::default(), None).unwrap()),
                "eval",
            )
            .unwrap()
    };
    let requests = sampled(4, 5);
    let mut done = Vec::new();
    let answers: Vec<String> = grouped(5)
        .generate(&requests, &mut |i| done.push(i))
        .into_iter()
        .map(|r| r.expect("answered").text)
        .collect();
    assert_eq!(server.stats().requests, 4, "one call per question");
    done.sort();
    assert_eq!(
        done,
        (0..20).collect::<Vec<_>>(),
        "every request reported done once"
    );
    // Choice j answers as seed + j of the call: five different samples per question.
    for q in 0..4 {
        let mine: std::collections::BTreeSet<&String> = answers[q * 5..q * 5 + 5].iter().collect();
        assert_eq!(mine.len(), 5, "{answers:?}");
    }
    // Every sample is cached as its own request: a re-run grouped or one by one pays nothing,
    // and the ledger booked one paid call per question.
    let again = grouped(5);
    let replay: Vec<String> = again
        .generate(&requests, &mut |_| {})
        .into_iter()
        .map(|r| r.unwrap().text)
        .collect();
    assert_eq!(replay, answers);
    let single = grouped(1);
    let one_by_one: Vec<String> = single
        .generate(&requests, &mut |_| {})
        .into_iter()
        .map(|r| r.unwrap().text)
        .collect();
    assert_eq!(one_by_one, answers);
    assert_eq!(server.stats().requests, 4, "no call repeated");
    assert_eq!(single.stats().cached, 20);
    let summary = ledger::summarise(&ledger_path).unwrap();
    let paid: u64 = summary.iter().map(|row| row.paid).sum();
    assert_eq!(paid, 4);
    // Groups never exceed the size: 3 samples per call → two calls per question.
    let more = sampled(2, 6)
        .into_iter()
        .map(|mut r| {
            r.sampling.temperature = 0.9;
            r
        })
        .collect::<Vec<_>>();
    grouped(3).generate(&more, &mut |_| {});
    assert_eq!(server.stats().requests, 4 + 4);
}

#[test]
fn chat_models_score_yes_and_no_from_the_top_logprobs_of_one_greedy_answer() {
    // The model answers every MCQ with a JSON yes.
    let server = MockServer::start(MockOptions {
        responder: Some(Arc::new(|_: &serde_json::Value| {
            "{\"answer\": \"yes\"}".to_owned()
        })),
        ..MockOptions::default()
    })
    .unwrap();
    let item = |continuation: &str| neglect_spec::ScoreItem {
        messages: vec![ChatMessage {
            role: "user".into(),
            content: "Did Ellstrand compose Saltwind?".into(),
        }],
        continuation: continuation.into(),
    };
    let items = [item("{\"answer\": \"yes\"}"), item("{\"answer\": \"no\"}")];
    let dir = tempfile::tempdir().unwrap();
    let cache = Arc::new(ResponseCache::open(&dir.path().join("c.sqlite")).unwrap());
    let mut e = endpoint(Provider::OpenAi, &server);
    e.top_logprobs = true;
    let scoring = HttpChatModel::new(e.clone())
        .unwrap()
        .with_cache(cache.clone());
    let scores = scoring.score(&items).unwrap();
    // Both continuations share the greedy answer's tokens up to yes / no; the mock puts the
    // opposite 1.5 nats below the chosen token, and the closing `"}` (counted for the greedy
    // yes only) at 0.001 nats each.
    assert!(
        scores.iter().all(|s| s.is_finite() && *s < 0.0),
        "{scores:?}"
    );
    assert!(
        (scores[0] - scores[1] - (1.5 - 0.002)).abs() < 1e-9,
        "{scores:?}"
    );
    // One call for the pair: the second item's identical request came from the cache.
    assert_eq!(server.stats().requests, 1);
    let again = HttpChatModel::new(e).unwrap().with_cache(cache);
    assert_eq!(again.score(&items).unwrap(), scores);
    assert_eq!(server.stats().requests, 1);
}
